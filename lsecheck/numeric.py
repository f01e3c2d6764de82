r"""``lsecheck numeric``: the gradient of LogSumExp checked on real floats.

*Subjects* (the lsecheck reference and the installed frameworks, or a user's
``--impl``) are run on every case of :mod:`lsecheck.cases` and compared with
*references*:

* ``oracle`` — :mod:`lsecheck.oracle`, mpmath at ``ORACLE_PREC`` = 128 bits: the truth;
* ``fd`` — central finite differences of the forward (float64, lsecheck's
  reference) along random unit directions :math:`u`, checking the VJP
  :math:`v` through :math:`\langle v, u\rangle \approx
  (\phi(z + hu) - \phi(z - hu)) / 2h` with :math:`\phi = \langle \bar f, f\rangle`
  — a JVP check that trusts no formula;
* ``torch``, ``jax``, ``autograd`` — the frameworks' autodiff.

Every comparison is a vector–Jacobian product with a random ``out_grad``
(never a full Jacobian).  Errors and verdicts use the bounds of
:mod:`lsecheck.tolerances`: beyond the loose bound a case *fails*; between
the tight and the loose bound it *passes* but is *flagged* for precision
loss (the :math:`e^{z-f}` form), a failure under ``strict``; at the lenient
edge cases (``cases.LENIENT``: +inf, nan, 1e308 ties, empty inputs, where the
answer is a limit or a convention) any deviation is flagged; at −inf entries
it fails, like anywhere else.  Where no answer is limit-independent (ties at
an infinite maximum) every limit is accepted (:func:`admissible`).
Frameworks are never failed — their deviations are what the report
shows — but the lsecheck reference and a user's implementation are.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lsecheck import tolerances as T
from lsecheck.cases import COURSE, EXTENDED, KINDS, Case
from lsecheck.errors import LseError
from lsecheck.limits import TimeLimit, time_limit
from lsecheck.results import ERROR, FAILED, FLAGGED, PASSED, SKIPPED, Report, Result

REFS = ("torch", "jax", "autograd", "fd", "oracle")
FRAMEWORK_NOTES = {  # known deviations, cited in the report
    "torch": "pytorch#49724", "jax": "jax#6811", "autograd": "HIPS autograd",
}
ORACLE_PREC = 128  # bits: 2^-75 of a float64 ulp; ~15 % cheaper than the library's 200
FD_MAX_MAG = 1e12  # beyond this the step h is a few ulps of z: fd is not checkable
RANK = {PASSED: 0, SKIPPED: -1, FLAGGED: 1, ERROR: 2, FAILED: 3}
COLUMNS = ("cases", "abs err", "rel err", "ulps", "fwd ulps", "bits lost")
NARROW = ("cases", "abs err", "rel err", "ulps")  # the table's columns below 100 columns
NOT_RUN = "not run"  # a call after the impl's time-out
LIMIT_NOTE = ("all −inf slice, +inf ties: f = −inf (+inf) and the gradient has no "
              "limit-independent value (along z = log p − t·1 (+ t·1) the shares tend to any "
              "probability vector p); "
              "lsecheck gives the tied entries 1/n each (the path keeping them tied), and "
              "nan or any shares summing to 1 are accepted there (torch's and JAX's nan is no "
              "deviation)")


# ---------------------------------------------------------------- subjects
@dataclass
class Impl:
    """A user's implementation: ``forward(z, axes)`` and ``gradient(z, out_grad, axes)``."""

    name: str
    forward: Callable
    gradient: Callable
    timeout: float = T.CALL_TIMEOUT
    hung: str = ""  # set after a call ran past the time limit: later calls are not made
    hung_on: object = None  # the case of that call

    def call(self, which: str, *args):
        """``(value, problem)``: the call's result, or None and a one-line reason."""
        if self.hung:
            return None, f"{NOT_RUN}: {self.hung}"
        fn = self.forward if which == "forward" else self.gradient
        out = io.StringIO()
        try:
            with time_limit(self.timeout), contextlib.redirect_stdout(out), \
                    warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                return fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args]), ""
        except TimeLimit:
            self.hung = f"{which} ran past the {self.timeout:g} s limit"
            return None, self.hung
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # SystemExit too: the impl is not allowed to end us
            return None, f"{which} raised {type(e).__name__}: {_short(e)}"


def _short(e: BaseException, n: int = 160) -> str:
    s = " ".join(str(e).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def load_impl(target: str, timeout: float = T.CALL_TIMEOUT) -> Impl:
    """Import ``module.path`` or ``file.py``, optionally ``:NAME``; check the protocol."""
    spec, _, name = target.partition(":")
    where = f"--impl {target}"
    if not spec:
        raise LseError(f"{where}: give a module path or a .py file, e.g. examples/softmax_form.py")
    try:
        with time_limit(timeout), contextlib.redirect_stdout(io.StringIO()):
            if spec.endswith(".py") or "/" in spec or "\\" in spec:
                path = Path(spec)
                if not path.is_file():
                    what = f"{spec} is a directory" if path.is_dir() else f"no such file {spec}"
                    raise LseError(f"{where}: {what}; give an existing .py file "
                                   "or a module path")
                mod_name = "lsecheck_impl_" + path.stem.replace("-", "_")
                if str(path.parent.resolve()) not in sys.path:  # siblings import, as in a script
                    sys.path.insert(0, str(path.parent.resolve()))
                s = importlib.util.spec_from_file_location(mod_name, path)
                module = importlib.util.module_from_spec(s)
                sys.modules[mod_name] = module
                s.loader.exec_module(module)
            else:
                module = importlib.import_module(spec)
    except LseError:
        raise
    except TimeLimit:
        raise LseError(f"{where}: importing it ran past {timeout:g} s; "
                       "remove the long work at module level") from None
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        if isinstance(e, ModuleNotFoundError) and e.name and spec.startswith(e.name):
            raise LseError(f"{where}: import failed: no module named {e.name!r}; give a module "
                           "importable from here or the path of a .py file") from None
        raise LseError(f"{where}: import failed: {type(e).__name__}: {_short(e)}; "
                       "fix the module so that it imports") from None
    obj = module
    if name:
        if not hasattr(module, name):
            raise LseError(f"{where}: {spec} has no {name!r}; name an object that provides "
                           "forward(z, axes) and gradient(z, out_grad, axes)")
        obj = getattr(module, name)
        if isinstance(obj, type):
            try:
                obj = obj()
            except Exception as e:
                raise LseError(f"{where}: {name}() failed: {type(e).__name__}: {_short(e)}; "
                               "make it constructible without arguments") from None
    missing = [m for m in ("forward", "gradient") if not callable(getattr(obj, m, None))]
    if missing:
        sig = {"forward": "forward(z, axes)", "gradient": "gradient(z, out_grad, axes)"}
        raise LseError(f"{where}: no callable {' or '.join(sig[m] for m in missing)}; "
                       "define it (numpy in, numpy out)")
    return Impl(target, obj.forward, obj.gradient, timeout)


@dataclass
class Output:
    """What a subject returned on one case: arrays, or the problem that stopped it."""

    f: np.ndarray | None = None
    v: np.ndarray | None = None
    problem: str = ""  # a crash, a time-out, a wrong shape or dtype (makes the case fail)
    seconds: float = 0.0
    timed_out: bool = False  # the time-out itself or a call not made after it: one row says it


def run_impl(impl: Impl, case: Case) -> Output:
    t0 = time.perf_counter()
    out = Output()
    f, why = impl.call("forward", case.z, case.impl_axes)
    if not why:
        f, why = _conform("forward", f, case, _fshape(case))
    v = None
    if not why:
        v, why = impl.call("gradient", case.z, case.g, case.impl_axes)
        if not why:
            v, why = _conform("gradient", v, case, case.shape)
    out.f, out.v, out.problem = f, v, why
    out.timed_out = bool(why) and bool(impl.hung) and why in (impl.hung, f"{NOT_RUN}: {impl.hung}")
    if out.timed_out and impl.hung_on is None:
        impl.hung_on = case
    out.seconds = time.perf_counter() - t0
    return out


def _fshape(case: Case) -> tuple[int, ...]:
    ax = case.ax
    if case.keepdims:
        return tuple(1 if i in ax else n for i, n in enumerate(case.shape))
    return tuple(n for i, n in enumerate(case.shape) if i not in ax)


def _conform(which, value, case, shape):
    """The value as an array of the right shape and dtype, or the reason it is not."""
    try:
        a = np.asarray(value)
    except Exception as e:
        return None, f"{which} returned {type(value).__name__}, not an array ({_short(e)})"
    if a.dtype.kind not in "fiu" or a.dtype == object:
        return None, f"{which} returned {type(value).__name__} of dtype {a.dtype}, not floats"
    if a.shape != shape:
        hint = ""
        if a.size == int(np.prod(shape, dtype=np.int64)):
            hint = " (the same entries in another layout: keepdims or a reshape?)"
        return None, f"{which} shape {a.shape}, expected {shape}{hint}"
    if a.dtype != np.dtype(case.dtype):
        return None, f"{which} dtype {a.dtype} for {case.dtype} input; return {case.dtype}"
    return a, ""


def run_backend(backend, case: Case) -> Output:
    t0 = time.perf_counter()
    try:
        f, v = backend.value_and_vjp(case.z, case.g, case.axes, case.keepdims)
        return Output(f, v, "", time.perf_counter() - t0)
    except Exception as e:  # a framework that cannot do this case at all
        return Output(problem=f"{backend.name} raised {type(e).__name__}: {_short(e)}")


# ---------------------------------------------------------------- truth and errors
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
    gk = case.g.astype(np.longdouble).reshape(
        tuple(1 if i in case.ax else n for i, n in enumerate(case.shape)))
    with np.errstate(all="ignore"):
        return gk * P


def _scale(case, F, p):
    """1 + |f| + Σ p|z| per slice, in the output's (keepdims) shape; non-finite → 1."""
    ax, kd = case.ax, tuple(1 if i in case.ax else n for i, n in enumerate(case.shape))
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
    g = case.g.astype(np.float64).reshape(
        tuple(1 if i in case.ax else n for i, n in enumerate(case.shape)))
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
    soft = FLAGGED if case.lenient and not strict else FAILED
    if out.timed_out:  # the one 'time limit' row says it
        return Measure(SKIPPED, out.problem, checked=False)
    if out.problem:
        hard = ERROR if ("raised" in out.problem or "past" in out.problem) else FAILED
        return Measure(FLAGGED if case.lenient and not strict else hard, out.problem,
                       math.inf, math.inf, None, math.inf, None, ulps=None)
    e = T.eps(case.dtype)
    kd = tuple(1 if i in case.ax else n for i, n in enumerate(case.shape))
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
    kd = tuple(1 if i in ax else n for i, n in enumerate(z.shape))
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
        return compare(case, out, Truth(0, 0, np.ones(1)), strict)
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


# ---------------------------------------------------------------- the run
@dataclass
class Row:
    """Aggregate of one (subject, reference, group, kind)."""

    cases: int = 0
    checked: int = 0
    verdict: str = SKIPPED
    detail: str = ""
    abs_err: float = 0.0
    rel_err: float = 0.0
    ulps: float | None = None
    fwd_ulps: float | None = None
    bits_lost: float | None = None
    failures: list = field(default_factory=list)  # (case, measure)

    def add(self, case: Case, m: Measure) -> None:
        self.cases += 1
        if not m.checked:
            if not self.detail:
                self.detail = m.detail
            return
        self.checked += 1
        self.abs_err = max(self.abs_err, m.abs_err)
        self.rel_err = max(self.rel_err, m.rel_err)
        for name in ("ulps", "fwd_ulps", "bits_lost"):
            new = getattr(m, name)
            if new is not None:
                old = getattr(self, name)
                setattr(self, name, new if old is None else max(old, new))
        if self.verdict == SKIPPED or RANK[m.verdict] > RANK[self.verdict]:
            if self.verdict == SKIPPED or m.verdict != PASSED:
                self.detail = f"{case.id}: {m.detail}" if m.detail else ""
            self.verdict = m.verdict
        if m.verdict in (FAILED, ERROR):
            self.failures.append((case, m))


@dataclass
class Plan:
    """What to run: subjects (name → runner) and references."""

    subjects: dict
    refs: list
    missing: list  # (name, install command)
    impl: Impl | None = None


def plan(refs=REFS, impl: Impl | None = None) -> Plan:
    from lsecheck import backends as B

    missing, selected = [], []
    for r in refs:
        if r in ("fd", "oracle"):
            selected.append(r)
            continue
        b = B.get(r)
        if b.available():
            selected.append(r)
        else:
            missing.append((r, b.install))
    if impl is not None:
        subjects = {"impl": lambda c: run_impl(impl, c)}
    else:
        subjects = {"reference": (lambda c: run_backend(B.get("reference"), c))}
        for r in selected:
            if r not in ("fd", "oracle"):
                subjects[r] = (lambda b: lambda c: run_backend(b, c))(B.get(r))
    return Plan(subjects, selected, missing, impl)


def _pairs(p: Plan) -> list[tuple[str, str]]:
    """(subject, reference) comparisons to make."""
    if p.impl is not None:
        return [("impl", r) for r in p.refs]
    others = [r for r in p.refs if r in ("oracle", "fd")]
    if "oracle" in p.refs:
        return [(s, r) for s in p.subjects for r in others]
    # no oracle: frameworks against the lsecheck reference, everything against fd
    return [(s, "reference") for s in p.subjects if s != "reference"] + \
           [(s, r) for s in p.subjects for r in others]


def sweep(cases: list[Case], p: Plan, strict: bool = False, progress=None):
    """Run every subject on every case; aggregate per (subject, ref, group, kind)."""
    rows: dict[tuple[str, str, str, str], Row] = {}
    pairs = _pairs(p)
    # one thread on purpose: a background thread for the frameworks was measured
    # slower (GIL contention with the oracle), and the --impl must stay on the main
    # thread, where its time limit (SIGALRM) works
    for case in cases:
        outs = {s: run(case) for s, run in p.subjects.items()}
        truth = oracle_truth(case) if "oracle" in p.refs else None
        fd = fd_quotients(case) if "fd" in p.refs else None
        for s, r in pairs:
            if r == "oracle":
                m = compare(case, outs[s], truth, strict)
            elif r == "fd":
                m = fd_measure(case, outs[s], fd, strict)
            else:
                m = _vs_backend(case, outs[s], r, outs, strict)
            m = _framework_verdict(s, m)
            rows.setdefault((s, r, case.group, case.kind), Row()).add(case, m)
        if progress:
            progress(1)
    return rows


def _vs_backend(case, out, r, outs, strict):
    from lsecheck.backends import get

    if case.edge:
        return Measure(SKIPPED, "not compared: frameworks differ at non-finite/empty inputs",
                       checked=False)
    ref_out = outs.get(r) or run_backend(get(r), case)
    outs[r] = ref_out
    if ref_out.problem:
        return Measure(SKIPPED, ref_out.problem, checked=False)
    return compare(case, out, backend_truth(case, ref_out, get(r).grad_form), strict)


def _framework_verdict(subject: str, m: Measure) -> Measure:
    """A framework's deviation is a finding, not a failure: flagged."""
    if subject in ("impl", "reference") or m.verdict in (PASSED, SKIPPED):
        return m
    m.verdict = FLAGGED
    return m


# ---------------------------------------------------------------- shrinking
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
    axes_t = c.impl_axes if c.impl_axes is not None else None
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
    if isinstance(axes_t, tuple) and len(axes_t) > 1:  # one reduced axis instead of several
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


def counterexample(impl: Impl, case: Case, p: Plan, strict: bool) -> dict:
    """The facts of one failing case: input, expected, got, and who disagrees by how much."""
    out = run_impl(impl, case) if not impl.hung else Output(problem=impl.hung, timed_out=True)
    ce = {"case": case.describe(), "shape": case.shape,
          "axes": repr(case.impl_axes),
          "dtype": case.dtype, "z": _show(case.z), "out_grad": _show(case.g)}
    truth = oracle_truth(case)
    ce["expected forward (oracle)"] = _show(np.asarray(truth.F, np.float64).astype(case.dtype))
    ce["expected gradient (oracle)"] = _show(np.asarray(truth.V, np.float64).astype(case.dtype))
    if out.problem:
        ce["got"] = out.problem
    else:
        ce["got forward"] = _show(out.f)
        ce["got gradient"] = _show(out.v)
    outs = {"impl": out}
    for r in p.refs:
        if r == "oracle":
            m = compare(case, out, truth, strict)
        elif r == "fd":
            m = fd_measure(case, out, fd_quotients(case), strict)
        else:
            m = _vs_backend(case, out, r, outs, strict)
        if m.verdict in (FAILED, ERROR, FLAGGED):
            ce[f"disagrees with {r}"] = m.detail
        elif m.verdict == PASSED:
            ce[f"agrees with {r}"] = f"rel err {m.rel_err:.3g}"
    return ce


def _show(a) -> str:
    a = np.asarray(a)
    if a.size > 24:
        return f"array of shape {a.shape}: " + np.array2string(
            a.reshape(-1)[:12], precision=17, separator=", ") + " …"
    return np.array2string(a, precision=17, separator=", ").replace("\n", "")


# ---------------------------------------------------------------- the report
def check(cases: list[Case], refs=REFS, impl: Impl | None = None, strict: bool = False,
          progress=None, seed: int = 0) -> Report:
    """Run the sweep and build the :class:`Report` of ``lsecheck numeric``."""
    p = plan(refs, impl)
    if impl is not None and not p.refs:
        raise LseError("--ref: none of the references is installed; add fd or oracle")
    t0 = time.perf_counter()
    rows = sweep(cases, p, strict, progress)
    elapsed = time.perf_counter() - t0
    results: list[Result] = []
    for name, install in p.missing:
        results.append(Result(name, SKIPPED, group="references",
                              detail=f"not installed — {install}"))
    order = {k: i for i, k in enumerate(KINDS)}
    keys = sorted(rows, key=lambda k: (list(p.subjects).index(k[0]) if k[1] != "fd" else 0,
                                       k[1], k[2] != COURSE, order.get(k[3], 99)))
    keys = sorted(keys, key=lambda k: (_ref_order(k[1]), k[2] != COURSE))
    for s, r, grp, kind in keys:
        row = rows[(s, r, grp, kind)]
        if not row.checked and (r != "oracle" or (impl is not None and impl.hung)):
            continue  # not comparable there, or not run after a time-out: said in the notes
        name = kind
        subject = "impl" if impl is not None else s
        info = {"cases": row.cases if row.checked == row.cases else f"{row.checked}/{row.cases}",
                "abs err": row.abs_err, "rel err": row.rel_err, "ulps": row.ulps,
                "fwd ulps": row.fwd_ulps,
                "bits lost": None if row.bits_lost is None else round(row.bits_lost, 1)}
        group = f"{subject} vs {r} · {grp}"
        results.append(Result(name, row.verdict, group=group, detail=row.detail, info=info))
    notes = _framework_notes(rows, p)
    if impl is not None and impl.hung:
        results.append(_timed_out(impl, rows, p))
    elif impl is not None:
        results += _shrunk(impl, rows, p, strict)
    tol = dict(T.table())
    if impl is not None:
        tol["time limit per call"] = f"{impl.timeout:g} s"
    notes.append("tolerances: " + "; ".join(f"{k}: {v}" for k, v in tol.items()))
    notes.append(f"{len(cases)} cases (seed {seed}), {len(p.subjects)} subject(s), references "
                 f"{', '.join(p.refs) or 'none'}; {elapsed:.2f} s")
    short = Path(impl.name).name if impl and ("/" in impl.name or "\\" in impl.name) else \
        (impl.name if impl else "")
    title = f"LogSumExp gradient of {short}" if impl else "LogSumExp gradient"
    meta = {"seed": seed, "cases": len(cases), "refs": list(p.refs), "strict": strict,
            "impl": impl.name if impl else None,
            "oracle_bits": ORACLE_PREC,
            "missing": {n: i for n, i in p.missing}, "seconds": round(elapsed, 3),
            "tolerances": tol, "groups": [COURSE, EXTENDED]}
    return Report("numeric", title, tuple(results), columns=COLUMNS, notes=tuple(notes),
                  meta=meta)


def narrow(report: Report) -> Report:
    """The report for a terminal under ~100 columns: the ``NARROW`` columns, and each
    detail as a numbered footnote (``[1]``) printed in full under the tables."""
    from dataclasses import replace

    results, notes = [], []
    for r in report.results:
        if r.detail and not r.counterexample:
            notes.append(f"[{len(notes) + 1}] {r.group}, {r.name}: {r.detail}")
            r = replace(r, detail=f"[{len(notes)}]")
        results.append(r)
    return replace(report, results=tuple(results), columns=NARROW,
                   notes=tuple(notes) + report.notes)


def _ref_order(r: str) -> int:
    return {"oracle": 0, "fd": 1}.get(r, 2)


def _framework_notes(rows, p: Plan) -> list[str]:
    """One line per framework deviation found (precision loss, nan at limits)."""
    from lsecheck.backends import BACKENDS
    from lsecheck.cases import EDGE

    notes = []
    if "fd" in p.refs:
        notes.append("fd: not checkable at non-finite or empty inputs and at |z| ≥ 1e12 "
                     "(the step would be a few ulps of z)")
    fw = [r for r in p.refs if r not in ("fd", "oracle")]
    if fw and (p.impl is not None or "oracle" not in p.refs):
        notes.append(f"{', '.join(fw)}: not compared at non-finite or empty inputs, where the "
                     "frameworks disagree with each other (the oracle decides there)")
    kinds = {kind for (_, _, _, kind) in rows}
    if kinds & {"all −inf slice", "+inf entries"}:
        notes.append(LIMIT_NOTE)
    for s in p.subjects:
        if s in ("impl", "reference"):
            continue
        mine = [(kind, row) for (ss, r, _, kind), row in rows.items()
                if ss == s and r == "oracle" and row.verdict == FLAGGED]
        lost = [(row.bits_lost or 0, kind) for kind, row in mine if kind not in EDGE]
        if lost:
            bits, kind = max(lost)
            notes.append(f"{s}: backward in the {BACKENDS[s].grad_form} form loses up to "
                         f"{bits:.1f} bits ({kind})")
        nan = sorted({kind for kind, row in mine if kind in EDGE and "nan/inf" in row.detail},
                     key=EDGE.index)
        if nan:
            notes.append(f"{s}: nan/inf gradient at {', '.join(nan)}, where the limit is the "
                         f"same on every path ({FRAMEWORK_NOTES.get(s, '')})")
        for kind, row in mine:
            if kind in EDGE and "nan/inf" not in row.detail and row.detail:
                notes.append(f"{s}: at {kind}, {row.detail}")
    return notes


def _timed_out(impl: Impl, rows, p: Plan) -> Result:
    """The one row of a time-out: on which case, and how many cases were not run after it."""
    not_run = max(sum(row.cases - row.checked for (_, r, _, _), row in rows.items() if r == ref)
                  for ref in p.refs)
    case = impl.hung_on
    ce = None
    if case is not None:
        ce = {"case": case.describe(), "shape": case.shape, "axes": repr(case.impl_axes),
              "dtype": case.dtype, "z": _show(case.z), "out_grad": _show(case.g),
              "got": impl.hung}
    where = f" on {case.id} ({case.describe()})" if case is not None else ""
    return Result("time limit", ERROR, group="impl",
                  detail=f"{impl.hung}{where}; {max(not_run - 1, 0)} later case(s) not run: "
                         "make it faster or raise --timeout", counterexample=ce)


def _shrunk(impl: Impl, rows, p: Plan, strict: bool) -> list[Result]:
    """The smallest failing case (shrunk from the first failure), as a counterexample."""
    first = None
    for (_, r, _, _), row in sorted(rows.items(), key=lambda kv: _ref_order(kv[0][1])):
        for case, m in row.failures:
            if first is None or (case.group == COURSE and first[0].group != COURSE):
                first = (case, m, r)
    if first is None:
        return []
    case, m, r = first

    judge = "oracle" if "oracle" in p.refs else r

    def fails(c: Case) -> bool:
        out = run_impl(impl, c)
        if judge == "oracle":
            mm = compare(c, out, oracle_truth(c), strict)
        elif judge == "fd":
            mm = fd_measure(c, out, fd_quotients(c), strict)
        else:
            mm = _vs_backend(c, out, judge, {}, strict)
        return mm.verdict in (FAILED, ERROR)

    small = shrink(impl, case, fails) if not impl.hung else case
    ce = counterexample(impl, small, p, strict)
    n_fail = sum(len(row.failures) for row in rows.values())
    detail = (f"{n_fail} failing comparison(s); shrunk from {case.id} ({case.describe()}): "
              f"{m.detail}")
    return [Result("smallest failing case", FAILED if m.verdict == FAILED else ERROR,
                   group="counterexample", detail=detail, counterexample=ce)]
