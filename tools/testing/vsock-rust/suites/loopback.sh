# SPDX-License-Identifier: GPL-2.0
# Upstream vsock_test over the loopback transport (CID 1), server and client
# in this VM.  Argument: the implementation, c or rust.
impl=${1:?usage: loopback.sh c|rust}

load_impl "$impl"
echo "loopback/$impl: registered transports: $(transports)"

port=15000
"$TOOLS/vsock_test" --mode=server --control-port=$port --peer-cid=1 \
	>"$OUT/vsock_test-server.log" 2>&1 &
server=$!
# The client does not retry its control connection: wait for the listener.
for _ in $(seq 100); do
	grep -q "Control socket listening" "$OUT/vsock_test-server.log" 2>/dev/null && break
	sleep 0.1
done
rc=0
"$TOOLS/vsock_test" --mode=client --control-host=127.0.0.1 --control-port=$port \
	--peer-cid=1 >"$OUT/vsock_test-client.log" 2>&1 || rc=$?
wait $server || rc=$?

# vsock_test stops at the first failing test.  Every started test passed
# except a failing last one; tests never started count as failed.
total=$("$TOOLS/vsock_test" --list | grep -cE '^[0-9]+\s')
started=$(grep -cE '^[0-9]+ - ' "$OUT/vsock_test-client.log" || true)
skipped=$(grep -cE '^[0-9]+ - .*\.\.\.skipped$' "$OUT/vsock_test-client.log" || true)
passed=$((started - skipped))
[ $rc = 0 ] || passed=$((passed > 0 ? passed - 1 : 0))
cat "$OUT/vsock_test-client.log"
[ $rc = 0 ] || echo "vsock_test exited with $rc" >&2
record "vsock_test loopback ($impl)" "$passed" $((total - passed - skipped))
[ "$skipped" = 0 ] || echo "($skipped skipped)"
unload_impl "$impl"
[ $rc = 0 ] && [ "$passed" -gt 0 ]
