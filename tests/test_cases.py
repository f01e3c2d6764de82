"""The case bank: coverage, course/extended tags, repeatability, parsing and size checks."""

import numpy as np
import pytest

from lsecheck import cases as C
from lsecheck.errors import LseError


def test_same_seed_same_bank_other_seed_other_values():
    a, b, c = C.bank(7), C.bank(7), C.bank(8)
    assert [x.id for x in a] == [x.id for x in b]
    assert all(np.array_equal(x.z, y.z, equal_nan=True) and np.array_equal(x.g, y.g)
               for x, y in zip(a, b, strict=True))
    assert any(x.shape != y.shape or not np.array_equal(x.z, y.z, equal_nan=True)
               for x, y in zip(a, c, strict=False))


def test_coverage_of_the_bank():
    bank = C.bank(0)
    assert {x.z.ndim for x in bank} >= {0, 1, 2, 3, 4, 5}
    assert any(1 in x.shape for x in bank)  # size-1 dimensions
    assert {x.dtype for x in bank} == {"float32", "float64"}
    assert {x.kind for x in bank} == set(C.KINDS)
    forms = {type(x.axes).__name__ for x in bank}
    assert forms == {"NoneType", "int", "tuple"}
    assert any(isinstance(x.axes, int) and x.axes < 0 for x in bank)
    assert any(isinstance(x.axes, tuple) and min(x.axes) < 0 for x in bank)
    assert any(x.keepdims for x in bank)
    assert any(x.axes == tuple(range(x.z.ndim)) for x in bank if x.z.ndim > 1)  # all axes
    assert any(x.K == 0 for x in bank)  # an empty reduction


def test_course_cases_keep_the_course_contract():
    bank = C.bank(0)
    course = [x for x in bank if x.group == C.COURSE]
    assert course and len(course) < len(bank)
    for x in course:
        assert x.axes is None or (isinstance(x.axes, tuple) and min(x.axes) >= 0)
        assert not x.keepdims and not x.edge and x.kind in C.ORDINARY
        assert np.all(np.isfinite(x.z)) and np.max(np.abs(x.z), initial=0) < 100
    assert all(x.group == C.COURSE for x in C.bank(0, "course"))


def test_values_of_each_family():
    bank = C.bank(0)
    by = {}
    for x in bank:
        by.setdefault(x.kind, []).append(x)
    assert all(np.isposinf(x.z).sum() == 2 for x in by["+inf entries"])  # a tie at +inf
    assert all(np.isposinf(x.z).sum() == 1 for x in by["one +inf entry"])  # a true limit
    assert all(np.any(np.isnan(x.z)) for x in by["nan entry"])
    assert all(np.any(x.z == x.z.max()) and (x.z == x.z.max()).sum() >= 2 for x in by["ties"]
               if x.z.size > 8)
    assert all(abs(np.median(x.z) - 1e8) < 10 for x in by["|z| ≈ 1e8"])
    assert all(x.dtype == "float64" for x in by["|z| ≈ 1e15"] + by["scale 1e300"])
    for x in bank:  # out_grad has the output's shape
        ax = x.ax
        want = tuple(1 if i in ax else n for i, n in enumerate(x.shape)) if x.keepdims else \
            tuple(n for i, n in enumerate(x.shape) if i not in ax)
        assert x.g.shape == want and x.g.dtype == x.z.dtype


def test_user_shape_and_axes():
    bank = C.bank(0, shape=(3, 4, 5), axes_list=[(0, 2), -1], dtypes=("float64",))
    assert {x.axes for x in bank} == {(0, 2), -1}
    assert {x.group for x in bank if x.axes == -1} == {C.EXTENDED}
    assert all(x.shape == (3, 4, 5) for x in bank)
    with pytest.raises(LseError, match="--axes: axis 5"):
        C.bank(0, shape=(3, 4, 5), axes_list=[5])
    assert not any(x.keepdims for x in C.bank(0, impl=True))


@pytest.mark.parametrize("text, want", [("3,4,5", (3, 4, 5)), ("7", (7,)), ("", ()),
                                        ("()", ()), ("(2, 0)", (2, 0))])
def test_parse_shape(text, want):
    assert C.parse_shape(text) == want


@pytest.mark.parametrize("text, msg", [("0,-1", "dimension -1 is negative"),
                                       ("3,x", "not a whole number"),
                                       ("1,1,1,1,1,1,1,1,1", "at most 8")])
def test_parse_shape_errors(text, msg):
    with pytest.raises(LseError, match=msg):
        C.parse_shape(text)


@pytest.mark.parametrize("text, want", [("none", None), ("1", 1), ("-1", -1), ("0,2", (0, 2)),
                                        ("1,", (1,)), ("(0, 2)", (0, 2))])
def test_parse_axes(text, want):
    assert C.parse_axes(text) == want


def test_parse_axes_error():
    with pytest.raises(LseError, match="--axes"):
        C.parse_axes("first")


def test_too_large_shapes_are_refused_with_their_size():
    with pytest.raises(LseError, match=r"100000×100000×100000 has 1,000,000,000,000,000 entries"):
        C.check_size((100000, 100000, 100000), use_oracle=False)
    with pytest.raises(LseError, match="oracle"):
        C.check_size((1000, 1000), use_oracle=True)
    C.check_size((1000, 1000), use_oracle=False)  # fine without the oracle
