"""Student mistake: no max shift. exp(z) overflows for z > 709 (float64), 88 (float32):
inf and nan where the answer is finite."""

import numpy as np


def _axes(z, axes):
    return tuple(range(z.ndim)) if axes is None else tuple(a % z.ndim for a in axes)


def forward(z, axes):
    return np.log(np.sum(np.exp(z), axis=_axes(z, axes))).astype(z.dtype)


def gradient(z, out_grad, axes):
    ax = _axes(z, axes)
    e = np.exp(z)  # BUG: no shift by the maximum
    shape = [1 if i in ax else n for i, n in enumerate(z.shape)]
    return (np.reshape(out_grad, shape) * e / np.sum(e, axis=ax, keepdims=True)).astype(z.dtype)
