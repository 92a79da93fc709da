# SPDX-License-Identifier: GPL-2.0
# Shared settings for vsock-rust scripts.  Source it, don't run it.

VSOCK_RUST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${VSOCK_RUST_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/vsock-rust}"
: "${KSRC_TARBALL:=/usr/src/linux-source-7.2.tar.xz}"
: "${LLVM_SUFFIX:=-19}"
: "${LIBCLANG_PATH:=/usr/lib/llvm-19/lib}"
export LIBCLANG_PATH
export PATH="$HOME/.cargo/bin:$HOME/.local/bin:$PATH"

log() { printf '[vsock-rust] %s\n' "$*" >&2; }
die() { printf '[vsock-rust] error: %s\n' "$*" >&2; exit 1; }
