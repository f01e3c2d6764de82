"""A user's --impl (lsecheck.impl): loading it, calling it, its crashes, prints and hangs."""

import json
import textwrap
import time

import pytest
from conftest import run_main

from lsecheck import cases as C
from lsecheck import numeric as N
from lsecheck.errors import LseError
from lsecheck.impl import load_impl

FAST = ["--ref", "fd,oracle"]


def impl_file(tmp_path, body, name="impl.py"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(body))
    return str(p)


def test_impl_without_gradient_or_not_importing(tmp_path, capsys):
    no_grad = impl_file(tmp_path, "def forward(z, axes):\n    return z.sum()\n")
    code, _, err = run_main(["numeric", "--impl", no_grad], capsys)
    assert code == 2 and "no callable gradient(z, out_grad, axes)" in err
    broken = impl_file(tmp_path, "def forward(z, axes)\n    pass\n", "broken.py")
    code, _, err = run_main(["numeric", "--impl", broken], capsys)
    assert code == 2 and "SyntaxError" in err and "line 1" in err
    raising = impl_file(tmp_path, "raise RuntimeError('boom at import')\n", "boom.py")
    code, _, err = run_main(["numeric", "--impl", raising], capsys)
    assert code == 2 and "RuntimeError: boom at import" in err


CORRECT = "from lsecheck.reference import forward, gradient as _g\n"


@pytest.mark.parametrize("body, needle", [
    (CORRECT + "def gradient(z, g, axes):\n    raise ValueError('no idea')\n",
     "gradient raised ValueError: no idea"),
    (CORRECT + "def gradient(z, g, axes):\n    return _g(z, g, axes).ravel()\n",
     "gradient shape"),
    (CORRECT + "def gradient(z, g, axes):\n    return _g(z, g, axes).astype('float64')\n",
     "gradient dtype float64 for float32 input"),
    (CORRECT + "def gradient(z, g, axes):\n    return 'not an array'\n", "not floats"),
    ("import sys\n" + CORRECT + "def gradient(z, g, axes):\n    sys.exit(3)\n",
     "gradient raised SystemExit"),
])
def test_impl_errors_are_per_case_failures(tmp_path, body, needle):
    impl = load_impl(impl_file(tmp_path, body))
    rep = N.check(C.bank(0, "course", impl=True), ("oracle",), impl)
    assert rep.exit_code == 1
    assert any(needle in r.detail for r in rep.results), [r.detail for r in rep.results]


def test_a_hanging_impl_does_not_hang_lsecheck(tmp_path, capsys):
    body = CORRECT + "def gradient(z, g, axes):\n    while True:\n        pass\n"
    t0 = time.monotonic()
    code, out, err = run_main(["numeric", "--impl", impl_file(tmp_path, body), "--timeout",
                               "0.3", "--ref", "oracle", "--cases", "course"], capsys)
    assert code == 1 and "ran past the 0.3 s limit" in out
    assert time.monotonic() - t0 < 10


def test_impl_printing_does_not_break_json(tmp_path, capsys):
    body = ("from lsecheck.reference import gradient\nimport lsecheck.reference as r\n"
            "def forward(z, axes):\n    print('debug!')\n    return r.forward(z, axes)\n")
    code, out, _ = run_main(["numeric", "--impl", impl_file(tmp_path, body), "--json",
                             "--ref", "oracle", "--cases", "course"], capsys)
    assert code == 0 and json.loads(out)["verdict"] == "verified"


def test_a_class_named_with_colon(tmp_path, capsys):
    body = ("from lsecheck import reference as r\nclass Op:\n"
            "    def forward(self, z, axes):\n        return r.forward(z, axes)\n"
            "    def gradient(self, z, g, axes):\n        return r.gradient(z, g, axes)\n")
    code, out, _ = run_main(["numeric", "--impl", impl_file(tmp_path, body) + ":Op",
                             "--ref", "oracle", "--cases", "course"], capsys)
    assert code == 0


def test_library_raises_lse_error_for_bad_targets():
    with pytest.raises(LseError, match="--impl"):
        load_impl(":forward")


def test_a_hang_is_one_error_row(tmp_path, capsys):
    body = CORRECT + "def gradient(z, g, axes):\n    while True:\n        pass\n"
    code, out, _ = run_main(["numeric", "--impl", impl_file(tmp_path, body), "--timeout",
                             "0.2", *FAST, "--json"], capsys)
    obj = json.loads(out)
    bad = [r for r in obj["results"] if r["verdict"] in ("failed", "error")]
    assert code == 1 and len(bad) == 1 and bad[0]["name"] == "time limit"
    assert "ran past the 0.2 s limit on c000" in bad[0]["detail"]
    assert "later case(s) not run" in bad[0]["detail"]
    assert "time limit per call: 0.2 s" in "\n".join(obj["notes"])


def test_an_error_mentioning_a_limit_is_still_an_error(tmp_path):
    """Only a real time-out is set aside for the one 'time limit' row, not any message
    that happens to contain the word."""
    body = CORRECT + "def gradient(z, g, axes):\n    raise RuntimeError('rate limit; not run')\n"
    impl = load_impl(impl_file(tmp_path, body))
    rep = N.check(C.bank(0, "course", impl=True), ("oracle",), impl)
    rows = [r for r in rep.results if r.group == "impl vs oracle · course"]
    assert rep.exit_code == 1 and rows and all(r.verdict == "error" for r in rows)
    assert not any(r.name == "time limit" for r in rep.results)
