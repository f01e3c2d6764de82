"""`lsecheck numeric`: the runner, the examples, references, bad input, the CLI."""

import json
import time
from pathlib import Path

import pytest
from conftest import need, run_main
from test_impl import impl_file

from lsecheck import cases as C
from lsecheck import numeric as N
from lsecheck.cli import cli
from lsecheck.impl import load_impl

EX = Path(__file__).resolve().parent.parent / "examples"
FAST = ["--ref", "fd,oracle"]


def verdicts(report):
    return {r.verdict for r in report.results}


# ---------------------------------------------------------------- correct implementations
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_softmax_form_has_zero_false_alarms(seed):
    impl = load_impl(str(EX / "softmax_form.py"))
    bank = C.bank(seed, impl=True)
    rep = N.check(bank, ("oracle", "fd"), impl, strict=True, seed=seed)
    assert verdicts(rep) == {"passed"}, [(r.group, r.name, r.detail) for r in rep.results
                                         if r.verdict != "passed"]
    assert rep.exit_code == 0


def test_the_reference_checks_itself_strictly(capsys):
    code, out, _ = run_main(["numeric", "--impl", "lsecheck.reference", "--strict", *FAST],
                            capsys)
    assert code == 0 and "numeric: verified" in out


def test_exp_z_minus_f_passes_but_is_flagged_and_strict_fails_it(capsys):
    target = str(EX / "exp_z_minus_f.py")
    code, out, _ = run_main(["numeric", "--impl", target, *FAST, "--json"], capsys)
    obj = json.loads(out)
    assert code == 0 and obj["verdict"] == "verified"
    flagged = {r["name"]: r for r in obj["results"] if r["verdict"] == "flagged"}
    assert "|z| ≈ 1e15" in flagged and flagged["|z| ≈ 1e15"]["bits lost"] > 40
    assert flagged["|z| ≈ 1e4"]["bits lost"] > 8  # ~log2(1e4) bits
    assert "precision loss" in flagged["|z| ≈ 1e8"]["detail"]
    assert all(r["verdict"] == "passed" for r in obj["results"] if r["group"].endswith("course"))
    code, out, _ = run_main(["numeric", "--impl", target, *FAST, "--strict"], capsys)
    assert code == 1 and "precision loss" in out


# ---------------------------------------------------------------- each mistake caught
MISTAKES = {  # example → what the report must say
    "mistake_wrong_reshape.py": ("shape", "raised", "gradient off"),
    "mistake_no_keepdims.py": ("raised", "gradient off"),
    "mistake_no_max_shift.py": ("nan/inf where the answer is finite",),
    "mistake_float32_inside.py": ("off by",),
    "mistake_off_by_tiny.py": ("gradient off by 1e-09 relative",),
}


@pytest.mark.parametrize("example", sorted(MISTAKES))
def test_each_mistake_is_caught_with_a_shrunk_counterexample(example, capsys):
    code, out, err = run_main(["numeric", "--impl", str(EX / example), *FAST, "--json"], capsys)
    assert code == 1, err
    obj = json.loads(out)
    assert obj["verdict"] == "refuted"
    bad = [r for r in obj["results"] if r["verdict"] in ("failed", "error")]
    assert any(any(s in r["detail"] for s in MISTAKES[example]) for r in bad), bad[:3]
    ce = [r for r in obj["results"] if r["name"] == "smallest failing case"]
    assert len(ce) == 1 and "z" in ce[0]["counterexample"]
    assert any(k.startswith("disagrees with") or k == "got"
               for k in ce[0]["counterexample"])


def test_float64_computed_in_float32_fails_in_float64_only():
    impl = load_impl(str(EX / "mistake_float32_inside.py"))
    rep = N.check(C.bank(0, "course", ("float64",), impl=True), ("oracle",), impl)
    assert rep.exit_code == 1
    rep = N.check(C.bank(0, "course", ("float32",), impl=True), ("oracle",), impl)
    assert rep.exit_code == 0  # in float32 it is just right


# ---------------------------------------------------------------- bad input: one line, exit 2
@pytest.mark.parametrize("args, needle", [
    (["--shape", "3,4,5", "--axes", "5"], "--axes 5: axis 5 is out of range for a 3-d input"),
    (["--shape", "3,4,5", "--axes", "0,0"], "axis 0 is repeated"),
    (["--shape", "3,4,5", "--axes", "1,-2"], "axis 1 is repeated"),
    (["--shape", "0,-1"], "--shape: dimension -1 is negative"),
    (["--shape", "100000,100000,100000"], "1,000,000,000,000,000 entries"),
    (["--shape", "2000,2000"], "more than the mpmath oracle handles"),
    (["--axes", "x"], "--axes"),
    (["--ref", "torch,tensorflow"], "tensorflow: choose from"),
    (["--ref", "fd,fd"], "named twice"),
    (["--dtype", "float16"], "float16"),
    (["--impl", "no_such_module_xyz"], "import failed: no module named 'no_such_module_xyz'"),
    (["--impl", "missing_file.py"], "no such file missing_file.py"),
    (["--impl", "/"], "--impl /: / is a directory"),
    (["--shape", "3,,4"], "--shape: '3,,4' has an empty size"),
    (["--shape", "3,4", "--axes", "0,,1"], "--axes: '0,,1' has an empty axis"),
    (["--impl", "lsecheck.reference:nothing"], "has no 'nothing'"),
])
def test_bad_input_is_one_line_exit_2(args, needle, capsys):
    t0 = time.monotonic()
    code, out, err = run_main(["numeric", *FAST, *args], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err, err
    assert "Traceback" not in err and time.monotonic() - t0 < 5


# ---------------------------------------------------------------- references and frameworks
def test_missing_backend_is_listed_with_its_install(monkeypatch):
    from lsecheck import backends as B

    monkeypatch.setattr(B.Torch, "available", lambda self: False)
    rep = N.check(C.bank(0, "course", ("float64",), (3,), [None]), ("torch", "oracle"))
    row = next(r for r in rep.results if r.name == "torch")
    assert row.verdict == "skipped" and "pip install 'lsecheck[torch]'" in row.detail
    assert rep.meta["missing"] == {"torch": "pip install 'lsecheck[torch]'"}


def test_frameworks_deviations_are_reported_not_failed(runner):
    for m in ("torch", "jax", "autograd"):
        need(m)
    res = runner.invoke(cli, ["numeric", "--shape", "2,6", "--axes", "1", "--dtype", "float64",
                              "--json"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.output)
    notes = "\n".join(obj["notes"])
    assert "torch: backward in the exp(z − f) form loses up to" in notes
    assert "torch: nan/inf gradient at one +inf entry" in notes
    assert "jax: nan/inf gradient at one +inf entry" in notes
    rows = {(r["group"], r["name"]): r for r in obj["results"]}
    assert rows[("torch vs oracle · extended", "|z| ≈ 1e15")]["verdict"] == "flagged"
    assert rows[("jax vs oracle · extended", "|z| ≈ 1e15")]["verdict"] == "passed"
    assert rows[("reference vs oracle · extended", "+inf entries")]["verdict"] == "passed"
    assert rows[("torch vs oracle · extended", "1e308 ties")]["verdict"] == "flagged"
    # one +inf entry: its share is 1 on every path, so nan there is a deviation ...
    one = rows[("torch vs oracle · extended", "one +inf entry")]
    assert one["verdict"] == "flagged" and "nan/inf where the answer is finite" in one["detail"]
    # ... but at an all −inf slice or +inf ties no value is limit-independent: nan is fair
    for fw in ("torch", "jax"):
        for kind in ("all −inf slice", "+inf entries"):
            assert rows[(f"{fw} vs oracle · extended", kind)]["verdict"] == "passed"
    assert "no limit-independent value" in notes


def test_without_oracle_frameworks_are_compared_with_the_reference(runner):
    need("torch")
    res = runner.invoke(cli, ["numeric", "--ref", "torch", "--cases", "course", "--json"])
    obj = json.loads(res.output)
    assert res.exit_code == 0 and any(r["group"] == "torch vs reference · course"
                                      for r in obj["results"])


def test_json_schema_and_tolerances_in_the_report(runner):
    res = runner.invoke(cli, ["numeric", *FAST, "--cases", "course", "--seed", "3", "--json"])
    obj = json.loads(res.output)
    assert obj["command"] == "numeric" and obj["exit_code"] == 0
    assert obj["meta"]["seed"] == 3 and "forward" in obj["meta"]["tolerances"]
    row = obj["results"][0]
    for col in N.COLUMNS:
        assert col in row
    assert any("tolerances:" in n for n in obj["notes"])


def test_table_output_and_no_progress_bar_off_a_terminal(runner):
    res = runner.invoke(cli, ["numeric", *FAST, "--cases", "course"])
    assert res.exit_code == 0
    assert "reference vs oracle · course" in res.output and "numeric: verified" in res.output
    assert "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━" not in res.output.split("\n")[0]


def test_fd_alone_catches_a_wrong_axis(tmp_path):
    """Finite differences trust no formula: a gradient along the wrong axis fails them."""
    body = ("import numpy as np\nfrom lsecheck.reference import forward, softmax\n"
            "def gradient(z, g, axes):\n"
            "    ax = tuple(range(z.ndim)) if axes is None else axes\n"
            "    gk = np.reshape(g, [1 if i in ax else n for i, n in enumerate(z.shape)])\n"
            "    return (gk * softmax(z, 0 if z.ndim else None)).astype(z.dtype)\n")
    impl = load_impl(impl_file(tmp_path, body))
    rep = N.check(C.bank(0, "course", ("float64",), impl=True), ("fd",), impl)
    assert rep.exit_code == 1
    assert any("difference quotient" in r.detail for r in rep.results)


# ---------------------------------------------------------------- review: tolerance edges
SCALED = """
import numpy as np
from lsecheck.reference import forward, logsumexp_vjp
def gradient(z, g, axes):
    return (logsumexp_vjp(z, g, axes)[1] * (1 + {rel})).astype(z.dtype)
"""


def test_fresh_off_by_1e9_fails_and_off_by_1e12_is_no_false_alarm(tmp_path):
    """Written here, not taken from examples/: 1e-9 fails at ordinary float64 inputs;
    1e-12 (4.5e3 eps, under GRAD_FLOOR) passes — flagged for its 12 lost bits, not failed."""
    bank = C.bank(0, "course", ("float64",), impl=True)
    off9 = load_impl(impl_file(tmp_path, SCALED.format(rel="1e-9"), "off9.py"))
    rep = N.check(bank, ("oracle", "fd"), off9)
    assert rep.exit_code == 1
    course = [r for r in rep.results if r.group == "impl vs oracle · course"]
    assert course and all(r.verdict == "failed" for r in course)
    assert all("gradient off by 1e-09 relative" in r.detail for r in course)
    off12 = load_impl(impl_file(tmp_path, SCALED.format(rel="1e-12"), "off12.py"))
    rep = N.check(bank, ("oracle", "fd"), off12)
    assert rep.exit_code == 0 and not any(r.kind == "bad" for r in rep.results)
    assert {r.verdict for r in rep.results if r.group.startswith("impl vs oracle")} == {"flagged"}
    rep = N.check(bank, ("oracle", "fd"), off12, strict=True)
    assert rep.exit_code == 1  # --strict: precision loss is a failure


def test_fresh_float64_computed_in_float32_fails(tmp_path):
    body = ("import numpy as np\nfrom lsecheck.reference import forward as f0, gradient as g0\n"
            "def forward(z, axes):\n    return f0(z.astype(np.float32), axes).astype(z.dtype)\n"
            "def gradient(z, g, axes):\n"
            "    return g0(z.astype(np.float32), np.float32(g), axes).astype(z.dtype)\n")
    impl = load_impl(impl_file(tmp_path, body))
    rep = N.check(C.bank(1, "course", ("float64",), impl=True), ("oracle",), impl)
    assert rep.exit_code == 1
    assert all(r.verdict == "failed" for r in rep.results if r.group.endswith("course"))


# ---------------------------------------------------------------- review: hang, bar, width


class _Tty:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_bar_only_for_a_terminal_without_json():
    from lsecheck.cli.numeric import show_progress

    assert show_progress(_Tty(True), False, 100)
    assert not show_progress(_Tty(True), True, 100)  # --json
    assert not show_progress(_Tty(False), False, 100)  # piped
    assert not show_progress(object(), False, 100)  # no isatty at all
    assert not show_progress(_Tty(True), False, 5)  # too short to wait for


def test_tables_fit_80_columns():
    """At 80 columns: the NARROW columns, details as footnotes; at 120 every column."""
    import io

    from lsecheck.render import console, render, to_dict

    impl = load_impl(str(EX / "exp_z_minus_f.py"))
    rep = N.check(C.bank(0, impl=True), ("oracle",), impl)
    assert rep.narrow_columns == N.NARROW
    buf = io.StringIO()
    render(rep, console(file=buf, width=80))
    out = buf.getvalue()
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80
    assert any("│ |z| ≈ 1e15 " in line for line in lines)  # the name column is not crushed
    assert "fwd ulps" not in out and "bits lost" not in out
    assert "│ [1]" in out and "precision loss" in out.split("│ [1]")[-1]  # footnotes below
    buf = io.StringIO()
    render(rep, console(file=buf, width=120))
    assert "fwd ulps" in buf.getvalue() and "bits lost" in buf.getvalue()
    row = to_dict(rep)["results"][0]  # --json: every column, whatever the terminal
    assert all(c in row for c in N.COLUMNS)


@pytest.mark.parametrize("args", [
    ["--impl", str(EX / "mistake_off_by_tiny.py"), *FAST],  # fd detail, counterexample
    ["--impl", str(EX / "exp_z_minus_f.py"), "--ref", "oracle"],  # the ±inf limit note
])
def test_export_handouts_compile_with_pdflatex(args, tmp_path, capsys):
    import shutil
    import subprocess

    tex, md = tmp_path / "numeric.tex", tmp_path / "numeric.md"
    for path in (tex, md):
        code, _, err = run_main(["numeric", *args, "--export", str(path)], capsys)
        assert code in (0, 1) and f"wrote {path}" in err and path.stat().st_size
    text = md.read_text()
    assert "smallest failing case" in text or "no limit-independent" in text
    assert "[1]" not in text and "— c0" in text  # whole details, not the terminal's footnotes
    exe = shutil.which("pdflatex")
    if exe is None:
        pytest.skip("pdflatex not installed (texlive)")
    run = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", tex.name],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


def test_nan_at_masked_entries_fails_not_flagged(tmp_path):
    """−inf entries (an attention mask) have a finite, path-free answer: e^(−inf) = 0.
    An implementation giving nan on such slices fails; at +inf it would only be flagged."""
    body = ("import numpy as np\nfrom lsecheck.reference import forward, gradient as g0\n"
            "def gradient(z, g, axes):\n"
            "    v = g0(z, g, axes)\n"
            "    return np.where(np.isneginf(z).any(), np.nan, v).astype(z.dtype)\n")
    impl = load_impl(impl_file(tmp_path, body))
    rep = N.check(C.bank(0, impl=True), ("oracle",), impl)
    row = next(r for r in rep.results if r.name == "−inf entries")
    assert row.verdict == "failed" and "nan/inf where the answer is finite" in row.detail
    assert rep.exit_code == 1
    assert C.Case("x", "−inf entries", C.EXTENDED, "float64", (2,), None, edge=True).lenient \
        is False
    assert C.Case("x", "one +inf entry", C.EXTENDED, "float64", (2,), None, edge=True).lenient
