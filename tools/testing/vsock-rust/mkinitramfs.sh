#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the initramfs of the nested (L2) guest: static busybox, the vsock
# modules it should load, static test programs and an /init that runs one
# command and powers off.
#
#   mkinitramfs.sh OUT.cpio.gz CMD MODULE.ko... [-- FILE...]
#
# MODULE.ko files are loaded in order at boot; FILEs are copied to /bin.
# CMD runs under /bin/sh; its exit status is printed as "L2-STATUS: N".
set -euo pipefail
out=$1 cmd=$2
shift 2
mods=() files=()
while [ $# -gt 0 ]; do
	[ "$1" = -- ] && { shift; files=("$@"); break; }
	mods+=("$1"); shift
done
busybox=$(command -v busybox) || { echo "busybox not found (busybox-static)" >&2; exit 1; }
file -L "$busybox" | grep -q 'statically linked' || { echo "$busybox is not static" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$busybox" "$root/bin/busybox"
for f in "${files[@]}"; do cp "$f" "$root/bin/"; done
for m in "${mods[@]}"; do cp "$m" "$root/lib/modules/"; done
printf '%s\n' "${mods[@]##*/}" >"$root/lib/modules/order"
cat >"$root/init" <<EOS
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "L2-UP: \$(cut -d' ' -f1 /proc/uptime)"
for m in \$(cat /lib/modules/order); do insmod /lib/modules/\$m || echo "L2: insmod \$m failed"; done
sh -c '$cmd'
echo "L2-STATUS: \$?"
dmesg | grep -E 'Oops|BUG:|WARNING:|KASAN|Call Trace' && echo "L2-SPLAT"
poweroff -f
EOS
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
