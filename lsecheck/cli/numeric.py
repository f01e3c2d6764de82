"""`lsecheck numeric`: the gradient against PyTorch, JAX, autograd, finite differences, mpmath."""

from __future__ import annotations

import click

from lsecheck.cli.common import emit, export_option, json_option

REF_NAMES = ("torch", "jax", "autograd", "scipy", "fd", "oracle")
PROGRESS_MIN = 20  # cases: shorter sweeps get no progress bar


def show_progress(stdout, as_json: bool, n_cases: int) -> bool:
    """A progress bar only for a person: a terminal, no --json, a sweep worth waiting for."""
    isatty = getattr(stdout, "isatty", None)
    return bool(isatty and isatty()) and not as_json and n_cases > PROGRESS_MIN


def _refs(ctx, param, value):
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in REF_NAMES]
    if bad or not names:
        raise click.BadParameter(
            f"{', '.join(bad) or 'nothing given'}: choose from {','.join(REF_NAMES)}", ctx, param)
    if len(set(names)) != len(names):
        raise click.BadParameter(f"{value}: a reference is named twice", ctx, param)
    return tuple(names)


@click.command()
@click.option("--axes", "axes", multiple=True, metavar="SPEC",
              help="Axes to reduce: 'none'; '1' (an int, like torch's dim=1: extended "
                   "cases); '1,' or '0,2' (a tuple, the course's form); '-1'. Repeatable. "
                   "Default: every form.")
@click.option("--shape", default=None, metavar="3,4,5",
              help="Input shape (default: random shapes, 0-d to 5-d).")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default=None,
              help="Only this dtype (default: both).")
@click.option("--ref", "refs", default="torch,jax,autograd,fd,oracle", show_default=True,
              metavar="LIST",
              callback=_refs, help="References to compare with (missing ones are listed).")
@click.option("--impl", default=None, metavar="TARGET",
              help="Check your implementation: module.path or file.py, optionally :NAME, "
                   "providing forward(z, axes) and gradient(z, out_grad, axes).")
@click.option("--cases", "which", type=click.Choice(["course", "full"]), default="full",
              show_default=True, help="course: the course op's contract only; full: also "
                                      "int/negative axes, large magnitudes, inf/nan/empty.")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), default=0, show_default=True,
              help="Seed of the random shapes and values (same seed, same run).")
@click.option("--strict", is_flag=True,
              help="Precision loss (the exp(z − f) form) and edge-case deviations fail.")
@click.option("--timeout", type=click.FloatRange(min=0.01, max=3600), default=10.0,
              show_default=True, help="Seconds allowed for one call of --impl's functions.")
@json_option
@export_option()
def numeric(axes, shape, dtype, refs, impl, which, seed, strict, timeout, as_json, export):
    """Cross-check the LogSumExp gradient numerically, or check your implementation.

    Without --impl: the lsecheck reference and the installed frameworks against an
    mpmath oracle (128 bits) and central finite differences, with the frameworks'
    own deviations (precision loss of exp(z − f), nan at +inf). With --impl: your
    forward and gradient against every reference; a failure is shrunk to the
    smallest failing case. Exit 0 all passed (flagged included), 1 a failure,
    2 bad input.
    """
    import sys

    from lsecheck import cases as C
    from lsecheck import numeric as N
    from lsecheck.impl import load_impl

    shp = C.parse_shape(shape) if shape is not None else None
    axes_list = []
    for a in map(C.parse_axes, axes):  # a repeated form would only repeat its cases
        if a not in axes_list:
            axes_list.append(a)
    dts = (dtype,) if dtype else C.DTYPES
    if shp is not None or axes_list:
        from lsecheck.reference import normalize_axes

        s = C.DEFAULT_SHAPE if shp is None else shp
        on = "" if shp is not None else \
            f" (on the default shape {','.join(map(str, s))}; give --shape)"
        for a in axes_list:
            normalize_axes(a, len(s), name=f"--axes {a if a is not None else 'none'}{on}")
        C.check_size(s, "oracle" in refs, C.count(s, axes_list, dts))
    imp = load_impl(impl, timeout) if impl else None
    bank = C.bank(seed, which, dts, shp, axes_list or None, impl=imp is not None)
    if not bank:
        from lsecheck.errors import LseError

        hint = (" (--cases course keeps axes none or tuples of non-negative ints: write "
                "--axes 0, for the tuple (0,))" if which == "course" else "")
        raise LseError(f"--cases/--shape/--axes: no case left to check{hint}; widen the "
                       "selection")
    if show_progress(sys.stdout, as_json, len(bank)):
        from rich.progress import Progress

        from lsecheck.render import console

        with Progress(console=console(), transient=True) as bar:
            task = bar.add_task("numeric", total=len(bank))
            report = N.check(bank, refs, imp, strict, lambda k: bar.advance(task, k), seed)
    else:
        report = N.check(bank, refs, imp, strict, None, seed)
    return emit(report, as_json, export)


COMMANDS = (numeric,)
