"""The checker: shipped derivations verify, broken ones are refuted at the right step."""

import json
from pathlib import Path

import pytest
from conftest import run_main

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
    cex = first_bad.counterexample
    assert cex["line"] == BROKEN[name][1] and cex["n"] >= 1 and len(cex["z"]) == cex["n"]
    assert cex["previous step"] != cex["this step"]
    assert rep.exit_code == 1


def test_later_step_equal_to_last_good_one_is_said():
    rep = check.check_path(DATA / "note-code-form-as-written.toml")
    assert "the error is in step 2" in rep.results[1].detail


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
    assert [(r.info["line"], r.info["col"]) for r in wrong] == [(84, 3), (85, 3)]
    others = [r for r in rep.results if r.verdict not in (REFUTED, NOT_CHECKABLE)]
    assert len(others) == 12 and all(r.verdict == PROVED for r in others)


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
    bad = check.check_path(DATA / "broken-tie.toml").results[1].counterexample
    tau, k = bad["τ"], bad["k"]
    assert tau != k and bad["z"][tau - 1] == bad["z"][k - 1] == max(bad["z"])


def test_cases_from_conditions():
    from lsecheck.symbolic import j, k

    assert [c.label for c in check.cases({j, k}, [], k)] == ["j ≠ k", "j = k"]
    assert [c.label for c in check.cases({j, k}, [(j, k, False, True)], k)] == ["j ≠ k"]
    tied = check.cases({j, k}, [(j, k, True, True)], k, ties=True)
    assert sorted(c.label for c in tied) == ["j = k ≠ τ", "j = τ ≠ k"]
