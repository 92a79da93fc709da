# SPDX-License-Identifier: GPL-2.0
# Benchmark C against Rust over loopback in one VM, in alternating rounds
# (load one implementation, run every case, unload, load the other).
# Arguments: ROUNDS (5), BYTES per throughput run (1G), PINGS per latency
# run (10000), then for the guest-driver part (bench/guest.sh) GUEST_BYTES
# per throughput run (BYTES / 16) and GUEST_PINGS per latency run
# (PINGS / 10).  BENCH_PARTS: any of "loopback guest host" ("loopback
# guest" by default); host: the host backends (BENCH_HOSTS, "c rust"; alt:
# vsock_rs_common.ko and vhost_vsock_rs.ko of ALT_KO_DIR) under
# the same C guest driver in L2, with the guest part's cases and sizes;
# BENCH_GUEST_CONFIGS: the L2 guest drivers ("c rust rust64k", see
# bench/guest.sh); BENCH_GUEST_BOOT: "each" (one L2 boot per configuration
# and round) or "one" (one per round, for the smoke run); BENCH_GUEST_REPS:
# runs of each guest throughput case per boot (1); BENCH_GUEST_DIAG=1:
# diagnostics (bench/guest_diag.py); BENCH_PAD: the padding modules
# (bench/pad) loaded before the modules under test in each L2 boot and, in
# the host part, before each backend in L1: "random" (the default, 0-15
# pages drawn for each) or a fixed 0-15.  Senders run on CPU 0 and receivers on CPU 1, so that both
# implementations see the same placement in every round; the scheduler's
# choices were the largest source of spread.  Every measurement goes to $OUT/bench.csv as
# "round,impl,case,metric,value", and the order of each round's
# implementations to $OUT/order.csv; tools/testing/vsock-rust/bench/report.py
# turns them into the tables, JSON and plot.
rounds=${1:-5}
bytes=${2:-1G}
pings=${3:-10000}
parts=${BENCH_PARTS:-loopback guest}
# vsock_perf with its receiver counting every byte to the end of the
# stream (scripts/build-static-tools.sh's edit), for every part (checked
# once here); every receiver's total is checked.
STATIC_TOOLS=$KDIR/vsock-tools-static
perf=$STATIC_TOOLS/vsock_perf
[ -x "$perf" ] || { echo "no static vsock_perf in $STATIC_TOOLS (scripts/build-static-tools.sh)"; exit 1; }
ncpu=$(nproc)
on_tx() { if [ "$ncpu" -ge 2 ]; then taskset -c 0 "$@"; else "$@"; fi; }
# on_rx only runs in the background (&): it replaces the subshell, so that
# $! is the program itself and killing it (the ping-pong server) works.
on_rx() { if [ "$ncpu" -ge 2 ]; then exec taskset -c 1 "$@"; else exec "$@"; fi; }
pingpong=$ROOT/tools/testing/vsock-rust/bench/vsock_pingpong
csv=$OUT/bench.csv
echo "round,impl,case,metric,value" >"$csv"
echo "${BENCH_CLOCK:-wall}" >"$OUT/bench.clock"

to_bytes() {
	local v=$1
	case "$v" in
	*G) echo $(( ${v%G} << 30 )) ;;
	*M) echo $(( ${v%M} << 20 )) ;;
	*K) echo $(( ${v%K} << 10 )) ;;
	*) echo "$v" ;;
	esac
}
total=$(to_bytes "$bytes")
GUEST_BYTES=$(to_bytes "${4:-$((total / 16))}")
GUEST_PINGS=${5:-$((pings / 10))}
[ "$GUEST_PINGS" -ge 1 ] || GUEST_PINGS=1
GUEST_WARM=$(( GUEST_BYTES / 4 < (16 << 20) ? GUEST_BYTES / 4 : (16 << 20) ))
GUEST_CONFIGS=${BENCH_GUEST_CONFIGS:-c rust rust64k}
GUEST_DIAG=${BENCH_GUEST_DIAG:-}
GUEST_REPS=${BENCH_GUEST_REPS:-1}

# received LOG BYTES: whether the vsock_perf receiver of LOG got BYTES.
received() {
	local got
	got=$(sed -nE 's/^total bytes received: ([0-9]+)$/\1/p' "$1")
	[ "$got" = "$2" ] || { echo "vsock_perf received '$got' bytes of $2 ($1)"; return 1; }
}

# throughput IMPL ROUND BUF: one vsock_perf run, receiver's rate.
throughput() {
	local impl=$1 r=$2 buf=$3 port=20000 rate
	on_rx "$perf" --port $port --buf-size "$buf" >"$OUT/perf-rx.log" 2>&1 &
	local rx=$!
	sleep 0.3
	on_tx "$perf" --sender 1 --port $port --bytes "$total" --buf-size "$buf" >"$OUT/perf-tx.log" 2>&1
	wait $rx
	received "$OUT/perf-rx.log" "$total" || return 1
	rate=$(sed -nE 's/^rx performance: ([0-9.]+) Gbits\/s/\1/p' "$OUT/perf-rx.log")
	echo "$r,$impl,tput-$buf,gbps,${rate:?no rate in $(cat "$OUT/perf-rx.log")}" >>"$csv"
}

# latency IMPL ROUND SIZE: median and p99 round trip.
latency() {
	local impl=$1 r=$2 size=$3 port=20100 line
	on_rx "$pingpong" server $port &
	local srv=$!
	line=$(on_tx "$pingpong" client 1 $port "$size" "$pings")
	kill $srv; wait $srv 2>/dev/null || true
	echo "$r,$impl,lat-$size,median_us,$(sed -E 's/.*median_us=([0-9.]+).*/\1/' <<<"$line")" >>"$csv"
	echo "$r,$impl,lat-$size,p99_us,$(sed -E 's/.*p99_us=([0-9.]+).*/\1/' <<<"$line")" >>"$csv"
}

# streams IMPL ROUND N: N parallel vsock_perf streams sharing the bytes;
# aggregate rate: all bytes over the longest receive (each receiver's own
# time from accept to end of stream, which vsock_perf's rate gives), so
# that process start-up, which is most of the wall time of short runs under
# TCG, is left out.
streams() {
	local impl=$1 r=$2 n=$3 i rxs=() txs=() rate
	for i in $(seq 0 $((n - 1))); do
		on_rx "$perf" --port $((20200 + i)) --buf-size 64K >"$OUT/perf-rx-$i.log" 2>&1 &
		rxs+=($!)
	done
	sleep 0.5
	for i in $(seq 0 $((n - 1))); do
		on_tx "$perf" --sender 1 --port $((20200 + i)) --bytes $((total / n)) --buf-size 64K \
			>"$OUT/perf-tx-$i.log" 2>&1 &
		txs+=($!)
	done
	wait "${txs[@]}"
	wait "${rxs[@]}"
	for i in $(seq 0 $((n - 1))); do
		received "$OUT/perf-rx-$i.log" $((total / n)) || return 1
	done
	rate=$(awk '/^total bytes received:/ {b = $4} /^rx performance:/ {
			if ($3 <= 0) { bad = 1; nextfile }
			t = b * 8 / ($3 * 1e9); all += b; if (t > max) max = t }
		END { if (bad || max <= 0) exit 1; printf "%.6f", all * 8 / max / 1e9 }' \
		"$OUT"/perf-rx-*.log) || { echo "streams-$n: no rate in $(cat "$OUT"/perf-rx-*.log)"; return 1; }
	rm -f "$OUT"/perf-rx-*.log
	echo "$r,$impl,streams-$n,gbps,$rate" >>"$csv"
}

# order ROUND LIST: LIST, reversed in even rounds (alternate which
# implementation goes first).
order() {
	if [ $(($1 % 2)) = 0 ]; then tr ' ' '\n' <<<"$2" | tac | tr '\n' ' '; else echo "$2"; fi
}

# record_order PART ROUND IMPL...: the order in which a round measured its
# implementations, as "part,round,position,impl" rows of $OUT/order.csv
# (report.py splits the paired ratios by it).
echo "part,round,position,impl" >"$OUT/order.csv"
record_order() {
	local part=$1 r=$2 pos=1 impl
	shift 2
	for impl in "$@"; do
		echo "$part,$r,$pos,$impl" >>"$OUT/order.csv"
		pos=$((pos + 1))
	done
}

if [[ " $parts " == *" loopback "* ]]; then
	for r in $(seq "$rounds"); do
		# BENCH_IMPLS="c rust alt" compares three (alt: see load_impl).
		record_order loopback "$r" $(order "$r" "${BENCH_IMPLS:-c rust}")
		for impl in $(order "$r" "${BENCH_IMPLS:-c rust}"); do
			load_impl "$impl"
			echo "round $r: $impl ($(transports))"
			for buf in 4K 64K 128K; do throughput "$impl" "$r" "$buf" || exit 1; done
			for size in 64 4096; do latency "$impl" "$r" "$size"; done
			for n in 1 8; do streams "$impl" "$r" "$n" || exit 1; done
			unload_impl "$impl"
		done
	done
fi

# The guest and host parts' machinery (bench/guest.sh); BENCH_PAD is
# checked once here, before anything is loaded (bench_pad draws each
# padding).
if [[ " $parts " == *" guest "* || " $parts " == *" host "* ]]; then
	. "$ROOT/tools/testing/vsock-rust/bench/guest.sh"
	bench_pad >/dev/null || exit 1
fi

# The guest drivers.  Failures exit explicitly: guest-run.sh's set -e does
# not hold in the suite (it runs on the left of ||).
if [[ " $parts " == *" guest "* ]]; then
	echo "guest drivers: $GUEST_CONFIGS; $GUEST_BYTES bytes per run, $GUEST_PINGS pings"
	guest_host_load c || exit 1
	guest_prepare || exit 1
	for r in $(seq "$rounds"); do
		record_order guest "$r" $(order "$r" "$GUEST_CONFIGS")
		if [ "${BENCH_GUEST_BOOT:-each}" = one ]; then
			echo "round $r: guests $(order "$r" "$GUEST_CONFIGS") in one L2 boot"
			guest_boot "$r" $(order "$r" "$GUEST_CONFIGS") || exit 1
		else
			for cfg in $(order "$r" "$GUEST_CONFIGS"); do
				echo "round $r: guest $cfg"
				guest_boot "$r" "$cfg" || exit 1
			done
		fi
	done
	guest_finish
	guest_host_unload c || exit 1
fi

# The host backends: L2's guest driver is C in every boot, L1's backend
# alternates (C vhost_vsock, Rust vhost_vsock_rs; order reversed in even
# rounds), one L2 boot per backend and round; guest_boot returns once L2's
# QEMU has ended, so the backend is unloaded with no user left.
if [[ " $parts " == *" host "* ]]; then
	hosts=${BENCH_HOSTS:-c rust}
	if [[ " $hosts " == *" alt "* ]]; then
		guest_host_alt_ok || exit 1
	fi
	echo "host backends: $hosts; guest driver c; $GUEST_BYTES bytes per run, $GUEST_PINGS pings"
	guest_prepare || exit 1
	for r in $(seq "$rounds"); do
		record_order host "$r" $(order "$r" "$hosts")
		for h in $(order "$r" "$hosts"); do
			# The backend's modules move by a padding of 0-15 pages in
			# L1 (bench_pad), as the guest's do in L2.
			pad=$(bench_pad) || exit 1
			echo "round $r: host backend $h, guest c, L1 padding $pad pages"
			pad_load "$pad" || exit 1
			guest_host_load "$h" || exit 1
			echo "  L1: $(awk '/^(vhost_vsock|vhost_vsock_rs|vhost) / { printf "%s at %s ", $1, $6 }' /proc/modules)"
			GUEST_HOST=$h
			guest_boot "$r" c || exit 1
			GUEST_HOST=
			guest_host_unload "$h" || exit 1
			pad_unload "$pad" || exit 1
		done
	done
	guest_finish
fi
cat "$csv"
record "bench runs" $(( $(wc -l <"$csv") - 1 )) 0
