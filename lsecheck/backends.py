"""Reference frameworks behind one interface, each imported only when used.

One small class a framework (the einops ``_backends`` pattern)::

    b = get("torch")
    if b.available():
        f, v = b.value_and_vjp(z, g, axes=(1, 2))   # numpy in, numpy out

``value_and_vjp(z, g, axes, keepdims=False)`` returns the LogSumExp ``f``
over ``axes`` (None, an int or a tuple; negative allowed) and the
vector–Jacobian product with the output gradient ``g`` (shaped like ``f``),
both as numpy arrays of ``z``'s dtype — never a full Jacobian.

``grad_form`` says how the framework computes the backward pass, which
decides its accuracy at large magnitude: ``exp(z - f)`` loses about
log2|f| bits, the softmax form ``exp(z - max)/sum`` does not.
"""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np

from lsecheck.errors import LseError

SOFTMAX_FORM = "exp(z − max)/Σ"
EXP_Z_MINUS_F = "exp(z − f)"


class Backend:
    """The interface; subclasses fill in the class attributes and :meth:`_run`."""

    name = ""
    module = ""  # the import that must succeed
    extra = ""  # the pip extra of lsecheck that installs it
    grad_form = ""
    label = ""  # what is called, for reports

    @property
    def install(self) -> str:
        return f"pip install 'lsecheck[{self.extra}]'"

    def available(self) -> bool:
        """Whether the framework can be imported (checked without importing it)."""
        try:
            return importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError):
            return False

    def load(self):
        """Import the framework; a missing one is an :class:`LseError` naming the install."""
        try:
            return importlib.import_module(self.module)
        except ImportError as e:
            raise LseError(f"--ref {self.name}: not installed ({e}); install it with: "
                           f"{self.install}") from None

    def value_and_vjp(self, z, g, axes=None, keepdims: bool = False):
        """``(f, v)``: LogSumExp over ``axes`` and its VJP with ``g``, numpy arrays."""
        from lsecheck.reference import normalize_axes

        z = np.asarray(z)
        ax = normalize_axes(axes, z.ndim)
        g = np.asarray(g, dtype=z.dtype)
        with np.errstate(all="ignore"):  # frameworks' own inf − inf at edge cases
            f, v = self._run(z, g, ax, keepdims)
        return np.asarray(f, dtype=z.dtype), np.asarray(v, dtype=z.dtype).reshape(z.shape)

    def _run(self, z, g, ax, keepdims):  # pragma: no cover - interface
        raise NotImplementedError


class Reference(Backend):
    name, module, extra = "reference", "numpy", ""
    grad_form, label = SOFTMAX_FORM, "lsecheck.reference.logsumexp_vjp"

    @property
    def install(self) -> str:
        return "pip install lsecheck"

    def _run(self, z, g, ax, keepdims):
        from lsecheck.reference import logsumexp_vjp

        return logsumexp_vjp(z, g, ax, keepdims)


class Torch(Backend):
    name, module, extra = "torch", "torch", "torch"
    grad_form, label = EXP_Z_MINUS_F, "torch.logsumexp + autograd"

    def _run(self, z, g, ax, keepdims):
        torch = self.load()
        x = torch.tensor(z, requires_grad=True)
        # dim=() means "every dim" to torch.logsumexp but "none" to numpy: a 0-d
        # input (ax == ()) has nothing to reduce either way
        f = torch.logsumexp(x, dim=ax, keepdim=keepdims) if ax else x * 1
        f.backward(torch.tensor(g).reshape(f.shape))
        v = x.grad if x.grad is not None else torch.zeros_like(x)
        return f.detach().numpy(), v.numpy()


class Jax(Backend):
    name, module, extra = "jax", "jax", "jax"
    grad_form, label = SOFTMAX_FORM, "jax.nn.logsumexp + jax.vjp (x64, jit)"
    _jitted: dict = {}

    def load(self):
        jax = super().load()
        jax.config.update("jax_enable_x64", True)  # float64 stays float64
        _persistent_cache(jax)
        return jax

    def _fn(self, ax, keepdims):
        """One jitted value-and-VJP per (axes, keepdims); jit caches per shape and dtype.

        Compiling costs ~0.1 s a new shape, eager dispatch ~0.5 s: jit wins.
        """
        key = (ax, keepdims)
        if key not in self._jitted:
            jax = self.load()

            def lse(x):
                return jax.nn.logsumexp(x, axis=ax, keepdims=keepdims) if ax else x

            def run(x, g):
                f, pullback = jax.vjp(lse, x)
                return f, pullback(g.reshape(f.shape))[0]

            self._jitted[key] = jax.jit(run)
        return self._jitted[key]

    def _run(self, z, g, ax, keepdims):
        f, v = self._fn(ax, keepdims)(z, g)
        return np.asarray(f), np.asarray(v)


def _persistent_cache(jax) -> None:
    """Keep JAX's compiled kernels on disk: ~0.1–0.2 s a shape the first time, ~0 after.

    In ``$LSECHECK_JAX_CACHE``, else ``$XDG_CACHE_HOME/lsecheck/jax`` (``~/.cache`` when
    unset); ``LSECHECK_JAX_CACHE=off`` disables it, and a cache directory the user
    configured for JAX is kept.  A directory that cannot be made or written leaves
    the cache off, silently: compiling again is the only cost.
    """
    import os

    where = os.environ.get("LSECHECK_JAX_CACHE", "")
    if where.lower() == "off" or jax.config.jax_compilation_cache_dir:
        return
    if not where:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        where = os.path.join(base, "lsecheck", "jax")
    try:
        os.makedirs(where, exist_ok=True)
    except OSError:
        return  # read-only home: compile every time
    if not os.access(where, os.W_OK | os.X_OK):
        return
    jax.config.update("jax_compilation_cache_dir", where)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


class Autograd(Backend):
    name, module, extra = "autograd", "autograd", "autograd"
    grad_form, label = EXP_Z_MINUS_F, "autograd.scipy.special.logsumexp + make_vjp"

    def _run(self, z, g, ax, keepdims):
        self.load()
        from autograd import make_vjp
        from autograd.scipy.special import logsumexp

        def lse(x):
            return logsumexp(x, axis=ax, keepdims=keepdims) if ax else x * 1.0

        pullback, f = make_vjp(lse)(z)
        return f, pullback(np.asarray(g).reshape(np.shape(f)))


class Scipy(Backend):
    """Not autodiff: ``scipy.special.logsumexp`` and the VJP ``g * softmax``."""

    name, module, extra = "scipy", "scipy", "all"
    grad_form, label = SOFTMAX_FORM, "scipy.special.logsumexp, g · scipy.special.softmax"

    def _run(self, z, g, ax, keepdims):
        self.load()
        from scipy.special import logsumexp, softmax

        from lsecheck.reference import out_shape

        if not ax:
            return z.copy(), g.reshape(z.shape).copy()
        kd = out_shape(z.shape, ax, True)
        if z.size == 0:  # scipy cannot reduce an empty array over a tuple of axes
            f = np.full(kd, -np.inf, dtype=z.dtype)
            return (f if keepdims else f.reshape(np.shape(g))), np.zeros_like(z)
        f = logsumexp(z, axis=ax, keepdims=keepdims)
        return f, np.reshape(g, kd) * softmax(z, axis=ax)


BACKENDS: dict[str, Backend] = {
    b.name: b for b in (Reference(), Torch(), Jax(), Autograd(), Scipy())
}
FRAMEWORKS = ("torch", "jax", "autograd")  # autodiff references of `lsecheck numeric`


def get(name: str) -> Backend:
    """The backend called ``name``; an unknown name is an :class:`LseError`."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise LseError(
            f"backend {name!r} is unknown; choose from {', '.join(BACKENDS)}"
        ) from None
