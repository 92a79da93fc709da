# SPDX-License-Identifier: GPL-2.0
# The L2 side of the guest-driver benchmark (bench/guest.sh drives the L1
# side): runs under busybox sh from the L2 initramfs as /bin/l2-bench.sh.
# Parameters from the kernel command line:
#
#   vsb.cfg=A,B,...   guest driver configurations, in turn (guest.sh)
#   vsb.bytes=N       bytes per g2h run
#   vsb.warm=N        bytes of the g2h warm-up runs
#   vsb.bufs=A,B,...  buffer sizes (4K,64K,128K)
#   vsb.reps=N        runs of each throughput case (1)
#   vsb.diag=1        L2-DIAG lines: L2's counters around each run
#   vsb.prof=1        L2-PROF lines around each run, each followed by a
#                     second's pause: L1 asks bench/insnprof.c for a
#                     snapshot of L2's instruction counts meanwhile
#   vsb.pause=S       sleep S seconds before each g2h run (diagnosis: lets
#                     the previous connection's teardown finish first)
#   vsb.pad=N         first load the padding modules (bench/pad) of the
#                     bits of N (0-15): vsb_pad1, 2, 4, 8, which move the
#                     text of the modules under test by N pages (their
#                     data by more)
#
# Ports as in guest.sh: g2h receivers in L1 on 20500 + 10 * run + n for
# the n-th buffer size (from 1; run 0 is the warm-up), h2g receivers here
# on 20600 + 10 * run + n likewise, the ping-pong server here on 20430,
# the end of a configuration on 20439.
cfgs= bytes= warm= bufs= diag= prof= reps=1 pad=0 pause=
for a in $(cat /proc/cmdline); do
	case $a in
	vsb.cfg=*) cfgs=${a#*=} ;;
	vsb.bytes=*) bytes=${a#*=} ;;
	vsb.warm=*) warm=${a#*=} ;;
	vsb.bufs=*) bufs=${a#*=} ;;
	vsb.diag=1) diag=1 ;;
	vsb.prof=1) prof=1 ;;
	vsb.reps=*) reps=${a#*=} ;;
	vsb.pad=*) pad=${a#*=} ;;
	vsb.pause=*) pause=${a#*=} ;;
	esac
done
bufs=$(echo "$bufs" | tr , ' ')
echo "L2-PARAMS: $(cat /proc/cmdline)"
# Where the kernel lies (the test kernels have no KASLR: the same in
# every boot; the modules move with vsb.pad, see L2-CFG) and its clock.
echo "L2-LAYOUT: _text $(sed -n '/ T _text$/ { s/ T _text$//p; q; }' /proc/kallsyms)" \
	"clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
dmesg | grep -iE 'tsc:|clocksource:' | sed 's/^/L2-CLOCK: /'

# L2-T: L2's uptime at each step (read is a shell builtin: no process).
t() { read -r up _ </proc/uptime; echo "L2-T: $up $*"; }

# d CFG CASE before|after: with vsb.diag=1, L2's interrupts per virtio
# vector, its CPU ticks (user, system, irq + softirq, idle) and context
# switches.
d() {
	if [ -n "$prof" ]; then
		echo "L2-PROF: $1 $2 $3"
		sleep 1
	fi
	[ -n "$diag" ] || return 0
	echo "L2-DIAG: $1 $2 $3 $(awk '
		# An interrupt line of /proc/interrupts: its counts over all CPUs.
		function cpus_total(i, n) {
			for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
			return n
		}
		/virtio0-/ { printf "%s=%d ", $NF, cpus_total() }
		/^ *(LOC|RES|CAL|TLB|SPU|PMI|IWI|NMI):/ {
			printf "%s=%d ", tolower(substr($1, 1, length($1) - 1)), cpus_total() }
		/^intr / { printf "intr=%d ", $2 }
		/^softirq / { printf "softirq=%d ", $2 }
		/^cpu / { printf "user=%d sys=%d irq=%d idle=%d ", $2 + $3, $4, $7 + $8, $5 + $6 }
		/^ctxt/ { printf "ctxt=%d ", $2 }
		FILENAME == "/proc/uptime" { printf "up=%s idlesec=%s", $1, $2 }' /proc/interrupts /proc/stat /proc/uptime)"
}

# The padding modules, for every configuration of this boot.
for b in 1 2 4 8; do
	[ $((pad & b)) = 0 ] || insmod /bin/vsb_pad$b.ko || exit 1
done
echo "L2-PAD: $pad pages"

load() {
	case $1 in
	c) insmod /bin/vmw_vsock_virtio_transport_common.ko && insmod /bin/vmw_vsock_virtio_transport.ko ;;
	rust) insmod /bin/vsock_rs_common.ko && insmod /bin/vsock_rs_virtio.ko ;;
	rust64k) insmod /bin/vsock_rs_common.ko && insmod /bin/vsock_rs_virtio.ko rx_buf_size=65536 ;;
	alt) insmod /bin/alt/vsock_rs_common.ko && insmod /bin/alt/vsock_rs_virtio.ko ;;
	*) echo "L2: unknown configuration '$1'"; false ;;
	esac
}

# Closed connections hold the transport for up to the 8 s close timeout.
unload() {
	local m n
	case $1 in
	c) set -- vmw_vsock_virtio_transport vmw_vsock_virtio_transport_common ;;
	*) set -- vsock_rs_virtio vsock_rs_common ;;
	esac
	for m; do
		n=0
		until rmmod $m 2>/dev/null; do
			n=$((n + 1))
			[ $n -lt 200 ] || { echo "L2: rmmod $m failed"; return 1; }
			sleep 0.1
		done
	done
}

for cfg in $(echo "$cfgs" | tr , ' '); do
	t "$cfg modules"
	load $cfg || exit 1
	# The driver bound to the device (the only virtio device here).
	drv=$(readlink /sys/bus/virtio/devices/virtio0/driver)
	echo "L2-CFG: $cfg, virtio0 bound to ${drv##*/}," \
		"$(awk '/^(vsock_rs_virtio|vmw_vsock_virtio_transport) / { print $1 " at " $6 }' /proc/modules)"
	[ -n "$drv" ] || exit 1
	# g2h: L1's receivers listen already; a warm-up run of each size (run
	# 0), then the runs.
	t "$cfg g2h"
	for k in $(seq 0 $reps); do
		i=1
		n=$bytes
		[ $k != 0 ] || n=$warm
		for buf in $bufs; do
			[ -z "$pause" ] || sleep "$pause"
			d $cfg g2h-$buf/$k before
			vsock_perf --sender 2 --port $((20500 + 10 * k + i)) --bytes $n \
				--buf-size $buf >/dev/null || exit 1
			d $cfg g2h-$buf/$k after
			i=$((i + 1))
		done
	done
	# h2g: L1 connects once each receiver listens (it retries).
	t "$cfg h2g"
	for k in $(seq 0 $reps); do
		i=1
		for buf in $bufs; do
			d $cfg h2g-$buf/$k before
			vsock_perf --port $((20600 + 10 * k + i)) --buf-size $buf >/tmp/rx.log || exit 1
			d $cfg h2g-$buf/$k after
			[ $k = 0 ] ||
				echo "L2-H2G: $cfg $buf $k $(sed -nE 's/^rx performance: ([0-9.]+) Gbits.*/\1/p' /tmp/rx.log)" \
					"$(sed -nE 's/^total bytes received: ([0-9]+)$/\1/p' /tmp/rx.log)"
			i=$((i + 1))
		done
	done
	# L1 pings the server, then connects to 20439 to end the
	# configuration.  The server starts last, after everything else this
	# shell runs for the step (L1's client retries its connect until it
	# listens), and L2 then runs nothing else.  L2 has one CPU, and a
	# program still running on it delays each echo: under PREEMPT_LAZY
	# the woken server waits until that program leaves the kernel or
	# until the next tick (4 ms at HZ=250).  With the server started at
	# the beginning of the configuration, while L2 still ran the end of
	# the host-to-guest step, 64-byte round trips took 2.4-2.7 ms
	# (median of 200) against 0.7-0.8 ms at 4 KiB, for both drivers;
	# started here, 0.63-0.69 ms.
	t "$cfg lat"
	d $cfg lat before
	vsock_perf --port 20439 --buf-size 4K >/dev/null &
	end=$!
	sleep 0.5
	vsock_pingpong server 20430 &
	srv=$!
	wait $end || exit 1
	d $cfg lat after
	kill $srv
	wait $srv
	# Diagnostics: where the vsock modules sit, to name L2 code addresses.
	[ -z "$diag$prof" ] ||
		grep -E '\[(vsock_rs_|vmw_vsock_)' /proc/kallsyms | sed "s/^/L2-KSYM: $cfg /"
	t "$cfg end"
	unload $cfg || exit 1
done
