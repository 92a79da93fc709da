# SPDX-License-Identifier: GPL-2.0
# Upstream vsock_test over the loopback transport (CID 1), server and client
# in this VM.  Argument: the implementation, c or rust.
impl=${1:?usage: loopback.sh c|rust}

load_impl "$impl"
echo "loopback/$impl: registered transports: $(transports)"

rc=0
run_upstream "$TOOLS/vsock_test" "vsock_test loopback ($impl)" "" "" || rc=$?
unload_impl "$impl"
[ $rc = 0 ]
