"""A failing case of a user's ``--impl``, made as small as it gets.

:func:`shrink` tries simpler variants of the case (fewer entries, simpler
values, fewer reduced axes, float64) greedily, keeping any that still fails,
within a time and try budget; :func:`counterexample` states the facts of the
result (input, expected, got, who disagrees by how much), and
:func:`smallest_failure` is the report's "smallest failing case" row.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from lsecheck.cases import COURSE, Case
from lsecheck.compare import measure, oracle_truth, ref_order
from lsecheck.errors import LseError
from lsecheck.impl import Impl, Output, run_impl
from lsecheck.results import ERROR, FAILED, FLAGGED, PASSED, Result


def shrink(impl: Impl, case: Case, fails: Callable[[Case], bool], budget: float = 20.0,
           max_tries: int = 300) -> Case:
    """The smallest variant of ``case`` that still fails: fewer entries, simpler values,
    fewer reduced axes, float64 — greedily, within ``budget`` seconds."""
    t0, tries = time.monotonic(), 0
    best = case
    improved = True
    while improved and time.monotonic() - t0 < budget and tries < max_tries:
        improved = False
        for cand in _candidates(best):
            tries += 1
            if impl.hung or tries > max_tries or time.monotonic() - t0 > budget:
                break
            try:
                if fails(cand):
                    best, improved = cand, True
                    break
            except LseError:
                continue
    return best


def _candidates(c: Case):
    z, ax = c.z, c.ax
    for d in range(z.ndim):  # shorter along one axis: 1, half, one less (either end)
        n = z.shape[d]
        for k in sorted({1, n // 2, n - 1}):
            if 0 < k < n:
                yield c.with_values(np.take(z, range(k), axis=d), g=None)
        if n > 1:
            yield c.with_values(np.take(z, range(1, n), axis=d), g=None)
    for d in range(z.ndim):  # drop a size-1 axis
        if z.shape[d] == 1 and z.ndim > 1:
            if c.axes is None:
                yield c.with_values(np.squeeze(z, d), axes=None, g=None)
            elif d not in ax or len(ax) > 1:
                new = tuple(int(a - (a > d)) for a in ax if a != d)
                yield c.with_values(np.squeeze(z, d), axes=new, g=None)
    if isinstance(c.axes, tuple) and len(c.axes) > 1:  # one reduced axis instead of several
        for a in ax:
            yield c.with_values(z, axes=(a,), g=None)
    if c.dtype != "float64":
        yield c.with_values(z.astype(np.float64), dtype="float64",
                            g=c.g.astype(np.float64))
    if np.all(np.isfinite(z)) and np.any(z != 0):  # the simplest numbers
        yield c.with_values(np.zeros_like(z), g=c.g)
    for digits in (1, 0):  # simpler numbers
        with np.errstate(all="ignore"):
            r = np.round(z, digits)
        if not np.array_equal(r, z, equal_nan=True):
            yield c.with_values(r, g=c.g)
    if c.g.size and not np.all(c.g == 1):
        yield c.with_values(z, g=np.ones_like(c.g))


def counterexample(impl: Impl, case: Case, refs, strict: bool) -> dict:
    """The facts of one failing case: input, expected, got, and who disagrees by how much."""
    out = run_impl(impl, case) if not impl.hung else Output(problem=impl.hung, timed_out=True)
    ce = inputs(case)
    truth = oracle_truth(case)
    ce["expected forward (oracle)"] = show(np.asarray(truth.F, np.float64).astype(case.dtype))
    ce["expected gradient (oracle)"] = show(np.asarray(truth.V, np.float64).astype(case.dtype))
    if out.problem:
        ce["got"] = out.problem
    else:
        ce["got forward"] = show(out.f)
        ce["got gradient"] = show(out.v)
    outs = {"impl": out}
    for r in refs:
        m = measure(case, out, r, strict, outs)
        if m.verdict in (FAILED, ERROR, FLAGGED):
            ce[f"disagrees with {r}"] = m.detail
        elif m.verdict == PASSED:
            ce[f"agrees with {r}"] = f"rel err {m.rel_err:.3g}"
    return ce


def inputs(case: Case) -> dict:
    """The input of a counterexample, as the ``--impl`` protocol receives it."""
    return {"case": case.describe(), "shape": case.shape, "axes": repr(case.impl_axes),
            "dtype": case.dtype, "z": show(case.z), "out_grad": show(case.g)}


def show(a) -> str:
    """An array in one line, at full precision; a long one cut after 12 entries."""
    a = np.asarray(a)
    if a.size > 24:
        return f"array of shape {a.shape}: " + np.array2string(
            a.reshape(-1)[:12], precision=17, separator=", ") + " …"
    return np.array2string(a, precision=17, separator=", ").replace("\n", "")


def smallest_failure(impl: Impl, rows: dict, refs, strict: bool) -> list[Result]:
    """The smallest failing case (shrunk from the first failure), as a counterexample row;
    ``rows`` maps (subject, reference, group, kind) to rows with ``failures``."""
    first = None
    for (_, r, _, _), row in sorted(rows.items(), key=lambda kv: ref_order(kv[0][1])):
        for case, m in row.failures:
            if first is None or (case.group == COURSE and first[0].group != COURSE):
                first = (case, m, r)
    if first is None:
        return []
    case, m, r = first

    judge = "oracle" if "oracle" in refs else r

    def fails(c: Case) -> bool:
        return measure(c, run_impl(impl, c), judge, strict).verdict in (FAILED, ERROR)

    small = shrink(impl, case, fails) if not impl.hung else case
    ce = counterexample(impl, small, refs, strict)
    n_fail = sum(len(row.failures) for row in rows.values())
    detail = (f"{n_fail} failing comparison(s); shrunk from {case.id} ({case.describe()}): "
              f"{m.detail}")
    return [Result("smallest failing case", FAILED if m.verdict == FAILED else ERROR,
                   group="counterexample", detail=detail, counterexample=ce)]
