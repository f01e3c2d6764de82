"""The numpy reference: semantics of scipy/torch, edge cases, accuracy against the oracle."""

import math

import numpy as np
import pytest

from lsecheck import oracle as O
from lsecheck import reference as R
from lsecheck.errors import LseError

AXES = [  # shape, axes, normalized
    ((3, 4, 5), None, (0, 1, 2)), ((3, 4, 5), 1, (1,)), ((3, 4, 5), -1, (2,)),
    ((3, 4, 5), (0, 2), (0, 2)), ((3, 4, 5), (-1, -3), (0, 2)), ((3, 4, 5), (2, 0), (0, 2)),
    ((), None, ()), ((4,), 0, (0,)), ((2, 1, 3), (1,), (1,)),
]


@pytest.mark.parametrize("shape, axes, norm", AXES)
def test_matches_scipy_and_numpy(shape, axes, norm):
    from scipy.special import logsumexp, softmax

    z = np.random.default_rng(0).standard_normal(shape) * 3
    assert R.normalize_axes(axes, len(shape)) == norm
    for keepdims in (False, True):
        f, v = R.logsumexp_vjp(z, None, axes, keepdims)
        want = logsumexp(z, axis=norm, keepdims=keepdims) if norm else z
        assert f.shape == np.shape(want) and np.allclose(f, want, rtol=1e-14)
        assert v.shape == z.shape
        assert np.allclose(v, softmax(z, axis=norm) if norm else np.ones_like(z), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_in_is_dtype_out(dtype):
    z = np.ones((2, 3), dtype)
    f, v = R.logsumexp_vjp(z, np.ones(2, dtype), 1)
    assert f.dtype == dtype and v.dtype == dtype
    assert R.logsumexp(np.arange(3), None).dtype == np.float64  # ints become float64


def test_out_grad_is_the_vjp_and_accepts_keepdims_shape():
    z = np.random.default_rng(1).standard_normal((3, 4))
    g = np.array([1.0, -2.0, 0.5])
    _, v = R.logsumexp_vjp(z, g, 1)
    assert np.allclose(v, g[:, None] * R.softmax(z, 1))
    _, v2 = R.logsumexp_vjp(z, g[:, None], 1, keepdims=True)
    assert np.array_equal(v, v2)
    with pytest.raises(LseError, match="out_grad"):
        R.logsumexp_vjp(z, np.ones(4), 1)


EDGE = [  # slice, f, gradient — the table of the module docstring
    ([1.0, 1.0, 1.0], 1 + math.log(3), [1 / 3] * 3),  # ties
    ([0.0, -math.inf], 0.0, [1.0, 0.0]),  # −inf entries get 0
    ([-math.inf] * 4, -math.inf, [0.25] * 4),  # all −inf: uniform (tied at the maximum)
    ([math.inf, 5.0, math.inf], math.inf, [0.5, 0.0, 0.5]),  # +inf share the mass
    ([math.inf, -math.inf], math.inf, [1.0, 0.0]),
    ([1.0, math.nan, 2.0], math.nan, [math.nan] * 3),  # nan: the whole slice
    ([math.nan, math.inf], math.nan, [math.nan] * 2),
    ([7.0], 7.0, [1.0]),  # size 1
    ([1e308, 1e308, 0.0], 1e308, [0.5, 0.5, 0.0]),  # no overflow, ties split
]


@pytest.mark.parametrize("z, f, p", EDGE)
def test_edge_cases(z, f, p):
    fz, v = R.logsumexp_vjp(np.array(z))
    assert np.allclose(fz, f, equal_nan=True, rtol=1e-15)
    assert np.allclose(v, p, equal_nan=True, rtol=1e-15)
    fo, po = O.logsumexp_softmax(np.array(z))  # the oracle has the same semantics
    assert np.allclose(O.round_to(po, np.float64), p, equal_nan=True, rtol=1e-15)


def test_empty_and_zero_d():
    f, v = R.logsumexp_vjp(np.zeros((2, 0, 3)), None, 1)
    assert f.shape == (2, 3) and np.all(f == -np.inf) and v.shape == (2, 0, 3)
    f, v = R.logsumexp_vjp(np.zeros((0, 3)), None, 1)
    assert f.shape == (0,) and v.shape == (0, 3)
    f, v = R.logsumexp_vjp(np.float64(2.5), np.float64(3.0))
    assert f.shape == () and f == 2.5 and v == 3.0


@pytest.mark.parametrize("axes, msg", [(5, "out of range"), ((0, 0), "repeated"),
                                        ((1, -1), "repeated"), (1.5, "integer"),
                                        (True, "integer")])
def test_bad_axes_name_the_axis(axes, msg):
    with pytest.raises(LseError, match=msg):
        R.logsumexp(np.zeros((2, 3)), axes)


def test_threaded_blocks_equal_one_block(monkeypatch):
    z = np.random.default_rng(2).standard_normal((700, 300))
    f1, v1 = R.logsumexp_vjp(z, None, 1)
    monkeypatch.setattr(R, "MIN_PARALLEL", 10**12)
    monkeypatch.setattr(R, "BLOCK_BYTES", 10**12)
    f2, v2 = R.logsumexp_vjp(z, None, 1)
    assert np.array_equal(f1, f2) and np.array_equal(v1, v2)
    f3, v3 = R.logsumexp_vjp(z, None, 0)  # reduced axis leading: a transposed copy
    from scipy.special import softmax
    assert np.allclose(v3, softmax(z, axis=0), rtol=1e-13)


EPS = np.finfo(np.float64).eps


@pytest.mark.parametrize("scale", [1, 1e4, 1e8, 1e15, 1e300])
@pytest.mark.parametrize("form", ["scale", "offset"])
def test_accuracy_against_the_oracle(scale, form):
    """Gradient ≤ 4 eps normwise, forward within one float of the oracle, |z| up to 1e300."""
    rng = np.random.default_rng(int(math.log10(scale)))
    n = rng.standard_normal((40, 8))
    z = scale * n if form == "scale" else scale + n
    fh, fl, ph, pl = O.pairs(z, 1)
    f, v = R.logsumexp_vjp(z, None, 1)
    P = ph.astype(np.longdouble) + pl
    rel = np.max(np.abs(v - P), axis=1) / np.max(np.abs(P), axis=1)
    assert rel.max() <= 4 * EPS
    assert O.floats_between(f, fh).max() <= 1


def test_exp_z_minus_f_form_is_what_loses_bits():
    """The reason for the softmax form: the same data through exp(z − f) loses ~log2|f| bits."""
    z = 1e8 + np.random.default_rng(5).standard_normal((40, 8))
    fh, fl, ph, pl = O.pairs(z, 1)
    f = R.logsumexp(z, 1)
    bad = np.exp(z - f[:, None])
    rel = np.max(np.abs(bad - ph), axis=1) / np.max(ph, axis=1)
    assert rel.max() > 1e5 * EPS


def test_any_input_matches_the_oracle_strictly():
    """Property: on arbitrary small float arrays (±inf, nan, huge, tiny, ties, any axes),
    the reference passes the strict check against the oracle."""
    hyp = pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import array_shapes, arrays

    from lsecheck.cases import Case
    from lsecheck.compare import compare, oracle_truth
    from lsecheck.impl import Output

    @st.composite
    def inputs(draw):
        dtype = draw(st.sampled_from(["float32", "float64"]))
        z = draw(arrays(dtype, array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
                        elements=st.floats(allow_nan=True, allow_infinity=True,
                                           width=32 if dtype == "float32" else 64)))
        axes = draw(st.one_of(st.none(), st.sets(st.integers(0, max(z.ndim - 1, 0)),
                                                 max_size=z.ndim).map(tuple)))
        if axes == ():
            axes = None
        ax = R.normalize_axes(axes, z.ndim)
        gshape = tuple(n for i, n in enumerate(z.shape) if i not in ax)
        g = draw(arrays(dtype, gshape, elements=st.floats(-4, 4, width=32)))
        return Case("h", "scale 1", "course", dtype, z.shape, axes, False,
                    not np.all(np.isfinite(z)) or z.size == 0, z, g)

    @settings(max_examples=150, deadline=None, database=None)
    @given(inputs())
    def check(case):
        f, v = R.logsumexp_vjp(case.z, case.g, case.axes)
        m = compare(case, Output(f, v), oracle_truth(case), strict=True)
        assert m.verdict == "passed", (case.z, case.axes, m.detail)

    assert hyp is not None
    check()
