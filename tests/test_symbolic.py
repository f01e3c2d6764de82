"""lsecheck.symbolic: the exp substitution, the sum rules, the exact zero test, the models."""

import math

import mpmath as mp
import pytest
import sympy as sp

from lsecheck import symbolic as s
from lsecheck.symbolic import Exact, Sym, i, j, k, n, to_w, w, z, zero_test


def test_to_w_turns_exponentials_of_z_and_logs_into_monomials():
    assert to_w(sp.exp(z[i] - z[k])) == w[i] / w[k]
    assert to_w(sp.exp(2 * z[j] - sp.log(sp.Symbol("x", positive=True)))) == \
        w[j] ** 2 / sp.Symbol("x", positive=True)
    assert to_w(sp.exp(s.m)) == s.u
    # an exp that would re-evaluate when rebuilt bottom-up is handled top-down
    e = sp.exp(sp.log(sp.Sum(sp.exp(z[i] - s.m), (i, 1, n))) + s.m, evaluate=False)
    assert not to_w(e).has(sp.exp)


def test_sum_rules_sift_pull_constants_and_count():
    body = sp.KroneckerDelta(i, j) * w[i] / w[k]
    assert s.normal_sums(sp.Sum(body, (i, 1, n))) == w[j] / w[k]
    # δ(i, 3) is not sifted (3 is not known to lie in 1..n); δ(i, 0) is 0 for i ≥ 1
    assert s.normal_sums(sp.Sum(sp.KroneckerDelta(i, 3) * w[i], (i, 1, n))).has(sp.Sum)
    assert s.normal_sums(sp.Sum(sp.KroneckerDelta(i, 0) * w[i], (i, 1, n))) == 0
    assert s.normal_sums(sp.Sum(3 * w[k], (i, 1, n))) == 3 * n * w[k]
    two = s.normal_sums(sp.Sum(w[i] / w[k] + w[i], (i, 1, n)))
    atom = sp.Sum(w[s._CANON], (s._CANON, 1, n))
    assert sp.expand(two - (atom / w[k] + atom)) == 0


@pytest.mark.parametrize("j_is_k", [False, True])
def test_zero_test_proves_the_gradient_for_symbolic_n(j_is_k):
    M = Sym()
    jj = k if j_is_k else j
    diff = M.d(M.f_stable(k), jj) - M.softmax(jj, k)
    res = zero_test(diff, distinct=(j, k))
    assert res.verdict is True and res.residual == 0


def test_zero_test_never_proves_a_false_claim():
    M = Sym()
    # drop the +1 of the max case: d f/d z_k = -Σ_{i≠k}…/Σ…  (false)
    zhat = lambda a: M.exp(M.z(a) - M.z(k))  # noqa: E731
    wrong = M.d(M.f_stable(k), k) - (-M.sum_except(k, zhat) / M.sum(zhat))
    res = zero_test(wrong)
    assert res.verdict is not True and res.residual != 0
    # with sums left, no verdict is drawn from symbols alone
    res = zero_test(M.d(M.f_stable(k), j) + M.softmax(j, k), distinct=(j, k))
    assert res.verdict is None and res.residual.has(sp.Sum)


def test_zero_test_at_concrete_n_says_false_for_a_nonzero_rational_function():
    M = Sym()
    lhs = s.expand_n(M.d(M.f_stable(k), k), 3, {k: 2})
    rhs = s.expand_n(1 - M.softmax(k, k), 3, {k: 2})
    res = zero_test(lhs - rhs)
    assert res.verdict is False


def test_exact_derivative_agrees_with_sympy_and_with_numbers():
    """The exact model's ∂/∂z = w ∂/∂w against sp.diff, and against mpmath.diff."""
    E = Exact(3)
    got = E.d(E.f_stable(1), 2)
    assert got.rational
    zs = sp.symbols("z1:4", real=True)
    f = sp.log(sum(sp.exp(v - zs[0]) for v in zs)) + zs[0]
    ws = sp.symbols("w1:4", positive=True)
    ref = sp.diff(f, zs[1]).subs({sp.exp(v): wv for v, wv in zip(zs, ws, strict=True)})
    mine = got.r.as_expr().subs(dict(zip(sp.symbols("w1:4"), ws, strict=True)))
    ref = ref.rewrite(sp.exp).subs({sp.exp(zs[1] - zs[0]): ws[1] / ws[0],
                                    sp.exp(zs[2] - zs[0]): ws[2] / ws[0]})
    assert sp.cancel(mine - ref) == 0
    with mp.workdps(30):
        point = [mp.mpf("0.5"), mp.mpf("-0.25"), mp.mpf("0.125"), mp.mpf(0)]
        fz = lambda t: E.value(E.f_stable(1), [point[0], point[1] + t, *point[2:]])  # noqa: E731
        assert abs(E.value(got, point) - mp.diff(fz, 0)) < mp.mpf(10) ** -20


def test_exact_logs_are_decided_through_exp():
    E = Exact(4)
    assert E.is_zero(E.g(E.m) - E.lse()) is True  # the shift identity
    assert E.is_zero(E.g(E.m) - E.lse() - E.m) is False


def test_exact_arithmetic_keeps_factored_denominators_correct():
    E = Exact(3)
    S = E.zhat_sum(1)
    x = (S * S).r
    assert len(x.den) == 1 and x.den[0][1] == 2  # (Σ)^2 as one base, squared
    assert ((S / S) - 1).r.is_zero()
    with pytest.raises(ZeroDivisionError):
        (S - S).r.inv()


def test_exact_refuses_what_is_not_exact():
    E = Exact(2)
    with pytest.raises(s.NotExact):
        E.exp(E.z(1) + 1)  # exp(1) is not rational
    with pytest.raises(s.NotExact):
        E.f_stable(1) * E.f_stable(2)


def test_exact_counterexample_respects_the_maximum_and_reports_both_sides():
    E = Exact(5)
    lhs, rhs = E.d(E.f_stable(3), 3), 1 - E.softmax(3, 3)
    ce = E.counterexample(lhs, rhs, maxat=3, j=3, k=3)
    zs = ce["z"]
    assert zs[2] == max(zs) and zs.count(zs[2]) == 1
    p = math.exp(zs[2]) / sum(math.exp(v) for v in zs)
    assert ce["lhs"] == pytest.approx(p) and ce["rhs"] == pytest.approx(1 - p)


def test_d_ones_is_the_literal_sum_over_b_of_the_z_derivatives():
    """Σ_b ∂/∂z_b, not a directional derivative that would also move the shift m."""
    M = Sym()
    assert zero_test(M.d_ones(z[j] ** 2) - 2 * z[j]).verdict is True
    x = sp.exp(z[j] - s.m)
    assert zero_test(M.d_ones(x) - x).verdict is True  # d/dt x(z + t·1, m + t) would be 0
    assert M.d_ones(x).has(sp.Sum)
    E = Exact(3)
    y = E.exp(E.z(2) - E.m)
    assert E.is_zero(E.d_ones(y) - y) is True and E.is_zero(E.d_ones(y)) is False
