# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# How soon a closing client's local port is free again (progs/rebind): the
# peer answers the client's SHUTDOWN with RST, which unbinds the closing
# socket long before its 8 s close timeout.  Upstream's vsock_test case
# "double bind connect" binds the port again as soon as the server, woken
# by the SHUTDOWN, says so over TCP: a late RST fails it with EADDRINUSE.
# This VM (L1) is the vsock host with the backend HOST; one nested L2 boot
# per GUEST (as suites/pair.sh), ROUNDS connections each way:
#
#   a_rounds  L2's client, L1's server: L1's RST frees L2's port in every
#             round, within 1 s (the RST is the reply to the SHUTDOWN;
#             without it the close timeout frees the port after 8 s);
#   b_rounds  L1's client, L2's server: L2's RST frees L1's port, and
#             L2's server saw every connection shut down;
#   kernel_log no splat in either kernel log, L2 finished.
#
#   rebind host=H guest=G: N passed, N failed
#
# and, per direction, the distribution of the close-to-rebind times
# (milliseconds of the client's clock; a diagnostic, not judged).
#
#   rebind.sh HOST GUEST...       (REBIND_ROUNDS, default 40)
set +e
host_impl=${1:?usage: rebind.sh HOST GUEST...}
shift
[ $# -gt 0 ] || set -- c rust
prog=$ROOT/tools/testing/vsock-rust/progs/rebind/vsock_rebind
[ -x "$prog" ] || { echo "no $prog (make modules builds it)" >&2; exit 1; }
rounds=${REBIND_ROUNDS:-40}
port_a=15600 port_b=15610
l2_limit=900
ncases=3

list=$(vhost_mods "$host_impl") ||
	{ echo "rebind: unknown host implementation '$host_impl' (c or rust)" >&2; exit 1; }
read -r -a host_mods <<<"$list"

rebind_guest() {
	local g=$1
	local label="host=$host_impl guest=$g" why
	local ok=0 fail=0
	pass() { echo "rebind $label: $1 ok${2:+ ($2)}"; ok=$((ok + 1)); }
	bad() { echo "rebind $label: $1 FAIL $2"; fail=$((fail + 1)); }
	local initrd=$OUT/rebind-$g.cpio.gz console=$OUT/rebind-$g-console.log
	if ! why=$(l2_guest_initrd "$g" "$initrd" "sh /bin/l2-rebind.sh $port_a $port_b $rounds" \
		"$prog" "$ROOT/tools/testing/vsock-rust/l2-rebind.sh" 2>&1); then
		echo "rebind $label: $why" | tee -a "$OUT/summary"
		record "rebind $label" 0 $ncases
		return 1
	fi
	dmesg -C
	local slog=$OUT/rebind-$g-l1-server.log clog=$OUT/rebind-$g-l1-client.log
	timeout $l2_limit "$prog" server $port_a "$rounds" >"$slog" 2>&1 &
	local server=$!
	local t0
	t0=$(date +%s)
	local qemu
	l2_vsock_qemu "$console" "$initrd"
	while kill -0 $qemu 2>/dev/null && ! grep -qaE "L2-(NOT-)?LISTENING" "$console"; do
		sleep 0.5
	done
	local crc=1
	if grep -qa "L2-LISTENING" "$console"; then
		timeout 300 "$prog" client 3 $port_b $((port_b + 1)) "$rounds" >"$clog" 2>&1
		crc=$?
	fi
	wait_gone $qemu $l2_limit || kill $qemu 2>/dev/null
	wait $qemu
	# L1's server waits in accept without a limit when L2 stopped early.
	wait_gone $server 15 || kill $server 2>/dev/null
	wait $server
	local src=$?
	local a
	a=$(tr -d '\r' <"$console" | sed -n 's/^L2-A //p' | head -n 1)
	if [ "${a%% *}" = 0 ] && [ "$src" = 0 ]; then
		pass a_rounds "${a#* }"
	else
		bad a_rounds "L2 client: ${a:-no result}; L1 server exit $src: $(tail -n 1 "$slog")"
	fi
	local b
	b=$(tr -d '\r' <"$console" | sed -n 's/^L2-B //p' | head -n 1)
	if [ "$crc" = 0 ] && [ "${b%% *}" = 0 ]; then
		pass b_rounds "$(tail -n 1 "$clog")"
	else
		bad b_rounds "L1 client exit $crc: $(tail -n 2 "$clog" | tr '\n' ' '); L2 server: ${b:-no result}"
	fi
	if grep -aEq "$SPLAT" "$console" || dmesg | grep -aEq "$SPLAT"; then
		bad kernel_log "$( (tr -d '\r' <"$console"; dmesg) | grep -aE -m 1 "$SPLAT")"
	elif ! grep -qa "L2-STATUS: 0" "$console"; then
		bad kernel_log "L2 did not finish (no L2-STATUS: 0)"
	else
		pass kernel_log
	fi
	echo "rebind $label: $(($(date +%s) - t0)) s" | tee -a "$OUT/summary"
	record "rebind $label" $ok $fail
	[ $fail = 0 ]
}

status=0
if m=$(missing "${host_mods[@]}"); then
	echo "rebind host=$host_impl: module not built ($m)" | tee -a "$OUT/summary"
	for g in "$@"; do record "rebind host=$host_impl guest=$g" 0 $ncases; done
	exit 1
fi
load_mods "${host_mods[@]}" || exit 1
[ -c /dev/vhost-vsock ] || { echo "no /dev/vhost-vsock" >&2; exit 1; }
echo "=== rebind: host $host_impl, guests: $*"
for g in "$@"; do
	rebind_guest "$g" || status=1
done
unload_mods "${host_mods[@]}" || status=1
[ $status = 0 ]
