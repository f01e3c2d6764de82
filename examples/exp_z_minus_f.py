"""The note's op: gradient exp(z − f). Exact in symbols; in floats it loses ~log2|f| bits.

`lsecheck numeric --impl examples/exp_z_minus_f.py` passes it and flags the precision
loss at large magnitudes; `--strict` fails it.
"""

import numpy as np


def _axes(z, axes):
    return tuple(range(z.ndim)) if axes is None else tuple(a % z.ndim for a in axes)


def forward(z, axes):
    ax = _axes(z, axes)
    m = np.max(z, axis=ax, keepdims=True)
    return (np.log(np.sum(np.exp(z - m), axis=ax)) + np.squeeze(m, axis=ax)).astype(z.dtype)


def gradient(z, out_grad, axes):
    ax = _axes(z, axes)
    shape = [1 if i in ax else n for i, n in enumerate(z.shape)]
    f = forward(z, axes).reshape(shape)
    return (np.reshape(out_grad, shape) * np.exp(z - f)).astype(z.dtype)
