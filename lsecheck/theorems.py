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

import inspect
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
    model: str = ""  # what the row assumes rather than proves (shown with the verdict)

    @property
    def n_min(self) -> int:
        """Smallest n with an instance: as many indices as the pattern has letters."""
        return max([len(set(p)) for p in self.patterns] + [1])


# --------------------------------------------------------------------------- claims


def shift(M):
    """log Σ exp(z_i − m) + m = log Σ exp(z_i) for every real m."""
    return M.g(M.m), M.lse()


def grad_non_max(M, j, k):
    """∂f/∂z_j = exp(ẑ_j)/Σ exp(ẑ_i), z_k the unique maximum, j ≠ k."""
    return M.d(M.f_stable(k), j), M.softmax(j, k)


def grad_max(M, j, k):
    """∂f/∂z_k = 1 − Σ_{i≠k} exp(ẑ_i)/Σ exp(ẑ_i) = exp(ẑ_k)/Σ exp(ẑ_i) (j = k)."""
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


def reduced(shape, axes) -> tuple[int, ...]:
    """The reduced dimensions (``None``: all of them)."""
    return tuple(range(len(shape))) if axes is None else tuple(axes)


def slices(shape, axes) -> dict[tuple, list[int]]:
    """Output index (reduced axes dropped) -> the flat positions 1.. of its slice, in order."""
    red = reduced(shape, axes)
    out: dict[tuple, list[int]] = {}
    for a, e in enumerate(product(*(range(s) for s in shape)), 1):
        out.setdefault(tuple(x for d, x in enumerate(e) if d not in red), []).append(a)
    return out


def slice_size(shape, axes) -> int:
    size = 1
    for d in reduced(shape, axes):
        size *= shape[d]
    return size


def tensor_vjp(M, shape, axes, at: int = 0):
    r"""VJP of LogSumExp over ``axes`` with a symbolic out_grad g, entry by entry.

    .. math:: \frac{\partial}{\partial Z_e} \sum_o g_o f_o(Z)
              = g_{o(e)} \exp\big(Z_e - f_{o(e)}(Z)\big)

    ``f_o`` is the stable form of slice ``o`` with its maximum (unique) at the
    slice's ``at``-th entry, for every slice at once; ``o(e)`` is the output
    entry ``e`` reduces into, which is where the course code's
    ``reshape(keep).broadcast_to(Z.shape)`` reads ``g`` and ``f`` for ``e``.
    Returns ``[(name, lhs, rhs), …]``.

    Each entry's row involves only its own slice's ``f`` (no other ``f_o``
    contains ``Z_e``), so running ``at = 0 … slice_size − 1`` covers every
    combination of maximum positions across slices.
    """
    parts = slices(shape, axes)
    outs = list(parts)
    f = {o: M.f_stable_over(s[at], s) for o, s in parts.items()}
    g = {o: M.const(M.plain[a]) for a, o in enumerate(outs)}
    loss = M.sum(lambda o: g[o] * f[o], over=outs)
    entries = list(product(*(range(s) for s in shape)))
    of = {a: o for o, s in parts.items() for a in s}
    rows = []
    for flat, e in enumerate(entries, 1):
        o = of[flat]
        rows.append((f"Z{list(e)}", M.d(loss, flat), g[o] * M.exp(M.z(flat) - f[o])))
    return rows


# --------------------------------------------------------------------------- the table

_F = r"f = \log\sum_{i=1}^n e^{z_i - \max z} + \max z"
_P = r"\frac{e^{\hat z_j}}{\sum_i e^{\hat z_i}}"

# what the rows assume rather than prove
_UNIQUE = ("z_k is the unique maximum, so max z = z_k near z and f = log Σ exp(z_i − z_k) + z_k "
           "there (the note's step ∂z_k/∂z_j = 0 or 1); SymPy differentiates that smooth form")
_CHAIN = ("the one-sided chain rule ∂±f/∂z_j = ∂g/∂z_j + ∂g/∂m · ∂±max z/∂z_j with "
          "∂±max z/∂z_j ∈ {0, 1} (g smooth, max z Lipschitz); SymPy proves the rest for both "
          "values and every m")
_BRANCH = ("at z_j = z_k = max z, f(z + t·e_j) is the stable form with max at j for t > 0 and "
           "the one with max at k for t < 0; SymPy differentiates both and evaluates them on the "
           "tie")
_TENSOR = ("each reduced slice has a unique maximum, at any one of its entries (every position "
           "is run); broadcasting reads g and f at the output an entry reduces into; out_grad "
           "is symbolic")

THEOREMS: tuple[Theorem, ...] = (
    Theorem("shift", "shift identity", shift, ((),), "m ∈ ℝ",
            "notation: f = log Σ exp(z_i − max z) + max z equals the plain log Σ exp(z_i)",
            (r"\log\sum_i e^{z_i - m} + m = \log\sum_i e^{z_i} \quad (m \in \mathbb{R})",),
            model=""),
    Theorem("grad-non-max", "non-max case", grad_non_max, (NON_MAX,), "j ≠ k",
            "非最大情况推导 (z_j ≠ z_k): the whole chain",
            (_F, r"\frac{\partial f}{\partial z_j} = " + _P + r" \quad (j \ne k,\ z_k = \max z)"),
            model=_UNIQUE),
    Theorem("grad-max", "max case", grad_max, (MAX,), "j = k",
            "最大情况推导 (z_j = z_k): ∂f/∂z_k = 1 − Σ_{i≠k}…/Σ… = exp(ẑ_k)/Σ exp(ẑ_i)",
            (_F, r"\frac{\partial f}{\partial z_k} = 1 - \frac{\sum_{i\ne k} e^{\hat z_i}}"
             r"{\sum_i e^{\hat z_i}} = \frac{e^{\hat z_k}}{\sum_i e^{\hat z_i}}",),
            model=_UNIQUE),
    Theorem("ties", "ties: one-sided derivatives", ties, (MAX, NON_MAX), "tied max",
            "the step ∂z_k/∂z_j = 1 (max case) or 0 (non-max case) of both derivations: it "
            "holds only where the max is unique. At a tie ∂⁺max/∂z_j = 1 and ∂⁻max/∂z_j = 0 "
            "for a tied j, yet both one-sided derivatives of f equal softmax_j, because "
            "∂g/∂m = 0 (the non-smooth parts cancel)",
            (r"g(z,m) = \log\sum_i e^{z_i-m} + m,\quad f(z) = g(z, \max z)",
             r"\partial^{\pm}_j f = \frac{\partial g}{\partial z_j}\Big|_{m=\max z} + "
             r"\frac{\partial g}{\partial m}\, \partial^{\pm}_j \max z,",
             r"\qquad \partial^{\pm}_j \max z \in \{0, 1\}",
             r"\frac{\partial g}{\partial m} = 0 \ \Rightarrow\ \partial^{+}_j f = "
             r"\partial^{-}_j f = \frac{e^{z_j - m}}{\sum_i e^{z_i - m}} = " + _P),
            model=_CHAIN),
    Theorem("ties-direct", "ties: one-sided derivatives, directly", ties_direct, (NON_MAX,),
            "z_j = z_k = max",
            "the note's two formulas read as one-sided derivatives at a tie: the max case "
            "(max at j) from the right, the non-max case (max at k) from the left",
            (r"\partial^{+}_j f = \frac{\partial}{\partial z_j}\Big(\log\sum_i e^{z_i - z_j}"
             r" + z_j\Big)",
             r"\qquad = \frac{\partial}{\partial z_j}\Big(\log\sum_i e^{z_i - z_k} + z_k"
             r"\Big) = \partial^{-}_j f = " + _P,),
            tie=("j", "k"), model=_BRANCH),
    Theorem("exp-form", "softmax = exp(z − f)", exp_form, (NON_MAX, MAX), "j ≠ k, j = k",
            "代码实现: exp(ẑ_j)/Σ exp(ẑ_i) = exp(z_j − f)",
            (_P + r" = \exp\Big(z_j - \log\sum_i e^{\hat z_i} - z_k\Big) = e^{z_j - f}",),
            model=_UNIQUE),
    Theorem("hessian", "Hessian", hessian,
            (("k", "k", "k"), ("j", "j", "k"), ("k", "j", "k"), ("j", "k", "k"),
             ("j", "l", "k")),
            "all a, b", "beyond the note: second derivatives",
            (r"\frac{\partial^2 f}{\partial z_a \partial z_b} = p_a\delta_{ab} - p_a p_b,\quad "
             r"p = \operatorname{softmax}(z)",),
            model=_UNIQUE),
    Theorem("softmax-sum", "Σ p = 1", softmax_sums_to_one, (("k",),), "Σ over a",
            "beyond the note: the gradient sums to 1",
            (r"\sum_a p_a = 1,\quad p_a = \frac{e^{\hat z_a}}{\sum_i e^{\hat z_i}}",),
            model=_UNIQUE),
    Theorem("hessian-ones", "H·1 = 0", hessian_annihilates_ones, (("k", "k"), ("j", "k")),
            "a = k, a ≠ k",
            "beyond the note: f(z + c·1) = f(z) + c; the sum Σ_b ∂/∂z_b written out",
            (r"\sum_b \frac{\partial^2 f}{\partial z_a\partial z_b} = 0",),
            model=_UNIQUE),
    Theorem("tensor", "tensor form with axes", tensor_vjp, (), "all axes choices",
            "代码实现: gradient(out_grad, node) with axes",
            (r"\bar Z = \operatorname{broadcast}(\bar f_{\text{keepdims}}) \odot "
             r"\exp\big(Z - \operatorname{broadcast}(f_{\text{keepdims}})\big)",),
            kind="tensor", symbolic=False, model=_TENSOR),
)


def arg_names(th: Theorem, pattern) -> list[str]:
    """The claim's own names for the indices a pattern binds (``hessian``: a, b, k)."""
    return list(inspect.signature(th.claim).parameters)[1:len(pattern) + 1]


def case_label(th: Theorem, pattern) -> str:
    """A case pattern in the claim's own argument names: ``("j", "k")`` -> ``j ≠ k``.

    Equal letters are one index (``a = b``); two groups are different
    (``a = b ≠ k``); three or more are pairwise different.
    """
    names = arg_names(th, pattern)
    groups: dict[str, list[str]] = {}
    for name, letter in zip(names, pattern, strict=True):
        groups.setdefault(letter, []).append(name)
    parts = [" = ".join(g) for g in groups.values()]
    if len(names) < 2:
        return ""
    if len(parts) <= 2:
        return " ≠ ".join(parts)
    return ", ".join(parts) + " pairwise different"


BY_NAME = {t.name: t for t in THEOREMS}
