#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test suite of vsock-rust.  Each suite adds its counts;
# the last line is "N passed, N failed".  Exits non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../scripts/lib.sh"
cd "$VSOCK_RUST_ROOT"

passed=0 failed=0
summary=()
# add NAME PASSED FAILED
add() {
	passed=$((passed + $2)) failed=$((failed + $3))
	summary+=("$(printf '%-40s %4d passed, %d failed' "$1" "$2" "$3")")
}
# count_vm LOG [PREFIX]: add every "X: N passed, M failed" line of a VM run.
count_vm() {
	local log=$1 prefix=${2:-} ok=0 line name p f
	while IFS= read -r line; do
		name=$prefix${line%%: *}
		p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
		f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
		add "$name" "$p" "$f"
		ok=1
	done < <(grep -E '^[^:]+: [0-9]+ passed, [0-9]+ failed$' "$log")
	return $((1 - ok))
}

# step NAME LOG CMD...: one counted step; its output goes to LOG, shown on
# failure.
step() {
	local name=$1 log=$logs/$2
	shift 2
	if "$@" >"$log" 2>&1; then
		add "$name" 1 0
	else
		cat "$log"
		add "$name" 0 1
		return 1
	fi
}

# The module build with clippy; any warning fails it.
clippy_build() {
	local out rc=0
	out=$(make --no-print-directory modules CLIPPY=1 2>&1) || rc=$?
	echo "$out"
	[ $rc = 0 ] && ! grep -qE '^(warning|error)' <<<"$out"
}

# vm_log PREFIX SUITE: the log of one suite's VM ("name args").
vm_log() {
	local s=$2
	echo "$logs/vm-${1:+debug-}${s// /-}.log"
}

# vm_run KDIR PREFIX SUITE: one VM for a suite; its output goes to its log,
# its status to the log's .rc.
vm_run() {
	local log rc=0
	log=$(vm_log "$2" "$3")
	# shellcheck disable=SC2086 # the suite's name and arguments
	"$here/vm.sh" "$1" $3 >"$log" 2>&1 || rc=$?
	echo "$rc" >"${log%.log}.rc"
}

# vm_count PREFIX SUITE: count the suite's finished VM run.
vm_count() {
	local prefix=$1 log name
	log=$(vm_log "$1" "$2")
	name=${log#"$logs"/vm-}
	name=${name%.log}
	if [ "$(cat "${log%.log}.rc" 2>/dev/null)" = 0 ]; then
		count_vm "$log" "$prefix" || add "${prefix}vm $name" 1 0
	else
		cat "$log"
		if count_vm "$log" "$prefix"; then
			add "${prefix}vm $name (run)" 0 1
		else
			add "${prefix}vm $name" 0 1
		fi
	fi
	tail -n 1 "$log"
}

# run_vm_suites KDIR PREFIX SUITE...: one VM per suite, one after the other.
run_vm_suites() {
	local kd=$1 prefix=$2 s
	shift 2
	for s in "$@"; do
		vm_run "$kd" "$prefix" "$s"
		vm_count "$prefix" "$s"
	done
}

# run_vm_lanes KDIR PREFIX LANE...: the suites of each LANE (a list of
# "TIMEOUT:suite args" separated by ";") one after the other, the lanes at
# the same time; then all counted in order.  Only for suites on the
# instruction-counted clock (VM_ICOUNT, -icount sleep=off): such a VM
# runs its vCPUs in one host thread, and its clock counts the instructions
# it executes, so two of them on this machine's two cores take about the
# wall time of one each, and neither's guest time depends on the other.
run_vm_lanes() {
	local kd=$1 prefix=$2 lane s ss log pids=() all=()
	shift 2
	for lane in "$@"; do
		IFS=';' read -r -a ss <<<"$lane"
		all+=("${ss[@]}")
		# No result of an earlier check may stand for one of this run.
		for s in "${ss[@]}"; do
			log=$(vm_log "$prefix" "${s#*:}")
			rm -f "$log" "${log%.log}.rc"
		done
		(
			for s in "${ss[@]}"; do
				VM_TIMEOUT=${s%%:*} vm_run "$kd" "$prefix" "${s#*:}"
				log=$(vm_log "$prefix" "${s#*:}")
				echo "$(date +%T) ${prefix}${s#*:}: ended, status $(cat "${log%.log}.rc")"
			done
		) &
		pids+=($!)
	done
	# Background subshells ignore SIGINT: an interrupted check stops the
	# lanes and their VMs itself.
	trap 'for s in "${pids[@]}"; do kill_tree "$s"; done; exit 130' INT TERM
	wait "${pids[@]}"
	trap - INT TERM
	for s in "${all[@]}"; do
		vm_count "$prefix" "${s#*:}"
	done
}

# kill_tree PID: PID and every process under it.
kill_tree() {
	local c
	kill -STOP "$1" 2>/dev/null
	for c in $(pgrep -P "$1"); do
		kill_tree "$c"
	done
	kill "$1" 2>/dev/null
	kill -CONT "$1" 2>/dev/null
}

# run_vhost_user KDIR PREFIX GUEST...: the guest drivers against rust-vmm's
# vhost-device-vsock (vhost-user.sh); its "vhost-user guest=G ...: N passed,
# M failed" lines are counted (named with PREFIX), its timing lines shown.
run_vhost_user() {
	local kd=$1 prefix=$2 log=$logs/vhost-user${2:+-debug}.log
	shift 2
	if "$here/vhost-user.sh" "$kd" "$@" >"$log" 2>&1; then
		count_vm "$log" "$prefix" || add "${prefix}vhost-user" 1 0
	else
		cat "$log"
		count_vm "$log" "$prefix" || add "${prefix}vhost-user" 0 1
	fi
	grep -E '^vhost-user guest=[a-z]+ times: ' "$log"
}

logs=$VSOCK_RUST_CACHE/check-logs
mkdir -p "$logs"

# 1. host-side protocol core tests
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$VSOCK_RUST_CACHE/cargo-target}
if (cd rust/vsock_proto && cargo test --quiet) >"$logs/cargo.log" 2>&1; then
	n=$(grep -E '^test result:' "$logs/cargo.log" | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1/' | paste -sd+ | bc)
	add "cargo test (vsock_proto)" "${n:-0}" 0
else
	cat "$logs/cargo.log"
	n=$(grep -E '^test result:' "$logs/cargo.log" | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/' | head -1)
	add "cargo test (vsock_proto)" "${n% *}" "$(( ${n#* } + 0 ))"
	[ "${n#* }" != 0 ] || add "cargo test (build)" 0 1
fi

# 2. kernel and modules
if ! scripts/build-kernel.sh default >"$logs/kernel.log" 2>&1; then
	cat "$logs/kernel.log"
	add "kernel build" 0 1
else
	kdir=$(tail -n 1 "$logs/kernel.log")
	# Always a full rebuild with clippy: its warnings count as failures.
	make --no-print-directory clean >/dev/null 2>&1
	step "module build (clippy clean)" modules.log clippy_build
	step "rustfmt" fmt.log make --no-print-directory fmtcheck
	# 3. VM suites
	run_vm_suites "$kdir" "" "kunit" "upstream c" "upstream rust" "upstream rust-nosteer" \
		"bufmatrix c rust" "sockmap c rust" "swap 5" "cycle rust" "demo"
	# The nested suites, all on the instruction-counted clock, in two lanes
	# (minutes each in the last CI runs):
	# - the C host with both guests (5.5), then the Rust host backend with
	#   both guests, the other two pairings (5);
	# - a hostile guest (its own VMM) against both backends (0.5);
	# - SIGKILL of the VMM under traffic on all four pairings (1.5 + 1.5);
	# - the RST that frees a closing client's port, both ways: the Rust
	#   host with both guests, the C host with the Rust guest (1.5 + 1);
	# - vmtest.sh's namespace cases with a VM against both backends (8);
	# - the guest drivers' life cycle (transport resets, freeze/restore, 20
	#   rmmod/insmod and 20 unbind/bind cycles), C and Rust (5);
	# - a smoke run of the benchmark (no speed goal here: a few MiB each
	#   way, one round; 3): the guest drivers with 256 KiB each way, all in
	#   one L2 boot, and the host backends (C and Rust, one L2 boot each
	#   with the C guest driver), under the benchmark's clock (nested TCG is
	#   several times slower without it); its report follows.
	BENCH_GUEST_BOOT=one BENCH_CLOCK=icount BENCH_PARTS="loopback guest host" VM_ICOUNT=0 \
		VM_ENV="BENCH_GUEST_BOOT BENCH_CLOCK BENCH_PARTS" \
		run_vm_lanes "$kdir" "" \
		"2400:pair c c rust;1800:vhostile c rust;2100:sigkill c c rust;2100:rebind rust c rust;3600:guestlife c rust;2400:bench 1 4M 100" \
		"2400:pair rust c rust;2100:sigkill rust c rust;2100:rebind c rust;3600:nsvm c rust"
	bench_dir=$(sed -nE 's/.*log (.*)\/console.log$/\1/p' "$logs/vm-bench-1-4M-100.log")
	step "bench report (smoke)" bench-report.log \
		/usr/bin/python3 tools/testing/vsock-rust/bench/report.py "${bench_dir:-/nonexistent}"
	# The guest drivers against a second device: rust-vmm's vhost-device-vsock.
	run_vhost_user "$kdir" "" c rust
fi

# 4. The Rust suites again on the debug kernel (KASAN, lockdep, kmemleak).
if ! scripts/build-kernel.sh debug >"$logs/kernel-debug.log" 2>&1; then
	cat "$logs/kernel-debug.log"
	add "kernel build (debug)" 0 1
else
	kdir_debug=$(tail -n 1 "$logs/kernel-debug.log")
	# The nested guests of hostcycle run the default kernel with the Rust
	# guest modules built for it: keep them before the debug build.
	l2_ko=$(mktemp -d)
	cp net/vmw_vsock/vsock_rs_common.ko net/vmw_vsock/vsock_rs_virtio.ko "$l2_ko/" 2>/dev/null
	make --no-print-directory clean >/dev/null 2>&1
	if step "module build (debug kernel)" modules-debug.log \
		make --no-print-directory modules VARIANT=debug; then
		# One VM for all of them: boot and kmemleak scans are slow there.
		VM_MEMORY=1G VM_TIMEOUT=3600 run_vm_suites "$kdir_debug" "[debug] " "debug 50"
		# Two lanes on the instruction-counted clock: the hostile guest
		# against the Rust backend, kmemleak checked; and load/unload
		# cycles of the Rust backend with guests in between (L2 QEMU in
		# the first and last, vhostile's traffic mode in the others,
		# clean stops and SIGKILL alternately): 10 here, about 4 minutes
		# of the VM's clock; make hostcycle VARIANT=debug runs 20.
		HOSTCYCLE_L2_KDIR=${kdir:-} HOSTCYCLE_L2_KO=$l2_ko HOSTCYCLE_CYCLES=10 \
			VM_ENV="HOSTCYCLE_L2_KDIR HOSTCYCLE_L2_KO HOSTCYCLE_CYCLES" \
			VM_APPEND="kunit.autorun=0" VM_ICOUNT=0 \
			run_vm_lanes "$kdir_debug" "[debug] " "1800:vhostile rust" "2400:hostcycle rust"
		# The guest driver's rmmod/insmod and unbind/bind cycles against
		# vhost-device-vsock, the debug kernel as the guest itself (a
		# nested KASAN guest is too slow): 10 here, KUnit off at the
		# insmods; make vhostuser VARIANT=debug VHOST_USER_PARTS=life runs 20.
		VHOST_USER_PARTS=life LIFE_CYCLES=10 VHOST_USER_APPEND=kunit.autorun=0 \
			run_vhost_user "$kdir_debug" "[debug] " rust
	fi
	rm -rf "$l2_ko"
	# Leave the modules built for the default kernel again.
	make --no-print-directory clean >/dev/null 2>&1
	make --no-print-directory modules >/dev/null 2>&1
fi

echo
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
