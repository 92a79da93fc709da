# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# SIGKILL of the VMM in the middle of traffic.  This VM (L1) is the vsock
# host with the vhost backend HOST; QEMU in it boots a minimal L2 guest
# (vhost-vsock-pci, guest CID 3) with the guest driver GUEST, as in
# suites/pair.sh.  L2 sends to L1 and L1 sends to L2 at the same time
# (progs/xfer, endless); once both have moved data, L1 kills L2's QEMU with
# SIGKILL.  Cases, per pairing:
#
#   both_flowing    both transfers had moved at least 1 MiB before the kill;
#   l1_recv_reset   L1's receiving socket ends with ECONNRESET (what C's
#                   vhost_vsock_dev_release gives: vhost_vsock_reset_orphans
#                   sets sk_err ECONNRESET), not a hang;
#   l1_send_reset   L1's sending socket's write fails: ECONNRESET, or
#                   ENODEV when the write comes between the release's
#                   removal of the CID and its reset of the sockets
#                   (vhost_transport_send_pkt finds no device; seen with
#                   C in make check), not a hang;
#   cid_reuse       QEMU restarted at once with the same guest-cid starts
#                   (no "Address already in use") and is still up 5 s later;
#   kernel_log      L1's kernel log has no splat and, on the debug kernel,
#                   kmemleak reports nothing after the pairing.
#
#   sigkill host=H guest=G: N passed, N failed
#
#   sigkill.sh HOST GUEST...
#
# SIGKILL_L2_KDIR: another kernel build for L2 (its bzImage and C guest
# modules) and SIGKILL_L2_KO a directory with the Rust guest modules built
# for it: on the debug kernel (make sigkill VARIANT=debug passes the
# default kernel), where a KASAN L2 under nested TCG takes over 10 minutes
# to boot and L2's own kernel is not what is tested.
host_impl=${1:?usage: sigkill.sh HOST GUEST...}
shift
[ $# -gt 0 ] || set -- c rust
xfer=$ROOT/tools/testing/vsock-rust/progs/xfer/vsock_xfer
[ -x "$xfer" ] || { echo "no $xfer (make modules builds it)" >&2; exit 1; }
port_to_l1=15400 port_from_l1=15401
l2_limit=${SIGKILL_L2_TIMEOUT:-900}
ncases=5

list=$(vhost_mods "$host_impl") ||
	{ echo "sigkill: unknown host implementation '$host_impl' (c or rust)" >&2; exit 1; }
read -r -a host_mods <<<"$list"

l2_kdir=${SIGKILL_L2_KDIR:-$KDIR}

# L2's guest modules (l2_mod_path in guest-lib.sh).
l2_ko=${SIGKILL_L2_KDIR:+${SIGKILL_L2_KO:?SIGKILL_L2_KO not set}}

sigkill_guest() {
	local g=$1
	local label="host=$host_impl guest=$g" why qemu
	local ok=0 fail=0
	pass() { echo "sigkill $label: $1 ok${2:+ ($2)}"; ok=$((ok + 1)); }
	bad() { echo "sigkill $label: $1 FAIL $2"; fail=$((fail + 1)); }
	if ! why=$(l2_guest_initrd "$g" "$OUT/sigkill-$g.cpio.gz" \
		"sh /bin/l2-sigkill.sh $port_to_l1 $port_from_l1" \
		"$xfer" "$ROOT/tools/testing/vsock-rust/l2-sigkill.sh" 2>&1); then
		echo "sigkill $label: $why" | tee -a "$OUT/summary"
		record "sigkill $label" 0 $ncases
		return 1
	fi
	local console=$OUT/sigkill-$g-console.log
	local rlog=$OUT/sigkill-$g-l1-recv.log slog=$OUT/sigkill-$g-l1-send.log
	leaks >/dev/null
	dmesg -C
	local rmark=$OUT/sigkill-$g-recv.mark smark=$OUT/sigkill-$g-send.mark
	rm -f "$rmark" "$smark"
	XFER_MARK=$rmark XFER_STALL=120 "$xfer" recv "vsock-listen:$port_to_l1" 1000G >"$rlog" 2>&1 &
	local recv=$!
	local t0
	t0=$(date +%s)
	l2_vsock_qemu "$console" "$OUT/sigkill-$g.cpio.gz"
	local q1=$qemu
	while kill -0 $q1 2>/dev/null && ! grep -qa "L2-LISTENING" "$console" &&
		[ $(($(date +%s) - t0)) -lt "$l2_limit" ]; do
		sleep 1
	done
	XFER_MARK=$smark XFER_STALL=120 "$xfer" send "vsock:3:$port_from_l1" 1000G >"$slog" 2>&1 &
	local send=$!
	# Both directions moving: 1 MiB each way through L1's sockets (the
	# marks), then one more second of traffic.
	while kill -0 $q1 2>/dev/null && [ $(($(date +%s) - t0)) -lt "$l2_limit" ] &&
		! { [ -e "$rmark" ] && [ -e "$smark" ]; }; do
		sleep 0.5
	done
	sleep 1
	local up
	up=$(($(date +%s) - t0))
	if kill -0 $q1 2>/dev/null && kill -0 $recv 2>/dev/null && kill -0 $send 2>/dev/null &&
		[ -e "$rmark" ] && [ -e "$smark" ]; then
		pass both_flowing "1 MiB each way, killed ${up} s after QEMU started"
	else
		bad both_flowing "by ${up} s: L1 received $([ -e "$rmark" ] || echo "< ")1 MiB, sent $([ -e "$smark" ] || echo "< ")1 MiB; QEMU $(kill -0 $q1 2>/dev/null && echo running || echo gone); $(tail -n 1 "$rlog") $(tail -n 1 "$slog")"
	fi
	kill -KILL $q1 2>/dev/null
	wait $q1 2>/dev/null
	local tk
	tk=$(date +%s.%N)
	# At once: the same guest CID for a new QEMU.
	local q2c=$OUT/sigkill-$g-restart-console.log
	l2_vsock_qemu "$q2c" "$OUT/sigkill-$g.cpio.gz"
	local q2=$qemu
	# L1's sockets: each must end (not hang) with the reset.
	local rr=hang sr=hang
	wait_gone $recv 60 && rr=$(outcome "$rlog")
	wait_gone $send 60 && sr=$(outcome "$slog")
	local te
	te=$(date +%s.%N)
	kill $recv $send 2>/dev/null
	wait $recv $send 2>/dev/null
	local dt
	dt=$(awk -v a="$tk" -v b="$te" 'BEGIN { printf "%.1f", b - a }')
	if [ "$rr" = ECONNRESET ]; then
		pass l1_recv_reset "read: $rr"
	else
		bad l1_recv_reset "read: $rr (C: ECONNRESET)"
	fi
	if [ "$sr" = ECONNRESET ] || [ "$sr" = ENODEV ]; then
		pass l1_send_reset "write: $sr"
	else
		bad l1_send_reset "write: $sr (C: ECONNRESET or ENODEV)"
	fi
	echo "sigkill $label: L1 sockets ended within $dt s of the kill"
	sleep 5
	if kill -0 $q2 2>/dev/null && ! grep -qai "address already in use\|unable to set guest cid" "$q2c"; then
		pass cid_reuse "QEMU with guest-cid=3 up 5 s after the restart"
	else
		bad cid_reuse "restarted QEMU: $(tr -d '\r' <"$q2c" | grep -ai 'vhost\|cid\|error' | head -n 2 | tr '\n' ' ')"
	fi
	kill -KILL $q2 2>/dev/null
	wait $q2 2>/dev/null
	tr -d '\r' <"$console" | sed -E 's/\x1b(\[[0-9;?]*[a-zA-Z]|c)//g' | grep -av '^\s*$' | tail -n 5
	dmesg >"$OUT/sigkill-$g-dmesg.txt"
	leaks >"$OUT/sigkill-$g-kmemleak.txt"
	if grep -aEq "$SPLAT" "$OUT/sigkill-$g-dmesg.txt"; then
		bad kernel_log "$(grep -aE -m 1 "$SPLAT" "$OUT/sigkill-$g-dmesg.txt")"
	elif [ -s "$OUT/sigkill-$g-kmemleak.txt" ]; then
		bad kernel_log "kmemleak: $(grep -c unreferenced "$OUT/sigkill-$g-kmemleak.txt") objects"
		head -40 "$OUT/sigkill-$g-kmemleak.txt"
	else
		pass kernel_log "$([ -w /sys/kernel/debug/kmemleak ] && echo "kmemleak clean" || echo "no kmemleak")"
	fi
	echo "sigkill $label: $(($(date +%s) - t0)) s" | tee -a "$OUT/summary"
	record "sigkill $label" $ok $fail
	[ $fail = 0 ]
}

status=0
if m=$(missing "${host_mods[@]}"); then
	echo "sigkill host=$host_impl: skipped, module not built ($m)" | tee -a "$OUT/summary"
	exit 0
fi
load_mods "${host_mods[@]}" || exit 1
[ -c /dev/vhost-vsock ] || { echo "no /dev/vhost-vsock" >&2; exit 1; }
echo "=== sigkill: host $host_impl, guests: $*; L2 kernel $l2_kdir"
for g in "$@"; do
	sigkill_guest "$g" || status=1
done
unload_mods "${host_mods[@]}" || status=1
[ $status = 0 ]
