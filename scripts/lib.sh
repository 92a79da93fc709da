# SPDX-License-Identifier: GPL-2.0
# Shared settings for vsock-rust scripts.  Source it, don't run it.

VSOCK_RUST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${VSOCK_RUST_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/vsock-rust}"
: "${KSRC_TARBALL:=/usr/src/linux-source-7.2.tar.xz}"
: "${LLVM_SUFFIX:=-19}"
: "${LIBCLANG_PATH:=/usr/lib/llvm-19/lib}"
export LIBCLANG_PATH
export PATH="$HOME/.cargo/bin:$HOME/.local/bin:$PATH"
# rust-vmm's vhost-user vsock device (installed by install-deps.sh).
: "${VHOST_DEVICE_VSOCK_VERSION:=0.3.0}"
: "${VHOST_DEVICE_VSOCK:=$VSOCK_RUST_CACHE/cargo-bin/bin/vhost-device-vsock}"

log() { printf '[vsock-rust] %s\n' "$*" >&2; }
die() { printf '[vsock-rust] error: %s\n' "$*" >&2; exit 1; }
