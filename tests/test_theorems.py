"""The theorem table: well-formed rows; every claim true in numbers, apart from the prover."""

import math
from itertools import product

import mpmath as mp
import pytest

from lsecheck.symbolic import Exact
from lsecheck.theorems import (
    BY_NAME,
    SHAPES,
    THEOREMS,
    axes_choices,
    case_label,
    slice_size,
    slices,
    tensor_vjp,
)

SCALAR = [t for t in THEOREMS if t.kind == "scalar"]


def test_rows_are_complete_and_names_unique():
    assert len({t.name for t in THEOREMS}) == len(THEOREMS)
    for t in THEOREMS:
        assert t.name and t.title and t.case and t.step and t.latex, t.name
        assert callable(t.claim)
    assert {"shift", "grad-non-max", "grad-max", "ties", "exp-form", "hessian",
            "tensor"} <= set(BY_NAME)
    assert "最大情况" in BY_NAME["grad-max"].step and "非最大" in BY_NAME["grad-non-max"].step
    assert "∂z_k/∂z_j = 1" in BY_NAME["ties"].step  # says which step of the note it covers


def test_n_min_counts_the_distinct_indices():
    assert BY_NAME["shift"].n_min == 1
    assert BY_NAME["grad-max"].n_min == 1
    assert BY_NAME["grad-non-max"].n_min == 2
    assert BY_NAME["hessian"].n_min == 3


def test_axes_choices_are_every_nonempty_subset_then_none():
    assert axes_choices(2) == [(0,), (1,), (0, 1), None]
    assert len(axes_choices(3)) == 8 and axes_choices(3)[-1] is None


def _point(n, maxat, seed):
    rng = __import__("random").Random(seed)
    zs = [mp.mpf(rng.uniform(-3, 0.5)) for _ in range(n)]
    zs[maxat - 1] = mp.mpf(1)
    return zs + [mp.mpf(rng.uniform(-2, 2))]  # the shift m


@pytest.mark.parametrize("th", SCALAR, ids=lambda t: t.name)
def test_every_link_of_every_claim_holds_in_numbers(th):
    """A numeric check at 40 digits, separate from the exact zero test."""
    with mp.workdps(40):
        for n in (th.n_min, 5):
            E = Exact(n)
            for pattern in th.patterns:
                idx = {x: a for a, x in enumerate(dict.fromkeys(("k", *pattern)), 1)}
                chain = th.claim(E, *[idx[x] for x in pattern])
                point = _point(n, idx["k"], seed=n)
                values = [E.value(c, point) if hasattr(c, "r") else mp.mpf(c) for c in chain]
                for v in values[1:]:
                    assert abs(v - values[0]) < mp.mpf(10) ** -30, (th.name, pattern, n)


def test_the_gradient_claim_matches_a_central_difference_of_the_stable_f():
    """∂f/∂z_j from the table against a finite difference of the float stable f."""
    zs = [0.3, -1.2, 0.9, 0.1]

    def f(v):
        m = max(v)
        return math.log(sum(math.exp(x - m) for x in v)) + m

    E = Exact(4)
    for jj in range(1, 5):
        lhs, rhs = BY_NAME["grad-non-max"].claim(E, jj, 3) if jj != 3 else \
            BY_NAME["grad-max"].claim(E, 3, 3)[::2]
        h = 1e-6
        up, down = list(zs), list(zs)
        up[jj - 1] += h
        down[jj - 1] -= h
        fd = (f(up) - f(down)) / (2 * h)
        exact = float(E.value(rhs, [mp.mpf(x) for x in zs] + [mp.mpf(0)]))
        assert fd == pytest.approx(exact, abs=1e-8)


@pytest.mark.parametrize("shape", SHAPES)
def test_tensor_vjp_rows_match_numpy_logsumexp_gradient(shape):
    """The exact VJP rows, evaluated, against numpy: g_broadcast * exp(Z - lse),
    with each slice's maximum at every position in turn."""
    import numpy as np

    for axes in axes_choices(len(shape)):
        size = int(np.prod(shape))
        red = tuple(range(len(shape))) if axes is None else axes
        parts = slices(shape, axes)
        assert sorted(a for p in parts.values() for a in p) == list(range(1, size + 1))
        assert {len(p) for p in parts.values()} == {slice_size(shape, axes)}
        for at in range(slice_size(shape, axes)):
            E = Exact(size, names=[f"z{a}" for a in range(1, size + 1)],
                      plain=[f"g{a}" for a in range(1, len(parts) + 1)])
            rows = tensor_vjp(E, shape, axes, at)
            rng = np.random.default_rng(at)
            flat = rng.uniform(-2, 0.5, size=size)
            for p in parts.values():
                flat[p[at] - 1] = 1.0  # the claim's case: each slice's max at its at-th entry
            Z = flat.reshape(shape)
            g = np.array([float(v) for v in E._plain_values()]).reshape(
                [s for d, s in enumerate(shape) if d not in red])
            lse = np.log(np.exp(Z).sum(axis=red, keepdims=True))
            want = np.expand_dims(g, red) * np.exp(Z - lse)
            point = [mp.mpf(float(x)) for x in flat]
            for (_, lhs, _rhs), e in zip(rows, product(*(range(s) for s in shape)), strict=True):
                assert float(E.value(lhs, point)) == pytest.approx(want[e], rel=1e-12), (axes, e)


def test_case_labels_use_the_claims_own_argument_names():
    want = {"grad-non-max": ["j ≠ k"], "grad-max": ["j = k"], "shift": [""],
            "softmax-sum": [""], "hessian-ones": ["a = k", "a ≠ k"],
            "hessian": ["a = b = k", "a = b ≠ k", "a = k ≠ b", "a ≠ b = k",
                        "a, b, k pairwise different"]}
    for name, labels in want.items():
        th = BY_NAME[name]
        assert [case_label(th, p) for p in th.patterns] == labels, name
