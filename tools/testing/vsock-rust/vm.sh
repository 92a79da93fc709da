#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the test kernel under virtme-ng (TCG) and run one guest suite in it.
#
#   vm.sh KDIR SUITE [ARGS...]
#
# SUITE is a script in suites/ (without .sh); it runs as root inside the VM
# with guest-lib.sh sourced and writes its results to $OUT.  The VM run fails
# when the suite fails, when the VM does not finish in $VM_TIMEOUT seconds, or
# when the kernel log shows an oops, WARN, BUG, KASAN, lockdep or kmemleak
# report.  The console log is kept in $VSOCK_RUST_CACHE/runs/.
#
# Environment: VM_TIMEOUT (default 900), VM_MEMORY (2G), VM_CPUS (2),
# VM_KVM=1 to use /dev/kvm (off by default: it is much slower here than TCG),
# VM_ICOUNT=SHIFT for deterministic instruction-counted time (see below),
# VM_SHOW=1 to print the suite's output, VM_ENV="NAME ..." to pass
# those variables to the suite.  For vhost-user devices (vhost-user.sh):
# VM_OUT=DIR as the results dir (default: a new one in the cache),
# VM_NUMA=1 for guest memory QEMU can share (a memfd backend: vng --numa),
# VM_QEMU_OPTS="..." for more QEMU options, VM_APPEND="..." for more kernel
# parameters.  VM_INSNPROF=1: QEMU runs bench/insnprof.so (an instruction
# profile of the VM's kernel) with its snapshots in OUT/l1/prof, whose path
# the suite gets as L1PROF, and the kernel runs with nokaslr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../scripts/lib.sh"

[ $# -ge 2 ] || die "usage: vm.sh KDIR SUITE [ARGS...]"
kdir=$1 suite=$2
shift 2
[ -f "$kdir/arch/x86/boot/bzImage" ] || die "no kernel in $kdir: run 'make kernel'"
[ -f "$here/suites/$suite.sh" ] || die "no suite '$suite' in $here/suites"
command -v vng >/dev/null || die "vng (virtme-ng) not found: run scripts/install-deps.sh"

run_id=$(date +%Y%m%d-%H%M%S)-$suite-$$
out=${VM_OUT:-$VSOCK_RUST_CACHE/runs/$run_id}
mkdir -p "$out"
console=$out/console.log

accel=(--disable-kvm)
if [ "${VM_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then
	accel=()
fi
# VM_ICOUNT=SHIFT: TCG with instruction counting (one host thread for all
# vCPUs, guest time advances SHIFT ns per instruction and jumps over idle
# periods), so timings count guest instructions and do not depend on the
# load of the host.
if [ -n "${VM_ICOUNT:-}" ]; then
	accel+=(--qemu-opts="-icount shift=${VM_ICOUNT},sleep=off")
fi

extra=()
if [ "${VM_NUMA:-0}" = 1 ]; then
	extra+=(--numa "${VM_MEMORY:-2G}")
fi
if [ -n "${VM_QEMU_OPTS:-}" ]; then
	extra+=(--qemu-opts="$VM_QEMU_OPTS")
fi

append=${VM_APPEND:-}
l1prof=
if [ "${VM_INSNPROF:-0}" = 1 ]; then
	# Seen with QEMU 10.0: the kernel oopses at boot with the plugin under
	# -icount (corrupted registers in handle_softirqs).
	[ -z "${VM_ICOUNT:-}" ] || die "VM_INSNPROF=1 needs plain TCG (BENCH_CLOCK=wall), not -icount"
	l1prof=$out/l1/prof
	mkdir -p "$l1prof"
	extra+=(--qemu-opts="-plugin $here/bench/insnprof.so,dir=$l1prof")
	# nokaslr: kernel addresses as in System.map; tsc=reliable: TCG slowed
	# down by the plugin, the clocksource watchdog would mark the TSC
	# unstable mid-run, and every clock read would become a system call.
	append+=" nokaslr tsc=reliable"
fi

args=$(printf '%q ' "$@")
guest_cmd="KDIR=$kdir OUT=$out ROOT=$VSOCK_RUST_ROOT SUITE=$suite L1PROF=$l1prof bash $here/guest-run.sh $args"
# Variables named in VM_ENV reach the suite too.
for v in ${VM_ENV:-}; do
	guest_cmd="$v=$(printf '%q' "${!v:-}") $guest_cmd"
done

start=$(date +%s)
set +e
timeout --foreground -k 10 "${VM_TIMEOUT:-900}" \
	vng --run "$kdir/arch/x86/boot/bzImage" "${accel[@]}" \
		--cpus "${VM_CPUS:-2}" --memory "${VM_MEMORY:-2G}" "${extra[@]}" \
		--rwdir "$out=$out" --verbose \
		--append "kunit.autorun=1 oops=panic panic=-1 printk.devkmsg=on $append" \
		--exec "$guest_cmd" </dev/null >"$console" 2>&1
vm_rc=$?
set -e
elapsed=$(( $(date +%s) - start ))

fail=0
if [ $vm_rc = 124 ] || [ $vm_rc = 137 ]; then
	log "$suite: VM timed out after ${VM_TIMEOUT:-900} s"
	fail=1
fi
# Kernel reports that fail any run, whatever the suite said.
splat='(Oops|BUG:|WARNING:|KASAN|kernel BUG|general protection fault|Call Trace:|possible circular locking|possible recursive locking|inconsistent lock state|INFO: lockdep|suspicious RCU usage|unreferenced object|kmemleak: .*new suspected|rust_panic|panicked at|Kernel panic)'
if grep -aEq "$splat" "$console" ${out}/dmesg.txt 2>/dev/null; then
	log "$suite: kernel reported a problem:"
	grep -aE -m 20 -A 5 "$splat" "$console" "$out/dmesg.txt" 2>/dev/null | head -60 >&2
	fail=1
fi
if [ ! -f "$out/status" ]; then
	log "$suite: the guest did not finish (vng exit $vm_rc); tail of $console:"
	tail -30 "$console" >&2
	fail=1
elif [ "$(cat "$out/status")" != 0 ]; then
	log "$suite: guest suite failed (status $(cat "$out/status"))"
	fail=1
fi
# VM_SHOW=1: print what the suite printed (the console without kernel log
# lines), from its first "===" heading on.
if [ "${VM_SHOW:-0}" = 1 ]; then
	grep -av '^\[ *[0-9]' "$console" | sed -n '/^=== /,$p' | grep -av '^\s*$' || true
fi
[ -f "$out/summary" ] && cat "$out/summary"
echo "$suite: vm ${elapsed}s, log $console"
[ $fail = 0 ] || { echo "vm.sh $suite: FAILED" >&2; exit 1; }
