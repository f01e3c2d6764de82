r"""A derivation as plain data, and its TOML file format.

Both readers produce a :class:`Derivation`: :func:`load` reads a TOML file
(``derivations/*.toml``), :mod:`lsecheck.notes` reads a Markdown note.
The checker (:mod:`lsecheck.check`) takes either.

The TOML format (LaTeX in single-quoted literal strings, no escaping)::

    title = "Gradient of the stable LogSumExp"
    declare = ['y \in \mathbb{R}^n']          # optional: free vectors/scalars
    definitions = [                            # in order; each 'name = LaTeX'
      'z_k = \max z',                          # k is the index of the maximum
      '\hat{z}_i = z_i - \max z',              # a vector, entrywise
      'f = \log \sum_{i=1}^n \exp \hat{z}_i + \max z',
    ]

    [[chain]]
    name = "z_j is not the maximum"
    case = 'j \neq k'                          # optional; '' or absent: every case
    ties = false                               # optional: an entry tied with the maximum
    steps = [
      '\frac{\partial f}{\partial z_j}',
      { latex = '\frac{\exp \hat{z}_j}{\sum_{i=1}^n \exp \hat{z}_i}', why = "chain rule" },
    ]

Every step is claimed equal to the one before it under the chain's case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lsecheck.errors import LseError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Step:
    """One expression of a chain, where it sits, and why it follows."""

    latex: str
    line: int = 0
    col: int = 0
    why: str = ""


@dataclass(frozen=True)
class Chain:
    """Steps claimed equal one after another, under ``case`` (LaTeX conditions)."""

    name: str
    steps: tuple[Step, ...]
    case: tuple[str, ...] = ()
    line: int = 0
    ties: bool = False  # also an entry τ ≠ k with z_τ = z_k (the maximum is tied)


@dataclass(frozen=True)
class Definition:
    r"""``name = LaTeX`` (``f = …``, ``\hat{z}_i = …``) or a declaration (``y \in …``)."""

    latex: str
    line: int = 0
    col: int = 0


@dataclass(frozen=True)
class Derivation:
    title: str
    path: str
    definitions: tuple[Definition, ...] = ()
    chains: tuple[Chain, ...] = ()
    notes: tuple[str, ...] = field(default=())


def read_text(path: str | Path, what: str = "FILE") -> str:
    """A file's text, or one clear LseError (missing, a directory, not UTF-8)."""
    p = Path(path)
    if p.is_dir():
        raise LseError(f"{what} {path}: is a directory; name files (e.g. {path}/*.toml)")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise LseError(f"{what} {path}: no such file; check the path") from None
    except OSError as e:
        raise LseError(f"{what} {path}: cannot read ({e.strerror}); check permissions") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise LseError(f"{what} {path}: not UTF-8 (byte {data[e.start]:#04x} on line {line}); "
                       "save it as UTF-8") from None


class _Locator:
    """Line/column of strings in the raw TOML text, searched in order."""

    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def find(self, s: str) -> tuple[int, int]:
        """Position of ``s`` as a quoted TOML string (or bare), after the previous one."""
        at = -1
        for q in ("'", '"', ""):
            at = self.text.find(q + s + q, self.pos)
            if at >= 0:
                at += len(q)
                break
        if at < 0:
            return 0, 0
        self.pos = at + len(s)
        line = self.text.count("\n", 0, at) + 1
        return line, at - (self.text.rfind("\n", 0, at) + 1) + 1


def _str(value, where: str) -> str:
    if not isinstance(value, str):
        raise LseError(f"{where}: expected a LaTeX string, got {type(value).__name__}")
    return value


def _strings(value, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(_str(v, where) for v in value)
    raise LseError(f"{where}: expected a string or a list of strings")


def loads(text: str, path: str = "<toml>") -> Derivation:
    """A derivation from TOML text (see the module docstring for the format)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise LseError(f"{path}: not valid TOML ({e}); see docs/check.md for the format") from None
    loc = _Locator(text)
    known = {"title", "declare", "definitions", "chain", "notes"}
    extra = sorted(set(data) - known)
    if extra:
        raise LseError(f"{path}: unknown key {extra[0]!r}; keys are {', '.join(sorted(known))}")
    title = data.get("title", Path(path).stem)
    if not isinstance(title, str):
        raise LseError(f"{path}: title must be a string")
    defs = []
    for key in ("declare", "definitions"):
        for s in _strings(data.get(key), f"{path}: {key}"):
            defs.append(Definition(s, *loc.find(s)))
    chains_data = data.get("chain", [])
    if not isinstance(chains_data, list) or not all(isinstance(c, dict) for c in chains_data):
        raise LseError(f"{path}: write each chain as a [[chain]] table")
    chains = []
    for num, c in enumerate(chains_data, 1):
        where = f"{path}: chain {num}"
        name = c.get("name", f"chain {num}")
        if not isinstance(name, str):
            raise LseError(f"{where}: name must be a string")
        line = loc.find(name)[0] if "name" in c else 0
        case = _strings(c.get("case"), f"{where}: case")
        steps = []
        raw = c.get("steps", c.get("step", []))
        if not isinstance(raw, list):
            raise LseError(f"{where}: steps must be a list of LaTeX strings")
        for s in raw:
            if isinstance(s, dict):
                latex, why = _str(s.get("latex"), f"{where}: step latex"), s.get("why", "")
                if not isinstance(why, str):
                    raise LseError(f"{where}: 'why' must be a string")
            else:
                latex, why = _str(s, f"{where}: step"), ""
            steps.append(Step(latex, *loc.find(latex), why=why))
        if len(steps) < 2:
            label = f"{where} ({name})" if "name" in c else where
            raise LseError(f"{label}: a chain needs at least two steps "
                           f"(it has {len(steps)}); add the steps to check")
        ties = c.get("ties", False)
        if not isinstance(ties, bool):
            raise LseError(f"{where}: ties must be true or false")
        extra = sorted(set(c) - {"name", "case", "steps", "step", "ties"})
        if extra:
            raise LseError(f"{where}: unknown key {extra[0]!r}; keys are name, case, ties, steps")
        chains.append(Chain(name, tuple(steps), case, line, ties))
    if not chains:
        raise LseError(f"{path}: no [[chain]] to check; add one with at least two steps")
    notes = _strings(data.get("notes"), f"{path}: notes")
    return Derivation(title, str(path), tuple(defs), tuple(chains), notes)


def load(path: str | Path) -> Derivation:
    """Read a derivation file (TOML)."""
    return loads(read_text(path), str(path))
