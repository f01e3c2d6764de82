r"""An exact-ish oracle: LogSumExp and softmax in mpmath at ``prec`` bits (≥ 100).

.. math::

    f = m + \operatorname{log1p}(t), \quad t = \sum_{i \ne k} e^{z_i - m},
    \qquad
    \operatorname{softmax}(z)_j = \frac{e^{z_j - m}}{1 + t},

with :math:`m = z_k` a maximal entry.  The inputs are floats, hence exact
rationals; :math:`z_i - m` is formed exactly (mpmath adds exactly when asked),
every exponential, the sum, the log and the quotients are rounded to ``prec``
(+20 guard) bits.  The result is a numpy object array of :class:`mpmath.mpf`;
:func:`round_to` rounds it correctly to float32 / float64 / float16.

Edge cases have the semantics of :mod:`lsecheck.reference` (its module
docstring gives the reasons): ties share equally; −inf entries get 0; an all
−inf slice has f = −inf and the uniform gradient (a convention: no value is
limit-independent there); +inf entries share the whole mass evenly (the split
among several is a convention too) and f = +inf; a nan makes the whole slice
nan; an empty slice has f = −inf.

One shortcut, harmless for every float format: an entry with
:math:`z_i - m < -C` (:math:`C = \max(800, (\text{prec}+64)\ln 2)`) gets the
share 0 and is left out of the sum.  Its exact share is below
:math:`e^{-800} < 2^{-1150}`, under half the smallest float64 subnormal, and
it changes the sum by less than :math:`2^{-\text{prec}-64}` relative.

Cost: about 6 µs an entry (pure-Python mpmath), so meant for arrays up to
~10⁵ entries, not for benchmarks-size data.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from mpmath import libmp

from lsecheck.errors import LseError
from lsecheck.reference import _as_float, _from_matrix, _to_matrix, normalize_axes, out_shape

DEFAULT_PREC = 200
MIN_PREC = 100
GUARD = 20  # extra bits for intermediate sums and logs
_RND = libmp.round_nearest

# (precision p in bits incl. the hidden one, emin, emax) of each IEEE format
FORMATS = {
    np.dtype(np.float16): (11, -14, 15),
    np.dtype(np.float32): (24, -126, 127),
    np.dtype(np.float64): (53, -1022, 1023),
}

_mpf = mpmath.mp.make_mpf
_ZERO, _NAN = libmp.fzero, libmp.fnan
_INF, _NINF = libmp.finf, libmp.fninf


def _check_prec(prec: int) -> int:
    if not isinstance(prec, int) or prec < MIN_PREC:
        raise LseError(f"oracle: prec must be an integer ≥ {MIN_PREC} bits (got {prec!r})")
    return prec


def _row(vals, prec: int):
    """(f, shares) of one slice, as raw mpmath tuples."""
    n = len(vals)
    if n == 0:
        return _NINF, []
    if any(math.isnan(v) for v in vals):
        return _NAN, [_NAN] * n
    m = max(vals)
    if math.isinf(m):  # ±inf maximum: the mass goes to the entries tied at it
        hits = [v == m for v in vals]
        share = libmp.mpf_div(libmp.fone, libmp.from_int(sum(hits)), prec, _RND)
        return (_INF if m > 0 else _NINF), [share if h else _ZERO for h in hits]
    w = prec + GUARD
    cut = -max(800.0, (prec + 64) * math.log(2))
    fm = libmp.from_float(m)
    k = vals.index(m)
    exp, sub, from_float = libmp.mpf_exp, libmp.mpf_sub, libmp.from_float
    exps = [
        # z_i − m formed exactly (prec=0); the float test only decides the cut-off
        (exp(sub(from_float(v), fm), w, _RND) if v != m else libmp.fone) if v - m >= cut
        else _ZERO
        for v in vals
    ]
    t = libmp.mpf_sum(exps[:k] + exps[k + 1:], w, _RND)
    with mpmath.workprec(w):
        log1p_t = mpmath.log1p(_mpf(t))._mpf_
    f = libmp.mpf_add(fm, log1p_t, prec, _RND)
    inv = libmp.mpf_div(libmp.fone, libmp.mpf_add(libmp.fone, t, w, _RND), w, _RND)
    mul = libmp.mpf_mul
    return f, [mul(e, inv, prec, _RND) for e in exps]


def logsumexp_softmax(z, axes=None, keepdims: bool = False, prec: int = DEFAULT_PREC):
    """``(f, p)``: LogSumExp over ``axes`` and its gradient (softmax), object arrays of mpf."""
    prec = _check_prec(prec)
    z = _as_float(z)
    ax = normalize_axes(axes, z.ndim)
    z2, kept, kshape = _to_matrix(z, ax)
    M, K = z2.shape
    f = np.empty(M, dtype=object)
    p = np.empty((M, K), dtype=object)
    for r in range(M):
        fr, pr = _row(z2[r].tolist(), prec)
        f[r] = _mpf(fr)
        p[r, :] = [_mpf(x) for x in pr] if K else []
    rshape = out_shape(z.shape, ax, keepdims)
    p = _from_matrix(p, z.shape, kept, ax).copy()
    return f.reshape(rshape), p


def _pair(t) -> tuple[float, float]:
    """A raw mpf as hi + lo, two float64 (hi: t rounded to 53 bits, lo: the rest, rounded).

    Integer arithmetic on the mantissa: ~3× faster than mpf subtraction.
    """
    if t in (_NAN, _INF, _NINF):
        return libmp.to_float(t), 0.0
    sign, man, exp, bc = t
    if bc <= 53:
        return (-1.0 if sign else 1.0) * math.ldexp(man, exp), 0.0
    shift = bc - 53
    top = (man + (1 << (shift - 1))) >> shift  # nearest (ties up: fine for error measures)
    rest = man - (top << shift)  # exact, |rest| ≤ 2^(shift−1)
    sgn = -1.0 if sign else 1.0
    return sgn * math.ldexp(top, exp + shift), sgn * math.ldexp(float(rest), exp)


def pairs(z, axes=None, keepdims: bool = False, prec: int = DEFAULT_PREC):
    """``(f_hi, f_lo, p_hi, p_lo)``: :func:`logsumexp_softmax` as float64 double-doubles.

    ``hi + lo`` carries ~106 bits: enough to measure errors of float64
    results to a small fraction of an ulp, and ~3× faster than object arrays.
    """
    prec = _check_prec(prec)
    z = _as_float(z)
    ax = normalize_axes(axes, z.ndim)
    z2, kept, kshape = _to_matrix(z, ax)
    M, K = z2.shape
    f = np.empty((2, M))
    p = np.empty((2, M, K))
    for r in range(M):
        fr, pr = _row(z2[r].tolist(), prec)
        f[:, r] = _pair(fr)
        if K:
            p[:, r, :] = np.array([_pair(x) for x in pr]).T
    rshape = out_shape(z.shape, ax, keepdims)
    p_hi, p_lo = (np.ascontiguousarray(_from_matrix(q, z.shape, kept, ax)).reshape(z.shape)
                  for q in p)  # reshape: ascontiguousarray makes a 0-d array 1-d
    return f[0].reshape(rshape), f[1].reshape(rshape), p_hi, p_lo


def logsumexp(z, axes=None, keepdims: bool = False, prec: int = DEFAULT_PREC):
    """LogSumExp over ``axes`` in mpmath: an object array of mpf (0-d for a full reduction)."""
    return logsumexp_softmax(z, axes, keepdims, prec)[0]


def softmax(z, axes=None, prec: int = DEFAULT_PREC):
    """The gradient of LogSumExp over ``axes``: an object array of mpf, shaped like ``z``."""
    return logsumexp_softmax(z, axes, False, prec)[1]


def vjp(z, out_grad, axes=None, prec: int = DEFAULT_PREC):
    r"""``(f, v)`` with :math:`v_j = \bar f \cdot \operatorname{softmax}_j` in mpmath.

    ``out_grad`` has the shape of ``f`` (reduced axes removed); the products
    are exact roundings to ``prec`` bits of float × mpf.
    """
    z = _as_float(z)
    ax = normalize_axes(axes, z.ndim)
    f, p = logsumexp_softmax(z, ax, True, prec)
    og = np.asarray(out_grad, dtype=np.float64).reshape(f.shape)
    v = np.empty(p.shape, dtype=object)
    ogb = np.broadcast_to(og, p.shape)
    for i in np.ndindex(p.shape):
        v[i] = _mpf(libmp.mpf_mul(libmp.from_float(float(ogb[i])), p[i]._mpf_, prec, _RND))
    return f.reshape(out_shape(z.shape, ax)), v


def _round_one(x, p: int, emin: int, emax: int) -> float:
    """``x`` (mpf) correctly rounded (nearest, ties to even) to a p-bit format."""
    t = x._mpf_ if isinstance(x, mpmath.mpf) else libmp.from_float(float(x))
    if t in (_NAN, _INF, _NINF, _ZERO) or t == libmp.fnzero:
        return libmp.to_float(t)
    sign, man, exp, bc = t
    if exp + bc - 1 < emin:  # subnormal range: a fixed quantum 2^(emin-p+1)
        q = emin - p + 1
        n = libmp.to_int(libmp.mpf_shift(t, -q), libmp.round_nearest)
        r = libmp.mpf_shift(libmp.from_int(n), q)
    else:
        r = libmp.normalize(sign, man, exp, bc, p, libmp.round_nearest)
    if r != _ZERO and r[2] + r[3] - 1 > emax:
        return -math.inf if r[0] else math.inf
    return libmp.to_float(r)  # exact: r fits in a float64


def round_to(values, dtype) -> np.ndarray:
    """Correctly rounded ``dtype`` array of ``values`` (mpf, object array or floats)."""
    dt = np.dtype(dtype)
    if dt not in FORMATS:
        raise LseError(f"round_to: dtype must be float16, float32 or float64 (got {dt})")
    p, emin, emax = FORMATS[dt]
    vals = np.asarray(values, dtype=object)
    out = np.empty(vals.shape, dtype=np.float64)
    for i in np.ndindex(vals.shape):
        out[i] = _round_one(vals[i], p, emin, emax)
    return out.astype(dt)


def _ordinal(a: np.ndarray) -> np.ndarray:
    """Floats as integers in the same order, adjacent floats one apart (±0 → 0)."""
    bits = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    i = a.view(bits).astype(np.int64)
    top = np.int64(np.iinfo(bits).max)
    return np.where(i < 0, -(i & top), i)


def floats_between(computed, exact, dtype=None) -> np.ndarray:
    """How many ``dtype`` steps separate ``computed`` from ``exact`` correctly rounded.

    0 when ``computed`` is the correctly rounded value, 1 for a neighbour, …
    (uint64).  Both nan counts 0; one nan counts the size of the format
    (2^bits), the largest possible distance.  Herbie's bits of error are
    ``log2(1 + floats_between)``: see :func:`bits_error`.
    """
    c = np.asarray(computed)
    dt = np.dtype(dtype) if dtype is not None else c.dtype
    c = c.astype(dt)
    e = np.asarray(exact)
    e = round_to(e, dt) if e.dtype == object else e.astype(dt)
    a, b = _ordinal(c), _ordinal(e)
    hi, lo = np.maximum(a, b), np.minimum(a, b)
    with np.errstate(over="ignore"):  # wraps around correctly: the true value is < 2^64
        dist = hi.astype(np.uint64) - lo.astype(np.uint64)
    cn, en = np.isnan(c), np.isnan(e)
    dist = np.where(cn & en, np.uint64(0), dist)
    worst = np.uint64(2 ** (8 * dt.itemsize) - 1) if dt.itemsize < 8 else np.uint64(2**64 - 1)
    return np.where(cn ^ en, worst, dist)


def bits_error(computed, exact, dtype=None) -> np.ndarray:
    """Herbie's error in bits: ``log2(1 + floats_between(computed, exact))``."""
    return np.log2(1.0 + floats_between(computed, exact, dtype).astype(np.float64))


def ulps(computed, exact, dtype=None) -> np.ndarray:
    """``|computed − exact| / ulp(exact)`` as floats (the exact value is not rounded first).

    The ulp is that of the correctly rounded exact value in ``dtype`` (for 0:
    the smallest subnormal).  Non-finite values: 0 if equal, inf otherwise.
    """
    c = np.asarray(computed)
    dt = np.dtype(dtype) if dtype is not None else c.dtype
    p, emin, _ = FORMATS[dt]
    e = np.asarray(exact, dtype=object)
    out = np.empty(e.shape, dtype=np.float64)
    cb = np.broadcast_to(c, e.shape)
    for i in np.ndindex(e.shape):
        x = e[i] if isinstance(e[i], mpmath.mpf) else mpmath.mpf(float(e[i]))
        ci = float(cb[i])
        if not mpmath.isfinite(x) or not math.isfinite(ci):
            same = (mpmath.isnan(x) and math.isnan(ci)) or (x == ci)
            out[i] = 0.0 if same else math.inf
            continue
        t = x._mpf_
        q = max(t[2] + t[3] - 1 if x else emin, emin) - p + 1  # exponent of the leading bit
        with mpmath.workprec(128):
            out[i] = float(abs(mpmath.mpf(ci) - x) / mpmath.ldexp(1, q))
    return out
