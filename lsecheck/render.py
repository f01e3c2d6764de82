"""Render a :class:`~lsecheck.results.Report`: rich tables and JSON.

The one place that turns results into text for a terminal.  ``rich`` is
imported only when a report is actually rendered.

On a console narrower than a table would need (its columns at their natural
width plus ``DETAIL_ROOM`` for the detail), :func:`render` keeps the report's
``narrow_columns`` (all columns if it names none), and each detail that would
not fit on one line (and is longer than ``DETAIL_SHORT``) becomes a numbered
footnote (``[1]``), printed in full under the tables.  ``--json`` and
``--export`` never go through this: they get every column and every detail.
"""

from __future__ import annotations

import json
import math
from typing import Any

from lsecheck.results import FLAGGED, KIND, Report, Result

# How verdicts look, by the kind of :func:`look`.  'flagged' counts as ok (exit 0)
# but is shown apart, amber with '!': a green tick would read as "fine" where the
# point is a warning (precision loss, an edge-case deviation).
STYLE = {"ok": "green", "warn": "yellow", "skip": "dim", "open": "yellow", "bad": "bold red"}
MARK = {"ok": "✓", "warn": "!", "skip": "·", "open": "?", "bad": "✗"}
DETAIL_ROOM = 16  # terminal cells: a detail column narrower than this reads badly
DETAIL_SHORT = 20  # cells: a detail this short stays in the table (the others give way)

_console = None


def console(file=None, width: int = 120):
    """The one shared rich Console (stdout), or a new one writing to ``file``
    (``width`` columns: tests, and files read outside a terminal)."""
    global _console
    from rich.console import Console

    if file is not None:
        return Console(file=file, width=width, highlight=False)
    if _console is None:
        _console = Console(highlight=False)
    return _console


def fmt(value: Any) -> str:
    """Format a cell: floats compactly, seconds with a unit left to callers."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value == 0:
            return "0"
        if 1e-3 <= abs(value) < 1e5:
            return f"{value:.4g}"
        return f"{value:.3e}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(fmt(v) for v in value) + ")"
    if value is None:
        return "—"
    return str(value)


def look(verdict: str) -> str:
    """The display kind of a verdict: its results kind, but 'warn' for flagged."""
    return "warn" if verdict == FLAGGED else KIND.get(verdict, "skip")


def verdict_text(verdict: str):
    from rich.text import Text

    kind = look(verdict)
    return Text(f"{MARK[kind]} {verdict}", style=STYLE[kind])


def render(report: Report, con=None) -> None:
    """Print ``report`` as one table a group, then notes and the verdict; on a narrow
    console with fewer columns and long details as footnotes (see the module docstring)."""
    from rich.table import Table
    from rich.text import Text

    con = con or console()
    groups: dict[str, list[Result]] = {}
    for r in report.results:
        groups.setdefault(r.group, []).append(r)
    columns = report.columns
    if report.narrow_columns and any(_fold(report, rows, columns, con.width) is not None
                                     for rows in groups.values()):
        columns = tuple(c for c in columns if c in report.narrow_columns)
    footnotes: list[str] = []
    for group, rows in groups.items():
        title = report.title + (f" — {group}" if group else "")
        room = _fold(report, rows, columns, con.width)  # None: every detail fits
        table = Table(title=title, title_justify="left", show_lines=False)
        table.add_column("name", overflow="fold")
        for col in columns:
            table.add_column(col, overflow="fold")
        table.add_column("verdict", no_wrap=True)
        table.add_column("detail", overflow="fold")
        for r in rows:
            detail = r.detail
            if room is not None and _cells(detail) > max(room, DETAIL_SHORT):
                footnotes.append(f"[{len(footnotes) + 1}] {_where(r)}: {detail}")
                detail = f"[{len(footnotes)}]"
            cells = [fmt(r.info.get(c)) for c in columns]
            table.add_row(r.name, *cells, verdict_text(r.verdict), detail)
        con.print(table)
    shown: list = []  # a counterexample shared by several rows is printed once
    for r in report.results:
        if r.counterexample and r.counterexample not in shown:
            shown.append(r.counterexample)
            con.print(Text(f"counterexample for {r.name}:", style=STYLE["bad"]))
            for key, value in r.counterexample.items():
                con.print(f"  {key} = {fmt(value)}")
    for note in footnotes:
        con.print(Text(note))
    for note in report.notes:
        con.print(Text(note, style="dim"))
    con.print(verdict_line(report))


def verdict_line(report: Report):
    """The closing line: ``command: verdict (counts)``, styled by the verdict."""
    from rich.text import Text

    counts = ", ".join(f"{n} {v}" for v, n in report.counts().items())
    kind = {"verified": "ok", "refuted": "bad", "undecided": "open"}[report.verdict]
    line = Text(f"{report.command}: {report.verdict}", style=STYLE[kind])
    line.append(f" ({counts})" if counts else " (nothing checked)", style="")
    return line


def _cells(text: str) -> int:
    """Terminal cells of the longest line of ``text``."""
    from rich.cells import cell_len

    return max((cell_len(line) for line in str(text).split("\n")), default=0)


def _fold(report: Report, rows: list[Result], columns, width: int) -> int | None:
    """The room left for details in this table when some do not fit it, else None."""
    room = _room(report, rows, columns, width)
    longest = max((_cells(r.detail) for r in rows), default=0)
    return room if room < DETAIL_ROOM and longest > room else None


def _room(report: Report, rows: list[Result], columns, width: int) -> int:
    """Cells left for the detail column when every other column of this table has its
    natural width (rich's default box: a border and one space each side a cell)."""
    fixed = max((_cells(r.name) for r in rows), default=0)
    fixed = max(fixed, len("name"))
    for c in columns:
        fixed += max([_cells(c)] + [_cells(fmt(r.info.get(c))) for r in rows])
    fixed += max([len("verdict")] + [_cells(f"{MARK[look(r.verdict)]} {r.verdict}")
                                     for r in rows])
    return width - fixed - 3 * (len(columns) + 3) - 1


def _where(r: Result) -> str:
    return f"{r.group}, {r.name}" if r.group else r.name


def _plain(value: Any) -> Any:
    """Make ``value`` JSON-safe: non-finite floats become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return str(value)


def to_dict(report: Report) -> dict:
    """The ``--json`` object.  Schema in README.md ("JSON output")."""
    results = []
    for r in report.results:
        row = {"name": r.name, "verdict": r.verdict, "group": r.group, "detail": r.detail}
        row.update(_plain(dict(r.info)))
        if r.counterexample is not None:
            row["counterexample"] = _plain(dict(r.counterexample))
        results.append(row)
    return {
        "command": report.command,
        "verdict": report.verdict,
        "exit_code": report.exit_code,
        "counts": report.counts(),
        "results": results,
        "notes": list(report.notes),
        "meta": _plain(dict(report.meta)),
    }


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False)
