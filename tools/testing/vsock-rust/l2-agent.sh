#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The command agent of a nested L2 guest (busybox sh, started by the
# initramfs of mkinitramfs.sh): runs the commands the L1 side sends over the
# virtio-serial port named "vsock-rust-ctl", which does not depend on vsock,
# so the guest's vsock driver can come and go under it.  See l2-lib.sh.
#
# Protocol: L1 sends "ID N" and the N lines of a command; the agent
# evaluates the command in a subshell (stdin /dev/null, output collected; the functions below are
# available) and answers with the output, each line as "ID|LINE", followed
# by "@@END ID STATUS".  Background jobs must redirect their own output.
# When the host side is not connected, reading the port returns end of file:
# the agent waits and reads again (the L2 QEMU may be replaced under it, by
# a migration).  Process creation is slow in a nested guest under TCG: the
# agent itself forks once per command and runs no other program.

# wait_line FILE PATTERN SECONDS: waits until a line of FILE matches the
# shell PATTERN (case syntax) and prints the last such line; on timeout
# prints FILE and fails.
wait_line() {
	_n=$(($3 * 10))
	while :; do
		_m=
		while IFS= read -r _l || [ -n "$_l" ]; do
			case "$_l" in $2) _m=$_l ;; esac
		done <"$1"
		[ -n "$_m" ] && { echo "$_m"; return 0; }
		_n=$((_n - 1))
		[ $_n -gt 0 ] || { echo "no '$2' in $1:"; cat "$1"; return 1; }
		sleep 0.1
	done
}

mount -t debugfs none /sys/kernel/debug 2>/dev/null
mkdir -p /tmp
port=
while [ -z "$port" ]; do
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = vsock-rust-ctl ] && port=/dev/${p##*/}
	done
	[ -n "$port" ] || sleep 0.2
done
# The port opens once (it allows one opener): fd 3 reads and writes.
exec 3<>"$port"
echo "L2-AGENT: $port"
while :; do
	while IFS= read -r line <&3; do
		id=${line%% *}
		n=${line#* }
		case "$n" in *[!0-9]*|'') continue ;; esac
		cmd=
		while [ "$n" -gt 0 ] && IFS= read -r line <&3; do
			cmd="$cmd$line
"
			n=$((n - 1))
		done
		[ "$cmd" = "quit
" ] && { echo "@@END $id 0" >&3; exit 0; }
		(eval "$cmd") </dev/null >/tmp/agent.out 2>&1 3>&-
		rc=$?
		while IFS= read -r l || [ -n "$l" ]; do
			echo "$id|$l"
		done </tmp/agent.out >&3
		echo "@@END $id $rc" >&3
	done
	sleep 0.2
done
