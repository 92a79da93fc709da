#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Static builds of upstream's vsock tools, for the nested L2 guest of the
# benchmark (a busybox initramfs without a C library).
#
#   scripts/build-static-tools.sh KDIR
#
# KDIR is a kernel build of scripts/build-kernel.sh: its copy of
# tools/testing/vsock (tools-build/, against the build's UAPI headers) is
# built again with -static into KDIR/vsock-tools-static/, outside the repo.
# Idempotent: a finished build is reused.  A separate script and not a step
# of build-kernel.sh, whose own hash names the kernel build (any edit there
# means a new kernel build).  The last line printed is the tools dir.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# = 1 ] || die "usage: build-static-tools.sh KDIR"
kdir=$1
src=$kdir/tools-build/tools/testing/vsock
[ -f "$src/vsock_perf.c" ] || die "no tools/testing/vsock in $kdir: run scripts/build-kernel.sh"
out=$kdir/vsock-tools-static

# Rebuild when a source is newer than the binary.
if [ ! -x "$out/vsock_perf" ] || [ -n "$(find "$src" -name '*.[ch]' -newer "$out/vsock_perf")" ]; then
	exec 9>"$kdir/.static-tools.lock"
	flock 9
	log "building static vsock_perf in $out"
	b=$kdir/tools-build-static
	rm -rf "$b"
	mkdir -p "$b/tools/testing" "$out"
	cp -r "$src" "$b/tools/testing/"
	cp -r "$kdir/tools-build/tools/include" "$b/tools/"
	ln -sfn "$kdir/usr" "$b/usr"
	make -s -C "$b/tools/testing/vsock" clean >/dev/null
	make -s -C "$b/tools/testing/vsock" LDFLAGS=-static vsock_perf >"$b.log" 2>&1 || {
		tail -20 "$b.log" >&2
		die "building static vsock_perf failed (log $b.log)"
	}
	file -L "$b/tools/testing/vsock/vsock_perf" | grep -q 'statically linked' ||
		die "vsock_perf is not static"
	install -m 755 "$b/tools/testing/vsock/vsock_perf" "$out/vsock_perf.tmp"
	mv "$out/vsock_perf.tmp" "$out/vsock_perf"
fi
echo "$out"
