"""Figures of `lsecheck check` (issue 3), measured side by side in one run.

* every derivation in derivations/ checked cold (a fresh process): target ≤ 3 s
* the seed note checked cold: target ≤ 2 s
* a generated chain of 250/500/1000/2000 steps: time must grow linearly

Run from the repository root:  python bench/bench_check.py [--quick]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "logsumexp-gradient.md"
LENGTHS = (250, 500, 1000, 2000)

HEAD = r"""title = "generated chain"
definitions = ['z_k = \max z', '\hat{z}_i = z_i - \max z',
               'f = \log \sum_{i=1}^n \exp \hat{z}_i + \max z']
[[chain]]
name = "generated"
case = 'j \neq k'
steps = [
  '\frac{\partial f}{\partial z_j}',
"""
SOFTMAX = r"'\frac{\exp \hat{z}_j}{\sum_{i=1}^n \exp \hat{z}_i}',"
# a different true step each time (j ≠ k): ∂f/∂z_j + m ∂z_k/∂z_j
VARIANT = (r"'\frac{{\partial}}{{\partial z_j}} (\log \sum_{{i=1}}^n \exp \hat{{z}}_i + z_k) "
           r"+ {m} \frac{{\partial z_k}}{{\partial z_j}}',")


def generated(steps: int, carried: bool = False) -> str:
    """A chain of true steps; ``carried``: every step after the first doubled, so step 2
    is wrong and the rest carry its error (one ✗, each later step proved against the
    previous one — the off-track path of the checker)."""
    body = []
    for m in range(1, steps):
        b = SOFTMAX if m % 2 == 0 else VARIANT.format(m=m)
        body.append(f"'2 ({b[1:-2]})'," if carried else b)
    return HEAD + "\n".join("  " + b for b in body) + "\n]\n"


def _clear_caches() -> None:
    from sympy.core.cache import clear_cache

    from lsecheck import check

    clear_cache()
    check._zero.cache_clear()
    check._at_n.cache_clear()


REPEAT = 3  # cold runs are repeated; the best is reported (the machine is shared)


def cold(args) -> tuple[float, int, float]:
    """(best, exit code, median) wall time of a fresh `python -m lsecheck check ARGS`."""
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "lsecheck", "check", *args],
                             capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return min(times), out.returncode, sorted(times)[len(times) // 2]


def main() -> None:
    quick = "--quick" in sys.argv
    rows = []
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "derivations").glob("*.toml"))
    t, code, med = cold(files)
    rows.append((f"derivations/*.toml cold ({len(files)} files)", t, 3.0,
                 f"exit {code}; best of {REPEAT}, median {med:.3f} s"))
    if SEED.exists():
        t, code, med = cold([str(SEED)])
        rows.append(("seed note cold", t, 2.0, f"exit {code} (the note has one wrong step); "
                                               f"best of {REPEAT}, median {med:.3f} s"))
    t0 = time.perf_counter()
    from lsecheck.check import check_path, check_paths

    rows.append(("  of which: importing sympy, lark, lsecheck", time.perf_counter() - t0, None,
                 "in this process"))
    t0 = time.perf_counter()
    check_paths([ROOT / f for f in files])
    rows.append(("  of which: checking derivations/ in-process", time.perf_counter() - t0, None,
                 "first run (lark grammar built, caches empty)"))
    per = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in LENGTHS[:2] if quick else LENGTHS:
            p = Path(tmp) / f"chain{n}.toml"
            p.write_text(generated(n), encoding="utf-8")
            _clear_caches()  # each length from scratch: no result reused from a shorter run
            t0 = time.perf_counter()
            rep = check_path(p)
            t = time.perf_counter() - t0
            per.append((n, t))
            counts = ", ".join(f"{v} {k}" for k, v in rep.counts().items())
            rows.append((f"generated chain, {n} steps", t, None,
                         f"{1e3 * t / n:.2f} ms/step; {counts}"))
        n = LENGTHS[1] if quick else LENGTHS[-1]
        p = Path(tmp) / "carried.toml"
        p.write_text(generated(n, carried=True), encoding="utf-8")
        _clear_caches()
        t0 = time.perf_counter()
        off = check_path(p)
        t = time.perf_counter() - t0
        counts = ", ".join(f"{v} {k}" for k, v in off.counts().items())
        rows.append(("  the same, an error at step 2 carried on", t, None,
                     f"{1e3 * t / n:.2f} ms/step; {counts}"))
    print(f"{'figure':44} {'seconds':>8} {'target':>7}  note")
    for name, t, target, note in rows:
        tgt = f"≤ {target:g}" if target else ""
        ok = "" if target is None else ("  ok" if t <= target else "  MISSED")
        print(f"{name:44} {t:8.3f} {tgt:>7}  {note}{ok}")
    times = [r.info["ms"] / 1000 for r in rep.results]
    tenth = max(1, len(times) // 10)
    print(f"longest chain: mean decision time of the first {tenth} steps "
          f"{1e3 * sum(times[:tenth]) / tenth:.2f} ms, of the last {tenth} "
          f"{1e3 * sum(times[-tenth:]) / tenth:.2f} ms (flat = linear)")
    if len(per) >= 2:
        (n0, t0), (n1, t1) = per[0], per[-1]
        print(f"linearity: time({n1})/time({n0}) = {t1 / t0:.2f} for a length ratio of "
              f"{n1 / n0:g}")


if __name__ == "__main__":
    main()
