# SPDX-License-Identifier: GPL-2.0
# The guest side of vhost-user.sh: a guest driver (c or rust) against
# rust-vmm's vhost-device-vsock, whose host side is a set of Unix sockets on
# the machine running the VM.  The host script drives the other end and
# reads the files written here.
#
#   vhostuser.sh IMPL single
#     echo to the host (CID 2, port 5000), 256 MiB to the host (port 5001),
#     then an echo server on port 5002 and a 256 MiB receiver on port 5003
#     for the host's connections.  Creates $OUT/ready-echo and
#     $OUT/ready-recv when those listen; writes "NAME ok|FAIL [seconds]"
#     lines to $OUT/guest.checks.
#   vhostuser.sh IMPL life
#     the driver's life cycle with the device live: LIFE_CYCLES (20)
#     cycles, even ones rmmod/insmod of the driver (every tenth also of
#     its common module), odd ones unbind/bind through
#     /sys/bus/virtio/drivers/NAME.  Cycles 2, 6, 10, ... (rmmod) run
#     with a transfer to the host flowing: rmmod must be refused and the
#     transfer go on (the socket holds the module); it is then closed.
#     Cycles 3, 7, 11, ... (unbind) also: the transfer must end with an
#     error (its socket is reset), not hang.  After boot and after each
#     cycle: a driver is bound, the CID is 3, an echo to the host (port
#     5000) and one from the host (echo server on port 5002: the guest
#     creates $OUT/h2g-TAG, TAG boot or the cycle's number, the host
#     answers with $OUT/h2g-TAG.ok or .fail).  Then the driver unloads
#     and kmemleak (debug kernel) must be empty.  Writes "life-cycles
#     PASSED FAILED" and "life-kmemleak ok|FAIL" to $OUT/guest.checks,
#     the cycles' log to $OUT/life.log.
#   vhostuser.sh IMPL sib-server PEER_CID
#   vhostuser.sh IMPL sib-client PEER_CID
#     upstream vsock_test between two sibling guests of one device (server
#     and client), its TCP control connection over a virtio-net link
#     (10.0.3.CID/24) between the two VMs.  SIB_TEST_ARGS="--pick=N ..."
#     runs those tests instead of all but the skipped ones.
impl=${1:?usage: vhostuser.sh c|rust single|life|sib-server PEER|sib-client PEER}
role=${2:?role}
checks=$OUT/guest.checks
: >"$checks"
# check NAME CMD...: run CMD, its output to $OUT/guest-NAME.log, and add
# "NAME ok|FAIL SECONDS" to $checks.
check() {
	local name=$1 t0 t1 rc=0
	shift
	t0=$(date +%s.%N)
	"$@" >"$OUT/guest-$name.log" 2>&1 || rc=$?
	t1=$(date +%s.%N)
	cat "$OUT/guest-$name.log"
	if [ $rc = 0 ]; then
		echo "$name ok $(echo "$t1 - $t0" | bc)" >>"$checks"
	else
		echo "$name FAIL $(echo "$t1 - $t0" | bc)" >>"$checks"
	fi
	return 0
}
xfer=$ROOT/tools/testing/vsock-rust/progs/xfer/vsock_xfer
echo_bin=$ROOT/samples/vsock/vsock_echo
life_bin=$ROOT/tools/testing/vsock-rust/progs/life/vsock_life

load_guest_driver "$impl"
echo "guest-driver-load ok" >>"$checks"

# Tests vsock_test cannot pass on vhost-device-vsock 0.3.0 (its SOCK_SEQPACKET
# is missing, and four stream tests fail with the C drivers too).
SIB_SKIP_NAMES=("SOCK_STREAM MSG_ZEROCOPY"
	"SOCK_STREAM virtio credit update + SO_RCVLOWAT"
	"SOCK_STREAM virtio credit update + low rx_bytes"
	"SOCK_STREAM virtio MSG_ZEROCOPY coalescence corruption")
sib_skips() {
	local id name n
	while IFS=$'\t' read -r id name; do
		[[ $id =~ ^[0-9]+$ ]] || continue
		if [[ $name == SOCK_SEQPACKET* ]]; then
			echo "--skip=$id"
			continue
		fi
		for n in "${SIB_SKIP_NAMES[@]}"; do
			[ "$name" = "$n" ] && echo "--skip=$id"
		done
	done < <("$TOOLS/vsock_test" --list)
}

# The virtio-net link between the sibling VMs.
sib_net() {
	local cid=$1 ifc="" d
	for d in /sys/class/net/*; do
		[ "${d##*/}" = lo ] || { ifc=${d##*/}; break; }
	done
	[ -n "$ifc" ] || { echo "no network interface" >&2; return 1; }
	ip addr add "10.0.3.$cid/24" dev "$ifc"
	ip link set "$ifc" up
}

# --- life ---------------------------------------------------------------
# lcheck WHAT CMD...: one counted check of the life cycles (lp, lf); CMD's
# output goes to $OUT/life.log.
lcheck() {
	local what=$1 t0 rc=0
	shift
	t0=$(date +%s.%N)
	"$@" >>"$OUT/life.log" 2>&1 || rc=$?
	printf '%6.1f %s %s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" \
		"$([ $rc = 0 ] && echo ok || echo FAILED)" "$what" >>"$OUT/life.log"
	if [ $rc = 0 ]; then
		lp=$((lp + 1))
	else
		lf=$((lf + 1))
		echo "life: FAILED: $what"
	fi
}
# wait_file PATH SECONDS: until PATH exists.
wait_file() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "no $1 after $2 s"
	return 1
}
# h2g TAG: the host's echo to the guest's port 5002 (vhost-user.sh answers
# $OUT/h2g-TAG with $OUT/h2g-TAG.ok or .fail).
h2g() {
	local i
	touch "$OUT/h2g-$1"
	for ((i = 0; i < 1200; i++)); do
		[ -e "$OUT/h2g-$1.ok" ] && return 0
		[ -e "$OUT/h2g-$1.fail" ] && { echo "host->guest echo $1 failed"; return 1; }
		sleep 0.1
	done
	echo "no answer from the host for h2g-$1 in 120 s"
	return 1
}
# bound: the device has a driver again (within 10 s), and the CID is 3.
bound() {
	local i d cid
	for ((i = 0; i < 100; i++)); do
		d=$(vsock_dev_driver) && [ -n "$d" ] && break
		sleep 0.1
	done
	[ -n "$d" ] || { echo "no driver bound to the virtio-vsock device"; return 1; }
	cid=$("$life_bin" cid)
	[ "$cid" = 3 ] || { echo "CID '$cid', not 3"; return 1; }
}
# echoes WHAT TAG: guest->host and host->guest echoes.
echoes() {
	lcheck "$1: driver bound, CID 3" bound
	lcheck "$1: echo guest->host" "$echo_bin" client 2 5000 "life-$2-g2h"
	lcheck "$1: echo host->guest" h2g "$2"
}
# sender TAG: a transfer to the host's sink (port 5001) in the background
# ($xp), flowing (1 MiB sent) before it returns.
sender() {
	XFER_MARK=/tmp/mark-$1 XFER_STALL=300 "$xfer" -w 16K send vsock:2:5001 1024G \
		>"$OUT/life-xfer-$1.log" 2>&1 &
	xp=$!
	wait_file "/tmp/mark-$1" 120
}
# ended_reset PID LOG: the transfer ended within 60 s with a write error
# (not a stall: its stall limit is 300 s).  Which error depends on where
# the write was: one waiting for credit sees the reset (ECONNRESET), one
# that starts afterwards ENOTCONN, one in the transport's send while the
# device is gone ENODEV (upstream's af_vsock and virtio_transport alike).
ended_reset() {
	local i rc=0
	for ((i = 0; i < 600; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "the transfer still runs 60 s after the unbind"
		kill "$1"
		wait "$1"
		return 1
	fi
	wait "$1" || rc=$?
	cat "$2"
	[ $rc != 0 ] && grep -qE 'write at byte [0-9]+: (Connection reset by peer|Broken pipe|Transport endpoint is not connected|No such device)$' "$2"
}
# reload MODULE...: unload the modules (last first, retried while closing
# sockets hold them) and load them again.
reload() {
	unload_mods "$@" && load_mods "$@"
}
# rebind DEVICE DRIVER-DIR: unbind the device from its driver and bind it
# again through sysfs.
rebind() {
	echo "$1" >"$2/unbind" && echo "$1" >"$2/bind"
}
# refused MODULE: rmmod fails and the module stays.
refused() {
	! rmmod "$1" && grep -q "^$1 " /proc/modules
}
life_cycles() {
	local n=$1 i dev drv sysd mods common driver tag srv
	lp=0 lf=0
	: >"$OUT/life.log"
	read -ra mods <<<"$(virtio_mods "$impl")"
	common=$(basename "${mods[0]}") driver=$(basename "${mods[1]}")
	dev=$(vsock_dev) drv=$(vsock_dev_driver)
	sysd=/sys/bus/virtio/drivers/$drv
	echo "life: $n cycles, device $dev, driver $drv ($driver, $common)"
	"$echo_bin" server 5002 >"$OUT/guest-echo-server.log" 2>&1 &
	srv=$!
	echoes boot boot
	for ((i = 0; i < n; i++)); do
		tag="cycle $i"
		if [ $((i % 2)) = 0 ]; then
			if [ $((i % 4)) = 2 ]; then
				lcheck "$tag: transfer flowing" sender "$i"
				lcheck "$tag: rmmod refused under a live connection" refused "$driver"
				lcheck "$tag: the transfer goes on" kill -0 "$xp"
				kill "$xp" 2>/dev/null || true
				wait "$xp" 2>/dev/null || true
			fi
			if [ $((i % 10)) = 0 ]; then
				lcheck "$tag: rmmod, insmod (also $common)" reload "${mods[@]}"
			else
				lcheck "$tag: rmmod, insmod" reload "${mods[1]}"
			fi
		else
			[ $((i % 4)) = 3 ] && lcheck "$tag: transfer flowing" sender "$i"
			lcheck "$tag: unbind, bind" rebind "$dev" "$sysd"
			[ $((i % 4)) = 3 ] && lcheck "$tag: the transfer ends with an error" \
				ended_reset "$xp" "$OUT/life-xfer-$i.log"
		fi
		echoes "$tag" "$i"
	done
	lcheck "echo server alive" kill -0 "$srv"
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	echo "life-cycles $lp $lf" >>"$checks"
	echo "life: $lp passed, $lf failed"
}

case "$role" in
single)
	"$echo_bin" server 5002 >"$OUT/guest-echo-server.log" 2>&1 &
	echo_srv=$!
	for _ in $(seq 100); do
		grep -q listening "$OUT/guest-echo-server.log" && break
		sleep 0.1
	done
	touch "$OUT/ready-echo"
	check echo-g2h "$echo_bin" client 2 5000 "hello-from-guest-$impl"
	# 16 KiB writes: larger ones go out as nonlinear skbs (one descriptor
	# per fragment), whose payload vhost-device-vsock 0.3.0 drops.
	# GUEST_WRITE (vhost-user.sh's VHOST_USER_GUEST_WRITE) overrides it.
	check xfer-g2h "$xfer" -w "${GUEST_WRITE:-16K}" send vsock:2:5001 256M
	check xfer-h2g "$xfer" -r "$OUT/ready-recv" recv vsock-listen:5003 256M
	# The host echoes before it sends the 256 MiB: it is done with 5002.
	kill $echo_srv 2>/dev/null || true
	wait $echo_srv 2>/dev/null || true
	;;
life)
	life_cycles "${LIFE_CYCLES:-20}"
	;;
sib-server|sib-client)
	peer=${3:?peer CID}
	cid=$((peer == 3 ? 4 : 3))
	sib_net "$cid"
	# SIB_TEST_ARGS (e.g. "--pick=22"), to look at a skipped test,
	# replaces the skips.
	if [ -n "${SIB_TEST_ARGS:-}" ]; then
		read -ra skips <<<"$SIB_TEST_ARGS"
	else
		mapfile -t skips < <(sib_skips)
	fi
	echo "skipping ${#skips[@]} tests: ${skips[*]}"
	log=$OUT/vsock_test-${role#sib-}.log
	rc=0
	if [ "$role" = sib-server ]; then
		"$TOOLS/vsock_test" --mode=server --control-port=15000 --peer-cid="$peer" \
			"${skips[@]}" >"$log" 2>&1 &
		server=$!
		for _ in $(seq 300); do
			grep -q "Control socket listening" "$log" && break
			sleep 0.1
		done
		# The client waits for this before it connects (vsock_test's
		# client does not retry, and its server takes one connection).
		socat TCP-LISTEN:15001,reuseaddr,fork SYSTEM:"echo ready" &
		ready=$!
		wait $server || rc=$?
		kill $ready 2>/dev/null || true
		wait $ready 2>/dev/null || true
		cat "$log"
		[ $rc = 0 ] && echo "sib-server ok" >>"$checks" || echo "sib-server FAIL" >>"$checks"
	else
		for _ in $(seq 600); do
			[ "$(timeout 2 socat -u TCP:10.0.3.$peer:15001 STDOUT 2>/dev/null)" = ready ] && break
			sleep 0.5
		done
		t0=$(date +%s.%N)
		"$TOOLS/vsock_test" --mode=client --control-host=10.0.3.$peer --control-port=15000 \
			--peer-cid="$peer" "${skips[@]}" >"$log" 2>&1 || rc=$?
		t1=$(date +%s.%N)
		cat "$log"
		count_upstream "$TOOLS/vsock_test" "$log" $rc "siblings vsock_test" || true
		echo "sib-client $([ $rc = 0 ] && echo ok || echo FAIL) $(echo "$t1 - $t0" | bc)" >>"$checks"
	fi
	;;
*) echo "unknown role '$role'" >&2; false ;;
esac

if unload_guest_driver "$impl"; then
	echo "guest-driver-unload ok" >>"$checks"
else
	echo "guest-driver-unload FAIL" >>"$checks"
fi
# life: kmemleak after the unload, a counted check (nothing to scan
# without kmemleak: the default kernel).
if [ "$role" = life ]; then
	leaked=$(leaks)
	if [ -z "$leaked" ]; then
		echo "life-kmemleak ok $([ -w /sys/kernel/debug/kmemleak ] && echo scanned || echo none)" >>"$checks"
	else
		echo "$leaked" | tee "$OUT/life-kmemleak.txt"
		echo "life-kmemleak FAIL" >>"$checks"
	fi
fi
