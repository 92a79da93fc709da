# SPDX-License-Identifier: GPL-2.0
# Every upstream loopback suite on one implementation (c or rust), in one VM:
#  - vsock_test;
#  - vsock_diag_test, server and client in two global-mode network
#    namespaces (it counts every socket of its namespace);
#  - vsock_uring_test;
#  - the loopback cases of tools/testing/selftests/vsock/vmtest.sh
#    (ns_diff_*_loopback_* and ns_same_local_loopback_ok), with its logic.
impl=${1:?usage: upstream.sh c|rust|rust-nosteer}

load_impl "$impl"
load_mods net/vmw_vsock/vsock_diag
echo "upstream/$impl: registered transports: $(transports)"
add_namespaces

rc=0
run_upstream "$TOOLS/vsock_test" "vsock_test loopback ($impl)" "" "" || rc=1
run_upstream "$TOOLS/vsock_diag_test" "vsock_diag_test global0/global1 ($impl)" global0 global1 || rc=1
run_upstream "$TOOLS/vsock_uring_test" "vsock_uring_test loopback ($impl)" "" "" || rc=1

# vmtest.sh's __test_loopback_two_netns: socat from NS0 to a listener in NS1.
loopback_two_netns() {
	local ns0=$1 ns1=$2 port=12345 out log pid result
	out=$(mktemp) log=$(mktemp)
	# -u: only from the socket to stdout (stdout is a write-only file).
	ip netns exec "$ns1" socat -d -d -u VSOCK-LISTEN:$port STDOUT >"$out" 2>"$log" &
	pid=$!
	for _ in $(seq 50); do
		grep -q "listening on" "$log" && break
		sleep 0.1
	done
	echo TEST | timeout 10 ip netns exec "$ns0" socat STDIN VSOCK-CONNECT:1:$port 2>/dev/null
	for _ in $(seq 20); do
		[ -s "$out" ] && break
		sleep 0.1
	done
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	result=$(cat "$out")
	rm -f "$out" "$log"
	[ "$result" = TEST ]
}
ns_pass=0 ns_fail=0
for t in "global0 local0 fails ns_diff_global_to_local_loopback_local_fails" \
	 "local0 global0 fails ns_diff_local_to_global_loopback_fails" \
	 "local0 local1 fails ns_diff_local_to_local_loopback_fails" \
	 "global0 global1 ok ns_diff_global_to_global_loopback_ok" \
	 "local0 local0 ok ns_same_local_loopback_ok"; do
	set -- $t
	if loopback_two_netns "$1" "$2"; then got=ok; else got=fails; fi
	if [ "$got" = "$3" ]; then
		echo "ok $4"
		ns_pass=$((ns_pass + 1))
	else
		echo "not ok $4 (connection $got)"
		ns_fail=$((ns_fail + 1))
	fi
done
record "vmtest.sh netns loopback cases ($impl)" $ns_pass $ns_fail
[ $ns_fail = 0 ] || rc=1

del_namespaces
unload_mods net/vmw_vsock/vsock_diag
unload_impl "$impl"
[ $rc = 0 ]
