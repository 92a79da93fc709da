#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise a vsock-rust benchmark run (suites/bench.sh).

    report.py RUN_DIR [--min-rounds N]

Reads RUN_DIR/bench.csv (round,impl,case,metric,value), prints a table of
the medians per implementation with the Rust/C ratio and the spread across
rounds (loopback cases, then the guest-driver cases g2h-, h2g-, glat-),
then the host-backend cases (host-g2h-, host-h2g-, host-glat-: Rust
vhost_vsock_rs against C vhost_vsock under the same C guest driver) as a
table of their own, then one table for each further implementation (alt,
rust64k) with Rust's median and its ratios to C and Rust, and writes RUN_DIR/bench.json (every run plus the
summary) and RUN_DIR/bench.png (throughput per buffer size, one panel for
loopback, guest to host, host to guest, and for the host backend's two
directions).  Exits 1 when a case lacks a
measurement of an implementation measured in its part.  A part measured
without C or without Rust (an A/B run such as BENCH_HOSTS="rust alt") has
no Rust/C rows: its implementations' tables give the ratios there are.

Each Rust/C row also gives the paired view of the rounds (C and Rust are
measured in every round, in alternating order): the geometric mean of the
per-round ratios Rust/C with its 95% confidence interval (Student's t on
the logarithms, the rounds taken as independent), and the rounds in which
Rust did better.  What the two measurements of a round share cancels in
the ratio (the L1 boot; with BENCH_GUEST_BOOT=one also the L2 boot and its
placement).  A round with a value that is not positive is left out.  The
rounds of a run all share its L1 boot, and runs of the same code have
differed by more than this interval: bench/pool.py pools several runs.

With RUN_DIR/order.csv (part,round,position,impl: the order in which each
round measured its implementations, suites/bench.sh), a further table
splits each Rust/C row's paired ratios by that order: the geometric mean
over the rounds in which Rust was measured after C and over those in
which it was measured before, Welch's t of the difference of their
logarithms and its Welch-Satterthwaite degrees of freedom (|t| above
Student's 0.975 quantile at those degrees of freedom, about 2.3 at 8 and
2.1 at 18, is significant at 5%, for that one row).  A row needs two
rounds in each group.  With an even number of rounds the alternating
order cancels such an effect in the paired mean.
"""
import csv
import json
import math
import statistics
import sys
from pathlib import Path

HIGHER_IS_BETTER = {"gbps"}

# Student's t, two-sided 95% (0.975 quantile), by degrees of freedom.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def paired(base, other, higher):
    """The paired comparison of two implementations measured in the same
    rounds: {round: value} each.  Returns the number of rounds in both, the
    geometric mean of the ratios other/base, its 95% confidence interval
    (None with fewer than two rounds) and the rounds in which other did
    better, over the rounds with a positive value of both; None when there
    is no such round."""
    rounds = sorted(r for r in set(base) & set(other) if base[r] > 0 and other[r] > 0)
    if not rounds:
        return None
    logs = [math.log(other[r] / base[r]) for r in rounds]
    n = len(logs)
    mean = statistics.fmean(logs)
    ci = None
    if n >= 2:
        half = T975[min(n - 2, len(T975) - 1)] * statistics.stdev(logs) / math.sqrt(n)
        ci = (math.exp(mean - half), math.exp(mean + half))
    won = sum(1 for x in logs if (x > 0 if higher else x < 0))
    return {"rounds": n, "geomean": math.exp(mean), "ci95": ci, "won": won}


def by_order(base, other, later, earlier):
    """The paired ratios other/base split by order: later and earlier are
    the sets of rounds in which other was measured after and before base
    (a round in neither is left out).  Returns the geometric mean and the
    number of rounds of each group, Welch's t of the difference (later
    minus earlier) of their log ratios and its Welch-Satterthwaite degrees
    of freedom, or None when a group has fewer than two rounds or both
    have no spread."""
    rounds = [r for r in set(base) & set(other) if base[r] > 0 and other[r] > 0]
    groups = [[math.log(other[r] / base[r]) for r in rounds if r in g]
              for g in (later, earlier)]
    if min(len(g) for g in groups) < 2:
        return None
    v = [statistics.variance(g) / len(g) for g in groups]
    if sum(v) <= 0:
        return None
    m = [statistics.fmean(g) for g in groups]
    df = sum(v) ** 2 / sum(x * x / (len(g) - 1) for x, g in zip(v, groups))
    return {"later": {"geomean": math.exp(m[0]), "rounds": len(groups[0])},
            "earlier": {"geomean": math.exp(m[1]), "rounds": len(groups[1])},
            "welch_t": (m[0] - m[1]) / math.sqrt(sum(v)), "df": df}


def fmt_paired(p):
    if p is None:
        return "-"
    ci = "" if p["ci95"] is None else f" [{p['ci95'][0]:.3f}, {p['ci95'][1]:.3f}]"
    return f"{p['geomean']:.3f}{ci} {p['won']}/{p['rounds']}"


def main():
    run = Path(sys.argv[1])
    rows = list(csv.DictReader(open(run / "bench.csv")))
    data = {}
    by_round = {}
    for r in rows:
        key = (r["case"], r["metric"])
        data.setdefault(key, {}).setdefault(r["impl"], []).append(float(r["value"]))
        by_round.setdefault(key, {}).setdefault(r["impl"], {})[r["round"]] = float(r["value"])

    # The order of each round's measurements, per part (order.csv).
    order = {}
    order_file = run / "order.csv"
    if order_file.exists():
        for r in csv.DictReader(open(order_file)):
            order.setdefault((r["part"], r["round"]), {})[r["impl"]] = int(r["position"])

    # Cases of the guest-driver part (bench/guest.sh): L2's driver over the
    # same C vhost host; of the host-backend part (host-*): L1's backend
    # under the same C guest driver; the others are the loopback part.
    def part(case):
        first = case.split("-")[0]
        if first == "host":
            return "host"
        return "guest" if first in ("g2h", "h2g", "glat") else "loopback"
    # Every implementation measured in a part must be there for each of its
    # cases.
    impls_of = {}
    for (case, _), by_impl in data.items():
        impls_of.setdefault(part(case), set()).update(by_impl)
    spread = lambda v, m: (max(v) - min(v)) / m * 100 if m else 0.0
    ratio_of = lambda m, base: None if base is None else (m / base if base else float("nan"))

    summary = []
    ok = True
    # Rows per table: the drivers (loopback and guest parts), then the
    # host backends.
    lines = {"drivers": [], "host": []}
    order_lines = []
    for (case, metric), by_impl in data.items():
        missing = sorted(impls_of[part(case)] - set(by_impl))
        if missing:
            print(f"{case:<16} {metric:<10} missing measurements of {', '.join(missing)}",
                  file=sys.stderr)
            ok = False
        c, rs = by_impl.get("c", []), by_impl.get("rust", [])
        mc = statistics.median(c) if c else None
        mr = statistics.median(rs) if rs else None
        others = {}
        for impl, vals in by_impl.items():
            if impl in ("c", "rust"):
                continue
            m = statistics.median(vals)
            rounds = by_round[(case, metric)]
            higher = metric in HIGHER_IS_BETTER
            others[impl] = {"median": m, "ratio_over_c": ratio_of(m, mc),
                            "ratio_over_rust": ratio_of(m, mr),
                            "spread_pct": spread(vals, m), "rounds": len(vals),
                            "paired_over_c": paired(rounds.get("c", {}), rounds[impl], higher),
                            "paired_over_rust": paired(rounds.get("rust", {}), rounds[impl],
                                                       higher)}
        if not c or not rs:
            # Missing here but measured elsewhere in its part: reported
            # above.  A part without C or Rust at all: only the other
            # implementations' tables.
            if {"c", "rust"} <= impls_of[part(case)]:
                ok = False
            if others:
                summary.append({"case": case, "metric": metric, "c_median": mc,
                                "rust_median": mr, "others": others})
            continue
        ratio = mr / mc if mc else float("nan")
        higher = metric in HIGHER_IS_BETTER
        good = ratio >= 1.0 if higher else ratio <= 1.0
        pair = paired(by_round[(case, metric)]["c"], by_round[(case, metric)]["rust"], higher)
        split = None
        if order:
            pos = {r: p for (pt, r), p in order.items() if pt == part(case)}
            later = {r for r, p in pos.items() if p.get("rust", 0) > p.get("c", 0) > 0}
            earlier = {r for r, p in pos.items() if 0 < p.get("rust", 0) < p.get("c", 0)}
            split = by_order(by_round[(case, metric)]["c"], by_round[(case, metric)]["rust"],
                             later, earlier)
            if split:
                order_lines.append(
                    f"{case:<16} {metric:<10} {split['later']['geomean']:>11.3f} "
                    f"{split['later']['rounds']:>3}  {split['earlier']['geomean']:>11.3f} "
                    f"{split['earlier']['rounds']:>3}  {split['welch_t']:>7.2f} "
                    f"{split['df']:>5.1f}")
        summary.append({
            "case": case, "metric": metric, "rounds": min(len(c), len(rs)),
            "c_median": mc, "rust_median": mr, "ratio_rust_over_c": ratio,
            "c_spread_pct": spread(c, mc), "rust_spread_pct": spread(rs, mr),
            "higher_is_better": higher, "rust_at_least_as_good": good,
            "paired": pair, "by_order": split, "others": others,
        })
        lines["host" if part(case) == "host" else "drivers"].append(
            f"{case:<16} {metric:<10} {mc:>10.3f} {mr:>12.3f} {ratio:>7.3f}  "
            f"{spread(c, mc):>8.1f}% {spread(rs, mr):>10.1f}%  {'rust' if good else 'C':<6}  "
            f"{fmt_paired(pair)}")
    head = (f"{'case':<16} {'metric':<10} {'C median':>10} {'Rust median':>12} "
            f"{'Rust/C':>7}  {'C spread':>9} {'Rust spread':>11}  better  "
            f"paired Rust/C [95% CI] rounds Rust better")
    # Further implementations (an "alt" build for A/B runs; the guest
    # driver with other parameters, e.g. rust64k): their ratios to C and
    # Rust, in a table each.
    extra = sorted({i for s in summary for i in s["others"]})
    if lines["drivers"] or not (lines["host"] or extra):
        print(head)
        print("\n".join(lines["drivers"]))
    if lines["host"]:
        if lines["drivers"]:
            print()
        print("host backend: rust vs c (L1's vhost_vsock_rs against vhost_vsock; "
              "L2's guest driver C in both)")
        print(head)
        print("\n".join(lines["host"]))
    for impl in extra:
        if lines["drivers"] or lines["host"] or impl != extra[0]:
            print()
        # Rust's median too: an A/B run without C has no Rust/C table.
        print(f"{'case':<16} {'metric':<10} {'Rust median':>12} {impl + ' median':>14} "
              f"{impl + '/C':>12} "
              f"{impl + '/Rust':>14}  {'spread':>7}  {'paired ' + impl + '/C':<29} "
              f"paired {impl}/Rust [95% CI] rounds {impl} better")
        fmt = lambda r, w: f"{'-':>{w}}" if r is None else f"{r:>{w}.3f}"
        for s in summary:
            o = s["others"].get(impl)
            if o:
                print(f"{s['case']:<16} {s['metric']:<10} {fmt(s['rust_median'], 12)} "
                      f"{o['median']:>14.3f} "
                      f"{fmt(o['ratio_over_c'], 12)} {fmt(o['ratio_over_rust'], 14)}  "
                      f"{o['spread_pct']:>6.1f}%  {fmt_paired(o['paired_over_c']):<29} "
                      f"{fmt_paired(o['paired_over_rust'])}")
    if order_lines:
        print()
        print("paired Rust/C by order in the round (Welch's t: Rust after C minus "
              "Rust before C, on the log ratios; df its degrees of freedom)")
        print(f"{'case':<16} {'metric':<10} {'Rust after':>11} {'n':>3}  {'Rust before':>11} "
              f"{'n':>3}  {'t':>7} {'df':>5}")
        print("\n".join(order_lines))
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
        panels = [(p, t, [s for s in summary if s["case"].startswith(p + "-")])
                  for p, t in (("tput", "loopback"), ("g2h", "guest to host (L2 to L1)"),
                               ("h2g", "host to guest (L1 to L2)"),
                               ("host-g2h", "host backend rust vs c: L2 to L1"),
                               ("host-h2g", "host backend rust vs c: L1 to L2"))]
        panels = [p for p in panels if p[2]]
        if panels:
            colors = {"c": "tab:blue", "rust": "tab:orange", "rust64k": "tab:green",
                      "alt": "tab:red"}
            fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
            for ax, (prefix, title, cases) in zip(axes[0], panels):
                impls = [i for i in ("c", "rust") + tuple(extra)
                         if all(i in data[(s["case"], "gbps")] for s in cases)]
                width = 0.8 / len(impls)
                x = range(len(cases))
                for k, impl in enumerate(impls):
                    vals = [data[(s["case"], "gbps")][impl] for s in cases]
                    med = [statistics.median(v) for v in vals]
                    err = [[m - min(v) for m, v in zip(med, vals)],
                           [max(v) - m for m, v in zip(med, vals)]]
                    off = (k - (len(impls) - 1) / 2) * width
                    ax.bar([i + off for i in x], med, width, yerr=err, capsize=3,
                           label={"c": "C", "rust": "Rust"}.get(impl, impl),
                           color=colors.get(impl))
                ax.set_xticks(list(x), [s["case"][len(prefix) + 1:] for s in cases])
                ax.set_xlabel("buffer size")
                ax.set_ylabel("Gbit/s (median, min-max)")
                ax.set_title(title)
                ax.legend()
            fig.suptitle(f"vsock throughput under TCG ({clock} clock)")
            fig.tight_layout()
            fig.savefig(run / "bench.png", dpi=100)
            print(f"wrote {run / 'bench.png'}")
    print(f"wrote {run / 'bench.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
