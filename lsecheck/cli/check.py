"""`lsecheck check`: verify a hand-written derivation step by step."""

from __future__ import annotations

import click

from lsecheck.cli.common import emit, export_option, json_option, max_n_option, timeout_option


@click.command("check")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@max_n_option(6, "Where symbolic n is not reduced, check every n up to N exactly (1..512).")
@timeout_option(10.0)
@click.option("--sidecar", default=None, metavar="FILE.toml",
              help="Definitions and cases for a Markdown note (docs/check.md).")
@json_option
@export_option((".md", ".tex"))
def check(files, max_n, timeout, sidecar, as_json, export):
    """Verify a derivation step by step and point at the wrong step.

    FILE is a derivation (.toml, format in docs/check.md) or a Markdown note
    ($$…$$, align*, Hugo math_block). Several files may be given (a shell
    glob such as derivations/*.toml); a directory is refused. Each step is
    compared with the previous checkable one: proved, refuted (with a
    counterexample), undecided, or not checkable (and bridged). After a refuted
    step, a step equal to the last correct one is proved against it ('back on
    track'), so one error shows one refuted step. Exit 0 all proved, 1 refuted,
    2 bad input, 3 undecided.
    """
    from lsecheck.check import check_paths  # checks --max-n and --timeout
    from lsecheck.errors import LseError

    if sidecar is not None and len(files) > 1:
        raise LseError("--sidecar: applies to one Markdown note; give one FILE with it")
    return emit(check_paths(files, max_n, timeout, sidecar), as_json, export)


COMMANDS = (check,)
