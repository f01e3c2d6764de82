"""The same computation through every backend (einops style)."""

import numpy as np
import pytest
from conftest import need

from lsecheck import backends as B
from lsecheck.errors import LseError

CASES = [  # shape, axes, keepdims
    ((3, 4, 5), (0, 2), False), ((3, 4, 5), -1, True), ((3, 4, 5), 1, False),
    ((), None, False), ((6,), None, False), ((2, 1, 3), (1,), False), ((2, 0, 3), 1, False),
]


@pytest.mark.parametrize("name", list(B.BACKENDS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_backend_agrees_with_the_reference(name, dtype):
    b = B.get(name)
    need(b.module)
    assert b.available()
    rng = np.random.default_rng(0)
    for shape, axes, keepdims in CASES:
        z = rng.standard_normal(shape).astype(dtype)
        from lsecheck.reference import logsumexp_vjp, normalize_axes

        ax = normalize_axes(axes, len(shape))
        fshape = tuple(1 if i in ax else n for i, n in enumerate(shape)) if keepdims else \
            tuple(n for i, n in enumerate(shape) if i not in ax)
        g = rng.standard_normal(fshape).astype(dtype)
        f, v = b.value_and_vjp(z, g, axes, keepdims)
        fr, vr = logsumexp_vjp(z, g, axes, keepdims)
        assert f.dtype == np.dtype(dtype) and v.dtype == np.dtype(dtype), (name, shape)
        assert f.shape == fr.shape and v.shape == z.shape, (name, shape, axes)
        tol = 1e-5 if dtype == "float32" else 1e-12
        assert np.allclose(f, fr, rtol=tol, atol=tol) and np.allclose(v, vr, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["torch", "autograd"])
def test_exp_z_minus_f_frameworks_overcount_ties_at_1e308(name):
    """Known deviation the report shows: [1e308, 1e308, 0] → [1, 1, 0] (sums to 2)."""
    b = B.get(name)
    need(b.module)
    _, v = b.value_and_vjp(np.array([1e308, 1e308, 0.0]), np.float64(1.0), None)
    assert np.array_equal(v, [1.0, 1.0, 0.0]) and b.grad_form == B.EXP_Z_MINUS_F


def test_jax_keeps_float64():
    b = B.get("jax")
    need("jax")
    _, v = b.value_and_vjp(1e8 + np.arange(4.0), np.float64(1.0), None)
    assert v.dtype == np.float64 and abs(v.sum() - 1) < 1e-15


def test_install_commands_and_unknown_names():
    assert B.get("torch").install == "pip install 'lsecheck[torch]'"
    assert B.get("jax").install == "pip install 'lsecheck[jax]'"
    assert set(B.FRAMEWORKS) <= set(B.BACKENDS)
    with pytest.raises(LseError, match="unknown"):
        B.get("tensorflow")


def test_missing_framework_is_one_line_with_the_install(monkeypatch):
    b = B.get("torch")
    monkeypatch.setattr(type(b), "module", "no_such_module_xyz")
    assert not b.available()
    with pytest.raises(LseError, match=r"pip install 'lsecheck\[torch\]'"):
        b.load()


class _FakeJax:
    """Just the ``jax.config`` that ``_persistent_cache`` touches (no JAX import needed)."""

    class config:  # noqa: N801 - mirrors jax.config
        jax_compilation_cache_dir = None
        set: dict = {}

        @classmethod
        def update(cls, key, value):
            cls.set[key] = value

    def __init__(self):
        self.config.set = {}


def test_jax_cache_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv("LSECHECK_JAX_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    jax = _FakeJax()
    B._persistent_cache(jax)
    where = tmp_path / "xdg" / "lsecheck" / "jax"
    assert where.is_dir() and jax.config.set["jax_compilation_cache_dir"] == str(where)


def test_jax_cache_off_or_unwritable_is_silent(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LSECHECK_JAX_CACHE", raising=False)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # makedirs fails under a file
    jax = _FakeJax()
    B._persistent_cache(jax)
    assert jax.config.set == {}
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "ro"))  # exists but not writable
    monkeypatch.setattr("os.access", lambda path, mode: False)  # root may write anywhere
    B._persistent_cache(jax)
    assert jax.config.set == {}
    monkeypatch.undo()
    monkeypatch.setenv("LSECHECK_JAX_CACHE", "off")
    B._persistent_cache(jax)
    assert jax.config.set == {}
    assert capsys.readouterr() == ("", "")
