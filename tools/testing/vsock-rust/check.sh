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
# count LOG NAME: add every "X: N passed, M failed" line of a VM run.
count_vm() {
	local log=$1 ok=0 line name p f
	while IFS= read -r line; do
		name=${line%%: *}
		p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
		f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
		add "$name" "$p" "$f"
		ok=1
	done < <(grep -E '^[^:]+: [0-9]+ passed, [0-9]+ failed$' "$log")
	return $((1 - ok))
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
	if make --no-print-directory modules CLIPPY=1 >"$logs/modules.log" 2>&1 &&
	   ! grep -qE '^(warning|error)' "$logs/modules.log"; then
		add "module build (clippy clean)" 1 0
	else
		cat "$logs/modules.log"
		add "module build (clippy clean)" 0 1
	fi
	if make --no-print-directory fmtcheck >"$logs/fmt.log" 2>&1; then
		add "rustfmt" 1 0
	else
		cat "$logs/fmt.log"
		add "rustfmt" 0 1
	fi
	# 3. VM suites
	for s in "kunit" "upstream c" "upstream rust" "cycle rust" "demo" "nested c c"; do
		name=${s// /-}
		if "$here/vm.sh" "$kdir" $s >"$logs/vm-$name.log" 2>&1; then
			count_vm "$logs/vm-$name.log" || add "vm $name" 1 0
		else
			cat "$logs/vm-$name.log"
			count_vm "$logs/vm-$name.log" && add "vm $name (run)" 0 1 || add "vm $name" 0 1
		fi
		tail -n 1 "$logs/vm-$name.log"
	done
fi

echo
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
