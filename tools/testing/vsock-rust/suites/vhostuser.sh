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
#   vhostuser.sh IMPL sib-server PEER_CID
#   vhostuser.sh IMPL sib-client PEER_CID
#     upstream vsock_test between two sibling guests of one device (server
#     and client), its TCP control connection over a virtio-net link
#     (10.0.3.CID/24) between the two VMs.  SIB_TEST_ARGS="--pick=N ..."
#     runs those tests instead of all but the skipped ones.
impl=${1:?usage: vhostuser.sh c|rust single|sib-server PEER|sib-client PEER}
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
