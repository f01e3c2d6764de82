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
and ``None``.  ``proved`` means the difference reduced to exactly 0; a
nonzero exact difference is ``refuted`` with a high-precision counterexample;
anything else (time limit, an expression outside exact arithmetic, a
symbolic residual) is ``undecided`` with its evidence.  Each computation
runs under :func:`lsecheck.limits.time_limit`.
"""

from __future__ import annotations

import time
from itertools import permutations

from lsecheck.errors import LseError
from lsecheck.limits import DEFAULT_TIMEOUT, TimeLimit, time_limit
from lsecheck.results import ERROR, PROVED, REFUTED, SKIPPED, UNDECIDED, Report, Result
from lsecheck.theorems import SHAPES, THEOREMS, Theorem, axes_choices

ALL_TUPLES_UP_TO = 3  # check every index tuple (not only representatives) for n <= this
MAX_N_LIMIT = 512
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


def _links(chain):
    return list(zip(chain, chain[1:], strict=False))


# --------------------------------------------------------------------------- symbolic n


def _symbolic(th: Theorem):
    """Decide every link for symbolic n: (verdict, evidence, latex lines)."""
    import sympy as sp

    from lsecheck import symbolic as s

    letter = {"j": s.j, "k": s.k, "l": s.l}
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
                evidence.append(f"case {','.join(pattern) or '—'}: difference left as "
                                f"{sp.sstr(z.residual)} ({z.how})")
    return verdict, evidence, lines


def _latex_chain(pattern, chain) -> list[str]:
    """The chain as SymPy built it, one aligned line a link, under its case."""
    import sympy as sp

    case = {(): "", ("j", "k"): "j \\ne k", ("k", "k"): "j = k"}.get(
        tuple(pattern), ", ".join(pattern))
    head = [r"\text{SymPy, symbolic } n" + (f" \\ ({case})" if case else "") + ":"]
    body = [("&" if a == 0 else "&= ") + sp.latex(e) for a, e in enumerate(chain)]
    return head + body


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
                        where = f"n = {M.n}, " + ", ".join(f"{p} = {v}" for p, v in a.items())
                        link = f"link {step} of {len(chain) - 1}"
                        if ce is None:
                            return f"{where}: exact difference nonzero but no numeric witness"
                        raise _Refuted(f"{where}: {link} differs", {**ce, "link": link})
                    if z is None:
                        return f"n = {M.n}: difference has logarithms that did not cancel"
            except NotExact as e:
                return f"n = {M.n}: {e}"
    return None


def _model(n_value: int, cache: dict):
    from lsecheck.symbolic import Exact

    if n_value not in cache:
        cache[n_value] = Exact(n_value)
    return cache[n_value]


# --------------------------------------------------------------------------- tensor


def _tensor(th: Theorem, shape, timeout):
    """Every axes choice for one shape: (verdict, detail, counterexample)."""
    from lsecheck.symbolic import Exact, NotExact

    size = 1
    for s in shape:
        size *= s
    undecided = []
    for axes in axes_choices(len(shape)):
        red = range(len(shape)) if axes is None else axes
        outs = size
        for d in red:
            outs //= shape[d]
        try:
            with time_limit(timeout):
                M = Exact(size, names=[f"z{a}" for a in range(1, size + 1)],
                          plain=[f"g{a}" for a in range(1, outs + 1)])
                for name, lhs, rhs in th.claim(M, shape, axes):
                    z = M.is_zero(lhs - rhs)
                    if z is False:
                        tops = _slice_maxima(shape, axes)
                        ce = dict(M.counterexample(lhs, rhs, maxat=tops) or {})
                        ce.pop("n", None)
                        ce = {"shape": list(shape), "axes": _axes_text(axes), "entry": name,
                              "Z_flat": ce.pop("z", None), **ce}
                        return REFUTED, f"axes={_axes_text(axes)}: {name} differs", ce
                    if z is None:
                        undecided.append(f"axes={_axes_text(axes)}: {name} not reduced")
        except TimeLimit as e:
            undecided.append(f"axes={_axes_text(axes)}: {e} (raise --timeout)")
        except NotExact as e:
            undecided.append(f"axes={_axes_text(axes)}: {e}")
        except Exception as e:  # a claim that cannot be computed
            return ERROR, f"axes={_axes_text(axes)}: {type(e).__name__}: {e}", None
    if undecided:
        more = f"; {len(undecided) - 1} more axes choices undecided" if len(undecided) > 1 else ""
        return UNDECIDED, undecided[0] + more, None
    return PROVED, f"reduced to 0 for {len(axes_choices(len(shape)))} axes choices", None


def _slice_maxima(shape, axes):
    from itertools import product

    red = tuple(range(len(shape))) if axes is None else tuple(axes)
    entries = list(product(*(range(s) for s in shape)))
    seen, tops = set(), []
    for a, e in enumerate(entries, 1):
        o = tuple(x for d, x in enumerate(e) if d not in red)
        if o not in seen:
            seen.add(o)
            tops.append(a)
    return tops


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
    if not isinstance(max_n, int) or isinstance(max_n, bool) or not 1 <= max_n <= MAX_N_LIMIT:
        raise LseError(f"--max-n: must be a whole number from 1 to {MAX_N_LIMIT} (got {max_n})")
    if not timeout or timeout <= 0:
        raise LseError(f"--timeout: must be a positive number of seconds (got {timeout})")
    chosen = select(names, table)
    t0 = time.perf_counter()
    _warm_up()  # import SymPy and pay its lazy imports, so that row times measure the work
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
    for th in tensors:
        for name, shape, verdict, detail, ce, dt in tensor_rows:
            if name != th.name:
                continue
            tensor_times[str(shape)] = dt
            results.append(Result(
                f"{th.name} {shape}", verdict, TENSOR, detail,
                {"case": th.case, "n": f"shape {shape}", "seconds": round(dt, 4),
                 "step": th.step},
                ce, th.latex))

    notes = [f"{th.name} — which step of the note: {th.step}." for th in chosen
             if th.name == "ties"] + [
        "proved = the difference reduced to exactly 0 (exp substitution w = exp(z) > 0, "
        "finite-sum rules, rational cancellation; no simplify); "
        "concrete n: one index tuple per case by permutation symmetry, every tuple for "
        f"n ≤ {ALL_TUPLES_UP_TO}.",
        "symbolically equal is not numerically equivalent: exp(z − f) loses about log2|f| bits "
        "in floating point, exp(z − max)/Σ does not (see lsecheck numeric).",
    ]
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
            lines = [x for p, c in chains for x in _latex_chain(p, c)] if latex else []
    except TimeLimit as e:
        verdict, evidence, lines = UNDECIDED, [f"symbolic n: {e} (raise --timeout)"], []
    except Exception as e:  # a claim SymPy cannot build or differentiate
        verdict, evidence, lines = ERROR, [f"symbolic n: {type(e).__name__}: {e}"], []
    return verdict, evidence, lines, time.perf_counter() - t0


def _concrete_job(scalar, max_n: int, timeout):
    """Every row at n = 1..max_n, n outermost so that the time per n is measured."""
    per_n: dict[int, float] = {}
    conc = {t.name: {"verdict": PROVED, "notes": [], "ce": None, "time": 0.0, "stop": False}
            for t in scalar}
    cache: dict = {}
    for n_value in range(1, max_n + 1):
        t_n = time.perf_counter()
        for th in scalar:
            st = conc[th.name]
            if n_value < th.n_min or st["stop"]:
                continue
            t0 = time.perf_counter()
            try:
                with time_limit(timeout):
                    reason = _concrete(th, _model(n_value, cache))
                if reason:
                    st["verdict"] = _worse(st["verdict"], UNDECIDED)
                    st["notes"].append(reason)
            except _Refuted as r:
                st.update(verdict=REFUTED, ce=r.counterexample, stop=True)
                st["notes"].append(r.detail)
            except TimeLimit as e:
                st["verdict"] = _worse(st["verdict"], UNDECIDED)
                st["notes"].append(f"n = {n_value}: {e} (raise --timeout); larger n not tried")
                st["stop"] = True
            except Exception as e:  # a claim that cannot be computed: say so, go on
                st["verdict"] = _worse(st["verdict"], ERROR)
                st["notes"].append(f"n = {n_value}: {type(e).__name__}: {e}")
                st["stop"] = True
            st["time"] += time.perf_counter() - t0
        cache.pop(n_value, None)
        per_n[n_value] = time.perf_counter() - t_n
    return per_n, conc


def _tensor_job(tensors, timeout):
    out = []
    for th in tensors:
        for shape in SHAPES:
            t0 = time.perf_counter()
            verdict, detail, ce = _tensor(th, shape, timeout)
            out.append((th.name, shape, verdict, detail, ce, time.perf_counter() - t0))
    return out


def _warm_up() -> None:
    """The first Add of SymPy imports sympy.tensor and more (~0.1 s): pay it up front."""
    from lsecheck import symbolic as s

    s.normal_sums(s.Sym().softmax(s.j, s.k))


def _worse(a: str, b: str) -> str:
    return a if WORST[a] >= WORST[b] else b


def _scalar_results(th: Theorem, sym, conc, max_n: int) -> list[Result]:
    verdict, evidence, lines, dt = sym
    latex = tuple(th.latex) + tuple(lines)
    group = SCALAR
    out = []
    if th.symbolic:
        ce = None
        if verdict == UNDECIDED and conc["verdict"] == REFUTED:
            verdict, ce = REFUTED, conc["ce"]  # false at some n, so false for symbolic n
            evidence = evidence + [f"refuted at {conc['notes'][-1]}"]
        detail = "; ".join(evidence) if evidence else "reduced to 0 for all n"
        out.append(Result(th.name, verdict, group, detail,
                          {"case": th.case, "n": "symbolic", "seconds": round(dt, 4),
                           "step": th.step}, ce, latex))
    lo = th.n_min
    if max_n < lo:
        out.append(Result(th.name, SKIPPED, group, f"needs n ≥ {lo} (--max-n is {max_n})",
                          {"case": th.case, "n": f"{lo}..{max_n}", "seconds": 0.0,
                           "step": th.step}))
        return out
    cverdict = conc["verdict"]
    cdetail = "; ".join(conc["notes"]) if conc["notes"] else "reduced to 0 at each n"
    out.append(Result(th.name, cverdict, group, cdetail,
                      {"case": th.case, "n": f"{lo}..{max_n}" if lo < max_n else str(lo),
                       "seconds": round(conc["time"], 4), "step": th.step,
                       "n_from": lo, "n_to": max_n},
                      conc["ce"], tuple(th.latex)))
    return out
