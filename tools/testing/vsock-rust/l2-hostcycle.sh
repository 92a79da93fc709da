#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The nested guest's (L2) half of suites/hostcycle.sh, under busybox as the
# command of mkinitramfs.sh's /init (which powers L2 off when it ends):
#
#   l2-hostcycle.sh PORT_TO_L1 PORT_FROM_L1 BYTES once|forever
#
# BYTES both ways at once, checked byte for byte by the receivers
# (vsock_xfer): L2 sends to L1's listener on PORT_TO_L1 and receives from
# L1 on PORT_FROM_L1 ("L2-LISTENING" on the console tells L1 to connect);
# "L2-TRAFFIC: send S recv R" gives both exit statuses.  once: then L2
# powers off (a clean stop).  forever: then two endless transfers on the
# next ports (PORT_TO_L1 + 2, PORT_FROM_L1 + 2; "L2-LISTENING-2"), in the
# middle of which L1 kills L2's QEMU with SIGKILL.
set -u
to_l1=$1 from_l1=$2 bytes=$3 mode=$4

# listen PORT BYTES LOG: a receiver in the background, once it listens.
listen() {
	rm -f /tmp/ready
	vsock_xfer -r /tmp/ready recv "vsock-listen:$1" "$2" >"$3" 2>&1 &
	rpid=$!
	i=0
	while [ ! -e /tmp/ready ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

listen "$from_l1" "$bytes" /tmp/recv.log
echo "L2-LISTENING"
vsock_xfer send "vsock:2:$to_l1" "$bytes"
s=$?
wait $rpid
r=$?
cat /tmp/recv.log
echo "L2-TRAFFIC: send $s recv $r"
[ $s = 0 ] && [ $r = 0 ] || exit 1
[ "$mode" = forever ] || exit 0
listen $((from_l1 + 2)) 1000G /tmp/recv2.log
echo "L2-LISTENING-2"
vsock_xfer send "vsock:2:$((to_l1 + 2))" 1000G
echo "L2-SEND-ENDED $?"
sleep 100000
