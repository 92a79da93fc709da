# SPDX-License-Identifier: GPL-2.0
# make demo: load our modules, show their self-tests, then a vsock echo over
# the Rust loopback transport (CID 1): socat, then samples/vsock/vsock_echo.
say() { printf '\n=== %s\n' "$*"; }

say "kernel $(uname -r), vsock-rust modules from $ROOT"
dmesg -c >/dev/null
load_impl rust
lsmod | grep -E '^vsock_rs' || true
say "KUnit results of the Rust modules (run at load):"
dmesg | sed -E 's/^\[ *[0-9.]+\] //' | grep -E '^ *(ok|not ok|# )' || true

echo "registered transports: $(transports)"

say "echo server: socat VSOCK-LISTEN:5000 -> cat"
socat VSOCK-LISTEN:5000,reuseaddr,fork EXEC:cat &
srv=$!
for _ in $(seq 50); do
	reply=$(echo "hello over vsock loopback" | timeout 5 socat - VSOCK-CONNECT:1:5000 2>/dev/null) && break
	sleep 0.2
done
kill $srv 2>/dev/null; wait $srv 2>/dev/null
say "client sent 'hello over vsock loopback', got back: '$reply'"

say "samples/vsock/vsock_echo: server on port 5001, client sends 'hello-from-sample'"
"$ROOT/samples/vsock/vsock_echo" server 5001 &
srv=$!
sleep 0.3
sample=$("$ROOT/samples/vsock/vsock_echo" client 1 5001 hello-from-sample 2>&1) || true
kill $srv 2>/dev/null; wait $srv 2>/dev/null
echo "$sample"
unload_impl rust
if [ "$reply" = "hello over vsock loopback" ] && echo "$sample" | grep -q "got 'hello-from-sample'"; then
	record "demo echo" 1 0
else
	record "demo echo" 0 1
	false
fi
