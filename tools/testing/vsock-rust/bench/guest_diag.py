#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise the diagnostics of a guest-driver benchmark run
(make bench BENCH_GUEST_DIAG=1; bench/guest.sh, bench/vsock_tally.py).

    guest_diag.py RUN_DIR

For each configuration and case (the medians over rounds and runs), per MiB of
payload moved: data packets and their mean payload; packets the other
way (credit updates); L2's virtio interrupts and context switches; the
vhost worker's context switches (its wake-ups, mostly kicks); and where
the time went: L2's CPU (user, system, irq + softirq, idle) and L1's
busy ticks split into the L2 vCPU thread (everything L2 runs), the vhost
worker, QEMU's main loop (interrupt injection) and the rest of CPU 0 (the
L1 program, the kernel's softirqs and workers; the capture's own time
taken out).  Ticks are USER_HZ samples under the instruction-counted
clock: they count instructions, coarsely.
"""
import re
import statistics
import sys
from pathlib import Path

MIB = 1 << 20


def cases_of(bufs, reps):
    """(case, rep, port) of each throughput run (ports as in guest.sh)."""
    return [(f"{d}-{b}", k, base + 10 * k + 1 + i)
            for d, base in (("g2h", 20500), ("h2g", 20600))
            for k in range(1, reps + 1) for i, b in enumerate(bufs)]


def parse_tally(path):
    """Connections in order: dict(port, pkts {k: (n, bytes)}, res {k: v})."""
    out = []
    for line in path.read_text().splitlines():
        if not line.startswith("port="):
            if line.startswith("dropped="):
                print(f"{path}: {line}", file=sys.stderr)
            continue
        c = {"pkts": {}, "res": {}}
        for f in line.split():
            k, v = f.split("=", 1)
            if k == "port":
                c["port"] = int(v)
            elif "/" in v and not v.endswith("sw"):
                n, b = v.split("/")
                c["pkts"][k] = (int(n), int(b))
            elif v.endswith("sw"):
                t, sw = v[:-2].split("t/")
                c["res"][k] = int(t)
                c["res"][k + "_sw"] = int(sw)
            else:
                c["res"][k] = int(v.rstrip("t"))
        out.append(c)
    return out


def parse_l2(path):
    """{(cfg, case): {counter: delta}} from the L2-DIAG lines."""
    before, out = {}, {}
    for line in path.read_text(errors="replace").splitlines():
        m = re.match(r"L2-DIAG: (\S+) (\S+) (before|after) (.*)", line)
        if not m:
            continue
        vals = {k: float(v) for k, v in (f.split("=") for f in m.group(4).split())}
        key = (m.group(1), m.group(2))
        if m.group(3) == "before":
            before[key] = vals
        elif key in before:
            out[key] = {k: v - before[key].get(k, 0) for k, v in vals.items()}
    return out


def main():
    run = Path(sys.argv[1])
    rows = {}       # (cfg, case) -> list of dicts (one per round)
    order = []
    for d in sorted(run.glob("guest-*-[0-9]*")):
        if not (d / "tally.log").exists():
            continue
        l2 = d / "l2.log"
        cfgs = [m.group(1) for m in re.finditer(r"^L2-CFG: (\S+),", l2.read_text(errors="replace"), re.M)]
        text = l2.read_text(errors="replace")
        bufs = re.search(r"vsb\.bufs=(\S+)", text)
        bufs = bufs.group(1).split(",") if bufs else ["4K", "64K", "128K"]
        reps = re.search(r"vsb\.reps=(\d+)", text)
        reps = int(reps.group(1)) if reps else 1
        l2diag = parse_l2(l2)
        conns = parse_tally(d / "tally.log")
        # Split the connections by configuration: each ends with port 20439.
        k = 0
        for cfg in cfgs:
            mine = []
            while k < len(conns):
                c = conns[k]
                k += 1
                mine.append(c)
                if c["port"] == 20439 and any(p.endswith("-shut") for p in c["pkts"]):
                    break
            # Connections that moved data, by port (failed connects left out).
            byport = {}
            for c in mine:
                if any(p.endswith("-rw") for p in c["pkts"]):
                    byport.setdefault(c["port"], []).append(c)
            for case, rep, port in cases_of(bufs, reps):
                if port not in byport:
                    continue
                c = byport[port][0]
                dirn = case[:3]
                other = "h2g" if dirn == "g2h" else "g2h"
                n, b = c["pkts"].get(f"{dirn}-rw", (0, 0))
                if not b:
                    continue
                mib = b / MIB
                r = c["res"]
                l1 = {"vcpu": r.get("vcpu", 0), "vhost": r.get("vhost", 0), "main": r.get("main", 0)}
                cpu0 = r.get("cpu0", 0) - r.get("tally", 0)
                l1["rest"] = max(0, cpu0 + r.get("cpu1", 0) - sum(l1.values()) - r.get("other", 0))
                l1busy = sum(l1.values()) or 1
                ld = l2diag.get((cfg, f"{case}/{rep}"), {})
                l2t = sum(ld.get(x, 0) for x in ("user", "sys", "irq", "idle")) or 1
                row = {
                    "pkts/MiB": n / mib, "payload": b / n,
                    "back/MiB": sum(v[0] for p, v in c["pkts"].items() if p.startswith(other)) / mib,
                    "credup/MiB": c["pkts"].get(f"{other}-credup", (0, 0))[0] / mib,
                    "l2irq/MiB": ld.get("virtio0-virtqueues", 0) / mib,
                    "l2ctxt/MiB": ld.get("ctxt", 0) / mib,
                    "vhostsw/MiB": r.get("vhost_sw", 0) / mib,
                    "l2user%": 100 * ld.get("user", 0) / l2t, "l2sys%": 100 * ld.get("sys", 0) / l2t,
                    "l2irq%": 100 * ld.get("irq", 0) / l2t, "l2idle%": 100 * ld.get("idle", 0) / l2t,
                    "vcpu%": 100 * l1["vcpu"] / l1busy, "vhost%": 100 * l1["vhost"] / l1busy,
                    "qmain%": 100 * l1["main"] / l1busy, "l1rest%": 100 * l1["rest"] / l1busy,
                    "l1ticks/MiB": l1busy / mib,
                }
                key = (cfg, case)   # all rounds and runs of a case together
                if key not in rows:
                    order.append(key)
                rows.setdefault(key, []).append(row)
    if not rows:
        print("no diagnostics (run with BENCH_GUEST_DIAG=1)", file=sys.stderr)
        return 1
    cols = list(next(iter(rows.values()))[0])
    print(f"{'cfg':<8} {'case':<9} " + " ".join(f"{c:>11}" for c in cols))
    for key in sorted(order, key=lambda k: (k[1], k[0])):
        med = {c: statistics.median(r[c] for r in rows[key]) for c in cols}
        print(f"{key[0]:<8} {key[1]:<9} " + " ".join(
            f"{med[c]:>11.0f}" if med[c] >= 100 else f"{med[c]:>11.1f}" for c in cols))
    print("per MiB of payload; medians over rounds; % of L2's ticks (l2*) and of L1's busy ticks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
