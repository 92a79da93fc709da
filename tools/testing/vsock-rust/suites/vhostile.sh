# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# A hostile guest against each vhost-vsock backend, in one VM and no
# nested guest: progs/vhostile is its own VMM (it opens /dev/vhost-vsock,
# sets up memory and vrings in its own address space) and plays a guest
# that sends malformed and abusive traffic to AF_VSOCK sockets of this VM
# (the host, CID 2).  See progs/vhostile/vhostile.c for the cases and what
# upstream's C backend does with each.
#
#   vhostile.sh HOST...
#
# HOST: c (vhost_vsock) or rust (vhost_vsock_rs; skipped with a note when
# its .ko is not built).  Per backend it records
#
#   vhostile host=H: N passed, N failed
#     the program's cases, plus one for the kernel log of the run (no Oops,
#     WARNING, BUG, KASAN, lockdep report; on the debug kernel also no
#     kmemleak report after the backend is unloaded).
[ $# -gt 0 ] || set -- c rust
prog=$ROOT/tools/testing/vsock-rust/progs/vhostile/vhostile
[ -x "$prog" ] || { echo "no $prog (make modules builds it)" >&2; exit 1; }


status=0
for h in "$@"; do
	case "$h" in
	c) mods=(drivers/vhost/vhost_iotlb drivers/vhost/vhost
		net/vmw_vsock/vmw_vsock_virtio_transport_common drivers/vhost/vhost_vsock) ;;
	rust) mods=(drivers/vhost/vhost_iotlb drivers/vhost/vhost
		net/vmw_vsock/vsock_rs_common drivers/vhost/vhost_vsock_rs) ;;
	*) echo "vhostile: unknown backend '$h' (c or rust)" >&2; status=1; continue ;;
	esac
	if m=$(missing "${mods[@]}"); then
		echo "vhostile host=$h: skipped, module not built ($m)" | tee -a "$OUT/summary"
		continue
	fi
	echo "=== vhostile: backend $h"
	leaks >/dev/null
	dmesg -C
	load_mods "${mods[@]}" || { record "vhostile host=$h" 0 1; status=1; continue; }
	[ -c /dev/vhost-vsock ] || { echo "no /dev/vhost-vsock" >&2; record "vhostile host=$h" 0 1; status=1; continue; }
	t0=$(date +%s)
	rc=0
	"$prog" "$h" >"$OUT/vhostile-$h.log" 2>&1 || rc=$?
	t1=$(date +%s)
	cat "$OUT/vhostile-$h.log"
	unload_mods "${mods[@]}" || status=1
	line=$(sed -nE "s/^vhostile $h: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p" "$OUT/vhostile-$h.log")
	read -r p f <<<"${line:-0 1}"
	dmesg >"$OUT/vhostile-$h-dmesg.txt"
	leaks >"$OUT/vhostile-$h-kmemleak.txt"
	kern=ok
	if grep -aEq "$SPLAT" "$OUT/vhostile-$h-dmesg.txt"; then
		kern="kernel log: $(grep -aE -m 1 "$SPLAT" "$OUT/vhostile-$h-dmesg.txt")"
	elif [ -s "$OUT/vhostile-$h-kmemleak.txt" ]; then
		kern="kmemleak: $(grep -c unreferenced "$OUT/vhostile-$h-kmemleak.txt") objects"
		head -40 "$OUT/vhostile-$h-kmemleak.txt"
	fi
	if [ "$kern" = ok ]; then
		echo "vhostile: kernel_log ok ($([ -w /sys/kernel/debug/kmemleak ] && echo "kmemleak clean" || echo "no kmemleak"))"
		p=$((p + 1))
	else
		echo "vhostile: kernel_log FAIL $kern"
		f=$((f + 1))
	fi
	echo "vhostile host=$h: program exit $rc, $((t1 - t0)) s" | tee -a "$OUT/summary"
	record "vhostile host=$h" "$p" "$f"
	[ "$f" = 0 ] || status=1
done
[ $status = 0 ]
