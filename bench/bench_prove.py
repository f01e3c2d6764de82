"""Benchmark `lsecheck prove`: every figure of the issue, side by side, in one run.

    python bench/bench_prove.py [--reps 5]

Each figure is the median wall time of ``--reps`` cold subprocesses (a new
interpreter each time, output discarded):

* ``python -c "import sympy"`` — the yardstick;
* ``lsecheck prove`` (default, --max-n 8) and its ratio to the yardstick (target ≤ 2.5×),
  also as the ratio of the fastest runs (less sensitive to the load of a shared machine);
* ``lsecheck prove --max-n 64`` (target ≤ 10 s), with the time per n it reports and the
  growth exponent p of time(n) ~ n^p fitted over n = 8..64 (target p ≤ 2: no worse than
  quadratic);
* ``lsecheck --help`` (target ≤ 0.4 s).

The first three are run in turn, round after round, so that a change of load
on a shared machine hits them alike.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import time


def lsecheck_cmd() -> list[str]:
    exe = shutil.which("lsecheck")
    return [exe] if exe else [sys.executable, "-m", "lsecheck"]


def once(cmd: list[str]) -> tuple[float, str]:
    """Wall time of one cold run, and its stdout."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} exited {proc.returncode}")
    return dt, proc.stdout


def interleaved(cmds: dict[str, list[str]], reps: int) -> dict[str, list[float]]:
    """Run the commands in turn, ``reps`` rounds, so that load changes hit all alike."""
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(reps):
        for name, cmd in cmds.items():
            times[name].append(once(cmd)[0])
    return times


def growth_exponent(per_n: dict[int, float], lo: int = 8) -> float:
    """Least-squares slope of log time against log n for n >= lo."""
    pts = [(math.log(n), math.log(t)) for n, t in per_n.items() if n >= lo and t > 0]
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="runs per figure (median reported)")
    args = ap.parse_args()
    cli = lsecheck_cmd()

    times = interleaved({"sympy": [sys.executable, "-c", "import sympy"],
                         "prove": cli + ["prove"], "help": cli + ["--help"]}, args.reps)
    sympy_all, prove_all, help_all = times["sympy"], times["prove"], times["help"]
    sympy_t, prove_t, help_t = (statistics.median(t) for t in (sympy_all, prove_all, help_all))
    big_reps = max(1, args.reps // 2)
    big = [once(cli + ["prove", "--max-n", "64", "--json"]) for _ in range(big_reps)]
    big_all = [t for t, _ in big]
    big_t = statistics.median(big_all)
    meta = json.loads(big[-1][1])["meta"]
    per_n = {int(k): v for k, v in meta["time_per_n"].items()}
    p = growth_exponent(per_n)

    rows = [
        ("python -c 'import sympy'", sympy_t, "yardstick", True),
        ("lsecheck prove", prove_t, "≤ 2.5 × import sympy", prove_t <= 2.5 * sympy_t),
        ("  ratio to import sympy", prove_t / sympy_t, "≤ 2.5", prove_t / sympy_t <= 2.5),
        # on a loaded machine the medians swing; the fastest runs show the cost itself
        ("  ratio, fastest run of each", min(prove_all) / min(sympy_all), "(load-free view)",
         min(prove_all) / min(sympy_all) <= 2.5),
        ("lsecheck prove --max-n 64", big_t, "≤ 10 s", big_t <= 10),
        ("  growth exponent p, n=8..64", p, "≤ 2 (quadratic)", p <= 2),
        ("lsecheck --help", help_t, "≤ 0.4 s", help_t <= 0.4),
    ]
    print(f"lsecheck prove benchmark — {args.reps} cold runs each (median), "
          f"--max-n 64: {big_reps} run(s); command: {' '.join(cli)}")
    print(f"{'figure':34} {'measured':>10}  {'target':22} ok")
    for name, value, target, ok in rows:
        unit = "" if "ratio" in name or "exponent" in name else " s"
        print(f"{name:34} {value:>8.3f}{unit:2}  {target:22} {'yes' if ok else 'NO'}")
    print("all runs (s): sympy " + " ".join(f"{t:.3f}" for t in sympy_all)
          + " | prove " + " ".join(f"{t:.3f}" for t in prove_all)
          + " | help " + " ".join(f"{t:.3f}" for t in help_all)
          + " | max-n 64 " + " ".join(f"{t:.3f}" for t in big_all))
    print(f"inside --max-n 64: SymPy import {meta['sympy_import_s']:.3f} s, "
          f"concrete n total {sum(per_n.values()):.3f} s")
    print("time per n (ms): " + "  ".join(f"{n}:{t * 1e3:.1f}" for n, t in per_n.items()))


if __name__ == "__main__":
    main()
