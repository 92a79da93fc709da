#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything vsock-rust needs on a Debian 12 (bookworm) machine:
# the LLVM 19 toolchain, bindgen, rust-src, QEMU, virtme-ng, the Linux 7.2
# source package, the small tools the VM harness uses and libbpf (the sockmap
# test).
#
# Idempotent: already present pieces are skipped.  Without root (or on another
# distribution) it prints what is missing and how to get it, and fails.
set -euo pipefail

. "$(dirname "$0")/lib.sh"

APT_PKGS=(clang-19 lld-19 llvm-19 libclang-19-dev flex bison bc libelf-dev
          libssl-dev cpio busybox-static socat liburing-dev xz-utils
          python3-pip rsync kmod file udev iproute2 python3-matplotlib
          libbpf-dev)
# Packages taken from backports suites (named explicitly, nothing else moves).
BPO12_PKGS=(qemu-system-x86)
TRIXIE_BPO_PKGS=(linux-source-7.2)

missing_apt=()
for p in "${APT_PKGS[@]}" "${BPO12_PKGS[@]}" "${TRIXIE_BPO_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing_apt+=("$p")
done

if [ ${#missing_apt[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		die "missing packages: ${missing_apt[*]}
  On Debian 12 run this script as root; it adds bookworm-backports and
  trixie-backports (pinned at priority 100, so only the packages named here
  come from them).  Elsewhere install the equivalents: LLVM/Clang 19 with lld
  and libclang, QEMU >= 8, busybox (static), socat, liburing, flex, bison,
  bc, libelf, libssl headers, cpio, libbpf (headers and library), and the
  Linux 7.2 source tarball as /usr/src/linux-source-7.2.tar.xz (or set
  KSRC_TARBALL)."
	fi
	src=/etc/apt/sources.list.d/vsock-rust-extra.sources
	if [ ! -f "$src" ]; then
		log "adding bookworm-backports, trixie and trixie-backports (pinned low)"
		cat >"$src" <<'EOS'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports trixie trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
		cat >/etc/apt/preferences.d/vsock-rust-pin <<'EOS'
Package: *
Pin: release n=trixie
Pin-Priority: 100

Package: *
Pin: release n=trixie-backports
Pin-Priority: 100
EOS
	fi
	log "apt-get install ${missing_apt[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${APT_PKGS[@]}" >/dev/null
	apt-get install -y -q --no-install-recommends -t bookworm-backports "${BPO12_PKGS[@]}" >/dev/null
	apt-get install -y -q --no-install-recommends -t trixie-backports "${TRIXIE_BPO_PKGS[@]}" >/dev/null
fi

# Rust: the kernel wants rust-src and bindgen-cli.
command -v rustup >/dev/null || die "rustup not found: install it from your distribution or rustup.rs"
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	log "rustup component add rust-src"
	rustup component add rust-src
fi
if ! command -v bindgen >/dev/null || ! bindgen --version | grep -q '0\.7[2-9]'; then
	log "cargo install bindgen-cli 0.73"
	LIBCLANG_PATH=$LIBCLANG_PATH cargo install --locked --version 0.73.0 bindgen-cli
fi

# rust-vmm's vhost-device-vsock: a second, independent vhost-user device for
# the guest drivers (make vhostuser).  Into the cache, not ~/.cargo/bin.
if [ ! -x "$VHOST_DEVICE_VSOCK" ] ||
	! "$VHOST_DEVICE_VSOCK" --version 2>/dev/null | grep -qF " $VHOST_DEVICE_VSOCK_VERSION"; then
	log "cargo install vhost-device-vsock $VHOST_DEVICE_VSOCK_VERSION into $VSOCK_RUST_CACHE/cargo-bin"
	mkdir -p "$VSOCK_RUST_CACHE"
	# In a temporary target dir, not the project's CARGO_TARGET_DIR.
	env -u CARGO_TARGET_DIR cargo install --locked --root "$VSOCK_RUST_CACHE/cargo-bin" \
		--version "$VHOST_DEVICE_VSOCK_VERSION" vhost-device-vsock
	[ -x "$VHOST_DEVICE_VSOCK" ] || die "cargo install vhost-device-vsock did not give $VHOST_DEVICE_VSOCK"
fi

# virtme-ng from PyPI (Debian 12 has none).
if ! command -v vng >/dev/null; then
	log "pip install virtme-ng"
	pip3 install -q "virtme-ng==1.38" || pip3 install -q virtme-ng
fi
command -v vng >/dev/null || die "vng is not on PATH after installing virtme-ng"

[ -f "$KSRC_TARBALL" ] || die "kernel source $KSRC_TARBALL not found (apt-get install -t trixie-backports linux-source-7.2)"
log "dependencies present"
