r"""Read the derivations out of a Markdown note, as published.

Maths is read from ``$$ … $$``, ``\begin{align*} … \end{align*}`` (also
``align``, ``aligned``, ``equation``, ``gather``) and Hugo
``{{< math_block >}} … {{< /math_block >}}`` shortcodes.  Front matter
(``---``/``+++``), fenced code blocks and prose (in any language) are passed
over.  Every step keeps its line and column in the note.

What a block is, from its rows:

* ``z \in \mathbb{R}^n`` — a declaration; ``z_k = \max z`` — k is the argmax;
* ``f = A \\ &= B`` with ``f`` a new name — a definition (``f = A``), and the
  rows after it a chain checked like any other (``A = B``);
* anything else — a chain: every side of every row, in order.

The case of a chain comes from the inline maths of the prose just before the
block (the note says "当 $z_j\neq z_k$ 时" before its first chain), or from
a sidecar TOML the user names::

    definitions = ['f = \log \sum_{i=1}^n \exp \hat{z}_i + \max z']
    ties = [4]         # blocks also checked with an entry tied with the maximum
    [cases]            # block number (as the report shows it) -> condition
    2 = 'j \neq k'
    3 = 'j = k'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lsecheck import latex
from lsecheck.derivation import Chain, Definition, Derivation, Step, read_text
from lsecheck.errors import LseError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ENVS = r"align\*?|aligned|equation\*?|gather\*?|gathered|split"
OPEN_BLOCK = re.compile(r"\{\{<\s*math_block\s*>\}\}|\$\$|\\begin\{(" + ENVS + r")\}")
CLOSE_SHORTCODE = re.compile(r"\{\{<\s*/math_block\s*>\}\}")
ENV_MARK = re.compile(r"\\(begin|end)\{(" + ENVS + r")\}|\\(label|tag)\{[^{}]*\}")
FENCE = re.compile(r"^\s*(```+|~~~+)")
INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$(?!\$)")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Block:
    """A display-maths block: its text (environment markers blanked) and place."""

    number: int
    text: str
    line: int
    col: int
    heading: str = ""
    prose_math: tuple[str, ...] = ()  # inline maths of the prose before it


def blocks(text: str, path: str = "<note>") -> list[Block]:
    """The display-maths blocks of a Markdown text, with the prose maths before each."""
    lines = text.split("\n")
    out: list[Block] = []
    inline: list[str] = []
    heading = ""
    li = 0
    if lines and lines[0].strip() in ("---", "+++"):  # front matter
        end = next((x for x in range(1, len(lines)) if lines[x].strip() == lines[0].strip()),
                   None)
        li = (end + 1) if end is not None else len(lines)
    while li < len(lines):
        line = lines[li]
        m = FENCE.match(line)
        if m:  # code block: skip to the closing fence
            mark = m.group(1)[0] * 3
            li += 1
            while li < len(lines) and not lines[li].lstrip().startswith(mark):
                li += 1
            li += 1
            continue
        h = HEADING.match(line)
        if h:
            heading, inline = h.group(1), []
            li += 1
            continue
        prose = re.sub(r"`[^`]*`", lambda x: " " * len(x.group()), line)
        m = OPEN_BLOCK.search(prose)
        if not m:
            inline += [x.group(1) for x in INLINE.finditer(prose)]
            li += 1
            continue
        inline += [x.group(1) for x in INLINE.finditer(prose[: m.start()])]
        found = _block_end(lines, li, m)
        if found is None:  # never closed: the rest is not maths we can place
            raise LseError(f"{path}:{li + 1}:{m.start() + 1}: {m.group()} is never closed; "
                           "close the block")
        (eline, ecol), (bline, bcol), body = found
        out.append(Block(len(out) + 1, body, bline + 1, bcol + 1, heading, tuple(inline)))
        inline = []
        li = eline + 1
        rest = lines[eline][ecol:] if eline < len(lines) else ""
        if rest.strip():  # prose after the block on the same line
            inline += [x.group(1) for x in INLINE.finditer(rest)]
    return out


def _block_end(lines, li, m):
    """((end line, end col), (start line, start col), body) of a block opened by ``m``."""
    opener = m.group()
    if opener.startswith("{{"):
        close = CLOSE_SHORTCODE
    elif opener == "$$":
        close = re.compile(r"\$\$")
    else:
        close = re.compile(r"\\end\{" + re.escape(m.group(1)) + r"\}")
    start_line, start_col = li, m.end()
    keep_env = not opener.startswith(("{{", "$$"))
    if keep_env:
        start_col = m.start()
    x, col = li, m.end()
    while x < len(lines):
        c = close.search(lines[x], col)
        if c:
            body_end = c.end() if keep_env else c.start()
            parts = [lines[start_line][start_col:]] if x > start_line else []
            if x == start_line:
                parts = [lines[x][start_col:body_end]]
            else:
                parts += lines[start_line + 1:x] + [lines[x][:body_end]]
            body = ENV_MARK.sub(lambda e: " " * len(e.group()), "\n".join(parts))
            return (x, c.end()), (start_line, start_col), body
        x, col = x + 1, 0
    return None


# ---- from blocks to a derivation --------------------------------------------

def _is_name(e) -> bool:
    """A definable name: f, \\hat{z}, s_j (not z, not a number)."""
    import sympy as sp

    from lsecheck.latex import Z

    if isinstance(e, sp.Symbol):
        return e.name not in ("n",)
    if isinstance(e, sp.IndexedBase):
        return e != Z()
    if isinstance(e, sp.Indexed):
        return e.base != Z()
    return False


def _is_argmax(row) -> bool:
    import sympy as sp

    from lsecheck.latex import MAXZ, Z

    exprs = [s.expr for s in row.sides]
    return (len(exprs) == 2 and isinstance(exprs[0], sp.Indexed) and exprs[0].base == Z()
            and exprs[1] == MAXZ())


def _case_of(prose_math) -> tuple[str, ...]:
    r"""Conditions among z_j, z_k (or j, k) stated in the prose maths."""
    import sympy as sp

    from lsecheck.latex import Z

    out = []
    for m in prose_math:
        try:
            rows = latex.parse_block(m)
        except LseError:
            continue
        for r in rows:
            ex = [s.expr for s in r.sides]
            if len(ex) != 2 or r.rels[0] not in ("=", r"\neq", r"\ne") or None in ex:
                continue
            if all(isinstance(e, sp.Symbol) and len(e.name) == 1 and e.name != "n"
                   or isinstance(e, sp.Indexed) and e.base == Z() for e in ex):
                out.append(m.strip())
    return tuple(out)


def _not_equality(row, first) -> bool:
    r"""A row relating its sides by something other than ``=`` (a declaration
    ``z \in \mathbb{R}^n`` that starts a row excepted)."""
    if all(x == "=" for x in row.rels):
        return False
    return not (row.rels == (r"\in",) and first is not None and first.expr is not None)


def _step(side, row) -> Step:
    return Step(side.text, side.line, side.col, why=row.why)


def _row_step(row) -> Step:
    """A row that is not an expression, kept whole (the checker says why)."""
    text = re.sub(r"^[\s&]*=\s*", "", row.text) if row.shorthand else row.text
    return Step(text, row.line, row.col, why=row.why)


def read(text: str, path: str = "<note>", sidecar: str | Path | None = None) -> Derivation:
    """A derivation from a Markdown note (and an optional sidecar TOML)."""
    side = _sidecar(sidecar) if sidecar is not None else {}
    defs = [Definition(s) for s in side.get("declare", []) + side.get("definitions", [])]
    defined: set[str] = set()
    chains: list[Chain] = []
    found = blocks(text, path)
    if not found:
        raise LseError(f"{path}: no display maths ($$…$$, align*, math_block) to check")
    for b in found:
        rows = latex.parse_block(b.text, path, b.line, b.col)
        case = tuple(side.get("cases", {}).get(str(b.number), ())) or _case_of(b.prose_math)
        ties = b.number in side.get("ties", ())
        label = f"block {b.number}" + (f": {b.heading}" if b.heading else "")
        current: list[Step] = []
        name = label

        def close(name, current=current, case=case, ties=ties):
            if len(current) >= 2:
                chains.append(Chain(name, tuple(current), case, current[0].line, ties))
            current.clear()

        for r in rows:
            first = r.sides[0] if r.checkable and r.sides else None
            if r.checkable and _not_equality(r, first):
                # a \neq b (or \in mid-chain) claims no equality: list it, end the chain
                current.append(_row_step(r))
                close(name)
                name = label
                if r.sides[-1].expr is not None:  # b \neq c = d: a new chain from c
                    current.append(_step(r.sides[-1], r))
                continue
            if first is not None and first.expr is not None:  # a row that starts afresh
                close(name)
                name = label
                if r.rels and r.rels[0] == r"\in":
                    defs.append(Definition(r.text, r.line, r.col))
                    continue
                if _is_argmax(r):
                    defs.append(Definition(r.text, r.line, r.col))
                    continue
                if r.rels == ("=",) * len(r.rels) and r.rels and _is_name(first.expr) \
                        and str(first.expr) not in defined:
                    defined.add(str(first.expr))
                    defs.append(Definition(r.text, r.line, r.col))
                    name = f"{label} (definition of {first.text})"
                    current.extend(_step(s, r) for s in r.sides[1:])
                    continue
                current.extend(_step(s, r) for s in r.sides)
            elif r.checkable:
                current.extend(_step(s, r) for s in r.sides[1:])
            else:
                current.append(_row_step(r))
        close(name)
    if not chains:
        raise LseError(f"{path}: no chain of equal steps (a = b) to check in its maths")
    title = _title(text) or Path(path).name
    return Derivation(title, path, tuple(defs), tuple(chains))


def _title(text: str) -> str:
    m = re.search(r"^title:\s*(.+)$", text[:2000], re.M)
    return m.group(1).strip().strip("'\"") if m else ""


def _sidecar(path) -> dict:
    raw = read_text(path, "--sidecar")
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as e:
        raise LseError(f"--sidecar {path}: not valid TOML ({e})") from None
    out: dict = {"declare": [], "definitions": [], "cases": {}}
    for key in ("declare", "definitions"):
        v = data.get(key, [])
        v = [v] if isinstance(v, str) else v
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise LseError(f"--sidecar {path}: {key} must be a list of LaTeX strings")
        out[key] = list(v)
    cases = data.get("cases", {})
    if not isinstance(cases, dict):
        raise LseError(f"--sidecar {path}: [cases] maps block numbers to conditions")
    for k, v in cases.items():
        v = [v] if isinstance(v, str) else v
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise LseError(f"--sidecar {path}: cases.{k} must be a LaTeX condition")
        out["cases"][str(k)] = tuple(v)
    ties = data.get("ties", [])
    if not isinstance(ties, list) or not all(isinstance(t, int) for t in ties):
        raise LseError(f"--sidecar {path}: ties is a list of block numbers, e.g. ties = [3]")
    out["ties"] = tuple(ties)
    extra = sorted(set(data) - {"declare", "definitions", "cases", "ties"})
    if extra:
        raise LseError(f"--sidecar {path}: unknown key {extra[0]!r}; "
                       "keys are declare, definitions, cases, ties")
    return out


def load(path: str | Path, sidecar: str | Path | None = None) -> Derivation:
    """Read a Markdown note."""
    return read(read_text(path), str(path), sidecar)
