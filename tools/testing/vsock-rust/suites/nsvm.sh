# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# The network-namespace cases of upstream's vmtest.sh
# (tools/testing/selftests/vsock/vmtest.sh, 7.2) that involve a VM, against
# each vhost backend: this VM (L1) is the host, QEMU in it boots a nested L2
# guest (busybox initramfs, the agent of l2-lib.sh) from inside a network
# namespace, so that the vhost device belongs to that namespace (vhost
# takes the opener's: current->nsproxy->net_ns at open of /dev/vhost-vsock).
#
#   nsvm.sh HOST...        HOST: c (vhost_vsock) or rust (vhost_vsock_rs)
#
# Namespaces as vmtest.sh makes them: global0/global1 children of a parent
# whose child_ns_mode is "global", local0/local1 of one whose is "local".
# Per host, one record "nsvm host=H guest=G: N passed, N failed" over:
#
#   ns_host_vsock_ns_mode_ok               ns_mode reads global / local
#   ns_host_vsock_child_ns_mode_ok         ns_mode read-only, child_ns_mode
#                                          writable
#   ns_global_same_cid_fails               a second QEMU with guest CID 3 in
#   ns_local_same_cid_ok                   another namespace fails (global
#   ns_global_local_same_cid_ok            and global) or starts (any local
#   ns_local_global_same_cid_ok            one); QEMU sets the CID while it
#                                          realizes the device, so these run
#                                          QEMU stopped (-S, -daemonize), no
#                                          guest boots
#   ns_diff_global_host_connect_to_global_vm_ok   vsock_test, L2 server in
#                                          global0, L1 client in global1
#   ns_diff_global_vm_connect_to_global_host_ok   vsock_test, L1 server in
#                                          global1, L2 client in global0
#   ns_diff_global_vm_connect_to_local_host_fails L2 (global0) cannot reach
#                                          a listener in local0
#   ns_diff_global_host_connect_to_local_vm_fails global0 cannot reach L2 in
#                                          local0
#   ns_diff_local_host_connect_to_local_vm_fails  local1 cannot reach L2 in
#                                          local0
#   ns_diff_local_vm_connect_to_local_host_fails  L2 (local0) cannot reach a
#                                          listener in local1
#   ns_same_local_host_connect_to_local_vm_ok     vsock_test, L2 server, L1
#                                          client in local0 (--skip=29, as
#                                          vmtest.sh)
#   ns_same_local_vm_connect_to_local_host_ok     vsock_test, L1 server in
#                                          local0, L2 client
#   ns_delete_vm_ok, ns_delete_host_ok,    a connection from global1 to L2
#   ns_delete_both_ok                      (global0) carries data both ways
#                                          after the VM's, the host's or
#                                          both namespaces are deleted
#
# and two controls, which must pass for the cases that must fail to mean
# anything: control_host_to_vm_same_local_ns and
# control_vm_to_host_same_local_ns (the short cases' two ends, L2 and L1
# both in local0, carry "TEST").
#
# What differs from vmtest.sh: one L2 boot serves every case of its
# namespace (vmtest.sh boots a VM per case).  The delete cases share the
# global0 guest, in the order host, vm, both, with the namespaces made again
# before each: "vm" deletes the guest's own namespace, so in "both" the
# guest's is long gone and the host's goes too.  L2 is driven over
# virtio-serial, not ssh; the
# socket ends of the short cases are socat in L1 and samples/vsock's
# vsock_echo in L2 (no socat there), and a case that must fail checks that
# nothing came back through the echo server, or that L1's listener received
# nothing.  The loopback ns_* cases run in suite upstream (vmtest.sh netns
# loopback cases).  Every vsock_test case passes when its client exits 0
# and neither L2's log (Oops, warning-level lines naming vsock: vmtest.sh's
# vm_dmesg_check) nor L1's gained such lines.
#
# Environment: NSVM_GUEST, the L2 guest driver (c: upstream's, default;
# rust: vsock_rs_virtio).
set +e
. "$ROOT/tools/testing/vsock-rust/l2-lib.sh"
hosts=("$@")
[ ${#hosts[@]} -gt 0 ] && [ -n "${hosts[0]}" ] || hosts=(c rust)
guest=${NSVM_GUEST:-c}
L2_KERNEL=$KDIR/arch/x86/boot/bzImage
vt=$KDIR/vsock-tools/vsock_test
vt_static=$KDIR/vsock-tools-static/vsock_test
echo_bin=$ROOT/samples/vsock/vsock_echo
cid=3
# Ports: vsock_test control (TCP) and the short cases (vsock).
port_g=16100 port_h=16200 port_v=12345
vt_limit=400

[ -x "$vt_static" ] || { echo "nsvm: no $vt_static (make modules)" >&2; false; return; }
[ -x "$echo_bin" ] || { echo "nsvm: no $echo_bin (make modules)" >&2; false; return; }
[ -w /proc/sys/net/vsock/child_ns_mode ] ||
	{ echo "nsvm: no /proc/sys/net/vsock/child_ns_mode (vsock namespaces)" >&2; false; return; }

case "$guest" in
c) guest_ko=("$KDIR/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko"
	"$KDIR/net/vmw_vsock/vmw_vsock_virtio_transport.ko") ;;
rust) guest_ko=("$ROOT/net/vmw_vsock/vsock_rs_common.ko" "$ROOT/net/vmw_vsock/vsock_rs_virtio.ko") ;;
*) echo "nsvm: unknown guest '$guest'" >&2; false; return ;;
esac
L2_INITRD=$OUT/nsvm-l2.cpio
l2_initramfs "$L2_INITRD" "${guest_ko[@]}" "$vt_static" "$echo_bin" || { false; return; }
l2_load="insmod /bin/${guest_ko[0]##*/} && insmod /bin/${guest_ko[1]##*/}"
# L2's network for vsock_test's control connection: QEMU's user network,
# 10.0.2.2 is L1's 127.0.0.1 in QEMU's namespace.
l2_net='ip link set lo up && ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2'

# --- namespaces, as vmtest.sh's add_namespaces / init_namespaces ----------
add_namespaces() {
	ip netns add global-parent 2>/dev/null
	echo global | ip netns exec global-parent tee /proc/sys/net/vsock/child_ns_mode >/dev/null
	ip netns add local-parent 2>/dev/null
	echo local | ip netns exec local-parent tee /proc/sys/net/vsock/child_ns_mode >/dev/null
	local m n
	for m in global local; do
		for n in 0 1; do
			nsenter --net=/var/run/netns/$m-parent ip netns add $m$n 2>/dev/null
			ip netns exec $m$n ip link set dev lo up
		done
	done
}

del_namespaces() {
	local n
	for n in global0 global1 local0 local1 global-parent local-parent; do
		ip netns del $n 2>/dev/null
	done
}

# --- checks -------------------------------------------------------------------
# case_result NAME OK DETAIL: one case.
case_result() {
	if [ "$2" = 1 ]; then
		ok=$((ok + 1))
		echo "  ok $1"
	else
		bad=$((bad + 1))
		echo "  not ok $1${3:+ ($3)}"
	fi
}

# Kernel log counts as vmtest.sh takes them (Oops lines; warning-level
# lines naming vsock), in L1 and L2.
l1_oops() { dmesg | grep -ci oops; }
l1_warn() { dmesg --level=warn | grep -ci vsock; }
l2_counts() {
	# shellcheck disable=SC2016 # expanded in L2
	l2 'echo $(dmesg | grep -ci oops) $(dmesg -r | awk -F"[<>]" '"'"'$2 % 8 == 4 && tolower($0) ~ /vsock/ { n++ } END { print n + 0 }'"'"')'
}
# snap: remember both logs' counts; clean: none grew since.
snap() { s_l1="$(l1_oops) $(l1_warn)" s_l2=$(l2_counts); }
clean() { [ "$(l1_oops) $(l1_warn)" = "$s_l1" ] && [ "$(l2_counts)" = "$s_l2" ]; }

# wait_tcp NS PORT: until a TCP socket listens on PORT in namespace NS.
wait_tcp() {
	local _
	for _ in $(seq 300); do
		ip netns exec "$1" ss -ltnH "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# l2_wait_tcp PORT: the same in L2 (/proc/net/tcp, state 0A).
l2_wait_tcp() {
	l2 "i=0; while [ \$i -lt 300 ]; do grep -q ':$(printf %04X "$1") 00000000:0000 0A' /proc/net/tcp && exit 0; sleep 0.1; i=\$((i + 1)); done; exit 1"
}

# l2_wait_tcp_closed PORT: until no TCP socket listens on PORT in L2 (30 s
# at most).
l2_wait_tcp_closed() {
	l2 "i=0; while [ \$i -lt 300 ]; do grep -q ':$(printf %04X "$1") 00000000:0000 0A' /proc/net/tcp || exit 0; sleep 0.1; i=\$((i + 1)); done; exit 1"
}

# --- L2 ---------------------------------------------------------------------
# boot NS: L2 under QEMU started in namespace NS (hostfwd of port_g to L2),
# with the guest driver loaded and its network up.
boot() {
	local ns=$1
	L2_DIR=$OUT/nsvm-$host-$ns L2_RUN=$(mktemp -d /tmp/nsvm-l2.XXXX)
	L2_EXEC=(ip netns exec "$ns")
	l2_start "$cid" -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port_g-10.0.2.15:$port_g" \
		-device virtio-net-pci,netdev=n0,romfile= || return 1
	l2 "$l2_load && $l2_net" || return 1
	# shellcheck disable=SC2016 # expanded in L2
	l2 'echo "guest in '"$ns"': $(lsmod | cut -d" " -f1 | grep vsock | tr "\n" " ")"'
}

down() {
	l2_quit
	rm -rf "$L2_RUN"
}

# --- vsock_test runs ----------------------------------------------------------
# vt_vm_server_once NAME HOST_NS [ARGS]: vsock_test server in L2, client in L1's
# HOST_NS; its control connection reaches L2 through QEMU's hostfwd in the
# VM's namespace, bridged from HOST_NS through a Unix socket when they
# differ (as vmtest.sh).
vt_vm_server_once() {
	local name=$1 hns=$2 rc pids=() u='' cport=$port_g
	shift 2
	l2 "vsock_test --mode=server --control-port=$port_g --peer-cid=2 >/tmp/vt-$name.log 2>&1 &"
	if ! l2_wait_tcp "$port_g"; then
		echo "L2 server did not listen" >"$L2_DIR/vt-$name-l1.log"
		vt_rc=1 vt_logs=("$L2_DIR/vt-$name-l1.log")
		return
	fi
	if [ "$hns" != "$vm_ns" ]; then
		u=$(mktemp -u /tmp/nsvm-XXXX.sock) cport=$port_h
		ip netns exec "$vm_ns" socat UNIX-LISTEN:"$u",fork TCP-CONNECT:127.0.0.1:"$port_g" &
		pids+=($!)
		ip netns exec "$hns" socat TCP-LISTEN:"$cport",reuseaddr,fork UNIX-CONNECT:"$u" &
		pids+=($!)
		wait_tcp "$hns" "$cport"
	fi
	timeout "$vt_limit" ip netns exec "$hns" "$vt" --mode=client --control-host=127.0.0.1 \
		--control-port="$cport" --peer-cid="$cid" "$@" >"$L2_DIR/vt-$name-l1.log" 2>&1
	rc=$?
	l2 "cat /tmp/vt-$name.log" >"$L2_DIR/vt-$name-l2.log"
	# (Never "wait" with no arguments: it would wait for L2's QEMU too.)
	if [ ${#pids[@]} -gt 0 ]; then
		kill "${pids[@]}" 2>/dev/null
		wait "${pids[@]}" 2>/dev/null
	fi
	rm -f "$u"
	l2 'killall vsock_test 2>/dev/null; true' >/dev/null
	vt_rc=$rc vt_logs=("$L2_DIR/vt-$name-l1.log" "$L2_DIR/vt-$name-l2.log")
}

# vt_vm_client_once NAME HOST_NS: vsock_test server in L1's HOST_NS, client in
# L2, whose control connection to 10.0.2.2 lands on 127.0.0.1 in the VM's
# namespace, bridged to HOST_NS when they differ.
vt_vm_client_once() {
	local name=$1 hns=$2 rc spid pids=() u=''
	ip netns exec "$hns" "$vt" --mode=server --control-port="$port_h" --peer-cid="$cid" \
		>"$L2_DIR/vt-$name-l1.log" 2>&1 &
	spid=$!
	wait_tcp "$hns" "$port_h"
	if [ "$hns" != "$vm_ns" ]; then
		u=$(mktemp -u /tmp/nsvm-XXXX.sock)
		ip netns exec "$hns" socat UNIX-LISTEN:"$u",fork TCP-CONNECT:127.0.0.1:"$port_h" &
		pids+=($!)
		sleep 0.2
		ip netns exec "$vm_ns" socat TCP-LISTEN:"$port_h",reuseaddr,fork UNIX-CONNECT:"$u" &
		pids+=($!)
		wait_tcp "$vm_ns" "$port_h"
	fi
	L2_CMD_TIMEOUT=$vt_limit l2 "timeout $vt_limit vsock_test --mode=client --control-host=10.0.2.2 --control-port=$port_h --peer-cid=2 >/tmp/vt-$name.log 2>&1"
	rc=$?
	l2 "cat /tmp/vt-$name.log" >"$L2_DIR/vt-$name-l2.log"
	kill "$spid" "${pids[@]}" 2>/dev/null
	wait "$spid" "${pids[@]}" 2>/dev/null
	rm -f "$u"
	vt_rc=$rc vt_logs=("$L2_DIR/vt-$name-l2.log" "$L2_DIR/vt-$name-l1.log")
}

# vt_case vt_vm_server|vt_vm_client NAME HOST_NS [ARGS]: one vsock_test case.
# A run ended by a known race of vsock_test itself (vt-races.sh, on either
# side's log) is run again, at most four times (two different races have
# ended consecutive runs of one case, and "SIOCINQ after transport change"
# ended three runs in a row of ns_diff_global_host_connect_to_global_vm_ok
# with the Rust host in one make check), and the report names the races;
# any other failure stands.
vt_case() {
	local run=$1 name=$2 race='' extra='' tries=0 races=''
	vt_rc=1 vt_logs=()
	snap
	"${run}_once" "${@:2}"
	while [ "$vt_rc" != 0 ] && [ $tries -lt 4 ] && race=$(vt_known_race "${vt_logs[@]}"); do
		local f
		tries=$((tries + 1))
		for f in "${vt_logs[@]}"; do mv "$f" "${f%.log}-race$tries.log"; done
		echo "  ($name: vsock_test's race \"$race\", run again)"
		# The earlier run's L2 server is gone before the next listens
		# (L1's ends with its run).
		l2 'killall vsock_test 2>/dev/null; true' >/dev/null
		l2_wait_tcp_closed "$port_g"
		races+="${races:+, then }\"$race\""
		vt_rc=1 vt_logs=()
		"${run}_once" "${@:2}"
		extra=" (run $((tries + 1)); vsock_test's races before: $races)"
	done
	if [ "$vt_rc" = 0 ] && clean; then case_result "$name$extra" 1; else
		case_result "$name" 0 "client exit $vt_rc, logs $L2_DIR/vt-$name-*.log$extra"
		tail -5 "${vt_logs[0]}"
	fi
}

# --- short cases --------------------------------------------------------------
# host_to_vm NS: what a socat in L1's NS gets back from L2's echo server
# (port_v) for "TEST".
host_to_vm() {
	echo TEST | timeout 15 ip netns exec "$1" socat -t 5 - VSOCK-CONNECT:"$cid":"$port_v" 2>/dev/null
}

# vm_to_host NS: what a listener in L1's NS receives when L2 sends "TEST"
# to CID 2.
vm_to_host() {
	local out pid
	out=$(mktemp)
	ip netns exec "$1" socat -u VSOCK-LISTEN:"$port_v" OPEN:"$out",creat,trunc &
	pid=$!
	sleep 0.5
	l2 "timeout 15 vsock_echo client 2 $port_v TEST >/dev/null 2>&1; true" >/dev/null
	sleep 0.5
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	cat "$out"
	rm -f "$out"
}

# must_fail NAME RESULT: the case passes when nothing (no "TEST") got
# through and the logs stayed clean.
must_fail() {
	if ! grep -q TEST <<<"$2" && clean; then case_result "$1" 1; else
		case_result "$1" 0 "got '$2'"
	fi
}

# same_cid NS0 NS1: whether a second QEMU with guest CID $cid starts in NS1
# while one runs in NS0 (0: it started, 1: it failed, 2: the first failed).
# QEMU sets the CID while it realizes the device; with -daemonize its first
# process exits once the machine is built, with status 0 (running, here
# stopped before the guest runs: -S) or 1 (the device failed).
qemu_stopped() {
	ip netns exec "$1" qemu-system-x86_64 -accel tcg -S -nodefaults -display none -m 64M \
		-daemonize -pidfile "$2/pid" \
		-device "vhost-vsock-pci,guest-cid=$cid" </dev/null >>"$OUT/nsvm-same-cid.log" 2>&1
}
qemu_stop() {
	[ -s "$1/pid" ] && kill "$(cat "$1/pid")" 2>/dev/null
	local _
	for _ in $(seq 100); do
		{ [ -s "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; } || break
		sleep 0.1
	done
}
same_cid() {
	local d0 d1 rc=1
	d0=$(mktemp -d) d1=$(mktemp -d)
	if qemu_stopped "$1" "$d0"; then
		qemu_stopped "$2" "$d1" && rc=0
		qemu_stop "$d1"
	else
		rc=2
	fi
	qemu_stop "$d0"
	rm -rf "$d0" "$d1"
	return $rc
}

# --- delete cases -------------------------------------------------------------
# ns_delete WHAT: a connection from global1 to L2's echo server (L2 in
# global0), then the namespaces WHAT (vm, host, both) are deleted; data
# must still go both ways.
ns_delete() {
	local what=$1 reply
	add_namespaces
	# The connection's socat talks through two FIFOs (the agent channel
	# is this shell's coprocess already).
	local fifo dpid
	fifo=$(mktemp -d /tmp/nsvm-del.XXXX)
	mkfifo "$fifo/in" "$fifo/out"
	ip netns exec global1 socat - VSOCK-CONNECT:"$cid":"$port_v" <"$fifo/in" >"$fifo/out" 2>/dev/null &
	dpid=$!
	exec {del_to}>"$fifo/in" {del_from}<"$fifo/out"
	echo PING >&"$del_to"
	IFS= read -r -t 15 reply <&"$del_from"
	if [ "$reply" != PING ]; then
		case_result "ns_delete_${what}_ok" 0 "no echo before the delete: '$reply'"
	else
		case "$what" in
		vm) ip netns del global0 ;;
		host) ip netns del global1 ;;
		both) ip netns del global0; ip netns del global1 ;;
		esac
		reply=
		echo TEST >&"$del_to"
		IFS= read -r -t 15 reply <&"$del_from"
		if [ "$reply" = TEST ] && clean; then case_result "ns_delete_${what}_ok" 1; else
			case_result "ns_delete_${what}_ok" 0 "got '$reply' after the delete"
		fi
	fi
	exec {del_to}>&- {del_from}<&-
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	rm -rf "$fifo"
}

# --- one host -----------------------------------------------------------------
run_host() {
	host=$1
	local mods m list
	list=$(vhost_mods "$host") || { echo "nsvm: unknown host '$host'" >&2; return 1; }
	read -r -a mods <<<"$list"
	ok=0 bad=0
	echo "=== nsvm host=$host guest=$guest"
	if m=$(missing "${mods[@]}"); then
		echo "nsvm: $m not built"
		record "nsvm host=$host guest=$guest" 0 19
		return 1
	fi
	load_mods "${mods[@]}" || { record "nsvm host=$host guest=$guest" 0 19; return 1; }
	del_namespaces
	add_namespaces

	# Host-only cases.
	local mode actual r=1
	for mode in global local; do
		actual=$(ip netns exec ${mode}0 cat /proc/sys/net/vsock/ns_mode)
		[ "$actual" = "$mode" ] || r=0
	done
	case_result ns_host_vsock_ns_mode_ok $r
	r=1
	for mode in global local; do
		echo $mode 2>/dev/null >/proc/sys/net/vsock/ns_mode && r=0
		echo $mode | ip netns exec ${mode}0 tee /proc/sys/net/vsock/child_ns_mode >/dev/null || r=0
	done
	case_result ns_host_vsock_child_ns_mode_ok $r

	# Same CID in two namespaces.
	same_cid global0 global1; r=$?
	case_result ns_global_same_cid_fails "$([ $r = 1 ] && echo 1 || echo 0)" "second QEMU: $r"
	same_cid local0 local1; r=$?
	case_result ns_local_same_cid_ok "$([ $r = 0 ] && echo 1 || echo 0)" "second QEMU: $r"
	same_cid global0 local0; r=$?
	case_result ns_global_local_same_cid_ok "$([ $r = 0 ] && echo 1 || echo 0)" "second QEMU: $r"
	same_cid local0 global0; r=$?
	case_result ns_local_global_same_cid_ok "$([ $r = 0 ] && echo 1 || echo 0)" "second QEMU: $r"

	# L2 in local0.
	vm_ns=local0
	if boot local0; then
		l2 "vsock_echo server $port_v >/tmp/echo.log 2>&1 &" >/dev/null
		sleep 0.5
		snap
		# Controls: the same two ends within the guest's namespace work.
		r=$(host_to_vm local0)
		case_result control_host_to_vm_same_local_ns "$([ "$r" = TEST ] && echo 1 || echo 0)" "got '$r'"
		r=$(vm_to_host local0)
		case_result control_vm_to_host_same_local_ns "$([ "$r" = TEST ] && echo 1 || echo 0)" "got '$r'"
		must_fail ns_diff_global_host_connect_to_local_vm_fails "$(host_to_vm global0)"
		must_fail ns_diff_local_host_connect_to_local_vm_fails "$(host_to_vm local1)"
		must_fail ns_diff_local_vm_connect_to_local_host_fails "$(vm_to_host local1)"
		l2 'killall vsock_echo 2>/dev/null; true' >/dev/null
		vt_case vt_vm_server ns_same_local_host_connect_to_local_vm_ok local0 --skip=29
		vt_case vt_vm_client ns_same_local_vm_connect_to_local_host_ok local0
		down
	else
		bad=$((bad + 7))
		echo "  not ok: L2 in local0 did not boot (7 cases)"
		down
	fi

	# L2 in global0; the delete cases last.
	vm_ns=global0
	if boot global0; then
		vt_case vt_vm_server ns_diff_global_host_connect_to_global_vm_ok global1
		vt_case vt_vm_client ns_diff_global_vm_connect_to_global_host_ok global1
		snap
		must_fail ns_diff_global_vm_connect_to_local_host_fails "$(vm_to_host local0)"
		l2 "vsock_echo server $port_v >/tmp/echo.log 2>&1 &" >/dev/null
		sleep 0.5
		local what
		for what in host vm both; do
			snap
			ns_delete "$what"
		done
		down
	else
		bad=$((bad + 6))
		echo "  not ok: L2 in global0 did not boot (6 cases)"
		down
	fi
	del_namespaces
	unload_mods "${mods[@]}"
	record "nsvm host=$host guest=$guest" "$ok" "$bad"
}

rc=0
for h in "${hosts[@]}"; do
	run_host "$h" || rc=1
done
[ $rc = 0 ]
