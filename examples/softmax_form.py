"""A correct LogSumExp op for `lsecheck numeric --impl examples/softmax_form.py`.

forward:  f = m + log Σ exp(z − m),  m = max z over the axes
gradient: out_grad · exp(z − m) / Σ exp(z − m)   (the softmax form, not exp(z − f))
"""

import numpy as np


def _axes(z, axes):
    return tuple(range(z.ndim)) if axes is None else tuple(a % z.ndim for a in axes)


def _max(z, ax):
    # initial=-inf: an empty reduction has maximum −inf instead of raising
    return np.max(z, axis=ax, keepdims=True, initial=-np.inf)


def forward(z, axes):
    ax = _axes(z, axes)
    m = _max(z, ax)
    finite = np.isfinite(m)
    shift = np.where(finite, m, 0)  # ±inf or nan maximum: nothing to shift by
    with np.errstate(all="ignore"):
        f = np.log(np.sum(np.exp(z - shift), axis=ax, keepdims=True)) + shift
    f = np.where(finite, f, m)  # +inf → +inf, all −inf → −inf, nan → nan
    return np.squeeze(f, axis=ax).astype(z.dtype)


def gradient(z, out_grad, axes):
    ax = _axes(z, axes)
    m = _max(z, ax)
    finite = np.isfinite(m)
    with np.errstate(all="ignore"):
        e = np.exp(z - np.where(finite, m, 0))
        p = e / np.sum(e, axis=ax, keepdims=True)
        # an infinite maximum: the entries equal to it share the mass (the limit)
        tied = z == m
        p_tied = tied / np.sum(tied, axis=ax, keepdims=True)
    p = np.where(finite, p, np.where(np.isnan(m), np.nan, p_tied))
    g = np.reshape(out_grad, m.shape)  # the reduced axes back, as size 1
    return (g * p).astype(z.dtype)
