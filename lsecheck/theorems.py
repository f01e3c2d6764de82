r"""The LogSumExp gradient theorems, one row of data each.

A row's ``claim`` is a function of a *model* ``M`` (see :mod:`lsecheck.symbolic`:
``M.z``, ``M.exp``, ``M.log``, ``M.sum``, ``M.d`` = ∂/∂z, ``M.f_stable(k)``,
``M.softmax(j, k)`` …) and of index arguments; it returns a chain
``(e0, e1, …)`` of expressions claimed equal.  The same function runs on
:class:`~lsecheck.symbolic.Sym` (symbolic ``n``) and on
:class:`~lsecheck.symbolic.Exact` (each concrete ``n``).

``patterns`` are the cases: each letter is an index, equal letters are the
same index, different letters different indices, and ``k`` is where the
unique maximum sits.  ``("j", "k")`` is the note's non-max case,
``("k", "k")`` its max case.

Why one representative per pattern suffices at a concrete ``n``: a claim
built from this vocabulary names indices only through ``z_a`` for its
arguments ``a``, through sums over all ``i`` and through ``δ_ab``.  A
permutation σ of ``1..n`` relabels the variables, maps the instance at
``(a_1, …, a_r)`` onto the instance at ``(σa_1, …, σa_r)``, and maps an
identity in ``z`` to an identity in ``z``.  Permutations act transitively on
index tuples with the same equality pattern, so one tuple per pattern decides
all of them (the prover still checks every tuple for ``n ≤ ALL_TUPLES_UP_TO``
as a guard against a claim that breaks the symmetry).

``step`` says which step of the seed note (``logsumexp-gradient.md``) a row
covers.  ``latex`` is the statement as handout lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations, product

NON_MAX = ("j", "k")
MAX = ("k", "k")
SHAPES = ((2, 3), (1, 2, 3), (2, 2, 2))  # tensor shapes of theorem 6


@dataclass(frozen=True)
class Theorem:
    """One theorem: its claim as a function of a model, its cases and provenance."""

    name: str
    title: str
    claim: Callable
    patterns: tuple[tuple[str, ...], ...]
    case: str
    step: str
    latex: tuple[str, ...] = ()
    kind: str = "scalar"  # scalar | tensor
    symbolic: bool = True  # also proved for symbolic n
    tie: tuple[str, str] | None = None  # (a, b): the case has z_a = z_b = max z

    @property
    def n_min(self) -> int:
        """Smallest n with an instance: as many indices as the pattern has letters."""
        return max([len(set(p)) for p in self.patterns] + [1])

    def n_range(self, max_n: int) -> range:
        return range(self.n_min, max_n + 1)


# --------------------------------------------------------------------------- claims


def shift(M):
    """log Σ exp(z_i − m) + m = log Σ exp(z_i) for every real m."""
    return M.g(M.m), M.lse()


def grad_non_max(M, j, k):
    """∂f/∂z_j = exp(ẑ_j)/Σ exp(ẑ_i), z_k the unique maximum, j ≠ k."""
    return M.d(M.f_stable(k), j), M.softmax(j, k)


def grad_max(M, k, _k):
    """∂f/∂z_k = 1 − Σ_{i≠k} exp(ẑ_i)/Σ exp(ẑ_i) = exp(ẑ_k)/Σ exp(ẑ_i)."""
    zhat = lambda a: M.exp(M.z(a) - M.z(k))  # noqa: E731
    return (M.d(M.f_stable(k), k),
            1 - M.sum_except(k, zhat) / M.sum(zhat),
            M.softmax(k, k))


def ties(M, j, k):
    """At a tie f = g(z, max z), g(z, m) = log Σ exp(z_i − m) + m smooth: one-sided chain rule.

    ``∂±f/∂z_j = ∂g/∂z_j + ∂g/∂m · ∂±_j max z`` where ``∂⁺_j max z = 1`` when
    z_j is one of the tied maxima (moving it up makes it the max) and 0
    otherwise, ``∂⁻_j max z = 0`` (another tied index keeps the max).  The
    chain: right derivative = left derivative = exp(z_j − m)/Σ exp(z_i − m) =
    softmax_j, for every m, in particular m = max z.
    """
    g = M.g(M.m)
    right = M.d(g, j) + M.dm(g) * 1
    left = M.d(g, j) + M.dm(g) * 0
    return right, left, M.exp(M.z(j) - M.m) / M.sum(lambda a: M.exp(M.z(a) - M.m)), \
        M.softmax(j, k)


def ties_direct(M, j, k):
    """z_j and z_k tied maxima: the one-sided derivatives along e_j, computed directly.

    Moving z_j up makes it the maximum (f = the stable form with max at j);
    moving it down leaves the maximum at k.  Both derivatives are identities
    on all of ℝⁿ, so in particular at the tie, where they meet softmax_j.
    """
    return M.d(M.f_stable(j), j), M.d(M.f_stable(k), j), M.softmax(j, k)


def exp_form(M, j, k):
    """softmax_j = exp(z_j − f), the code form."""
    return M.softmax(j, k), M.exp(M.z(j) - M.f_stable(k))


def hessian(M, a, b, k):
    """∂²f/∂z_a∂z_b = p_a δ_ab − p_a p_b."""
    p = lambda x: M.softmax(x, k)  # noqa: E731
    return M.d(M.d(M.f_stable(k), a), b), p(a) * M.delta(a, b) - p(a) * p(b)


def softmax_sums_to_one(M, k):
    return M.sum(lambda a: M.softmax(a, k)), 1


def hessian_annihilates_ones(M, a, k):
    """(H·1)_a = Σ_b ∂²f/∂z_a∂z_b = 0 (f(z + t·1) = f(z) + t)."""
    return M.d_ones(M.d(M.f_stable(k), a)), 0


def axes_choices(ndim: int):
    """Every non-empty subset of the axes, then None (all axes)."""
    subsets = [c for r in range(1, ndim + 1) for c in combinations(range(ndim), r)]
    return subsets + [None]


def tensor_vjp(M, shape, axes):
    """VJP of LogSumExp over ``axes`` with a symbolic out_grad g, entry by entry.

    Returns ``[(name, lhs, rhs), …]``: lhs = ∂/∂Z_e Σ_o g_o f_o (f stable, the
    max of each reduced slice at its first entry, unique), rhs = the course
    code ``g.reshape(keep).broadcast_to(Z.shape) * exp(Z − f.reshape(keep)…)``.
    """
    ndim = len(shape)
    red = tuple(range(ndim)) if axes is None else tuple(axes)
    entries = list(product(*(range(s) for s in shape)))
    flat = {e: a + 1 for a, e in enumerate(entries)}  # Z_e is variable z{flat[e]}
    outs = list(product(*(range(s) for d, s in enumerate(shape) if d not in red)))

    def out_of(e):  # the output an entry reduces into (keepdims index, squeezed)
        return tuple(x for d, x in enumerate(e) if d not in red)

    slices = {o: [flat[e] for e in entries if out_of(e) == o] for o in outs}
    f = {o: M.f_stable_over(s[0], s) for o, s in slices.items()}
    g = {o: M.const(M.plain[a]) for a, o in enumerate(outs)}
    loss = M.sum(lambda o: g[o] * f[o], over=outs)
    rows = []
    for e in entries:
        o = out_of(e)  # keep-shaped g and f broadcast: entry e reads them at out_of(e)
        rhs = g[o] * M.exp(M.z(flat[e]) - f[o])
        rows.append((f"Z{list(e)}", M.d(loss, flat[e]), rhs))
    return rows


# --------------------------------------------------------------------------- the table

_F = r"f = \log\sum_{i=1}^n e^{z_i - \max z} + \max z"
_P = r"\frac{e^{\hat z_j}}{\sum_i e^{\hat z_i}}"

THEOREMS: tuple[Theorem, ...] = (
    Theorem("shift", "shift identity", shift, ((),), "every real m",
            "notation: f = log Σ exp(z_i − max z) + max z equals the plain log Σ exp(z_i)",
            (r"\log\sum_i e^{z_i - m} + m = \log\sum_i e^{z_i} \quad (m \in \mathbb{R})",)),
    Theorem("grad-non-max", "non-max case", grad_non_max, (NON_MAX,),
            "j ≠ k, max at k", "非最大情况推导 (z_j ≠ z_k): the whole chain",
            (_F, r"\frac{\partial f}{\partial z_j} = " + _P + r" \quad (j \ne k,\ z_k = \max z)")),
    Theorem("grad-max", "max case", grad_max, (MAX,), "j = k, max at k",
            "最大情况推导 (z_j = z_k): ∂f/∂z_k = 1 − Σ_{i≠k}…/Σ… = exp(ẑ_k)/Σ exp(ẑ_i)",
            (_F, r"\frac{\partial f}{\partial z_k} = 1 - \frac{\sum_{i\ne k} e^{\hat z_i}}"
             r"{\sum_i e^{\hat z_i}} = \frac{e^{\hat z_k}}{\sum_i e^{\hat z_i}}",)),
    Theorem("ties", "ties: one-sided derivatives", ties, (MAX, NON_MAX),
            "tied max, both sides",
            "the step ∂z_k/∂z_j = 1 (max case) or 0 (non-max case) of both derivations: it "
            "holds only where the max is unique. At a tie ∂⁺max/∂z_j = 1 and ∂⁻max/∂z_j = 0 "
            "for a tied j, yet both one-sided derivatives of f equal softmax_j, because "
            "∂g/∂m = 0 (the non-smooth parts cancel)",
            (r"g(z,m) = \log\sum_i e^{z_i-m} + m,\quad f(z) = g(z, \max z)",
             r"\partial^{\pm}_j f = \frac{\partial g}{\partial z_j}\Big|_{m=\max z} + "
             r"\frac{\partial g}{\partial m}\, \partial^{\pm}_j \max z,\quad "
             r"\partial^{\pm}_j \max z \in \{0, 1\}",
             r"\frac{\partial g}{\partial m} = 0 \ \Rightarrow\ \partial^{+}_j f = "
             r"\partial^{-}_j f = \frac{e^{z_j - m}}{\sum_i e^{z_i - m}} = " + _P)),
    Theorem("ties-direct", "ties: one-sided derivatives, directly", ties_direct, (NON_MAX,),
            "z_j = z_k = max z, right and left",
            "the note's two formulas read as one-sided derivatives at a tie: the max case "
            "(max at j) from the right, the non-max case (max at k) from the left",
            (r"\partial^{+}_j f = \frac{\partial}{\partial z_j}\Big(\log\sum_i e^{z_i - z_j}"
             r" + z_j\Big) = \frac{\partial}{\partial z_j}\Big(\log\sum_i e^{z_i - z_k} + z_k"
             r"\Big) = \partial^{-}_j f = " + _P,),
            tie=("j", "k")),
    Theorem("exp-form", "softmax = exp(z − f)", exp_form, (NON_MAX, MAX),
            "j ≠ k and j = k", "代码实现: exp(ẑ_j)/Σ exp(ẑ_i) = exp(z_j − f)",
            (_P + r" = \exp\Big(z_j - \log\sum_i e^{\hat z_i} - z_k\Big) = e^{z_j - f}",)),
    Theorem("hessian", "Hessian", hessian,
            (("k", "k", "k"), ("j", "j", "k"), ("k", "j", "k"), ("j", "k", "k"),
             ("j", "l", "k")),
            "all (a, b), max at k", "beyond the note: second derivatives",
            (r"\frac{\partial^2 f}{\partial z_a \partial z_b} = p_a\delta_{ab} - p_a p_b,\quad "
             r"p = \operatorname{softmax}(z)",)),
    Theorem("softmax-sum", "Σ p = 1", softmax_sums_to_one, (("k",),), "max at k",
            "beyond the note: the gradient sums to 1",
            (r"\sum_a p_a = 1",)),
    Theorem("hessian-ones", "H·1 = 0", hessian_annihilates_ones, (("k", "k"), ("j", "k")),
            "rows a = k, a ≠ k", "beyond the note: f(z + c·1) = f(z) + c",
            (r"\sum_b \frac{\partial^2 f}{\partial z_a\partial z_b} = 0",)),
    Theorem("tensor", "tensor form with axes", tensor_vjp, (), "all axes, None",
            "代码实现: gradient(out_grad, node) with axes",
            (r"\bar Z = \operatorname{broadcast}(\bar f_{\text{keepdims}}) \odot "
             r"\exp\big(Z - \operatorname{broadcast}(f_{\text{keepdims}})\big)",),
            kind="tensor", symbolic=False),
)

BY_NAME = {t.name: t for t in THEOREMS}
