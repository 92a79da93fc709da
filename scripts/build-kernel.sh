#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the Linux 7.2 test kernel and upstream's vsock test tools.
#
#   scripts/build-kernel.sh [default|debug]
#
# The source comes from Debian's linux-source-7.2 tarball and is unpacked once
# into the cache.  The kernel is configured from allnoconfig plus the committed
# fragments in scripts/kconfig/ and built with LLVM into
#   $VSOCK_RUST_CACHE/build-<kernel version>-<variant>-<hash>
# where the hash covers the fragments, this script and the toolchain versions.
# A finished build is reused.  The last line printed on stdout is the build dir.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=${1:-default}
case "$variant" in
default) frags=(base vsock) ;;
debug) frags=(base vsock debug) ;;
*) die "unknown kernel variant '$variant' (default or debug)" ;;
esac

[ -f "$KSRC_TARBALL" ] || die "$KSRC_TARBALL not found: run scripts/install-deps.sh (or set KSRC_TARBALL)"
for t in clang$LLVM_SUFFIX ld.lld$LLVM_SUFFIX bindgen rustc; do
	command -v "$t" >/dev/null || die "$t not found: run scripts/install-deps.sh"
done
mkdir -p "$VSOCK_RUST_CACHE"
avail_kb=$(df -Pk "$VSOCK_RUST_CACHE" | awk 'NR==2 {print $4}')
[ "$avail_kb" -gt $((8 * 1024 * 1024)) ] || die "less than 8 GiB free in $VSOCK_RUST_CACHE: free some space or set VSOCK_RUST_CACHE"

# Unpack the source once; the tarball's size and mtime name the tree.
tb_id=$(stat -c '%s-%Y' "$KSRC_TARBALL")
src=$VSOCK_RUST_CACHE/src-$tb_id
if [ ! -f "$src/.vsock-rust-unpacked" ]; then
	log "unpacking $KSRC_TARBALL"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "$KSRC_TARBALL" -C "$src.tmp" --strip-components=1
	mv "$src.tmp" "$src"
	touch "$src/.vsock-rust-unpacked"
fi
kver=$(make -s -C "$src" kernelversion)
frag_files=()
for f in "${frags[@]}"; do frag_files+=("$VSOCK_RUST_ROOT/scripts/kconfig/$f.config"); done

hash=$( {
	cat "${frag_files[@]}" "$0"
	echo "$tb_id"
	clang$LLVM_SUFFIX --version | head -1
	rustc --version
	bindgen --version
} | sha256sum | cut -c1-12)
out=$VSOCK_RUST_CACHE/build-$kver-$variant-$hash
kmake=(make -C "$src" O="$out" LLVM="$LLVM_SUFFIX" -j"$(nproc)")

# One build per tree at a time: concurrent callers wait for it.
mkdir -p "$VSOCK_RUST_CACHE"
exec 9>"$VSOCK_RUST_CACHE/.build-$kver-$variant-$hash.lock"
flock 9

if [ ! -f "$out/.vsock-rust-built" ]; then
	mkdir -p "$out"
	cat "${frag_files[@]}" >"$out/fragment.config"
	log "configuring $kver ($variant) in $out"
	"${kmake[@]}" -s rustavailable >/dev/null 2>"$out/rustavailable.log" ||
		die "the Rust toolchain is not usable for this kernel:
$(cat "$out/rustavailable.log")"
	"${kmake[@]}" -s KCONFIG_ALLCONFIG="$out/fragment.config" allnoconfig >/dev/null
	# Every symbol a fragment asks for must have survived dependency resolution.
	bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) sym=${line%%=*}
			grep -q "^$sym=" "$out/.config" && { log "config: $sym is set, fragment wants it off"; bad=1; } ;;
		CONFIG_*) grep -qxF "$line" "$out/.config" || { log "config: '$line' not in .config ($(grep "^${line%%=*}=" "$out/.config" || echo unset))"; bad=1; } ;;
		esac
	done <"$out/fragment.config"
	[ $bad = 0 ] || die "kernel config fragments do not apply to $kver (see above)"
	log "building $kver ($variant), about 10-15 minutes on 2 cores"
	start=$(date +%s)
	"${kmake[@]}" -s bzImage modules headers >"$out/build.log" 2>&1 || {
		tail -40 "$out/build.log" >&2
		die "kernel build failed, full log in $out/build.log"
	}
	echo "$(( $(date +%s) - start ))" >"$out/build-seconds"
	touch "$out/.vsock-rust-built"
	log "kernel built in $(cat "$out/build-seconds") s"
fi

# Upstream's vsock test tools, built against this kernel's UAPI headers.
tools=$out/vsock-tools
if [ ! -x "$tools/vsock_test" ]; then
	log "building tools/testing/vsock"
	rm -rf "$out/tools-build"
	mkdir -p "$out/tools-build/tools/testing" "$tools"
	cp -r "$src/tools/testing/vsock" "$out/tools-build/tools/testing/"
	cp -r "$src/tools/include" "$out/tools-build/tools/"
	ln -sfn "$out/usr" "$out/tools-build/usr"
	make -s -C "$out/tools-build/tools/testing/vsock" -j"$(nproc)" all test >"$out/tools-build.log" 2>&1 || {
		tail -20 "$out/tools-build.log" >&2
		die "building the vsock test tools failed"
	}
	install -m 755 "$out"/tools-build/tools/testing/vsock/{vsock_test,vsock_diag_test,vsock_uring_test,vsock_perf} "$tools/"
fi
echo "$out"
