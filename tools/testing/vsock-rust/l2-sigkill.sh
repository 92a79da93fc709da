#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The nested guest's (L2) half of suites/sigkill.sh, under busybox as the
# command of mkinitramfs.sh's /init:
#
#   l2-sigkill.sh PORT_TO_L1 PORT_FROM_L1
#
# Two endless transfers at once: L2 sends to L1's listener on PORT_TO_L1,
# and listens on PORT_FROM_L1 for L1's sender ("L2-LISTENING" on the
# console tells L1 to connect).  L1 kills this guest's QEMU with SIGKILL in
# the middle of them; nothing here is expected to finish.
set -u
to_l1=$1 from_l1=$2
vsock_xfer -r /tmp/ready recv "vsock-listen:$from_l1" 1000G >/tmp/recv.log 2>&1 &
i=0
while [ ! -e /tmp/ready ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "L2-LISTENING"
vsock_xfer send "vsock:2:$to_l1" 1000G
echo "L2-SEND-ENDED $?"
sleep 100000
