"""Comparisons (lsecheck.compare): the limits at ±inf, nan where the answer is finite."""

import numpy as np
import pytest

from lsecheck import cases as C
from lsecheck.compare import admissible, compare, measure, oracle_truth
from lsecheck.impl import Output


def _case(z, g, axes=(1,), dtype="float64"):
    z = np.asarray(z, dtype)
    return C.Case("t", "x", C.EXTENDED, dtype, z.shape, axes, False, True, z,
                  np.asarray(g, dtype))


@pytest.mark.parametrize("v, ok", [
    ([[1 / 3, 1 / 3, 1 / 3]], True),   # lsecheck's uniform 1/n
    ([[np.nan] * 3], True),            # "undefined": torch, JAX
    ([[1.0, 0.0, 0.0]], True),         # another limit (z = (0, −t, −t) − t)
    ([[0.5, 0.3, 0.2]], True),
    ([[0.0, 0.0, 0.0]], False),        # shares summing to 0: the limit of no path
    ([[1.0, 1.0, 0.0]], False),        # summing to 2
    ([[np.nan, 0.5, 0.5]], False),
    ([[-0.5, 1.0, 0.5]], False),       # a negative share
])
def test_all_minus_inf_slice_accepts_every_limit_and_only_those(v, ok):
    case = _case([[-np.inf] * 3], [2.0])
    got = admissible(case, 2.0 * np.array(v))
    assert bool(np.all(got)) == ok and (ok or not np.any(got))


def test_plus_inf_ties_split_is_free_but_the_finite_entries_are_not():
    case = _case([[np.inf, 0.0, np.inf]], [1.0])
    assert admissible(case, np.array([[0.9, 0.0, 0.1]])).tolist() == [[True, False, True]]
    assert admissible(case, np.array([[np.nan, 0.0, np.nan]])).tolist() == \
        [[True, False, True]]
    one = _case([[np.inf, 0.0, 1.0]], [1.0])  # a single +inf: its share is 1 on every path
    assert not admissible(one, np.array([[np.nan, 0.0, 0.0]])).any()
    # through compare: nan at the finite entries of a +inf slice is a deviation
    truth = oracle_truth(case)
    out = Output(np.array([np.inf]), np.array([[np.nan, np.nan, np.nan]]))
    m = compare(case, out, truth, strict=True)
    assert m.verdict == "failed" and "nan/inf where the answer is finite" in m.detail
    out = Output(np.array([np.inf]), np.array([[np.nan, 0.0, np.nan]]))
    assert compare(case, out, truth, strict=True).verdict == "passed"


def test_infinite_forward_is_not_called_nan_where_finite():
    """f = ±inf at an all −inf / +inf slice is right: no 'nan/inf where finite' message."""
    case = _case([[-np.inf, -np.inf], [0.0, 1.0]], [1.0, 1.0])
    truth = oracle_truth(case)
    f = np.array([-np.inf, np.log1p(np.e)])
    v = np.array([[0.5, 0.5], [1 / (1 + np.e), np.e / (1 + np.e)]]) * (1 + 1e-6)
    m = compare(case, Output(f, v), truth, strict=True)
    assert m.verdict == "failed" and "nan/inf" not in m.detail


@pytest.mark.parametrize("ref, rel", [("oracle", 1e-9), ("fd", 1e-4)])  # fd is coarser
def test_measure_by_name_catches_a_slightly_wrong_gradient(ref, rel):
    z = np.array([[0.5, -1.0, 2.0]])
    case = C.Case("c1", "x", C.COURSE, "float64", z.shape, (1,), False, False, z,
                  np.array([1.0]))
    truth = oracle_truth(case)
    f, v = np.asarray(truth.F, np.float64), np.asarray(truth.V, np.float64)
    assert measure(case, Output(f, v), ref).verdict == "passed"
    assert measure(case, Output(f, v * (1 + rel)), ref).verdict == "failed"
