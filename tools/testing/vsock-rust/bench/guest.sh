# SPDX-License-Identifier: GPL-2.0
# The guest-driver part of the benchmark, sourced by suites/bench.sh: this
# VM (L1) is the host, with upstream's C vhost_vsock, and QEMU in it boots
# a minimal L2 (same kernel, busybox initramfs) with -device
# vhost-vsock-pci, in which one guest driver configuration runs:
#
#   c        upstream's vmw_vsock_virtio_transport (+ _common)
#   rust     vsock_rs_virtio (+ vsock_rs_common), rx_buf_size 4096
#   rust64k  vsock_rs_virtio with rx_buf_size=65536
#   alt      vsock_rs_virtio of ALT_KO_DIR (another build, A/B runs)
#
# Each configuration measures every case, after a warm-up run of each
# throughput case (GUEST_WARM bytes) and a few pings (the first runs were
# up to 15% slower than the next, in g2h):
#
#   g2h-BUF   L2 sends (vsock_perf --sender 2), L1 receives: L1's rate
#   h2g-BUF   L1 sends to CID 3, L2 receives: L2's rate
#   glat-N    ping-pong, client in L1, server in L2: L1's round trips
#
# for BUF in 4K 64K 128K and N in 64 4096.  L2 runs under plain TCG, so its
# clocks follow its QEMU's, i.e. L1's, and under -icount both count the
# instructions L1 executes for the path: the L2 kernel and programs as
# QEMU translates and runs them, the vhost worker, the L1 programs.
#
# guest_boot runs one L2 boot for a list of configurations: bench.sh boots
# once per configuration and round, or (BENCH_GUEST_BOOT=one, the smoke run
# of make check) once per round for all of them, unloading one driver and
# loading the next in L2.
#
# The host-backend part (bench.sh, BENCH_PARTS=host) runs the same
# machinery with the guest driver fixed to c and L1's backend alternating
# between c (vhost_vsock) and rust (vhost_vsock_rs), and alt (the build in
# ALT_KO_DIR) when BENCH_HOSTS names it: with GUEST_HOST set to
# the backend, guest_results writes the rows as implementation GUEST_HOST
# and cases host-g2h-BUF, host-h2g-BUF, host-glat-N, and guest_boot keeps
# the logs in OUT/host-GUEST_HOST-guest-CFG-ROUND.  guest_host_load and
# guest_host_unload load and unload a backend (vhost_mods, guest-lib.sh).
#
# Set by bench.sh: OUT, csv, KDIR, ROOT, STATIC_TOOLS, pingpong,
# GUEST_CONFIGS, GUEST_BYTES, GUEST_PINGS, GUEST_WARM (bytes of each
# warm-up transfer), GUEST_DIAG (diagnostics: L2's interrupts, CPU ticks
# and context switches per run, and every packet counted per connection
# through vsockmon, see bench/vsock_tally.py; slower, for diagnosis only).
# Knobs: BENCH_GUEST_BUFS (the buffer sizes, "4K 64K 128K"),
# BENCH_L2_CPUS (1), BENCH_L2_MEM (256M), BENCH_L2_PIN (1),
# BENCH_L2_QEMU_ARGS (more options for L2's QEMU, e.g. a TCG plugin; the
# string L2LOG in them becomes a file saved with the boot's logs),
# BENCH_L2_WRAP (a command L2's QEMU runs under, e.g. "strace -c -o
# L2LOG": its main thread's system calls; L2LOG becomes l2-wrap.log, saved
# with the boot's logs; ptrace slows QEMU, so rates of such runs are not
# comparable),
# BENCH_GUEST_PAUSE=S (L2 sleeps S seconds before each guest-to-host run,
# for diagnosis; L1's counters between two receivers' ends then include
# the pause),
# BENCH_GUEST_STAT=1 (counters with no packet capture: L2-DIAG lines in
# L2's log around each run, and L1's per-CPU ticks, interrupts and
# context switches and the CPU times, exact run times and switch counts
# of L2's QEMU threads after each throughput run and around each
# ping-pong run in l1stat.log; L2 runs a few more programs between the
# runs, none during one; L1 reads its counters with shell builtins when a step of
# its own ends, which for a guest-to-host run is while L2 sends the
# next),
# BENCH_INSNPROF=1 (L2 runs with bench/insnprof.so: an instruction profile
# of each run in the boot's logs, prof/CFG_CASE-before|after.prof, for
# bench/insnprof.py; rates of such runs are not comparable).

GUEST_HOST=
GUEST_BUFS=${BENCH_GUEST_BUFS:-4K 64K 128K}
GUEST_SIZES="64 4096"
# Ports: g2h receivers in L1 on P_G2H + 10 * run + n for the n-th buffer
# size (from 1; run 0 is the warm-up), h2g receivers in L2 on P_H2G + the
# same, the ping-pong server in L2 on P_LAT, the end of a configuration on
# P_END (bench/l2-bench.sh has them too).
P_G2H=20500 P_H2G=20600 P_LAT=20430 P_END=20439

# guest_host_load IMPL: L1's vhost backend IMPL (c, rust, or alt: the
# vsock_rs_common.ko and vhost_vsock_rs.ko in ALT_KO_DIR, another build for
# A/B runs), with its /dev/vhost-vsock.
guest_host_load() {
	local list mods
	if [ "$1" = alt ]; then
		guest_host_alt_ok || return 1
		list=$(vhost_mods rust) || return 1
		read -r -a mods <<<"$list"
		# upstream's vhost core, then the two Rust modules of ALT_KO_DIR
		load_mods "${mods[@]:0:${#mods[@]}-2}" &&
			insmod "$ALT_KO_DIR/vsock_rs_common.ko" &&
			insmod "$ALT_KO_DIR/vhost_vsock_rs.ko" ||
			{ guest_host_unload alt; return 1; }
	else
		list=$(vhost_mods "$1") || { echo "unknown vhost backend '$1'" >&2; return 1; }
		read -r -a mods <<<"$list"
		load_mods "${mods[@]}" || return 1
	fi
	[ -c /dev/vhost-vsock ] || { echo "no /dev/vhost-vsock with backend $1" >&2; return 1; }
}

# guest_host_alt_ok: ALT_KO_DIR holds the alt host backend's modules.
guest_host_alt_ok() {
	[ -f "${ALT_KO_DIR:-}/vsock_rs_common.ko" ] && [ -f "$ALT_KO_DIR/vhost_vsock_rs.ko" ] ||
		{ echo "alt: no vsock_rs_common.ko and vhost_vsock_rs.ko in ALT_KO_DIR ('${ALT_KO_DIR:-}')" >&2; return 1; }
}

# guest_host_unload IMPL: unload it again (L2's QEMU must have ended).
guest_host_unload() {
	local list mods
	list=$(vhost_mods "${1/#alt/rust}") || return 1
	read -r -a mods <<<"$list"
	unload_mods "${mods[@]}"
}

# guest_prepare: the L2 initramfs (every configuration;
# vsb.cfg=A,B,... on the kernel command line picks them), and a tmpfs
# (GDIR) with everything QEMU and the L1 programs read or write during a
# run: files on the shared root or in OUT are the host's, and under
# -icount with sleep=off an I/O wait lets the clock jump to the next timer,
# in the middle of a measurement.  Logs go to OUT after each boot.
guest_prepare() {
	if [ -n "$GUEST_DIAG" ]; then
		# Diagnostics: every packet vhost_vsock moves reaches vsockmon0,
		# where bench/vsock_tally.py counts them.
		insmod "$KDIR/drivers/net/vsockmon.ko" &&
			ip link add name vsockmon0 type vsockmon &&
			ip link set vsockmon0 up || return 1
	fi
	[ -e "$OUT/guest-runs.csv" ] || echo "round,impl,case,run,gbps" >"$OUT/guest-runs.csv"
	GDIR=$(mktemp -d)
	mount -t tmpfs tmpfs "$GDIR" || return 1
	# The ping-pong from its build directory: pingpong is GDIR's copy after
	# a first guest_prepare (bench.sh's guest and host parts each prepare).
	cp "${STATIC_TOOLS:?}/vsock_perf" "$ROOT/tools/testing/vsock-rust/bench/vsock_pingpong" \
		"$KDIR/arch/x86/boot/bzImage" "$GDIR/" || return 1
	perf=$GDIR/vsock_perf pingpong=$GDIR/vsock_pingpong
	local files=("$perf" "$pingpong" "$ROOT/tools/testing/vsock-rust/bench/l2-bench.sh"
		"$KDIR/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko"
		"$KDIR/net/vmw_vsock/vmw_vsock_virtio_transport.ko"
		"$ROOT/net/vmw_vsock/vsock_rs_common.ko" "$ROOT/net/vmw_vsock/vsock_rs_virtio.ko"
		"$ROOT"/tools/testing/vsock-rust/bench/pad/vsb_pad{1,2,4,8}.ko)
	"$ROOT/tools/testing/vsock-rust/mkinitramfs.sh" "$GDIR/l2.cpio.gz" "sh /bin/l2-bench.sh" \
		-- "${files[@]}" || return 1
	# Uncompressed: L2 would spend seconds of L1 time inflating it.
	gunzip "$GDIR/l2.cpio.gz" || return 1
	if [[ " $GUEST_CONFIGS " == *" alt "* ]]; then
		# mkinitramfs copies files to /bin: the alt build goes to /bin/alt.
		mkdir -p "$GDIR/alt/bin/alt" &&
			cp "${ALT_KO_DIR:?ALT_KO_DIR not set}/vsock_rs_common.ko" \
				"$ALT_KO_DIR/vsock_rs_virtio.ko" "$GDIR/alt/bin/alt/" &&
			(cd "$GDIR/alt" && find bin/alt | cpio -o -H newc --quiet) >>"$GDIR/l2.cpio" ||
			return 1
	fi
}

guest_finish() {
	umount "$GDIR" && rmdir "$GDIR"
	if [ -n "$GUEST_DIAG" ]; then
		ip link del vsockmon0
		rmmod vsockmon
	fi
}

# retry_send PORT BYTES BUF LOG: vsock_perf sender to L2, again while L2
# does not listen yet (connect fails); any other failure fails.
retry_send() {
	local port=$1 bytes=$2 buf=$3 log=$4 t
	for t in $(seq 600); do
		$l1_pin "$perf" --sender 3 --port "$port" --bytes "$bytes" --buf-size "$buf" >"$log" 2>&1 && return 0
		grep -q '^connect:' "$log" || { cat "$log" >&2; return 1; }
		kill -0 "$qemu_pid" 2>/dev/null || { echo "L2 is gone" >&2; return 1; }
		sleep 0.2
	done
	echo "L2 never listened on port $port" >&2
	return 1
}

# Placement in L1 (BENCH_L2_PIN=1, the default, with 2 or more CPUs): L2's
# vCPU threads alone on CPU 1; QEMU's other threads, the vhost worker (it
# inherits QEMU's affinity) and the L1 programs on CPU 0.  Without it the
# scheduler's choices vary from run to run.
l2_pin=${BENCH_L2_PIN:-1}
[ "$(nproc)" -ge 2 ] || l2_pin=0
l1_pin=
[ "$l2_pin" = 0 ] || l1_pin="taskset -c 0"

# l2_pin_vcpus: move L2's vCPU threads ("CPU n/TCG", named with QEMU's
# debug-threads=on) to CPU 1, once QEMU made them (before L2 runs much:
# they exist once the machine is set up).
l2_pin_vcpus() {
	local t n=0 found
	for t in $(seq 300); do
		found=0
		for n in /proc/"$qemu_pid"/task/*; do
			if grep -q '^CPU [0-9]*/TCG' "$n/comm" 2>/dev/null; then
				taskset -p -c 1 "${n##*/}" >/dev/null || return 1
				found=$((found + 1))
			fi
		done
		[ "$found" -lt "${BENCH_L2_CPUS:-1}" ] || return 0
		sleep 0.1
	done
	echo "L2's vCPU threads not found" >&2
	return 1
}

# l1stat WHAT: with BENCH_GUEST_STAT=1, L1's per-CPU ticks (/proc/stat's
# cpuN lines), interrupts and context switches, and for each of L2's QEMU
# threads its CPU ticks, exact run time (ms) and switch count, at a step,
# in GDIR/l1stat.log (shell builtins: no process).
l1stat() {
	[ -n "${BENCH_GUEST_STAT:-}" ] || return 0
	local l
	{
		printf '%s r%s %s' "$EPOCHREALTIME" "$r" "$*"
		while read -r l; do
			case $l in
			cpu[0-9]* | ctxt*) printf ' | %s' "$l" ;;
			intr*)
				l=${l#intr }
				printf ' | intr %s' "${l%% *}"
				;;
			esac
		done </proc/stat
		# L2's QEMU threads: name, utime, stime, last CPU, and from
		# /proc/PID/task/TID/sched the exact run time (ms) and the
		# number of switches (each run on a CPU).
		local t f c k v rt sw
		for t in /proc/"${qemu_pid:-0}"/task/*; do
			{ read -r l <"$t/stat" && read -r c <"$t/comm"; } 2>/dev/null || continue
			read -r -a f <<<"${l##*) }"
			rt=- sw=-
			{
				while read -r k _ v; do
					case $k in
					se.sum_exec_runtime) rt=$v ;;
					nr_switches) sw=$v ;;
					esac
				done <"$t/sched"
			} 2>/dev/null || :
			printf ' | %s %s %s cpu%s %s %s' "${c// /_}" "${f[11]}" "${f[12]}" "${f[36]}" "$rt" "$sw"
		done
		echo
	} >>"$GDIR/l1stat.log"
}

# lt WHAT: L1's time at a step ($EPOCHREALTIME: no process).
lt() { echo "$EPOCHREALTIME r$r $*" >>"$GDIR/times.log"; }

# g2h_listen CFG: L1's receivers of the g2h runs of one configuration (in
# g2h_rx), before L2 starts sending.
g2h_listen() {
	local i k buf
	g2h_rx=()
	for ((k = 0; k <= GUEST_REPS; k++)); do
		i=1
		for buf in $GUEST_BUFS; do
			$l1_pin "$perf" --port $((P_G2H + 10 * k + i)) --buf-size "$buf" \
				>"$GDIR/$1-g2h-$buf-$k.log" 2>&1 &
			g2h_rx+=($!)
			i=$((i + 1))
		done
	done
	sleep 0.3
}

# guest_cases CFG NEXT: L1's side of one configuration's cases; NEXT, the
# configuration L2 loads next in this boot, if any.
guest_cases() {
	local cfg=$1 next=$2 i k buf size
	# g2h: L1's receivers end with their streams (or when L2 ends), one
	# after the other (BENCH_GUEST_STAT: the counters after each).
	local p n=0
	l1stat "$cfg g2h start"
	for p in "${g2h_rx[@]}"; do
		wait "$p" || { echo "guest $cfg: a g2h receiver failed or L2 ended early" >&2; return 1; }
		l1stat "$cfg g2h receiver $n done"
		n=$((n + 1))
	done
	# h2g: warm-up, then the cases (L2 prints its rates).
	lt "$cfg h2g"
	for ((k = 0; k <= GUEST_REPS; k++)); do
		i=1
		for buf in $GUEST_BUFS; do
			retry_send $((P_H2G + 10 * k + i)) "$([ $k = 0 ] && echo "$GUEST_WARM" || echo "$GUEST_BYTES")" \
				"$buf" "$GDIR/$cfg-h2g-tx-$buf-$k.log" || return 1
			l1stat "$cfg h2g-$buf/$k sent"
			i=$((i + 1))
		done
	done
	# Latency: L1 is the client (its clock), L2 echoes; a few pings first.
	# L2 starts its server once the rest of its step has run; the client
	# retries its connect for about 10 s, and is run again while L2 lives.
	lt "$cfg lat"
	local try
	for try in 1 2 3; do
		$l1_pin "$pingpong" client 3 $P_LAT 4096 20 >/dev/null && break
		kill -0 "$qemu_pid" 2>/dev/null && [ "$try" -lt 3 ] || return 1
	done
	for size in $GUEST_SIZES; do
		l1stat "$cfg lat-$size before"
		$l1_pin "$pingpong" client 3 $P_LAT "$size" "$GUEST_PINGS" >"$GDIR/$cfg-lat-$size.log" || return 1
		l1stat "$cfg lat-$size after"
	done
	# The next configuration's receivers, before L2 can start sending.
	[ -z "$next" ] || g2h_listen "$next"
	retry_send $P_END 0 4K "$GDIR/$cfg-end.log" || return 1
	lt "$cfg end"
}

# median: the median of the numbers on stdin.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# guest_results CFG ROUND: the CSV rows of one configuration: the median
# of its GUEST_REPS runs per throughput case (each run goes to
# guest-runs.csv), median and p99 of the ping-pongs.  With GUEST_HOST set
# (the host-backend part), rows of implementation GUEST_HOST, cases host-*.
guest_results() {
	local cfg=$1 r=$2 buf size rate rates line k dir total
	local impl=${GUEST_HOST:-$cfg} pre=${GUEST_HOST:+host-}
	for dir in g2h h2g; do
		for buf in $GUEST_BUFS; do
			rates=
			for ((k = 1; k <= GUEST_REPS; k++)); do
				if [ $dir = g2h ]; then
					rate=$(sed -nE 's/^rx performance: ([0-9.]+) Gbits\/s/\1/p' "$GDIR/$cfg-g2h-$buf-$k.log")
					total=$(sed -nE 's/^total bytes received: ([0-9]+)$/\1/p' "$GDIR/$cfg-g2h-$buf-$k.log")
				else
					line=$(sed -nE "s/^L2-H2G: $cfg $buf $k ([0-9.]+ [0-9]+).*/\\1/p" "$GDIR/l2.log")
					rate=${line% *} total=${line##* }
				fi
				[[ $rate =~ ^[0-9.]+$ ]] || { echo "no $dir rate and total for $cfg $buf run $k" >&2; return 1; }
				# A rate counts every byte sent or none (the receiver's
				# edit in scripts/build-static-tools.sh).
				[ "$total" = "$GUEST_BYTES" ] || {
					echo "$dir $cfg $buf run $k: received '$total' bytes of $GUEST_BYTES" >&2
					return 1
				}
				echo "$r,$impl,$pre$dir-$buf,$k,$rate" >>"$OUT/guest-runs.csv"
				rates+="$rate"$'\n'
			done
			echo "$r,$impl,$pre$dir-$buf,gbps,$(printf %s "$rates" | median)" >>"$csv"
		done
	done
	for size in $GUEST_SIZES; do
		line=$(cat "$GDIR/$cfg-lat-$size.log")
		echo "$r,$impl,${pre}glat-$size,median_us,$(sed -E 's/.*median_us=([0-9.]+).*/\1/' <<<"$line")" >>"$csv"
		echo "$r,$impl,${pre}glat-$size,p99_us,$(sed -E 's/.*p99_us=([0-9.]+).*/\1/' <<<"$line")" >>"$csv"
	done
}

# bench_pad: the padding of one boot or backend load, 0-15 pages
# (bench/pad/vsb_pad.h): BENCH_PAD, or by default a random number.
bench_pad() {
	case ${BENCH_PAD:-random} in
	random) echo $((RANDOM % 16)) ;;
	[0-9] | 1[0-5]) echo "$BENCH_PAD" ;;
	*) echo "BENCH_PAD: 'random' or 0-15, not '$BENCH_PAD'" >&2; return 1 ;;
	esac
}

# pad_load N and pad_unload N: L1's padding modules for N, before a
# backend's modules and after them (the host part).
pad_load() {
	local b
	for b in 1 2 4 8; do
		[ $(($1 & b)) = 0 ] || insmod "$ROOT/tools/testing/vsock-rust/bench/pad/vsb_pad$b.ko" || return 1
	done
}
pad_unload() {
	local b
	for b in 1 2 4 8; do
		[ $(($1 & b)) = 0 ] || rmmod "vsb_pad$b" || return 1
	done
}

# l2_params CFG...: bench/l2-bench.sh's parameters.
l2_params() {
	local IFS=, pad
	pad=$(bench_pad) || return 1
	echo "vsb.cfg=$* vsb.bytes=$GUEST_BYTES vsb.warm=$GUEST_WARM vsb.bufs=${GUEST_BUFS// /,}" \
		"vsb.reps=$GUEST_REPS vsb.pad=$pad${BENCH_GUEST_PAUSE:+ vsb.pause=$BENCH_GUEST_PAUSE}" \
		"$([ -z "$GUEST_DIAG${BENCH_GUEST_STAT:-}" ] || echo vsb.diag=1)" "${BENCH_INSNPROF:+nokaslr}" \
		"$([ -z "${BENCH_INSNPROF:-}${L1PROF:-}" ] || echo vsb.prof=1)"
}

# prof_watch LOG: while L2 runs, a snapshot of its instruction counts
# (bench/insnprof.c, in GDIR/prof) for each L2-PROF line of LOG.
prof_watch() {
	local line c k w
	tail -n +1 -F "$1" 2>/dev/null | while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		"L2-PROF: "*)
			read -r _ c k w <<<"$line"
			[ ! -d "$GDIR/prof" ] || touch "$GDIR/prof/snap-${c}_${k//\//_}-$w"
			[ -z "${L1PROF:-}" ] || touch "$L1PROF/snap-${GUEST_HOST:-$c}_${k//\//_}-$w"
			;;
		esac
	done
}

# guest_boot ROUND CFG...: one L2 boot running the configurations in turn.
guest_boot() {
	local r=$1 rc=0 k child t0 log=$GDIR/l2.log name qargs=${BENCH_L2_QEMU_ARGS:-} wrap=${BENCH_L2_WRAP:-}
	shift
	local cfgs=("$@") watch=
	name=$(IFS=-; echo "${cfgs[*]}")
	rm -f "$GDIR"/*.log
	if [ -n "${BENCH_INSNPROF:-}" ]; then
		rm -rf "$GDIR/prof" && mkdir "$GDIR/prof" || return 1
		qargs+=" -plugin $ROOT/tools/testing/vsock-rust/bench/insnprof.so,dir=$GDIR/prof"
	fi
	if [ -n "${BENCH_INSNPROF:-}${L1PROF:-}" ]; then
		# L1's own profile (vm.sh VM_INSNPROF=1): its module symbols.
		[ -z "${L1PROF:-}" ] || grep '\[' /proc/kallsyms >"${L1PROF%/prof}/ksyms-${GUEST_HOST:-l1}.txt"
		: >"$log"
		prof_watch "$log" &
		watch=$!
	fi
	local params
	params=$(l2_params "${cfgs[@]}") || return 1
	g2h_listen "${cfgs[0]}"
	t0=$EPOCHREALTIME
	lt "boot $name"
	# QEMU in a subshell that stops the g2h receivers when L2 ends, so that
	# waiting for them needs no polling (which would cost L1 instructions
	# during the measurements).
	(
		$l1_pin timeout "${GUEST_TIMEOUT:-3000}" ${wrap//L2LOG/$GDIR/l2-wrap.log} qemu-system-x86_64 -name l2,debug-threads=on \
			-accel tcg -m "${BENCH_L2_MEM:-256M}" \
			-smp "${BENCH_L2_CPUS:-1}" -mem-prealloc -nographic -no-reboot -nic none \
			-kernel "$GDIR/bzImage" -initrd "$GDIR/l2.cpio" \
			-append "console=ttyS0 quiet panic=-1 oops=panic $params" \
			-device vhost-vsock-pci,guest-cid=3 ${qargs//L2LOG/$GDIR/l2-extra} \
			</dev/null >"$log" 2>&1 &
		echo $! >"$GDIR/qemu.pid"
		wait $!
		pkill -f "$GDIR/vsock_perf --port ${P_G2H%??}" || true
	) &
	local runner=$!
	while [ ! -s "$GDIR/qemu.pid" ]; do sleep 0.1; done
	# QEMU itself, the child of timeout (or of BENCH_L2_WRAP's command).
	for k in $(seq 100); do
		qemu_pid=$(pgrep -P "$(cat "$GDIR/qemu.pid")" qemu-system) && break
		if [ -n "$wrap" ]; then
			child=$(pgrep -P "$(cat "$GDIR/qemu.pid")" | head -n 1)
			if [ -n "$child" ] && qemu_pid=$(pgrep -P "$child" qemu-system); then
				break
			fi
		fi
		sleep 0.1
	done
	[ "$l2_pin" = 0 ] || l2_pin_vcpus || { rc=1; kill "$qemu_pid"; }
	# L1's profile: where QEMU's code and its translated code lie.
	[ -z "${L1PROF:-}" ] || cat "/proc/$qemu_pid/maps" >"${L1PROF%/prof}/maps-${GUEST_HOST:-$name}.txt"
	local tally=
	if [ -n "$GUEST_DIAG" ]; then
		$l1_pin /usr/bin/python3 "$ROOT/tools/testing/vsock-rust/bench/vsock_tally.py" \
			vsockmon0 "$qemu_pid" "$GDIR/tally.log" &
		tally=$!
	fi
	for k in "${!cfgs[@]}"; do
		[ $rc = 0 ] || break
		guest_cases "${cfgs[$k]}" "${cfgs[$((k + 1))]:-}" || rc=1
	done
	[ $rc = 0 ] || kill "$qemu_pid" 2>/dev/null
	wait "$runner" || true
	[ -z "$tally" ] || { kill "$tally"; wait "$tally" || rc=1; }
	[ -z "$watch" ] || { pkill -P "$watch"; kill "$watch"; wait "$watch"; } 2>/dev/null
	lt "exit $name"
	# Keep the logs.
	local keep=$OUT/${GUEST_HOST:+host-$GUEST_HOST-}guest-$name-$r
	mkdir -p "$keep"
	[ ! -d "$GDIR/prof" ] || cp -r "$GDIR/prof" "$keep/"
	[ ! -e "$GDIR/l2-extra" ] || mv "$GDIR/l2-extra" "$GDIR/l2-extra.log"
	cp "$GDIR"/*.log "$keep/"
	cat "$GDIR/times.log" >>"$OUT/guest-times.log"
	grep -aE '^L2-(UP|LAYOUT|PAD|CFG|H2G|STATUS|SPLAT)' "$log" | sed "s/^/  /"
	echo "  L2 run with $name: $(echo "$EPOCHREALTIME - $t0" | bc) s (L1's clock)"
	if [ $rc != 0 ] || ! grep -q "L2-STATUS: 0" "$log" || grep -q "L2-SPLAT" "$log"; then
		echo "guest $name round $r failed; L2 console:" >&2
		cat "$log" >&2
		return 1
	fi
	for k in "${cfgs[@]}"; do guest_results "$k" "$r" || return 1; done
}
