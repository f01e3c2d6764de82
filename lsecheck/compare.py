r"""What a subject's answer is compared with, and the verdict.

*References* of one case:

* ``oracle`` — :mod:`lsecheck.oracle`, mpmath at ``ORACLE_PREC`` = 128 bits: the truth
  (:func:`oracle_truth`);
* ``fd`` — central finite differences of the forward (float64, lsecheck's
  reference) along random unit directions :math:`u`, checking the VJP
  :math:`v` through :math:`\langle v, u\rangle \approx
  (\phi(z + hu) - \phi(z - hu)) / 2h` with :math:`\phi = \langle \bar f, f\rangle`
  — a JVP check that trusts no formula (:func:`fd_quotients`, :func:`fd_measure`);
* ``torch``, ``jax``, ``autograd`` — the frameworks' autodiff, with their own
  error allowance (:func:`backend_truth`).

Every comparison is a vector–Jacobian product with a random ``out_grad``
(never a full Jacobian).  Errors and verdicts use the bounds of
:mod:`lsecheck.tolerances`: beyond the loose bound a case *fails*; between
the tight and the loose bound it *passes* but is *flagged* for precision
loss (the :math:`e^{z-f}` form), a failure under ``strict``; at the lenient
edge cases (``cases.LENIENT``: +inf, nan, 1e308 ties, empty inputs, where the
answer is a limit or a convention) any deviation is flagged; at −inf entries
it fails, like anywhere else.  Where no answer is limit-independent (ties at
an infinite maximum) every limit is accepted (:func:`admissible`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lsecheck import tolerances as T
from lsecheck.cases import Case
from lsecheck.impl import Output, run_backend
from lsecheck.results import ERROR, FAILED, FLAGGED, PASSED, SKIPPED

ORACLE_PREC = 128  # bits: 2^-75 of a float64 ulp; ~15 % cheaper than the library's 200
FD_MAX_MAG = 1e12  # beyond this the step h is a few ulps of z: fd is not checkable


@dataclass
class Truth:
    """What a subject is compared with on one case (extended precision where exact)."""

    F: np.ndarray  # longdouble, the output's shape
    V: np.ndarray  # longdouble, the input's shape: out_grad · softmax
    scale: np.ndarray  # per slice: 1 + |f| + Σ p|z|  (the condition of f, plus one)
    fwd_allow: np.ndarray | float = 0.0  # the reference's own error (0 for the oracle)
    rel_allow: np.ndarray | float = 0.0


def oracle_truth(case: Case) -> Truth:
    from lsecheck.oracle import pairs

    fh, fl, ph, pl = pairs(case.z, case.axes, case.keepdims, ORACLE_PREC)
    F = fh.astype(np.longdouble) + fl
    P = ph.astype(np.longdouble) + pl
    return Truth(F, _vjp(case, P), _scale(case, F, ph))


def _vjp(case, P):
    gk = case.g.astype(np.longdouble).reshape(case.kdshape)
    with np.errstate(all="ignore"):
        return gk * P


def _scale(case, F, p):
    """1 + |f| + Σ p|z| per slice, in the output's (keepdims) shape; non-finite → 1."""
    ax, kd = case.ax, case.kdshape
    with np.errstate(all="ignore"):
        z = case.z.astype(np.float64)
        pz = np.where(np.isfinite(z) & (p > 0), np.abs(p * z), 0.0)
        s = 1.0 + np.abs(np.asarray(F, np.float64)).reshape(kd) + pz.sum(axis=ax, keepdims=True)
    return np.where(np.isfinite(s), s, 1.0)


def backend_truth(case: Case, out: Output, grad_form: str) -> Truth:
    """A framework's answer as the thing to compare with, with its own error allowance."""
    from lsecheck.backends import EXP_Z_MINUS_F

    F = np.asarray(out.f).astype(np.longdouble)
    V = np.asarray(out.v).astype(np.longdouble)
    g = case.g.astype(np.float64).reshape(case.kdshape)
    with np.errstate(all="ignore"):
        p = np.where(g != 0, np.asarray(out.v, np.float64) / g, 0.0)
    sc = _scale(case, F, np.nan_to_num(p))
    t = Truth(F, V, sc)
    loose = grad_form == EXP_Z_MINUS_F
    t.rel_allow = _limits(case, sc)[1 if loose else 0]
    t.fwd_allow = T.FWD * T.eps(case.dtype) * sc
    return t


def _limits(case: Case, scale):
    """(tight, loose) normwise gradient bounds for each slice (keepdims shape)."""
    e, lk = T.eps(case.dtype), math.log2(max(case.K, 1))
    tight = T.GRAD_TIGHT * e * (1 + lk)
    loose = np.minimum(np.maximum(T.GRAD_LOOSE * e * (scale + lk), T.GRAD_FLOOR), T.GRAD_CAP)
    return np.full_like(scale, tight), loose


@dataclass
class Measure:
    """Errors of one subject on one case against one reference, and the verdict."""

    verdict: str
    detail: str = ""
    abs_err: float = 0.0
    rel_err: float = 0.0
    fwd_ulps: float | None = 0.0
    grad_eps: float = 0.0
    bits_lost: float | None = 0.0
    checked: bool = True
    ulps: float | None = 0.0  # gradient, elementwise: floats between got and exact


def _diff(a, b):
    """|a − b| where equal non-finite values (same inf, both nan) count 0, others inf."""
    a = np.asarray(a, np.longdouble)
    with np.errstate(all="ignore"):
        d = np.abs(a - b)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    d = np.where(same, 0, d)
    return np.where(np.isnan(d), np.inf, d)


def compare(case: Case, out: Output, truth: Truth, strict: bool = False) -> Measure:
    """Errors of ``out`` against ``truth`` and the verdict (see the module docstring)."""
    if out.problem:
        return _no_answer(case, out, strict)
    soft = FLAGGED if case.lenient and not strict else FAILED
    e = T.eps(case.dtype)
    kd = case.kdshape
    # forward
    df = _diff(out.f, truth.F).reshape(kd)
    fscale = truth.scale
    with np.errstate(all="ignore"):
        spacing = np.spacing(np.abs(np.asarray(truth.F, np.float64).astype(case.dtype)))
        sp = np.asarray(spacing, np.longdouble).reshape(kd)
        ulps = np.where(df == 0, 0, np.where(np.isfinite(sp), df / sp, np.inf))
    fwd_bad = df > T.FWD * e * fscale + truth.fwd_allow
    # gradient, normwise per slice
    dv = np.where(admissible(case, out.v), 0, _diff(out.v, truth.V))
    with np.errstate(all="ignore"):
        vmax = np.max(np.abs(truth.V), axis=case.ax, keepdims=True, initial=0)
        vmax = np.where(np.isfinite(vmax), vmax, 0)
        dmax = np.max(dv, axis=case.ax, keepdims=True, initial=0)
        tiny = np.finfo(case.dtype).tiny
        rel = np.where(dmax == 0, 0, dmax / np.maximum(vmax, tiny))
    tight, loose = _limits(case, fscale)
    rel_bad = rel > loose + truth.rel_allow
    rel_flag = rel > tight + truth.rel_allow
    # gradient, elementwise on entries comfortably above the underflow threshold
    p_bits = np.finfo(case.dtype).nmant + 1
    big = np.abs(truth.V) >= tiny * 2.0 ** p_bits
    lk = math.log2(max(case.K, 1))
    with np.errstate(all="ignore"):
        zf = np.where(np.isfinite(case.z), np.abs(case.z.astype(np.float64)), 0)
        elim = np.maximum(T.ELEM * e * (2 + zf + np.abs(np.nan_to_num(
            np.asarray(truth.F, np.float64), posinf=0, neginf=0)).reshape(kd) + lk), T.GRAD_FLOOR)
        erel = np.where(big, dv / np.where(big, np.abs(truth.V), 1), 0)
    elem_bad = erel > elim + (np.asarray(truth.rel_allow) * 4 if np.any(truth.rel_allow) else 0)
    m = Measure(PASSED)
    m.ulps = _floats_between(np.where(dv == 0, truth.V, out.v), truth.V, case.dtype)
    m.abs_err = float(np.max(dv, initial=0))
    m.rel_err = float(np.max(rel, initial=0))
    m.fwd_ulps = float(np.max(ulps, initial=0))
    m.grad_eps = m.rel_err / e
    m.bits_lost = max(0.0, math.log2(m.grad_eps)) if m.grad_eps >= 1 else 0.0
    if math.isinf(m.grad_eps):
        m.bits_lost = float(np.finfo(case.dtype).nmant + 1)
    problems = []
    if np.any(fwd_bad):
        i = _argmax(np.where(fwd_bad, df, -1))
        got = np.asarray(out.f).reshape(kd)[i]
        want = np.asarray(truth.F, np.float64).reshape(kd)[i]
        off = f"off by {float(df[i]):.3g}" if np.isfinite(df[i]) else \
            f"{float(got):.6g} where {float(want):.6g}"
        problems.append(f"forward {off} at output index {_idx(i, case, kd)}")
    if np.any(rel_bad) or np.any(elem_bad):
        i = _argmax(np.where(big | ~np.isfinite(dv), erel, 0) if np.any(elem_bad) else dv)
        got, want = np.asarray(out.v)[i], np.asarray(truth.V, np.float64)[i]
        if not np.isfinite(got):
            what = f"gradient {float(got):g} where {float(want):.6g}"
        elif np.any(rel_bad):
            what = f"gradient off by {m.rel_err:.3g} relative ({_eps(m.grad_eps)})"
        else:
            what = f"gradient entry off by {float(erel[i]):.3g} relative"
        problems.append(f"{what} at index {i}")
    if problems:
        m.verdict = soft
        m.detail = "; ".join(problems)
        if _nonfinite_where_finite(out, truth, dv):
            m.detail = "nan/inf where the answer is finite: " + m.detail
    elif np.any(rel_flag):
        m.verdict = FAILED if strict else FLAGGED
        m.detail = f"precision loss: {m.bits_lost:.1f} bits ({_eps(m.grad_eps)})"
    return m


def _no_answer(case: Case, out: Output, strict: bool) -> Measure:
    """A subject that gave no answer: a crash, a wrong shape or dtype — or a time-out,
    set aside (the one 'time limit' row says it)."""
    if out.timed_out:
        return Measure(SKIPPED, out.problem, checked=False)
    hard = ERROR if ("raised" in out.problem or "past" in out.problem) else FAILED
    return Measure(FLAGGED if case.lenient and not strict else hard, out.problem,
                   math.inf, math.inf, None, math.inf, None, ulps=None)


def _argmax(a) -> tuple[int, ...]:
    a = np.nan_to_num(np.asarray(a, np.float64), nan=np.inf)
    return tuple(int(k) for k in np.unravel_index(np.argmax(a), a.shape)) if a.size else ()


def _idx(i, case, kd):
    """An index of the keepdims-shaped output as an index of the real output."""
    return i if case.keepdims else tuple(k for d, k in enumerate(i) if d not in case.ax)


def _floats_between(v, V, dtype) -> float:
    """Largest number of ``dtype`` steps between ``v`` and ``V`` (rounded), elementwise."""
    from lsecheck.oracle import floats_between

    if np.size(v) == 0:
        return 0.0
    with np.errstate(all="ignore"):
        exact = np.asarray(V, np.float64).astype(dtype)
    return float(np.max(floats_between(np.asarray(v, dtype), exact, dtype)))


def _eps(x: float) -> str:
    return f"{x:.3g} eps" if math.isfinite(x) else "inf"


def _nonfinite_where_finite(out: Output, truth: Truth, dv) -> bool:
    """Whether ``out`` has nan/inf where the truth is finite (and the entry is not admissible)."""
    with np.errstate(all="ignore"):
        v = np.asarray(out.v, np.float64)
        f = np.asarray(out.f, np.float64).reshape(np.shape(truth.F))
        return bool(np.any(~np.isfinite(v) & np.isfinite(np.asarray(truth.V, np.float64))
                           & (dv > 0))
                    or np.any(~np.isfinite(f) & np.isfinite(np.asarray(truth.F, np.float64))))


def admissible(case: Case, v) -> np.ndarray:
    r"""Entries of the VJP ``v`` whose deviation from lsecheck's answer is admissible:
    the split among ties at an infinite maximum, which has no limit-independent value.

    A slice whose maximum :math:`m` is :math:`\pm\infty`, reached by :math:`c \ge 2`
    entries :math:`T` (every entry of an all −inf slice; the +inf entries of a slice
    with several of them), has no gradient at :math:`z` itself: along
    :math:`z_T = \log p - t\mathbf 1` (or :math:`+ t`), :math:`t \to \infty`, the
    softmax on :math:`T` tends to any probability vector :math:`p` we like
    (entries off :math:`T` tend to 0 on every path, which is *not* excused).  So on
    :math:`T` any :math:`\bar f\,p` with :math:`p \ge 0`, :math:`\sum_T p = 1`, or
    nan on all of :math:`T` ("undefined", PyTorch's and JAX's answer), is accepted;
    lsecheck's own answer is the uniform :math:`1/c` (the tie-keeping path).
    """
    z = np.asarray(case.z, np.float64)
    ax = case.ax
    ok = np.zeros(z.shape, dtype=bool)
    if z.size == 0 or not ax or case.K < 2:
        return ok
    v = np.asarray(v, np.float64)
    kd = case.kdshape
    with np.errstate(all="ignore"):
        m = np.max(z, axis=ax, keepdims=True)
        tied = (z == m) & np.isinf(m)
        c = np.sum(tied, axis=ax, keepdims=True)
        slices = (c >= 2) & ~np.any(np.isnan(z), axis=ax, keepdims=True)
        if not np.any(slices):
            return ok
        g = np.asarray(case.g, np.float64).reshape(kd)
        p = np.where(tied, v / np.where(g == 0, 1, g), 0)
        tol = 8 * T.eps(case.dtype) * c
        all_nan = np.all(np.where(tied, np.isnan(v), True), axis=ax, keepdims=True)
        simplex = (np.all(np.where(tied, np.isfinite(p) & (p >= -tol), True), axis=ax,
                          keepdims=True)
                   & (np.abs(np.sum(p, axis=ax, keepdims=True) - 1) <= tol))
        zero = np.all(np.where(tied, v == 0, True), axis=ax, keepdims=True)
        good = slices & (all_nan | np.where(g == 0, zero, simplex))
    return tied & good


@dataclass
class FD:
    """Central differences of one case, shared by every subject checked on it."""

    h: float
    fmag: float
    dirs: list  # (u, D(h), estimated error of D(h))


def fd_quotients(case: Case) -> FD | None:
    """Difference quotients of φ(z) = ⟨out_grad, f(z)⟩ along random unit directions.

    None when not checkable: non-finite or empty input, or |z| ≥ 1e12 (the
    step would be a few ulps of z).  Step h = FD_STEP·max(1, |f|)^(1/3)
    balances truncation O(h²) (softmax's derivatives are O(1) in units of z)
    against rounding O(ε|f|/h); the error estimate is |D(2h) − D(h)|/3
    (Richardson) plus that rounding term.
    """
    from lsecheck.reference import logsumexp

    z = case.z.astype(np.float64)
    if not np.all(np.isfinite(z)) or z.size == 0 or np.max(np.abs(z)) >= FD_MAX_MAG:
        return None
    g = case.g.astype(np.float64)

    def phi(x):
        return float(np.sum(g * logsumexp(x, case.axes, case.keepdims)))

    f = logsumexp(z, case.axes, case.keepdims)
    fmag = float(np.max(np.abs(f), initial=0))
    h = T.FD_STEP * max(1.0, fmag) ** (1 / 3)
    rng = np.random.default_rng([int(case.id.strip("c") or 0)] + list(case.shape))
    e64 = T.eps(np.float64)
    dirs = []
    for _ in range(T.FD_DIRECTIONS):
        u = rng.standard_normal(z.shape)
        u /= max(float(np.linalg.norm(u)), 1e-300)
        d1 = (phi(z + h * u) - phi(z - h * u)) / (2 * h)
        d2 = (phi(z + 2 * h * u) - phi(z - 2 * h * u)) / (4 * h)
        est = abs(d2 - d1) / 3 + 2 * e64 * float(np.sum(np.abs(g) * (np.abs(f) + 1))) / h
        dirs.append((u, d1, est))
    return FD(h, fmag, dirs)


def fd_measure(case: Case, out: Output, fd: FD | None, strict: bool = False) -> Measure:
    """The subject's VJP along the directions of ``fd`` against the difference quotients."""
    if out.problem:
        return _no_answer(case, out, strict)
    if fd is None:
        return Measure(SKIPPED, "not checkable: non-finite, empty or |z| ≥ 1e12", checked=False)
    v = np.asarray(out.v, np.float64)
    ed = T.eps(case.dtype)
    loose = min(max(T.GRAD_LOOSE * ed * (1 + fd.fmag + math.log2(max(case.K, 1))),
                    T.GRAD_FLOOR), T.GRAD_CAP)
    worst = Measure(PASSED, fwd_ulps=None, bits_lost=None, ulps=None)
    for u, d1, est in fd.dirs:
        with np.errstate(all="ignore"):
            jvp = float(np.sum(v * u))
            err = abs(jvp - d1) if np.isfinite(jvp) else math.inf
            tol = T.FD_SAFETY * est + loose * float(np.sum(np.abs(v * u))) + 1e-300
        rel = err / max(abs(d1), 1e-300)
        if err > worst.abs_err or not math.isfinite(err):
            worst.abs_err, worst.rel_err = err, rel
            worst.grad_eps = rel / ed
            if not err <= tol:  # nan too
                worst.verdict = FLAGGED if case.lenient and not strict else FAILED
                worst.detail = (f"v·u = {jvp:.10g} but the difference quotient is {d1:.10g} "
                                f"(h = {fd.h:.2g}, tolerance {tol:.2g})")
    return worst


def vs_backend(case: Case, out: Output, r: str, outs: dict, strict: bool = False) -> Measure:
    """``out`` against the framework ``r`` (its output cached in ``outs``)."""
    from lsecheck.backends import get

    if case.edge:
        return Measure(SKIPPED, "not compared: frameworks differ at non-finite/empty inputs",
                       checked=False)
    ref_out = outs.get(r) or run_backend(get(r), case)
    outs[r] = ref_out
    if ref_out.problem:
        return Measure(SKIPPED, ref_out.problem, checked=False)
    return compare(case, out, backend_truth(case, ref_out, get(r).grad_form), strict)


def measure(case: Case, out: Output, ref: str, strict: bool = False,
            outs: dict | None = None) -> Measure:
    """``out`` against the reference named ``ref`` (oracle, fd or a framework)."""
    if ref == "oracle":
        return compare(case, out, oracle_truth(case), strict)
    if ref == "fd":
        return fd_measure(case, out, fd_quotients(case), strict)
    return vs_backend(case, out, ref, {} if outs is None else outs, strict)


def ref_order(r: str) -> int:
    """The oracle first, then fd, then the frameworks."""
    return {"oracle": 0, "fd": 1}.get(r, 2)
