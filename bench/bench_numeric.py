"""Figures of `lsecheck numeric` (issue 4), side by side in one run.

    python bench/bench_numeric.py            # everything (~1 min)
    python bench/bench_numeric.py --quick    # fewer repetitions

1. forward + gradient of a 4096×4096 float64 array along axis 1: the lsecheck
   reference vs jax.jit(value_and_grad), torch, scipy, plain numpy, np.exp alone;
   peak memory of the reference (tracemalloc) over the input size;
2. accuracy against the mpmath oracle (float64, rows of n = 8) at |z| from 1 to 1e300;
3. one (16, 32, 64) input with axes (1, 2) checked against every reference;
4. `lsecheck numeric` cold (a new process): default references, and --ref fd,oracle.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUICK = "--quick" in sys.argv
REPEAT = 3 if QUICK else 7


def best(fn, repeat=REPEAT):
    fn()  # warm-up (JIT, caches, page faults)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), float(np.median(times))


def table(title, header, rows):
    print(f"\n{title}")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


def speed():
    from lsecheck import reference as R

    z = np.random.default_rng(0).standard_normal((4096, 4096))
    g = np.ones(4096)
    rows, res = [], {}

    res["lsecheck reference"] = best(lambda: R.logsumexp_vjp(z, g, 1))

    def plain():
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
        return np.log(s) + m, e / s

    res["numpy, written plainly"] = best(plain)
    res["np.exp alone"] = best(lambda: np.exp(z))
    try:
        from scipy.special import logsumexp, softmax

        res["scipy logsumexp + softmax"] = best(lambda: (logsumexp(z, axis=1),
                                                         softmax(z, axis=1)))
    except ImportError:
        pass
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        vg = jax.jit(jax.value_and_grad(lambda x: jax.nn.logsumexp(x, axis=1).sum()))
        zj = jax.numpy.asarray(z)
        res["jax.jit(value_and_grad)"] = best(lambda: vg(zj)[1].block_until_ready())
    except ImportError:
        pass
    try:
        import torch

        zt = torch.from_numpy(z)

        def tor():
            x = zt.clone().requires_grad_()
            torch.logsumexp(x, 1).sum().backward()
            return x.grad

        res["torch logsumexp + backward"] = best(tor)
    except ImportError:
        pass
    jax_t = res.get("jax.jit(value_and_grad)", (float("nan"),))[0]
    for name, (b, med) in res.items():
        rows.append([name, f"{b * 1e3:.0f} ms", f"{med * 1e3:.0f} ms", f"{b / jax_t:.2f}×"])
    table("1. forward + gradient, 4096×4096 float64, axis 1 (best / median of "
          f"{REPEAT}; ratio to jax)", ["implementation", "best", "median", "vs jax"], rows)

    tracemalloc.start()
    R.logsumexp_vjp(z, g, 1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  peak memory of the reference beyond the input: {peak / 2**20:.0f} MiB = "
          f"{peak / z.nbytes:.2f}× the input ({z.nbytes / 2**20:.0f} MiB); "
          f"with the input: {(peak + z.nbytes) / z.nbytes:.2f}×  (target ≤ 3×)")
    return res


def accuracy():
    from lsecheck import oracle as O
    from lsecheck import reference as R
    from lsecheck.backends import BACKENDS

    eps = np.finfo(np.float64).eps
    rng = np.random.default_rng(1)
    rows_n = 60 if QUICK else 200
    subjects = ["reference"] + [n for n in ("jax", "torch", "autograd", "scipy")
                                if BACKENDS[n].available()]
    header = ["|z|", "family"] + [f"{s} grad eps" for s in subjects] + \
        ["exp(z−f) eps", "ref fwd ulps", "ref fwd floats"]
    rows = []
    worst_grad, worst_fwd = 0.0, 0
    for scale in (1, 1e4, 1e8, 1e12, 1e15, 1e300, -1e8):
        for family in ("s + N(0,1)", "s·N(0,1)"):
            n = rng.standard_normal((rows_n, 8))
            z = scale + n if family.startswith("s +") else scale * n
            if not np.all(np.isfinite(z)):
                continue
            fh, fl, ph, pl = O.pairs(z, 1)
            P = ph.astype(np.longdouble) + pl
            F = fh.astype(np.longdouble) + fl

            def err(v, P=P):
                return float(np.max(np.max(np.abs(v - P), axis=1) / np.max(np.abs(P), axis=1))
                             / eps)

            cells = []
            for s in subjects:
                f, v = BACKENDS[s].value_and_vjp(z, np.ones(rows_n), 1)
                cells.append(f"{err(v):.3g}")
                if s == "reference":
                    worst_grad = max(worst_grad, err(v))
                    fref = f
            bad = np.exp(z - R.logsumexp(z, 1)[:, None])
            ulps = float(np.max(np.abs(fref - F) / np.spacing(np.abs(fh))))
            floats = int(O.floats_between(fref, fh).max())
            worst_fwd = max(worst_fwd, floats)
            rows.append([f"{scale:g}", family, *cells, f"{err(bad):.3g}", f"{ulps:.3f}",
                         str(floats)])
    table(f"2. accuracy against the mpmath oracle (200 bits), float64, {rows_n} rows of n = 8: "
          "max normwise gradient error in eps; forward error of the reference", header, rows)
    print(f"  reference: gradient ≤ {worst_grad:.2f} eps (target ≤ 4), forward ≤ {worst_fwd} "
          "float(s) from the correctly rounded value (target ≤ 1 ulp)")


def one_input():
    from lsecheck import cases as C
    from lsecheck import numeric as N
    from lsecheck.impl import load_impl

    impl = load_impl(str(ROOT / "examples" / "softmax_form.py"))
    case = next(c for c in C.bank(0, shape=(16, 32, 64), axes_list=[(1, 2)],
                                  dtypes=("float64",), impl=True) if c.kind == "scale 1")
    # imports first (they are "beyond" the figure), then the first check (JAX compiles the
    # shape), then a second one
    import jax  # noqa: F401
    import torch  # noqa: F401
    from autograd.scipy.special import logsumexp  # noqa: F401

    from lsecheck.backends import get

    get("jax").load()
    rows = []
    for label, refs in (("every reference", N.REFS), ("oracle only", ("oracle",)),
                        ("fd only", ("fd",)), ("torch, jax, autograd", ("torch", "jax",
                                                                        "autograd"))):
        t = time.perf_counter()
        rep = N.check([case], refs, impl)
        first = time.perf_counter() - t
        t = time.perf_counter()
        N.check([case], refs, impl)
        again = time.perf_counter() - t
        rows.append([label, f"{first:.3f} s", f"{again:.3f} s", rep.verdict])
    table("3. one (16, 32, 64) float64 input, axes (1, 2), softmax_form.py checked "
          "(imports excluded)", ["references", "first", "again", "verdict"], rows)


def cold():
    env = dict(os.environ)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        runs = [("default (all frameworks), JAX cache empty", [], {"LSECHECK_JAX_CACHE": cache}),
                ("default (all frameworks), JAX cache filled", [],
                 {"LSECHECK_JAX_CACHE": cache}),
                ("default, JAX disk cache off", [], {"LSECHECK_JAX_CACHE": "off"}),
                ("--ref fd,oracle", ["--ref", "fd,oracle"], {}),
                ("--impl examples/softmax_form.py (all refs)",
                 ["--impl", str(ROOT / "examples" / "softmax_form.py")],
                 {"LSECHECK_JAX_CACHE": cache})]
        for label, args, extra in runs:
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "lsecheck", "numeric", "--json", *args],
                                 capture_output=True, text=True, env={**env, **extra})
            dt = time.perf_counter() - t
            import json

            verdict = json.loads(out.stdout)["verdict"] if out.stdout else out.stderr.strip()
            rows.append([label, f"{dt:.2f} s", f"exit {out.returncode}", verdict])
    table("4. `lsecheck numeric` in a new process (wall clock, imports included; "
          "targets: ≤ 10 s default, ≤ 3 s --ref fd,oracle)",
          ["run", "time", "exit", "verdict"], rows)


if __name__ == "__main__":
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; "
          f"numpy {np.__version__}")
    speed()
    accuracy()
    one_input()
    cold()
