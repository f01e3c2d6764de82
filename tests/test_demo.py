"""lsecheck.demo and lsecheck.walkthrough_render: the walkthrough, its verdicts, its handouts."""

import io
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import REQUIRE, need_exe

from lsecheck import demo
from lsecheck import walkthrough_render as wr
from lsecheck.errors import LseError
from lsecheck.render import console

PDFLATEX = "apt-get install -y texlive-latex-base texlive-latex-recommended"

DERIVATIONS = sorted(demo.derivations_dir().glob("*.toml"))
WRONG = r"""
title = "A wrong gradient"
definitions = ['z_k = \max z', 'f = \log \sum_{i=1}^n \exp(z_i - \max z) + \max z']

[[chain]]
name = "forgot the normalisation"
steps = ['\frac{\partial f}{\partial z_j}', '\exp(z_j - \max z)']
"""


@pytest.fixture(scope="module")
def note():
    return demo.build()


def steps_of(w, key):
    return next(s for s in w.sections if s.key == key).steps


# --- the built-in walkthrough ------------------------------------------------------

def test_sections_follow_the_note(note):
    keys = [s.key for s in note.sections]
    assert keys == ["definitions", "non-max", "max", "ties", "general", "code",
                    "overflow", "precision", "tensor"]
    assert note.source == "derivations/logsumexp-note.toml"


def test_each_chain_of_the_note_lands_in_its_section(note):
    nonmax, mx, code = steps_of(note, "non-max"), steps_of(note, "max"), steps_of(note, "code")
    assert any(r"0 + \exp \hat{z}_j" in s.latex for s in nonmax)
    assert any(r"\sum_{z_i \neq z_k} -\exp" in s.latex for s in mx)
    assert any(s.latex == r"\exp(z_j - f)" for s in code)
    # a chain's first step claims nothing; the later ones are claimed equal to it
    first = next(s for s in nonmax if s.source.startswith("derivations/"))
    assert first.verdict == "" and first.rel == ""
    assert all(s.rel == "=" for s in nonmax if s.verdict and s.source.startswith("deriv"))


def test_every_step_of_the_note_is_proved_and_backed_by_a_theorem(note):
    for key, theorem in (("definitions", "shift"), ("non-max", "grad-non-max"),
                         ("max", "grad-max"), ("ties", "ties"), ("general", "softmax-sum"),
                         ("code", "exp-form"), ("tensor", "tensor")):
        steps = steps_of(note, key)
        assert any(s.source == f"prove {theorem}" and s.verdict == "proved" for s in steps), key
        checked = [s for s in steps if s.source.startswith("derivations/") and s.verdict]
        assert all(s.verdict == "proved" for s in checked), key


def test_the_note_as_written_is_refuted_and_shown(note):
    (bad,) = [s for s in steps_of(note, "code") if s.expected]
    assert bad.verdict == "refuted"
    ce = bad.counterexample
    assert ce["n"] >= 1 and ce["previous step"] != ce["this step"]
    rows = [r for r in note.report().results if r.detail.startswith("expected refuted")]
    assert [r.verdict for r in rows] == ["flagged"]  # caught, as it must be
    assert note.report().exit_code == 0


def test_a_missed_mistake_would_fail_the_demo(monkeypatch):
    """If the checker stopped refuting the note's typo, the demo would say so (exit 1)."""
    monkeypatch.setattr(demo, "AS_WRITTEN", (demo.AS_WRITTEN[0], demo.AS_WRITTEN[0]))
    w = demo.build()
    (row,) = [r for r in w.report().results if r.detail.startswith("expected refuted")]
    assert row.verdict == "failed" and w.report().exit_code == 1


def test_numbers_show_overflow_and_precision_loss(note):
    over = next(s for s in note.sections if s.key == "overflow")
    assert [s.verdict for s in over.steps] == ["flagged", "passed"]
    assert over.table.rows[0][2] == "inf"
    prec = next(s for s in note.sections if s.key == "precision")
    lossy, stable = prec.steps
    assert lossy.verdict == "flagged" and stable.verdict == "passed"
    bits = {row[0]: float(row[3]) for row in prec.table.rows}
    assert bits["1e15 + (0,1,2,3)"] >= 45 and bits["1 + (0,1,2,3)"] <= 3
    assert all(float(row[5]) <= 2 for row in prec.table.rows)


def test_tensor_example_matches_the_reference():
    from lsecheck.reference import logsumexp_vjp

    sec = next(s for s in demo.build().sections if s.key == "tensor")
    assert sec.steps[-1].verdict == "passed"
    _, ref = logsumexp_vjp(np.array(demo.TENSOR_Z), np.array(demo.TENSOR_G), demo.TENSOR_AXES)
    shown = [[float(x) for x in row[-1].split()] for row in sec.table.rows]
    assert np.allclose(shown, ref, rtol=1e-5)
    assert "[2, 1]" in sec.code


# --- any derivation file ---------------------------------------------------------------

@pytest.mark.parametrize("path", DERIVATIONS, ids=[p.name for p in DERIVATIONS])
def test_every_shipped_derivation_walks_through(path):
    w = demo.build(path)
    chains = [s for s in w.sections if s.key.startswith("chain-")]
    assert chains and all(s.steps for s in chains)
    assert [s.key for s in w.sections][-3:] == ["overflow", "precision", "tensor"]
    assert w.report().exit_code in (0, 3)  # the shipped derivations are not wrong


def test_a_wrong_derivation_is_refuted_in_the_demo(tmp_path):
    p = tmp_path / "wrong.toml"
    p.write_text(WRONG, encoding="utf-8")
    w = demo.build(p)
    (step,) = [s for s in w.sections if s.key == "chain-1"][0].steps[1:]
    assert step.verdict == "refuted" and step.counterexample
    assert w.report().exit_code == 1


@pytest.mark.parametrize("name,words", [("missing.toml", "no such file"), ("", "directory")])
def test_bad_files_are_one_clear_error(tmp_path, name, words):
    with pytest.raises(LseError, match=words):
        demo.build(tmp_path / name if name else tmp_path)


# --- LaTeX as linear Unicode ---------------------------------------------------------------

@pytest.mark.parametrize("latex,text", [
    (r"\frac{\partial f}{\partial z_j}", "∂f/∂zⱼ"),
    (r"\frac{\exp \hat{z}_j}{\sum_{i=1}^n \exp \hat{z}_i}", "(exp ẑⱼ)/(Σᵢ₌₁ⁿ exp ẑᵢ)"),
    (r"\log \sum_{i=1}^n \exp(z_i - \max z) + \max z", "log Σᵢ₌₁ⁿ exp(zᵢ − max z) + max z"),
    (r"1 - \frac{\sum_{z_i \neq z_k} a}{b}", "1 − (Σ_(zᵢ ≠ zₖ) a)/b"),
    (r"z \in \mathbb{R}^n", "z ∈ ℝⁿ"),
    (r"\left( a \cdot b \right)", "(a · b)"),
    (r"e^{z_j - f}", "e^(zⱼ − f)"),
    (r"\text{ since } x", "since x"),
    (r"\operatorname{softmax}(z)_j", "softmax(z)ⱼ"),
])
def test_unicode_math(latex, text):
    assert wr.unicode_math(latex) == text


# --- rendering ---------------------------------------------------------------------------

def test_terminal_rendering_shows_sections_verdicts_and_numbers(note):
    buf = io.StringIO()
    wr.render(note, console(file=buf))
    out = buf.getvalue()
    for sec in note.sections:
        assert sec.title in out
    assert "✗ refuted" in out and "counterexample:" in out and "✓ proved" in out
    assert "∂f/∂zⱼ" in out and "inf" in out
    assert out.rstrip().endswith(")") and "demo: verified" in out


def test_step_mode_pauses_and_q_stops(note):
    calls = []

    def pause():
        calls.append(1)
        return len(calls) < 5  # the fifth pause answers q

    buf = io.StringIO()
    wr.render(note, console(file=buf), pause=pause)
    out = buf.getvalue()
    assert len(calls) == 5
    assert "Definitions" in out and "The non-max case" not in out
    # stopping still gives the verdict that the exit code reports, and says where it stopped
    assert "stopped at 'Definitions'" in out
    assert out.rstrip().splitlines()[-1].startswith(f"demo: {note.report().verdict} (")


def test_markdown_and_latex_handouts(note, tmp_path):
    md = wr.write(note, tmp_path / "h.md").read_text(encoding="utf-8")
    assert md.count("$$") >= 2 * 30 and "## The tie subtlety" in md and "**✗ refuted**" in md
    assert "| naive | log Σ exp(z) | inf | 62 |" in md
    tex = wr.write(note, tmp_path / "h.tex").read_text(encoding="utf-8")
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert tex.count(r"\[") == tex.count(r"\]") >= 30
    body = re.sub(r"\\begin\{verbatim\}.*?\\end\{verbatim\}", "", tex, flags=re.S)
    assert body.count("{") - body.count(r"\{") == body.count("}") - body.count(r"\}")


def test_latex_handout_compiles_with_pdflatex_and_nothing_sticks_out(note, tmp_path):
    """The handout as a teacher prints it: pdflatex accepts it, and no line (the course
    code, the numeric tables) runs into the margin."""
    exe = need_exe("pdflatex", PDFLATEX)
    wr.write(note, tmp_path / "h.tex")
    run = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "h.tex"],
                         cwd=tmp_path, capture_output=True, timeout=120)
    log = (tmp_path / "h.log").read_text(encoding="latin-1")
    assert run.returncode == 0, log[-2000:]
    assert (tmp_path / "h.pdf").stat().st_size > 10_000
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull.*", log)


def test_cjk_latex_handout_says_which_engine(tmp_path):
    """pdflatex cannot typeset Chinese: the .tex says so on its first line; others do not."""
    p = tmp_path / "zh.toml"
    p.write_text(WRONG.replace("A wrong gradient", "错误的梯度"), encoding="utf-8")
    tex = wr.write(demo.build(p), tmp_path / "zh.tex").read_text(encoding="utf-8")
    assert tex.startswith("% This handout contains CJK text") and "xelatex" in tex.splitlines()[0]
    assert r"\section*{错误的梯度}" in tex
    assert not wr.has_cjk("z − max z, ẑ, Σ, ∂f/∂zⱼ, ≈ ε|f|")


@pytest.mark.parametrize("name,words", [("h.docx", "unknown format"),
                                        ("no/h.html", "does not exist")])
def test_bad_export_paths(note, tmp_path, name, words):
    with pytest.raises(LseError, match=words):
        wr.write(note, tmp_path / name)


def test_mathjax_sources(tmp_path):
    assert wr.find_mathjax(None) == ("cdn", wr.CDN)
    assert wr.find_mathjax("https://example.org/tex-svg.js")[0] == "url"
    with pytest.raises(LseError, match="no tex-svg.js there"):
        wr.find_mathjax(str(tmp_path))
    (tmp_path / "tex-chtml.js").write_text("MathJax")
    with pytest.raises(LseError, match="tex-svg.js"):
        wr.find_mathjax(str(tmp_path / "tex-chtml.js"))
    fake = tmp_path / "es5" / "tex-svg.js"
    fake.parent.mkdir()
    fake.write_text("window.MathJax = 1; var s = '</script><!-- x';")
    kind, text = wr.find_mathjax(str(tmp_path))
    assert kind == "inline"
    page = wr.to_html(demo.Walkthrough("t", "s", ()), str(tmp_path))
    assert "</script><!--" not in page and r"<\/script><\!-- x" in page


# --- the HTML in a real browser -----------------------------------------------------------

def _chromium():
    return need_exe("chromium", "apt-get install -y chromium")


@pytest.fixture(scope="module")
def mathjax(tmp_path_factory):
    """A local MathJax 3: $LSECHECK_MATHJAX, or `npm install mathjax@3` in a temp folder."""
    if os.environ.get("LSECHECK_MATHJAX"):
        return os.environ["LSECHECK_MATHJAX"]
    npm = shutil.which("npm")
    where = tmp_path_factory.mktemp("mathjax")
    ok = npm is not None and subprocess.run(
        [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(where),
         "mathjax@3"], capture_output=True, timeout=300).returncode == 0
    if not ok:
        if REQUIRE:
            pytest.fail("MathJax 3 is required: set LSECHECK_MATHJAX or install npm")
        pytest.skip("no MathJax 3 (npm missing or offline)")
    return str(where)


def _browse(exe, page: Path, *args) -> str:
    profile = tempfile.mkdtemp()
    try:
        out = subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={profile}", "--virtual-time-budget=15000", *args,
             page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def _rendered(dom: str) -> str:
    """The page without its scripts and styles (MathJax's own code mentions 'merror')."""
    return re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S)


def test_html_renders_its_maths_in_headless_chromium(note, mathjax, tmp_path):
    exe = _chromium()
    page = wr.write(note, tmp_path / "handout.html", mathjax)
    assert "<script src" not in page.read_text(encoding="utf-8")[:5000]  # inlined: offline
    dom = _rendered(_browse(exe, page, "--dump-dom"))
    maths = sum(1 for s in note.sections for _ in s.steps)
    assert 'data-mathjax="typeset"' in dom
    assert dom.count("<mjx-container") >= maths  # every step (and the prose maths) typeset
    assert 'data-mml-node="merror"' not in dom and "data-mjx-error" not in dom
    assert '<div id="mathjax-missing" hidden' in dom
    shot = tmp_path / "handout.png"
    _browse(exe, page, "--window-size=1100,1600", f"--screenshot={shot}")
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
    keep = os.environ.get("LSECHECK_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / "demo-handout.png")


def test_html_says_so_when_mathjax_cannot_load(note, tmp_path):
    exe = _chromium()
    page = wr.write(note, tmp_path / "offline.html", "http://127.0.0.1:9/tex-svg.js")
    dom = _rendered(_browse(exe, page, "--dump-dom"))
    assert "<mjx-container" not in dom
    assert '<div id="mathjax-missing">' in dom  # the banner is no longer hidden
    assert r"\frac{\partial f}{\partial z_j}" in dom  # the LaTeX source stays readable


BROKEN = sorted((Path(__file__).parent / "data").glob("broken-*.toml"))


@pytest.mark.parametrize("path", BROKEN, ids=[p.name for p in BROKEN])
def test_broken_derivations_are_refuted_in_the_demo(path):
    w = demo.build(path)
    bad = [s for sec in w.sections for s in sec.steps if s.verdict == "refuted"]
    assert bad and all(s.counterexample for s in bad), path.name
    assert w.report().exit_code == 1


def test_a_theorem_missing_from_the_prover_is_an_error_not_a_gap():
    from lsecheck.results import Report

    prover = demo.Prover.__new__(demo.Prover)
    prover.report = Report("prove", "t", ())
    (step,) = prover(("grad-max",))
    assert step.verdict == "error" and "grad-max" in step.note


def test_the_demo_flags_precision_loss_where_lsecheck_accuracy_does():
    from lsecheck import accuracy

    assert demo.LOSSY_BITS == accuracy.FLAG_BITS
    assert demo.STABLE_BITS < demo.LOSSY_BITS


def test_flagged_steps_are_not_shown_with_a_green_tick(note, tmp_path):
    """Naive overflow and exp(z − f)'s lost bits are flagged: '!' in amber, not '✓'."""
    buf = io.StringIO()
    wr.render(note, console(file=buf))
    out = buf.getvalue()
    assert "! flagged" in out and "✓ flagged" not in out
    md = wr.write(note, tmp_path / "h.md").read_text(encoding="utf-8")
    assert "**! flagged**" in md and "✓ flagged" not in md
    page = wr.write(note, tmp_path / "h.html", "https://example.org/tex-svg.js").read_text(
        encoding="utf-8")
    assert '<span class="verdict warn">! flagged</span>' in page and ".warn {" in page
    tex = wr.write(note, tmp_path / "h.tex").read_text(encoding="utf-8")
    assert r"\textbf{!} \emph{flagged}" in tex
