#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Pool the paired Rust/C comparisons of several benchmark runs.

    pool.py RUN_DIR RUN_DIR...

The rounds of one run share its L1 boot, and runs of the same code have
differed by more than report.py's per-run intervals allow (design.rst,
"Runs, not rounds, are the unit").  So for each Rust/C row (every case
and metric with C and Rust in the same round of some run) this prints:
each run's paired geometric mean and rounds; the geometric mean of the
runs' own means with its 95% interval over the runs (Student's t, runs -
1 degrees of freedom; the runs taken as the independent units) and the
runs Rust won; and all rounds pooled, with their interval and the rounds
Rust won, as report.py computes them within one run.  Rounds with a
value that is not positive are left out.  Exits 1 without a run
directory.
"""
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import HIGHER_IS_BETTER, fmt_paired, paired  # noqa: E402


def values(run):
    """{(case, metric): {impl: {round: value}}} of C and Rust in one run's
    bench.csv."""
    out = {}
    for r in csv.DictReader(open(Path(run) / "bench.csv")):
        if r["impl"] in ("c", "rust"):
            out.setdefault((r["case"], r["metric"]), {"c": {}, "rust": {}}) \
                [r["impl"]][r["round"]] = float(r["value"])
    return out


def main():
    runs = sys.argv[1:]
    if not runs:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 1
    per_run = [values(r) for r in runs]
    keys = sorted({k for rr in per_run for k, v in rr.items() if set(v["c"]) & set(v["rust"])})
    print(f"{len(runs)} runs: " + " ".join(Path(r).name for r in runs))
    print(f"{'case':<16} {'metric':<10} {'per run (rounds)':<40} "
          f"{'over the runs [95% CI] won':<30} all rounds [95% CI] won")
    for key in keys:
        higher = key[1] in HIGHER_IS_BETTER
        means, cells, base, other = {}, [], {}, {}
        for i, rr in enumerate(per_run):
            v = rr.get(key, {"c": {}, "rust": {}})
            p = paired(v["c"], v["rust"], higher)
            if p is None:
                cells.append("-")
                continue
            means[i] = p["geomean"]
            cells.append(f"{p['geomean']:.3f}({p['rounds']})")
            # All rounds, each named by its run too.
            base.update({(i, r): x for r, x in v["c"].items()})
            other.update({(i, r): x for r, x in v["rust"].items()})
        # The runs' means as the units: paired against 1 each.
        over = fmt_paired(paired(dict.fromkeys(means, 1.0), means, higher)) \
            if len(means) >= 2 else "-"
        pooled = fmt_paired(paired(base, other, higher))
        print(f"{key[0]:<16} {key[1]:<10} {' '.join(cells):<40} {over:<30} {pooled}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
