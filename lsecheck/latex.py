r"""Read the LaTeX of a hand-written derivation into SymPy.

The grammar is ``grammar.lark`` (LALR, lark).  A block of rows
(``a &= b \\ &= c``) is lexed once; then, before parsing,

* rows are split at ``\\`` and ``&`` is dropped;
* braces that are not a macro argument are removed, because LaTeX does not
  typeset them: ``\log{\sum_i x_i}+c`` is read as it renders, log(Σx)+c
  (the note needs this: ``\partial{(\log{\sum\exp\hat z_i)}}`` interleaves
  its braces and parentheses);
* a row that starts with ``\text{…}`` is prose; ``\text{…}`` at the end of a
  row is its justification;
* any other macro is an error naming it.

The SymPy model: ``z_i`` is ``Indexed(z, i)`` with ``z = IndexedBase('z')``
(so Σ exp z_i depends on every entry); ``\hat z_i`` is ``Indexed(ẑ, i)``;
``\max z`` is the symbol :data:`MAXZ`; a conditional sum
``\sum_{i \neq j} g`` is ``Sum(Piecewise((g, Ne(i, j)), (0, True)), (i, 1, n))``;
``\frac{\partial X}{\partial z_j}`` is an unevaluated ``Derivative(X, z[j])``.
The chain-rule shorthand ``\frac{\partial(\log S)}{S}\cdot\frac{S}{\partial z_j}``
(∂ on one side of a fraction only) is not an expression: the row comes back
with ``shorthand`` set to the reason.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from lsecheck.errors import LseError

ARG_TAKERS = {"FRAC": 2, "HAT": 1, "MATHBB": 1, "UNDERSCORE": 1, "CARET": 1}
OPEN = {"LPAR": "RPAR", "LBRACK": "RBRACK", "LBRACE": "RBRACE"}
WINDOW = 60  # characters of the fragment shown around an error


@dataclass(frozen=True)
class Side:
    """One side of a row (``expr`` is None when the row is not checkable)."""

    expr: object
    text: str
    line: int
    col: int


@dataclass(frozen=True)
class Row:
    r"""One row of a block: sides joined by relations (``=``, ``\neq``, ``\in``)."""

    sides: tuple[Side, ...]
    rels: tuple[str, ...]
    text: str
    line: int
    col: int
    prose: str = ""       # the row is prose (\text{…}): why it is not checkable
    shorthand: str = ""   # the row is not an expression: why
    why: str = ""         # a trailing \text{…}: the justification

    @property
    def checkable(self) -> bool:
        return not (self.prose or self.shorthand)


# ---- the symbols of the model -------------------------------------------------

@lru_cache(maxsize=1)
def _sp():
    import sympy

    return sympy


@cache
def index(name: str):
    """The index symbol ``name`` (a positive integer, as in lsecheck.symbolic)."""
    if name == "n":
        return N()
    return _sp().Symbol(name, integer=True, positive=True)


def N():
    """The length of z (:data:`lsecheck.symbolic.n`)."""
    from lsecheck.symbolic import n

    return n


@cache
def vector(name: str):
    if name == "z":
        from lsecheck.symbolic import z

        return z
    return _sp().IndexedBase(name, real=True)


def Z():
    return vector("z")


@lru_cache(maxsize=1)
def MAXZ():
    return _sp().Symbol("max(z)", real=True)


@cache
def scalar(name: str):
    return _sp().Symbol(name, real=True)


@lru_cache(maxsize=1)
def REALS():
    return _sp().Symbol("ℝ")


# ---- lexing and parsing -------------------------------------------------------

@lru_cache(maxsize=1)
def _lark():
    from lark import Lark

    grammar = Path(__file__).with_name("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, start=["row", "block_tokens"], parser="lalr", lexer="basic")


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


class Source:
    """Where a piece of LaTeX sits in its file, to give positions in errors."""

    def __init__(self, text: str, where: str = "<latex>", line: int = 1, col: int = 1):
        self.text, self.where, self.line, self.col = text, where, line, col

    def position(self, pos: int) -> tuple[int, int]:
        """File (line, column), 1-based, of character offset ``pos`` in the text."""
        pos = max(0, min(pos, len(self.text)))
        before = self.text[:pos]
        nl = before.count("\n")
        col = pos - (before.rfind("\n") + 1) + 1
        return self.line + nl, (self.col + col - 1) if nl == 0 else col

    def error(self, pos: int, message: str) -> LseError:
        """An LseError: ``file:line:col: message``, the fragment, a caret under it."""
        line, col = self.position(pos)
        start = self.text.rfind("\n", 0, pos) + 1
        end = self.text.find("\n", pos)
        end = len(self.text) if end < 0 else end
        lo = max(start, pos - WINDOW // 2)
        hi = min(end, max(pos + WINDOW // 2, lo + WINDOW))
        frag = self.text[lo:hi].replace("\t", " ")
        pre = ("…" if lo > start else "") + frag[: pos - lo]
        frag = ("…" if lo > start else "") + frag + ("…" if hi < end else "")
        return LseError(f"{self.where}:{line}:{col}: {message}\n  {frag}\n  {' ' * _width(pre)}^")


def _describe(tok) -> str:
    return "end of row" if tok is None or tok.type == "$END" else repr(str(tok))


HINT = {
    "RBRACE": "remove it or add the matching '{'",
    "RPAR": "remove it or add the matching '('",
    "RBRACK": "remove it or add the matching '['",
    "$END": "the row ends too early; complete the expression",
}


def lex(src: Source) -> list:
    """Tokens of ``src.text``: lark's lexer, errors with a position."""
    from lark.exceptions import UnexpectedCharacters

    try:
        return list(_lark().lex(src.text))
    except UnexpectedCharacters as e:
        ch = src.text[e.pos_in_stream] if e.pos_in_stream < len(src.text) else ""
        raise src.error(e.pos_in_stream,
                        f"cannot read LaTeX: unexpected character {ch!r}; "
                        "lsecheck reads the subset listed in docs/check.md") from None


def split_rows(tokens: list, src: Source) -> list[list]:
    r"""Split at ``\\`` (outside braces); drop ``&``; check that braces balance.

    Parentheses are checked later (:func:`check_brackets`), once the braces
    that only group are gone: ``{(\log{x)}}`` is fine LaTeX.
    """
    rows, cur, depth = [], [], []
    for t in tokens:
        if t.type == "AMP":
            continue
        if t.type == "NEWROW":
            if depth:
                raise src.error(t.start_pos, r"cannot read LaTeX: '\\' inside {…}; close it first")
            rows.append(cur)
            cur = []
            continue
        if t.type == "LBRACE":
            depth.append(t)
        elif t.type == "RBRACE":
            if not depth:
                raise src.error(t.start_pos, f"cannot read LaTeX: unmatched '}}'; {HINT['RBRACE']}")
            depth.pop()
        cur.append(t)
    if depth:
        raise src.error(depth[-1].start_pos, "cannot read LaTeX: '{' is never closed; add '}'")
    rows.append(cur)
    return rows


def check_brackets(tokens: list, src: Source) -> None:
    """Parentheses, brackets and argument braces nest properly."""
    depth = []
    for t in tokens:
        if t.type in OPEN:
            depth.append(t)
        elif t.type in OPEN.values():
            if not depth or OPEN[depth[-1].type] != t.type:
                want = f"'{_close_char(depth[-1])}'" if depth else "nothing"
                raise src.error(t.start_pos, f"cannot read LaTeX: unmatched {str(t)!r} "
                                f"(expected {want} here); {HINT[t.type]}")
            depth.pop()
    if depth:
        t = depth[-1]
        raise src.error(t.start_pos, f"cannot read LaTeX: {str(t)!r} is never closed; "
                        f"add '{_close_char(t)}'")


def _close_char(tok) -> str:
    return {"LPAR": ")", "LBRACK": "]", "LBRACE": "}"}[tok.type]


def drop_group_braces(tokens: list) -> list:
    """Remove the braces that are not a macro argument (they do not typeset).

    ``\\frac`` takes two arguments; ``\\hat``, ``\\mathbb``, ``_`` and ``^``
    one.  Brackets are balanced already (:func:`split_rows`).
    """
    out, stack, expect = [], [], 0
    for t in tokens:
        if t.type == "LBRACE":
            keep = expect > 0
            stack.append((keep, expect - 1 if keep else 0))
            expect = 0
            if keep:
                out.append(t)
            continue
        if t.type == "RBRACE":
            keep, more = stack.pop()
            if keep:
                out.append(t)
            expect = more
            continue
        expect = ARG_TAKERS.get(t.type, 0)
        out.append(t)
    return out


def _split_scripts(tokens: list) -> list:
    """``z_12`` in LaTeX is z_1 2: a script takes one digit."""
    from lark import Token

    out = []
    for t in tokens:
        if t.type == "NUMBER" and out and out[-1].type in ("UNDERSCORE", "CARET") and len(t) > 1:
            out.append(Token.new_borrow_pos("NUMBER", t[0], t))
            rest = Token("NUMBER", t[1:], start_pos=t.start_pos + 1, line=t.line,
                         column=t.column + 1, end_pos=t.end_pos)
            out.append(rest)
        else:
            out.append(t)
    return out


class _Shorthand(Exception):
    pass


class _Names:
    """Record of the symbols a row uses, with their tokens (for 'undefined')."""

    def __init__(self):
        self.used: list = []


@lru_cache(maxsize=1)
def _transformer_class():
    """The lark Transformer to SymPy (built once; each row gets an instance)."""
    from lark import Transformer, v_args

    sp = _sp()

    def script_index(s):
        """A subscript as an index: i, 1, {i+1}; None if it is a condition."""
        return s[0] if s[1] is None else None

    @v_args(inline=True)
    class ToSympy(Transformer):
        def number(self, tok):
            return sp.Rational(str(tok))

        def letter(self, tok):
            return ("letter", str(tok), tok)

        def greek(self, tok):
            return ("letter", str(tok), tok)

        def hat(self, mac, *rest):
            letter = [t for t in rest if getattr(t, "type", "") == "LETTER"][0]
            kind = str(mac).lstrip("\\")
            kind = {"widehat": "hat", "overline": "bar"}.get(kind, kind)
            return ("letter", f"\\{kind}{{{letter}}}", letter)

        def var(self, name, sub_tok=None, sub=None):
            _, label, tok = name
            if sub is not None:
                idx = script_index(sub)
                if idx is None:
                    raise LseError(f"a condition cannot be the subscript of {label}")
                if label == r"\delta":
                    return _delta(sub, tok)
                self.names.used.append((label, tok, "vector"))
                return vector(label)[idx]
            if label == "z" or label.startswith("\\hat") and label.endswith("{z}"):
                self.names.used.append((label, tok, "vector"))
                return vector(label)
            if label == "n":
                return N()
            if label == "e":
                self.names.used.append((label, tok, "e"))
                return scalar("e")
            self.names.used.append((label, tok, "scalar"))
            return scalar(label)

        def s_letter(self, tok):
            return (index(str(tok)), None, tok)

        def s_number(self, tok):
            return (sp.Integer(int(str(tok))), None, tok)

        def s_group(self, lb, a, rel=None, b=None, rb=None):
            # letters inside a script are indices, not symbols to define
            inside = [u for u in self.names.used if lb.start_pos < u[1].start_pos
                      and (rb is None or u[1].start_pos < rb.start_pos) and u[2] == "scalar"]
            swap = {scalar(label): index(label) for label, _, _ in inside if len(label) == 1}
            self.names.used[:] = [u for u in self.names.used if u not in inside or len(u[0]) != 1]
            a = a.xreplace(swap) if hasattr(a, "xreplace") else a
            if rel is None:
                return (a, None, lb)
            b = b.xreplace(swap) if hasattr(b, "xreplace") else b
            return (a, (str(rel), b), lb)

        def add(self, a, _, b):
            return a + b

        def sub(self, a, _, b):
            return a - b

        def neg(self, _, a):
            return -a

        def pos(self, _, a):
            return a

        def mul(self, a, _, b):
            return a * b

        def div(self, a, _, b):
            return a / b

        def juxt(self, a, b):
            if isinstance(b, sp.IndexedBase) and isinstance(a, sp.Symbol):
                return a  # f(z): a function of the vector z, i.e. f itself
            return a * b

        def power(self, a, _, s):
            e = s[0]
            if a == scalar("e"):
                return sp.exp(e)
            return a ** e

        def paren(self, _, e, __):
            return e

        def set(self, _, __, letter, ___):
            if str(letter) != "R":
                raise LseError(f"\\mathbb{{{letter}}}: only \\mathbb{{R}} is read")
            return REALS()

        def func(self, tok, *rest):
            arg = rest[-1]
            name = str(tok).lstrip("\\")
            if name in ("log", "ln"):
                return sp.log(arg)
            if name == "exp":
                return sp.exp(arg)
            # \max z, \max{z}, \max(z), \max_i z_i: the largest entry of z
            z = Z()
            if arg == z or (rest[0] is not None and isinstance(arg, sp.Indexed)
                            and arg.base == z):
                return MAXZ()
            raise _Unsupported(tok, r"\max: only \max z (the largest entry of z) is read")

        def sum(self, tok, _u, sub, _c, sup, summand):
            var, lo, cond = None, sp.Integer(1), None
            if sub is not None:
                a, rel = sub[0], sub[1]
                if rel is None:
                    var = a
                else:
                    op, b = rel
                    if isinstance(a, sp.Symbol) and op == "=":
                        var, lo = a, b
                    elif isinstance(a, sp.Symbol):
                        var, cond = a, _rel(op, a, b)
                    elif isinstance(a, sp.Indexed) and isinstance(a.indices[0], sp.Symbol):
                        if not (isinstance(b, sp.Indexed) and b.base == a.base):
                            raise _Unsupported(sub[2], r"\sum: a condition compares two "
                                               r"entries (z_i \neq z_k) or two indices "
                                               r"(i \neq j), not an entry and a value")
                        var, cond = a.indices[0], _rel(op, a, b)
                    else:
                        raise _Unsupported(sub[2], r"\sum: the subscript must be i, {i=1}, "
                                                   r"{i \neq j} or {z_i \neq z_k}")
            if var is None or not isinstance(var, sp.Symbol) or var == N():
                raise _Unsupported(tok, r"\sum: name the index, e.g. \sum_{i=1}^n or \sum_i")
            hi = N() if sup is None else sup[0]
            if cond is not None:
                summand = sp.Piecewise((summand, cond), (0, True))
            return sp.Sum(summand, (var, lo, hi))

        def plain(self, e):
            return ("plain", e)

        def partial(self, tok, _c, order, e):
            return ("partial", e, tok)

        def wrt(self, *items):
            return ("wrt", [it for it in items if not hasattr(it, "type")])

        def frac(self, tok, _a, num, _b, _c, den, _d):
            if num[0] == "plain" and den[0] == "plain":
                return num[1] / den[1]
            if num[0] == "partial" and den[0] == "wrt":
                return _derivative(num[1], den[1], tok)
            raise _Shorthand("chain-rule shorthand ∂(log S)/S · S/∂z_j: a fraction with ∂ on "
                             "one side only is not an expression")

        def dop(self, tok, *items):
            arg = items[-1]
            wrt = [it for it in items[:-1] if not hasattr(it, "type") and it is not None
                   and not isinstance(it, tuple)]
            return _derivative(arg, wrt, tok)

    return ToSympy


def _transformer(names: _Names):
    t = _transformer_class()()
    t.names = names
    return t


class _Unsupported(Exception):
    def __init__(self, tok, message):
        super().__init__(message)
        self.tok, self.message = tok, message


def _rel(op, a, b):
    sp = _sp()
    if op == "=":
        return sp.Eq(a, b, evaluate=False)
    if op in (r"\neq", r"\ne"):
        return sp.Ne(a, b, evaluate=False)
    raise LseError(f"{op}: only = and \\neq can be a condition under \\sum")


def _delta(sub, tok):
    sp = _sp()
    e = sub[0]
    if isinstance(e, sp.Mul) and len(e.args) == 2 and all(isinstance(a, sp.Symbol) for a in e.args):
        a, b = e.args
        return sp.KroneckerDelta(a, b)
    if isinstance(e, sp.Pow) and e.exp == 2:  # \delta_{jj}
        return sp.Integer(1)
    raise _Unsupported(tok, r"\delta: write the Kronecker delta with two indices, \delta_{jl}")


def _derivative(expr, wrt, tok):
    sp = _sp()
    variables = []
    for w in wrt:
        base, e = (w.base, w.exp) if isinstance(w, sp.Pow) else (w, 1)
        if not (isinstance(base, sp.Indexed) and base.base == Z()):
            raise _Unsupported(tok, r"\partial: derivatives are taken with respect to an "
                                    r"entry of z, e.g. \partial z_j")
        variables.extend([base] * int(e))
    return sp.Derivative(expr, *variables, evaluate=False)


def _parse_row(tokens: list, src: Source):
    """Parse one row's tokens into SymPy sides, or a shorthand reason."""
    from lark.exceptions import UnexpectedEOF, UnexpectedInput, UnexpectedToken

    names = _Names()
    try:
        tree = _lark().parse_interactive(start="row")
        for t in tokens:
            tree.feed_token(t)
        tree = tree.feed_eof()
    except UnexpectedToken as e:
        tok = e.token
        pos = tok.start_pos if tok.type != "$END" else (tokens[-1].end_pos if tokens else 0)
        if tok.type == "$END":
            raise src.error(pos, f"cannot read LaTeX: {HINT['$END']}") from None
        hint = HINT.get(tok.type, "check the LaTeX (docs/check.md lists what is read)")
        raise src.error(pos, f"cannot read LaTeX: unexpected {_describe(tok)}; {hint}") from None
    except (UnexpectedEOF, UnexpectedInput):
        pos = tokens[-1].end_pos if tokens else 0
        raise src.error(pos, "cannot read LaTeX: the row ends too early") from None
    try:
        row = _transformer(names).transform(tree)
    except Exception as e:  # lark wraps transformer errors in VisitError
        orig = getattr(e, "orig_exc", e)
        if isinstance(orig, _Shorthand):
            return None, str(orig), names
        if isinstance(orig, _Unsupported):
            raise src.error(orig.tok.start_pos, orig.message) from None
        if isinstance(orig, LseError):
            raise src.error(tokens[0].start_pos if tokens else 0, str(orig)) from None
        raise
    return row, "", names


def parse_block(text: str, where: str = "<latex>", line: int = 1, col: int = 1,
                known=None) -> tuple[Row, ...]:
    r"""Parse a block of rows (``a &= b \\ &= c``).

    ``line``/``col`` place the text in its file (errors and rows carry file
    positions).  ``known``: if given, a set of defined names (``f``,
    ``\hat{z}``); any other symbol is an error naming it.
    """
    src = Source(text, where, line, col)
    rows = []
    for toks in split_rows(lex(src), src):
        if not toks:
            continue
        rows.append(_row(toks, src, known))
    return tuple(rows)


def _row(toks: list, src: Source, known) -> Row:
    bad = next((t for t in toks if t.type == "MACRO"), None)
    text = src.text[toks[0].start_pos:toks[-1].end_pos]
    line, col = src.position(toks[0].start_pos)
    why = ""
    while toks and toks[-1].type == "TEXT" and len(toks) > 1:
        why = (_text(toks[-1]) + " " + why).strip()
        toks = toks[:-1]
    if any(t.type == "TEXT" for t in toks):
        prose = "prose: " + " ".join(_text(t) for t in toks if t.type == "TEXT")
        return Row((), (), text, line, col, prose=prose)
    if bad is not None:
        raise src.error(bad.start_pos, f"unknown macro {bad}; write it with the macros "
                                       "lsecheck reads (docs/check.md, 'LaTeX read')")
    raw = toks
    toks = _split_scripts(drop_group_braces(toks))
    check_brackets(toks, src)
    parsed, shorthand, names = _parse_row(toks, src)
    if shorthand:
        return Row((), (), text, line, col, shorthand=shorthand, why=why)
    if known is not None:
        check_names(names, known, src)
    sides, rels = _sides(parsed, toks, raw, src)
    return Row(sides, rels, text, line, col, why=why)


def _text(tok) -> str:
    s = str(tok)
    return s[s.index("{") + 1:-1].strip()


def check_names(names: _Names, known, src: Source) -> None:
    """Every symbol a row uses is defined (or is z, n, e, an index)."""
    for label, tok, _kind in names.used:
        if label in ("z", "e") or label in known:
            continue
        raise src.error(tok.start_pos,
                        f"undefined symbol {label}: define it ('{label} = …') under "
                        f"definitions, or declare it ('{label} \\in \\mathbb{{R}}^n')")


def _sides(tree, toks: list, raw: list, src: Source):
    """The sides of a parsed row with their text (from the raw tokens) and positions."""
    items = list(tree.children)
    cuts, depth = [], 0  # top-level relations, found after the group braces are gone
    for t in toks:
        if t.type in OPEN:
            depth += 1
        elif t.type in OPEN.values():
            depth -= 1
        elif t.type == "RELOP" and depth == 0:
            cuts.append(t)
    exprs = [c for c in items if not hasattr(c, "type")]
    rels = tuple(str(c) for c in items if hasattr(c, "type"))
    bounds = [raw[0].start_pos] + [x for t in cuts for x in (t.start_pos, t.end_pos)] \
        + [raw[-1].end_pos]
    sides = []
    for num, e in enumerate(exprs):
        a, b = bounds[2 * num], bounds[2 * num + 1]
        chunk = src.text[a:b]
        lead = len(chunk) - len(chunk.lstrip(" \t\n&"))
        text = chunk.strip(" \t\n&")
        sides.append(Side(e, text, *src.position(a + lead)))
    return tuple(sides), rels


def parse_expr(text: str, where: str = "<latex>", line: int = 1, col: int = 1, known=None):
    """One expression (no relation, one row) as SymPy; errors as for :func:`parse_block`."""
    rows = parse_block(text, where, line, col, known)
    if len(rows) != 1 or not rows[0].checkable or len(rows[0].sides) != 1 \
            or rows[0].sides[0].expr is None:
        raise LseError(f"{where}:{line}:{col}: expected one expression, got {text!r}")
    return rows[0].sides[0].expr
