"""`lsecheck accuracy` and `lsecheck demo` on the command line: output, exit codes, bad input."""

import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest
from conftest import run_main

from lsecheck.cli import cli

SMALL = ["--dtype", "float64", "--lengths", "4", "--samples", "3", "--magnitudes", "1,1e4"]


def one_line_error(code, err, *words):
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err


# --- accuracy -------------------------------------------------------------------------

def test_accuracy_table(runner):
    res = runner.invoke(cli, ["accuracy", *SMALL, "--forms", "naive,exp-f,exp-max"])
    assert res.exit_code == 0, res.output
    assert "Bits lost (mean/worst) — exp(z − f): ∇f, n=4" in res.output
    assert "exp(z − f)" in res.output and "flagged" in res.output
    assert "accuracy: verified" in res.output


def test_accuracy_json_and_plot(runner, tmp_path):
    png = tmp_path / "acc.png"
    res = runner.invoke(cli, ["accuracy", *SMALL, "--forms", "stable,exp-f", "--json",
                              "--plot", str(png)])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert obj["command"] == "accuracy" and obj["meta"]["magnitudes"] == [1.0, 1e4]
    cells = [c for c in obj["meta"]["cells"] if c["form"] == "exp-f" and c["magnitude"] == 1e4]
    assert cells and all(c["worst"] >= 10 for c in cells)
    assert png.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("args,words", [
    (["--samples", "0"], ["--samples"]),
    (["--forms", "naive,bogus"], ["--forms", "bogus", "exp-f"]),
    (["--dtype", "float128"], ["--dtype", "float128"]),
    (["--magnitudes", "abc"], ["--magnitudes", "'abc' is not a number"]),
    (["--magnitudes", "0.5"], ["--magnitudes", "from 1 to 1e300"]),
    (["--magnitudes", "1e8", "--dtype", "float16"], ["--magnitudes", "none fits float16"]),
    (["--magnitudes", ","], ["--magnitudes", "at least one"]),
    (["--lengths", "2.5"], ["--lengths", "whole number"]),
    (["--lengths", "0"], ["--lengths", "from 1"]),
    (["--plot", "acc.jpg"], ["--plot", "unknown format '.jpg'"]),
    (["--plot", "no-such-dir/acc.png"], ["--plot", "does not exist"]),
    (["--plot", "/proc/acc.png"], ["--plot", "cannot write"]),
])
def test_accuracy_bad_input_is_one_line_exit_2(capsys, args, words):
    code, out, err = run_main(["accuracy", *args], capsys)
    one_line_error(code, err, *words)


def test_accuracy_without_matplotlib_names_the_extra(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    code, out, err = run_main(["accuracy", *SMALL, "--plot", str(tmp_path / "a.png")], capsys)
    one_line_error(code, err, "matplotlib is not installed", "pip install 'lsecheck[plot]'")


# --- demo -------------------------------------------------------------------------------

def test_demo_prints_the_walkthrough(runner):
    res = runner.invoke(cli, ["demo"])
    assert res.exit_code == 0, res.output
    for title in ("Definitions", "The non-max case", "The max case", "The tie subtlety",
                  "The general result", "The code form", "where the naive form overflows",
                  "The tensor form with axes"):
        assert title in res.output
    assert "demo: verified" in res.output


def test_demo_json(capsys):
    code, out, err = run_main(["demo", "--json"], capsys)
    obj = json.loads(out)
    assert obj["command"] == "demo" and obj["exit_code"] == code == 0
    keys = [s["key"] for s in obj["meta"]["sections"]]
    assert keys[:6] == ["definitions", "non-max", "max", "ties", "general", "code"]


def test_demo_of_a_wrong_derivation_exits_1(capsys, tmp_path):
    from test_demo import WRONG

    p = tmp_path / "wrong.toml"
    p.write_text(WRONG, encoding="utf-8")
    code, out, err = run_main(["demo", str(p)], capsys)
    assert code == 1 and "✗ refuted" in out and "counterexample" in out


@pytest.mark.parametrize("suffix", [".md", ".tex", ".html"])
def test_demo_exports(runner, tmp_path, suffix):
    out = tmp_path / f"handout{suffix}"
    res = runner.invoke(cli, ["demo", "derivations/softmax-jacobian.toml", "--export", str(out),
                              "--mathjax", "https://example.org/tex-svg.js"])
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "Softmax Jacobian" in text


@pytest.mark.parametrize("args,words", [
    (["--step"], ["--step", "needs a terminal"]),
    (["--step", "--json"], ["--step", "--json"]),
    (["--export", "h.docx"], ["--export", "unknown format '.docx'"]),
    (["--export", "no-such-dir/h.html"], ["--export", "does not exist"]),
    (["--export", "/proc/h.md"], ["--export", "cannot write"]),
    (["--export", "h.html", "--mathjax", "/no/such/mathjax"], ["--mathjax", "npm install"]),
    (["no-such-file.toml"], ["no-such-file.toml", "no such file"]),
    (["derivations"], ["derivations", "is a directory"]),
    (["--max-n", "0"], ["--max-n"]),
])
def test_demo_bad_input_is_one_line_exit_2(capsys, args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "derivations").mkdir()
    code, out, err = run_main(["demo", *args], capsys)
    one_line_error(code, err, *words)
    assert not (tmp_path / "h.html").exists()


def _read_until(fd, needle: bytes, timeout: float) -> bytes:
    data, end = b"", time.monotonic() + timeout
    while needle not in data and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    return data


def test_demo_step_in_a_terminal_goes_on_with_enter_and_stops_with_q():
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "-m", "lsecheck", "demo", "--step"],
                            stdin=follower, stdout=follower, stderr=follower, env=env,
                            close_fds=True)
    os.close(follower)
    try:
        seen = _read_until(leader, b"q: stop", 60)  # first pause, before the first section
        assert b"Gradient of the stable LogSumExp" in seen
        assert b"Definitions" not in seen
        time.sleep(1.0)  # let getchar put the terminal in raw mode (it flushes typed-ahead keys)
        os.write(leader, b"\r")
        seen += _read_until(leader, b"Definitions", 20)
        assert b"Definitions" in seen
        _read_until(leader, b"q: stop", 10)
        time.sleep(1.0)
        os.write(leader, b"q")
        seen += _read_until(leader, b"\x00never", 5)
        assert proc.wait(timeout=20) == 0
        assert b"The non-max case" not in seen  # stopped before it
        assert b"stopped at 'Definitions'" in seen and b"demo: verified" in seen
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)


def test_cli_choices_match_the_library():
    """The CLI keeps its own copy of the choices (so that --help imports nothing heavy)."""
    from lsecheck import accuracy, walkthrough_render
    from lsecheck.cli import teach

    assert teach.ACCURACY_FORMS == accuracy.FORM_KEYS
    assert teach.DTYPES == accuracy.DTYPES
    assert teach.HANDOUTS == walkthrough_render.FORMATS
