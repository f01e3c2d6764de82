"""Rendering (lsecheck.render): tables that fit the console, long details as footnotes."""

import io
import json
from pathlib import Path

import pytest
from rich.cells import cell_len

from lsecheck import export
from lsecheck.render import DETAIL_SHORT, console, render, to_json
from lsecheck.results import Report, Result

LONG = ("c017: gradient off by 1e-09 relative (4.5e+06 eps) at index (0, 2); "
        "forward off by 3.1e-16 at output index (0,)")
SHORT = "every n ≥ 1"


def report(narrow=(), detail=LONG):
    info = {"cases": 16, "abs err": 1.5e-7, "rel err": 2.3e-7, "bits lost": 22.1}
    rows = (Result("|z| ≈ 1e15", "failed", group="impl vs oracle", detail=detail, info=info),
            Result("scale 1", "passed", group="impl vs oracle", info=info),
            Result("ties", "flagged", group="impl vs fd", detail=SHORT, info=info))
    return Report("numeric", "LogSumExp gradient", rows, columns=tuple(info),
                  notes=("a note",), narrow_columns=narrow)


def shown(rep, width):
    buf = io.StringIO()
    render(rep, console(file=buf, width=width))
    return buf.getvalue()


def widest(text):
    return max(cell_len(line) for line in text.splitlines())


@pytest.mark.parametrize("width", [80, 100, 120])
def test_console_width_is_respected(width):
    con = console(file=io.StringIO(), width=width)
    assert con.width == width
    assert widest(shown(report(("cases", "rel err")), width)) <= width


def test_wide_console_keeps_details_in_the_table():
    out = shown(report(), 200)
    assert "[1]" not in out and "bits lost" in out
    assert any(LONG[:40] in line for line in out.splitlines())  # inline, on one line


def test_narrow_console_moves_long_details_to_numbered_footnotes():
    out = shown(report(), 80)
    lines = out.splitlines()
    assert widest(out) <= 80
    table_row = next(line for line in lines if line.startswith("│ |z| ≈ 1e15"))
    assert "[1]" in table_row and "gradient off" not in table_row
    foot = out[out.index("\n[1] "):]
    assert "[1] impl vs oracle, |z| ≈ 1e15: c017: gradient off by 1e-09" in foot
    assert " ".join(foot.split()).count("at output index (0,)") == 1  # printed in full
    assert "[2]" not in out  # one long detail, one footnote
    assert "bits lost" in out  # no narrow_columns named: every column kept
    assert foot.index("[1]") < foot.index("a note")  # footnotes first, then the notes


def test_short_details_stay_in_the_table_when_narrow():
    assert len(SHORT) <= DETAIL_SHORT
    out = shown(report(), 80)
    assert any(SHORT in line and line.startswith("│ ties") for line in out.splitlines())


def test_narrow_columns_are_the_ones_kept():
    narrow = ("cases", "rel err")
    out = shown(report(narrow), 80)
    header = next(line for line in out.splitlines() if "name" in line and "verdict" in line)
    for col in ("cases", "rel err", "name", "verdict", "detail"):
        assert col in header
    for col in ("abs err", "bits lost"):
        assert col not in out
    assert "bits lost" in shown(report(narrow), 200)  # wide: every column


def test_json_and_export_get_every_column_and_the_whole_detail(tmp_path):
    rep = report(("cases",))
    row = json.loads(to_json(rep))["results"][0]
    assert row["detail"] == LONG and row["abs err"] == 1.5e-7 and row["bits lost"] == 22.1
    md = export.write(rep, tmp_path / "r.md").read_text()
    assert "bits lost" in md and "[1]" not in md and "at output index (0,)" in md


def test_a_report_without_details_or_columns_renders():
    rep = Report("prove", "t", (Result("a", "proved"),))
    out = shown(rep, 40)
    assert "prove: verified" in out and widest(out) <= 40


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("args", [
    ["prove"],
    ["check", *sorted(str(p) for p in (ROOT / "derivations").glob("*.toml"))],
    ["numeric", "--ref", "fd,oracle"],
    ["numeric", "--impl", str(ROOT / "examples" / "exp_z_minus_f.py"), "--ref", "oracle"],
])
def test_every_command_fits_80_columns(args):
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "80"}
    run = subprocess.run([sys.executable, "-m", "lsecheck", *args], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=300)
    assert run.returncode in (0, 1, 3), run.stderr
    assert run.stdout and widest(run.stdout) <= 80
