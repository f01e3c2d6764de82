"""Export a report as a handout: Markdown (with ``$$`` maths) or LaTeX.

Each result becomes a section with its verdict and its ``latex`` lines
set as an ``aligned`` block.  The format comes from the file suffix.
"""

from __future__ import annotations

import re
from pathlib import Path

from lsecheck.errors import LseError
from lsecheck.render import MARK, fmt, look
from lsecheck.results import Report

FORMATS = (".md", ".tex")


def check_path(path: str | Path, formats: tuple[str, ...] = FORMATS,
               option: str = "--export") -> Path:
    """Refuse an output path before any work is done: bad suffix, a directory, no
    folder, or a place that cannot be written.  Writability is tested by opening the
    file for appending (and removing it if it was new): ``os.access`` says yes to
    root even on read-only places such as /proc.  ``option`` names the argument."""
    p = Path(path)
    if p.suffix.lower() not in formats:
        raise LseError(
            f"{option} {path}: unknown format {p.suffix or '(none)'!r}; "
            f"use a file ending in {', '.join(formats)}"
        )
    if p.is_dir():
        raise LseError(f"{option} {path}: is a directory; name a file")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise LseError(f"{option} {path}: folder {parent} does not exist; create it first")
    existed = p.exists()
    try:
        with open(p, "ab"):
            pass
    except OSError as e:
        raise LseError(f"{option} {path}: cannot write there ({e.strerror}); "
                       "choose another path") from None
    if not existed:
        p.unlink()
    return p


def save(text: str, path: str | Path, option: str = "--export") -> Path:
    """Write ``text`` to ``path`` (UTF-8); a failure is one line naming ``option``."""
    p = Path(path)
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as e:
        raise LseError(f"{option} {path}: cannot write ({e.strerror}); choose another path") \
            from None
    return p


def write(report: Report, path: str | Path) -> Path:
    p = check_path(path)
    return save(to_markdown(report) if p.suffix.lower() == ".md" else to_latex(report), p)


def _aligned(lines: tuple[str, ...], env: str = "aligned") -> str:
    return f"\\begin{{{env}}}\n" + " \\\\\n".join(lines) + f"\n\\end{{{env}}}"


def to_markdown(report: Report) -> str:
    out = [f"# {report.title}", "", f"Verdict: **{report.verdict}**", ""]
    for r in report.results:
        head = f"## {MARK[look(r.verdict)]} {r.name}" + (f" ({r.group})" if r.group else "")
        out += [head, "", f"*{r.verdict}*" + (f" — {r.detail}" if r.detail else ""), ""]
        info = ", ".join(f"{k}: {fmt(v)}" for k, v in r.info.items())
        if info:
            out += [info, ""]
        if r.latex:
            out += ["$$", _aligned(r.latex), "$$", ""]
        if r.counterexample:
            out += ["Counterexample:", ""]
            out += [f"- {k} = {fmt(v)}" for k, v in r.counterexample.items()] + [""]
    out += [f"> {n}" for n in report.notes]
    return "\n".join(out) + "\n"


TEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "^": r"\^{}", "~": r"\~{}", "|": r"\textbar{}", "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_TEX_SPECIAL = re.compile("|".join(re.escape(c) for c in TEX_SPECIALS))

# Symbols that reach prose (details, notes, titles), declared with inputenc's
# \DeclareUnicodeCharacter so that plain pdflatex accepts them.  CJK prose
# needs xelatex or lualatex with a CJK font.
TEX_TEXT = {"−": "-", "—": "---", "–": "--", "…": r"\ldots{}"}
TEX_MATH = {
    "≈": r"\approx", "≤": r"\le", "≥": r"\ge", "≠": r"\neq", "Σ": r"\Sigma", "×": r"\times",
    "·": r"\cdot", "∂": r"\partial", "ḡ": r"\bar g", "ẑ": r"\hat z", "ℝ": r"\mathbb{R}",
    "δ": r"\delta", "τ": r"\tau", "∈": r"\in", "→": r"\to", "✓": r"\checkmark", "✗": r"\times",
    "⁺": "^{+}", "⁻": "^{-}", "ⁿ": "^n", "ᵢ": "_i", "ⱼ": "_j", "ₖ": "_k",
}
TEX_UNICODE = {**TEX_TEXT, **{ch: rf"\ensuremath{{{tex}}}" for ch, tex in TEX_MATH.items()}}

TEX_PREAMBLE = (
    r"\documentclass{article}",
    r"\usepackage{amsmath,amssymb}",
    r"\usepackage[utf8]{inputenc}",
    r"\allowdisplaybreaks",
    *(rf"\DeclareUnicodeCharacter{{{ord(ch):04X}}}{{{tex}}}" for ch, tex in TEX_UNICODE.items()),
)

TEX_MARK = {"ok": r"$\checkmark$", "warn": r"\textbf{!}", "bad": r"$\times$", "open": "?",
            "skip": r"$\cdot$"}


def tex_escape(s: str) -> str:
    """Escape prose for LaTeX (the maths is passed through untouched elsewhere)."""
    return _TEX_SPECIAL.sub(lambda m: TEX_SPECIALS[m.group()], s)  # one pass: no re-escaping


def to_latex(report: Report) -> str:
    out = [
        *TEX_PREAMBLE,
        r"\begin{document}",
        rf"\section*{{{tex_escape(report.title)}}}",
        rf"Verdict: \textbf{{{report.verdict}}}",
    ]
    for r in report.results:
        mark = TEX_MARK[look(r.verdict)]
        title = tex_escape(r.name + (f" ({r.group})" if r.group else ""))
        out.append(rf"\subsection*{{{mark} {title}}}")
        detail = f" --- {tex_escape(r.detail)}" if r.detail else ""
        out.append(rf"\emph{{{r.verdict}}}{detail}")
        if r.latex:
            out.append(_aligned(r.latex, "align*"))  # align* may break across pages
        if r.counterexample:
            items = "; ".join(f"{tex_escape(k)} = {tex_escape(fmt(v))}"
                              for k, v in r.counterexample.items())
            out.append(rf"\par Counterexample: {items}")
    out += [tex_escape(n) + r"\par" for n in report.notes]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
