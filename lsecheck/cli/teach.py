"""`lsecheck accuracy` and `lsecheck demo`: what a teacher shows in class.

Only click is imported here; numpy, mpmath, the frameworks, SymPy and
matplotlib are imported when a command runs.
"""

from __future__ import annotations

import sys

import click

from lsecheck.cli.common import emit, export_option, json_option, path_callback

ACCURACY_FORMS = ("naive", "stable", "exp-f", "exp-max", "reference", "torch", "jax",
                  "autograd", "scipy")  # lsecheck.accuracy.FORM_KEYS (kept light here)
DTYPES = ("float64", "float32", "float16")
HANDOUTS = (".md", ".tex", ".html")  # lsecheck.walkthrough_render.FORMATS


def _csv(kind, name, choices=None):
    """A comma-separated (and repeatable) option parsed into a tuple of ``kind``."""

    def callback(ctx, param, values):
        if not values:
            return None
        out = []
        for value in values:
            for item in (v.strip() for v in value.split(",")):
                if not item:
                    continue
                try:
                    x = kind(item)
                except ValueError:
                    raise click.BadParameter(
                        f"{item!r} is not a {name}; give a comma-separated list", ctx, param
                    ) from None
                if choices and x not in choices:
                    raise click.BadParameter(
                        f"unknown {name} {item!r}; choose from {', '.join(choices)}", ctx, param
                    )
                out.append(x)
        if not out:
            raise click.BadParameter(f"give at least one {name}", ctx, param)
        return tuple(out)

    return callback


def _whole(text: str) -> int:
    x = float(text)
    if not x.is_integer():
        raise ValueError(text)
    return int(x)


def _plot_path(value):
    """Refuse a bad --plot path (or a missing matplotlib) before the sweep runs."""
    from lsecheck.plot import check_path

    return check_path(value)


def _progress_bar(enabled: bool):
    """A rich progress bar on the shared console, or nothing (not a terminal, --json)."""
    from contextlib import nullcontext

    if not enabled:
        return nullcontext(None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from lsecheck.render import console

    return Progress(TextColumn("{task.description:<34}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                    console=console(), transient=True)


@click.command()
@click.option("--dtype", "dtypes", multiple=True, metavar="LIST",
              callback=_csv(str, "dtype", DTYPES),
              help="Float formats, comma-separated: float64,float32,float16 (default: all).")
@click.option("--forms", "forms", multiple=True, metavar="LIST",
              callback=_csv(str, "form", ACCURACY_FORMS),
              help="Forms to measure, comma-separated (default: all): " + ", ".join(ACCURACY_FORMS)
              + ". Frameworks not installed are shown as skipped.")
@click.option("--magnitudes", multiple=True, metavar="LIST", callback=_csv(float, "number"),
              help="Input magnitudes M from 1 to 1e300, comma-separated; inputs are ±M + N(0,1) "
                   "[default: 1,1e2,1e3,1e4,1e8,1e15,1e16,1e300].")
@click.option("--lengths", multiple=True, metavar="LIST", callback=_csv(_whole, "whole number"),
              help="Vector lengths n, comma-separated [default: 8,128].")
@click.option("--samples", type=click.IntRange(1, 10_000), default=16, show_default=True,
              help="Random input vectors per cell.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of the random inputs.")
@click.option("--plot", "plot_path", default=None, metavar="FILE.png",
              callback=path_callback(_plot_path),
              help="Also draw bits lost against magnitude (.png, .svg or .pdf; needs the extra: "
                   "pip install 'lsecheck[plot]').")
@json_option
def accuracy(dtypes, forms, magnitudes, lengths, samples, seed, plot_path, as_json):
    """Bits lost by each form of LogSumExp and its gradient, against the exact value.

    Herbie's measure: log2(1 + number of floats between the computed and the
    exact value, from mpmath), mean and worst over random inputs ±M + N(0,1),
    swept over the magnitude M, the vector length, the float format and the
    forms: naive log Σ exp z, the stable forward, the gradient as exp(z − f)
    and as exp(z − max)/Σ, the lsecheck reference and each installed framework.
    A form losing more than 8 bits somewhere is flagged (exit 0: this measures,
    it does not verify).
    """
    from lsecheck import accuracy as acc

    kwargs = {"forms": forms, "dtypes": dtypes, "samples": samples, "seed": seed}
    if magnitudes:
        kwargs["magnitudes"] = magnitudes
    if lengths:
        kwargs["lengths"] = lengths
    with _progress_bar(not as_json and sys.stdout.isatty()) as bar:
        task = bar.add_task("starting", total=None) if bar else None

        def progress(done, total, label):
            if bar is not None:
                bar.update(task, completed=done, total=total, description=label)

        report = acc.run(progress=progress, **kwargs)
    if plot_path is not None:
        from lsecheck.plot import plot

        plot(report, plot_path)
        if not as_json:
            click.echo(f"wrote {plot_path}", err=True)
    return emit(report, as_json)


def _pause() -> bool:
    """Wait for a key: Enter (or space, →) goes on, q stops."""
    click.echo(click.style("  [Enter: next · q: stop]", dim=True), nl=False)
    key = click.getchar()
    click.echo("\r" + " " * 28 + "\r", nl=False)
    return key not in ("q", "Q", "\x1b")


@click.command()
@click.argument("file", required=False)
@click.option("--step", is_flag=True,
              help="Pause before each step for a live class: Enter goes on, q stops "
                   "(needs a terminal).")
@export_option(HANDOUTS)
@click.option("--mathjax", default=None, metavar="PATH|URL", envvar="LSECHECK_MATHJAX",
              help="MathJax 3 for --export FILE.html: a folder of 'npm install mathjax@3' or its "
                   "es5/tex-svg.js (inlined: the handout then works offline), or a URL. "
                   "Default: the jsDelivr CDN, which needs a network when the page is opened. "
                   "Environment: LSECHECK_MATHJAX.")
@click.option("--max-n", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Check the steps and theorems at every n up to this (and for symbolic n).")
@json_option
def demo(file, step, export, mathjax, max_n, as_json):
    """Walk through the derivation of the LogSumExp gradient, verified step by step.

    Without FILE: the seed note (derivations/logsumexp-note.toml) section by
    section — definitions, the non-max case, the max case, the tie subtlety,
    the general result, the code form — each step with the checker's or the
    prover's verdict; then numbers (where naive LogSumExp overflows, where
    exp(z − f) loses precision) and the tensor form with axes. FILE: any
    derivation (.toml, or a Markdown note) in its place.
    """
    if step and as_json:
        from lsecheck.errors import LseError

        raise LseError("--step: pauses the terminal walkthrough, which --json replaces; "
                       "use one or the other")
    if step and not (sys.stdin.isatty() and sys.stdout.isatty()):
        from lsecheck.errors import LseError

        raise LseError("--step: needs a terminal (stdin and stdout); without --step the "
                       "whole walkthrough is printed")
    if export is not None and export.suffix.lower() == ".html":
        from lsecheck.walkthrough_render import find_mathjax

        find_mathjax(mathjax)  # a bad --mathjax is refused before the work
    from lsecheck import demo as demo_mod
    from lsecheck import walkthrough_render as wr

    walk = demo_mod.build(file, max_n=max_n)
    report = walk.report()
    if as_json:
        from lsecheck.render import to_json

        click.echo(to_json(report))
    else:
        wr.render(walk, pause=_pause if step else None)
    if export is not None:
        wr.write(walk, export, mathjax)
        if not as_json:
            cjk = export.suffix.lower() == ".tex" and wr.has_cjk(export.read_text("utf-8"))
            click.echo(f"wrote {export}" + (" (CJK text: compile it with xelatex or lualatex, "
                                            "not pdflatex)" if cjk else ""), err=True)
    return report.exit_code


COMMANDS = (accuracy, demo)
