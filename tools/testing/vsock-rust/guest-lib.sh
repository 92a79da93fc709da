# SPDX-License-Identifier: GPL-2.0
# Helpers for the guest side of the VM harness.  Sourced by guest-run.sh;
# KDIR (kernel build), OUT (writable results dir) and ROOT (repo) are set.

TOOLS=$KDIR/vsock-tools

# Modules of each implementation, in load order.
C_MODS=(net/vmw_vsock/vmw_vsock_virtio_transport_common net/vmw_vsock/vsock_loopback)
RUST_MODS=(net/vmw_vsock/vsock_rs_common net/vmw_vsock/vsock_rs_loopback)

guest_setup() {
	# Nothing may autoload: each run picks Rust or C explicitly.
	echo /nonexistent/modprobe >/proc/sys/kernel/modprobe
	ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null || true
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo clear >/sys/kernel/debug/kmemleak
	fi
	dmesg -n 7 2>/dev/null || true
}

guest_teardown() {
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan >/sys/kernel/debug/kmemleak
		sleep 1
		echo scan >/sys/kernel/debug/kmemleak
		cat /sys/kernel/debug/kmemleak >"$OUT/kmemleak.txt"
		if [ -s "$OUT/kmemleak.txt" ]; then
			echo "kmemleak: new suspected memory leaks" >/dev/kmsg
			cat "$OUT/kmemleak.txt"
		fi
	fi
}

# Path of a module of this run: the C ones come from the kernel build, ours
# from the repo (built by 'make modules' against the same kernel).
mod_path() {
	case "$1" in
	net/vmw_vsock/vsock_rs_*|net/vmw_vsock/vsock_rs|drivers/vhost/*_rs) echo "$ROOT/$1.ko" ;;
	*) echo "$KDIR/$1.ko" ;;
	esac
}

load_mods() {
	local m
	for m in "$@"; do
		insmod "$(mod_path "$m")" || { echo "insmod $m failed" >&2; return 1; }
	done
}

unload_mods() {
	local i
	for ((i = $# ; i > 0 ; i--)); do
		# Closed sockets may hold the transport for up to the 8 s close
		# timeout (or their linger time): retry for a while.
		local m t
		m=$(basename "${!i}")
		for t in $(seq 150); do
			rmmod "$m" 2>/dev/null && break
			sleep 0.1
		done
		if lsmod | grep -q "^$m "; then
			rmmod "$m"
			echo "rmmod ${!i} failed" >&2
			return 1
		fi
	done
}

# load_impl c|rust: load one implementation of the loopback stack.
load_impl() {
	case "$1" in
	c) load_mods "${C_MODS[@]}" ;;
	rust) load_mods "${RUST_MODS[@]}" ;;
	*) echo "unknown implementation '$1'" >&2; return 1 ;;
	esac
}

unload_impl() {
	case "$1" in
	c) unload_mods "${C_MODS[@]}" ;;
	rust) unload_mods "${RUST_MODS[@]}" ;;
	esac
}

# Which transports are registered, as vsock_test sees them (kallsyms).
transports() {
	grep -oE ' (loopback|virtio|vhost)_transport\b' /proc/kallsyms | sort -u | tr -d ' ' | tr '\n' ' '
}

# record NAME PASSED FAILED: one line of the run's summary.
record() {
	echo "$1: $2 passed, $3 failed" | tee -a "$OUT/summary"
}
