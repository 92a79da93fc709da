# SPDX-License-Identifier: GPL-2.0
# The guest driver's life cycle, on a nested L2 guest: this VM (L1) is the
# host (C vhost_vsock), L2 runs the driver under test (c: upstream's
# vmw_vsock_virtio_transport, rust: vsock_rs_virtio), one L2 boot per
# implementation for all of:
#
#   transport reset, loadvm     savevm + loadvm of L2: QEMU's vhost-vsock
#                               sends VIRTIO_VSOCK_EVENT_TRANSPORT_RESET
#   transport reset, migration  L2 migrated (through a file) into a new
#                               QEMU whose guest CID is 4: reset event and
#                               a new CID to read
#   freeze/restore              echo freeze > /sys/power/state in L2 with
#                               pm_test=devices: the driver's freeze and
#                               restore, with idle connections and with
#                               transfers in flight
#   rmmod/insmod cycles         of the driver (every tenth also of its
#                               common module; Rust: every fourth with
#                               rx_buf_size=65536)
#   unbind/bind cycles          through /sys/bus/virtio/drivers/NAME
#
# Connections open across an event are reset: the L2 socket has
# ECONNRESET pending (SO_ERROR; a read in progress fails with it, one that
# starts afterwards -- after a freeze -- with ENOTCONN); the L1 peer learns
# it when it sends next (L2 answers with a reset: end of file), or at once
# with ECONNRESET when the vhost device goes away (migration).  A transfer
# in flight fails in L2; its L1 end stalls if it waits for credit, which
# never comes (L2 sends nothing when it resets a socket, as upstream).
# The guest CID is right afterwards and new connections carry data both
# ways.  Every fifth cycle runs with connections and transfers open: rmmod
# must then fail (the sockets hold the module) and the connections go on;
# unbind resets them.  Two cycles in five have L1 connecting to L2 in a loop
# while the driver goes and comes back.  L2's kernel log must show no oops,
# WARN, BUG, KASAN or lockdep report, kmemleak (when L2's kernel has it) no
# leak, and the modules must unload at the end.
#
# Arguments: implementations (default: c rust), each IMPL or IMPL:debug.
# Environment: L2_KDIR, the kernel L2 boots (default: this VM's; its C
# modules are used, ours must be built for it), GUESTLIFE_KO_DIR (where our
# modules are, default net/vmw_vsock of the repo); for IMPL:debug, in the
# same L1 boot, L2_DEBUG_KDIR and GUESTLIFE_DEBUG_KO_DIR instead.
# GUESTLIFE_PARTS (default "reset freeze cycles"; reset: loadvm and
# migration) and, per part, GUESTLIFE_DEBUG_PARTS for IMPL:debug (default
# the same).  GUESTLIFE_CYCLES (20 of each kind),
# GUESTLIFE_MIB (MiB each way after an event, 2), GUESTLIFE_KIB (KiB each
# way after a cycle, 256).
set +e
. "$ROOT/tools/testing/vsock-rust/l2-lib.sh"
impls=("$@")
[ ${#impls[@]} -gt 0 ] && [ -n "${impls[0]}" ] || impls=(c rust)
cycles=${GUESTLIFE_CYCLES:-20}
big=$(( ${GUESTLIFE_MIB:-2} * 1048576 ))
small=$(( ${GUESTLIFE_KIB:-256} * 1024 ))
life=$ROOT/tools/testing/vsock-rust/progs/life/vsock_life
parts_default=${GUESTLIFE_PARTS:-reset freeze cycles}
parts_debug=${GUESTLIFE_DEBUG_PARTS:-$parts_default}
[ -x "$life" ] || { echo "guestlife: $life not built (make modules)" >&2; false; return; }
read -r -a HOST_MODS <<<"$(vhost_mods c)"
load_mods "${HOST_MODS[@]}" || return
[ -c /dev/vhost-vsock ] || { echo "no /dev/vhost-vsock" >&2; false; return; }

# L1's echo server (L2 connects to 2:7000); L2 runs one on 7001.
"$life" serve 7000 >"$OUT/l1-serve.log" 2>&1 &
l1_server=$!
churn_pid= churn_log= l1_xfer=

now() { date +%s.%N; }
ts() { date +%s; }

# --- checks -----------------------------------------------------------------
# check DESCRIPTION CMD...: one counted check of the current group; its
# time goes to timing.log.
check() {
	local what=$1 t=$(now)
	shift
	if "$@"; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
		echo "  FAILED: $what"
	fi
	printf '%6.1f %s\n' "$(echo "$(now) - $t" | bc)" "$what" >>"$L2_DIR/timing.log"
}

# glob STRING PATTERN: STRING matches the shell PATTERN; rx STRING REGEX.
glob() { [[ $1 == $2 ]]; }
rx() { [[ $1 =~ $2 ]]; }

# wait_for FILE PATTERN [SECONDS]: until a line of FILE (in L1) matches.
wait_for() {
	local i n=$(( ${3:-30} * 10 ))
	for ((i = 0; i < n; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Holders, each checked with one echo, then idle: from L2 to L1's server
# (/tmp/hold-TAG.log in L2) and from L1 to L2's ($L2_DIR/hold-TAG.log).
start_holders() {
	local tag=$1
	l2 "vsock_life hold 2 7000 >/tmp/hold-$tag.log 2>&1 & echo \$! >/tmp/hold-$tag.pid; wait_line /tmp/hold-$tag.log 'hold: up*' 60" >/dev/null || return 1
	"$life" hold "$gcid" 7001 >"$L2_DIR/hold-$tag.log" 2>&1 &
	eval "l1_hold_$tag=\$!"
	wait_for "$L2_DIR/hold-$tag.log" '^hold: up' 60 || { cat "$L2_DIR/hold-$tag.log"; return 1; }
}

# The L1 holder's connection ended: after a probe that L2 must not echo
# (it answers with a reset: end of file), or by itself (ECONNRESET when
# the vhost device went away).  L2's server keeps its side of a connection
# that failed open for 10 s: the probe reaches a socket that was reset and
# is still open, which must answer with a reset too.
l1_holder_ended() {
	local tag=$1 pid line
	pid=$(eval echo "\$l1_hold_$tag")
	if ! grep -q '^hold: end' "$L2_DIR/hold-$tag.log"; then
		kill -USR1 "$pid" 2>/dev/null
	fi
	wait_for "$L2_DIR/hold-$tag.log" '^hold: end' 60
	wait "$pid" 2>/dev/null
	line=$(grep -E '^hold: (end|probe)' "$L2_DIR/hold-$tag.log" | tr '\n' ' ')
	echo "  L1 holder: $line"
	! grep -q 'probe echoed' "$L2_DIR/hold-$tag.log" &&
		grep -qE '^hold: end so_error=(0 read=eof|ECONNRESET )' "$L2_DIR/hold-$tag.log"
}

stop_l1_holder() {
	local pid
	pid=$(eval echo "\$l1_hold_$1")
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# L1 -> L2 over a new connection: BYTES through L2's echo server.
l1_xfer() {
	local a
	a=$(timeout 300 "$life" xfer "$gcid" 7001 "$1")
	echo "  L1 -> L2 $a"
	[[ $a == "xfer: ok "* ]]
}

# event_checks TAG CID [ERRNOS]: after an event that resets connections,
# with holders TAG open across it; one L2 command reports its side.
#   L2 socket reset         the L2 holder has ECONNRESET pending
#   L2 server socket reset  L2's echo server, reading the L1 holder's
#                           connection, failed with ERRNOS (a regex;
#                           ECONNRESET, or ENOTCONN for a read restarted
#                           after a freeze)
#   L1 peer sees the end    (l1_holder_ended)
#   CID                     L2's CID is CID
#   new connections         L2 -> L1 and L1 -> L2, GUESTLIFE_MIB each
event_checks() {
	local tag=$1 cid=$2 errnos=${3:-ECONNRESET} port out hl sl cl xl
	port=$(sed -nE 's/^hold: up local [0-9]+:([0-9]+)$/\1/p' "$L2_DIR/hold-$tag.log")
	out=$(l2 "echo \"H \$(wait_line /tmp/hold-$tag.log 'hold: end*' 60)\"
		echo \"S \$(wait_line /tmp/serve.log 'serve: 2:$port end*' 30)\"
		echo \"C \$(vsock_life cid)\"; echo \"X \$(vsock_life xfer 2 7000 $big)\"")
	hl=$(sed -n 's/^H //p' <<<"$out") sl=$(sed -n 's/^S //p' <<<"$out")
	cl=$(sed -n 's/^C //p' <<<"$out") xl=$(sed -n 's/^X //p' <<<"$out")
	echo "  L2 holder: $hl"
	echo "  L2 server: $sl"
	echo "  L2 CID: $cl"
	echo "  L2 -> L1 $xl"
	check "L2 socket reset" glob "$hl" 'hold: end so_error=ECONNRESET *'
	check "L2 server socket reset" rx "$sl" " end ($errnos) "
	check "L1 peer sees the end" l1_holder_ended "$tag"
	check "CID $cid" [ "$cl" = "$cid" ]
	check "new connections, L2 -> L1" glob "$xl" 'xfer: ok *'
	check "new connections, L1 -> L2" l1_xfer "$big"
}

# start_xfers TAG BYTES: transfers in the background, both ways (the L1
# one's pid in l1_xfer).
start_xfers() {
	local tag=$1 bytes=$2
	timeout 600 "$life" xfer "$gcid" 7001 "$bytes" 5 >"$L2_DIR/xfer-$tag.log" 2>&1 &
	l1_xfer=$!
	l2 "vsock_life xfer 2 7000 $bytes >/tmp/xfer-$tag.log 2>&1 &"
	sleep 1
}

# xfers_ended TAG ok|reset: both transfers completed, or were ended by a
# reset (L2's fails; L1's fails or stalls, see above).
xfers_ended() {
	local tag=$1 want=$2 a b
	wait "$l1_xfer"
	a=$(cat "$L2_DIR/xfer-$tag.log")
	b=$(l2 "wait_line /tmp/xfer-$tag.log 'xfer: *' 120")
	echo "  L1 -> L2 in flight: $a"
	echo "  L2 -> L1 in flight: $b"
	if [ "$want" = reset ]; then
		[[ $a == "xfer: reset "* || $a == "xfer: stalled "* ]] &&
			[[ $b == "xfer: reset "* && $b != "xfer: reset eof "* ]]
	else
		[[ $a == "xfer: ok "* ]] && [[ $b == "xfer: ok "* ]]
	fi
}

# start_churn TAG PORT: L1 connecting to L2's PORT in a loop, in the
# background (churn_pid).  To the echo server (7001) during unbind/bind
# cycles; to a port without listener (7002: L2 answers with a reset)
# during rmmod/insmod cycles, where live connections would hold the module.
start_churn() {
	churn_log=$L2_DIR/churn-$1.log
	"$life" churn "$gcid" "$2" 300 >"$churn_log" 2>&1 &
	churn_pid=$!
}

stop_churn() {
	[ -n "$churn_pid" ] || return 0
	kill -TERM "$churn_pid"
	wait "$churn_pid"
	echo "  $1: $(cat "$churn_log")"
	churn_pid=
}

# An L2 command: rmmod MODULE, retried for up to 15 s while closing
# sockets hold it.
rmmod_retry() {
	echo "i=0; until rmmod $1 2>/dev/null; do i=\$((i+1)); [ \$i -lt 30 ] || { rmmod $1; exit 1; }; sleep 0.5; done"
}

# l2_cycle WHAT L2-COMMAND: one cycle's L2 side (the command, then the
# CID and a transfer to L1), then a transfer from L1; "CID N" and the
# transfers must be right.
l2_cycle() {
	local what=$1 out a rc
	out=$(l2 "$2 && echo CID \$(vsock_life cid) && vsock_life xfer 2 7000 $small")
	rc=$?
	a=$(timeout 120 "$life" xfer "$gcid" 7001 "$small")
	if [ $rc != 0 ] || ! grep -qx "CID $gcid" <<<"$out" || ! grep -q '^xfer: ok ' <<<"$out" ||
		[[ $a != "xfer: ok "* ]]; then
		echo "  $what: status $rc; L2: $(tr '\n' ' ' <<<"$out"); L1 -> L2: $a"
		return 1
	fi
}

record_group() {
	record "$1 ($label)" "$ok" "$bad"
	echo "guestlife: $1 ($label) took $(( $(ts) - t0 )) s"
	[ "$bad" = 0 ] || rc=1
	ok=0 bad=0 t0=$(ts)
}

l2_splats='Oops|BUG:|WARNING:|KASAN|kernel BUG|general protection fault|Call Trace:|possible circular locking|possible recursive locking|inconsistent lock state|INFO: lockdep|suspicious RCU usage|rust_panic|panicked at|Kernel panic'

# --- one implementation -------------------------------------------------------
run_impl() {
	impl=${1%%:*}
	local mods drv common kmemleak=0 t_impl i L2_KERNEL ko parts
	# Copies of what the caller set (a plain "local" would unset them).
	local L2_KDIR=${L2_KDIR:-}
	local L2_MEMORY=${L2_MEMORY:-} L2_CMD_TIMEOUT=${L2_CMD_TIMEOUT:-}
	local L2_BOOT_TIMEOUT=${L2_BOOT_TIMEOUT:-}
	case "$1" in
	*:debug) label="$impl, debug kernel" L2_KDIR=$L2_DEBUG_KDIR
		ko=${GUESTLIFE_DEBUG_KO_DIR:-} parts=$parts_debug ;;
	*:*) echo "guestlife: unknown kernel in $1" >&2; return 1 ;;
	*) label=$impl L2_KDIR=${L2_KDIR:-$KDIR} ko=${GUESTLIFE_KO_DIR:-$ROOT/net/vmw_vsock}
		parts=$parts_default ;;
	esac
	echo "=== guestlife: $label"
	L2_KERNEL=$L2_KDIR/arch/x86/boot/bzImage
	[ -f "$L2_KERNEL" ] || { echo "guestlife: no kernel in '$L2_KDIR'" >&2; return 1; }
	if grep -q '^CONFIG_KASAN=y' "$L2_KDIR/.config"; then
		: "${L2_MEMORY:=512M}"
		: "${L2_CMD_TIMEOUT:=1200}"
		: "${L2_BOOT_TIMEOUT:=1800}"
	fi
	case "$impl" in
	c) mods=("$L2_KDIR/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko"
		"$L2_KDIR/net/vmw_vsock/vmw_vsock_virtio_transport.ko")
	   common=vmw_vsock_virtio_transport_common drv=vmw_vsock_virtio_transport ;;
	rust) mods=("$ko/vsock_rs_common.ko" "$ko/vsock_rs_virtio.ko")
	   common=vsock_rs_common drv=vsock_rs_virtio
	   [ -f "$ko/vsock_rs_virtio.ko" ] || { echo "guestlife: no vsock_rs_virtio.ko in '$ko'" >&2; return 1; } ;;
	*) echo "guestlife: unknown implementation $impl" >&2; return 1 ;;
	esac
	L2_DIR=$OUT/l2-${1/:/-}
	# Sockets, the snapshot image and the migration stream stay local.
	L2_RUN=$(mktemp -d /tmp/guestlife-${1/:/-}.XXXXXX)
	L2_INITRD=$L2_RUN/initrd.cpio
	mkdir -p "$L2_DIR"
	l2_initramfs "$L2_INITRD" "$life" "${mods[@]}" || return 1
	qemu-img create -q -f qcow2 "$L2_RUN/snap.qcow2" 16M || return 1
	local drive=(-drive "if=none,id=snap,format=qcow2,file=$L2_RUN/snap.qcow2")
	local ins="insmod /bin/$drv.ko"
	ok=0 bad=0 t0=$(ts) t_impl=$(ts)
	gcid=3

	# Boot, load, first traffic.
	check "L2 boots" l2_start 3 "${drive[@]}"
	if [ "$bad" != 0 ]; then
		record_group "L2 boot and load"
		l2_quit
		return 1
	fi
	if l2 '[ -w /sys/kernel/debug/kmemleak ]'; then
		kmemleak=1
		# What boot left is not ours: scan, and forget what it found.
		l2 'echo scan >/sys/kernel/debug/kmemleak; echo clear >/sys/kernel/debug/kmemleak'
	fi
	check "insmod, CID 3, L2 -> L1" l2_cycle "insmod" \
		"insmod /bin/$common.ko && $ins && (vsock_life serve 7001 10 >/tmp/serve.log 2>&1 &)"
	record_group "L2 boot and load"

	# has PART: PART is one of this L2's parts.
	has() { [[ " $parts " == *" $1 "* ]]; }

	# Transport reset: savevm + loadvm.
	if has reset; then
	check "holders up" start_holders r1
	check "savevm, loadvm" l2_qmp "hmp:savevm life" "hmp:loadvm life"
	event_checks r1 3
	record_group "transport reset, loadvm"

	# Transport reset: migration into a new QEMU, guest CID 3 -> 4.
	check "holders up" start_holders r2
	check "migration out" l2_qmp stop "migrate:file:$L2_RUN/migration" quit
	l2_relaunch 4 "${drive[@]}"
	check "migration in" l2_qmp "incoming:file:$L2_RUN/migration" cont
	check "agent back" l2_reconnect
	gcid=4
	event_checks r2 4
	rm -f "$L2_RUN/migration"
	record_group "transport reset, migration"
	fi

	# Freeze and restore, with connections open and transfers in flight.
	if has freeze; then
	check "holders up" start_holders f
	start_xfers f 1073741824
	check "freeze" l2 'echo devices >/sys/power/pm_test; echo 1 >/sys/module/suspend/parameters/pm_test_delay;
		echo freeze >/sys/power/state; r=$?; echo none >/sys/power/pm_test; dmesg | grep -q "suspend debug: Waiting" && exit $r'
	check "transfers in flight reset" xfers_ended f reset
	event_checks f "$gcid" 'ECONNRESET|ENOTCONN'
	record_group "freeze/restore"
	fi

	# rmmod/insmod cycles.
	local cmd param
	local ncyc=$cycles
	has cycles || ncyc=0
	for ((i = 1; i <= ncyc; i++)); do
		param= cmd=
		# Rust: every fourth cycle with the largest receive buffers.
		[ "$impl" = rust ] && [ $((i % 4)) = 3 ] && param=rx_buf_size=65536
		if [ $((i % 5)) = 0 ]; then
			check "cycle $i: holders up" start_holders m$i
			start_xfers m$i "$big"
			kill -USR1 "$(eval echo "\$l1_hold_m$i")"
			check "cycle $i: rmmod fails under live sockets" \
				l2 "! rmmod $drv && grep -q '^$drv ' /proc/modules &&
					kill -USR1 \$(cat /tmp/hold-m$i.pid) && wait_line /tmp/hold-m$i.log 'hold: probe echoed' 30"
			check "cycle $i: L1 connection alive" wait_for "$L2_DIR/hold-m$i.log" '^hold: probe echoed' 30
			check "cycle $i: transfers complete" xfers_ended m$i ok
			stop_l1_holder m$i
			# Once the L2 holder is gone, the sockets release the module.
			cmd="kill \$(cat /tmp/hold-m$i.pid) && "
		elif [ $((i % 5)) = 2 ] || [ $((i % 5)) = 4 ]; then
			start_churn m$i 7002
		fi
		if [ $((i % 10)) = 0 ]; then
			cmd+="$(rmmod_retry $drv) && rmmod $common && insmod /bin/$common.ko && $ins $param"
		else
			cmd+="$(rmmod_retry $drv) && $ins $param"
		fi
		check "cycle $i: rmmod, insmod $param" l2_cycle "rmmod/insmod cycle $i" "$cmd"
		stop_churn "cycle $i"
	done
	[ "$ncyc" = 0 ] || record_group "rmmod/insmod cycles"

	# unbind/bind cycles.
	local dev sysd=/sys/bus/virtio/drivers/$drv
	dev=$(l2 "ls $sysd | grep '^virtio'")
	echo "  device $dev"
	for ((i = 1; i <= ncyc; i++)); do
		if [ $((i % 5)) = 0 ]; then
			check "cycle $i: holders up" start_holders u$i
			start_xfers u$i 1073741824
			check "cycle $i: unbind, bind" l2_cycle "unbind/bind cycle $i" \
				"echo $dev >$sysd/unbind && echo $dev >$sysd/bind"
			check "cycle $i: transfers in flight reset" xfers_ended u$i reset
			event_checks u$i "$gcid"
			continue
		fi
		[ $((i % 5)) = 2 ] || [ $((i % 5)) = 4 ] && start_churn u$i 7001
		check "cycle $i: unbind, bind" l2_cycle "unbind/bind cycle $i" \
			"echo $dev >$sysd/unbind && echo $dev >$sysd/bind"
		stop_churn "cycle $i"
	done
	[ "$ncyc" = 0 ] || record_group "unbind/bind cycles"

	# The end: nothing holds the modules, they unload; L2's log is clean.
	l2 'kill $(pidof vsock_life) 2>/dev/null; true'
	check "rmmod" l2 "$(rmmod_retry $drv) && rmmod $common"
	if [ $kmemleak = 1 ]; then
		l2 'echo scan >/sys/kernel/debug/kmemleak; sleep 1; echo scan >/sys/kernel/debug/kmemleak; cat /sys/kernel/debug/kmemleak' >"$L2_DIR/kmemleak.txt"
		if [ -s "$L2_DIR/kmemleak.txt" ]; then
			echo "  L2 kmemleak: new suspected memory leaks"
			head -60 "$L2_DIR/kmemleak.txt"
			bad=$((bad + 1))
		else
			ok=$((ok + 1))
		fi
	fi
	l2 dmesg >"$L2_DIR/dmesg.txt"
	if grep -aEq "$l2_splats" "$L2_DIR/dmesg.txt"; then
		echo "  L2 kernel reported a problem:"
		grep -aE -m 20 -A 12 "$l2_splats" "$L2_DIR/dmesg.txt" | head -120
		bad=$((bad + 1))
	else
		ok=$((ok + 1))
	fi
	l2_quit
	rm -rf "$L2_RUN"
	# The console has what L2 printed after the agent (and any panic).
	if grep -aEq "$l2_splats|L2-SPLAT" "$L2_DIR/console.log"; then
		grep -aE -A 12 "$l2_splats|L2-SPLAT" "$L2_DIR/console.log" | head -60
		bad=$((bad + 1))
	fi
	record_group "unload, kernel log"
	echo "guestlife: $label took $(( $(ts) - t_impl )) s"
}

rc=0
for impl in "${impls[@]}"; do
	run_impl "$impl" || rc=1
	[ -z "$L2_PID" ] || l2_quit
done
kill $l1_server 2>/dev/null
wait $l1_server 2>/dev/null
unload_mods "${HOST_MODS[@]}" || rc=1
[ $rc = 0 ]
