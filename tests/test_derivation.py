"""The TOML derivation format."""

from pathlib import Path

import pytest

from lsecheck import derivation
from lsecheck.errors import LseError

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("path", sorted((ROOT / "derivations").glob("*.toml")), ids=str)
def test_shipped_derivations_load(path):
    d = derivation.load(path)
    assert d.title and d.chains and all(len(c.steps) >= 2 for c in d.chains)
    assert all(s.line > 0 for c in d.chains for s in c.steps)  # positions found in the file


def test_steps_strings_or_tables_with_why():
    d = derivation.loads("title = 't'\n[[chain]]\ncase = 'j \\neq k'\n"
                         "steps = ['z_j', { latex = 'z_j + 0', why = 'add 0' }]\n", "t.toml")
    c = d.chains[0]
    assert c.case == ("j \\neq k",) and c.steps[1].why == "add 0" and c.steps[1].line == 4


@pytest.mark.parametrize("text,msg", [
    ("title = 't'\n", r"no \[\[chain"),
    ("[[chain]]\nsteps = ['z_j']\n", "at least two steps"),
    ("[[chain]]\nsteps = []\n", "at least two steps"),
    ("title = \n", "not valid TOML"),
    ("colour = 1\n[[chain]]\nsteps=['a','b']\n", "unknown key 'colour'"),
    ("[[chain]]\nsteps = [1, 2]\n", "expected a LaTeX string"),
])
def test_bad_files(text, msg):
    with pytest.raises(LseError, match=msg):
        derivation.loads(text, "bad.toml")


def test_read_text_errors(tmp_path):
    (tmp_path / "latin1.toml").write_bytes(b"title = '\xe9'\n")
    with pytest.raises(LseError, match="not UTF-8"):
        derivation.load(tmp_path / "latin1.toml")
    with pytest.raises(LseError, match="is a directory"):
        derivation.load(tmp_path)
    with pytest.raises(LseError, match="no such file"):
        derivation.load(tmp_path / "nope.toml")
