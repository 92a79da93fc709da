#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The nested guest's (L2) half of suites/pair.sh.  Runs under busybox as the
# command of mkinitramfs.sh's /init, after the guest's vsock modules are
# loaded:
#
#   l2-pair.sh PORT_A PORT_B PORT_L LOOPBACK.ko
#
# Three runs of upstream's vsock_test (static, in /bin), one after the other
# as vmtest.sh runs its shared-VM cases in one VM:
#   A  L2 client, L1 server (vm_client_host_server): control connection to
#      10.0.2.2:PORT_A, which QEMU's user network delivers to L1's
#      127.0.0.1:PORT_A, where L1's server already listens (run once more,
#      after "L2-RERUN A", when it ended in a race of vsock_test itself:
#      L1 connects to the forwarded PORT_A + 1 once its new server listens);
#   B  L2 server, L1 client (vm_server_host_client): L2 listens on PORT_B,
#      QEMU forwards L1's 127.0.0.1:PORT_B to it (hostfwd); "L2-LISTENING B"
#      on the console tells L1 to start its client (run once more, as B2,
#      after "L2-RERUN B", when it ended in a race of vsock_test itself);
#   L  both sides in L2 over the loopback transport (vm_loopback):
#      /bin/LOOPBACK.ko (not loaded at boot) joins the virtio transport, as
#      vmtest.sh's modprobe vsock_loopback does, control over 127.0.0.1:PORT_L.
# No file system is shared with L1, so the results go to the console: after
# each run its output, every line prefixed with "L2|X| " (Lc, Ls: loopback
# client and server), then
#   L2-RESULT X client=RC server=RC oops=N warn=N t=UPTIME
# with the exit status of L2's side(s), what vmtest.sh checks in the guest's
# kernel log (new lines containing "Oops", new warning-level lines
# mentioning vsock: its dmesg --level=warn | grep -i vsock) and L2's uptime
# at the end of the run.
set -u
port_a=$1 port_b=$2 port_l=$3 loopback=$4
. /bin/vt-races.sh
vt=/bin/vsock_test
# Upper bound of one vsock_test run (15-90 s).
limit=300

ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2

oops_count() {
	dmesg | grep -ci oops
}

# Busybox's dmesg has no --level; -r gives each line's <priority>, whose
# low three bits are the level (4: warning).
warn_count() {
	dmesg -r | awk -F'[<>]' '$2 % 8 == 4 && tolower($0) ~ /vsock/ { n++ } END { print n + 0 }'
}

# wait_listen PORT: until a TCP socket listens on PORT (state 0A), at most
# 30 s.
wait_listen() {
	hex=$(printf ':%04X 00000000:0000 0A' "$1")
	i=0
	while [ $i -lt 300 ]; do
		grep -q "$hex" /proc/net/tcp && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# begin: remember the kernel log's counts before a run.
begin() {
	oops0=$(oops_count)
	warn0=$(warn_count)
}

# show TAG LOG: print a log, every line prefixed with "L2|TAG| ".
show() {
	sed "s/^/L2|$1| /" "$2"
}

# report X CLIENT_RC SERVER_RC: a run's result line ("-": L1's side).
report() {
	echo "L2-RESULT $1 client=$2 server=$3 oops=$(($(oops_count) - oops0))" \
		"warn=$(($(warn_count) - warn0)) t=$(cut -d' ' -f1 /proc/uptime)"
}

# A: L2 client, L1 server.  A run ended by a race of vsock_test itself
# (vt-races.sh, judged from the client's log) is run once more, as B is:
# "L2-RERUN A RACE" tells L1, which starts its server again and then
# connects to PORT_A + 1 (forwarded): the client's control connection is
# not retried, so it must wait for that.  The first run's log goes to the
# console as Ax.
run_a() {
	timeout $limit $vt --mode=client --control-host=10.0.2.2 --control-port="$port_a" \
		--peer-cid=2 >/tmp/a.log 2>&1
	rc=$?
}
begin
run_a
if [ $rc != 0 ] && race=$(vt_known_race /tmp/a.log); then
	show Ax /tmp/a.log
	echo "L2-RERUN A $race"
	timeout $limit nc -l -p $((port_a + 1)) </dev/null >/dev/null
	echo "L2-GO A2"
	run_a
fi
show A /tmp/a.log
report A $rc -

# B: L2 server, L1 client.  A run ended by a race of vsock_test itself
# (vt-races.sh) is run once more: "L2-RERUN B RACE" tells L1, its log goes
# to the console as Bx, and the second run (B2) is B's result.
run_b() {
	timeout $limit $vt --mode=server --control-port="$port_b" --peer-cid=2 >/tmp/b.log 2>&1 &
	server=$!
	if wait_listen "$port_b"; then
		echo "L2-LISTENING $1"
	else
		echo "L2-NOT-LISTENING $1"
	fi
	wait $server
	rc=$?
}
begin
run_b B
if [ $rc != 0 ] && race=$(vt_known_race "" /tmp/b.log); then
	show Bx /tmp/b.log
	echo "L2-RERUN B $race"
	run_b B2
fi
show B /tmp/b.log
report B - $rc

# L: loopback inside L2, next to the virtio transport.
begin
insmod "/bin/$loopback" || echo "L2: insmod $loopback failed"
timeout $limit $vt --mode=server --control-port="$port_l" --peer-cid=1 >/tmp/l-server.log 2>&1 &
server=$!
wait_listen "$port_l" || echo "L2: loopback server not listening"
timeout $limit $vt --mode=client --control-host=127.0.0.1 --control-port="$port_l" \
	--peer-cid=1 >/tmp/l-client.log 2>&1
crc=$?
[ $crc = 0 ] || kill $server 2>/dev/null
wait $server
src=$?
show Lc /tmp/l-client.log
show Ls /tmp/l-server.log
report L $crc $src
