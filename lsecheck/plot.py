"""``lsecheck accuracy --plot FILE.png``: bits lost against input magnitude.

matplotlib is an optional extra (``pip install 'lsecheck[plot]'``) and is
imported only here, with the Agg backend (no display needed).  The figure
has one panel per (dtype, output): f on the left, ∇f on the right; the
x-axis is the signed magnitude ±M (z ≈ −M on the left half, z ≈ +M on the
right, the sweep's magnitudes evenly spaced), the y-axis the mean bits
lost; one line a form, the frameworks dashed so that they can be seen lying
on the formula they use, and a dotted guide log2|f|, the predicted loss of
exp(z − f).
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

from lsecheck.accuracy import magnitude_label
from lsecheck.errors import LseError
from lsecheck.export import check_path as check_export
from lsecheck.results import Report

FORMATS = (".png", ".svg", ".pdf")
INSTALL = "pip install 'lsecheck[plot]'"
WIDTH = {"float64": 64, "float32": 32, "float16": 16}  # bits in the format: the y ceiling
PRECISION = {"float64": 53, "float32": 24, "float16": 11}  # significand bits
OUTPUTS = ("f", "∇f")
FORMULAS = ("naive", "stable", "exp-f", "exp-max")  # solid lines; frameworks dashed


def check_path(path: str | Path) -> Path:
    """Refuse a plot path (suffix, folder, permissions) or a missing matplotlib early."""
    p = check_export(path, FORMATS, "--plot")  # the same checks as --export, named for --plot
    if importlib.util.find_spec("matplotlib") is None:
        raise LseError(f"--plot: matplotlib is not installed; install the extra: {INSTALL}")
    return p


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise LseError(f"--plot: matplotlib is not installed; install the extra: {INSTALL}") \
            from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def predicted(m: float, n: int, cap: float) -> float:
    r"""Bits that ``exp(z − f)`` is predicted to lose at ``z = m + N(0, 1)`` of length n:

    .. math::

        \log_2 |f|, \qquad f \approx m + \ln n + \tfrac12

    (:math:`E \log \sum_i e^{u_i} \approx \ln n + \sigma^2/2` for :math:`u_i \sim N(0, 1)`),
    between 0 and ``cap``.  Not log2 |m|: at m = ±1, |f| is about ln n, not 1.
    """
    return min(max(math.log2(max(abs(m + math.log(n) + 0.5), 1e-300)), 0.0), cap)


def plot(report: Report, path: str | Path, n: int | None = None) -> Path:
    """Draw ``report`` (from :func:`lsecheck.accuracy.run`) into ``path``; return the path.

    ``n`` picks the vector length (default: the longest in the sweep).
    """
    p = check_path(path)
    meta = report.meta
    cells = meta.get("cells", [])
    if not cells:
        raise LseError("--plot: nothing to plot (no form was measured)")
    lengths = sorted({c["n"] for c in cells})
    n = n if n is not None else lengths[-1]
    if n not in lengths:  # an empty figure would look like "no error anywhere"
        raise LseError(f"plot: n={n} is not a length of the sweep ({', '.join(map(str, lengths))})")
    dtypes = [d for d in meta["dtypes"] if any(c["dtype"] == d for c in cells)]
    names = meta["forms"]
    plt = _pyplot()
    fig, axes = plt.subplots(len(dtypes), 2, figsize=(13, 3.6 * len(dtypes) + 0.6),
                             squeeze=False, constrained_layout=True)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "osD^vP*Xh<>"
    style = {key: (cycle[i % len(cycle)], markers[i % len(markers)])
             for i, key in enumerate(names)}
    for row, dt in enumerate(dtypes):
        mags = sorted({c["magnitude"] for c in cells if c["dtype"] == dt})
        # evenly spaced, in order: −M_max … −1 | 1 … M_max (a log axis would
        # squeeze 1 … 1e16 into a corner beside 1e300)
        xs = {(s, m): (i + 1) * s for s in (-1, 1)
              for i, m in enumerate(mags)}
        for col, output in enumerate(OUTPUTS):
            ax = axes[row][col]
            for key, name in names.items():
                mine = [c for c in cells if c["form"] == key and c["output"] == output
                        and c["dtype"] == dt and c["n"] == n]
                if not mine:
                    continue
                color, marker = style[key]
                dashed = key not in FORMULAS
                for sign in (-1, 1):  # two halves, so no line is drawn across 0
                    half = sorted((c for c in mine if c["sign"] == sign),
                                  key=lambda c: c["magnitude"])
                    ax.plot([xs[sign, c["magnitude"]] for c in half], [c["mean"] for c in half],
                            color=color, marker=marker, markersize=4,
                            linestyle="--" if dashed else "-", linewidth=1.4,
                            label=name if sign == 1 else None)
            if output == "∇f":  # the prediction for exp(z − f): log2|f|, capped at precision
                cap = PRECISION.get(dt, 53) + 1
                for sign in (-1, 1):
                    ax.plot([xs[sign, m] for m in mags],
                            [predicted(sign * m, n, cap) for m in mags],
                            color="0.5", linestyle=":", linewidth=1.2,
                            label="log2|f| (predicted for exp(z − f))" if sign == 1 else None)
            ticks = sorted(xs.values())
            ax.set_xticks(ticks)
            ax.set_xticklabels([("−" if x < 0 else "") + magnitude_label(mags[abs(x) - 1])
                                for x in ticks], rotation=60, fontsize=8)
            ax.axvline(0, color="0.8", linewidth=0.8)
            top = WIDTH.get(dt, 64)
            ax.set_ylim(-1, top * 1.4)  # headroom for the legend
            ax.set_yticks(range(0, top + 1, max(top // 8, 1)))
            ax.grid(True, alpha=0.3)
            ax.set_title(f"{output}, {dt}, n = {n}", fontsize=10)
            ax.set_xlabel("input z ≈ ±M (the sweep's magnitudes, evenly spaced)")
            ax.set_ylabel("bits lost (mean over samples)")
            ax.legend(fontsize=7.5, loc="upper center", ncol=2, framealpha=0.85)
    fig.suptitle("LogSumExp: bits lost = log2(1 + floats between computed and exact)",
                 fontsize=11)
    try:
        fig.savefig(p, dpi=110)
    except OSError as e:
        raise LseError(f"--plot {path}: cannot write ({e.strerror}); choose another path") \
            from None
    finally:
        plt.close(fig)
    return p
