"""The checker: shipped derivations verify, broken ones are refuted at the right step."""

import json
import math
from pathlib import Path

import pytest
import sympy as sp
from conftest import run_main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsecheck import check
from lsecheck.errors import LseError
from lsecheck.results import NOT_CHECKABLE, PROVED, REFUTED, UNDECIDED

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data"
SEED = Path("/work/shared/seed/logsumexp-gradient.md")
SHIPPED = sorted((ROOT / "derivations").glob("*.toml"))

# broken file -> (the refuted step, its line): the first wrong step is caught
BROKEN = {
    "broken-sign.toml": ("step 3", 10),
    "broken-dropped-term.toml": ("step 3", 10),
    "broken-unshifted.toml": ("step 3", 9),
    "broken-wrong-case.toml": ("step 3", 10),
    "note-code-form-as-written.toml": ("step 2", 8),
    "broken-tie.toml": ("step 3", 12),
}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_derivations_verify(path):
    rep = check.check_path(path)
    assert rep.verdict == "verified" and rep.exit_code == 0
    assert rep.results and all(r.verdict == PROVED for r in rep.results)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_derivations_refuted_at_the_right_step(name):
    rep = check.check_path(DATA / name)
    first_bad = next(r for r in rep.results if r.verdict == REFUTED)
    assert (first_bad.name, first_bad.info["line"]) == BROKEN[name]
    assert all(r.verdict == PROVED for r in rep.results[:rep.results.index(first_bad)])
    # one error, one cross: the steps after it are proved (carrying it, or back on track)
    assert [r for r in rep.results if r.verdict != PROVED] == [first_bad]
    cex = first_bad.counterexample
    assert cex["line"] == BROKEN[name][1] and cex["n"] >= 1 and len(cex["z"]) == cex["n"]
    assert cex["previous step"] != cex["this step"]
    assert rep.exit_code == 1


HEAD = ("definitions = ['z_k = \\max z', '\\hat{z}_i = z_i - \\max z', "
        "'f = \\log \\sum_{i=1}^n \\exp \\hat{z}_i + \\max z']\n")
SOFTMAX = "'\\frac{\\exp \\hat{z}_j}{\\sum_{i=1}^n \\exp \\hat{z}_i}'"
AS_WRITTEN = "'\\exp(z_j - \\log \\sum_{i=1}^n \\exp \\hat{z}_i)'"  # the note's line 84
CARRIED = "'\\frac{\\exp z_j}{\\sum_{i=1}^n \\exp \\hat{z}_i}'"  # = AS_WRITTEN
BACK = "'\\exp(z_j - f)'"  # = SOFTMAX
OTHER = "'\\exp \\hat{z}_j'"  # equal to neither


def _chain(tmp_path, *steps):
    p = tmp_path / "chain.toml"
    p.write_text(HEAD + "[[chain]]\nsteps = [" + ", ".join(steps) + "]\n", encoding="utf-8")
    return check.check_path(p, max_n=3)


def test_one_wrong_step_one_cross_and_back_on_track():
    rep = check.check_path(DATA / "note-code-form-as-written.toml")
    wrong, back = rep.results
    assert wrong.verdict == REFUTED and wrong.info["against"] == 1
    assert back.verdict == PROVED and back.info["against"] == 1  # = step 1, not the wrong step 2
    assert "back on track: step 2 was refuted" in back.detail
    assert back.latex[0].startswith("&\\frac")  # shown against step 1 in handouts
    assert rep.exit_code == 1


def test_an_error_carried_on_is_one_error(tmp_path):
    rep = _chain(tmp_path, SOFTMAX, AS_WRITTEN, CARRIED, BACK)
    assert [r.verdict for r in rep.results] == [REFUTED, PROVED, PROVED]
    carried, back = rep.results[1:]
    assert carried.info["against"] == 2 and "carries the error of step 2" in carried.detail
    assert back.info["against"] == 1 and "back on track" in back.detail
    assert rep.exit_code == 1


def test_two_independent_errors_are_two_crosses(tmp_path):
    rep = _chain(tmp_path, SOFTMAX, AS_WRITTEN, OTHER, SOFTMAX)
    assert [r.verdict for r in rep.results] == [REFUTED, REFUTED, PROVED]
    assert rep.results[1].info["against"] == 2 and rep.results[1].counterexample["line"] == 3
    assert rep.results[2].info["against"] == 1


def test_search_is_honest_about_points(tmp_path):
    p = tmp_path / "y.toml"
    p.write_text("declare = ['y \\in \\mathbb{R}']\n[[chain]]\n"
                 "steps = ['\\log(y^2)', '2 \\log y']\n"  # true only for y > 0
                 "[[chain]]\nsteps = ['y + y', '3 y']\n"  # false: y is given values too
                 "[[chain]]\nsteps = ['\\max z', '1']\n"  # false: the maximum is not always 1
                 "[[chain]]\nsteps = ['\\log 0', '1']\n", encoding="utf-8")
    log_sq, double, top, log0 = check.check_path(p, max_n=2).results
    assert log_sq.verdict == UNDECIDED and "skipped: a side was not a real number" in log_sq.detail
    assert double.verdict == REFUTED and double.counterexample["y"] != 0
    assert top.verdict == REFUTED
    assert log0.verdict == UNDECIDED and "no random point could test it" in log0.detail


@pytest.mark.skipif(not SEED.exists(), reason="seed note not present")
def test_seed_note_as_written():
    rep = check.check_path(SEED)
    by = {(r.group.split(":")[0], r.name): r for r in rep.results}
    shorthand = [r for r in rep.results if "shorthand" in r.detail]
    prose = [r for r in rep.results if r.detail.startswith("prose")]
    assert len(shorthand) == 2 and len(prose) == 1
    assert all(r.verdict == NOT_CHECKABLE for r in shorthand + prose)
    assert "bridging step 3" in by[("block 2", "step 4")].detail
    # the one real error of the note: exp(z_j - log Σ exp ẑ_i) lacks the shift z_k
    wrong = [r for r in rep.results if r.verdict == REFUTED]
    assert [(r.info["line"], r.info["col"]) for r in wrong] == [(84, 3)]
    cex = wrong[0].counterexample
    j, k, zs = cex["j"], cex["k"], cex["z"]
    assert j != k and zs[k - 1] == max(zs)
    # by hand: the note's step is softmax(z)_j · exp(z_k), the step before softmax(z)_j
    ratio = float(cex["this step"]) / float(cex["previous step"])
    assert ratio == pytest.approx(math.exp(zs[k - 1]), rel=1e-12)
    after = by[("block 5", "step 4")]
    assert after.info["line"] == 85 and after.verdict == PROVED and after.info["against"] == 2
    others = [r for r in rep.results if r.verdict not in (REFUTED, NOT_CHECKABLE)]
    assert len(others) == 13 and all(r.verdict == PROVED for r in others)


def test_undecided_when_time_runs_out(monkeypatch):
    import time

    from lsecheck import symbolic

    def slow(*a, **k):
        time.sleep(1)

    monkeypatch.setattr(symbolic, "zero_test", slow)
    monkeypatch.setattr(check, "_zero", lambda e, d: slow())
    monkeypatch.setattr(check, "_at_n", lambda *a: slow())
    rep = check.check_path(DATA / "broken-unshifted.toml", max_n=2, timeout=0.05)
    assert {r.verdict for r in rep.results} == {UNDECIDED} and rep.exit_code == 3


def test_bad_arguments():
    with pytest.raises(LseError, match="--max-n"):
        check.check_path(SHIPPED[0], max_n=0)
    with pytest.raises(LseError, match="--timeout"):
        check.check_path(SHIPPED[0], timeout=0)
    with pytest.raises(LseError, match="--timeout"):  # not a timer's OverflowError
        check.check_path(SHIPPED[0], timeout=math.inf)


def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(p)


BAD_INPUT = [  # (file name, content, words in the message); each: exit 2, no traceback
    ("caret.md", "$$\n\\frac{a}{b}} + 1\n$$\n", "unmatched '}'"),
    ("macro.md", "$$\nz_j = \\foo{x}\n$$\n", "unknown macro \\foo"),
    ("undef.md", "$$\n\\frac{\\partial g}{\\partial z_j} = 1\n$$\n", "undefined symbol g"),
    ("empty.toml", "title = 'x'\n", "no [[chain]]"),
    ("short.toml", "[[chain]]\nsteps = ['z_j']\n", "at least two steps"),
    ("latin.md", b"$$ z_j = \xe9 $$\n", "not UTF-8"),
    ("vector.md", "$$\nz + 1 = z_j\n$$\n", "a whole vector where a number is expected"),
    ("prose.toml", "[[chain]]\nsteps = ['z_j', '\\text{so}']\n", "no step could be checked"),
]


@pytest.mark.parametrize("name,content,words", BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_cli_bad_input_one_clear_message(tmp_path, capsys, name, content, words):
    code, out, err = run_main(["check", _write(tmp_path, name, content)], capsys)
    assert code == 2 and words in err and "Traceback" not in err and out == ""
    assert err.count("\n") <= 3  # the message, and for LaTeX the fragment and the caret
    if name == "caret.md":
        frag, caret = err.splitlines()[1:]
        assert frag[caret.index("^")] == "}"


def test_cli_missing_file_and_directory(tmp_path, capsys):
    code, _, err = run_main(["check", str(tmp_path / "nope.md")], capsys)
    assert code == 2 and "no such file" in err and err.count("\n") == 1
    code, _, err = run_main(["check", str(tmp_path)], capsys)
    assert code == 2 and "is a directory" in err and err.count("\n") == 1


def test_cli_json_export_and_several_files(tmp_path, capsys):
    out_md, out_tex = tmp_path / "h.md", tmp_path / "h.tex"
    code, out, _ = run_main(["check", "--json", "--export", str(out_md),
                         str(DATA / "broken-sign.toml")], capsys)
    obj = json.loads(out)
    assert code == 1 and obj["verdict"] == "refuted"
    bad = [r for r in obj["results"] if r["verdict"] == "refuted"][0]
    assert bad["line"] == 10 and "counterexample" in bad and "✗" in out_md.read_text()
    code, out, _ = run_main(["check", "--export", str(out_tex), *map(str, SHIPPED)], capsys)
    assert code == 0 and "verified" in out and "checkmark" in out_tex.read_text()


def test_logs_proved_and_refuted(tmp_path):
    body = ("definitions = ['s_i = \\frac{\\exp z_i}{\\sum_{m=1}^n \\exp z_m}']\n"
            "[[chain]]\nsteps = ['\\log s_j', '%s']\n")
    good = tmp_path / "good.toml"
    good.write_text(body % "z_j - \\log \\sum_{i=1}^n \\exp z_i")
    bad = tmp_path / "bad.toml"
    bad.write_text(body % "z_j + \\log \\sum_{i=1}^n \\exp z_i")
    assert check.check_path(good).results[0].verdict == PROVED
    assert check.check_path(bad).results[0].verdict == REFUTED


def test_ties_cases_and_tied_counterexample():
    rep = check.check_path(ROOT / "derivations" / "logsumexp-ties.toml")
    assert rep.verdict == "verified" and "j = τ ≠ k" in rep.results[0].info["case"]
    assert any("ties" in n for n in rep.notes)
    both = check.check_paths([SHIPPED[0], ROOT / "derivations" / "logsumexp-ties.toml"])
    assert both.notes == rep.notes  # several files: each file's notes, each once
    bad = check.check_path(DATA / "broken-tie.toml").results[1].counterexample
    tau, k = bad["τ"], bad["k"]
    assert tau != k and bad["z"][tau - 1] == bad["z"][k - 1] == max(bad["z"])


def test_cases_from_conditions():
    from lsecheck.symbolic import j, k

    assert [c.label for c in check.cases({j, k}, [], k)] == ["j ≠ k", "j = k"]
    assert [c.label for c in check.cases({j, k}, [(j, k, False, True)], k)] == ["j ≠ k"]
    tied = check.cases({j, k}, [(j, k, True, True)], k, ties=True)
    assert sorted(c.label for c in tied) == ["j = k ≠ τ", "j = τ ≠ k"]


def test_preparing_a_step_is_under_the_time_limit(monkeypatch):
    import time

    import sympy as sp

    real = check._derivatives

    def slow(e):
        if e.has(sp.Derivative):
            time.sleep(1)
        return real(e)

    monkeypatch.setattr(check, "_derivatives", slow)
    rep = check.check_path(DATA / "broken-unshifted.toml", max_n=2, timeout=0.05)
    first = rep.results[0]  # ∂f/∂z_j: its derivative did not finish in time
    assert first.verdict == UNDECIDED and "substituting definitions" in first.detail
    assert rep.results[1].verdict == REFUTED and rep.exit_code == 1  # step 3 vs step 2 still


# ---- property: through the whole checker, no traceback; a true rewrite is never refuted;
# a proved step really holds (checked at a concrete point of every case)
ATOMS = ["z_j", "z_k", "2", r"\max z", r"\hat{z}_j", "f", r"\sum_{i=1}^n \exp \hat{z}_i"]
UNARY = [r"\exp({})", r"\log(\exp({}) + 1)", "-({})", r"\frac{{\partial ({})}}{{\partial z_j}}"]
BINARY = ["({}) + ({})", "({}) - ({})", r"({}) \cdot ({})", r"\frac{{{}}}{{\exp({})}}"]
TRUE_REWRITES = ["({}) + 0", r"1 \cdot ({})", r"\log(\exp({}))", r"\frac{{2 ({})}}{{2}}"]


def _latex_exprs():
    return st.recursive(
        st.sampled_from(ATOMS),
        lambda inner: st.one_of(
            st.tuples(st.sampled_from(UNARY), inner).map(lambda t: t[0].format(t[1])),
            st.tuples(st.sampled_from(BINARY), inner, inner).map(
                lambda t: t[0].format(t[1], t[2]))),
        max_leaves=4)


def _at_point(e, place):
    """``e`` (a model expression) at n = 3, z = (0.3, -1.2, 1.7): z_3 is the maximum."""
    from lsecheck import symbolic

    e = symbolic.expand_n(e, 3, place)
    return complex(e.evalf(30, subs={symbolic.z[1]: sp.Rational(3, 10),
                                     symbolic.z[2]: sp.Rational(-12, 10),
                                     symbolic.z[3]: sp.Rational(17, 10)}))



@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_latex_exprs(), st.sampled_from(TRUE_REWRITES), _latex_exprs())
def test_property_checker_sound_and_never_refutes_a_true_rewrite(x, rewrite, y):
    from lsecheck import derivation
    from lsecheck.symbolic import j, k

    text = (HEAD + "[[chain]]\nsteps = ['" + x + "', '" + rewrite.format(x) + "', '" + y + "']\n")
    try:
        d = derivation.loads(text, "fuzz.toml")
        rep = check.check_derivation(d, max_n=2, timeout=2.0)
    except LseError:
        return
    first = rep.results[0]
    assert first.verdict != REFUTED, (x, rewrite, first.detail)  # a true rewrite
    ctx = check.context(d)
    steps = [check._prepare(s.latex, 1, 1, "", ctx, "fuzz.toml").expr for s in d.chains[0].steps]
    for r in rep.results:
        if r.verdict != PROVED:
            continue
        a, b = steps[r.info["against"] - 1], steps[int(r.name.split()[1]) - 1]
        for place in ({j: 1, k: 3}, {j: 3, k: 3}):  # j ≠ k and j = k, z_k the maximum
            try:
                va, vb = _at_point(a, place), _at_point(b, place)
            except (TypeError, ValueError, ZeroDivisionError):
                continue  # not a number at this point (a log of a negative, 0/0 …)
            assert abs(va - vb) <= 1e-20 * (1 + abs(va) + abs(vb)), (r.detail, x, y)


def test_positions_break_symmetry_no_false_proof(tmp_path):
    # true for the one placement j = 1, k = 2, false for others: every placement is tried
    p = tmp_path / "pos.toml"
    p.write_text("[[chain]]\ncase = 'j \\neq k'\nsteps = ['\\sum_{i=1}^{2} z_i', 'z_j + z_k']\n"
                 "[[chain]]\nsteps = ['\\sum_{i=2}^{n} z_i', '\\sum_{i=1}^{n} z_i - z_j']\n"
                 "[[chain]]\ncase = 'j \\neq k'\nsteps = ['z_{j+1}', 'z_k']\n"
                 "[[chain]]\nsteps = ['z_n', 'z_j']\n", encoding="utf-8")
    rep = check.check_path(p, max_n=3)
    assert [r.verdict for r in rep.results] == [REFUTED] * 4
