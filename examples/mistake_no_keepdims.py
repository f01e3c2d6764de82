"""Student mistake: f is broadcast against z without putting the reduced axes back
(no keepdims / reshape). numpy aligns trailing axes, so this is right only when the
reduced axes are the leading ones — elsewhere it raises or, for square shapes, is wrong."""

import numpy as np


def _axes(z, axes):
    return tuple(range(z.ndim)) if axes is None else tuple(a % z.ndim for a in axes)


def forward(z, axes):
    ax = _axes(z, axes)
    m = np.max(z, axis=ax, keepdims=True)
    return (np.log(np.sum(np.exp(z - m), axis=ax)) + np.squeeze(m, axis=ax)).astype(z.dtype)


def gradient(z, out_grad, axes):
    f = forward(z, axes)
    return (out_grad * np.exp(z - f)).astype(z.dtype)  # BUG: f lacks the reduced axes
