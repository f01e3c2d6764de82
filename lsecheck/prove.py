r"""The prover: runs every row of :data:`lsecheck.theorems.THEOREMS`.

For each scalar theorem two results:

* ``n = symbolic`` — the claim built by :class:`~lsecheck.symbolic.Sym`
  (``IndexedBase``, ``Sum`` over ``1..n``, ``KroneckerDelta``), each link of
  its chain decided by :func:`~lsecheck.symbolic.zero_test`; a difference
  that still holds logarithms is decided through ``exp`` (both sides are
  real and exp is injective);
* ``n = 1..N`` — the claim computed exactly by
  :class:`~lsecheck.symbolic.Exact` at every concrete ``n``, one index tuple
  per pattern (permutation symmetry, argued in :mod:`lsecheck.theorems`;
  every tuple for ``n ≤ ALL_TUPLES_UP_TO``).

The tensor theorem gives one result per shape, covering every axes subset
and ``None``, each with the maximum of every reduced slice at each of its
entries in turn.  Every row carries ``model``: what it assumes rather than
proves (listed in the notes too).  ``proved`` means the difference reduced to exactly 0; a
nonzero exact difference is ``refuted`` with a high-precision counterexample;
anything else (time limit, an expression outside exact arithmetic, a
symbolic residual) is ``undecided`` with its evidence.  Each computation
runs under :func:`lsecheck.limits.time_limit`.
"""

from __future__ import annotations

import math
import time
from itertools import permutations

from lsecheck.errors import LseError
from lsecheck.limits import DEFAULT_TIMEOUT, TimeLimit, check_budget, time_limit
from lsecheck.results import ERROR, PROVED, REFUTED, SKIPPED, UNDECIDED, Report, Result
from lsecheck.theorems import (
    SHAPES,
    THEOREMS,
    Theorem,
    arg_names,
    axes_choices,
    case_label,
    slice_size,
    slices,
)

ALL_TUPLES_UP_TO = 4  # every index tuple for n <= this (3 letters and a free index)
COLUMNS = ("case", "n", "seconds")
SCALAR, TENSOR = "z ∈ ℝⁿ", "tensor form with axes"
WORST = {PROVED: 0, SKIPPED: 0, UNDECIDED: 1, ERROR: 2, REFUTED: 3}


def select(names=None, table=THEOREMS) -> tuple[Theorem, ...]:
    """The rows named (all when ``names`` is empty); unknown names are an input error."""
    if not names:
        return tuple(table)
    known = [t.name for t in table]
    unknown = [x for x in names if x not in known]
    if unknown:
        raise LseError(f"--theorem: unknown theorem {unknown[0]!r}; choose from "
                       + ", ".join(known))
    return tuple(t for t in table if t.name in set(names))


def _letters(pattern):
    return list(dict.fromkeys(("k",) * ("k" in pattern) + tuple(pattern)))


def assignments(pattern, n_value: int):
    """Index tuples for ``pattern`` at ``n``: one representative (k = 1, then 2, 3…),
    or every injective assignment when ``n ≤ ALL_TUPLES_UP_TO``."""
    letters = _letters(pattern)
    if n_value <= ALL_TUPLES_UP_TO:
        choices = permutations(range(1, n_value + 1), len(letters))
    else:
        choices = [tuple(range(1, len(letters) + 1))]
    for c in choices:
        yield dict(zip(letters, c, strict=True))


def _index_symbols() -> dict:
    """The pattern letters as the symbolic model's index symbols."""
    from lsecheck import symbolic as s

    return {"j": s.j, "k": s.k, "l": s.l}


def _links(chain):
    return list(zip(chain, chain[1:], strict=False))


# --------------------------------------------------------------------------- symbolic n


def _symbolic(th: Theorem):
    """Decide every link for symbolic n: (verdict, evidence, latex lines)."""
    import sympy as sp

    from lsecheck import symbolic as s

    letter = _index_symbols()
    evidence, lines, verdict = [], [], PROVED
    for pattern in th.patterns:
        args = [letter[x] for x in pattern]
        distinct = [letter[x] for x in _letters(pattern)]
        chain = th.claim(s.Sym(distinct), *args)
        lines.append((pattern, chain))
        for a, b in _links(chain):
            z = s.zero_test(a - b, distinct)
            if z.verdict is not True and z.residual.has(sp.log):
                z = s.zero_test(sp.exp(a - b, evaluate=False) - 1, distinct)
            if z.verdict is not True and th.tie:  # the case is the tie w_j = w_k
                tied = {s.w[letter[th.tie[0]]]: s.w[letter[th.tie[1]]]}
                z = s.zero_test(z.residual.xreplace(tied), distinct)
            if z.verdict is not True:
                verdict = UNDECIDED
                evidence.append(f"case {case_label(th, pattern) or '—'}: difference left as "
                                f"{sp.sstr(z.residual)} ({z.how})")
    return verdict, evidence, lines


LONG = 90  # characters of LaTeX source past which a sum is set one term a line


def _statement(th: Theorem) -> tuple[str, ...]:
    """The theorem's statement lines, left-aligned in the handout's ``aligned`` block."""
    return tuple("&" + x for x in th.latex)


def _latex_chain(th: Theorem, pattern, chain) -> list[str]:
    """The chain as SymPy built it, one aligned line a link, under its case.

    Deltas between the case's different indices are set to 0 first (as the
    proof does), and a long sum is broken before each term.
    """
    import sympy as sp

    from lsecheck import symbolic as s

    letter = _index_symbols()
    distinct = [letter[x] for x in _letters(pattern)]
    case = _tex_case(th, pattern)
    head = [r"&\text{SymPy, symbolic } n" + (rf"\ ({case})" if case else "") + ":"]
    body = []
    for a, e in enumerate(chain):
        e = s.apply_distinct(sp.sympify(e), distinct)
        body += _broken(e, r"&\qquad " + ("" if a == 0 else "= "))
    return head + body


def _broken(e, lead: str) -> list[str]:
    """``e`` as LaTeX lines: a long sum (or Σ of a sum) one term a line."""
    import sympy as sp

    more = r"&\qquad\quad "
    if len(sp.latex(e)) <= LONG:
        return [lead + sp.latex(e)]
    if isinstance(e, sp.Sum) and isinstance(e.function, sp.Add) and len(e.limits) == 1:
        (v, lo, hi), terms = e.limits[0], sp.Add.make_args(e.function)
        first = lead + rf"\sum_{{{sp.latex(v)}={sp.latex(lo)}}}^{{{sp.latex(hi)}}} \Big("
        lines = _terms(terms, first, more)
        return lines[:-1] + [lines[-1] + r" \Big)"]
    if isinstance(e, sp.Add):
        return _terms(sp.Add.make_args(e), lead, more)
    return [lead + sp.latex(e)]


def _terms(terms, lead: str, more: str) -> list[str]:
    import sympy as sp

    out = []
    for t, term in enumerate(terms):
        tex = sp.latex(term)
        out.append((lead if t == 0 else more + ("" if tex.startswith("-") else "+ ")) + tex)
    return out


def _tex_case(th: Theorem, pattern) -> str:
    r"""The case in LaTeX: the claim's arguments bound to the model's indices, and how those differ.

    ``hessian`` at ``("j", "k", "k")`` -> ``(a, b) = (j, k),\ j \ne k``.
    """
    bound = [(p, x) for p, x in zip(arg_names(th, pattern), pattern, strict=True) if p != x]
    parts = []
    if len(bound) == 1:
        parts.append("{} = {}".format(*bound[0]))
    elif bound:
        parts.append("(" + ", ".join(p for p, _ in bound) + ") = ("
                     + ", ".join(x for _, x in bound) + ")")
    letters = list(dict.fromkeys(pattern))
    if len(letters) == 2:
        parts.append(r"{} \ne {}".format(*letters))
    elif len(letters) > 2:
        parts.append(", ".join(letters) + r"\text{ pairwise different}")
    return r",\ ".join(parts)


# --------------------------------------------------------------------------- concrete n


class _Refuted(Exception):
    def __init__(self, detail, counterexample):
        super().__init__(detail)
        self.detail, self.counterexample = detail, counterexample


def _concrete(th: Theorem, M) -> str | None:
    """Decide every link at M.n; raise _Refuted; return an 'undecided' reason or None."""
    from lsecheck.symbolic import NotExact

    for pattern in th.patterns:
        for a in assignments(pattern, M.n):
            try:
                chain = th.claim(M, *[a[x] for x in pattern])
                tie = [a[th.tie[0]]] if th.tie else []  # decided on the tie z_j = z_k only
                for step, (x, y) in enumerate(_links(chain), 1):
                    diff = M.tie(x - y, at=tie, to=a[th.tie[1]]) if tie else x - y
                    z = M.is_zero(diff)
                    if z is False:
                        ce = M.counterexample(x, y, maxat=a.get("k"), tie=tie,
                                              j=a.get("j", a.get("k")), k=a.get("k"))
                        bound = ", ".join(f"{p} = {a[x]}" for p, x in
                                          zip(arg_names(th, pattern), pattern, strict=True))
                        where = f"n = {M.n}" + (f", {bound}" if bound else "")
                        link = f"link {step} of {len(chain) - 1}"
                        if ce is None:
                            return f"{where}: exact difference nonzero but no numeric witness"
                        extra = {"indices": bound} if bound else {}
                        raise _Refuted(f"{where}: {link} differs", {**ce, **extra, "link": link})
                    if z is None:
                        return f"n = {M.n}: difference has logarithms that did not cancel"
            except NotExact as e:
                return f"n = {M.n}: {e}"
    return None


# --------------------------------------------------------------------------- tensor


def _tensor(th: Theorem, shape, timeout):
    """Every axes choice, every position of the slices' maximum, for one shape.

    Returns (verdict, detail, counterexample, runs decided).
    """
    from lsecheck.symbolic import Exact, NotExact

    size = math.prod(shape)
    undecided, runs = [], 0
    for axes in axes_choices(len(shape)):
        parts = slices(shape, axes)
        for at in range(slice_size(shape, axes)):
            where = f"axes={_axes_text(axes)}, max at entry {at} of each slice"
            try:
                with time_limit(timeout):
                    M = Exact(size, names=[f"z{a}" for a in range(1, size + 1)],
                              plain=[f"g{a}" for a in range(1, len(parts) + 1)])
                    for name, lhs, rhs in th.claim(M, shape, axes, at):
                        z = M.is_zero(lhs - rhs)
                        if z is False:
                            tops = [s[at] for s in parts.values()]
                            ce = dict(M.counterexample(lhs, rhs, maxat=tops) or {})
                            ce.pop("n", None)
                            ce = {"shape": list(shape), "axes": _axes_text(axes),
                                  "max_at": at, "entry": name, "Z_flat": ce.pop("z", None),
                                  **ce}
                            return REFUTED, f"{where}: {name} differs", ce, runs
                        if z is None:
                            undecided.append(f"{where}: {name} not reduced")
                runs += 1
            except TimeLimit as e:
                undecided.append(f"{where}: {e} (raise --timeout)")
            except NotExact as e:
                undecided.append(f"{where}: {e}")
            except Exception as e:  # a claim that cannot be computed
                return ERROR, f"{where}: {type(e).__name__}: {e}", None, runs
    if undecided:
        more = f"; {len(undecided) - 1} more runs undecided" if len(undecided) > 1 else ""
        return UNDECIDED, undecided[0] + more, None, runs
    return PROVED, "max at every entry", None, runs


def _axes_text(axes) -> str:
    return "None" if axes is None else "(" + ", ".join(map(str, axes)) + ("," if len(axes) == 1
                                                                          else "") + ")"


# --------------------------------------------------------------------------- run


def run(names=None, max_n: int = 8, timeout: float = DEFAULT_TIMEOUT,
        latex: bool = True, table=THEOREMS) -> Report:
    """Prove the theorems named (all by default) for symbolic n and n = 1..max_n.

    ``latex`` adds the symbolic chains as LaTeX lines (for handouts); the
    statements' lines are always there.  ``table`` replaces the theorem table
    (tests use it to feed wrong claims).
    """
    check_budget(max_n, timeout)
    chosen = select(names, table)
    t0 = time.perf_counter()
    import lsecheck.symbolic  # noqa: F401  (imports SymPy; an import is not cut by the limit)

    try:  # pay SymPy's lazy imports up front, so that row times measure the work
        with time_limit(timeout):
            _warm_up()
    except TimeLimit:
        pass  # the rows meet the limit themselves and say so
    warm_up = time.perf_counter() - t0
    scalar = [t for t in chosen if t.kind == "scalar"]
    tensors = [t for t in chosen if t.kind == "tensor"]

    sym_out = {th.name: _symbolic_job(th, timeout, latex) for th in scalar}
    per_n, conc = _concrete_job(scalar, max_n, timeout) if scalar else ({}, {})
    tensor_rows = _tensor_job(tensors, timeout)
    results: list[Result] = []
    for th in scalar:
        results += _scalar_results(th, sym_out[th.name], conc[th.name], max_n)
    tensor_times = {}
    for th, shape, verdict, detail, ce, runs, dt in tensor_rows:
        tensor_times[str(shape)] = dt
        results.append(Result(
            th.name, verdict, TENSOR, detail,
            _info(th, "×".join(map(str, shape)), dt, shape=list(shape),
                  case=f"{len(axes_choices(len(shape)))} axes choices", runs=runs),
            ce, _statement(th)))

    notes = _notes(chosen)
    if per_n:
        notes.append("time per n (ms): " + "  ".join(f"{k}:{v * 1e3:.1f}"
                                                      for k, v in per_n.items()))
    meta = {"max_n": max_n, "timeout": timeout, "sympy_import_s": round(warm_up, 6),
            "time_per_n": {str(k): round(v, 6) for k, v in per_n.items()},
            "tensor_time": {k: round(v, 6) for k, v in tensor_times.items()}}
    return Report("prove", "lsecheck prove", tuple(results), COLUMNS, tuple(notes), meta)


def _symbolic_job(th: Theorem, timeout, latex):
    t0 = time.perf_counter()
    try:
        with time_limit(timeout):
            verdict, evidence, chains = _symbolic(th) if th.symbolic else (SKIPPED, [], [])
            lines = [x for p, c in chains for x in _latex_chain(th, p, c)] if latex else []
    except TimeLimit as e:
        verdict, evidence, lines = UNDECIDED, [f"{e} (raise --timeout)"], []
    except Exception as e:  # a claim SymPy cannot build or differentiate
        verdict, evidence, lines = ERROR, [f"symbolic n: {type(e).__name__}: {e}"], []
    return verdict, evidence, lines, time.perf_counter() - t0


def _concrete_job(scalar, max_n: int, timeout):
    """Every row at n = 1..max_n, n outermost so that the time per n is measured."""
    from lsecheck.symbolic import Exact

    per_n: dict[int, float] = {}
    conc = {t.name: {"verdict": PROVED, "notes": [], "ce": None, "time": 0.0, "stop": False}
            for t in scalar}
    for n_value in range(1, max_n + 1):
        t_n, ran, M = time.perf_counter(), False, None  # M: the model at n, built by the first row
        for th in scalar:
            st = conc[th.name]
            if n_value < th.n_min or st["stop"]:
                continue
            ran = True
            t0 = time.perf_counter()
            try:
                with time_limit(timeout):
                    M = M or Exact(n_value)
                    reason = _concrete(th, M)
                if reason:
                    st["verdict"] = _worse(st["verdict"], UNDECIDED)
                    st["notes"].append(reason)
            except _Refuted as r:
                st.update(verdict=REFUTED, ce=r.counterexample, stop=True)
                st["notes"].append(r.detail)
            except TimeLimit as e:
                clean = st["verdict"] == PROVED and n_value > th.n_min
                done = f"proved for n < {n_value}, " if clean else ""
                st["verdict"] = _worse(st["verdict"], UNDECIDED)
                st["notes"].append(f"n = {n_value}: {e} (raise --timeout); {done}"
                                   "larger n not tried")
                st["stop"] = True
            except Exception as e:  # a claim that cannot be computed: say so, go on
                st["verdict"] = _worse(st["verdict"], ERROR)
                st["notes"].append(f"n = {n_value}: {type(e).__name__}: {e}")
                st["stop"] = True
            st["time"] += time.perf_counter() - t0
        if ran:  # n where every row had stopped (refuted, timed out) are not timed
            per_n[n_value] = time.perf_counter() - t_n
    return per_n, conc


def _tensor_job(tensors, timeout):
    out = []
    for th in tensors:
        for shape in SHAPES:
            t0 = time.perf_counter()
            verdict, detail, ce, runs = _tensor(th, shape, timeout)
            out.append((th, shape, verdict, detail, ce, runs, time.perf_counter() - t0))
    return out


def _warm_up() -> None:
    """The first Add of SymPy imports sympy.tensor and more (~0.1 s): pay it up front."""
    from lsecheck import symbolic as s

    s.normal_sums(s.Sym().softmax(s.j, s.k))


def _worse(a: str, b: str) -> str:
    return a if WORST[a] >= WORST[b] else b


def _info(th: Theorem, n: str, seconds: float, case=None, **more) -> dict:
    """A row's columns and JSON fields, in reading order (``model`` only when there is one)."""
    out = {"case": case or th.case, "n": n, "seconds": round(seconds, 4), **more,
           "step": th.step}
    if th.model:
        out["model"] = th.model
    return out


def _scalar_results(th: Theorem, sym, conc, max_n: int) -> list[Result]:
    """The symbolic-n row (statement and SymPy chains for handouts) and the n = lo..N row."""
    verdict, evidence, lines, dt = sym
    group = SCALAR
    lo = th.n_min
    out = []
    if th.symbolic:
        ce = None
        if verdict == UNDECIDED and conc["verdict"] == REFUTED:
            verdict, ce = REFUTED, conc["ce"]  # false at some n, so false for symbolic n
            evidence = evidence + [f"refuted at {conc['notes'][-1]}"]
        detail = "; ".join(evidence) if evidence else f"every n ≥ {lo}"
        out.append(Result(th.name, verdict, group, detail, _info(th, "symbolic", dt),
                          ce, _statement(th) + tuple(lines)))
    if max_n < lo:
        out.append(Result(th.name, SKIPPED, group, f"needs n ≥ {lo} (--max-n is {max_n})",
                          _info(th, f"{lo}..{max_n}", 0.0)))
        return out
    cdetail = "; ".join(conc["notes"]) if conc["notes"] else "exact, each n"
    out.append(Result(th.name, conc["verdict"], group, cdetail,
                      _info(th, f"{lo}..{max_n}" if lo < max_n else str(lo), conc["time"],
                            n_from=lo, n_to=max_n),
                      conc["ce"], () if th.symbolic else _statement(th)))
    return out


def _notes(chosen) -> list[str]:
    """What 'proved' means here, and what each row assumes rather than proves."""
    out = [
        "proved = the difference reduced to exactly 0 (exp substitution w = exp(z) > 0, "
        "finite-sum rules, rational cancellation; no simplify).",
    ]
    if any(th.kind == "scalar" for th in chosen):
        out.append(
            "n = symbolic: for every n at once (Σ over 1..n kept whole; j, k, l range over "
            "1..n, different letters are different indices). n = a..b: exactly at each n, one "
            "index tuple per case (permutation symmetry), every tuple for "
            f"n ≤ {ALL_TUPLES_UP_TO}.")
    by_model: dict[str, list[str]] = {}
    for th in chosen:
        if th.model:
            by_model.setdefault(th.model, []).append(th.name)
    out += [f"assumed, not proved ({', '.join(names)}): {model}."
            for model, names in by_model.items()]
    out += [f"{th.name} — which step of the note: {th.step}." for th in chosen
            if th.name == "ties"]
    out.append("symbolically equal is not numerically equivalent: exp(z − f) loses about "
               "log2|f| bits in floating point, exp(z − max)/Σ does not (see lsecheck numeric).")
    return out
