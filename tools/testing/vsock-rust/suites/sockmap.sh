# SPDX-License-Identifier: GPL-2.0
# sockmap redirection of vsock traffic over loopback: an sk_skb verdict
# program redirects every skb a vsock socket receives to a Unix socket
# (progs/sockmap/vsock_sockmap.c).  Arguments: the implementations, in
# order (default: c rust); each is loaded, tested and unloaded in turn.
# SOCKMAP_TIMEOUT: seconds without progress before a case gives up (10).
prog=$ROOT/tools/testing/vsock-rust/progs/sockmap/vsock_sockmap
[ -x "$prog" ] || { echo "sockmap: $prog not built (make modules)" >&2; exit 1; }
[ $# -gt 0 ] || set -- c rust

rc=0
for impl in "$@"; do
	load_impl "$impl"
	echo "=== sockmap/$impl: registered transports: $(transports)"
	log=$OUT/sockmap-$impl.log
	prc=0
	"$prog" -t "${SOCKMAP_TIMEOUT:-10}" >"$log" 2>&1 || prc=$?
	cat "$log"
	line=$(grep -E '^sockmap: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/^sockmap: ([0-9]+) passed.*/\1/' <<<"$line")
		f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
	else
		p=0 f=1
		echo "sockmap/$impl: no summary line (exit $prc)"
	fi
	# A crash after the summary still fails.
	[ "$prc" = 0 ] || [ "$f" -gt 0 ] || f=1
	record "sockmap redirect ($impl)" "$p" "$f"
	[ "$f" = 0 ] || rc=1
	unload_impl "$impl"
done
[ $rc = 0 ]
