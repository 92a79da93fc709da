#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The nested guest's (L2) half of suites/rebind.sh, under busybox as the
# command of mkinitramfs.sh's /init:
#
#   l2-rebind.sh PORT_A PORT_B ROUNDS
#
# A: L2's client against L1's server on PORT_A (L1's RST frees L2's port);
# B: L2's server on PORT_B ("L2-LISTENING" tells L1 to start its client;
# L2's RST frees L1's port).  Results on the console: "L2-A RC LINE" and
# "L2-B RC".
set -u
pa=$1 pb=$2 n=$3
out=$(vsock_rebind client 2 "$pa" $((pa + 1)) "$n" 2>&1)
echo "L2-A $? $out"
vsock_rebind server "$pb" "$n" >/tmp/server.log 2>&1 &
server=$!
i=0
while ! grep -q listening /tmp/server.log && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
if grep -q listening /tmp/server.log; then
	echo "L2-LISTENING"
else
	echo "L2-NOT-LISTENING"
fi
wait $server
echo "L2-B $? $(tail -n 1 /tmp/server.log)"
