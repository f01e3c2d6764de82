"""The Markdown reader: blocks, front matter, code, prose, cases, sidecar, fuzzing."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsecheck import notes
from lsecheck.errors import LseError

SEED = Path("/work/shared/seed/logsumexp-gradient.md")
DATA = Path(__file__).parent / "data"
if not SEED.exists():  # the note ships with the shared seed, not the repo
    SEED = None


def test_block_kinds_front_matter_code_and_prose():
    text = ("---\ntitle: t\n$$x$$\n---\n中文 $z_j\\neq z_k$ 时\n```\n$$ not = maths $$\n```\n"
            "$$\na = b\n$$\n\\begin{align*}\nc &= d\n\\end{align*}\n"
            "{{< math_block >}}\ne = f\n{{< /math_block >}}\n")
    bs = notes.blocks(text)
    assert [b.number for b in bs] == [1, 2, 3]
    assert bs[0].prose_math == ("z_j\\neq z_k",) and bs[0].line == 9
    assert "c &= d" in bs[1].text and "align" not in bs[1].text
    assert bs[2].text.strip() == "e = f"


@pytest.mark.skipif(SEED is None, reason="seed note not present")
def test_seed_note_chains_cases_and_positions():
    d = notes.load(SEED)
    names = [c.name for c in d.chains]
    assert len(names) == 5 and "definition of f" in names[0]
    non_max, is_max = d.chains[1], d.chains[2]
    assert non_max.case == ("z_j\\neq z_k",) and is_max.case == ("z_j= z_k",)
    assert d.chains[3].case == () and d.chains[4].case == ()
    assert (non_max.steps[0].line, non_max.steps[0].col) == (40, 1)
    assert [s.line for s in is_max.steps] == [55, 56, 57, 58, 59, 60, 61, 62]
    assert any("\\in" in x.latex for x in d.definitions)


def test_sidecar_gives_definitions_cases_and_ties():
    d = notes.load(DATA / "sidecar-note.md", DATA / "sidecar.toml")
    assert d.chains[0].case == ("j \\neq k",) and d.chains[1].case == ()
    assert not d.chains[0].ties and d.chains[1].ties
    assert any(x.latex.startswith("f =") for x in d.definitions)


@pytest.mark.parametrize("side,msg", [("missing.toml", "no such file"),
                                      ("sidecar-note.md", "not valid TOML")])
def test_sidecar_errors(side, msg):
    with pytest.raises(LseError, match=msg):
        notes.load(DATA / "sidecar-note.md", DATA / side)


def test_no_maths_is_an_error():
    with pytest.raises(LseError, match="no display maths"):
        notes.read("# only prose\n\n```\n$$a=b$$\n```\n", "p.md")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["$$", "$", "---\n", "```\n", "\n", "a = b", "\\\\", "&",
                                 "{{< math_block >}}", "{{< /math_block >}}", "中文",
                                 "\\begin{align*}", "\\end{align*}", "\\frac{", "}", "z_j",
                                 "\\neq", "# h\n"]), max_size=25).map("".join)
       | st.text(max_size=60))
def test_fuzz_markdown_reader_only_lse_errors(text):
    try:
        notes.read(text, "fuzz.md")
    except LseError:
        pass


def test_a_neq_row_is_no_equality_and_starts_a_new_chain():
    text = "$$\na &= z_j \\\\ &\\neq z_k \\\\ &= z_k + 0\n$$\n"
    d = notes.read(text, "neq.md")
    first, second = d.chains
    assert [s.latex for s in first.steps] == ["z_j", "\\neq z_k"]  # listed, not claimed equal
    assert [s.latex for s in second.steps] == ["z_k", "z_k + 0"]
    from lsecheck import check
    from lsecheck.results import NOT_CHECKABLE, PROVED

    rep = check.check_derivation(d, max_n=2)
    assert [r.verdict for r in rep.results] == [NOT_CHECKABLE, PROVED]
    assert "a relation (\\neq)" in rep.results[0].detail
