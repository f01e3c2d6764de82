"""Results as plain data: every command returns a :class:`Report`.

A report is a tuple of :class:`Result` rows.  Rendering (terminal, JSON,
Markdown, LaTeX) lives in :mod:`lsecheck.render` and :mod:`lsecheck.export`;
nothing here prints.

Verdicts of single results and what they weigh in the report's verdict:

=============== ====== ==========================================
verdict          kind   meaning
=============== ====== ==========================================
proved           ok     SymPy reduced the difference to exactly 0
passed           ok     a numeric comparison within tolerance
flagged          ok     passes, with a warning (e.g. precision loss)
not checkable    skip   not an expression (prose, shorthand); bridged
skipped          skip   not run (e.g. a backend is not installed)
undecided        open   not reduced and not refuted
refuted          bad    a counterexample shows the claim false
failed           bad    a numeric mismatch
error            bad    the computation itself failed
=============== ====== ==========================================

The report verdict is ``refuted`` if any result is bad, else ``undecided``
if any is open or none is ok (nothing was actually verified: an empty report,
or only skipped and not-checkable rows, is never a pass), else ``verified``.
Exit codes: 0 verified, 1 refuted, 2 usage or input error, 3 undecided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROVED, PASSED, FLAGGED = "proved", "passed", "flagged"
NOT_CHECKABLE, SKIPPED = "not checkable", "skipped"
UNDECIDED = "undecided"
REFUTED, FAILED, ERROR = "refuted", "failed", "error"

KIND = {
    PROVED: "ok", PASSED: "ok", FLAGGED: "ok",
    NOT_CHECKABLE: "skip", SKIPPED: "skip",
    UNDECIDED: "open",
    REFUTED: "bad", FAILED: "bad", ERROR: "bad",
}

VERIFIED = "verified"  # report verdicts: verified | refuted | undecided | error
EXIT_CODE = {VERIFIED: 0, REFUTED: 1, "error": 2, UNDECIDED: 3}


@dataclass(frozen=True)
class Result:
    """One checked thing: a theorem, a derivation step, a numeric case.

    ``info`` holds the table columns in order (``case``, ``n``, ``time`` …);
    ``counterexample`` holds concrete values where the verdict is bad;
    ``latex`` holds the maths for handouts, one line a step.
    """

    name: str
    verdict: str
    group: str = ""
    detail: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)
    counterexample: Mapping[str, Any] | None = None
    latex: tuple[str, ...] = ()

    def __post_init__(self):
        if self.verdict not in KIND:
            raise ValueError(f"Result: unknown verdict {self.verdict!r}")

    @property
    def kind(self) -> str:
        return KIND[self.verdict]


@dataclass(frozen=True)
class Report:
    """What a command found.  ``columns`` names the ``info`` keys shown;
    ``narrow_columns`` those of them kept on a narrow terminal (none named: all)."""

    command: str
    title: str
    results: tuple[Result, ...]
    columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    narrow_columns: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        kinds = {r.kind for r in self.results}
        if "bad" in kinds:
            return REFUTED
        if "open" in kinds or "ok" not in kinds:
            return UNDECIDED
        return VERIFIED

    @property
    def exit_code(self) -> int:
        return EXIT_CODE[self.verdict]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.verdict] = out.get(r.verdict, 0) + 1
        return out
