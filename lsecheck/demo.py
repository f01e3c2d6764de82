r"""``lsecheck demo``: the seed note's derivation walked through, as plain data.

A :class:`Walkthrough` is a tuple of :class:`Section` s; a section has prose,
maths :class:`Step` s (LaTeX, each with the verdict the checker or the prover
gave it), and optionally a table of numbers and a code listing.  Rendering
(terminal, Markdown, LaTeX, HTML) is :mod:`lsecheck.walkthrough_render`;
nothing here prints.

The built-in walkthrough follows the note: definitions, the non-max case,
the max case, the tie subtlety the note skips, the general result, the code
form; the steps of the note's chains are checked by :mod:`lsecheck.check`
and each section's claim is proved by :mod:`lsecheck.prove`.  Then two
numeric illustrations (a vector where the naive
:math:`\log\sum_i e^{z_i}` overflows; large-magnitude vectors where
:math:`e^{z - f}` loses :math:`\approx\log_2|f|` bits) and the tensor form
with ``axes`` on a 2×3 example.  Any other derivation file gives the same
walkthrough with its own chains in place of the note's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lsecheck.errors import LseError
from lsecheck.results import (
    FAILED,
    FLAGGED,
    NOT_CHECKABLE,
    PASSED,
    PROVED,
    REFUTED,
    UNDECIDED,
    Report,
    Result,
)

# --- the data ---------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One line of maths.  ``verdict`` is a results verdict, or "" (a definition,
    the start of a chain: nothing is claimed)."""

    latex: str
    verdict: str = ""
    note: str = ""  # why the step holds (the author's), or what the checker/prover said
    source: str = ""  # "derivations/x.toml:12", "prove grad-max", "numeric"
    counterexample: Mapping | None = None
    expected: str = ""  # a step shown *because* it fails: the verdict it must get
    rel: str = ""  # "=": the step continues a chain (claimed equal to the one before)

    @property
    def shown(self) -> str:
        """The LaTeX as displayed: ``= …`` for a chain's later steps."""
        return f"{self.rel} {self.latex}" if self.rel else self.latex


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    text: str = ""  # prose; inline maths between $…$
    steps: tuple[Step, ...] = ()
    table: Table | None = None
    code: str = ""  # a code listing (Python)


@dataclass(frozen=True)
class Walkthrough:
    title: str
    source: str
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = ()
    meta: Mapping = field(default_factory=dict)

    def report(self) -> Report:
        """One result a claimed step (the verdicts decide the exit code; JSON for free)."""
        results = []
        for sec in self.sections:
            for num, st in enumerate(sec.steps, 1):
                if not st.verdict:
                    continue
                verdict, note = st.verdict, st.note
                if st.expected:  # a mistake on show: fine if caught, a failure if not
                    verdict = FLAGGED if st.verdict == st.expected else FAILED
                    note = f"expected {st.expected}, got {st.verdict}: {st.note}"
                results.append(Result(f"{sec.key} {num}", verdict, sec.title, note,
                                      {"source": st.source}, st.counterexample, (st.shown,)))
        return Report("demo", self.title, tuple(results), ("source",), self.notes,
                      {**self.meta, "sections": [_section_dict(s) for s in self.sections]})


def _section_dict(s: Section) -> dict:
    return {
        "key": s.key, "title": s.title, "text": s.text, "code": s.code,
        "steps": [{"latex": st.latex, "rel": st.rel, "verdict": st.verdict, "note": st.note,
                   "source": st.source, "expected": st.expected} for st in s.steps],
        "table": None if s.table is None else {"header": list(s.table.header),
                                               "rows": [list(r) for r in s.table.rows]},
    }


# --- numbers shown -----------------------------------------------------------------

DIGITS = 17  # significant digits of the numbers in tables
OVERFLOW_Z = (1000.0, 999.0, 998.0, 990.0)  # e^1000 overflows a float64 (max ≈ e^709.78)
MAGNITUDES = (1.0, 1e4, 1e8, 1e15)  # the precision illustration: z = M + (0, 1, 2, 3)
OFFSETS = (0.0, 1.0, 2.0, 3.0)
TENSOR_Z = ((1.0, 2.0, 3.0), (4.0, 6.0, 5.0))
TENSOR_AXES = (1,)
TENSOR_G = (1.0, 2.0)
LOSSY_BITS = 8.0  # more bits lost than this is shown as flagged (as in lsecheck accuracy)
STABLE_BITS = 3.0  # a stable form may lose this many bits (a few roundings); more fails


def _num(x, digits: int = DIGITS) -> str:
    import mpmath

    if isinstance(x, mpmath.mpf):
        return mpmath.nstr(x, digits)
    return f"{float(x):.{digits}g}"


def _bits(computed, exact) -> float:
    from lsecheck.accuracy import bits_lost

    return float(bits_lost(computed, exact).max())


def overflow_section() -> Section:
    """The naive log Σ exp z overflows where the shifted form does not."""
    import numpy as np

    from lsecheck import oracle

    z = np.array(OVERFLOW_Z)
    exact = oracle.logsumexp(z, prec=200)
    with np.errstate(over="ignore"):
        naive = np.log(np.sum(np.exp(z)))
    m = np.max(z)
    stable = np.log(np.sum(np.exp(z - m))) + m
    rows = (("naive", "log Σ exp(z)", _num(naive), f"{_bits(naive, exact):.0f}"),
            ("shifted", "log Σ exp(z − max z) + max z", _num(stable),
             f"{_bits(stable, exact):.0f}"),
            ("exact", "mpmath, 200 bits", _num(exact, 25), ""))
    zs = ", ".join(f"{v:g}" for v in OVERFLOW_Z)
    return Section(
        "overflow", "Numbers: where the naive form overflows",
        f"Take z = ({zs}) in float64. $e^{{1000}}$ is beyond the largest float64 "
        r"($\approx e^{709.78}$), so the naive sum is inf; subtracting $\max z$ first "
        "makes every exponent ≤ 0 and the sum lies in [1, n].",
        (Step(r"\log\sum_i e^{z_i} \to " + ("\\infty" if np.isinf(naive) else _num(naive)),
              FLAGGED if not np.isfinite(naive) else PASSED,
              f"float64 gives {_num(naive)}: exp overflows", "numeric"),
         Step(r"\log\sum_i e^{z_i - \max z} + \max z = " + _num(stable),
              PASSED if _bits(stable, exact) <= 1 else FAILED,
              f"{_bits(stable, exact):.0f} bits lost against mpmath", "numeric")),
        Table(("form", "formula", "float64 value", "bits lost"), rows),
    )


def precision_section() -> Section:
    r"""``exp(z − f)`` loses about log2|f| bits; ``exp(z − max)/Σ`` does not."""
    import numpy as np

    from lsecheck import oracle
    from lsecheck.accuracy import magnitude_label

    rows, worst_f, worst_s, big = [], 0.0, 0.0, None
    eps = np.finfo(np.float64).eps
    for mag in MAGNITUDES:
        z = mag + np.array(OFFSETS)
        exact = oracle.softmax(z, prec=200)
        truth = oracle.round_to(exact, np.float64)
        m = np.max(z)
        e = np.exp(z - m)
        f = np.log(np.sum(e)) + m
        via_f = np.exp(z - f)
        via_max = e / np.sum(e)
        rel_f = float(np.max(np.abs(via_f - truth) / truth))
        rel_s = float(np.max(np.abs(via_max - truth) / truth))
        bf, bs = _bits(via_f, exact), _bits(via_max, exact)
        worst_f, worst_s = max(worst_f, bf), max(worst_s, bs)
        rows.append((f"{magnitude_label(mag)} + (0,1,2,3)", f"{np.log2(abs(float(f))):.1f}",
                     f"{rel_f / eps:.3g} eps", f"{bf:.0f}", f"{rel_s / eps:.3g} eps", f"{bs:.0f}"))
        if mag == max(MAGNITUDES):
            big = (z, via_f, via_max, truth)
    z, via_f, via_max, truth = big
    return Section(
        "precision", "Numbers: equal in symbols, not in floating point",
        r"In exact arithmetic $e^{\hat z_j}/\sum_i e^{\hat z_i} = e^{z_j - f}$ (proved above). "
        r"In float64, $f$ carries an absolute rounding error of about $\varepsilon|f|$, and "
        r"$e^{z_j - f}$ turns it into a relative error of $\varepsilon|f|$ in the gradient: "
        r"about $\log_2|f|$ bits are lost. $z_j - \max z$ is exact (Sterbenz), so the "
        r"softmax form keeps every bit. At $z = 10^{15} + (0,1,2,3)$: exact "
        f"softmax = ({', '.join(_num(t, 6) for t in truth)}), "
        f"$e^{{z-f}}$ = ({', '.join(_num(t, 6) for t in via_f)}). The table gives each "
        r"form's largest relative error over the entries, in units of $\varepsilon$ ($2^{-52}$), "
        "and its bits lost.",
        (Step(r"e^{z_j - f}", FLAGGED if worst_f > LOSSY_BITS else PASSED,
              f"up to {worst_f:.0f} bits lost (≈ log2|f|)", "numeric"),
         Step(r"e^{z_j - \max z} \big/ \sum_i e^{z_i - \max z}",
              PASSED if worst_s <= STABLE_BITS else FAILED,
              f"at most {worst_s:.0f} bits lost" if round(worst_s) else "no bit lost",
              "numeric")),
        # short headers: the table fits an 80-column terminal and a LaTeX page
        Table(("z", "log2|f|", "exp(z − f)", "bits lost", "exp(z − max)/Σ", "bits lost"),
              tuple(rows)),
    )


def tensor_section(prover: Callable[[tuple[str, ...]], tuple[Step, ...]]) -> Section:
    """The course op's gradient with ``axes``, on a 2×3 example, against the exact VJP."""
    import numpy as np

    from lsecheck import oracle

    Z = np.array(TENSOR_Z)
    axes = TENSOR_AXES
    g = np.array(TENSOR_G)
    shape = [1 if i in axes else Z.shape[i] for i in range(Z.ndim)]
    m = np.max(Z, axis=axes, keepdims=True)
    f = (np.log(np.sum(np.exp(Z - m), axis=axes, keepdims=True)) + m).reshape(-1)
    grad = g.reshape(shape) * np.exp(Z - f.reshape(shape))
    _, exact = oracle.vjp(Z, g, axes=axes, prec=200)
    bits = _bits(grad, exact)
    rows = tuple(
        (str(r), "  ".join(f"{v:g}" for v in Z[r]), _num(f[r], 8), f"{g[r]:g}",
         "  ".join(_num(v, 6) for v in grad[r]))
        for r in range(Z.shape[0]))
    code = (
        "shape = [1 if i in axes else Z.shape[i] for i in range(Z.ndim)]   # "
        f"{shape}\n"
        "grad = out_grad.reshape(shape) * np.exp(Z - f.reshape(shape))   # broadcasts"
    )
    numeric = Step(r"\bar Z_{rc} = \bar f_r\, e^{Z_{rc} - f_r}",
                   PASSED if bits <= STABLE_BITS else FAILED,
                   f"the 2×3 example against the exact VJP (mpmath): {bits:.0f} bits lost",
                   "numeric")
    return Section(
        "tensor", "The tensor form with axes",
        f"With Z of shape {Z.shape} and axes = {axes}, f has one entry a row. The gradient "
        "of $\\sum_r \\bar f_r f_r$ puts $\\bar f_r e^{Z_{rc} - f_r}$ at each entry: reshape "
        f"$\\bar f$ and f to the kept shape {shape} (1 on the reduced axes) and broadcast.",
        prover(("tensor",)) + (numeric,),
        Table(("row r", "Z[r, :]", "f_r", "ḡ_r", "ḡ_r · exp(Z[r, :] − f_r)"), rows),
        code,
    )


# --- verdicts from the prover and the checker ----------------------------------------

_RANK = {PROVED: 0, PASSED: 0, "skipped": 1, NOT_CHECKABLE: 1, UNDECIDED: 2, "error": 3,
         FAILED: 3, REFUTED: 4}


def _worst(verdicts) -> str:
    return max(verdicts, key=lambda v: _RANK.get(v, 2))


class Prover:
    """Run :func:`lsecheck.prove.run` once on the theorems needed; hand them out as steps."""

    def __init__(self, names: tuple[str, ...], max_n: int, timeout: float):
        from lsecheck import prove

        t0 = time.perf_counter()
        self.report = prove.run(names=names, max_n=max_n, timeout=timeout, latex=False)
        self.seconds = time.perf_counter() - t0

    def __call__(self, names: tuple[str, ...]) -> tuple[Step, ...]:
        from lsecheck.theorems import BY_NAME

        steps = []
        for name in names:
            rows = [r for r in self.report.results
                    if r.name == name or r.name.startswith(name + " ")]
            if not rows:  # never a silent gap where a theorem should stand
                steps.append(Step(rf"\text{{{name}}}", "error",
                                  f"theorem '{name}': not in lsecheck prove's report "
                                  "(renamed or dropped?)", f"prove {name}"))
                continue
            verdict = _worst(r.verdict for r in rows)
            th = BY_NAME[name]
            how = ", ".join(f"{r.info.get('n')} {r.verdict}" for r in rows)
            cex = next((r.counterexample for r in rows if r.counterexample), None)
            for num, line in enumerate(th.latex):
                last = num == len(th.latex) - 1
                steps.append(Step(line, verdict if last else "",
                                  f"theorem '{name}' ({th.case}): {how}" if last else "",
                                  f"prove {name}", cex if last else None))
        return tuple(steps)


def _chain_steps(chain, results: dict, path: str) -> tuple[Step, ...]:
    """The chain's steps with the checker's verdicts (the first step claims nothing)."""
    steps = []
    for num, st in enumerate(chain.steps, 1):
        r = results.get(f"step {num}")
        where = f"{path}:{st.line}" if st.line else path
        rel = "=" if num > 1 else ""
        if r is None:
            steps.append(Step(st.latex, "", st.why, where, rel=rel))
        else:
            note = r.detail if not st.why or st.why in r.detail else f"{st.why} — {r.detail}"
            steps.append(Step(st.latex, r.verdict, note, where, r.counterexample, rel=rel))
    return tuple(steps)


# --- the built-in walkthrough: the seed note, section by section ------------------------

DEFAULT_FILE = "logsumexp-note.toml"  # in derivations/: the seed note, transcribed


def derivations_dir() -> Path:
    """``derivations/`` next to the package (a source checkout or an editable install)."""
    return Path(__file__).resolve().parent.parent / "derivations"


def _case(rel: str) -> Callable:
    return lambda ch: any(rel in c for c in ch.case)


def _named(prefix: str) -> Callable:
    return lambda ch: ch.name.startswith(prefix)


# The note section by section: prose, which chains of the note's derivation it shows
# (a test on the chain), which theorems of lsecheck.prove back it.  A chain no
# section claims is shown under "general".
NOTE: tuple[tuple[str, str, str, Callable | None, tuple[str, ...]], ...] = (
    ("definitions", "Definitions",
     r"The note's notation: $z \in \mathbb{R}^n$, $z_k = \max z$, $\hat z = z - \max z$, "
     r"and the stable LogSumExp $f$. Shifting by any $m$ does not change the value, so $f$ "
     r"is the plain $\log\sum_i e^{z_i}$.",
     _named("definitions"), ("shift",)),
    ("non-max", "The non-max case: z_j ≠ z_k",
     r"For $j \ne k$, $\max z$ does not move with $z_j$ (its derivative is 0), and only the "
     r"$j$-th term of the sum depends on $z_j$.",
     _case(r"\neq"), ("grad-non-max",)),
    ("max", "The max case: z_j = z_k",
     r"For $j = k$, $\partial \max z/\partial z_j = 1$, and every $\hat z_i = z_i - z_k$ "
     r"moves with $z_k$: the sum's derivative is $-\sum_{i \ne k} e^{\hat z_i}$.",
     _case("= z_k"), ("grad-max",)),
    ("ties", "The tie subtlety",
     r"The note's case split assumes the maximum is attained once. At a tie $\max z$ is not "
     r"differentiable: moving a tied $z_j$ up makes it the maximum (one-sided derivative 1), "
     r"moving it down leaves another tied entry in charge (0). Write $f = g(z, \max z)$ "
     r"with $g(z, m) = \log\sum_i e^{z_i - m} + m$: since $\partial g/\partial m = 0$ for "
     r"every $m$, both one-sided derivatives agree, $f$ is differentiable there too, and "
     r"its gradient is the same softmax: tied entries share the mass equally.",
     None, ("ties",)),
    ("general", "The general result",
     r"Both cases give the same formula: for every $j$ the gradient is the softmax of $z$, "
     r"and its entries sum to 1.",
     _named("general"), ("softmax-sum",)),
    ("code", "The code form: exp(z − f)",
     r"Since $\log\sum_i e^{\hat z_i} = f - \max z$, the softmax is $e^{z_j - f}$: the "
     r"gradient needs only the op's input and output. As the note writes the middle step, "
     r"with $z_j$ where $\hat z_j$ is meant, it is false (off by a factor $e^{z_k}$); the "
     r"transcription corrects it, and the checker catches the original.",
     _named("code"), ("exp-form",)),
)
AS_WRITTEN = (r"\frac{\exp \hat{z}_j}{\sum_{i=1}^n \exp \hat{z}_i}",
              r"\exp(z_j - \log \sum_{i=1}^n \exp \hat{z}_i)")  # the note's code-form step

CODE = (
    "def gradient(self, out_grad, node):   # the course's LogSumExp op\n"
    "    z, f = node.inputs[0], node       # the op's input and output\n"
    "    shape = [1 if i in self.axes else n for i, n in enumerate(z.shape)]\n"
    "    g = out_grad.reshape(shape).broadcast_to(z.shape)\n"
    "    return g * exp(z - f.reshape(shape).broadcast_to(z.shape))   # exp(z − f)"
)


def _as_written(d, timeout: float) -> Step:
    """The note's code-form step as written, checked: it must be refuted."""
    from lsecheck import check
    from lsecheck import derivation as dv

    chain = dv.Chain("the note as written", tuple(dv.Step(x) for x in AS_WRITTEN))
    rep = check.check_derivation(dv.Derivation(d.title, "the note", d.definitions, (chain,)),
                                 max_n=2, timeout=timeout)
    r = rep.results[-1]
    return Step(AS_WRITTEN[1], r.verdict, "the note as written: " + r.detail,
                "logsumexp-gradient.md", r.counterexample, expected=REFUTED)


def build(path: str | Path | None = None, max_n: int = 4, timeout: float = 10.0) -> Walkthrough:
    """The walkthrough of ``path`` (a derivation ``.toml`` or a Markdown note), or of
    the seed note (``derivations/logsumexp-note.toml``) when ``path`` is None."""
    from lsecheck import check

    t0 = time.perf_counter()
    builtin = path is None
    if builtin:
        path = derivations_dir() / DEFAULT_FILE
        if not path.is_file():
            raise LseError(f"demo: the built-in derivation {path} is missing (an install "
                           "without derivations/); name a file: lsecheck demo FILE.toml")
        shown = f"derivations/{DEFAULT_FILE}"
    else:
        shown = str(path)
    d = check.load(path)
    checked = check.check_derivation(d, max_n=max_n, timeout=timeout)
    by_group: dict[str, dict[str, Result]] = {}
    for r in checked.results:
        by_group.setdefault(r.group, {})[r.name] = r
    theorems = tuple(t for *_, names in NOTE for t in names) if builtin else ()
    prover = Prover(theorems + ("tensor",), max_n, timeout)

    defs = tuple(Step(df.latex, "", "", f"{shown}:{df.line}" if df.line else shown)
                 for df in d.definitions)
    chains = [(ch, _chain_steps(ch, by_group.get(check.group_of(ch), {}), shown))
              for ch in d.chains]
    # chains written inside a definition ('f = A = B'): the checker's groups of that name
    inner = tuple(Step(r.latex[-1].removeprefix("&= ") if r.latex else "", r.verdict,
                       r.detail, shown, r.counterexample)
                  for g, rows in by_group.items() if g.startswith("definition of ")
                  for r in rows.values())

    sections: list[Section] = []
    if builtin:
        # each chain goes to the first section whose test accepts it, else to "general"
        home = {}
        for i, (ch, _) in enumerate(chains):
            home[i] = next((key for key, _, _, match, _ in NOTE if match and match(ch)),
                           "general")
        for key, title, text, _, names in NOTE:
            steps = defs + inner if key == "definitions" else ()
            steps += tuple(x for i, (_, st) in enumerate(chains) if home[i] == key for x in st)
            steps += prover(names)
            if key == "code":
                steps += (_as_written(d, timeout),)
            sections.append(Section(key, title, text, steps, code=CODE if key == "code" else ""))
    else:
        sections.append(Section("definitions", "Definitions", "", defs + inner))
        for num, (ch, st) in enumerate(chains, 1):
            text = "Case: " + ", ".join(f"${c}$" for c in ch.case) + "." if ch.case else ""
            sections.append(Section(f"chain-{num}", ch.name, text, st))
    sections += [overflow_section(), precision_section(), tensor_section(prover)]
    notes = tuple(checked.notes) + (
        f"steps checked by lsecheck check, theorems by lsecheck prove (symbolic n and every "
        f"n ≤ {max_n}); numbers against mpmath at 200 bits",)
    meta = {"path": shown, "max_n": max_n, "timeout": timeout,
            "seconds": round(time.perf_counter() - t0, 3)}
    return Walkthrough(d.title, shown, tuple(sections), notes, meta)
