r"""The reference LogSumExp in numpy: forward and vector–Jacobian product.

.. math::

    f(z) = \log \sum_{i \in A} e^{z_i}
         = m + \log \sum_{i \in A} e^{z_i - m}, \qquad m = \max_{i \in A} z_i,

    \frac{\partial f}{\partial z_j} = \operatorname{softmax}(z)_j
         = \frac{e^{z_j - m}}{\sum_{i \in A} e^{z_i - m}},

where :math:`A` is the reduced slice.  Semantics follow the course op
(``LogSumExp(axes)``), ``torch.logsumexp`` and ``scipy.special.logsumexp``:
``axes`` is None (every axis), an int or a tuple of ints, negative axes count
from the end, ``keepdims`` keeps the reduced axes with size 1; float32 and
float64 in, the same dtype out (other inputs are converted to float64).

The gradient is computed in the softmax form :math:`e^{z-m}/\Sigma`, never as
:math:`e^{z - f}`.  Both are equal in exact arithmetic, but :math:`f` carries
an absolute rounding error of about :math:`\varepsilon |f|`, and
:math:`e^{z - f}` turns it into a *relative* error of the gradient of
:math:`\varepsilon |f|`: about :math:`\log_2 |f|` bits are lost (4e3 eps at
:math:`|z| \approx 10^4`, 6 % at :math:`10^{15}`).  In the softmax form
:math:`z_j - m` is exact whenever it matters (Sterbenz), so the only errors
are those of one ``exp``, one sum and one division: a few eps at any scale.

Edge cases, each the value of a limit or of the definition:

==================== ======================= ====================================
slice                 f                       gradient (softmax)
==================== ======================= ====================================
ties at the max       as usual                equal entries get equal shares: the
                                              formula is symmetric, no subgradient
                                              choice is needed (f is smooth)
some −inf entries     as if they were absent  0 there: :math:`e^{-\infty} = 0`
all entries −inf      −inf (log 0)            uniform :math:`1/n`, a convention:
                                              no limit-independent value exists
                                              (see below)
one +inf entry        +inf                    1 there, 0 elsewhere: the limit on
                                              every path
several +inf entries  +inf                    0 on the finite entries (every path);
                                              :math:`1/c` on the :math:`c` infinite
                                              ones, a convention (see below)
any nan               nan                     nan on the whole slice (the sum, hence
                                              every share, depends on the nan)
empty slice           −inf (empty sum is 0)   empty (nothing to differentiate)
0-d input             z (axes None reduces    1
                      no axis)
size-1 reduced axes   z                       1 (exactly: :math:`e^0/e^0`)
==================== ======================= ====================================

Infinite maxima are limits, and only part of them is limit-independent.
With entries :math:`T` at :math:`+\infty` and the others finite, any path
:math:`z_T \to \infty` gives the finite entries the share 0 and :math:`T` the
whole mass 1: with one infinite entry the gradient there is 1 whatever the
path (PyTorch and JAX return nan: pytorch#49724, jax#6811).  How the mass
splits *among* several infinite entries depends on the path:
:math:`z_T = \log p + t\mathbf 1` gives :math:`p`, for any probability vector
:math:`p`.  With every entry :math:`-\infty`, :math:`f = -\infty` and the same
holds for the whole slice: along :math:`z = \log p - t\mathbf 1` the softmax is
:math:`p` for every :math:`t` (the softmax is shift-invariant), so every point
of the probability simplex is a limit and the gradient has no value
independent of the path.  nan ("undefined", PyTorch's and JAX's answer) is
as defensible as any number.  We return the limit along the path that keeps
the tied entries tied (:math:`z = c\mathbf 1 - t\mathbf 1`, softmax :math:`1/n`
for every :math:`t`): *the mass goes to the entries equal to the maximum,
split evenly among ties* — one rule for ±inf, which keeps every slice's shares
summing to 1 (except nan slices).  ``lsecheck numeric`` accepts nan or any
shares summing to 1 there (:func:`lsecheck.compare.admissible`).

Performance: the work is done in row blocks of the ``(kept, reduced)``
matrix, 1 MiB each (half a 2 MiB L2 cache), so that subtract / exp / sum / scale
run in cache, in place in the output array (``out=``); blocks are shared by
two threads (numpy's ufuncs release the GIL).  Peak memory is the input, the
gradient and a few blocks — plus one transposed copy of the input when the
reduced axes are not the trailing axes of a C-contiguous array.

Forward accuracy: the sum is split as :math:`\Sigma = 1 + t` with :math:`t`
the sum without one maximal term, and :math:`f = m + \operatorname{log1p}(t)`,
so :math:`f` stays accurate when :math:`t` is tiny (``log(1 + 1e-20)`` would
be 0).  float32 input is summed in float64.
"""

from __future__ import annotations

import operator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from lsecheck.errors import LseError

BLOCK_BYTES = 1 << 20  # 1 MiB of the working array per block: half the 2 MiB L2 (measured best)
THREADS = 2  # this is memory- and exp-bound: two threads is what a laptop gives
MIN_PARALLEL = 1 << 16  # elements; below this a thread hop costs more than it saves

_pool: ThreadPoolExecutor | None = None


def normalize_axes(axes, ndim: int, name: str = "axes") -> tuple[int, ...]:
    """``axes`` (None, int, or sequence of ints) as a sorted tuple of non-negative axes.

    None means every axis (``()`` for a 0-d array).  Raises :class:`LseError`
    for an axis out of range, a repeated axis or a non-integer.
    """
    if axes is None:
        return tuple(range(ndim))
    items = (axes,) if np.ndim(axes) == 0 and not isinstance(axes, (tuple, list)) else axes
    out = []
    for a in items:
        if isinstance(a, (bool, np.bool_)):
            raise LseError(f"{name}: axis must be an integer, not {a!r}")
        try:
            a = operator.index(a)
        except TypeError:
            raise LseError(f"{name}: axis must be an integer, not {a!r}") from None
        if not -ndim <= a < ndim:
            valid = f"-{ndim}..{ndim - 1}" if ndim else "none: the input is 0-d"
            raise LseError(
                f"{name}: axis {a} is out of range for a {ndim}-d input (valid axes: {valid})"
            )
        a %= max(ndim, 1)
        if a in out:
            raise LseError(f"{name}: axis {a} is repeated in {tuple(items)}; give each axis once")
        out.append(a)
    return tuple(sorted(out))


def out_shape(shape, ax: tuple[int, ...], keepdims: bool = False) -> tuple[int, ...]:
    """The shape of the result of a reduction over ``ax`` (normalized): the reduced axes
    removed, or kept with size 1 under ``keepdims``."""
    if keepdims:
        return tuple(1 if i in ax else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in ax)


def _as_float(z) -> np.ndarray:
    z = np.asarray(z)
    if z.dtype not in (np.float32, np.float64):
        if z.dtype.kind not in "biuf":
            raise LseError(f"z: expected a real array, got dtype {z.dtype}")
        z = z.astype(np.float64)
    return z


def _to_matrix(z: np.ndarray, ax: tuple[int, ...]):
    """View (or, if the reduced axes are not trailing, copy) ``z`` as (kept, reduced)."""
    kept = tuple(i for i in range(z.ndim) if i not in ax)
    moved = np.transpose(z, kept + ax) if kept + ax != tuple(range(z.ndim)) else z
    kshape = tuple(z.shape[i] for i in kept)
    M = int(np.prod(kshape, dtype=np.int64))
    K = int(np.prod([z.shape[i] for i in ax], dtype=np.int64))
    return np.reshape(moved, (M, K)), kept, kshape


def _from_matrix(a2: np.ndarray, shape, kept: tuple[int, ...], ax: tuple[int, ...]):
    """The inverse of :func:`_to_matrix`: a (kept, reduced) matrix in ``shape``'s layout."""
    perm = kept + ax
    a = a2.reshape(tuple(shape[i] for i in perm))
    return a if perm == tuple(range(len(shape))) else np.transpose(a, np.argsort(perm))


def _block(z2, g2, f, og, lo, hi, want_grad):
    """Rows ``lo:hi``: f there, and (if wanted) the VJP into ``g2`` in place."""
    with np.errstate(all="ignore"):  # inf − inf etc. in the rows fixed at the end
        _rows(z2[lo:hi], g2, f, og, lo, hi, want_grad)


def _rows(z, g2, f, og, lo, hi, want_grad):
    m = z.max(axis=1)
    finite = np.isfinite(m)
    shift = m if finite.all() else np.where(finite, m, 0)
    e = g2[lo:hi] if want_grad else np.empty_like(z)
    np.subtract(z, shift[:, None], out=e)
    np.exp(e, out=e)
    # Σ = 1 + t, t without one maximal entry (which is exactly e^0 = 1)
    k = np.argmax(z, axis=1)
    rows = np.arange(hi - lo)
    e[rows, k] = 0.0
    acc = np.float64 if z.dtype == np.float32 else None
    t = e.sum(axis=1, dtype=acc)
    e[rows, k] = 1.0
    fb = shift + np.log1p(t)
    if not finite.all():  # −inf, +inf or nan maxima: the limits in the table above
        fb[~finite] = m[~finite]
    f[lo:hi] = fb
    if not want_grad:
        return
    scale = (og[lo:hi] / (1.0 + t)).astype(z.dtype, copy=False)
    np.multiply(e, scale[:, None], out=e)
    if not finite.all():
        for r in np.flatnonzero(~finite):
            zr, top = z[r], m[r]
            if np.isnan(top):
                share = np.full(z.shape[1], np.nan)
            else:  # ±inf: the entries equal to the maximum share the mass
                hit = zr == top
                share = hit / hit.sum()
            e[r] = og[lo + r] * share


def _pool_run(jobs) -> None:
    global _pool
    if len(jobs) == 1:
        jobs[0]()
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="lsecheck-ref")
    for fut in [_pool.submit(j) for j in jobs]:
        fut.result()


def _lse(z, out_grad, axes, keepdims, want_grad):
    z = _as_float(z)
    ax = normalize_axes(axes, z.ndim)
    z2, kept, kshape = _to_matrix(z, ax)
    M, K = z2.shape
    rshape = out_shape(z.shape, ax, keepdims)
    f = np.empty(M, dtype=z.dtype)
    g2 = np.empty((M, K), dtype=z.dtype) if want_grad else None
    og = None
    if want_grad:
        og = np.ones(M) if out_grad is None else _out_grad(out_grad, rshape, kshape, z.dtype)
    if K == 0:
        f.fill(-np.inf)  # log of an empty sum
    elif M:
        rows = max(1, BLOCK_BYTES // (K * z.itemsize))
        cuts = list(range(0, M, rows)) + [M]
        blocks = list(zip(cuts[:-1], cuts[1:], strict=True))
        if z2.size < MIN_PARALLEL or len(blocks) == 1:
            jobs = [lambda: [_block(z2, g2, f, og, lo, hi, want_grad) for lo, hi in blocks]]
        else:  # interleave blocks over the threads: rows cost the same
            jobs = [
                (lambda part: lambda: [_block(z2, g2, f, og, lo, hi, want_grad)
                                       for lo, hi in part])(blocks[i::THREADS])
                for i in range(THREADS)
            ]
        _pool_run(jobs)
    f = f.reshape(rshape)
    if not want_grad:
        return f
    return f, _from_matrix(g2, z.shape, kept, ax)


def _out_grad(out_grad, rshape, kshape, dtype):
    og = np.asarray(out_grad)
    if og.shape not in (rshape, kshape) and og.size != 1:
        raise LseError(
            f"out_grad: shape {og.shape} does not match the output shape {rshape}"
        )
    og = og.reshape(kshape) if og.shape == rshape else og
    return np.broadcast_to(og, kshape).reshape(-1).astype(np.float64 if dtype == np.float32
                                                          else dtype, copy=False)


def logsumexp(z, axes=None, keepdims: bool = False):
    r""":math:`f = m + \log\sum_{i \in A} e^{z_i - m}` over ``axes``; same dtype as ``z``."""
    return _lse(z, None, axes, keepdims, want_grad=False)


def logsumexp_vjp(z, out_grad=None, axes=None, keepdims: bool = False):
    r"""``(f, v)`` with the VJP :math:`v_j = \bar f \cdot e^{z_j - m} / \Sigma`.

    ``out_grad`` (:math:`\bar f`) has the output's shape (with or without the
    reduced axes kept); None means ones, so that ``v`` is the softmax.
    """
    return _lse(z, out_grad, axes, keepdims, want_grad=True)


def softmax(z, axes=None):
    r""":math:`e^{z - m} / \Sigma` over ``axes``: the gradient of :func:`logsumexp`."""
    return _lse(z, None, axes, False, want_grad=True)[1]


# The --impl protocol of ``lsecheck numeric``: the reference checks itself with
# ``lsecheck numeric --impl lsecheck.reference``.
def forward(z, axes):
    """The reduced result, reduced axes removed (``--impl`` protocol)."""
    return logsumexp(z, axes)


def gradient(z, out_grad, axes):
    """The VJP, same shape and dtype as ``z`` (``--impl`` protocol)."""
    return logsumexp_vjp(z, out_grad, axes)[1]
