# SPDX-License-Identifier: GPL-2.0
# make demo: load our modules, show their self-tests, then a vsock echo over
# the Rust loopback transport (CID 1): socat, then samples/vsock/vsock_echo;
# then a guest (a nested VM under QEMU's vhost-vsock-pci, CID 3) running the
# Rust guest driver talks to this VM, its host (CID 2), with an echo each way.
# The host runs our vhost_vsock_rs when it is built (drivers/vhost/), else
# upstream's vhost_vsock.
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

if [ -f "$(mod_path drivers/vhost/vhost_vsock_rs)" ]; then
	say "a guest with the Rust guest driver, this VM as its host with the Rust vhost backend"
	read -r -a host_mods <<<"$(vhost_mods rust)"
else
	say "a guest with the Rust guest driver, this VM as its host with upstream's vhost_vsock"
	read -r -a host_mods <<<"$(vhost_mods c)"
fi
load_mods "${host_mods[@]}"
echo "host: $(lsmod | awk 'NR > 1 && /vsock|vhost/ { print $1 }' | tr '\n' ' ')"
echo "host: $(grep -wE 'vhost_transport' /proc/kallsyms | head -n 1)"
"$ROOT/samples/vsock/vsock_echo" server 5000 >"$OUT/demo-host-echo.log" 2>&1 &
srv=$!
# The guest loads vsock_rs_common and vsock_rs_virtio, echoes through the
# host's server, then serves port 5001 for the host for 60 s at most.
"$ROOT/tools/testing/vsock-rust/mkinitramfs.sh" "$OUT/demo-l2.cpio.gz" \
	"echo \"guest: \$(lsmod | cut -d\" \" -f1 | grep vsock | tr \"\\n\" \" \")\";
	 grep -w virtio_transport /proc/kallsyms | sed \"s/^/guest: /\";
	 vsock_echo client 2 5000 hello-from-guest || exit 1;
	 vsock_echo server 5001 & sleep 60" \
	"$ROOT/net/vmw_vsock/vsock_rs_common.ko" "$ROOT/net/vmw_vsock/vsock_rs_virtio.ko" \
	-- "$ROOT/samples/vsock/vsock_echo"
timeout 300 qemu-system-x86_64 -accel tcg -m 256M -smp 1 -nographic -no-reboot \
	-kernel "$KDIR/arch/x86/boot/bzImage" -initrd "$OUT/demo-l2.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 oops=panic" \
	-device vhost-vsock-pci,guest-cid=3 </dev/null >"$OUT/demo-l2.log" 2>&1 &
qemu=$!
from_host=
for _ in $(seq 240); do
	if grep -q "sent 'hello-from-guest'" "$OUT/demo-l2.log" 2>/dev/null; then
		from_host=$("$ROOT/samples/vsock/vsock_echo" client 3 5001 hello-from-host 2>&1) && break
	fi
	grep -q "L2-STATUS" "$OUT/demo-l2.log" 2>/dev/null && break
	sleep 0.5
done
kill $qemu 2>/dev/null; wait $qemu 2>/dev/null
kill $srv 2>/dev/null; wait $srv 2>/dev/null
grep -aE "^(guest:|vsock_echo)" "$OUT/demo-l2.log" || true
echo "host: $from_host"
unload_mods "${host_mods[@]}"
if grep -q "got 'hello-from-guest'" "$OUT/demo-l2.log" && grep -q "got 'hello-from-host'" <<<"$from_host" &&
	! grep -qaE "Oops|BUG:|WARNING:|Call Trace" "$OUT/demo-l2.log"; then
	record "demo guest driver echo both ways" 1 0
else
	cat "$OUT/demo-l2.log"
	record "demo guest driver echo both ways" 0 1
	false
fi
