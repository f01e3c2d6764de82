r"""Render a :class:`lsecheck.demo.Walkthrough`: terminal, Markdown, LaTeX, HTML.

The terminal shows each step's LaTeX as linear Unicode maths, *as written*
(``\frac{\partial f}{\partial z_j}`` → ``∂f/∂zⱼ``): parsing into SymPy and
pretty-printing would re-simplify the expression and show something other
than the step being checked.  Handouts keep the LaTeX itself.

HTML and MathJax.  The handout is one file that opens from ``file://`` with
no server.  MathJax 3 (its ``tex-svg.js`` build: TeX in, SVG out, no font
files to fetch) comes from, in order:

* ``mathjax`` given to :func:`write` (``--mathjax``, or the environment
  variable ``LSECHECK_MATHJAX``): a path to ``tex-svg.js``, or to a folder
  holding it (an ``npm install mathjax@3`` folder, its ``node_modules`` or
  the package itself).  The script is *inlined*: the handout works offline
  and can be mailed (~2 MB);
* an ``http(s)://`` URL given the same way: a ``<script src>`` to it;
* otherwise the jsDelivr CDN (``mathjax@3``), which needs a network when
  the file is opened.

If MathJax cannot be loaded the page says so in a banner and the maths stays
readable as LaTeX source; it never fails silently.
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

from lsecheck import render as base
from lsecheck.errors import LseError
from lsecheck.export import TEX_MARK, TEX_PREAMBLE, check_path, save, tex_escape
from lsecheck.render import MARK, look

CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js"
FORMATS = (".md", ".tex", ".html")


# --- LaTeX → linear Unicode ------------------------------------------------------

SYMBOLS = {
    "partial": "∂", "cdot": "·", "times": "×", "neq": "≠", "ne": "≠", "le": "≤", "leq": "≤",
    "ge": "≥", "geq": "≥", "in": "∈", "notin": "∉", "to": "→", "mapsto": "↦",
    "Rightarrow": "⇒", "Leftrightarrow": "⇔", "infty": "∞", "approx": "≈", "odot": "⊙",
    "ldots": "…", "dots": "…", "cdots": "⋯", "pm": "±", "mp": "∓", "sum": "Σ", "prod": "Π",
    "nabla": "∇", "forall": "∀", "exists": "∃", "equiv": "≡", "propto": "∝", "circ": "∘",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ",
    "varepsilon": "ε", "zeta": "ζ", "eta": "η", "theta": "θ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Pi": "Π", "Phi": "Φ", "Psi": "Ψ",
    "Omega": "Ω", "{": "{", "}": "}", "%": "%", "&": "&", "_": "_", "#": "#",
    "quad": "\u2003", "qquad": "\u2003\u2003", ",": " ", ";": " ", ":": " ", "!": "", " ": " ",
}
BINARY = {"cdot", "times", "neq", "ne", "le", "leq", "ge", "geq", "in", "notin", "to", "mapsto",
          "Rightarrow", "Leftrightarrow", "approx", "odot", "pm", "mp", "equiv", "propto"}
FUNCTIONS = {"exp", "log", "ln", "max", "min", "sin", "cos", "tan", "det", "lim", "sup", "inf",
             "arg", "argmax", "argmin"}
SIZERS = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
          "biggl", "biggr", "displaystyle", "textstyle", "limits", "nolimits"}
TEXTS = {"text", "mathrm", "textrm", "operatorname", "mathit", "mathbf", "boldsymbol",
         "textbf", "mathsf", "mathtt"}
ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0304",
           "tilde": "\u0303", "vec": "\u20d7", "dot": "\u0307"}
BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ"}
SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ",
               strict=True))
SUP = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzT",
               "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵀ", strict=True))
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.S)


class _Reader:
    def __init__(self, latex: str):
        self.toks = _TOKEN.findall(latex)
        self.i = 0

    def peek(self, skip_space: bool = True):
        j = self.i
        while skip_space and j < len(self.toks) and self.toks[j].isspace():
            j += 1
        return self.toks[j] if j < len(self.toks) else None

    def next(self, skip_space: bool = True):
        while skip_space and self.i < len(self.toks) and self.toks[self.i].isspace():
            self.i += 1
        tok = self.toks[self.i] if self.i < len(self.toks) else None
        self.i += 1
        return tok

    def group(self) -> str:
        """The raw LaTeX of the next argument: ``{…}`` or one token."""
        tok = self.next()
        if tok != "{":
            return tok or ""
        depth, out = 1, []
        while self.i < len(self.toks):
            t = self.toks[self.i]
            self.i += 1
            depth += (t == "{") - (t == "}")
            if depth == 0:
                break
            out.append(t)
        return "".join(out)


def _script(text: str, table: dict, mark: str) -> str:
    plain = text.replace("−", "-").replace(" ", "")
    if plain and all(c in table for c in plain):
        return "".join(table[c] for c in plain)
    return mark + (text if len(text) == 1 else f"({text})")


def _wrap(text: str) -> str:
    """Parenthesise a numerator/denominator unless it is one term."""
    t = text.strip()
    depth, top = 0, False
    for c in t:
        depth += (c in "([{") - (c in ")]}")
        if depth == 0 and c in " +−-·=/":
            top = True
    return f"({t})" if top else t


def unicode_math(latex: str) -> str:
    """``latex`` as one line of Unicode maths, close to how it typesets."""
    r = _Reader(latex)
    out: list[str] = []
    while (tok := r.next(skip_space=False)) is not None:
        if tok.isspace():
            if out and not out[-1].endswith(" "):
                out.append(" ")
            continue
        if tok in ("^", "_"):
            arg = unicode_math(r.group())
            out.append(_script(arg, SUP if tok == "^" else SUB, tok))
            continue
        if tok == "{":
            r.i -= 1
            out.append(unicode_math(r.group()))
            continue
        if tok in ("}", "&"):
            continue
        if tok == "-":
            out.append("−")
            continue
        if tok == "\\\\":
            out.append(" ; ")
            continue
        if not tok.startswith("\\"):
            out.append(tok)
            continue
        name = tok[1:]
        if name.isalpha():  # TeX drops the spaces after a control word
            while (nxt := r.peek(skip_space=False)) is not None and nxt.isspace():
                r.next(skip_space=False)
        if name == "frac":
            num, den = unicode_math(r.group()), unicode_math(r.group())
            out.append(f"{_wrap(num)}/{_wrap(den)}")
        elif name == "sqrt":
            out.append(f"√({unicode_math(r.group())})")
        elif name in ACCENTS:
            arg = unicode_math(r.group())
            # precomposed where Unicode has it (ẑ), else a combining accent (Z̄)
            out.append(unicodedata.normalize("NFC", arg + ACCENTS[name]) if len(arg) == 1
                       else f"{name}({arg})")
        elif name == "mathbb":
            arg = r.group()
            out.append(BLACKBOARD.get(arg, arg))
        elif name in TEXTS:
            out.append(r.group())
            if name == "operatorname" and r.peek() not in ("(", "\\left", "\\big", "\\Big"):
                out.append(" ")
        elif name in SIZERS:
            if name in ("left", "right", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr"):
                nxt = r.peek()
                if nxt == ".":
                    r.next()
            continue
        elif name in FUNCTIONS:
            out.append(name)
            nxt = r.peek(skip_space=False)
            if nxt is not None and nxt not in ("(", "^", "_", "\\left", "\\Big", "\\big") \
                    and not nxt.isspace():
                out.append(" ")
        elif name in BINARY:
            out.append(f" {SYMBOLS[name]} ")
        elif name in SYMBOLS:
            out.append(SYMBOLS[name])
        else:
            out.append(name)
    text = re.sub(r" {2,}", " ", "".join(out))
    text = re.sub(r"([(\[]) | ([)\]])", r"\1\2", text)  # no space inside brackets
    text = re.sub(r"\b(" + "|".join(sorted(FUNCTIONS)) + r") \(", r"\1(", text)  # exp (x) → exp(x)
    # a script runs into the next word (Σᵢ₌₁ⁿexp): TeX would set them apart
    scripts = "".join(sorted(set(SUB.values()) | set(SUP.values())))
    return re.sub(f"([{scripts}])(?=[A-Za-z])", r"\1 ", text).strip()


_INLINE = re.compile(r"\$([^$]+)\$")  # inline maths in prose


def prose(text: str, math=unicode_math, plain=str) -> str:
    """Prose with its ``$…$`` maths converted by ``math`` and the words between by ``plain``."""
    parts = _INLINE.split(text)  # words, maths, words, …
    return "".join(math(p) if i % 2 else plain(p) for i, p in enumerate(parts))


# --- terminal ------------------------------------------------------------------


def render(w, con=None, pause=None) -> None:
    """Print the walkthrough on the shared console.  ``pause()`` (``--step``) is
    called before each section and each step; it returns False to stop."""
    from rich.markup import escape
    from rich.rule import Rule
    from rich.syntax import Syntax
    from rich.table import Table
    from rich.text import Text

    con = con or base.console()
    con.print(Text(w.title, style="bold"), Text(f"  ({w.source})", style="dim"))
    for sec in w.sections:
        if pause is not None and not pause():
            return _stopped(w, con, sec.title)
        con.print(Rule(Text(sec.title, style="bold cyan"), align="left"))
        if sec.text:
            con.print(escape(prose(sec.text)))
        for st in sec.steps:
            if pause is not None and not pause():
                return _stopped(w, con, sec.title)
            con.print(_step_grid(st))
        if sec.table is not None:
            table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
            for h in sec.table.header:
                table.add_column(h, overflow="fold")
            for row in sec.table.rows:
                table.add_row(*row)
            con.print(table)
        if sec.code:
            con.print(Syntax(sec.code, "python", theme="ansi_dark", background_color="default",
                             word_wrap=True))
        con.print()
    for note in w.notes:
        con.print(Text(note, style="dim"))
    _summary(w, con)


def _stopped(w, con, where: str) -> None:
    """q under --step: say where, and still give the verdict of the whole walkthrough
    (everything was checked before the first pause; the exit code is that verdict)."""
    from rich.text import Text

    con.print()
    con.print(Text(f"stopped at '{where}'; every step was checked before the first pause",
                   style="dim"))
    _summary(w, con)


def _summary(w, con) -> None:
    con.print(base.verdict_line(w.report()))


def cex_items(ce):
    """A counterexample's entries, without where it is (the step's source says that)."""
    return [(k, v) for k, v in ce.items() if k not in ("file", "line", "col")]


def _step_grid(st):
    """One step: the verdict in a fixed column, the maths, its note and counterexample below."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=18, no_wrap=True)
    grid.add_column(ratio=1)
    mark = Text.assemble("  ", base.verdict_text(st.verdict)) if st.verdict else Text("")
    grid.add_row(mark, Text(unicode_math(st.shown), style="bold" if st.verdict else ""))
    if st.note:
        grid.add_row("", Text(st.note, style="dim"))
    if st.counterexample:
        ce = ", ".join(f"{k} = {base.fmt(v)}" for k, v in cex_items(st.counterexample))
        grid.add_row("", Text("counterexample: " + ce, style=base.STYLE["bad"]))
    return grid


# --- handouts --------------------------------------------------------------------


def _md_table(t) -> list[str]:
    row = lambda cells: "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"  # noqa: E731
    return [row(t.header), "|" + "---|" * len(t.header)] + [row(r) for r in t.rows] + [""]


def to_markdown(w) -> str:
    out = [f"# {w.title}", "", f"*Source: `{w.source}`*", ""]
    for sec in w.sections:
        out += [f"## {sec.title}", ""]
        if sec.text:
            out += [sec.text, ""]
        for st in sec.steps:
            mark = f"**{MARK[look(st.verdict)]} {st.verdict}**" if st.verdict else ""
            out += ["$$", st.shown, "$$", ""]
            tail = " — ".join(x for x in (mark, st.note) if x)
            if tail:
                out += [tail, ""]
            if st.counterexample:
                out += ["Counterexample: " + ", ".join(f"{k} = {v}" for k, v in
                                                        cex_items(st.counterexample)), ""]
        if sec.table is not None:
            out += _md_table(sec.table)
        if sec.code:
            out += ["```python", sec.code, "```", ""]
    out += [f"> {n}" for n in w.notes]
    return "\n".join(out) + "\n"


TEX_GEOMETRY = r"\usepackage[margin=2.2cm]{geometry}"


def to_latex(w) -> str:
    out = [*TEX_PREAMBLE,
           TEX_GEOMETRY,  # the code and the numeric tables are ~80 characters wide
           r"\begin{document}", rf"\section*{{{tex_escape(w.title)}}}",
           rf"Source: \texttt{{{tex_escape(w.source)}}}"]
    for sec in w.sections:
        out.append(rf"\subsection*{{{tex_escape(sec.title)}}}")
        if sec.text:
            out.append(prose(sec.text, lambda m: f"${m}$", tex_escape) + r"\par")
        for st in sec.steps:
            out += [r"\[", st.shown, r"\]"]
            tail = []
            if st.verdict:
                tail.append(TEX_MARK[look(st.verdict)] + rf" \emph{{{st.verdict}}}")
            if st.note:
                tail.append(tex_escape(st.note))
            if tail:
                out.append(r"\noindent{\small " + " --- ".join(tail) + r"}\par")
            if st.counterexample:
                ce = "; ".join(f"{tex_escape(str(k))} = {tex_escape(str(v))}"
                               for k, v in cex_items(st.counterexample))
                out.append(r"\noindent{\small Counterexample: " + ce + r"}\par")
        if sec.table is not None:
            cols = "l" * len(sec.table.header)
            out += [r"\begin{center}\small", rf"\begin{{tabular}}{{{cols}}}",
                    " & ".join(tex_escape(h) for h in sec.table.header) + r" \\ \hline"]
            out += [" & ".join(tex_escape(c) for c in row) + r" \\" for row in sec.table.rows]
            out += [r"\end{tabular}", r"\end{center}"]
        if sec.code:
            out += [r"{\small", r"\begin{verbatim}", sec.code, r"\end{verbatim}", "}"]
    out += [r"\noindent " + tex_escape(n) + r"\par" for n in w.notes]
    out.append(r"\end{document}")
    text = "\n".join(out) + "\n"
    if has_cjk(text):
        text = TEX_CJK_NOTE + "\n" + text
    return text


# pdflatex has no CJK fonts: say so at the top of the file (and on stderr, in the CLI)
TEX_CJK_NOTE = ("% This handout contains CJK text: pdflatex cannot typeset it. Compile with "
                "xelatex (\\usepackage{xeCJK}) or lualatex (\\usepackage{luatexja}).")


def has_cjk(text: str) -> bool:
    """Whether ``text`` has CJK ideographs, kana or hangul (U+2E80 to U+D7AF, U+F900 to
    U+FAFF, U+FF00 to U+FFEF)."""
    return any("\u2e80" <= ch <= "\ud7af" or "\uf900" <= ch <= "\ufaff"
               or "\uff00" <= ch <= "\uffef" for ch in text)


# --- HTML with MathJax -------------------------------------------------------------

CSS = """
body { font-family: system-ui, sans-serif; max-width: 58rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; border-bottom: 1px solid #ddd; margin-top: 2rem; }
.source { color: #777; }
.step { display: grid; grid-template-columns: 9rem 1fr; gap: 0.2rem 1rem; align-items: center;
        margin: 0.35rem 0; }
.verdict { font-size: 0.85rem; font-weight: 600; white-space: nowrap; }
.ok { color: #18794e; } .bad { color: #c62828; } .open { color: #a66a00; } .skip { color: #888; }
.warn { color: #a66a00; }
.note { grid-column: 2; color: #666; font-size: 0.85rem; }
.cex { grid-column: 2; color: #c62828; font-size: 0.85rem; }
.math { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.25rem 0.7rem; text-align: left; }
pre { background: #f6f6f6; padding: 0.7rem; overflow-x: auto; font-size: 0.85rem; }
#mathjax-missing { background: #fff3cd; border: 1px solid #e0c060; padding: 0.6rem; }
.notes { color: #777; font-size: 0.85rem; }
"""

CONFIG = """window.MathJax = {
  tex: {inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']]},
  svg: {fontCache: 'global', displayAlign: 'left', displayIndent: '1em'},
  startup: {pageReady: () => MathJax.startup.defaultPageReady().then(() => {
    document.body.setAttribute('data-mathjax', 'typeset');
  })}
};"""

MISSING = """window.addEventListener('load', () => {
  if (!(window.MathJax && window.MathJax.version)) {
    document.getElementById('mathjax-missing').hidden = false;
  }
});"""


def find_mathjax(where: str | None):
    """``(kind, value)``: ("inline", script text), ("url", address) or ("cdn", CDN)."""
    if not where:
        return "cdn", CDN
    if re.match(r"https?://", where):
        return "url", where
    p = Path(where).expanduser()
    candidates = [p] if p.is_file() else [
        p / name for name in ("tex-svg.js", "es5/tex-svg.js", "mathjax/es5/tex-svg.js",
                              "node_modules/mathjax/es5/tex-svg.js")]
    for c in candidates:
        if c.is_file():
            if not c.name.startswith("tex-svg"):
                raise LseError(f"--mathjax {where}: use MathJax 3's tex-svg.js (SVG output needs "
                               "no font files, so it can be inlined), not {c.name}")
            try:
                text = c.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise LseError(f"--mathjax {where}: cannot read {c} ({e}); "
                               "check the path") from None
            if "MathJax" not in text[:200000]:
                raise LseError(f"--mathjax {where}: {c} does not look like MathJax; "
                               "point at mathjax@3's es5/tex-svg.js")
            return "inline", text
    raise LseError(f"--mathjax {where}: no tex-svg.js there; install it with "
                   "'npm install mathjax@3' and point at that folder (or its es5/tex-svg.js)")


def _html_math(latex: str, display: bool = True) -> str:
    body = html.escape(latex, quote=False)
    return rf"\[{body}\]" if display else rf"\({body}\)"


def to_html(w, mathjax: str | None = None) -> str:
    kind, value = find_mathjax(mathjax)
    if kind == "inline":  # keep the HTML parser out of the script's strings and regexes
        body = value.replace("</script", "<\\/script").replace("<!--", "<\\!--")
        script = f"<script>\n{body}\n</script>"
    else:
        script = f'<script defer src="{html.escape(value)}"></script>'
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{html.escape(w.title)}</title>", f"<style>{CSS}</style>",
           f"<script>{CONFIG}</script>", script, f"<script>{MISSING}</script>", "</head>",
           "<body>",
           '<div id="mathjax-missing" hidden>MathJax could not be loaded (offline, or the '
           "CDN is blocked): the maths below is shown as LaTeX source. For an offline "
           "handout re-export with <code>--mathjax PATH</code> (see <code>lsecheck demo "
           "--help</code>).</div>",
           f"<h1>{html.escape(w.title)}</h1>",
           f'<p class="source">Source: <code>{html.escape(w.source)}</code></p>']
    for sec in w.sections:
        out.append(f'<section id="{html.escape(sec.key)}"><h2>{html.escape(sec.title)}</h2>')
        if sec.text:
            text = prose(sec.text, lambda m: _html_math(m, display=False), html.escape)
            out.append(f"<p>{text}</p>")
        for st in sec.steps:
            k = look(st.verdict) if st.verdict else "skip"
            label = f"{MARK[k]} {st.verdict}" if st.verdict else ""
            out.append(f'<div class="step"><span class="verdict {k}">{html.escape(label)}</span>'
                       f'<div class="math">{_html_math(st.shown)}</div>')
            if st.note:
                out.append(f'<div class="note">{html.escape(st.note)}</div>')
            if st.counterexample:
                ce = ", ".join(f"{k2} = {v}" for k2, v in cex_items(st.counterexample))
                out.append(f'<div class="cex">counterexample: {html.escape(ce)}</div>')
            out.append("</div>")
        if sec.table is not None:
            out.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>"
                                                      for h in sec.table.header)
                       + "</tr></thead><tbody>")
            out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                    for row in sec.table.rows]
            out.append("</tbody></table>")
        if sec.code:
            out.append(f"<pre><code>{html.escape(sec.code)}</code></pre>")
        out.append("</section>")
    out.append('<div class="notes">' + "".join(f"<p>{html.escape(n)}</p>" for n in w.notes)
               + "</div>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def write(w, path, mathjax: str | None = None) -> Path:
    """Write the handout; the format follows the suffix (.md, .tex, .html)."""
    p = check_path(path, FORMATS)
    suffix = p.suffix.lower()
    text = (to_markdown(w) if suffix == ".md" else to_latex(w) if suffix == ".tex"
            else to_html(w, mathjax))
    return save(text, p)
