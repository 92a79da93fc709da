#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Static builds of upstream's vsock tools, for nested L2 guests (a busybox
# initramfs without a C library): vsock_test (suite pair) and vsock_perf
# (the benchmark's guest rows; with one edit to its receiver, below).
#
#   scripts/build-static-tools.sh KDIR
#
# KDIR is a kernel build of scripts/build-kernel.sh: its copy of
# tools/testing/vsock (tools-build/, against the build's UAPI headers) is
# built again with -static into KDIR/vsock-tools-static/, outside the repo.
# Idempotent: a finished build is reused ('make modules' runs this).  A
# separate script and not a step of build-kernel.sh, whose own hash names
# the kernel build (any edit there means a new kernel build).  The last line
# printed is the tools dir.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ $# = 1 ] || die "usage: build-static-tools.sh KDIR"
kdir=$1
src=$kdir/tools-build/tools/testing/vsock
[ -f "$src/vsock_test.c" ] || die "no tools/testing/vsock in $kdir: run scripts/build-kernel.sh"
out=$kdir/vsock-tools-static
tools=(vsock_test vsock_perf)

# One edit to upstream's source (below).  The stamp .edits names it and
# the checksum of the vsock_perf it built, so that a build made without it
# (by an older checkout sharing the kernel build directory, say) or with an
# older form of it is not reused.
EDITS="vsock_perf-drain-1"
stamp() { echo "$EDITS $(cksum <"$out/vsock_perf")"; }

# built: every tool is there, no newer than its sources, with the edit.
built() {
	local t
	[ -f "$out/vsock_perf" ] && [ "$(cat "$out/.edits" 2>/dev/null)" = "$(stamp)" ] || return 1
	for t in "${tools[@]}"; do
		[ -x "$out/$t" ] || return 1
		[ -z "$(find "$src" -name '*.[ch]' -newer "$out/$t")" ] || return 1
	done
}

if ! built; then
	# One build per kernel dir at a time (several worktrees share it).
	exec 9>"$kdir/.static-tools.lock"
	flock 9
	if ! built; then
		log "building static ${tools[*]} in $out"
		b=$kdir/tools-build-static
		rm -rf "$b"
		mkdir -p "$b/tools/testing" "$out"
		cp -r "$src" "$b/tools/testing/"
		cp -r "$kdir/tools-build/tools/include" "$b/tools/"
		# Its Makefile takes the UAPI headers from ../../../usr/include.
		ln -sfn "$kdir/usr" "$b/usr"
		# The edit: vsock_perf's receiver ends its loop at the first
		# poll() that reports the peer's shutdown, after one read() of
		# at most --buf-size bytes, although the data sent before the
		# shutdown may still be queued; its total and rate then leave
		# that data out.  A 256 KiB transfer into 64 KiB guest buffers
		# read 4 KiB at a time counted a few KiB: "0.007 Gbit/s".  With
		# the edit it leaves on a hang-up only with nothing to read; as
		# vsock reports POLLIN with every hang-up of a connected socket,
		# it ends at the end of the stream (read() returns 0), so every
		# byte sent is counted, and the benchmark checks that it was.
		perf_c=$b/tools/testing/vsock/vsock_perf.c
		hup='if (fds.revents & (POLLHUP | POLLRDHUP))'
		[ "$(grep -cF "$hup" "$perf_c")" = 1 ] ||
			die "vsock_perf.c: expected one '$hup' (the receiver's loop)"
		sed -i 's/if (fds\.revents & (POLLHUP | POLLRDHUP))$/if ((fds.revents \& (POLLHUP | POLLRDHUP)) \&\& !(fds.revents \& POLLIN))/' "$perf_c"
		grep -qF '&& !(fds.revents & POLLIN))' "$perf_c" || die "vsock_perf.c: the edit did not apply"
		make -s -C "$b/tools/testing/vsock" clean >/dev/null
		make -s -C "$b/tools/testing/vsock" -j"$(nproc)" LDFLAGS=-static "${tools[@]}" \
			>"$b.log" 2>&1 || {
			tail -20 "$b.log" >&2
			die "building static ${tools[*]} failed (log $b.log)"
		}
		# glibc warns that getaddrinfo() needs its shared NSS modules at
		# run time: not for numeric addresses and ports, all the tests use.
		for t in "${tools[@]}"; do
			file -L "$b/tools/testing/vsock/$t" | grep -q 'statically linked' ||
				die "$t is not static"
			# Stripped: it goes into every nested guest's initramfs.
			install -s -m 755 "$b/tools/testing/vsock/$t" "$out/$t.tmp"
			mv "$out/$t.tmp" "$out/$t"
		done
		stamp >"$out/.edits"
	fi
fi
echo "$out"
