"""The LaTeX reader: the subset of the issue, positions in errors, fuzzing."""

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lsecheck import latex
from lsecheck.errors import LseError
from lsecheck.symbolic import i, j, k, l, n, z

S = sp.Sum(sp.exp(z[i]), (i, 1, n))

# (LaTeX, the SymPy it means) — the constructs the issue lists
CASES = [
    (r"\log x", sp.log(latex.scalar("x"))),
    (r"\log{\sum_{i=1}^n \exp z_i} + z_k", sp.log(S) + z[k]),
    (r"\ln(z_j)", sp.log(z[j])),
    (r"\exp{(z_i - \max{z})}", sp.exp(z[i] - latex.MAXZ())),
    (r"\max z + \max{z} - \max(z)", latex.MAXZ()),
    (r"\frac{1}{2} \cdot z_j", z[j] / 2),
    (r"\left( z_j + 1 \right) [z_k]", (z[j] + 1) * z[k]),
    (r"\sum_i \exp z_i", S),
    (r"\sum_{i=1}^{n} \exp z_i", S),
    (r"\exp z_j \exp z_l", sp.exp(z[j]) * sp.exp(z[l])),
    (r"\delta_{jl}", sp.KroneckerDelta(j, l)),
    (r"e^{z_j}", sp.exp(z[j])),
    (r"f(z) + 1", latex.scalar("f") + 1),  # f(z): f as a function of the vector z
    (r"z_12 + z_{12}", z[1] * 2 + z[12]),  # a bare script takes one digit, as in TeX
]


@pytest.mark.parametrize("tex,want", CASES)
def test_reads_the_subset(tex, want):
    assert sp.simplify(latex.parse_expr(tex) - want) == 0


def test_z_i_is_an_indexed_entry_not_a_symbol():
    e = latex.parse_expr(r"\sum_{i=1}^n \exp(z_i)")
    assert e == S and e.diff(z[j]) != 0


def test_conditional_sums():
    e = latex.parse_expr(r"\sum_{i \neq j} z_i")
    assert e == sp.Sum(sp.Piecewise((z[i], sp.Ne(i, j)), (0, True)), (i, 1, n))
    e = latex.parse_expr(r"\sum_{z_i = z_k} z_i")
    assert isinstance(e.function.args[0][1], sp.Eq)


def test_partial_derivatives_both_forms():
    a = latex.parse_expr(r"\frac{\partial \log S_i}{\partial z_j}".replace("S_i", "z_i"))
    b = latex.parse_expr(r"\frac{\partial}{\partial z_j} \log z_i")
    assert a == b == sp.Derivative(sp.log(z[i]), z[j])
    h = latex.parse_expr(r"\frac{\partial^2 f}{\partial z_l \partial z_j}")
    assert h.variables == (z[l], z[j])


def test_braces_group_as_typeset():
    # the note's interleaved braces and parentheses
    e = latex.parse_expr(r"\frac{\partial{(\log{\sum_{i=1}^n\exp\hat{z}_i)}}}{\partial z_j}")
    assert isinstance(e, sp.Derivative) and isinstance(e.expr, sp.log)
    # \log{A + B} typesets as log A + B
    assert latex.parse_expr(r"\log{x + y}") == sp.log(latex.scalar("x")) + latex.scalar("y")


def test_shorthand_prose_and_justification():
    rows = latex.parse_block(r"&= \frac{\partial(\log S)}{S}\cdot\frac{S}{\partial z_j}+0 \\"
                             r" &\text{注意} z_j = z_k \\ &= z_j \quad \text{by parts}")
    assert "shorthand" in rows[0].shorthand and not rows[0].checkable
    assert rows[1].prose.startswith("prose") and not rows[1].checkable
    assert rows[2].why == "by parts" and rows[2].sides[1].expr == z[j]


def test_rows_keep_file_positions():
    rows = latex.parse_block("a &= z_j \\\\\n  &= z_k", where="x.md", line=10, col=5)
    assert (rows[0].line, rows[0].col) == (10, 5)
    assert (rows[1].sides[1].line, rows[1].sides[1].col) == (11, 6)


BAD = [
    (r"\frac{a}{b}} + 1", "unmatched '}'", 12),
    (r"\foo x", r"unknown macro \foo", 1),
    (r"\log(x", "never closed", 5),
    (r"x + ", "ends too early", 4),
    (r"a ? b", "unexpected character", 3),
    (r"\max y", r"\max", 1),
    (r"\sum_{z_i = 1} z_i", "not an entry and a value", 6),  # z_i = 1 is not an index test
]


@pytest.mark.parametrize("tex,msg,col", BAD)
def test_errors_carry_position_and_caret(tex, msg, col):
    with pytest.raises(LseError) as e:
        latex.parse_block(tex, where="f.md", line=3)
    text = str(e.value)
    head, frag, caret = text.split("\n")
    assert head.startswith(f"f.md:3:{col}:") and msg in head
    assert caret.index("^") - 2 == col - 1 and frag.strip() in tex


def test_undefined_symbol_is_named():
    with pytest.raises(LseError, match="undefined symbol g"):
        latex.parse_block(r"g + z_j", known={"f"})
    latex.parse_block(r"f + z_j + \sum_{i=1}^n z_i", known={"f"})


PIECES = list("{}()[]_^&=+-/ abzijkn01") + [
    r"\frac", r"\sum", r"\log", r"\exp", r"\partial", r"\hat", r"\text{x}", r"\\",
    r"\max", r"\neq", r"\cdot", r"\delta", r"\mathbb", r"\left(", r"\right)", "\\"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join) | st.text(max_size=30))
def test_fuzz_parser_only_lse_errors(text):
    try:
        latex.parse_block(text, known={"a", "b"})
    except LseError:
        pass
