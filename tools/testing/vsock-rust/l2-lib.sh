# SPDX-License-Identifier: GPL-2.0
# The nested L2 guest, driven from L1: sourced by L1 suites (after
# guest-lib.sh).  L2 is QEMU (TCG) inside this VM booting a kernel with a
# busybox initramfs (mkinitramfs.sh) whose /init runs l2-agent.sh; L1 runs
# commands in L2 through a virtio-serial port (not vsock: the vsock driver
# under test may be gone) and controls L2's QEMU through QMP (l2-qmp.py).
#
#   l2_initramfs OUT FILE...    initramfs with the agent and FILEs in /bin
#   l2_start CID [QEMU ARGS]    boot L2 with vhost-vsock-pci guest-cid=CID
#   l2 COMMAND                  run COMMAND in L2 (busybox sh, with the
#                               agent's functions: wait_line), print its
#                               output, return its status
#   l2_qmp OP...                QMP operations (see l2-qmp.py)
#   l2_relaunch CID [ARGS]      start the QEMU of a migration's destination
#                               (-incoming defer); then l2_reconnect
#   l2_quit                     stop the agent, wait for L2 to power off
#
# Settings: L2_DIR (this L2's logs: console.log, qemu.log), L2_RUN (its
# sockets and images: a local directory, not the VM's 9p results dir;
# default L2_DIR), L2_KERNEL (bzImage), L2_INITRD, L2_MEMORY (default
# 256M), L2_CMD_TIMEOUT (seconds one command may take, default 600),
# L2_BOOT_TIMEOUT (default 600), L2_EXEC (an array: a command prefix for
# QEMU, e.g. (ip netns exec NS); default none).
#
# L2 boots with tsc=reliable: under TCG the clocksource watchdog otherwise
# often finds the TSC unstable and switches to the HPET, whose every read
# is an exit to QEMU, slowing the whole guest down.  And with
# kunit.autorun=0: the test kernels run the KUnit suites of every module
# at insmod (CONFIG_KUNIT_AUTORUN_ENABLED), ours included, which costs
# seconds per insmod in L2 (minutes on the debug kernel); suite kunit runs
# them.

L2_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
L2_SEQ=0
L2_PID=
L2_CTL_PID=
L2_EXEC=()

# l2_initramfs OUT FILE...: the agent is /init's command; FILEs (programs,
# modules) go to /bin; nothing loads at boot.  OUT is an uncompressed cpio
# archive: inflating one under nested TCG costs L2 seconds (a debug kernel,
# minutes).
l2_initramfs() {
	local out=$1
	shift
	"$L2_LIB_DIR/mkinitramfs.sh" "$out.gz" "sh /bin/l2-agent.sh" -- \
		"$L2_LIB_DIR/l2-agent.sh" "$@" && gunzip -f "$out.gz"
}

# The QEMU command line of L2 with guest CID $1 (and extra arguments).
l2_qemu_args() {
	local cid=$1
	shift
	L2_ARGS=(qemu-system-x86_64 -accel tcg -machine pc -smp 1 -m "${L2_MEMORY:-256M}"
		-nodefaults -no-user-config -display none -no-reboot
		-kernel "$L2_KERNEL" -initrd "$L2_INITRD"
		-append "console=ttyS0 loglevel=5 panic=-1 oops=panic tsc=reliable kunit.autorun=0"
		-chardev "file,id=con,path=$L2_DIR/console.log,append=on" -serial chardev:con
		-device virtio-serial-pci
		-chardev "socket,id=ctl,path=$L2_RUN/ctl.sock,server=on,wait=off"
		-device virtserialport,chardev=ctl,name=vsock-rust-ctl
		-qmp "unix:$L2_RUN/qmp.sock,server=on,wait=off"
		-device "vhost-vsock-pci,guest-cid=$cid"
		"$@")
}

# Connects the agent channel (a socat coprocess on the ctl socket).
l2_connect() {
	local i
	for i in $(seq 100); do
		[ -S "$L2_RUN/ctl.sock" ] && break
		sleep 0.1
	done
	coproc L2CTL { exec socat - UNIX-CONNECT:"$L2_RUN/ctl.sock"; }
	L2_CTL_PID=$L2CTL_PID
	# Plain copies of the coprocess' pipes: bash closes those in
	# subshells, so that "l2 CMD | ..." could not use them.
	exec {L2_TO}>&"${L2CTL[1]}" {L2_FROM}<&"${L2CTL[0]}"
}

l2_disconnect() {
	[ -n "$L2_CTL_PID" ] || return 0
	exec {L2_TO}>&- {L2_FROM}<&-
	kill "$L2_CTL_PID" 2>/dev/null
	wait "$L2_CTL_PID" 2>/dev/null
	L2_CTL_PID=
}

# l2_start CID [QEMU ARGS]: boot L2 and wait until its agent answers.
l2_start() {
	: "${L2_RUN:=$L2_DIR}"
	mkdir -p "$L2_DIR" "$L2_RUN"
	l2_qemu_args "$@"
	echo "l2: ${L2_EXEC[*]} ${L2_ARGS[*]}" >>"$L2_DIR/qemu.log"
	"${L2_EXEC[@]}" "${L2_ARGS[@]}" </dev/null >>"$L2_DIR/qemu.log" 2>&1 &
	L2_PID=$!
	L2_START=$(date +%s)
	l2_connect
	l2_wait_agent "${L2_BOOT_TIMEOUT:-600}"
}

# Waits for the agent's first answer.  Until the agent opens its port,
# what L1 sends may be lost: wait for its "L2-AGENT:" line on the console
# (unless it is up already, after a migration), then ask, and ask again.
l2_wait_agent() {
	local limit=$1 out= end
	end=$(( $(date +%s) + limit ))
	while [ "$(date +%s)" -lt "$end" ] && kill -0 "$L2_PID" 2>/dev/null &&
		! grep -aq 'L2-AGENT:' "$L2_DIR/console.log" 2>/dev/null; do
		sleep 0.5
	done
	while [ "$(date +%s)" -lt "$end" ] && kill -0 "$L2_PID" 2>/dev/null; do
		out=$(L2_CMD_TIMEOUT=3 l2 'echo agent-ok' 2>/dev/null | grep -x agent-ok) && break
	done
	if [ "$out" != agent-ok ]; then
		echo "l2: no agent after $limit s; L2 console:" >&2
		tail -50 "$L2_DIR/console.log" >&2
		return 1
	fi
	echo "l2: agent up after $(( $(date +%s) - L2_START )) s"
}

# l2 COMMAND: runs it in L2 (one line), prints the output, returns its
# status (255 when L2 does not answer in time).
l2() {
	# Unique also when called in a subshell ($(l2 ...)).
	local id=$BASHPID.$((++L2_SEQ)) line
	[ -n "$L2_CTL_PID" ] || { echo "l2: not connected" >&2; return 255; }
	# "ID N" and the N lines of the command.
	local cmd="$*" nl
	nl=${cmd//[!$'\n']/}
	printf '%s %s\n%s\n' "$id" $(( ${#nl} + 1 )) "$cmd" >&"$L2_TO" || return 255
	while IFS= read -r -t "${L2_CMD_TIMEOUT:-600}" line <&"$L2_FROM"; do
		# Lines of other commands (which timed out) are dropped.
		if [[ $line == "$id|"* ]]; then
			printf '%s\n' "${line#"$id|"}"
		elif [[ $line == "@@END $id "* ]]; then
			return "${line##* }"
		fi
	done
	echo "l2: no answer to '$*' (L2 $(kill -0 "$L2_PID" 2>/dev/null && echo running || echo gone))" >&2
	return 255
}

l2_qmp() {
	/usr/bin/python3 "$L2_LIB_DIR/l2-qmp.py" "$L2_RUN/qmp.sock" "$@"
}

# l2_relaunch CID [QEMU ARGS]: after the previous QEMU quit (migration),
# start the destination with -incoming defer; the caller feeds it with
# l2_qmp incoming:URI, then l2_reconnect.
l2_relaunch() {
	l2_disconnect
	wait "$L2_PID" 2>/dev/null
	rm -f "$L2_RUN/qmp.sock" "$L2_RUN/ctl.sock"
	l2_qemu_args "$@" -incoming defer
	echo "l2: ${L2_ARGS[*]}" >>"$L2_DIR/qemu.log"
	"${L2_ARGS[@]}" </dev/null >>"$L2_DIR/qemu.log" 2>&1 &
	L2_PID=$!
}

l2_reconnect() {
	l2_connect
	L2_START=$(date +%s)
	l2_wait_agent 120
}

# l2_quit: the agent exits, /init reports and powers off.
l2_quit() {
	local i
	l2 quit >/dev/null 2>&1 || true
	l2_disconnect
	for i in $(seq 600); do
		kill -0 "$L2_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$L2_PID" 2>/dev/null; then
		echo "l2: did not power off, killing QEMU" >&2
		kill "$L2_PID"
	fi
	wait "$L2_PID" 2>/dev/null
	L2_PID=
}
