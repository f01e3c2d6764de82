r"""Check a derivation step by step: proved, refuted, undecided, not checkable.

Each step is compared with the previous *checkable* step, under the chain's
case.  The model (shared with ``prove``, :mod:`lsecheck.symbolic`): ``z`` an
``IndexedBase``, ``n`` symbolic, ``\max z = z_k`` with ``k`` the index of the
unique maximum (so ``∂ max z/∂z_j = δ_jk``, and ``z_i \neq z_k`` means
``i \neq k``: no ties).

For one pair of steps ``a = b``:

1. every case — the ways the chain's indices (``j``, ``k``, ``l`` …) can
   coincide, as its ``case`` allows — is checked separately;
2. symbolic ``n``: :func:`lsecheck.symbolic.zero_test` (``w = exp z``,
   finite-sum rules, ``cancel``) on ``a − b``; 0 proves it for every ``n``;
3. otherwise each ``n`` from the number of distinct indices to ``max_n``:
   sums written out, the exact zero test again; where it fails, a
   high-precision search (mpmath, 50 digits) for ``z`` with ``a ≠ b``;
4. verdict: ``proved`` (0 everywhere), ``refuted`` (a counterexample: ``n``,
   ``z``, the indices, both sides), ``undecided`` (not reduced, no point
   differed — the report says how many agreed and how many could not be
   evaluated).

After a refuted step the chain is off track: a later step is compared first
with the last step on track (:func:`check_chain`), so one error shows one ✗.

Every SymPy computation runs under :func:`lsecheck.limits.time_limit`; past
it the verdict is ``undecided``.  Permutation symmetry makes one placement of
the indices enough (``j = 1, k = 2``) when no step names a concrete entry
such as ``z_1``; otherwise every placement is tried.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from itertools import count, permutations
from pathlib import Path

import sympy as sp

from lsecheck import latex, symbolic
from lsecheck.derivation import Chain, Derivation, Step
from lsecheck.errors import LseError
from lsecheck.limits import TimeLimit, check_budget, time_limit
from lsecheck.results import NOT_CHECKABLE, PROVED, REFUTED, UNDECIDED, Report, Result

DIGITS = 30  # digits of the two sides shown in a counterexample
SPREAD = 3.0  # random entries (and declared symbols) lie in [-SPREAD, SPREAD] …
GAP = (0.05, 1.5)  # … and the maximum z_k above the others by a random gap in this range
COLUMNS = ("line", "col", "case", "ms")  # ms: milliseconds spent deciding the step
TIES_NOTE = ("ties (chains with ties = true): an entry τ ≠ k has z_τ = z_k; max z is still z_k "
             "(the subgradient of the chosen argmax: ∂max z/∂z_j = δ_jk); z_i = z_k under a sum "
             "means i ∈ {k, τ}; checked for each n, not for symbolic n")
ASSUMPTIONS = (r"model: z_k = max z is the unique maximum (∂max z/∂z_j = δ_jk; "
               r"z_i ≠ z_k means i ≠ k) unless a chain says ties = true; log is natural")


# ---- the context of a derivation: declarations and definitions ----------------

@dataclass
class Context:
    """Definitions, ready to substitute, and the names they make known."""

    path: str
    scalars: dict          # Symbol -> expression
    vectors: dict          # IndexedBase -> (index symbol, expression)
    known: set
    argmax: object         # the index symbol k of the maximum
    checks: list           # (name, steps) chains found inside definitions

    def expand(self, e):
        """Substitute definitions until none is left (definitions may use earlier ones)."""
        for _ in range(20):
            before = e
            if self.scalars:
                e = e.replace(lambda x: x in self.scalars, lambda x: _fresh(self.scalars[x]))
            if self.vectors:
                e = e.replace(lambda x: isinstance(x, sp.Indexed) and x.base in self.vectors,
                              self._entry)
            if e == before:
                break
        return e.xreplace({latex.MAXZ(): symbolic.z[self.argmax], latex.scalar("e"): sp.E})

    def _entry(self, x):
        var, body = self.vectors[x.base]
        return _fresh(body).xreplace({var: x.indices[0]})


def _label(e) -> str | None:
    if isinstance(e, sp.Symbol):
        return e.name
    if isinstance(e, sp.IndexedBase):
        return str(e.label)
    if isinstance(e, sp.Indexed):
        return str(e.base.label)
    return None


def _entrywise(body, var):
    """``\\hat z = z - \\max z`` -> the entry: every bare vector ``v`` becomes ``v[var]``."""
    if isinstance(body, sp.IndexedBase):
        return body[var]
    if isinstance(body, sp.Indexed) or not body.args:
        return body
    return body.func(*[_entrywise(a, var) for a in body.args])


def context(d: Derivation) -> Context:
    """Read the declarations and definitions of ``d`` (each may use earlier ones)."""
    ctx = Context(d.path, {}, {}, {"z", "e"}, symbolic.k, [])
    for df in d.definitions:
        rows = latex.parse_block(df.latex, d.path, df.line or 1, df.col or 1, known=None)
        for r in rows:
            if not r.checkable or len(r.sides) < 2 or None in [s.expr for s in r.sides]:
                raise LseError(f"{d.path}:{r.line}:{r.col}: a definition is 'name = LaTeX' "
                               f"or 'name \\in \\mathbb{{R}}^n' (got {r.text!r})")
            lhs, rhs = r.sides[0].expr, r.sides[1].expr
            if r.rels[0] == r"\in":
                if _label(lhs) is None:
                    raise LseError(f"{d.path}:{r.line}:{r.col}: declare a name, e.g. "
                                   f"'y \\in \\mathbb{{R}}^n' (got {r.text!r})")
                ctx.known.add(_label(lhs))
                continue
            if isinstance(lhs, sp.Indexed) and lhs.base == symbolic.z:
                if rhs != latex.MAXZ() or not isinstance(lhs.indices[0], sp.Symbol):
                    raise LseError(f"{d.path}:{r.line}:{r.col}: z_k = \\max z names the index "
                                   f"of the maximum; z cannot be redefined (got {r.text!r})")
                ctx.argmax = lhs.indices[0]
                continue
            name = _label(lhs)
            if name is None or name in ("z", "n", "e"):
                raise LseError(f"{d.path}:{r.line}:{r.col}: the left side of a definition must "
                               f"be a new name such as f or \\hat{{z}}_i (got {r.sides[0].text!r})")
            # the right side may only use what is known so far
            latex.parse_block(r.sides[1].text, d.path, r.sides[1].line, r.sides[1].col,
                              known=ctx.known)
            rhs = _fresh(rhs)
            if isinstance(lhs, sp.Indexed):
                ctx.vectors[lhs.base] = (lhs.indices[0], rhs)
            elif isinstance(lhs, sp.IndexedBase):
                var = sp.Symbol("_e", integer=True, positive=True)
                ctx.vectors[lhs] = (var, _entrywise(rhs, var))
            else:
                ctx.scalars[lhs] = rhs
            ctx.known.add(name)
            if len(r.sides) > 2:
                ctx.checks.append((f"definition of {r.sides[0].text}",
                                   [Step(s.text, s.line, s.col) for s in r.sides[1:]]))
    return ctx


_dummies = count()  # restarted for every step: names are unique within one expression


@cache
def _unique(number: int):
    return sp.Symbol(f"_u{number}", integer=True, positive=True)


def _fresh(e):
    """Give every summation index a new name (definitions are substituted inside sums)."""
    if not e.has(sp.Sum):
        return e

    def rename(s):
        (var, lo, hi), = s.limits
        new = _unique(next(_dummies))
        return sp.Sum(s.function.xreplace({var: new}), (new, lo, hi))

    return e.replace(lambda x: isinstance(x, sp.Sum) and len(x.limits) == 1, rename)


@cache
def _dummy(depth: int):
    return sp.Symbol(f"_d{depth}", integer=True, positive=True)


def _canonical(e, depth: int = 0):
    """Summation indices named by nesting depth (_d0, _d1 …), so that equal sums are equal
    objects across steps (SymPy's caches then apply).  Needs unique names first (:func:`_fresh`).
    """
    if not e.has(sp.Sum):
        return e
    if isinstance(e, sp.Sum) and len(e.limits) == 1:
        (var, lo, hi), = e.limits
        new = _dummy(depth)
        return sp.Sum(_canonical(e.function.xreplace({var: new}), depth + 1), (new, lo, hi))
    return e.func(*[_canonical(a, depth) for a in e.args])


# ---- from a parsed step to an expression of the model -------------------------

TAU = sp.Symbol("τ", integer=True, positive=True)  # an entry tied with the maximum z_k


def _condition(c, ties):
    """A sum's condition as a 0/1 factor of Kronecker deltas.

    ``z_a = z_b`` is ``a = b`` — or, with ties (``ties`` = (k, τ)), both in {k, τ}.
    """
    if isinstance(c, (sp.Eq, sp.Ne)):
        a, b = c.args
        value = isinstance(a, sp.Indexed) and isinstance(b, sp.Indexed)
        if value:
            a, b = a.indices[0], b.indices[0]
        delta = sp.KroneckerDelta(a, b)
        if value and ties:
            k, t = ties
            both = (sp.KroneckerDelta(a, k) + sp.KroneckerDelta(a, t)) * \
                (sp.KroneckerDelta(b, k) + sp.KroneckerDelta(b, t))
            delta = delta + (1 - delta) * both
        return delta if isinstance(c, sp.Eq) else 1 - delta
    raise LseError(f"a condition under \\sum must be = or \\neq between indices (got {c})")


def _conditions(e, ties=None):
    return e.replace(lambda x: isinstance(x, sp.Piecewise),
                     lambda x: _condition(x.args[0][1], ties) * x.args[0][0])


def _derivatives(e):
    """Do every ∂/∂z_j, innermost first."""
    return e.replace(lambda x: isinstance(x, sp.Derivative),
                     lambda x: sp.diff(x.expr, *[v for v, c in x.variable_count for _ in
                                                  range(c)]))


def _tidy(e):
    """δ² = δ (sums of products of conditions)."""
    return e.replace(lambda x: isinstance(x, sp.Pow) and isinstance(x.base, sp.KroneckerDelta)
                     and x.exp.is_positive, lambda x: x.base)


def _positive(e) -> bool:
    """Positive by its structure (exp, sums and products of positives)."""
    if e.is_Number:
        return bool(e > 0)
    if isinstance(e, sp.exp):
        return e.args[0].is_real is not False
    if isinstance(e, sp.Sum):
        return _positive(e.function)
    if isinstance(e, (sp.Add, sp.Mul)):
        return all(_positive(a) for a in e.args)
    if isinstance(e, sp.Pow):
        return _positive(e.base) and e.exp.is_real
    return False


def _logs(e):
    """log of a product of positives -> sum of logs; log exp x -> x (sound: arguments > 0)."""
    def split(x):
        a = x.args[0]
        if isinstance(a, sp.exp):
            return a.args[0]
        if isinstance(a, sp.Mul) and all(_positive(f) for f in a.args):
            return sp.Add(*[split(sp.log(f, evaluate=False)) for f in a.args])
        if isinstance(a, sp.Pow) and _positive(a.base) and a.exp.is_real:
            return a.exp * split(sp.log(a.base, evaluate=False))
        return sp.log(a)
    return e.replace(lambda x: isinstance(x, sp.log), split)


def _bare_vector(e) -> bool:
    """Does a vector (``z``, not ``z_i``) stand where a number should?"""
    if isinstance(e, sp.Indexed):
        return False
    if isinstance(e, sp.IndexedBase):
        return True
    return any(_bare_vector(a) for a in e.args)


def _indices(e) -> set:
    """Free index symbols of ``e`` (z subscripts and deltas, not summation dummies)."""
    out = set()
    for x in e.atoms(sp.Indexed):
        out |= {s for s in x.indices[0].free_symbols if s != symbolic.n}
    for x in e.atoms(sp.KroneckerDelta):
        out |= {s for s in x.free_symbols if s != symbolic.n}
    bound = set()
    for s in e.atoms(sp.Sum):
        bound |= {lim[0] for lim in s.limits}
    return {s for s in out - bound if s.is_integer}


def _concrete(e) -> bool:
    """Does ``e`` tell entries apart by position — ``z_1``, ``z_n``, ``z_{j+1}``, a sum
    over ``2..n`` or ``1..3``?  Then relabelling the entries changes it: permutation
    symmetry does not apply and every placement of the indices is checked."""
    def plain(a):
        return isinstance(a, sp.Symbol) and a != symbolic.n

    return (any(not plain(x.indices[0]) for x in e.atoms(sp.Indexed))
            or any(lim[1:] != (1, symbolic.n) for s in e.atoms(sp.Sum) for lim in s.limits)
            or any(not all(map(plain, d.args)) for d in e.atoms(sp.KroneckerDelta)))


def _partitions(items):
    """Set partitions of ``items`` (a list), as lists of blocks."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        for b in range(len(part)):
            yield part[:b] + [[first] + part[b]] + part[b + 1:]
        yield [[first]] + part


@dataclass(frozen=True)
class Case:
    """One way the indices coincide: ``subs`` maps each to its representative."""

    subs: tuple
    reps: tuple
    label: str
    top: object = None  # the representative of the argmax index (z_top is the maximum)
    every: tuple = ()   # (index, its representative) for every index
    tie: object = None  # the representative of τ (z_τ = z_top) when ties are checked


def _coincide(block, top, a, b, value) -> bool:
    """Are a, b equal (as indices), or by value both tied with the maximum?"""
    return block[a] == block[b] or (value and {block[a], block[b]} <= top)


def cases(indices, conditions, argmax, ties: bool = False) -> list[Case]:
    """The index coincidences a chain's conditions allow (no condition: all of them).

    ``conditions``: (a, b, equal?, by value?).  With ``ties`` the index τ ≠ k
    is an entry equal in value to the maximum z_k.
    """
    order = sorted(set(indices) | ({TAU, argmax} if ties else set()), key=lambda s: s.name)
    conditions = list(conditions) + ([(TAU, argmax, False, False)] if ties else [])
    out = []
    for part in _partitions(order):
        block = {s: tuple(sorted(b, key=lambda s: s.name)) for b in part for s in b}
        top = {block[argmax], block[TAU]} if ties else set()

        if all(_coincide(block, top, a, b, value) == eq for a, b, eq, value in conditions
               if a in block and b in block):
            reps = tuple(dict.fromkeys(block[s][0] for s in order))
            subs = tuple((s, block[s][0]) for s in order if block[s][0] != s)
            label = " ≠ ".join(" = ".join(x.name for x in b)
                               for b in dict.fromkeys(block[s] for s in order)) \
                if len(order) > 1 else ""  # one index: nothing can coincide
            top = block[argmax][0] if argmax in block else None
            every = tuple((s, block[s][0]) for s in order)
            tie = block[TAU][0] if ties else None
            out.append(Case(subs, reps, label, top, every, tie))
    return sorted(out, key=lambda c: -len(c.reps))  # the generic case first


def _parse_conditions(texts, path, line) -> list:
    """``j \\neq k``, ``z_j = z_k`` … as (index, index, equal?)."""
    out = []
    for t in texts:
        for r in latex.parse_block(t, path, line or 1, 1):
            ex = [s.expr for s in r.sides]
            if not r.checkable or len(ex) != 2 or r.rels[0] not in ("=", r"\neq", r"\ne"):
                raise LseError(f"{path}:{line}: a case is 'j \\neq k' or 'z_j = z_k' (got {t!r})")
            a, b = (x.indices[0] if isinstance(x, sp.Indexed) else _as_index(x) for x in ex)
            if not (isinstance(a, sp.Symbol) and isinstance(b, sp.Symbol)):
                raise LseError(f"{path}:{line}: a case relates two indices, e.g. 'j \\neq k' "
                               f"(got {t!r})")
            by_value = all(isinstance(x, sp.Indexed) for x in ex)
            out.append((a, b, r.rels[0] == "=", by_value))
    return out


def _as_index(x):
    """A bare letter in a case (``j \\neq k``) is an index."""
    if isinstance(x, sp.Symbol) and len(x.name) == 1 and x != symbolic.n:
        return latex.index(x.name)
    return x


# ---- deciding one pair of steps ------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    verdict: str
    detail: str
    counterexample: dict | None = None


@lru_cache(maxsize=4096)
def _zero(expr, distinct):
    return symbolic.zero_test(expr, distinct=distinct)


@lru_cache(maxsize=4096)
def _at_n(expr, nv, subs, tie=()):
    """``expr`` at n = nv, indices placed by ``subs``; then z_τ = z_k (``tie``)."""
    e = symbolic.expand_n(expr, nv, dict(subs))
    return e.xreplace(dict(tie)) if tie else e


def _tie_subs(case: Case, subs) -> tuple:
    """(z[τ's place] -> z[k's place]) when the case has a tie."""
    if case.tie is None:
        return ()
    where = dict(subs)
    return ((symbolic.z[where[case.tie]], symbolic.z[where[case.top]]),)


def _hp(e, env) -> str:
    v = e.evalf(DIGITS, subs=env)
    return str(v) if v.is_number else "not a number"


def _try(timeout, fn, *args):
    """(value, None), or (None, why) when the time limit is reached or SymPy fails."""
    try:
        with time_limit(timeout):
            return fn(*args), None
    except TimeLimit as e:
        return None, str(e)
    except (ArithmeticError, TypeError, ValueError, RecursionError, NotImplementedError,
            AttributeError, symbolic.NotExact) as e:
        return None, f"SymPy could not do it ({type(e).__name__})"


def decide(a, b, case: Case, max_n: int, timeout: float, concrete: bool) -> Verdict:
    """``a = b`` (model expressions) in one case: proved / refuted / undecided."""
    symbolic_says = None
    if not concrete and case.tie is None:
        z0, why = _try(timeout, _zero, a - b, case.reps)
        if z0 is not None and z0.verdict is True:
            return Verdict(PROVED, "for every n")
        symbolic_says = why or (z0.how if z0.verdict is False else None)
    points, skipped, open_at, reasons = 0, 0, [], set()
    r = len(case.reps)
    lo = max(1, r)
    for nv in range(lo, max_n + 1):
        placements = list(permutations(range(1, nv + 1), r)) if concrete else \
            [tuple(range(1, r + 1))]
        for place in placements:
            subs = tuple(zip(case.reps, map(sp.Integer, place), strict=True))
            tie = _tie_subs(case, subs)
            an, why = _try(timeout, _at_n, a, nv, subs, tie)
            bn, why = (None, why) if an is None else _try(timeout, _at_n, b, nv, subs, tie)
            zt, why = (None, why) if bn is None else _try(timeout, _zero, an - bn, ())
            if zt is not None and zt.verdict is True:
                continue
            open_at.append(nv)
            if bn is None:
                reasons.add(why)
                continue
            top = dict(subs).get(case.top)
            found, why = _try(timeout, _search, an, bn, nv, None if top is None else int(top))
            if found is not None and found.found is not None:
                cex = found.found
                where = dict(subs)
                every = tuple((s, where[rep]) for s, rep in case.every)
                label = f" ({case.label})" if case.label else ""
                if tie:  # show the tied entry with its value (it no longer occurs)
                    (zt, zk), = tie
                    cex["z"][int(zt.indices[0]) - 1] = cex["z"][int(zk.indices[0]) - 1]
                return Verdict(REFUTED, f"differs at n = {nv}{label}",
                               _cex(cex, nv, an, bn, every, case.label))
            if why:
                reasons.add(why)
            else:
                points += found.agreed
                skipped += found.skipped
    if open_at:
        why = "; ".join(sorted(reasons))
        tried = f"{points} random points at {symbolic.DPS} digits agreed" if points else \
            "no random point could test it"
        if skipped:
            tried += f" ({skipped} skipped: a side was not a real number there)"
        return Verdict(UNDECIDED, f"not reduced to 0 at n = {sorted(set(open_at))}"
                       + (f" ({why})" if why else "") + f"; {tried}")
    if lo > max_n:
        return Verdict(UNDECIDED, f"not reduced for symbolic n, and --max-n {max_n} is below "
                                  f"the {r} distinct indices of the case")
    if symbolic_says:
        return Verdict(UNDECIDED, f"0 for n = {lo}..{max_n} but not for symbolic n "
                                  f"({symbolic_says}); try a larger --max-n")
    return Verdict(PROVED, f"for n = {lo}..{max_n}" if lo < max_n else f"for n = {max_n}")


@dataclass(frozen=True)
class Search:
    """What the random search at one n found: a counterexample, or how many points agreed."""

    found: dict | None  # {"z": [...], "free": {symbol: value}} where the sides differ
    agreed: int         # points where both sides are real numbers and equal
    skipped: int        # points where a side is not a real number (log of a negative …)


def _draw(nv: int, top, free, rng) -> dict:
    """One random point (3 decimals): entries and declared symbols in [-SPREAD, SPREAD],
    z_top the strict maximum by a gap in GAP (so the maximum is not always the same value)."""
    zs = [round(rng.uniform(-SPREAD, SPREAD), 3) for _ in range(nv)]
    if top is not None:
        rest = zs[:top - 1] + zs[top:] + [-SPREAD]
        zs[top - 1] = round(max(rest) + rng.uniform(*GAP), 3)
    env = {symbolic.z[p]: sp.Rational(str(v)) for p, v in enumerate(zs, 1)}
    env.update({s: sp.Rational(str(round(rng.uniform(-SPREAD, SPREAD), 3))) for s in free})
    return env


def _free(e) -> set:
    """What a point must give a value to besides z: declared scalars, entries of declared
    vectors (``y_2``)."""
    entries = e.atoms(sp.Indexed)
    labels = {x.base.label for x in entries}  # SymPy lists the label z among free symbols
    out = {x for x in entries if x.base != symbolic.z}
    out |= {s for s in e.free_symbols - labels if isinstance(s, sp.Symbol) and not s.is_integer}
    return out


def _real(e, env):
    """``e`` at ``env`` to symbolic.DPS digits as an mpmath number, or None if not real."""
    v = e.evalf(symbolic.DPS, subs=env)
    if not (v.is_number and v.is_extended_real) or not v.is_finite:
        return None
    import mpmath as mp

    return mp.mpf(str(v))


def _search(an, bn, nv, top, trials: int = symbolic.TRIALS) -> Search:
    """Random points at ``n = nv`` where ``an != bn``, the largest difference kept.

    Every point is counted: agreed, or skipped when a side is not a real number.
    """
    import random

    import mpmath as mp

    rng = random.Random(symbolic.SEED + nv)
    free = sorted(_free(an) | _free(bn), key=str)
    best, agreed, skipped = None, 0, 0
    with mp.workdps(symbolic.DPS):
        for _ in range(trials):
            env = _draw(nv, top, free, rng)
            a, b = _real(an, env), _real(bn, env)
            if a is None or b is None:
                skipped += 1
            elif symbolic._differs(a, b):  # the one rule of a real difference (REL_TOL)
                if best is None or abs(a - b) > best[0]:
                    best = (abs(a - b), env)
            else:
                agreed += 1
    if best is None:
        return Search(None, agreed, skipped)
    env = best[1]
    zs = [env[symbolic.z[p]] for p in range(1, nv + 1)]
    return Search({"z": zs, "free": {s: env[s] for s in free}}, agreed, skipped)


def _cex(found, nv, an, bn, subs, label) -> dict:
    env = {symbolic.z[p]: v for p, v in enumerate(found["z"], 1)} | found["free"]
    out = ({"case": label} if label else {}) | {"n": nv}
    out.update({s.name: int(v) for s, v in subs})
    out["z"] = [float(v) for v in found["z"]]
    out.update({str(s): float(v) for s, v in found["free"].items()})
    out["previous step"] = _hp(an, env)
    out["this step"] = _hp(bn, env)
    return out


# ---- a chain, a derivation -----------------------------------------------------

@dataclass
class _Prepared:
    text: str
    line: int
    col: int
    why: str
    expr: object = None   # the model expression (definitions substituted), or None
    reason: str = ""      # why not checkable
    slow: bool = False    # not prepared within the time limit: undecided, not "not checkable"


def _prepare(step_text, line, col, why, ctx: Context, path: str, ties=None,
             timeout: float = 10.0) -> _Prepared:
    global _dummies
    _dummies = count()
    rows = latex.parse_block(step_text, path, line or 1, col or 1, known=ctx.known)
    if len(rows) != 1:
        raise LseError(f"{path}:{line}:{col}: a step is one expression (got {len(rows)} rows)")
    r = rows[0]
    if not r.checkable:
        return _Prepared(step_text, line, col, why or r.why, None, r.prose or r.shorthand)
    if any(x != "=" for x in r.rels):
        return _Prepared(step_text, line, col, why or r.why, None,
                         f"a relation ({' '.join(dict.fromkeys(r.rels))}), not a claim that "
                         "two steps are equal")
    if len(r.sides) != 1 or r.sides[0].expr is None:
        return _Prepared(step_text, line, col, why or r.why, None,
                         "a relation, not an expression (write one side per step)")
    try:  # definitions and derivatives can blow up: SymPy work, under the time limit
        with time_limit(timeout):
            e = _canonical(ctx.expand(_fresh(r.sides[0].expr)))
            e = _logs(_tidy(_derivatives(_conditions(e, ties))))
    except TimeLimit as ex:
        return _Prepared(step_text, line, col, why or r.why, None,
                         f"substituting definitions and taking derivatives: {ex}", True)
    if e.has(latex.REALS()):
        return _Prepared(step_text, line, col, why, None, "a set, not an expression")
    if _bare_vector(e):
        raise LseError(f"{path}:{line}:{col}: a whole vector where a number is expected "
                       f"(in {step_text!r}); write its entries, e.g. z_i")
    return _Prepared(step_text, line, col, why or r.why, e)


def compare(a, b, all_cases, max_n: int, timeout: float, concrete: bool) -> tuple[Verdict, str]:
    """``a = b`` in every case: the first refutation, else the first undecided case, else
    proved; and the label of the cases decided."""
    verdicts = []
    for c in all_cases:
        sub = dict(c.subs)
        v = decide(a.xreplace(sub), b.xreplace(sub), c, max_n, timeout, concrete)
        verdicts.append((c, v))
        if v.verdict == REFUTED:
            break
    label = "; ".join(c.label for c, _ in verdicts if c.label)
    v = next((v for _, v in verdicts if v.verdict == REFUTED), None) or \
        next((v for _, v in verdicts if v.verdict == UNDECIDED), None)
    if v is None:
        v = Verdict(PROVED, "; ".join(dict.fromkeys(x.detail for _, x in verdicts)))
    return v, label


def check_chain(name, steps, conditions, ctx: Context, max_n: int, timeout: float,
                group: str, ties: bool = False) -> list[Result]:
    """One Result a step after the first checkable one.

    A step is compared with the previous checkable step.  Once a step is refuted the
    chain is *off track*.  A later step proved equal to the previous step is ``proved``
    but said to carry the earlier error; otherwise it is compared with the last step
    still on track (``good``): proved there, it is ``proved`` ("= step g") and the
    chain is back on track; else its verdict against the previous step stands.  So one
    wrong step shows one ✗, and a second ✗ means a second, independent error.  (Equal
    to the previous step, a step cannot equal the last good one: no need to try.)
    """
    path = ctx.path
    tie_pair = (ctx.argmax, TAU) if ties else None
    prepared = [_prepare(s.latex, s.line, s.col, s.why, ctx, path, tie_pair,
                         timeout) for s in steps]
    exprs = [p.expr for p in prepared if p.expr is not None]
    idx = set().union(*(_indices(e) for e in exprs)) if exprs else set()
    idx |= {x for a, b, _, _ in conditions for x in (a, b)}
    all_cases = cases(idx, conditions, ctx.argmax, ties)
    if not all_cases:
        raise LseError(f"{path}: chain {name!r}: its case conditions contradict each other")
    concrete = any(_concrete(e) for e in exprs)
    results = []
    ref, ref_num, bridged = None, 0, []
    good, wrong = None, None  # the last step on track; the refuted step that left it
    for num, p in enumerate(prepared, 1):
        info = {"line": p.line, "col": p.col}
        if p.expr is None:
            results.append(Result(f"step {num}", UNDECIDED if p.slow else NOT_CHECKABLE,
                                  group, p.reason,
                                  {**info, "case": "", "ms": 0.0}, latex=(p.text,)))
            bridged.append(num)
            continue
        if ref is None:
            ref, ref_num, bridged, good = p, num, [], (p, num)
            continue
        t0 = time.perf_counter()
        against, back = ref_num, False
        v, case_label = compare(ref.expr, p.expr, all_cases, max_n, timeout, concrete)
        if wrong is not None and v.verdict != PROVED:
            # off track and not equal to the previous step (equal to it, it cannot equal
            # the last good one): is it equal to the last good one?
            vg, label_g = compare(good[0].expr, p.expr, all_cases, max_n, timeout, concrete)
            if vg.verdict == PROVED:
                v, case_label, against, back = vg, label_g, good[1], True
        elapsed = time.perf_counter() - t0
        detail = f"= step {against}: {v.detail}"
        if bridged and against == ref_num:
            detail += f" (bridging step{'s' if len(bridged) > 1 else ''} " \
                      f"{', '.join(map(str, bridged))})"
        if back:
            detail += f" (back on track: step {wrong} was refuted)"
        elif wrong is not None and v.verdict == PROVED:
            detail += f" (but it carries the error of step {wrong})"
        if p.why:
            detail += f"; {p.why}"
        info.update(case=case_label, ms=round(1000 * elapsed, 1), against=against)
        if bridged:
            info["bridged"] = list(bridged)
        cex = dict(v.counterexample) if v.counterexample else None
        if cex is not None:
            cex = {"file": path, "line": p.line, "col": p.col, **cex}
        shown = good[0] if back else ref
        results.append(Result(f"step {num}", v.verdict, group, detail, info, cex,
                              latex=(f"&{shown.text}", f"&= {p.text}")))
        if back or (wrong is None and v.verdict != REFUTED):
            good, wrong = (p, num), None
        elif wrong is None:
            wrong = num
        ref, ref_num, bridged = p, num, []
    return results


def check_derivation(d: Derivation, max_n: int = 6, timeout: float = 10.0) -> Report:
    """Check every chain of ``d``; one Result a step (the first step of a chain has none)."""
    check_budget(max_n, timeout)
    t0 = time.perf_counter()
    ctx = context(d)
    results = []
    for name, steps in ctx.checks:
        results += check_chain(name, steps, [], ctx, max_n, timeout, name)
    for ch in d.chains:
        conds = _parse_conditions(ch.case, d.path, ch.line)
        results += check_chain(ch.name, ch.steps, conds, ctx, max_n, timeout, group_of(ch),
                               ch.ties)
    if results and all(r.verdict == NOT_CHECKABLE for r in results):  # no silent "verified"
        raise LseError(f"{d.path}: no step could be checked ({len(results)} not checkable: "
                       "prose, shorthand or relations); write the steps as expressions")
    notes = [ASSUMPTIONS, *d.notes]
    if any(ch.ties for ch in d.chains):
        notes.insert(1, TIES_NOTE)
    return Report("check", d.title, tuple(results), COLUMNS, tuple(notes),
                  {"path": d.path, "max_n": max_n, "timeout": timeout,
                   "seconds": round(time.perf_counter() - t0, 3)})


def group_of(ch: Chain) -> str:
    """The report group of a chain's results: its name and its case assumptions."""
    case = list(ch.case) + (["ties: z_τ = z_k, τ ≠ k"] if ch.ties else [])
    return ch.name + (f" [{', '.join(case)}]" if case else "")


def load(path: str | Path, sidecar: str | Path | None = None) -> Derivation:
    """A derivation from a ``.toml`` file or a Markdown note (any other suffix)."""
    p = Path(path)
    if p.suffix.lower() == ".toml":
        if sidecar is not None:
            raise LseError(f"--sidecar {sidecar}: applies to Markdown notes, not to {path}")
        from lsecheck import derivation

        return derivation.load(p)
    from lsecheck import notes

    return notes.load(p, sidecar)


def check_path(path, max_n: int = 6, timeout: float = 10.0, sidecar=None) -> Report:
    """Check a derivation file (``.toml``) or a Markdown note."""
    check_budget(max_n, timeout)
    return check_derivation(load(path, sidecar), max_n, timeout)


def check_paths(paths, max_n: int = 6, timeout: float = 10.0, sidecar=None) -> Report:
    """Several files in one report (one table a chain, grouped by file)."""
    paths = list(paths)
    if len(paths) == 1:
        return check_path(paths[0], max_n, timeout, sidecar)
    check_budget(max_n, timeout)
    t0 = time.perf_counter()
    results, notes = [], {}  # the files' notes, each once, in order (a dict keeps order)
    for p in paths:
        rep = check_path(p, max_n, timeout, sidecar)
        results += [replace(r, group=f"{Path(p).name}: {r.group}") for r in rep.results]
        notes.update(dict.fromkeys(rep.notes))
    return Report("check", f"{len(paths)} derivations", tuple(results), COLUMNS, tuple(notes),
                  {"paths": [str(p) for p in paths], "max_n": max_n, "timeout": timeout,
                   "seconds": round(time.perf_counter() - t0, 3)})
