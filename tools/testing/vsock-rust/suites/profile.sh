# SPDX-License-Identifier: GPL-2.0
# Profile the loopback path with perf (cpu-clock samples, whole system):
# for each implementation, one vsock_perf throughput run and one ping-pong
# run under 'perf record', then a flat profile by symbol.
# Arguments: BUF (4K), BYTES (256M), SIZE of the pings (64), PINGS (2000),
# IMPLS ("c rust").
buf=${1:-4K}
bytes=${2:-256M}
size=${3:-64}
pings=${4:-2000}
impls=${5:-c rust}
# The benchmark's vsock_perf (scripts/build-static-tools.sh).
perf=$KDIR/vsock-tools-static/vsock_perf
# The placement of bench.sh: senders on CPU 0, receivers on CPU 1.
on_rx() { taskset -c 1 "$@"; }
pingpong=$ROOT/tools/testing/vsock-rust/bench/vsock_pingpong
command -v perf >/dev/null || { echo "perf not found (linux-perf)"; exit 1; }
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid
# perf cannot write its data to the shared results directory (EFAULT on
# the host-backed file system): keep it in the guest's own tmpfs.
data=$(mktemp -d)
mount -t tmpfs tmpfs "$data"

to_bytes() {
	case "$1" in
	*G) echo $(( ${1%G} << 30 )) ;;
	*M) echo $(( ${1%M} << 20 )) ;;
	*K) echo $(( ${1%K} << 10 )) ;;
	*) echo "$1" ;;
	esac
}

report() { # NAME: flat profile of $OUT/NAME.data
	perf report -i "$data/$1.data" --stdio --sort "${PROFILE_SORT:-sym}" -n --percent-limit "${PROFILE_LIMIT:-0.3}" \
		--kallsyms /proc/kallsyms 2>/dev/null | grep -v '^$' >"$OUT/$1.txt"
	echo "=== $1"
	grep -v '^#' "$OUT/$1.txt" | head -70
	# PROFILE_CALLERS="sym ...": who calls these (kernel call chains).
	local sym
	for sym in ${PROFILE_CALLERS:-}; do
		echo "=== $1: callers of $sym"
		perf report -i "$data/$1.data" --stdio --no-children -S "$sym" \
			-G --percent-limit 0.05 --kallsyms /proc/kallsyms 2>/dev/null |
			grep -v '^#' | grep -v '^$' | head -60
	done
}

for impl in $impls; do
	load_impl "$impl"
	# Scheduler events of one throughput run.
	on_rx "$perf" --port 20000 --buf-size "$buf" >"$OUT/perf-rx.log" 2>&1 &
	rx=$!
	sleep 0.3
	perf stat -a -e context-switches,cpu-migrations,task-clock -o "$OUT/$impl-stat.txt" -- \
		taskset -c 0 "$perf" --sender 1 --port 20000 --bytes "$(to_bytes "$bytes")" \
		--buf-size "$buf" >/dev/null 2>&1
	wait $rx
	echo "=== $impl-stat: $(grep -h performance "$OUT/perf-rx.log")"
	grep -E "context-switches|cpu-migrations|task-clock|elapsed" "$OUT/$impl-stat.txt"

	on_rx "$perf" --port 20000 --buf-size "$buf" >"$OUT/perf-rx.log" 2>&1 &
	rx=$!
	sleep 0.3
	perf record -a -F "${PROFILE_FREQ:-4000}" ${PROFILE_CALLERS:+-g} -o "$data/$impl-tput.data" -- \
		taskset -c 0 "$perf" --sender 1 --port 20000 --bytes "$(to_bytes "$bytes")" --buf-size "$buf" \
		>"$OUT/perf-tx.log" 2>"$OUT/$impl-record.log"
	wait $rx
	grep -h "performance" "$OUT/perf-rx.log"
	report "$impl-tput"

	on_rx "$pingpong" server 20100 &
	srv=$!
	sleep 0.2
	perf record -a -F "${PROFILE_FREQ:-4000}" ${PROFILE_CALLERS:+-g} -o "$data/$impl-lat.data" -- \
		taskset -c 0 "$pingpong" client 1 20100 "$size" "$pings" 2>>"$OUT/$impl-record.log"
	kill $srv; wait $srv 2>/dev/null || true
	report "$impl-lat"
	unload_impl "$impl"
done
record "profiles" 1 0
