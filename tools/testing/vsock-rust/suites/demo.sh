# SPDX-License-Identifier: GPL-2.0
# make demo: load our modules, show their self-tests, then a vsock echo over
# loopback (CID 1) with socat.
say() { printf '\n=== %s\n' "$*"; }

say "kernel $(uname -r), vsock-rust modules from $ROOT"
dmesg -c >/dev/null
load_impl rust
lsmod | grep -E '^vsock_rs' || true
say "KUnit results of the Rust modules (run at load):"
dmesg | sed -E 's/^\[ *[0-9.]+\] //' | grep -E '^ *(ok|not ok|# )' || true

# The Rust loopback transport is not there yet: the echo runs on the C one.
say "loading the C loopback transport for the echo"
load_impl c
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
unload_impl c
unload_impl rust
if [ "$reply" = "hello over vsock loopback" ]; then
	record "demo echo" 1 0
else
	record "demo echo" 0 1
	false
fi
