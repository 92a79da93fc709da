#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Count what a vsockmon device sees, per connection: the diagnostics of
the guest-driver benchmark (BENCH_GUEST_DIAG=1, bench/guest.sh).  Runs in
the L1 VM only.

    vsock_tally.py DEV QEMU_PID OUT

Captures on DEV (a vsockmon link: every packet vhost_vsock moves, both
ways) until SIGTERM, then writes OUT: one line per connection, in order of
appearance, with its bench port (20400-20699), the packets and payload
bytes per direction and operation, and, between the connection's first
packet and its first SHUTDOWN or RST, the CPU time of L1's CPUs and of
QEMU's threads (the L2 vCPU thread, QEMU's main loop, the vhost worker),
and the vhost worker's context switches.  CPU times are in USER_HZ ticks
(/proc); this tool's own time is reported, to be left out of CPU 0's.
"""
import os
import signal
import socket
import struct
import sys

ETH_P_ALL = 3
MON = struct.Struct("<QQIIHHH2x")           # struct af_vsockmon_hdr
HDR = struct.Struct("<QQIIIHHIII")          # struct virtio_vsock_hdr
OPS = {1: "req", 2: "resp", 3: "rst", 4: "shut", 5: "rw", 6: "credup", 7: "credreq"}
GUEST_CID = 3


def cpu_ticks():
    """Busy ticks per CPU (everything but idle and iowait)."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                v = [int(x) for x in line.split()[1:]]
                out[line.split()[0]] = sum(v) - v[3] - v[4]
    return out


def threads(pid):
    """(name, utime + stime, voluntary + involuntary switches) of each
    thread of QEMU (vhost workers are threads of it)."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                st = f.read()
            name = st[st.index("(") + 1:st.rindex(")")]
            fields = st[st.rindex(")") + 2:].split()
            ticks = int(fields[11]) + int(fields[12])
            sw = 0
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if "ctxt_switches:" in line:
                        sw += int(line.split()[1])
        except (OSError, ValueError):
            continue
        # One line per kind of thread: vCPU, vhost worker, main loop, others.
        if name.startswith("CPU ") and name.endswith("/TCG"):
            kind = "vcpu"
        elif name.startswith("vhost-"):
            kind = "vhost"
        elif tid == str(pid):
            kind = "main"
        else:
            kind = "other"
        t, s = out.get(kind, (0, 0))
        out[kind] = (t + ticks, s + sw)
    return out


def self_ticks():
    with open("/proc/self/stat") as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def snapshot(qemu):
    return {"cpu": cpu_ticks(), "thr": threads(qemu), "self": self_ticks()}


def main():
    dev, qemu, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)   # SO_RCVBUFFORCE
    s.bind((dev, 0))
    conns = {}
    order = []
    signal.signal(signal.SIGTERM, stop)
    buf = bytearray(MON.size + HDR.size)
    try:
        capture(s, buf, qemu, conns, order)
    except Stop:
        pass
    # What is still queued.
    s.setblocking(False)
    try:
        capture(s, buf, qemu, conns, order)
    except (BlockingIOError, Stop):
        pass
    _, drops = struct.unpack("II", s.getsockopt(263, 6, 8))    # PACKET_STATISTICS
    write(out, conns, order, drops)


class Stop(Exception):
    pass


def stop(*_):
    raise Stop()


def capture(s, buf, qemu, conns, order):
    while True:
        n = s.recv_into(buf, len(buf))
        if n < MON.size + HDR.size:
            continue
        (src_cid, dst_cid, src_port, dst_port, length, _ty, op, _fl, _ba, _fc) = \
            HDR.unpack_from(buf, MON.size)
        if 20400 <= dst_port < 20700:
            port, eph = dst_port, src_port
        elif 20400 <= src_port < 20700:
            port, eph = src_port, dst_port
        else:
            continue
        key = (port, eph)
        c = conns.get(key)
        if c is None:
            c = conns[key] = {"port": port, "pkts": {}, "start": snapshot(qemu), "end": None}
            order.append(key)
        d = "g2h" if src_cid == GUEST_CID else "h2g"
        k = f"{d}-{OPS.get(op, op)}"
        p = c["pkts"].setdefault(k, [0, 0])
        p[0] += 1
        p[1] += length
        if op in (3, 4) and c["end"] is None:
            c["end"] = snapshot(qemu)


def write(out, conns, order, drops):
    with open(out, "w") as f:
        if drops:
            f.write(f"dropped={drops} (packets the capture lost: counts too low)\n")
        for key in order:
            c = conns[key]
            parts = [f"port={c['port']}"]
            for k in sorted(c["pkts"]):
                n, b = c["pkts"][k]
                parts.append(f"{k}={n}/{b}")
            a, z = c["start"], c["end"]
            if z:
                for cpu in sorted(a["cpu"]):
                    parts.append(f"{cpu}={z['cpu'][cpu] - a['cpu'][cpu]}")
                for kind in sorted(z["thr"]):
                    t0, s0 = a["thr"].get(kind, (0, 0))
                    t1, s1 = z["thr"][kind]
                    parts.append(f"{kind}={t1 - t0}t/{s1 - s0}sw")
                parts.append(f"tally={z['self'] - a['self']}t")
            f.write(" ".join(parts) + "\n")


if __name__ == "__main__":
    main()
