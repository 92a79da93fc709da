#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest drivers against a second, independent virtio-vsock device:
# rust-vmm's vhost-device-vsock (vhost-user), with its Unix-socket backend
# on this machine.  Never its vsock forwarding, and no AF_VSOCK socket is
# opened here: the host side of every connection is a Unix socket.
#
#   vhost-user.sh KDIR GUEST...        GUEST: c or rust
#
# For each GUEST, in turn:
#  1. one VM (guest CID 3, suites/vhostuser.sh single): an echo from the
#     guest to the host (CID 2 port 5000 reaches the Unix socket
#     U_5000 here) and from the host to the guest ("CONNECT 5002" on U),
#     then 256 MiB each way (ports 5001 and 5003), checked byte for byte by
#     the receiver (progs/xfer/vsock_xfer);
#  2. two sibling VMs on one device (CIDs 3 and 4, one group): upstream
#     vsock_test, server in one and client in the other, its TCP control
#     connection over a virtio-net link between them.  The tests this
#     device cannot pass are skipped (SOCK_SEQPACKET, and 4 stream tests
#     that fail with the C drivers too; see suites/vhostuser.sh).
#  3. (part "life", not in the default parts) one VM, the driver's life
#     cycle with the device live: LIFE_CYCLES (20) cycles alternating
#     rmmod/insmod and unbind/bind, some with a transfer to the host
#     flowing (rmmod refused, unbind resets it), echoes both ways after
#     each, kmemleak checked after the final unload (suites/vhostuser.sh
#     life).  The debug kernel's way to issue 11's cycles: no nesting.
# Each VM is a vm.sh run: any oops, WARN, BUG, KASAN, lockdep or kmemleak
# report in a guest fails it.  Output: lines "vhost-user guest=G NAME: N
# passed, M failed" (check.sh's format) and one line of timings per part.
# Logs are kept in $VSOCK_RUST_CACHE/runs/.  Exits non-zero on any failure.
# VHOST_USER_PARTS="single siblings" (the default) selects the parts
# (single, siblings, life); VM_TIMEOUT bounds the life VM (1800 s);
# SIB_TEST_ARGS="--pick=N ..." runs those vsock_test tests between the
# siblings instead of all but the skipped ones; VHOST_USER_GUEST_WRITE=SIZE
# sets the guest's write size for its 256 MiB (default 16K, see below).
#
# Limits of vhost-device-vsock 0.3.0 this works around: no SOCK_SEQPACKET;
# a half-close is not forwarded (the transfers end on a byte count and a
# one-byte verdict, not on EOF); bytes sent together with the CONNECT line
# are lost (vsock_xfer waits for "OK"); tx-buffer-size=1M stalls after
# 512 KiB against a 7.2 guest (defaults are kept).  vhost-user needs guest
# memory QEMU can share: vng --numa (a memfd backend).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../scripts/lib.sh"

[ $# -ge 2 ] || die "usage: vhost-user.sh KDIR c|rust..."
kdir=$1
shift
SIZE=256M
xfer=$here/progs/xfer/vsock_xfer
echo_bin=$VSOCK_RUST_ROOT/samples/vsock/vsock_echo
[ -x "$VHOST_DEVICE_VSOCK" ] || die "$VHOST_DEVICE_VSOCK not found: run scripts/install-deps.sh"
[ -x "$xfer" ] && [ -x "$echo_bin" ] || die "$xfer or $echo_bin missing: run 'make modules'"
[ -x "$kdir/vsock-tools/vsock_test" ] || die "no vsock_test in $kdir: run 'make kernel'"
command -v socat >/dev/null || die "socat not found: run scripts/install-deps.sh"

# Sockets live here (short paths: sun_path has 108 bytes).
tmp=$(mktemp -d /tmp/vsock-rust-vu.XXXXXX)
groups=()
cleanup() {
	local g
	for g in "${groups[@]}"; do
		kill -- -"$g" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# spawn LOG CMD...: CMD in the background in a process group of its own,
# so that stop and cleanup end it with its children (vm.sh's vng and QEMU,
# socat's forks); $! is its PID and process group.
spawn() {
	local log=$1
	shift
	setsid "$@" >"$log" 2>&1 </dev/null &
	groups+=($!)
}
# stop PID: end a spawned group and reap it.
stop() {
	kill -- -"$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# wait_for PATH PID SECONDS: until PATH exists; fails when PID ends first or
# the time is up.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ -e "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	[ -e "$1" ]
}
now() { date +%s.%N; }
secs() { printf '%.1f' "$(echo "$2 - $1" | bc)"; }
# checked FILE NAME: "ok" when the checks file FILE has "NAME ok".
checked() {
	grep -qE "^$2 ok( |$)" "$1" 2>/dev/null
}
# line NAME PASSED FAILED
line() {
	echo "vhost-user guest=$g $1: $2 passed, $3 failed"
	passed=$((passed + $2)) failed=$((failed + $3))
}
# tally NAME COND...: a line counting which of the conditions (each a
# command string) held.
tally() {
	local name=$1 p=0 f=0 c
	shift
	for c in "$@"; do
		if eval "$c"; then p=$((p + 1)); else f=$((f + 1)); fi
	done
	line "$name" $p $f
}
# rate LOG: "T s (R MiB/s)" from vsock_xfer's report in LOG.
rate() {
	sed -nE 's/^vsock_xfer: (sent|received) .* in ([0-9.]+ s \([0-9.]+ MiB\/s\))$/\2/p' "$1" 2>/dev/null |
		head -n 1 | grep . || echo "-"
}
show_logs() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "--- $f" >&2
		tail -n 40 "$f" >&2
	done
}
vm_opts() { # vm_opts SOCKET: the vhost-user-vsock device on SOCKET
	echo "-chardev socket,id=vu0,path=$1 -device vhost-user-vsock-pci,chardev=vu0"
}
append() { # append GUEST: keep udev from loading the C driver for Rust runs;
	# VHOST_USER_APPEND: more kernel parameters
	local a=${VHOST_USER_APPEND:-}
	[ "$1" != rust ] || a="modprobe.blacklist=vmw_vsock_virtio_transport,vmw_vsock_virtio_transport_common $a"
	echo "$a"
}
new_out() {
	local o
	o=$VSOCK_RUST_CACHE/runs/$(date +%Y%m%d-%H%M%S)-vhostuser-$1-$$
	mkdir -p "$o"
	echo "$o"
}

# 1. One guest: echo and 256 MiB both ways.
run_single() {
	local out s dev echo_srv recv vm vm_rc=0 recv_rc=0 t0 t_up=- t1 hc
	out=$(new_out "$g-single")
	s=$tmp/$g
	mkdir -p "$s"
	hc=$out/host.checks
	: >"$hc"
	log "guest=$g: one VM on vhost-device-vsock, logs in $out"
	spawn "$out/vhost-device-vsock.log" "$VHOST_DEVICE_VSOCK" \
		--vm "guest-cid=3,socket=$s/vhu.sock,uds-path=$s/vm.vsock"
	dev=$!
	spawn "$out/host-echo-server.log" socat UNIX-LISTEN:"$s/vm.vsock_5000",fork EXEC:cat
	echo_srv=$!
	spawn "$out/host-recv.log" "$xfer" -r "$s/recv-ready" recv "unix-listen:$s/vm.vsock_5001" $SIZE
	recv=$!
	if ! wait_for "$s/vhu.sock" $dev 10 || ! wait_for "$s/vm.vsock_5000" $echo_srv 10 ||
		! wait_for "$s/recv-ready" $recv 10; then
		show_logs "$out"/*.log
		line "set-up (vhost-device-vsock, host listeners)" 0 1
		stop $dev; stop $echo_srv; stop $recv
		return
	fi
	t0=$(now)
	spawn "$out/vm.log" env VM_OUT="$out" VM_NUMA=1 VM_MEMORY=1G \
		VM_QEMU_OPTS="$(vm_opts "$s/vhu.sock")" VM_APPEND="$(append "$g")" \
		VM_ENV=GUEST_WRITE GUEST_WRITE="${VHOST_USER_GUEST_WRITE:-16K}" \
		"$here/vm.sh" "$kdir" vhostuser "$g" single
	vm=$!
	if wait_for "$out/ready-echo" $vm 600; then
		t_up=$(secs "$t0" "$(now)")
		if "$xfer" echo "vhu:$s/vm.vsock:5002" "hello-from-host-$g" >"$out/host-echo.log" 2>&1; then
			echo "echo-h2g ok" >>"$hc"
		fi
	fi
	if wait_for "$out/ready-recv" $vm 900; then
		if "$xfer" send "vhu:$s/vm.vsock:5003" $SIZE >"$out/host-send.log" 2>&1; then
			echo "xfer-h2g ok" >>"$hc"
		fi
	fi
	wait $vm || vm_rc=$?
	t1=$(now)
	# The guest is gone: its 256 MiB have arrived, or never will.
	kill -0 $recv 2>/dev/null && stop $recv
	wait $recv 2>/dev/null || recv_rc=$?
	[ $recv_rc != 0 ] || echo "xfer-g2h ok" >>"$hc"
	stop $echo_srv
	stop $dev

	local gc=$out/guest.checks ok=1
	tally "echo" "checked $gc echo-g2h" "checked $hc echo-h2g"
	tally "256MiB transfers" "checked $gc xfer-g2h && checked $hc xfer-g2h" \
		"checked $gc xfer-h2g && checked $hc xfer-h2g"
	tally "driver load/unload, kernel log" \
		"[ $vm_rc = 0 ] && checked $gc guest-driver-load && checked $gc guest-driver-unload"
	echo "vhost-user guest=$g times: boot and driver load ${t_up} s," \
		"256MiB guest->host $(rate "$out/host-recv.log"), host->guest $(rate "$out/host-send.log")," \
		"VM $(secs "$t0" "$t1") s"
	for c in "$gc echo-g2h" "$hc echo-h2g" "$gc xfer-g2h" "$hc xfer-g2h" "$gc xfer-h2g" \
		"$hc xfer-h2g" "$gc guest-driver-unload"; do
		checked $c || ok=0
	done
	if [ $ok = 0 ] || [ $vm_rc != 0 ]; then
		show_logs "$out/vm.log" "$out/guest.checks" "$out/host.checks" "$out"/host-*.log \
			"$out/vhost-device-vsock.log" "$out/console.log"
	fi
}

# 2. Two sibling guests of one device: upstream vsock_test between them.
run_siblings() {
	local s dev cid peer role vm_a vm_b rc_a=0 rc_b=0 t0 t1 i
	local -A out
	s=$tmp/sib-$g
	mkdir -p "$s"
	out[3]=$(new_out "$g-sib-server")
	out[4]=$(new_out "$g-sib-client")
	log "guest=$g: two sibling VMs on vhost-device-vsock, logs in ${out[3]} and ${out[4]}"
	spawn "${out[3]}/vhost-device-vsock.log" "$VHOST_DEVICE_VSOCK" \
		--vm "guest-cid=3,socket=$s/vhu3.sock,uds-path=$s/vm3.vsock,groups=siblings" \
		--vm "guest-cid=4,socket=$s/vhu4.sock,uds-path=$s/vm4.vsock,groups=siblings"
	dev=$!
	if ! wait_for "$s/vhu3.sock" $dev 10 || ! wait_for "$s/vhu4.sock" $dev 10; then
		show_logs "${out[3]}/vhost-device-vsock.log"
		line "siblings set-up (vhost-device-vsock)" 0 1
		stop $dev
		return
	fi
	t0=$(now)
	for cid in 3 4; do
		peer=$((7 - cid))
		role=$([ $cid = 3 ] && echo sib-server || echo sib-client)
		spawn "${out[$cid]}/vm.log" env VM_OUT="${out[$cid]}" VM_NUMA=1 VM_MEMORY=1G \
			VM_CPUS=1 VM_QEMU_OPTS="$(vm_opts "$s/vhu$cid.sock") -netdev dgram,id=n0,local.type=unix,local.path=$s/net$cid,remote.type=unix,remote.path=$s/net$peer -device virtio-net-pci,netdev=n0,mac=52:54:00:00:03:0$cid" \
			VM_APPEND="$(append "$g")" VM_ENV=SIB_TEST_ARGS SIB_TEST_ARGS="${SIB_TEST_ARGS:-}" \
			"$here/vm.sh" "$kdir" vhostuser "$g" $role $peer
		[ $cid = 3 ] && vm_a=$! || vm_b=$!
	done
	wait $vm_b || rc_b=$?
	t1=$(now)
	# The server ends with the client (and unloads its driver): a minute.
	for ((i = 0; i < 600; i++)); do
		kill -0 $vm_a 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $vm_a 2>/dev/null && { log "guest=$g: the server VM did not end with the client"; stop $vm_a; }
	wait $vm_a || rc_a=$?
	stop $dev

	local sum skipped
	sum=$(sed -nE 's/^siblings vsock_test: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "${out[4]}/summary" 2>/dev/null)
	skipped=$(grep -cE '^[0-9]+ - .*\.\.\.skipped$' "${out[4]}/vsock_test-client.log" 2>/dev/null)
	if [ -n "$sum" ]; then
		line "siblings vsock_test" ${sum% *} ${sum#* }
	else
		line "siblings vsock_test (no result)" 0 1
	fi
	tally "siblings driver load/unload, kernel log" \
		"[ $rc_a = 0 ] && checked ${out[3]}/guest.checks guest-driver-unload && checked ${out[3]}/guest.checks sib-server" \
		"[ $rc_b = 0 ] && checked ${out[4]}/guest.checks guest-driver-unload"
	echo "vhost-user guest=$g times: siblings vsock_test" \
		"$(sed -nE 's/^sib-client (ok|FAIL) ([0-9.]+)$/\2/p' "${out[4]}/guest.checks" 2>/dev/null | xargs printf '%.1f' 2>/dev/null || echo -) s" \
		"(${skipped:-0} tests skipped: SOCK_SEQPACKET and 4 device limits), both VMs $(secs "$t0" "$t1") s"
	if [ $rc_a != 0 ] || [ $rc_b != 0 ] || [ -z "$sum" ] || [ "${sum#* }" != 0 ]; then
		show_logs "${out[3]}/vm.log" "${out[4]}/vm.log" "${out[3]}/vsock_test-server.log" \
			"${out[4]}/vsock_test-client.log" "${out[3]}/vhost-device-vsock.log"
	fi
}

# 3. The driver's life cycle with the device live (suites/vhostuser.sh
# life): LIFE_CYCLES rmmod/insmod and unbind/bind cycles in one boot, some
# with a transfer to the host flowing; after each, echoes both ways (the
# host's: when the guest asks for it with $out/h2g-TAG).
run_life() {
	local out s dev echo_srv sink vm vm_rc=0 t0 t_up=- t1 t_c='' t_cyc n=${LIFE_CYCLES:-20} tag h2g_p=0 h2g_f=0
	out=$(new_out "$g-life")
	s=$tmp/life-$g
	mkdir -p "$s"
	log "guest=$g: $n life cycles on vhost-device-vsock, logs in $out"
	spawn "$out/vhost-device-vsock.log" "$VHOST_DEVICE_VSOCK" \
		--vm "guest-cid=3,socket=$s/vhu.sock,uds-path=$s/vm.vsock"
	dev=$!
	spawn "$out/host-echo-server.log" socat UNIX-LISTEN:"$s/vm.vsock_5000",fork EXEC:cat
	echo_srv=$!
	# The sink of the guest's transfers (port 5001): reads and drops.
	spawn "$out/host-sink.log" socat -u UNIX-LISTEN:"$s/vm.vsock_5001",fork OPEN:/dev/null,wronly
	sink=$!
	if ! wait_for "$s/vhu.sock" $dev 10 || ! wait_for "$s/vm.vsock_5000" $echo_srv 10 ||
		! wait_for "$s/vm.vsock_5001" $sink 10; then
		show_logs "$out"/*.log
		line "life set-up (vhost-device-vsock, host listeners)" 0 1
		stop $dev; stop $echo_srv; stop $sink
		return
	fi
	t0=$(now)
	spawn "$out/vm.log" env VM_OUT="$out" VM_NUMA=1 VM_MEMORY=1G \
		VM_QEMU_OPTS="$(vm_opts "$s/vhu.sock")" VM_APPEND="$(append "$g")" \
		VM_ENV=LIFE_CYCLES LIFE_CYCLES="$n" VM_TIMEOUT="${VM_TIMEOUT:-1800}" \
		"$here/vm.sh" "$kdir" vhostuser "$g" life
	vm=$!
	# The host's echo to the guest (port 5002), when the guest asks.
	for tag in boot $(seq 0 $((n - 1))); do
		wait_for "$out/h2g-$tag" $vm 1800 || break
		[ "$tag" != boot ] || { t_up=$(secs "$t0" "$(now)"); t_c=$(now); }
		if "$xfer" echo "vhu:$s/vm.vsock:5002" "life-$tag-h2g" >>"$out/host-echo.log" 2>&1; then
			touch "$out/h2g-$tag.ok"
			h2g_p=$((h2g_p + 1))
		else
			touch "$out/h2g-$tag.fail"
			h2g_f=$((h2g_f + 1))
		fi
	done
	t_cyc=$(secs "${t_c:-$t0}" "$(now)")
	wait $vm || vm_rc=$?
	t1=$(now)
	stop $sink
	stop $echo_srv
	stop $dev

	local gc=$out/guest.checks sum
	sum=$(sed -nE 's/^life-cycles ([0-9]+) ([0-9]+)$/\1 \2/p' "$gc" 2>/dev/null)
	if [ -n "$sum" ]; then
		line "life cycles" ${sum% *} ${sum#* }
	else
		line "life cycles (no result)" 0 1
	fi
	tally "life driver unload, kmemleak, kernel log" \
		"checked $gc guest-driver-unload" "checked $gc life-kmemleak" "[ $vm_rc = 0 ]"
	echo "vhost-user guest=$g times: life boot and driver load ${t_up} s," \
		"$n cycles and $((h2g_p + h2g_f)) host echoes ($h2g_f failed) ${t_cyc} s," \
		"kmemleak $(sed -nE 's/^life-kmemleak ok (.*)$/\1/p' "$gc" 2>/dev/null | grep . || echo -)," \
		"VM $(secs "$t0" "$t1") s"
	if [ -z "$sum" ] || [ "${sum#* }" != 0 ] || [ $vm_rc != 0 ] || ! checked "$gc" life-kmemleak; then
		show_logs "$out/vm.log" "$gc" "$out/life.log" "$out/host-echo.log" \
			"$out/vhost-device-vsock.log" "$out/console.log"
	fi
}

passed=0 failed=0
for g in "$@"; do
	case "$g" in
	c) ;;
	rust)
		if [ ! -f "$VSOCK_RUST_ROOT/net/vmw_vsock/vsock_rs_virtio.ko" ]; then
			echo "vhost-user guest=rust: the Rust guest driver" \
				"net/vmw_vsock/vsock_rs_virtio.ko is not built (not written yet, or 'make modules' not run)" >&2
			line "driver module vsock_rs_virtio.ko" 0 1
			continue
		fi ;;
	*) die "unknown guest driver '$g' (c or rust)" ;;
	esac
	t=$(now)
	for part in ${VHOST_USER_PARTS:-single siblings}; do
		case "$part" in
		single) run_single ;;
		siblings) run_siblings ;;
		life) run_life ;;
		*) die "unknown part '$part' (single, siblings, life)" ;;
		esac
	done
	log "guest=$g: $(secs "$t" "$(now)") s"
done
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
