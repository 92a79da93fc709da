#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise a vsock-rust benchmark run (suites/bench.sh).

    report.py RUN_DIR [--min-rounds N]

Reads RUN_DIR/bench.csv (round,impl,case,metric,value), prints a table of
the medians per implementation with the Rust/C ratio and the spread across
rounds, and writes RUN_DIR/bench.json (every run plus the summary) and
RUN_DIR/bench.png (throughput per buffer size, both implementations).
Exits 1 when a case lacks a measurement of either implementation.
"""
import csv
import json
import statistics
import sys
from pathlib import Path

HIGHER_IS_BETTER = {"gbps"}


def main():
    run = Path(sys.argv[1])
    rows = list(csv.DictReader(open(run / "bench.csv")))
    data = {}
    for r in rows:
        key = (r["case"], r["metric"])
        data.setdefault(key, {}).setdefault(r["impl"], []).append(float(r["value"]))

    summary = []
    ok = True
    print(f"{'case':<16} {'metric':<10} {'C median':>10} {'Rust median':>12} "
          f"{'Rust/C':>7}  {'C spread':>9} {'Rust spread':>11}  better")
    for (case, metric), by_impl in data.items():
        c, rs = by_impl.get("c", []), by_impl.get("rust", [])
        if not c or not rs:
            print(f"{case:<16} {metric:<10} missing measurements", file=sys.stderr)
            ok = False
            continue
        mc, mr = statistics.median(c), statistics.median(rs)
        ratio = mr / mc if mc else float("nan")
        spread = lambda v, m: (max(v) - min(v)) / m * 100 if m else 0.0
        higher = metric in HIGHER_IS_BETTER
        good = ratio >= 1.0 if higher else ratio <= 1.0
        summary.append({
            "case": case, "metric": metric, "rounds": min(len(c), len(rs)),
            "c_median": mc, "rust_median": mr, "ratio_rust_over_c": ratio,
            "c_spread_pct": spread(c, mc), "rust_spread_pct": spread(rs, mr),
            "higher_is_better": higher, "rust_at_least_as_good": good,
        })
        print(f"{case:<16} {metric:<10} {mc:>10.3f} {mr:>12.3f} {ratio:>7.3f}  "
              f"{spread(c, mc):>8.1f}% {spread(rs, mr):>10.1f}%  {'rust' if good else 'C'}")
    # An "alt" build (A/B runs of two Rust builds): its ratio to C too.
    if any("alt" in by_impl for by_impl in data.values()):
        print(f"{'case':<16} {'metric':<10} {'alt median':>10} {'alt/C':>7} {'alt/Rust':>8}")
        for (case, metric), by_impl in data.items():
            alt = by_impl.get("alt", [])
            if alt and by_impl.get("c") and by_impl.get("rust"):
                ma = statistics.median(alt)
                print(f"{case:<16} {metric:<10} {ma:>10.3f} "
                      f"{ma / statistics.median(by_impl['c']):>7.3f} "
                      f"{ma / statistics.median(by_impl['rust']):>8.3f}")
    clock_file = run / "bench.clock"
    clock = clock_file.read_text().strip() if clock_file.exists() else "wall"
    print(f"clock: {clock} (icount: guest time counts guest instructions)")
    print("spread: (max - min) / median across rounds; ratios from this one run only")

    json.dump({"clock": clock, "runs": rows, "summary": summary}, open(run / "bench.json", "w"), indent=1)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot (install python3-matplotlib)", file=sys.stderr)
    else:
        cases = [s for s in summary if s["case"].startswith("tput-")]
        if cases:
            labels = [s["case"][5:] for s in cases]
            x = range(len(cases))
            fig, ax = plt.subplots(figsize=(6, 4))
            for off, impl, color in ((-0.2, "c", "tab:blue"), (0.2, "rust", "tab:orange")):
                vals = [data[(s["case"], "gbps")][impl] for s in cases]
                med = [statistics.median(v) for v in vals]
                err = [[m - min(v) for m, v in zip(med, vals)],
                       [max(v) - m for m, v in zip(med, vals)]]
                ax.bar([i + off for i in x], med, 0.4, yerr=err, capsize=3,
                       label="C" if impl == "c" else "Rust", color=color)
            ax.set_xticks(list(x), labels)
            ax.set_xlabel("buffer size")
            ax.set_ylabel("Gbit/s (median, min-max)")
            ax.set_title("vsock loopback throughput, 1 VM under TCG")
            ax.legend()
            fig.tight_layout()
            fig.savefig(run / "bench.png", dpi=100)
    print(f"wrote {run / 'bench.json'} and {run / 'bench.png'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
