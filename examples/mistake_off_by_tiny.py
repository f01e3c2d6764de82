"""Student mistake (simulated): a gradient off by a relative 1e-9 — e.g. a constant typed
with too few digits. Invisible to np.allclose's default rtol=1e-5; lsecheck fails it."""

from softmax_form import forward  # noqa: F401  (the forward is right)
from softmax_form import gradient as _gradient


def gradient(z, out_grad, axes):
    return (_gradient(z, out_grad, axes) * (1 + 1e-9)).astype(z.dtype)  # BUG
