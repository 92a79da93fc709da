# SPDX-License-Identifier: GPL-2.0
# Context switches of the loopback path: for each implementation and round,
# one vsock_perf throughput run (bench.sh's placement: sender on CPU 0,
# receiver on CPU 1) with the voluntary and involuntary switches of the
# sender and of the receiver (getrusage, through time(1)) and the whole
# system's (/proc/stat ctxt), per packet sent.
# Arguments: BUF (4K), BYTES (256M), ROUNDS (2), IMPLS ("c rust").
# SWITCHES_PIN=0: sender and receiver unpinned (the scheduler places them).
buf=${1:-4K}
bytes=${2:-256M}
rounds=${3:-2}
impls=${4:-c rust}
# The benchmark's vsock_perf (scripts/build-static-tools.sh).
perf=$KDIR/vsock-tools-static/vsock_perf
timecmd=/usr/bin/time
[ -x $timecmd ] || { echo "time(1) not found"; exit 1; }

to_bytes() {
	case "$1" in
	*G) echo $(( ${1%G} << 30 )) ;;
	*M) echo $(( ${1%M} << 20 )) ;;
	*K) echo $(( ${1%K} << 10 )) ;;
	*) echo "$1" ;;
	esac
}
total=$(to_bytes "$bytes")
pkts=$(( total / $(to_bytes "$buf") ))
ctxt() { awk '/^ctxt/ {print $2}' /proc/stat; }
cpus() { awk '/^cpu0 / {a=$2+$3+$4+$7+$8} /^cpu1 / {b=$2+$3+$4+$7+$8} END {print a, b}' /proc/stat; }
us() { echo "scale=3; $1 * 1000000 / $pkts" | bc; }
# SWITCHES_TASKCLOCK=1: also the task clock of sender and receiver (perf
# stat, which slows every context switch).
pstat() { [ -z "${SWITCHES_TASKCLOCK:-}" ] || echo "perf stat -x, -e task-clock -o $OUT/$1-stat"; }
tc() { [ -n "${SWITCHES_TASKCLOCK:-}" ] || { echo 0; return; };  awk -F, '/task-clock/ {print $1}' "$OUT/$1-stat"; }
per() { echo "scale=3; $1 / $pkts" | bc; }
pin_tx=(taskset -c 0) pin_rx=(taskset -c 1)
[ "${SWITCHES_PIN:-1}" != 0 ] || pin_tx=() pin_rx=()

for r in $(seq "$rounds"); do
	for impl in $impls; do
		load_impl "$impl"
		$timecmd -f "%w %c %S %U" -o "$OUT/rx-time" $(pstat rx) "${pin_rx[@]}" "$perf" --port 20000 \
			--buf-size "$buf" >"$OUT/perf-rx.log" 2>&1 &
		rx=$!
		sleep 0.3
		c0=$(ctxt)
		read -r a0 b0 <<<"$(cpus)"
		$timecmd -f "%w %c %S %U" -o "$OUT/tx-time" $(pstat tx) "${pin_tx[@]}" "$perf" --sender 1 --port 20000 \
			--bytes "$total" --buf-size "$buf" >/dev/null 2>&1
		wait $rx
		c1=$(ctxt)
		read -r txv txi txs txu <"$OUT/tx-time"
		read -r rxv rxi rxs rxu <"$OUT/rx-time"
		read -r a1 b1 <<<"$(cpus)"
		rate=$(sed -nE 's/^rx performance: ([0-9.]+) Gbits\/s/\1/p' "$OUT/perf-rx.log")
		echo "switches $impl round $r: ${rate} Gbit/s per packet: system $(per $((c1 - c0)))" \
			"tx vol $(per "$txv") invol $(per "$txi") rx vol $(per "$rxv") invol $(per "$rxi")"
		echo "cpu-us $impl round $r per packet: busy cpu0 $(us "($a1 - $a0) / 100") cpu1 $(us "($b1 - $b0) / 100")" \
			"tx task $(us "$(tc tx) / 1000") rx task $(us "$(tc rx) / 1000") tx sys $(us "$txs") usr $(us "$txu") rx sys $(us "$rxs") usr $(us "$rxu")"
		unload_impl "$impl"
	done
done
record "switches" 1 0
