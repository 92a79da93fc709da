#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Instruction profiles of benchmark runs, from bench/insnprof.c's
snapshots (make bench BENCH_INSNPROF=1).

    insnprof.py [--top N] [--cases RE] SYSTEM_MAP BOOT_DIR...

BOOT_DIR: a boot's kept logs (guest-CFG-ROUND or host-B-guest-c-ROUND of a
bench run) with prof/NAME-before.prof and prof/NAME-after.prof per run,
NAME being CFG_CASE (CASE: g2h-4K_1 and so on), and, for the module
symbols, the kallsyms lines the profiled machine printed (L2-KSYM: CFG
ADDR TYPE NAME [MODULE] in l2.log, or ksyms-CFG.txt).  SYSTEM_MAP names
the kernel's own symbols (the profiled kernel runs with nokaslr).

Prints, per case, instructions per packet-sized unit (per KiB of payload
moved) by symbol, every configuration side by side, the symbols sorted by
their largest difference; then the totals.
"""
import argparse
import bisect
import re
import sys
from pathlib import Path

USER = "[user]"


def load_map(path):
    syms = []
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if len(f) >= 3 and f[1] in "tTwW":
            syms.append((int(f[0], 16), f[2]))
    return syms


def load_ksyms(boot):
    """{cfg: [(addr, name)]} of the modules, from l2.log or ksyms-*.txt."""
    out = {}
    l2 = boot / "l2.log"
    lines = []
    if l2.exists():
        for line in l2.read_text(errors="replace").splitlines():
            m = re.match(r"L2-KSYM: (\S+) (.*)", line)
            if m:
                lines.append((m.group(1), m.group(2)))
    for f in boot.glob("ksyms-*.txt"):
        cfg = f.stem[len("ksyms-"):]
        lines += [(cfg, line) for line in f.read_text().splitlines()]
    for cfg, rest in lines:
        f = rest.split()
        if len(f) >= 3 and f[1] in "tTwW":
            mod = f[3] if len(f) > 3 else ""
            out.setdefault(cfg, []).append((int(f[0], 16), f"{f[2]} {mod}".strip()))
    return out


def load_maps(boot):
    """{cfg: [(start, end, name)]}: a process's mappings (maps-CFG.txt, the
    profiled machine's /proc/PID/maps of L2's QEMU), to place user code."""
    out = {}
    for f in boot.glob("maps-*.txt"):
        maps = []
        for line in f.read_text().splitlines():
            p = line.split()
            if len(p) < 5 or "x" not in p[1]:
                continue
            lo, hi = (int(x, 16) for x in p[0].split("-"))
            name = p[5].rsplit("/", 1)[-1] if len(p) > 5 else "anon (translated code)"
            maps.append((lo, hi, name))
        out[f.stem[len("maps-"):]] = sorted(maps)
    return out


def read_prof(path):
    prof = {}
    for line in path.read_text().splitlines():
        a, n, c = line.split()
        prof[(int(a, 16), int(n))] = int(c)
    return prof


def by_symbol(before, after, table, maps=(), calls=False):
    """Instructions (or calls) per symbol between two snapshots; `table` is
    (sorted symbols, their addresses)."""
    table, addrs = table
    starts = [m[0] for m in maps]
    out = {}
    for key, c in after.items():
        d = c - before.get(key, 0)
        if d <= 0:
            continue
        addr, n = key
        if addr < (1 << 63):
            if calls:
                continue
            name = USER
            i = bisect.bisect_right(starts, addr) - 1
            if i >= 0 and addr < maps[i][1]:
                name = f"[user: {maps[i][2]}]"
        else:
            i = bisect.bisect_right(addrs, addr) - 1
            name = table[i][1] if i >= 0 else "?"
            if calls:
                # Calls: executions of the block at the symbol's entry.
                if i < 0 or table[i][0] != addr:
                    continue
                n = 1
        out[name] = out.get(name, 0) + d * n
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--cases", default=".")
    ap.add_argument("--calls", action="store_true",
                    help="calls of each function (executions of its entry block), not instructions")
    ap.add_argument("--bytes", default="", help="payload per run (e.g. 32M): per-KiB figures")
    ap.add_argument("system_map")
    ap.add_argument("boots", nargs="+")
    a = ap.parse_args()
    kmap = load_map(a.system_map)
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    total_bytes = None
    if a.bytes:
        total_bytes = int(a.bytes[:-1]) * mult[a.bytes[-1]] if a.bytes[-1] in mult else int(a.bytes)
    # {case: {cfg: {sym: insns}}}
    cases = {}
    for boot in map(Path, a.boots):
        ksyms = load_ksyms(boot)
        maps = load_maps(boot)
        tables = {}  # per configuration: its symbols sorted once
        for after in sorted((boot / "prof").glob("*-after.prof")):
            name = after.name[: -len("-after.prof")]
            cfg, case = name.split("_", 1)
            if not re.search(a.cases, case):
                continue
            before = boot / "prof" / f"{name}-before.prof"
            if not before.exists():
                continue
            if cfg not in tables:
                syms = sorted(kmap + ksyms.get(cfg, ksyms.get("l1", [])))
                tables[cfg] = (syms, [addr for addr, _ in syms])
            table = tables[cfg]
            cases.setdefault(case, {})[f"{boot.name}:{cfg}"] = by_symbol(
                read_prof(before), read_prof(after), table,
                maps.get(cfg, maps.get("l1", [])), a.calls)
    for case, per in sorted(cases.items()):
        cfgs = list(per)
        what = "calls" if a.calls else "insns"
        # Calls per MiB of payload, instructions per KiB; else totals.
        unit_of = "MiB" if a.calls else "KiB"
        if total_bytes and case[:3] in ("g2h", "h2g"):
            unit = f"{what}/{unit_of}"
            div = total_bytes / (1 << (20 if a.calls else 10))
        else:
            # Other runs (latency): per run, calls as counted.
            unit, div = ("calls", 1) if a.calls else ("insns (M)", 1e6)
        print(f"== {case}  ({unit})")
        syms = set().union(*per.values())
        rows = []
        for s in syms:
            v = [per[c].get(s, 0) / div for c in cfgs]
            rows.append((max(v) - min(v), max(v), s, v))
        rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
        print("  " + " ".join(f"{c[-18:]:>18}" for c in cfgs) + "  symbol")
        print("  " + " ".join(f"{sum(per[c].values()) / div:18.1f}" for c in cfgs) + "  TOTAL")
        for _, _, s, v in rows[: a.top]:
            print("  " + " ".join(f"{x:18.1f}" for x in v) + f"  {s}")
        print()


if __name__ == "__main__":
    sys.exit(main())
