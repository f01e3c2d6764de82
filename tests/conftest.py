"""Shared test helpers.

``need(module)`` imports an optional backend or skips the test; under
``LSECHECK_REQUIRE_BACKENDS=1`` (set by CI) a missing backend fails the test
instead of skipping it.
"""

from __future__ import annotations

import importlib
import os

import pytest

REQUIRE = os.environ.get("LSECHECK_REQUIRE_BACKENDS") == "1"


def need(module: str):
    try:
        return importlib.import_module(module)
    except ImportError as e:
        if REQUIRE:
            pytest.fail(f"backend {module} is required (LSECHECK_REQUIRE_BACKENDS=1) but: {e}")
        pytest.skip(f"{module} not installed")


def need_exe(name: str, install: str) -> str:
    """The path of a program a test drives (chromium, pdflatex), or skip; fail under
    ``LSECHECK_REQUIRE_BACKENDS=1``, where CI has installed it."""
    import shutil

    exe = shutil.which(name)
    if exe is None:
        if REQUIRE:
            pytest.fail(f"{name} is required (LSECHECK_REQUIRE_BACKENDS=1): {install}")
        pytest.skip(f"{name} not installed ({install})")
    return exe


@pytest.fixture
def runner():
    from click.testing import CliRunner

    return CliRunner()


def run_main(args, capsys):
    """(exit code, stdout, stderr) of the real entry point, as a user sees them."""
    from lsecheck.cli import main

    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err
