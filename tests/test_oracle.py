"""The mpmath oracle: known values, edge semantics, correct rounding, float distances."""

import math

import mpmath
import numpy as np
import pytest

from lsecheck import oracle as O
from lsecheck.errors import LseError

with mpmath.workprec(300):
    KNOWN = [  # z, axes, f, softmax — exact to 300 bits
        ([0.0, 0.0], None, mpmath.log(2), [0.5, 0.5]),
        ([1.0], None, 1, [1]),
        ([0.0, -math.inf], None, 0, [1, 0]),
        ([-math.inf, -math.inf, -math.inf], None, -math.inf, [mpmath.mpf(1) / 3] * 3),
        ([math.inf, 1.0, math.inf], None, math.inf, [0.5, 0, 0.5]),
        ([1e308, 1e308, 0.0], None, mpmath.mpf(1e308) + mpmath.log(2), [0.5, 0.5, 0]),
    ]


def _close(a, b, bits=190):
    if not mpmath.isfinite(a) or not mpmath.isfinite(b):
        return a == b
    with mpmath.workprec(300):
        return abs(a - b) <= max(abs(mpmath.mpf(b)), 1) * mpmath.mpf(2) ** -bits


@pytest.mark.parametrize("z, axes, f, p", KNOWN)
def test_known_values(z, axes, f, p):
    fo, po = O.logsumexp_softmax(np.array(z), axes)
    assert _close(fo[()], f)
    for a, b in zip(po, p, strict=True):
        assert _close(a, b)


def test_nan_slice_and_empty_reduction():
    f, p = O.logsumexp_softmax(np.array([[1.0, math.nan], [1.0, 2.0]]), 1)
    assert mpmath.isnan(f[0]) and all(mpmath.isnan(x) for x in p[0])
    assert not mpmath.isnan(f[1])
    f, p = O.logsumexp_softmax(np.zeros((2, 0)), 1)
    assert list(f) == [-mpmath.inf, -mpmath.inf] and p.shape == (2, 0)


def test_log1p_keeps_tiny_sums():
    # log(1 + e^-800) would be 0 at 200 bits if formed as log of the sum
    f = O.logsumexp(np.array([0.0, -700.0]))
    assert abs(f[()] / mpmath.exp(-700) - 1) < 1e-50


def test_shapes_keepdims_and_axes():
    z = np.arange(24.0).reshape(2, 3, 4)
    f, p = O.logsumexp_softmax(z, (0, 2), keepdims=True)
    assert f.shape == (1, 3, 1) and p.shape == z.shape
    assert O.logsumexp(z, -1).shape == (2, 3)
    assert O.softmax(np.float64(3.0)).shape == ()


def test_vjp_is_out_grad_times_softmax():
    z = np.array([[0.0, 1.0], [2.0, 2.0]])
    f, v = O.vjp(z, np.array([2.0, -3.0]), 1)
    assert f.shape == (2,) and abs(v[1, 0] + 1.5) < 1e-50
    assert abs(v[0, 0] + v[0, 1] - 2) < 1e-50


def test_prec_is_checked():
    with pytest.raises(LseError, match="prec"):
        O.logsumexp(np.zeros(2), prec=50)


@mpmath.workprec(300)
def test_round_to_is_correct_rounding():
    two = mpmath.mpf(2)
    cases = [  # value, dtype, expected
        (two ** -150, np.float32, 0.0),  # half the smallest subnormal: ties to even → 0
        (two ** -149 * 1.5, np.float32, 2 * 2.0 ** -149),  # tie → even
        (two ** 128 * (1 - two ** -25), np.float32, math.inf),  # halfway to 2^128 → inf
        (two ** 128 * (1 - two ** -24), np.float32, float(np.finfo(np.float32).max)),
        (1 + two ** -53, np.float64, 1.0),  # tie → even
        (1 + two ** -53 + two ** -100, np.float64, 1 + 2.0 ** -52),  # just above the tie
        (two ** -1075 * 3, np.float64, 2 * 5e-324),
        (mpmath.mpf("nan"), np.float64, math.nan),
    ]
    for x, dt, want in cases:
        got = O.round_to([x], dt)[0]
        assert got.dtype == dt
        assert (math.isnan(got) and math.isnan(want)) or got == np.asarray(want, dt), (x, dt)
    # 1/3 to float32 is not float64(1/3) to float32 when that double-rounds: just check nearest
    third = O.round_to([mpmath.mpf(1) / 3], np.float32)[0]
    assert abs(mpmath.mpf(float(third)) - mpmath.mpf(1) / 3) <= 2.0 ** -26
    with pytest.raises(LseError):
        O.round_to([1], np.int32)


def test_floats_between_counts_steps():
    one = np.float64(1.0)
    assert O.floats_between(one, mpmath.mpf(1)).item() == 0
    assert O.floats_between(np.nextafter(one, 2), np.array([mpmath.mpf(1)], dtype=object)) == 1
    assert O.floats_between(np.float64(-0.0), np.float64(np.nextafter(0, 1))).item() == 1
    assert O.floats_between(np.float32(1), np.float32(2)).item() == 2 ** 23
    assert O.floats_between(np.float64(math.nan), np.float64(math.nan)).item() == 0
    assert O.floats_between(np.float64(math.nan), np.float64(1)).item() == 2 ** 64 - 1
    assert O.bits_error(np.nextafter(one, 2), one).item() == 1.0
    assert O.ulps(np.float64(1 + 2 ** -52), [mpmath.mpf(1)]).item() == 1.0


def test_pairs_match_object_arrays():
    z = np.random.default_rng(3).standard_normal((3, 5)) * 30
    fh, fl, ph, pl = O.pairs(z, 1)
    f, p = O.logsumexp_softmax(z, 1)
    assert np.array_equal(fh, O.round_to(f, np.float64))
    assert np.array_equal(ph, O.round_to(p, np.float64))
    rest = [float(p[i] - ph[i]) for i in np.ndindex(p.shape)]
    assert np.allclose(pl.ravel(), rest, rtol=1e-10, atol=0)
