# SPDX-License-Identifier: GPL-2.0
# Helpers for the guest side of the VM harness.  Sourced by guest-run.sh;
# KDIR (kernel build), OUT (writable results dir) and ROOT (repo) are set.

TOOLS=$KDIR/vsock-tools

# Modules of each implementation, in load order.
C_MODS=(net/vmw_vsock/vmw_vsock_virtio_transport_common net/vmw_vsock/vsock_loopback)
RUST_MODS=(net/vmw_vsock/vsock_rs_common net/vmw_vsock/vsock_rs_loopback)
# The guest drivers (virtio-vsock, device 19), in load order.
VIRTIO_C_MODS=(net/vmw_vsock/vmw_vsock_virtio_transport_common net/vmw_vsock/vmw_vsock_virtio_transport)
VIRTIO_RUST_MODS=(net/vmw_vsock/vsock_rs_common net/vmw_vsock/vsock_rs_virtio)

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

# virtio_mods IMPL: the guest driver modules (c or rust), in load order;
# fails for others.
virtio_mods() {
	case "$1" in
	c) echo "${VIRTIO_C_MODS[@]}" ;;
	rust) echo "${VIRTIO_RUST_MODS[@]}" ;;
	*) return 1 ;;
	esac
}

# vhost_mods IMPL: the host-side modules of a vhost backend, in load order
# (c: upstream's vhost_vsock, rust: vhost_vsock_rs); fails for others.
vhost_mods() {
	case "$1" in
	c) echo drivers/vhost/vhost_iotlb drivers/vhost/vhost \
		net/vmw_vsock/vmw_vsock_virtio_transport_common drivers/vhost/vhost_vsock ;;
	rust) echo drivers/vhost/vhost_iotlb drivers/vhost/vhost \
		net/vmw_vsock/vsock_rs_common drivers/vhost/vhost_vsock_rs ;;
	*) return 1 ;;
	esac
}

# l2_mod_path MODULE: a guest module for the nested guest's kernel, from
# l2_kdir and l2_ko, which the suite sets: with l2_ko empty, this kernel's
# (mod_path); else upstream's from the build in l2_kdir and ours from l2_ko
# (built for that kernel).
l2_mod_path() {
	if [ -z "${l2_ko:-}" ]; then
		mod_path "$1"
	else
		case "$1" in
		net/vmw_vsock/vsock_rs_*) echo "$l2_ko/${1##*/}.ko" ;;
		*) echo "$l2_kdir/$1.ko" ;;
		esac
	fi
}

# l2_guest_initrd GUEST INITRD INIT FILE...: the initramfs INITRD of a
# minimal nested guest (L2) with the modules of guest driver GUEST
# (virtio_mods, where l2_mod_path finds them) in load order, INIT as its
# init and the FILEs in /bin.  Fails, saying why on stderr, when GUEST is
# unknown, a module is not built or the archive cannot be made.
l2_guest_initrd() {
	local g=$1 initrd=$2 init=$3 list mods=() m ko=()
	shift 3
	list=$(virtio_mods "$g") || { echo "unknown guest driver '$g' (c or rust)" >&2; return 1; }
	read -r -a mods <<<"$list"
	if m=$(missing_at l2_mod_path "${mods[@]}"); then
		echo "module not built ($m)" >&2
		return 1
	fi
	for m in "${mods[@]}"; do ko+=("$(l2_mod_path "$m")"); done
	"$ROOT/tools/testing/vsock-rust/mkinitramfs.sh" "$initrd" "$init" "${ko[@]}" -- "$@" ||
		{ echo "no initramfs $initrd" >&2; return 1; }
}

# l2_vsock_qemu CONSOLE INITRD [APPEND]: a minimal nested guest's QEMU in
# the background, its pid in $qemu: TCG, 512 MiB, one CPU, no network,
# l2_kdir's kernel (KDIR's if unset) with APPEND added to its command
# line, vhost-vsock-pci with guest CID 3, its console in CONSOLE.
l2_vsock_qemu() {
	qemu-system-x86_64 -accel tcg -m 512M -smp 1 -nographic -no-reboot \
		-nic none -kernel "${l2_kdir:-$KDIR}/arch/x86/boot/bzImage" -initrd "$2" \
		-append "console=ttyS0 quiet panic=-1 oops=panic${3:+ $3}" \
		-device vhost-vsock-pci,guest-cid=3 </dev/null >"$1" 2>&1 &
	qemu=$!
}

# wait_gone PID SECONDS: until PID has exited; 1 if it is still there.
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# outcome LOG: how a vsock_xfer run ended, from its stderr.
outcome() {
	if grep -q "Connection reset by peer" "$1"; then echo ECONNRESET
	elif grep -q "No such device" "$1"; then echo ENODEV
	elif grep -q "end of stream" "$1"; then echo EOF
	elif grep -q "Broken pipe" "$1"; then echo EPIPE
	elif grep -q "timed out\|Resource temporarily unavailable" "$1"; then echo TIMEOUT
	else echo "other: $(tail -n 1 "$1")"
	fi
}

# missing_at PATHFN MODULE...: the first module whose .ko file, as PATHFN
# names it, does not exist (PATHFN: mod_path, or l2_mod_path for L2's).
missing_at() {
	local fn=$1 m
	shift
	for m in "$@"; do
		[ -f "$("$fn" "$m")" ] || { "$fn" "$m"; return 0; }
	done
	return 1
}

# missing MODULE...: the first module of this kernel without a .ko file.
missing() { missing_at mod_path "$@"; }

# A kernel report in a log (the host-side suites check L1's log with it).
SPLAT='(Oops|BUG:|WARNING:|KASAN|kernel BUG|general protection fault|Call Trace:|possible circular locking|possible recursive locking|inconsistent lock state|INFO: lockdep|suspicious RCU usage|rust_panic|panicked at|Kernel panic)'

# leaks: kmemleak's new reports (objects older than its 5 s minimum age),
# cleared afterwards; nothing without kmemleak.
leaks() {
	[ -w /sys/kernel/debug/kmemleak ] || return 0
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	sleep 1
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
}

# vt_known_race LOG...: see vt-races.sh.
. "$(dirname "${BASH_SOURCE[0]}")/vt-races.sh"

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

# load_impl c|rust|alt: load one implementation of the loopback stack (alt:
# the Rust modules in ALT_KO_DIR, another build to compare with).
load_impl() {
	case "$1" in
	c) load_mods "${C_MODS[@]}" ;;
	rust) load_mods "${RUST_MODS[@]}" ;;
	rust-nosteer) # Without receive steering (upstream's worker placement).
		load_mods "${RUST_MODS[0]}" &&
			insmod "$(mod_path "${RUST_MODS[1]}")" steer=0 ;;
	alt) # Another build of the Rust modules, for A/B comparisons.
		local m
		for m in "${RUST_MODS[@]}"; do
			insmod "${ALT_KO_DIR:?ALT_KO_DIR not set}/$(basename "$m").ko" || return 1
		done ;;
	*) echo "unknown implementation '$1'" >&2; return 1 ;;
	esac
}

unload_impl() {
	case "$1" in
	c) unload_mods "${C_MODS[@]}" ;;
	rust|rust-nosteer|alt) unload_mods "${RUST_MODS[@]}" ;;
	esac
}

# The virtio-vsock device (device ID 19): its sysfs directory; fails
# without one.
vsock_dev_dir() {
	local d
	for d in /sys/bus/virtio/devices/*; do
		[ "$(cat "$d/device" 2>/dev/null)" = 0x0013 ] && { echo "$d"; return 0; }
	done
	return 1
}

# The virtio-vsock device's name (virtioN), for .../drivers/NAME/unbind.
vsock_dev() {
	local d
	d=$(vsock_dev_dir) && basename "$d"
}

# The driver bound to the virtio-vsock device (device ID 19), if any.
vsock_dev_driver() {
	local d
	d=$(vsock_dev_dir) || return 1
	[ -e "$d/driver" ] && basename "$(readlink "$d/driver")"
	return 0
}

# load_guest_driver c|rust: the guest driver of a VM with a virtio-vsock
# device.  udev loads the C driver at boot (autoloading is off only later):
# a Rust run needs modprobe.blacklist=vmw_vsock_virtio_transport,
# vmw_vsock_virtio_transport_common on the kernel command line.
load_guest_driver() {
	vsock_dev_driver >/dev/null || { echo "no virtio-vsock device" >&2; return 1; }
	case "$1" in
	c) [ -d /sys/module/vmw_vsock_virtio_transport ] || load_mods "${VIRTIO_C_MODS[@]}" ;;
	rust)
		if [ -d /sys/module/vmw_vsock_virtio_transport ] ||
			[ -d /sys/module/vmw_vsock_virtio_transport_common ]; then
			echo "the C guest driver is loaded: not blacklisted on the command line?" >&2
			return 1
		fi
		load_mods "${VIRTIO_RUST_MODS[@]}" ;;
	*) echo "unknown guest driver '$1'" >&2; return 1 ;;
	esac
	local drv="" i
	for i in $(seq 50); do
		drv=$(vsock_dev_driver)
		[ -n "$drv" ] && break
		sleep 0.1
	done
	echo "guest driver ($1): ${drv:-none} bound to the virtio-vsock device; transports: $(transports)"
	[ -n "$drv" ]
}

unload_guest_driver() {
	case "$1" in
	c) unload_mods "${VIRTIO_C_MODS[@]}" ;;
	rust) unload_mods "${VIRTIO_RUST_MODS[@]}" ;;
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

# run_upstream TOOL LABEL SERVER_NS CLIENT_NS [ARGS...]: run an upstream
# vsock test tool (vsock_test, vsock_diag_test, vsock_uring_test) as server
# and client over the loopback transport (peer CID 1), each in the given
# network namespace ("" for this one), and record "LABEL: N passed, M
# failed".  Across namespaces the TCP control connection is bridged through
# a Unix socket (filesystem sockets ignore network namespaces).
run_upstream() {
	local tool=$1 label=$2 sns=$3 cns=$4
	shift 4
	local sx=() cx=() port=15000 bridge=() name n=1
	# Logs NAME-client.log and NAME-server.log; a later run of the same
	# tool in this VM (the debug suite runs several) gets NAME-2, NAME-3...
	name=$(basename "$tool")
	while [ -e "$OUT/$name-client.log" ]; do
		n=$((n + 1))
		name=$(basename "$tool")-$n
	done
	[ -z "$sns" ] || sx=(ip netns exec "$sns")
	[ -z "$cns" ] || cx=(ip netns exec "$cns")
	"${sx[@]}" "$tool" --mode=server --control-port=$port --peer-cid=1 "$@" \
		>"$OUT/$name-server.log" 2>&1 &
	local server=$!
	# The client does not retry its control connection: wait for the listener.
	local i
	for i in $(seq 100); do
		grep -q "Control socket listening" "$OUT/$name-server.log" 2>/dev/null && break
		sleep 0.1
	done
	if [ "$sns" != "$cns" ]; then
		local sock=$OUT/$name-control.sock
		rm -f "$sock"
		"${sx[@]}" socat UNIX-LISTEN:"$sock",fork TCP:127.0.0.1:$port &
		bridge+=($!)
		"${cx[@]}" socat TCP-LISTEN:$((port + 1)),reuseaddr,fork UNIX-CONNECT:"$sock" &
		bridge+=($!)
		port=$((port + 1))
		# Wait until both ends of the bridge listen (slow on debug kernels).
		local hex
		hex=$(printf ':%04X 00000000:0000 0A' $port)
		for i in $(seq 300); do
			[ -S "$sock" ] && "${cx[@]}" grep -q "$hex" /proc/net/tcp && break
			sleep 0.1
		done
	fi
	local rc=0
	"${cx[@]}" "$tool" --mode=client --control-host=127.0.0.1 --control-port=$port \
		--peer-cid=1 "$@" >"$OUT/$name-client.log" 2>&1 || rc=$?
	# A client that never reached the server leaves it waiting: stop it.
	[ $rc = 0 ] || kill $server 2>/dev/null
	wait $server || rc=$?
	[ ${#bridge[@]} = 0 ] || { kill "${bridge[@]}" 2>/dev/null; wait "${bridge[@]}" 2>/dev/null; }
	cat "$OUT/$name-client.log"
	[ $rc = 0 ] || { echo "$name exited with $rc; server log:" >&2; cat "$OUT/$name-server.log" >&2; }
	count_upstream "$tool" "$OUT/$name-client.log" $rc "$label"
}

# count_upstream TOOL CLIENT_LOG RC LABEL: record "LABEL: N passed, M
# failed" for a run of an upstream tool whose client printed CLIENT_LOG and
# exited with RC.  The tools stop at the first failing test: every started
# test passed except a failing last one; tests never started count as
# failed, skipped ones (--skip) as neither.
count_upstream() {
	local tool=$1 log=$2 rc=$3 label=$4
	local total started skipped passed
	started=$(grep -cE '^[0-9]+ - ' "$log" || true)
	# vsock_uring_test has no --list: its total is what it started.
	total=$("$tool" --list 2>/dev/null | grep -cE '^[0-9]+\s' || true)
	[ "$total" -gt 0 ] || total=$started
	skipped=$(grep -cE '^[0-9]+ - .*\.\.\.skipped$' "$log" || true)
	passed=$((started - skipped))
	[ $rc = 0 ] || passed=$((passed > 0 ? passed - 1 : 0))
	[ "$skipped" = 0 ] || echo "($skipped skipped)"
	record "$label" "$passed" $((total - passed - skipped))
	[ $rc = 0 ] && [ "$passed" -gt 0 ]
}

# Network namespaces as upstream's vmtest.sh makes them: global0/global1
# children of a global-mode parent, local0/local1 of a local-mode one.
add_namespaces() {
	ip netns add global-parent
	echo global | ip netns exec global-parent tee /proc/sys/net/vsock/child_ns_mode >/dev/null
	ip netns add local-parent
	echo local | ip netns exec local-parent tee /proc/sys/net/vsock/child_ns_mode >/dev/null
	nsenter --net=/var/run/netns/global-parent ip netns add global0
	nsenter --net=/var/run/netns/global-parent ip netns add global1
	nsenter --net=/var/run/netns/local-parent ip netns add local0
	nsenter --net=/var/run/netns/local-parent ip netns add local1
	local ns
	for ns in global0 global1 local0 local1; do
		ip netns exec $ns ip link set dev lo up
	done
}

del_namespaces() {
	local ns
	for ns in global0 global1 local0 local1 global-parent local-parent; do
		ip netns del $ns 2>/dev/null || true
	done
}
