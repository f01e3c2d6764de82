"""Student mistake: computes in float32 whatever the input, then casts back.
The dtype is right, the float64 answer has only float32 accuracy (~1e-8 relative)."""

import numpy as np
from softmax_form import forward as _forward  # noqa: F401  (a correct op, fed float32)
from softmax_form import gradient as _gradient


def forward(z, axes):
    return _forward(z.astype(np.float32), axes).astype(z.dtype)  # BUG: float32 inside


def gradient(z, out_grad, axes):
    g32 = np.asarray(out_grad, np.float32)
    return _gradient(z.astype(np.float32), g32, axes).astype(z.dtype)
