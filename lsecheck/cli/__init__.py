"""The ``lsecheck`` command line: one click group, one command a verb.

Only click and this package's light modules are imported here, so that
``lsecheck --help`` stays fast; each command imports its library module
(SymPy, lark, numpy, the frameworks) when it runs.
"""

from __future__ import annotations

import os
import sys

import click

from lsecheck import __version__
from lsecheck.errors import LseError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="lsecheck")
def cli():
    """Verify the gradient of the numerically stable LogSumExp.

    f(z) = log Σ exp(z_i − max z) + max z has gradient softmax(z) = exp(z − f):
    exact in symbols, not in floating point. Exit codes for every command:
    0 verified, 1 refuted or mismatched, 2 usage or input error, 3 undecided.
    """


from lsecheck.cli import check, numeric, prove, teach  # noqa: E402

for _module in (prove, check, numeric, teach):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the group, turn every error into one line on stderr."""
    prog = "lsecheck"
    try:
        code = cli.main(args=argv, prog_name=prog, standalone_mode=False)
    except click.UsageError as e:
        where = e.ctx.command_path if e.ctx else prog
        click.echo(f"{where}: error: {e.format_message()} (see '{where} --help')", err=True)
        code = 2
    except click.ClickException as e:  # e.g. click.FileError
        click.echo(f"{prog}: error: {e.format_message()}", err=True)
        code = 2
    except LseError as e:
        click.echo(f"{prog}: error: {e}", err=True)
        code = e.exit_code
    except click.Abort:
        click.echo(f"{prog}: aborted", err=True)
        code = 130
    except KeyboardInterrupt:
        click.echo(f"{prog}: interrupted", err=True)
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception as e:  # a bug of ours: still one line, unless debugging
        if os.environ.get("LSECHECK_DEBUG"):
            raise
        click.echo(
            f"{prog}: internal error: {type(e).__name__}: {e} "
            "(set LSECHECK_DEBUG=1 for the traceback and report it)",
            err=True,
        )
        code = 2
    sys.exit(code if isinstance(code, int) else 0)
