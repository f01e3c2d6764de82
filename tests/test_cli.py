"""The command group itself: help, version, errors, no heavy imports."""

import json
import subprocess
import sys

from lsecheck.cli import cli, main

HEAVY = ("sympy", "numpy", "torch", "jax", "autograd", "lark", "mpmath", "rich")


def _imported_after(args):
    code = (
        "import sys\n"
        "from lsecheck.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.rsplit("HEAVY=", 1)[1].strip()


def test_help_and_version_import_nothing_heavy():
    for args in (["--help"], ["--version"]):
        assert _imported_after(args) == ""


def test_every_command_help_imports_nothing_heavy():
    for name in cli.commands:
        assert _imported_after([name, "--help"]) == "", name


def test_unknown_command_is_one_line_exit_2(capsys):
    try:
        main(["no-such-verb"])
    except SystemExit as e:
        assert e.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-verb" in err


def test_python_dash_m_runs():
    out = subprocess.run([sys.executable, "-m", "lsecheck", "--version"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "lsecheck" in out.stdout


def test_results_json_schema():
    from lsecheck.render import to_json
    from lsecheck.results import Report, Result

    rep = Report("x", "X", (Result("a", "proved"), Result("b", "undecided", info={"n": 3})),
                 columns=("n",))
    obj = json.loads(to_json(rep))
    assert obj["verdict"] == "undecided" and rep.exit_code == 3
    assert [r["verdict"] for r in obj["results"]] == ["proved", "undecided"]
    assert obj["results"][1]["n"] == 3


def test_report_verdicts_never_pass_on_nothing():
    from lsecheck.results import Report, Result

    def verdict(*vs):
        return Report("x", "X", tuple(Result(str(i), v) for i, v in enumerate(vs))).verdict

    assert verdict() == "undecided"
    assert verdict("skipped", "not checkable") == "undecided"
    assert verdict("proved", "skipped", "flagged") == "verified"
    assert verdict("proved", "undecided") == "undecided"
    assert verdict("proved", "undecided", "failed") == "refuted"
