"""The prover and `lsecheck prove`: true theorems proved, wrong ones refuted, bad input refused."""

import dataclasses
import json
import math
import subprocess
import sys

import pytest
from conftest import run_main

from lsecheck import prove
from lsecheck.cli import cli
from lsecheck.errors import LseError
from lsecheck.theorems import BY_NAME, THEOREMS


@pytest.fixture(scope="module")
def report():
    return prove.run(max_n=5)


def test_every_theorem_is_proved_for_symbolic_and_concrete_n(report):
    assert report.verdict == "verified" and report.exit_code == 0
    rows = {(r.name, r.info["n"]) for r in report.results}
    for name in ("shift", "grad-non-max", "grad-max", "exp-form", "ties", "ties-direct",
                 "hessian"):
        assert (name, "symbolic") in rows, name
    assert ("grad-max", "1..5") in rows and ("grad-non-max", "2..5") in rows
    assert {(r.name, r.info["n"]) for r in report.results if r.group == prove.TENSOR} == {
        ("tensor", "2×3"), ("tensor", "1×2×3"), ("tensor", "2×2×2")}
    runs = {r.info["n"]: r.info["runs"] for r in report.results if r.group == prove.TENSOR}
    assert runs == {"2×3": 2 + 3 + 6 + 6, "1×2×3": 1 + 2 + 3 + 2 + 3 + 6 + 6 + 6,
                    "2×2×2": 2 + 2 + 2 + 4 + 4 + 4 + 8 + 8}  # Σ over axes of the slice size
    assert all(r.verdict == "proved" for r in report.results)
    assert set(report.meta["time_per_n"]) == {"1", "2", "3", "4", "5"}
    assert any(x.startswith("ties — which step of the note: the step ∂z_k/∂z_j = 1")
               for x in report.notes)


def test_latex_lines_carry_the_statement_and_the_symbolic_chain(report):
    row = next(r for r in report.results if r.name == "grad-max" and r.info["n"] == "symbolic")
    assert any(r"\frac{\partial f}{\partial z_k}" in x for x in row.latex)
    assert any("SymPy, symbolic" in x for x in row.latex)


# --------------------------------------------------------------------------- wrong claims


def _softmax(zs):
    m = max(zs)
    e = [math.exp(v - m) for v in zs]
    return [x / sum(e) for x in e]


def drop_plus_one(M, k, _k):
    zhat = lambda a: M.exp(M.z(a) - M.z(k))  # noqa: E731
    return M.d(M.f_stable(k), k), -M.sum_except(k, zhat) / M.sum(zhat)


def unshifted_denominator(M, j, k):
    return M.d(M.f_stable(k), j), M.exp(M.z(j) - M.z(k)) / M.sum(lambda a: M.exp(M.z(a)))


def flipped_sign(M, j, k):
    return M.d(M.f_stable(k), j), -M.softmax(j, k)


WRONG = [  # (row to alter, wrong claim, the wrong right-hand side in floats)
    ("grad-max", drop_plus_one, lambda zs, j, k: _softmax(zs)[k - 1] - 1),
    ("grad-non-max", unshifted_denominator,
     lambda zs, j, k: math.exp(zs[j - 1] - zs[k - 1]) / sum(math.exp(v) for v in zs)),
    ("grad-non-max", flipped_sign, lambda zs, j, k: -_softmax(zs)[j - 1]),
]


@pytest.mark.parametrize("row, claim, wrong_rhs", WRONG, ids=[w[1].__name__ for w in WRONG])
def test_a_wrong_claim_is_refuted_with_a_counterexample_that_violates_it(row, claim, wrong_rhs):
    th = dataclasses.replace(BY_NAME[row], name="wrong", claim=claim)
    rep = prove.run(max_n=6, table=(th,))
    assert rep.verdict == "refuted" and rep.exit_code == 1
    assert all(r.verdict == "refuted" for r in rep.results)  # symbolic and concrete rows
    # refuted at the first n: larger n are not run, and not shown as timed
    assert list(rep.meta["time_per_n"]) == [str(rep.results[-1].counterexample["n"])]
    for r in rep.results:
        ce = r.counterexample
        zs, j, k = ce["z"], ce["j"], ce["k"]
        assert len(zs) == ce["n"] and zs.index(max(zs)) == k - 1 and zs.count(max(zs)) == 1
        true_grad = _softmax(zs)[j - 1]  # re-evaluated here, in floats
        assert ce["lhs"] == pytest.approx(true_grad, rel=1e-12)
        assert ce["rhs"] == pytest.approx(wrong_rhs(zs, j, k), rel=1e-12)
        assert abs(true_grad - wrong_rhs(zs, j, k)) > 1e-6


def test_tie_rows_are_decided_on_the_tie_and_refuted_at_a_tie():
    th = BY_NAME["ties-direct"]
    # right derivative = softmax_k: false in general, true where z_j = z_k
    at_tie = dataclasses.replace(th, claim=lambda M, j, k: (M.d(M.f_stable(j), j),
                                                             M.softmax(k, k)))
    assert prove.run(max_n=4, table=(at_tie,)).verdict == "verified"
    doubled = dataclasses.replace(th, claim=lambda M, j, k: (M.d(M.f_stable(j), j),
                                                              2 * M.softmax(j, k)))
    rep = prove.run(max_n=4, table=(doubled,))
    assert rep.verdict == "refuted"
    ce = rep.results[-1].counterexample
    zs, j, k = ce["z"], ce["j"], ce["k"]
    assert zs[j - 1] == zs[k - 1] == max(zs)  # the counterexample sits on a tie
    assert ce["lhs"] == pytest.approx(_softmax(zs)[j - 1]) and ce["rhs"] == pytest.approx(
        2 * _softmax(zs)[j - 1])


def test_a_wrong_number_on_the_right_is_refuted_too():
    def ones_give_one(M, a, k):  # Σ_b H_ab = 1 (false: it is 0)
        return M.d_ones(M.d(M.f_stable(k), a)), 1

    rep = prove.run(max_n=4, table=(dataclasses.replace(BY_NAME["hessian-ones"],
                                                        claim=ones_give_one),))
    assert [r.verdict for r in rep.results] == ["refuted", "refuted"]
    ce = rep.results[1].counterexample
    assert ce["lhs"] == pytest.approx(0, abs=1e-12) and ce["rhs"] == 1


def test_a_claim_that_cannot_be_computed_is_an_error_not_a_crash():
    def broken(M, j, k):
        return M.d(M.f_stable(k), j), M.no_such_operation(j)

    rep = prove.run(max_n=3, table=(dataclasses.replace(BY_NAME["grad-non-max"], claim=broken),))
    assert [r.verdict for r in rep.results] == ["error", "error"] and rep.exit_code == 1
    assert all("AttributeError" in r.detail for r in rep.results)


def test_a_claim_that_breaks_index_symmetry_is_caught_by_the_all_tuples_guard():
    def only_for_j_2(M, j, k):
        lhs, rhs = M.d(M.f_stable(k), j), M.softmax(j, k)
        return lhs, (rhs if j == 2 else rhs * 2)  # wrong unless j is the representative

    th = dataclasses.replace(BY_NAME["grad-non-max"], name="asym", claim=only_for_j_2)
    rep = prove.run(max_n=3, table=(th,))
    concrete = next(r for r in rep.results if r.info["n"] != "symbolic")
    assert concrete.verdict == "refuted"


def test_the_all_tuples_guard_reaches_n_4_where_an_index_is_free_of_every_letter():
    def wrong_at_index_4(M, a, b, k):  # the Hessian, wrong only when a or b is index 4
        lhs, rhs = BY_NAME["hessian"].claim(M, a, b, k)
        return lhs, (rhs * 2 if 4 in (a, b) else rhs)

    th = dataclasses.replace(BY_NAME["hessian"], name="asym4", claim=wrong_at_index_4)
    rep = prove.run(max_n=6, table=(th,))
    concrete = next(r for r in rep.results if r.info["n"] != "symbolic")
    ce = concrete.counterexample
    assert concrete.verdict == "refuted" and ce["n"] == 4
    # the counterexample names the claim's own indices, one of them the culprit 4
    bound = dict(x.split(" = ") for x in ce["indices"].split(", "))
    assert set(bound) == {"a", "b", "k"} and "4" in (bound["a"], bound["b"])
    assert bound["k"] == str(ce["k"]) and ce["z"].index(max(ce["z"])) == ce["k"] - 1


def test_a_wrong_tensor_gradient_is_refuted():
    def doubled(M, shape, axes, at):  # out_grad · exp(Z − f) counted twice
        return [(name, lhs, rhs + rhs)
                for name, lhs, rhs in BY_NAME["tensor"].claim(M, shape, axes, at)]

    th = dataclasses.replace(BY_NAME["tensor"], claim=doubled)
    rep = prove.run(max_n=1, table=(th,))
    assert rep.verdict == "refuted" and len(rep.results) == 3
    for r in rep.results:
        ce = r.counterexample
        assert r.verdict == "refuted" and ce["entry"].startswith("Z[") and "axes" in ce
        assert len(ce["Z_flat"]) == math.prod(ce["shape"])
        assert ce["rhs"] == pytest.approx(2 * ce["lhs"], rel=1e-12) and ce["lhs"] != 0


def test_a_tensor_claim_right_only_with_the_max_first_in_each_slice_is_refuted():
    """The max of a slice is run at every entry, not only the first one."""
    from lsecheck.theorems import slices

    def first_only(M, shape, axes, at):  # adds g at the max entry, takes it off the first
        rows = BY_NAME["tensor"].claim(M, shape, axes, at)
        fix = {}
        for a, part in enumerate(slices(shape, axes).values()):
            g = M.const(M.plain[a])
            fix[part[at]] = fix.get(part[at], 0) + 1
            fix[part[0]] = fix.get(part[0], 0) - 1
            fix.setdefault(("g", part[at]), g)
            fix.setdefault(("g", part[0]), g)
        return [(name, lhs, rhs + fix[e] * fix[("g", e)] if fix.get(e) else rhs)
                for e, (name, lhs, rhs) in enumerate(rows, 1)]

    th = dataclasses.replace(BY_NAME["tensor"], claim=first_only)
    rep = prove.run(max_n=1, table=(th,))
    assert rep.verdict == "refuted"
    for r in rep.results:
        ce = r.counterexample
        assert r.verdict == "refuted" and ce["max_at"] > 0, r.detail
        zs = ce["Z_flat"]  # the counterexample really has each slice's max at max_at
        for part in slices(tuple(ce["shape"]), _axes(ce["axes"])).values():
            top = max(zs[p - 1] for p in part)
            assert [zs[p - 1] for p in part].count(top) == 1
            assert zs[part[ce["max_at"]] - 1] == top
        assert abs(ce["lhs"] - ce["rhs"]) > 1e-6


def _axes(text):
    return None if text == "None" else tuple(int(x) for x in text.strip("(),").split(",") if x)


def test_the_output_says_what_each_row_assumes():
    rep = prove.run(max_n=2)
    text = " ".join(rep.notes)
    for th in THEOREMS:
        row = next(r for r in rep.results if r.name == th.name)
        assert row.info.get("model", "") == th.model
        if th.model:
            assert th.name in text
    assert "one-sided chain rule" in BY_NAME["ties"].model and "every position" in \
        BY_NAME["tensor"].model
    assert "for every n at once" in text
    assert f"every tuple for n ≤ {prove.ALL_TUPLES_UP_TO}" in text
    sym = [r for r in rep.results if r.info["n"] == "symbolic"]
    assert {r.detail for r in sym} >= {"every n ≥ 1", "every n ≥ 2", "every n ≥ 3"}


def test_handout_lines_are_left_aligned_and_deltas_of_different_indices_are_dropped():
    rep = prove.run(names=["hessian"], max_n=3)
    row = next(r for r in rep.results if r.info["n"] == "symbolic")
    assert all(x.startswith("&") for x in row.latex)
    case = row.latex.index(r"&\text{SymPy, symbolic } n\ ((a, b) = (j, l),\ "
                           r"j, l, k\text{ pairwise different}):")
    chain = row.latex[case + 1:]
    assert chain and not any(r"\delta_{j l}" in x for x in chain)
    concrete = next(r for r in rep.results if r.info["n"] != "symbolic")
    assert concrete.latex == ()  # the statement is printed once, with the symbolic row


def test_a_tiny_timeout_is_undecided_never_a_hang():
    import gc

    # as in the CLI, no collector passes: an alarm landing in a gc callback is swallowed
    gc.disable()
    try:
        rep = prove.run(max_n=8, timeout=0.001)
    finally:
        gc.enable()
    assert rep.verdict == "undecided" and rep.exit_code == 3
    assert any("time limit" in r.detail for r in rep.results)


def test_run_checks_its_arguments():
    for bad in (0, -1, 1.5, 513, True):
        with pytest.raises(LseError, match="--max-n"):
            prove.run(max_n=bad)
    with pytest.raises(LseError, match="unknown theorem 'nope'"):
        prove.run(names=["nope"])
    for bad in (0, -1.0, float("nan"), float("inf"), "5"):
        with pytest.raises(LseError, match="--timeout"):
            prove.run(max_n=1, timeout=bad)


def test_max_n_smaller_than_a_case_needs_is_skipped_not_proved():
    rep = prove.run(names=["hessian"], max_n=2)
    concrete = next(r for r in rep.results if r.info["n"] != "symbolic")
    assert concrete.verdict == "skipped" and "n ≥ 3" in concrete.detail


# --------------------------------------------------------------------------- command line


def test_cli_json_schema_and_exit_code(capsys):
    code, out, err = run_main(["prove", "--max-n", "3", "--json"], capsys)
    obj = json.loads(out)
    assert code == 0 and obj["verdict"] == "verified" and obj["exit_code"] == 0
    assert obj["command"] == "prove" and obj["counts"]["proved"] == len(obj["results"])
    for r in obj["results"]:
        assert {"name", "verdict", "case", "n", "seconds", "step"} <= set(r)
        if r["group"] == prove.TENSOR:
            assert r["n"] == "×".join(map(str, r["shape"])) and "model" in r
        elif r["n"] != "symbolic":
            assert r["n_to"] == 3 and 1 <= r["n_from"] <= 3
    assert obj["meta"]["max_n"] == 3 and set(obj["meta"]["time_per_n"]) == {"1", "2", "3"}


def test_cli_table_shows_theorems_cases_and_time_per_n(runner):
    res = runner.invoke(cli, ["prove", "--theorem", "grad-max", "--theorem", "ties",
                              "--max-n", "12"])
    assert res.exit_code == 0, res.output
    assert "grad-max" in res.output and "symbolic" in res.output and "1..12" in res.output
    assert "time per n (ms)" in res.output and "12:" in res.output
    assert "prove: verified" in res.output


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "abc", "513"])
def test_cli_bad_max_n_is_one_line_exit_2(value, capsys):
    code, out, err = run_main(["prove", "--max-n", value], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--max-n" in err and "1 to 512" in err and value in err


def test_cli_unknown_theorem_is_one_line_exit_2(capsys):
    code, out, err = run_main(["prove", "--theorem", "nope"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--theorem" in err and "nope" in err and "grad-max" in err


@pytest.mark.parametrize("path", ["/proc/lsecheck-x.md", "{tmp}/file.txt/x.md", "{tmp}/x.pdf",
                                  "{tmp}"])
def test_cli_unusable_export_path_is_one_line_exit_2(path, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("not a folder")
    code, out, err = run_main(["prove", "--export", path.format(tmp=tmp_path)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--export" in err


@pytest.mark.parametrize("suffix, marker", [(".md", "$$"), (".tex", r"\begin{document}")])
def test_cli_export_writes_a_handout_with_latex_steps(suffix, marker, tmp_path, capsys):
    path = tmp_path / f"handout{suffix}"
    code, _, err = run_main(["prove", "--max-n", "2", "--export", str(path)], capsys)
    text = path.read_text(encoding="utf-8")
    assert code == 0 and marker in text and r"\frac{\partial f}{\partial z_k}" in text
    assert "ties" in text and "wrote" in err


def test_cli_tiny_timeout_exits_3(capsys):
    code, out, _ = run_main(["prove", "--timeout", "0.01", "--max-n", "4", "--json"], capsys)
    assert code == 3 and json.loads(out)["verdict"] == "undecided"


def test_cli_timeout_below_the_floor_is_refused(capsys):
    code, out, err = run_main(["prove", "--timeout", "0"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--timeout" in err


def test_cli_timeout_nan_is_refused_not_run_without_a_limit(capsys):
    code, out, err = run_main(["prove", "--timeout", "nan"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--timeout" in err


def test_prove_help_is_light_and_lists_the_options():
    code = ("import sys\nfrom lsecheck.cli import main\ntry:\n    main(['prove', '--help'])\n"
            "except SystemExit:\n    pass\nprint('SYMPY=' + str('sympy' in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--max-n" in out.stdout and "--theorem" in out.stdout and "SYMPY=False" in out.stdout


def test_help_names_every_theorem_of_the_table(runner):
    text = " ".join(runner.invoke(cli, ["prove", "--help"]).output.split())
    for th in THEOREMS:
        assert th.name in text, th.name


def test_the_theorem_table_is_what_the_prover_runs():
    assert prove.select() == THEOREMS
