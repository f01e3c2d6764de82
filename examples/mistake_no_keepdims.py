"""Student mistake: f is broadcast against z without putting the reduced axes back
(no keepdims / reshape). numpy aligns trailing axes, so this is right only when the
reduced axes are the leading ones — elsewhere it raises or, for square shapes, is wrong."""

import numpy as np
from softmax_form import forward  # noqa: F401  (the forward is right)


def gradient(z, out_grad, axes):
    f = forward(z, axes)
    return (out_grad * np.exp(z - f)).astype(z.dtype)  # BUG: f lacks the reduced axes
