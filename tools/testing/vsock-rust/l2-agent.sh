#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The command agent of a nested L2 guest (busybox sh, started by the
# initramfs of mkinitramfs.sh): runs the commands the L1 side sends over the
# virtio-serial port named "vsock-rust-ctl", which does not depend on vsock,
# so the guest's vsock driver can come and go under it.  See l2-lib.sh.
#
# Protocol: L1 sends "ID COMMAND" lines; the agent runs COMMAND with sh -c
# (stdin /dev/null, output collected) and answers with the output, each
# line as "ID|LINE", followed by "@@END ID STATUS".  Background jobs must redirect their own output.
# When the host side is not connected, reading the port returns end of file:
# the agent waits and reads again (the L2 QEMU may be replaced under it, by
# a migration).
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
		cmd=${line#* }
		[ "$cmd" = quit ] && { echo "@@END $id 0" >&3; exit 0; }
		sh -c "$cmd" </dev/null >/tmp/agent.out 2>&1 3>&-
		rc=$?
		# The answer's end marker starts a line.
		[ -z "$(tail -c 1 /tmp/agent.out)" ] || echo >>/tmp/agent.out
		{ sed "s/^/$id|/" /tmp/agent.out; echo "@@END $id $rc"; } >&3
	done
	sleep 0.2
done
