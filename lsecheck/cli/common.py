"""Options and output shared by every command (click only, nothing heavy)."""

from __future__ import annotations

import click

json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object (schema in README) instead of tables.",
)


def path_callback(check):
    """A click callback refusing a bad output path before any work: ``check(value)``
    (a library function raising LseError) becomes a click usage error."""

    def callback(ctx, param, value):
        if value is None:
            return None
        from lsecheck.errors import LseError

        try:
            return check(value)
        except LseError as e:
            raise click.BadParameter(str(e).split(": ", 1)[-1], ctx, param) from None

    return callback


def _check_export(formats):
    def check(value):
        from lsecheck.export import check_path

        return check_path(value, formats)

    return path_callback(check)


def export_option(formats=(".md", ".tex")):
    return click.option(
        "--export",
        "export",
        default=None,
        metavar="FILE" + "|".join(formats),
        callback=_check_export(formats),
        help=f"Also write a handout; the format follows the suffix ({', '.join(formats)}).",
    )


def _max_n(ctx, param, value):
    """A whole number from 1 to MAX_N_LIMIT; the message names the argument and the range."""
    from lsecheck.limits import MAX_N_LIMIT  # light: the standard library only

    text = str(value).strip()
    try:
        n = int(text)
    except ValueError:
        n = None
    if n is None or not 1 <= n <= MAX_N_LIMIT:
        raise click.BadParameter(f"must be a whole number from 1 to {MAX_N_LIMIT} (got {text})",
                                 ctx, param)
    return n


def max_n_option(default: int, help: str):
    return click.option("--max-n", "max_n", default=str(default), show_default=True,
                        callback=_max_n, metavar="N", help=help)


def timeout_option(default: float = 10.0):
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0.01, max=3600),
        default=default,
        show_default=True,
        help="Seconds allowed for one SymPy computation; past it the verdict is 'undecided'.",
    )


def emit(report, as_json: bool = False, export=None) -> int:
    """Show ``report`` (table or JSON), write the handout, return the exit code."""
    from lsecheck import render

    if as_json:
        click.echo(render.to_json(report))
    else:
        render.render(report)
    if export is not None:
        from lsecheck import export as ex

        ex.write(report, export)
        if not as_json:
            click.echo(f"wrote {export}", err=True)
    return report.exit_code
