"""Handout export: formats, path checks, LaTeX that plain pdflatex accepts."""


import pytest

from lsecheck import export
from lsecheck.errors import LseError
from lsecheck.results import Report, Result

REPORT = Report(
    "prove", "lsecheck prove",
    (Result("shift", "proved", group="z ∈ ℝⁿ", detail="reduced to 0 — for all n",
            info={"n": "symbolic"},
            latex=(r"&\log\sum_i e^{z_i - m} + m", r"&= \log\sum_i e^{z_i}")),
     Result("grad-max", "refuted", detail="1 − Σ_{i≠k} p_i ≠ p_k",
            counterexample={"n": 2, "z": (0.5, 1.0)})),
    notes=("∂f/∂z_j = exp(z_j − f) · 1_{50%}",),
)


def test_markdown_has_verdicts_maths_and_counterexample():
    md = export.to_markdown(REPORT)
    assert "Verdict: **refuted**" in md and "## ✓ shift" in md and "## ✗ grad-max" in md
    assert "$$\n\\begin{aligned}" in md and "- z = (0.5, 1)" in md


def test_latex_declares_every_unicode_symbol_it_uses():
    tex = export.to_latex(REPORT)
    body = tex.split(r"\begin{document}", 1)[1]
    used = {ch for ch in body if ord(ch) > 127}
    assert used and used <= set(export.TEX_UNICODE), used - set(export.TEX_UNICODE)
    for ch in used:
        assert rf"\DeclareUnicodeCharacter{{{ord(ch):04X}}}" in tex
    assert r"50\%" in tex and r"1\_" in tex  # prose specials escaped
    assert "\\begin{align*}\n&\\log" in tex  # maths passed through, breakable


@pytest.mark.parametrize("name,words", [
    ("out.pdf", "unknown format"), ("missing-dir/out.md", "does not exist"), (".", "format"),
])
def test_bad_paths_are_refused_before_work(tmp_path, name, words):
    with pytest.raises(LseError, match=words):
        export.check_path(tmp_path / name if name != "." else tmp_path)


def test_write_follows_the_suffix(tmp_path):
    for suffix, start in ((".md", "# lsecheck prove"), (".tex", r"\documentclass")):
        p = export.write(REPORT, tmp_path / f"h{suffix}")
        assert p.read_text(encoding="utf-8").startswith(start)


def test_tex_escape_is_one_pass():
    assert export.tex_escape(r"a\b{c}|d<e>_f") == (
        r"a\textbackslash{}b\{c\}\textbar{}d\textless{}e\textgreater{}\_f")


def test_a_real_report_compiles_with_pdflatex(tmp_path):
    """The prove handout (SymPy's LaTeX, Unicode prose) through plain pdflatex."""
    import subprocess

    from conftest import need_exe

    from lsecheck import prove

    exe = need_exe("pdflatex", "apt-get install -y texlive-latex-base texlive-latex-recommended")
    export.write(prove.run(max_n=3), tmp_path / "p.tex")
    run = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "p.tex"],
                         cwd=tmp_path, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "p.pdf").stat().st_size > 10_000


def test_unwritable_place_is_refused_and_probe_leaves_nothing(tmp_path):
    with pytest.raises(LseError, match=r"--plot /proc/x\.md: cannot write there"):
        export.check_path("/proc/x.md", option="--plot")
    p = export.check_path(tmp_path / "new.md")
    assert not p.exists()  # the probe removed the file it made
