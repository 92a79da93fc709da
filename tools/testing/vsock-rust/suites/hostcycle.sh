# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Load/unload cycles of a vhost backend with guests started and stopped in
# between.  This VM (L1) is the vsock host.  Each cycle: load the backend's
# modules (vhost_mods HOST), start a guest with guest CID 3, pass traffic
# both ways between an AF_VSOCK socket of L1 and the guest, stop the guest
# (odd cycles: a clean stop; even cycles: SIGKILL in the middle of
# traffic), unload the modules.  Guests:
#
#   cycle 1         a nested L2 QEMU (vhost-vsock-pci) with the Rust guest
#                   driver; 4 MiB each way, checked byte for byte
#                   (progs/xfer, l2-hostcycle.sh), then L2 powers off;
#   last cycle      L2 QEMU with the C guest driver; 4 MiB each way,
#                   checked, then endless transfers both ways and, once
#                   1 MiB more has passed each way, SIGKILL of QEMU (L1's
#                   sockets must end, not hang);
#   other cycles    progs/vhostile's traffic mode (a user-space VMM playing
#                   a guest: far cheaper than an L2 boot): 1 MiB each way in
#                   4 KiB steps, each byte checked; odd cycles then shut
#                   down, reset and close the device; even cycles go on
#                   until SIGKILL, 1 s after the 1 MiB.
#
# A cycle passes when its traffic arrived intact, the guest stopped as
# intended and every module unloaded (rmmod).  One more case, kernel_log:
# L1's kernel log of the whole run has no splat (SPLAT) and, on the debug
# kernel, kmemleak reports nothing once the last cycle has unloaded.
#
#   hostcycle host=H: N passed, N failed
#
#   hostcycle.sh HOST [CYCLES]     (default HOSTCYCLE_CYCLES or 20, >= 2)
#
# HOSTCYCLE_L2_KDIR: another kernel build for L2 (its bzImage and C guest
# modules) and HOSTCYCLE_L2_KO a directory with the Rust guest modules built
# for it, as SIGKILL_L2_* in suites/sigkill.sh: make hostcycle VARIANT=debug
# passes the default kernel.
# guest-run.sh sources suites under set -e: the failures here are counted.
set +e
host_impl=${1:?usage: hostcycle.sh HOST [CYCLES]}
ncyc=${2:-${HOSTCYCLE_CYCLES:-20}}
[ "$ncyc" -ge 2 ] 2>/dev/null || { echo "hostcycle: CYCLES must be at least 2" >&2; exit 1; }
xfer=$ROOT/tools/testing/vsock-rust/progs/xfer/vsock_xfer
prog=$ROOT/tools/testing/vsock-rust/progs/vhostile/vhostile
for p in "$xfer" "$prog"; do
	[ -x "$p" ] || { echo "no $p (make modules builds it)" >&2; exit 1; }
done
l2_limit=${HOSTCYCLE_L2_TIMEOUT:-900}
l2_bytes=4M vh_bytes=$((1 << 20))
port_to_l1=15500 port_from_l1=15501 vh_port=15510
label="hostcycle host=$host_impl"

list=$(vhost_mods "$host_impl") ||
	{ echo "hostcycle: unknown host implementation '$host_impl' (c or rust)" >&2; exit 1; }
read -r -a host_mods <<<"$list"
if m=$(missing "${host_mods[@]}"); then
	echo "$label: skipped, module not built ($m)" | tee -a "$OUT/summary"
	exit 0
fi

l2_kdir=${HOSTCYCLE_L2_KDIR:-$KDIR}

# L2's guest modules (l2_mod_path in guest-lib.sh).
l2_ko=${HOSTCYCLE_L2_KDIR:+${HOSTCYCLE_L2_KO:?HOSTCYCLE_L2_KO not set}}

# l2_initrd GUEST MODE: L2's initramfs with guest driver GUEST (c, rust)
# running l2-hostcycle.sh in MODE (once, forever).
l2_initrd() {
	l2_guest_initrd "$1" "$OUT/hostcycle-$1-$2.cpio.gz" \
		"sh /bin/l2-hostcycle.sh $port_to_l1 $port_from_l1 $l2_bytes $2" \
		"$xfer" "$ROOT/tools/testing/vsock-rust/l2-hostcycle.sh"
}

# wait_for FILE PATTERN SECONDS [PID]: until FILE has a line matching the
# extended regex PATTERN; 1 on timeout or when PID has gone without it.
wait_for() {
	local end=$(($(date +%s) + $3))
	while ! grep -aEq "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
			grep -aEq "$2" "$1" 2>/dev/null
			return
		fi
		sleep 0.2
	done
}


# guest_l2 CYCLE GUEST once|forever: sets why on failure.
guest_l2() {
	local c=$1 g=$2 mode=$3 pre=$OUT/hostcycle-$1
	local console=$pre-console.log
	"$xfer" recv "vsock-listen:$port_to_l1" $l2_bytes >"$pre-l1-recv.log" 2>&1 &
	local recv=$! recv2='' send2=''
	if [ "$mode" = forever ]; then
		XFER_MARK=$pre-recv.mark XFER_STALL=120 "$xfer" recv \
			"vsock-listen:$((port_to_l1 + 2))" 1000G >"$pre-l1-recv2.log" 2>&1 &
		recv2=$!
	fi
	local qemu
	l2_vsock_qemu "$console" "$OUT/hostcycle-$g-$mode.cpio.gz" "tsc=reliable kunit.autorun=0"
	local q=$qemu t0
	t0=$(date +%s)
	local ok=1
	if ! wait_for "$console" "L2-LISTENING" "$l2_limit" $q; then
		why="L2 did not listen ($(tail -n 1 "$console" | tr -d '\r'))"
		ok=0
	else
		echo "$label: cycle $c: L2 listening after $(($(date +%s) - t0)) s"
		"$xfer" send "vsock:3:$port_from_l1" $l2_bytes >"$pre-l1-send.log" 2>&1
		local s=$? r
		wait $recv
		r=$?
		if [ $s != 0 ] || [ $r != 0 ] || ! wait_for "$console" "L2-TRAFFIC: send 0 recv 0" 120 $q; then
			why="traffic: L1 send $s recv $r; $(grep -a L2-TRAFFIC "$console" | tr -d '\r')"
			ok=0
		fi
	fi
	if [ $ok = 1 ] && [ "$mode" = once ]; then
		if wait_gone $q 120 && grep -aq "L2-STATUS: 0" "$console"; then
			echo "$label: cycle $c: $l2_bytes each way checked, L2 powered off"
		else
			why="L2 did not power off cleanly ($(grep -a 'L2-STATUS\|L2-SPLAT' "$console" | tr -d '\r' | tr '\n' ' '))"
			ok=0
		fi
	elif [ $ok = 1 ]; then
		if wait_for "$console" "L2-LISTENING-2" 120 $q; then
			XFER_MARK=$pre-send.mark XFER_STALL=120 "$xfer" send \
				"vsock:3:$((port_from_l1 + 2))" 1000G >"$pre-l1-send2.log" 2>&1 &
			send2=$!
		fi
		local end=$(($(date +%s) + 300))
		while kill -0 $q 2>/dev/null && [ "$(date +%s)" -lt "$end" ] &&
			! { [ -e "$pre-recv.mark" ] && [ -e "$pre-send.mark" ]; }; do
			sleep 0.5
		done
		sleep 1
		if [ -n "$send2" ] && kill -0 $q 2>/dev/null && kill -0 "$recv2" 2>/dev/null &&
			kill -0 "$send2" 2>/dev/null && [ -e "$pre-recv.mark" ] && [ -e "$pre-send.mark" ]; then
			kill -KILL $q
			wait $q 2>/dev/null
			local rr=hang sr=hang
			wait_gone "$recv2" 60 && rr=$(outcome "$pre-l1-recv2.log")
			wait_gone "$send2" 60 && sr=$(outcome "$pre-l1-send2.log")
			echo "$label: cycle $c: $l2_bytes each way checked, then 1 MiB more each way; killed; L1 read: $rr, write: $sr"
			if [ "$rr" != ECONNRESET ] || { [ "$sr" != ECONNRESET ] && [ "$sr" != ENODEV ]; }; then
				why="after the kill L1's read $rr, write $sr (C: ECONNRESET; ECONNRESET or ENODEV)"
				ok=0
			fi
		else
			why="endless transfers not flowing (QEMU $(kill -0 $q 2>/dev/null && echo running || echo gone))"
			ok=0
		fi
	fi
	kill -KILL $q 2>/dev/null
	wait $q 2>/dev/null
	kill $recv $recv2 $send2 2>/dev/null
	wait $recv $recv2 $send2 2>/dev/null
	tr -d '\r' <"$console" | grep -a 'L2-\|vsock_xfer' | sed "s/^/$label: cycle $c: L2: /" | tail -n 6
	[ $ok = 1 ]
}

# guest_vhostile CYCLE once|forever: sets why on failure.
guest_vhostile() {
	local c=$1 mode=$2 log=$OUT/hostcycle-$1-vhostile.log
	if [ "$mode" = once ]; then
		"$prog" traffic 3 $vh_port $vh_bytes once >"$log" 2>&1
		local rc=$?
		if [ $rc = 0 ] && grep -q "bytes each way ok" "$log" && grep -q "closed cleanly" "$log"; then
			echo "$label: cycle $c: $(grep "bytes each way ok" "$log" | sed 's/.*: //'), closed"
			return 0
		fi
		why="vhostile exit $rc: $(tail -n 1 "$log")"
		return 1
	fi
	"$prog" traffic 3 $vh_port $vh_bytes forever >"$log" 2>&1 &
	local p=$!
	if ! wait_for "$log" "bytes each way ok" 300 $p; then
		why="vhostile: $(tail -n 1 "$log")"
		kill -KILL $p 2>/dev/null
		wait $p 2>/dev/null
		return 1
	fi
	sleep 1
	if ! kill -0 $p 2>/dev/null; then
		wait $p
		why="vhostile ended before the kill (exit $?): $(tail -n 1 "$log")"
		return 1
	fi
	kill -KILL $p
	wait $p 2>/dev/null
	if grep -q FAIL "$log"; then
		why="vhostile: $(grep -m 1 FAIL "$log")"
		return 1
	fi
	echo "$label: cycle $c: $(grep "bytes each way ok" "$log" | sed 's/.*: //'), 1 s more, killed"
}

for g in rust c; do
	for mode in once forever; do
		l2_initrd "$g" $mode >/dev/null ||
			{ echo "$label: no L2 initramfs with guest $g"; record "$label" 0 $((ncyc + 1)); exit 1; }
	done
done
echo "=== hostcycle: backend $host_impl, $ncyc cycles; L2 kernel $l2_kdir"
leaks >/dev/null
dmesg -C
ok=0 fail=0 t_start=$(date +%s)
for ((c = 1; c <= ncyc; c++)); do
	mode=once
	[ $((c % 2)) = 0 ] && mode=forever
	why=
	t0=$(date +%s)
	if ! load_mods "${host_mods[@]}" || [ ! -c /dev/vhost-vsock ]; then
		why="load failed"
	elif [ $c = 1 ]; then
		guest_l2 $c rust once
	elif [ $c = "$ncyc" ]; then
		guest_l2 $c c forever
	else
		guest_vhostile $c $mode
	fi
	if ! unload_mods "${host_mods[@]}"; then
		why="${why:+$why; }rmmod failed: $(lsmod | grep -E '^(vhost|vsock|vmw_vsock)' | tr '\n' ' ')"
		# The next cycle's insmod would fail: stop here.
		fail=$((fail + ncyc - c + 1))
		echo "$label: cycle $c FAIL $why"
		break
	fi
	guest=vhostile
	{ [ $c = 1 ] || [ $c = "$ncyc" ]; } && guest=L2
	if [ -z "$why" ]; then
		echo "$label: cycle $c ok ($guest, $mode, $(($(date +%s) - t0)) s)"
		ok=$((ok + 1))
	else
		echo "$label: cycle $c FAIL ($guest, $mode) $why"
		fail=$((fail + 1))
	fi
done
dmesg >"$OUT/hostcycle-$host_impl-dmesg.txt"
leaks >"$OUT/hostcycle-$host_impl-kmemleak.txt"
if grep -aEq "$SPLAT" "$OUT/hostcycle-$host_impl-dmesg.txt"; then
	echo "$label: kernel_log FAIL $(grep -aE -m 1 "$SPLAT" "$OUT/hostcycle-$host_impl-dmesg.txt")"
	fail=$((fail + 1))
elif [ -s "$OUT/hostcycle-$host_impl-kmemleak.txt" ]; then
	echo "$label: kernel_log FAIL kmemleak: $(grep -c unreferenced "$OUT/hostcycle-$host_impl-kmemleak.txt") objects"
	head -40 "$OUT/hostcycle-$host_impl-kmemleak.txt"
	fail=$((fail + 1))
else
	echo "$label: kernel_log ok ($([ -w /sys/kernel/debug/kmemleak ] && echo "kmemleak clean" || echo "no kmemleak"))"
	ok=$((ok + 1))
fi
echo "$label: $ncyc cycles in $(($(date +%s) - t_start)) s" | tee -a "$OUT/summary"
record "$label" $ok $fail
[ $fail = 0 ]
