"""Shrinking (lsecheck.shrink): a failing case made as small as it gets."""

from pathlib import Path

import numpy as np
from test_impl import impl_file

from lsecheck import cases as C
from lsecheck import numeric as N
from lsecheck.compare import compare, oracle_truth
from lsecheck.impl import load_impl, run_impl
from lsecheck.shrink import _candidates, counterexample, show, shrink, smallest_failure

EX = Path(__file__).resolve().parent.parent / "examples"


def test_off_by_1e9_shrinks_to_a_tiny_float64_case():
    impl = load_impl(str(EX / "mistake_off_by_tiny.py"))
    rep = N.check(C.bank(0, "course", impl=True), ("oracle",), impl)
    ce = next(r for r in rep.results if r.name == "smallest failing case")
    assert ce.counterexample["dtype"] == "float64"
    assert int(np.prod(ce.counterexample["shape"])) <= 2
    assert "1e-09" in ce.counterexample["disagrees with oracle"]


K3 = """
import numpy as np
from lsecheck.reference import forward, softmax
def gradient(z, g, axes):
    ax = tuple(range(z.ndim)) if axes is None else tuple(a % z.ndim for a in axes)
    gk = np.reshape(g, [1 if i in ax else n for i, n in enumerate(z.shape)])
    K = int(np.prod([z.shape[i] for i in ax]))
    return (gk * softmax(z, ax) * (1.5 if K >= 3 else 1.0)).astype(z.dtype)
"""


def test_shrinking_finds_the_smallest_failing_slice(tmp_path):
    """Wrong only for slices of 3 entries or more: halving alone would stop at 5 or 4."""
    impl = load_impl(impl_file(tmp_path, K3))
    rep = N.check(C.bank(0, "course", impl=True), ("oracle",), impl)
    ce = next(r for r in rep.results if r.name == "smallest failing case").counterexample
    assert int(np.prod(ce["shape"])) == 3 and ce["dtype"] == "float64"


def test_shrunk_case_is_a_local_minimum(tmp_path):
    """No candidate of the shrunk case fails any more: greedy shrinking ran to the end."""
    impl = load_impl(impl_file(tmp_path, K3))
    case = next(c for c in C.bank(0, "course", ("float32",), impl=True) if c.K >= 8)

    def fails(c):
        return compare(c, run_impl(impl, c), oracle_truth(c)).verdict == "failed"

    small = shrink(impl, case, fails)
    assert fails(small) and small.K == 3
    assert not any(fails(c) for c in _candidates(small))


def test_counterexample_states_input_expected_got_and_who_disagrees(tmp_path):
    impl = load_impl(impl_file(tmp_path, K3))
    case = next(c for c in C.bank(0, "course", ("float64",), impl=True) if c.K >= 3)
    ce = counterexample(impl, case, ["oracle", "fd"], strict=False)
    for key in ("z", "out_grad", "expected gradient (oracle)", "got gradient"):
        assert key in ce
    assert "disagrees with oracle" in ce and "disagrees with fd" in ce
    assert show(np.arange(30.0)).startswith("array of shape (30,)")


def test_no_failure_no_counterexample_row():
    impl = load_impl("lsecheck.reference")
    assert smallest_failure(impl, {}, ["oracle"], strict=False) == []
