"""Figures of the teaching commands, measured cold (a fresh process each run).

    python bench/bench_teach.py [--repeat N]

* ``lsecheck demo`` (non-interactive, stdout not a terminal): target ≤ 3 s cold;
* ``lsecheck accuracy`` default sweep with every framework installed: target ≤ 20 s cold;
* also: ``lsecheck demo --export FILE.html`` and ``lsecheck accuracy --plot``;
* and the accuracy finding itself: bits lost by exp(z − f) against log2|f| (float64).

Each command runs in a new interpreter (imports included: "cold"); the table
shows the best and the median of the runs.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsecheck.plot import predicted

TARGETS = {"demo": 3.0, "accuracy": 20.0}


def timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "lsecheck", *args], capture_output=True,
                         text=True)
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    opts = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    cases = [
        ("demo", "lsecheck demo", ["demo"]),
        ("demo", "lsecheck demo --export x.html", ["demo", "--export", str(tmp / "x.html")]),
        ("accuracy", "lsecheck accuracy", ["accuracy"]),
        ("accuracy", "lsecheck accuracy --plot x.png", ["accuracy", "--plot", str(tmp / "x.png")]),
    ]
    rows, last = [], {}
    for kind, label, args in cases:
        times = []
        for _ in range(opts.repeat):
            dt, out = timed(args)
            if out.returncode not in (0, 1, 3):
                sys.exit(f"{label}: exit {out.returncode}: {out.stderr.strip()}")
            times.append(dt)
        last[label] = out
        target = TARGETS[kind]
        rows.append((label, min(times), statistics.median(times), target))

    print(f"{'command (cold, new process)':<36} {'best s':>7} {'median s':>9} {'target s':>9}  ok")
    for label, best, med, target in rows:
        ok = "yes" if med <= target else "NO"
        print(f"{label:<36} {best:7.2f} {med:9.2f} {target:9.1f}  {ok}")

    # the finding: exp(z − f) against log2|f|, float64, from one JSON run
    _, out = timed(["accuracy", "--dtype", "float64", "--json"])
    cells = json.loads(out.stdout)["meta"]["cells"]
    print("\nfloat64, z = +M + N(0,1): bits lost (mean/worst over samples, largest n)")
    n = max(c["n"] for c in cells)
    forms = [("exp-f", "∇f"), ("exp-max", "∇f"), ("torch", "∇f"), ("jax", "∇f"),
             ("autograd", "∇f"), ("naive", "f"), ("stable", "f")]
    mags = sorted({c["magnitude"] for c in cells})
    # log2|f| with f ≈ M + ln n + 1/2, uncapped: the predicted loss of exp(z − f)
    print(f"{'M':>8} {'log2|f|':>7} " + " ".join(f"{k + ' ' + o:>13}" for k, o in forms))
    for m in mags:
        cell = {(c["form"], c["output"]): c for c in cells
                if c["magnitude"] == m and c["sign"] == 1 and c["n"] == n}
        parts = []
        for key in forms:
            c = cell.get(key)
            parts.append(f"{c['mean']:6.1f}/{c['worst']:<6.1f}" if c else f"{'—':>13}")
        print(f"{m:8.0e} {predicted(m, n, math.inf):7.1f} " + " ".join(parts))


if __name__ == "__main__":
    main()
