# SPDX-License-Identifier: GPL-2.0
# A nested guest: QEMU inside this VM boots a minimal L2 (same small kernel,
# busybox initramfs) with -device vhost-vsock-pci.  This VM is the host side
# (vhost), L2 the guest side (virtio).  L2 connects to CID 2 and the echo
# server here answers.  Arguments: host and guest implementations (c only so
# far).
host_impl=${1:-c}
guest_impl=${2:-c}


load_mods drivers/vhost/vhost_iotlb drivers/vhost/vhost net/vmw_vsock/vmw_vsock_virtio_transport_common drivers/vhost/vhost_vsock
[ -c /dev/vhost-vsock ] || { echo "no /dev/vhost-vsock" >&2; false; }

echo=$ROOT/samples/vsock/vsock_echo
"$echo" server 5000 >"$OUT/echo-server.log" 2>&1 &
server=$!

"$ROOT/tools/testing/vsock-rust/mkinitramfs.sh" "$OUT/l2.cpio.gz" \
	"dmesg | tail -20; vsock_echo client 2 5000 hello-from-L2; grep -E \"virtio|vsock\" /proc/kallsyms | grep -c transport" \
	"$ROOT/net/vmw_vsock/vsock_rs_common.ko" \
	"$ROOT/net/vmw_vsock/vsock_rs_virtio.ko" -- "$echo"

start=$(date +%s.%N)
timeout 600 qemu-system-x86_64 -accel tcg -m 256M -smp 1 -nographic -no-reboot \
	-kernel "$KDIR/arch/x86/boot/bzImage" -initrd "$OUT/l2.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 oops=panic" \
	-device vhost-vsock-pci,guest-cid=3 </dev/null >"$OUT/l2-console.log" 2>&1 || true
end=$(date +%s.%N)
kill $server 2>/dev/null; wait $server 2>/dev/null || true
cat "$OUT/l2-console.log"

up=$(sed -nE 's/.*L2-UP: ([0-9.]+).*/\1/p' "$OUT/l2-console.log")
echo "nested: L2 reached /init after ${up:-?} s of L2 uptime; whole L2 run $(echo "$end - $start" | bc) s"
unload_mods drivers/vhost/vhost_iotlb drivers/vhost/vhost net/vmw_vsock/vmw_vsock_virtio_transport_common drivers/vhost/vhost_vsock
if grep -q "L2-STATUS: 0" "$OUT/l2-console.log" && ! grep -q "L2-SPLAT" "$OUT/l2-console.log"; then
	record "nested L2 echo (host $host_impl, guest $guest_impl)" 1 0
else
	record "nested L2 echo (host $host_impl, guest $guest_impl)" 0 1
	false
fi
