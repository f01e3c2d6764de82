r"""``lsecheck numeric``: the gradient of LogSumExp checked on real floats.

*Subjects* (the lsecheck reference and the installed frameworks, or a user's
``--impl``) are run on every case of :mod:`lsecheck.cases` and compared with
*references* (the mpmath oracle, finite differences, the frameworks).  This
module plans the run, sweeps the cases and builds the :class:`Report`; the
pieces live apart:

* :mod:`lsecheck.impl` — loading a user's implementation, calling it (and a
  framework) under a time limit;
* :mod:`lsecheck.compare` — the references, errors, tolerances and verdicts;
* :mod:`lsecheck.shrink` — a failing case made small, as a counterexample.

Frameworks are never failed — their deviations are what the report
shows — but the lsecheck reference and a user's implementation are.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from lsecheck import tolerances as T
from lsecheck.cases import COURSE, EDGE, EXTENDED, KINDS, Case
from lsecheck.compare import (
    ORACLE_PREC,
    Measure,
    compare,
    fd_measure,
    fd_quotients,
    oracle_truth,
    ref_order,
    vs_backend,
)
from lsecheck.errors import LseError
from lsecheck.impl import Impl, run_backend, run_impl
from lsecheck.results import ERROR, FAILED, FLAGGED, PASSED, SKIPPED, Report, Result
from lsecheck.shrink import inputs, smallest_failure

__all__ = ["COLUMNS", "REFS", "Report", "check", "plan", "sweep"]

REFS = ("torch", "jax", "autograd", "fd", "oracle")
FRAMEWORK_NOTES = {  # known deviations, cited in the report
    "torch": "pytorch#49724", "jax": "jax#6811", "autograd": "HIPS autograd",
}
RANK = {PASSED: 0, SKIPPED: -1, FLAGGED: 1, ERROR: 2, FAILED: 3}
COLUMNS = ("cases", "abs err", "rel err", "ulps", "fwd ulps", "bits lost")
NARROW = ("cases", "abs err", "rel err", "ulps")  # the columns kept on a narrow terminal
LIMIT_NOTE = ("all −inf slice, +inf ties: f = −inf (+inf) and the gradient has no "
              "limit-independent value (along z = log p − t·1 (+ t·1) the shares tend to any "
              "probability vector p); "
              "lsecheck gives the tied entries 1/n each (the path keeping them tied), and "
              "nan or any shares summing to 1 are accepted there (torch's and JAX's nan is no "
              "deviation)")


@dataclass
class Row:
    """Aggregate of one (subject, reference, group, kind)."""

    cases: int = 0
    checked: int = 0
    verdict: str = SKIPPED
    detail: str = ""
    abs_err: float = 0.0
    rel_err: float = 0.0
    ulps: float | None = None
    fwd_ulps: float | None = None
    bits_lost: float | None = None
    failures: list = field(default_factory=list)  # (case, measure)

    def add(self, case: Case, m: Measure) -> None:
        self.cases += 1
        if not m.checked:
            if not self.detail:
                self.detail = m.detail
            return
        self.checked += 1
        self.abs_err = max(self.abs_err, m.abs_err)
        self.rel_err = max(self.rel_err, m.rel_err)
        for name in ("ulps", "fwd_ulps", "bits_lost"):
            new = getattr(m, name)
            if new is not None:
                old = getattr(self, name)
                setattr(self, name, new if old is None else max(old, new))
        if self.verdict == SKIPPED or RANK[m.verdict] > RANK[self.verdict]:
            if self.verdict == SKIPPED or m.verdict != PASSED:
                self.detail = f"{case.id}: {m.detail}" if m.detail else ""
            self.verdict = m.verdict
        if m.verdict in (FAILED, ERROR):
            self.failures.append((case, m))


@dataclass
class Plan:
    """What to run: subjects (name → runner) and references."""

    subjects: dict
    refs: list
    missing: list  # (name, install command)
    impl: Impl | None = None


def plan(refs=REFS, impl: Impl | None = None) -> Plan:
    from lsecheck import backends as B

    missing, selected = [], []
    for r in refs:
        if r in ("fd", "oracle"):
            selected.append(r)
            continue
        b = B.get(r)
        if b.available():
            selected.append(r)
        else:
            missing.append((r, b.install))
    if impl is not None:
        subjects = {"impl": partial(run_impl, impl)}
    else:
        subjects = {s: partial(run_backend, B.get(s))
                    for s in ["reference"] + [r for r in selected if r not in ("fd", "oracle")]}
    return Plan(subjects, selected, missing, impl)


def _pairs(p: Plan) -> list[tuple[str, str]]:
    """(subject, reference) comparisons to make."""
    if p.impl is not None:
        return [("impl", r) for r in p.refs]
    others = [r for r in p.refs if r in ("oracle", "fd")]
    if "oracle" in p.refs:
        return [(s, r) for s in p.subjects for r in others]
    # no oracle: frameworks against the lsecheck reference, everything against fd
    return [(s, "reference") for s in p.subjects if s != "reference"] + \
           [(s, r) for s in p.subjects for r in others]


def sweep(cases: list[Case], p: Plan, strict: bool = False, progress=None):
    """Run every subject on every case; aggregate per (subject, ref, group, kind)."""
    rows: dict[tuple[str, str, str, str], Row] = {}
    pairs = _pairs(p)
    # one thread on purpose: a background thread for the frameworks was measured
    # slower (GIL contention with the oracle), and the --impl must stay on the main
    # thread, where its time limit (SIGALRM) works
    for case in cases:
        outs = {s: run(case) for s, run in p.subjects.items()}
        truth = oracle_truth(case) if "oracle" in p.refs else None
        fd = fd_quotients(case) if "fd" in p.refs else None
        for s, r in pairs:
            if r == "oracle":
                m = compare(case, outs[s], truth, strict)
            elif r == "fd":
                m = fd_measure(case, outs[s], fd, strict)
            else:
                m = vs_backend(case, outs[s], r, outs, strict)
            m = _framework_verdict(s, m)
            rows.setdefault((s, r, case.group, case.kind), Row()).add(case, m)
        if progress:
            progress(1)
    return rows


def _framework_verdict(subject: str, m: Measure) -> Measure:
    """A framework's deviation is a finding, not a failure: flagged."""
    if subject in ("impl", "reference") or m.verdict in (PASSED, SKIPPED):
        return m
    m.verdict = FLAGGED
    return m


def check(cases: list[Case], refs=REFS, impl: Impl | None = None, strict: bool = False,
          progress=None, seed: int = 0) -> Report:
    """Run the sweep and build the :class:`Report` of ``lsecheck numeric``."""
    p = plan(refs, impl)
    if impl is not None and not p.refs:
        raise LseError("--ref: none of the references is installed; add fd or oracle")
    t0 = time.perf_counter()
    rows = sweep(cases, p, strict, progress)
    elapsed = time.perf_counter() - t0
    results: list[Result] = []
    for name, install in p.missing:
        results.append(Result(name, SKIPPED, group="references",
                              detail=f"not installed — {install}"))
    order, subjects = {k: i for i, k in enumerate(KINDS)}, list(p.subjects)

    def key(k):  # oracle, fd, frameworks; course first; then subject, reference, kind
        s, r, grp, kind = k
        return (ref_order(r), grp != COURSE, subjects.index(s) if r != "fd" else 0, r,
                order.get(kind, 99))

    for s, r, grp, kind in sorted(rows, key=key):
        row = rows[(s, r, grp, kind)]
        if not row.checked and (r != "oracle" or (impl is not None and impl.hung)):
            continue  # not comparable there, or not run after a time-out: said in the notes
        info = {"cases": row.cases if row.checked == row.cases else f"{row.checked}/{row.cases}",
                "abs err": row.abs_err, "rel err": row.rel_err, "ulps": row.ulps,
                "fwd ulps": row.fwd_ulps,
                "bits lost": None if row.bits_lost is None else round(row.bits_lost, 1)}
        group = f"{s} vs {r} · {grp}"
        results.append(Result(kind, row.verdict, group=group, detail=row.detail, info=info))
    notes = _framework_notes(rows, p)
    if impl is not None and impl.hung:
        results.append(_timed_out(impl, rows, p))
    elif impl is not None:
        results += smallest_failure(impl, rows, p.refs, strict)
    tol = dict(T.table())
    if impl is not None:
        tol["time limit per call"] = f"{impl.timeout:g} s"
    notes.append("tolerances: " + "; ".join(f"{k}: {v}" for k, v in tol.items()))
    notes.append(f"{len(cases)} cases (seed {seed}), {len(p.subjects)} subject(s), references "
                 f"{', '.join(p.refs) or 'none'}; {elapsed:.2f} s")
    short = Path(impl.name).name if impl and ("/" in impl.name or "\\" in impl.name) else \
        (impl.name if impl else "")
    title = f"LogSumExp gradient of {short}" if impl else "LogSumExp gradient"
    meta = {"seed": seed, "cases": len(cases), "refs": list(p.refs), "strict": strict,
            "impl": impl.name if impl else None,
            "oracle_bits": ORACLE_PREC,
            "missing": {n: i for n, i in p.missing}, "seconds": round(elapsed, 3),
            "tolerances": tol, "groups": [COURSE, EXTENDED]}
    return Report("numeric", title, tuple(results), columns=COLUMNS, notes=tuple(notes),
                  meta=meta, narrow_columns=NARROW)


def _framework_notes(rows, p: Plan) -> list[str]:
    """One line per framework deviation found (precision loss, nan at limits)."""
    from lsecheck.backends import BACKENDS

    notes = []
    if "fd" in p.refs:
        notes.append("fd: not checkable at non-finite or empty inputs and at |z| ≥ 1e12 "
                     "(the step would be a few ulps of z)")
    fw = [r for r in p.refs if r not in ("fd", "oracle")]
    if fw and (p.impl is not None or "oracle" not in p.refs):
        notes.append(f"{', '.join(fw)}: not compared at non-finite or empty inputs, where the "
                     "frameworks disagree with each other (the oracle decides there)")
    kinds = {kind for (_, _, _, kind) in rows}
    if kinds & {"all −inf slice", "+inf entries"}:
        notes.append(LIMIT_NOTE)
    for s in p.subjects:
        if s in ("impl", "reference"):
            continue
        mine = [(kind, row) for (ss, r, _, kind), row in rows.items()
                if ss == s and r == "oracle" and row.verdict == FLAGGED]
        lost = [(row.bits_lost or 0, kind) for kind, row in mine if kind not in EDGE]
        if lost:
            bits, kind = max(lost)
            notes.append(f"{s}: backward in the {BACKENDS[s].grad_form} form loses up to "
                         f"{bits:.1f} bits ({kind})")
        nan = sorted({kind for kind, row in mine if kind in EDGE and "nan/inf" in row.detail},
                     key=EDGE.index)
        if nan:
            notes.append(f"{s}: nan/inf gradient at {', '.join(nan)}, where the limit is the "
                         f"same on every path ({FRAMEWORK_NOTES.get(s, '')})")
        for kind, row in mine:
            if kind in EDGE and "nan/inf" not in row.detail and row.detail:
                notes.append(f"{s}: at {kind}, {row.detail}")
    return notes


def _timed_out(impl: Impl, rows, p: Plan) -> Result:
    """The one row of a time-out: on which case, and how many cases were not run after it."""
    not_run = max(sum(row.cases - row.checked for (_, r, _, _), row in rows.items() if r == ref)
                  for ref in p.refs)
    case = impl.hung_on
    ce = None if case is None else {**inputs(case), "got": impl.hung}
    where = f" on {case.id} ({case.describe()})" if case is not None else ""
    return Result("time limit", ERROR, group="impl",
                  detail=f"{impl.hung}{where}; {max(not_run - 1, 0)} later case(s) not run: "
                         "make it faster or raise --timeout", counterexample=ce)
