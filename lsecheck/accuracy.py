"""Bits lost: how far each floating-point form of LogSumExp lands from the truth.

Herbie's measure of error: for a computed float :math:`\\hat y` and the
exact value :math:`y` (mpmath, rounded once to the same format)

.. math::

    \\operatorname{bits}(\\hat y, y) = \\log_2\\bigl(1 + \\#\\{\\text{floats between }
    \\hat y \\text{ and } y\\}\\bigr)

0 means correctly rounded, 1 means one float off, 53 (float64) means no
correct bit left.  A NaN counts as every bit lost; an infinity counts its
distance from the exact float (the infinities sit just past the largest
finite float, so an overflow costs ~62 bits in float64).

The forms are one-line data entries (:data:`FORMS`), each next to its
formula.  All are *equal in symbols*; this module shows which are equal in
floating point.  Inputs are ``z_i = ±M + u_i`` with ``u_i ~ N(0, 1)``,
rounded to the dtype: the offsets keep the gradient far from one-hot, so
that its entries are O(1/n) and any error in them shows.  At large M the
offsets fall below one ulp of M and the inputs become ties, which is a
legitimate input too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from lsecheck.errors import LseError
from lsecheck.results import ERROR, FLAGGED, PASSED, SKIPPED, Report, Result

# --- tolerances and defaults, in one place ----------------------------------

FLAG_BITS = 8.0  # a form whose worst case loses more than this many bits is flagged
PREC = 160  # mpmath working precision for the exact values (bits)
DTYPES = ("float64", "float32", "float16")
MAGNITUDES = (1.0, 1e2, 1e3, 1e4, 1e8, 1e15, 1e16, 1e300)
LENGTHS = (8, 128)
SAMPLES = 16
SEED = 0
SIGNS = (1, -1)
MAX_SAMPLES = 10_000
MAX_LENGTH = 100_000
MAX_ENTRIES = 5_000_000  # exact values per run (mpmath, ~6 µs each): about 30 s at most
US_PER_ENTRY = 6.0

F, GRAD = "f", "∇f"

# --- the forms: each a one-line rule over a (samples, n) batch, axis -1 ------


def _max(z):
    return np.max(z, axis=-1, keepdims=True)


def _stable(z):
    m = _max(z)
    return np.log(np.sum(np.exp(z - m), axis=-1)) + m[..., 0]


@dataclass(frozen=True)
class Form:
    """One way to compute f or ∇f.  ``rule(z) -> {output: array}``."""

    key: str
    name: str
    formula: str = ""
    rule: Callable | None = None
    backend: str | None = None  # a framework from lsecheck.backends


FORMS: tuple[Form, ...] = (
    Form("naive", "naive", r"\log \sum_i e^{z_i}",
         lambda z: {F: np.log(np.sum(np.exp(z), axis=-1))}),
    Form("stable", "stable", r"\log \sum_i e^{z_i - \max z} + \max z",
         lambda z: {F: _stable(z)}),
    Form("exp-f", "exp(z − f)", r"e^{z_j - f}",
         lambda z: {GRAD: np.exp(z - _stable(z)[..., None])}),
    Form("exp-max", "exp(z − max)/Σ", r"e^{z_j - \max z} / \sum_i e^{z_i - \max z}",
         lambda z: {GRAD: (e := np.exp(z - _max(z))) / np.sum(e, axis=-1, keepdims=True)}),
    # the frameworks, through lsecheck.backends (formula: the backend's grad_form)
    Form("reference", "reference", backend="reference"),
    Form("torch", "PyTorch", backend="torch"),
    Form("jax", "JAX", backend="jax"),
    Form("autograd", "HIPS autograd", backend="autograd"),
    Form("scipy", "SciPy", backend="scipy"),
)
FORM_KEYS = tuple(f.key for f in FORMS)


# --- the measure: Herbie's bits, from lsecheck.oracle -----------------------


def bits_lost(computed, exact) -> np.ndarray:
    """Herbie's error in bits, elementwise (``exact``: floats or mpf, any shape alike)."""
    from lsecheck import oracle

    computed = np.asarray(computed)
    return oracle.bits_error(computed, exact, computed.dtype)


# --- sampling and the exact values --------------------------------------------


def sample(rng: np.random.Generator, magnitude: float, sign: int, n: int, samples: int,
           dtype: np.dtype) -> np.ndarray:
    """``samples`` vectors ``±M + N(0, 1)`` of length ``n``, rounded to ``dtype``."""
    u = rng.standard_normal((samples, n))
    return (sign * magnitude + u).astype(dtype)


def exact(z: np.ndarray) -> dict[str, np.ndarray]:
    """The exact f and ∇f of each row of ``z``, rounded once to ``z.dtype``."""
    from lsecheck import oracle

    z64 = z.astype(np.float64)  # exact: every float16/32 is a float64
    f, g = oracle.logsumexp_softmax(z64, axes=(z.ndim - 1,), keepdims=False, prec=PREC)
    return {F: oracle.round_to(f, z.dtype), GRAD: oracle.round_to(g, z.dtype)}


def fits(magnitude: float, dtype: np.dtype) -> bool:
    """Whether inputs of this magnitude are finite in ``dtype``."""
    return magnitude + 8 < float(np.finfo(dtype).max)


# --- running the sweep ---------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """Bits lost by one form's output on one batch of inputs."""

    form: str
    output: str
    dtype: str
    n: int
    sign: int
    magnitude: float
    mean: float
    worst: float
    nonfinite: int  # outputs that came out inf or NaN

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def magnitude_label(m: float) -> str:
    if m == 1:
        return "1"
    k = round(math.log10(m))
    return f"1e{k}" if 10.0**k == m else f"{m:g}"


def _evaluate(form: Form, z: np.ndarray, backend=None) -> dict[str, np.ndarray]:
    with np.errstate(all="ignore"):
        if form.rule is not None:
            out = form.rule(z)
        else:
            g = np.ones(z.shape[:-1], dtype=z.dtype)
            value, vjp = backend.value_and_vjp(z, g, axes=(z.ndim - 1,), keepdims=False)
            out = {F: value, GRAD: vjp}
        # what the user would store: the answer in the input dtype (a form that
        # upcasts float16 internally gets the credit for it)
        return {k: np.asarray(v).astype(z.dtype) for k, v in out.items()}


def _parse_forms(forms: Sequence[str | Form] | None) -> tuple[Form, ...]:
    if not forms:
        return FORMS
    by_key = {f.key: f for f in FORMS}
    out = []
    for key in forms:
        if isinstance(key, Form):  # a caller's own form, e.g. an implementation under test
            out.append(key)
            continue
        if key not in by_key:
            raise LseError(
                f"--forms: unknown form {key!r}; choose from {', '.join(FORM_KEYS)}")
        if by_key[key] not in out:
            out.append(by_key[key])
    return tuple(out)


def _parse_dtypes(dtypes: Sequence[str] | None) -> tuple[np.dtype, ...]:
    out = []
    for name in dtypes or DTYPES:
        if name not in DTYPES or not hasattr(np, name):
            raise LseError(f"--dtype: unknown dtype {name!r}; choose from {', '.join(DTYPES)}")
        out.append(np.dtype(name))
    return tuple(dict.fromkeys(out))


def _check_numbers(magnitudes, lengths, samples):
    for m in magnitudes:
        if not (isinstance(m, (int, float)) and math.isfinite(m) and 1 <= m <= 1e300):
            raise LseError(f"--magnitudes: each must be a number from 1 to 1e300 (got {m:g}); "
                           "both signs are always swept")
    for n in lengths:
        if not (isinstance(n, int) and 1 <= n <= MAX_LENGTH):
            raise LseError(f"--lengths: each must be a whole number from 1 to {MAX_LENGTH} "
                           f"(got {n})")
    if not (isinstance(samples, int) and 1 <= samples <= MAX_SAMPLES):
        raise LseError(f"--samples: must be a whole number from 1 to {MAX_SAMPLES} "
                       f"(got {samples})")


def run(
    forms: Sequence[str | Form] | None = None,
    dtypes: Sequence[str] | None = None,
    magnitudes: Sequence[float] = MAGNITUDES,
    lengths: Sequence[int] = LENGTHS,
    samples: int = SAMPLES,
    seed: int = SEED,
    progress: Callable[[int, int, str], None] | None = None,
) -> Report:
    """Measure bits lost by every form over the sweep; return a :class:`Report`.

    ``forms`` are keys of :data:`FORMS` or :class:`Form` objects of the
    caller's own (``rule(z)`` maps a ``(samples, n)`` batch to
    ``{"f": (samples,), "∇f": (samples, n)}``, either key optional).

    One table (``group``) per (form, output, n), one result row per magnitude
    (both signs together); its ``info`` holds one ``"mean/worst"`` cell per
    dtype.  The numbers themselves, each sign apart, are in
    ``report.meta["cells"]`` (one record per cell, for JSON and plots).
    ``progress(done, total, label)`` is called before each step (``label``
    says what runs next) and once at the end.
    """
    chosen = _parse_forms(forms)
    kinds = _parse_dtypes(dtypes)
    magnitudes = tuple(sorted({float(m) for m in magnitudes}))
    lengths = tuple(sorted(set(lengths)))
    _check_numbers(magnitudes, lengths, samples)
    start = time.perf_counter()

    from lsecheck import backends as bk

    backends = {f.key: bk.get(f.backend) for f in chosen if f.backend}
    unusable = {k: f"not installed: {b.install}" for k, b in backends.items()
                if not b.available()}
    formulas = {f.key: backends[f.key].grad_form if f.backend else f.formula for f in chosen}

    rng = np.random.default_rng(seed)
    cells: list[Cell] = []
    failures: dict[tuple, str] = {}
    live = [f for f in chosen if f.key not in unusable]
    blocks = [(dt, n, [(s, m) for s in SIGNS for m in magnitudes if fits(m, dt)])
              for dt in kinds for n in lengths]
    blocks = [b for b in blocks if b[2]]  # a dtype none of the magnitudes fits: nothing to run
    if not blocks:  # never a silent "nothing checked"
        raise LseError(
            f"--magnitudes: none fits {', '.join(d.name for d in kinds)} (largest float "
            f"{max(float(np.finfo(d).max) for d in kinds):.4g}); choose smaller magnitudes "
            "or another --dtype")
    entries = sum(n * samples * len(batches) for _, n, batches in blocks)
    if entries > MAX_ENTRIES:  # refuse a sweep that would run for minutes
        raise LseError(
            f"--samples/--lengths: this sweep needs {entries:.2g} exact values (about "
            f"{entries * US_PER_ENTRY / 1e6:.0f} s); the limit is {MAX_ENTRIES:.0e}: "
            "lower --samples or --lengths, or sweep fewer --magnitudes/--dtype")
    total = sum(len(batches) + len(live) for _, _, batches in blocks)
    done = 0

    def step(label):  # report the step about to run
        if progress is not None:
            progress(done, total, label)

    for dt, n, batches in blocks:
        # every (sign, magnitude) batch of one (dtype, n) stacked: one call a form
        zs, truths = [], []
        for s, m in batches:
            step(f"exact {dt.name} n={n} z≈{'+' if s > 0 else '−'}{magnitude_label(m)}")
            zs.append(sample(rng, m, s, n, samples, dt))
            truths.append(exact(zs[-1]))
            done += 1
        z = np.concatenate(zs)
        for form in live:
            step(f"{form.name} {dt.name} n={n}")
            try:
                out = _evaluate(form, z, backends.get(form.key))
            except Exception as e:  # a framework refusing a dtype, say
                failures.setdefault((form.key, dt.name), f"{type(e).__name__}: {e}"[:160])
                out = {}
            for output, y in out.items():
                y = y.reshape(len(batches), samples, -1)
                for (s, m), truth, yb in zip(batches, truths, y, strict=True):
                    lost = bits_lost(yb.reshape(truth[output].shape), truth[output])
                    worst_entry = lost.reshape(samples, -1).max(axis=1)  # per sample
                    cells.append(Cell(form.key, output, dt.name, n, s, m,
                                      float(worst_entry.mean()), float(worst_entry.max()),
                                      int(np.sum(~np.isfinite(yb)))))
            done += 1
    step("done")

    results = _rows(chosen, kinds, lengths, magnitudes, cells, unusable, failures)
    notes = (
        "cell = mean/worst bits lost over the samples of z ≈ +M and z ≈ −M (each sign apart "
        "in --json); bits = log2(1 + floats between the computed value and the exact one); "
        "for ∇f, the worst entry of each sample counts",
        f"inputs z_i = ±M + N(0,1) rounded to the dtype; exact values by mpmath at {PREC} bits; "
        f"{samples} samples per cell, seed {seed}",
        f"flagged: a magnitude where the form loses more than {FLAG_BITS:g} bits, or gives "
        "inf/NaN; '—': the magnitude does not fit the dtype (or the form failed there)",
    )
    meta = {
        "magnitudes": list(magnitudes), "lengths": list(lengths),
        "dtypes": [d.name for d in kinds], "samples": samples, "seed": seed, "prec": PREC,
        "flag_bits": FLAG_BITS, "forms": {f.key: f.name for f in chosen}, "formulas": formulas,
        "cells": [c.as_dict() for c in cells],
        "seconds": round(time.perf_counter() - start, 3),
    }
    return Report("accuracy", "Bits lost (mean/worst)", tuple(results),
                  columns=tuple(d.name for d in kinds), notes=notes, meta=meta)


def _fmt_bits(x: float) -> str:
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}".removesuffix(".0")


def _merge(cells: list[Cell]) -> Cell | None:
    """Both signs of one magnitude as one cell: the mean of the means (equal sample
    counts), the worst of the worsts, the inf/NaN counted together."""
    if not cells:
        return None
    c = cells[0]
    return Cell(c.form, c.output, c.dtype, c.n, 0, c.magnitude,
                sum(x.mean for x in cells) / len(cells), max(x.worst for x in cells),
                sum(x.nonfinite for x in cells))


def _rows(chosen, kinds, lengths, magnitudes, cells, unusable, failures) -> list[Result]:
    """One table a (form, output, n): magnitudes as rows, dtypes as columns.

    That shape keeps the table to ~50 columns of a terminal whatever the
    sweep (a form × magnitude table needs ~120); the forms are compared
    table after table, and side by side in the plot.
    """
    index: dict[tuple, list[Cell]] = {}
    for c in cells:
        index.setdefault((c.form, c.output, c.dtype, c.n, c.magnitude), []).append(c)
    rows = []
    for form in chosen:
        if form.key in unusable:
            rows.append(Result("not run", SKIPPED, form.name, unusable[form.key]))
            continue
        for dt in kinds:
            if (form.key, dt.name) in failures:
                rows.append(Result("error", ERROR, form.name,
                                   f"{dt.name}: {failures[(form.key, dt.name)]}"))
        for output in (F, GRAD):
            for n in lengths:
                group = f"{form.name}: {output}, n={n}"
                for m in magnitudes:
                    mine = {dt.name: _merge(index.get((form.key, output, dt.name, n, m), []))
                            for dt in kinds}
                    if any(mine.values()):
                        rows.append(_row("±" + magnitude_label(m), group, mine))  # both signs
    return rows


def _row(label, group, mine: dict[str, Cell | None]) -> Result:
    info = {dt: None if c is None else f"{_fmt_bits(c.mean)}/{_fmt_bits(c.worst)}"
            for dt, c in mine.items()}
    present = [dt for dt, c in mine.items() if c is not None]
    bad = [dt for dt in present if mine[dt].nonfinite]
    lossy = [dt for dt in present if mine[dt].worst > FLAG_BITS and dt not in bad]

    def where(dts):  # short enough for an 80-column terminal
        return "every dtype" if len(dts) > 1 and len(dts) == len(mine) else ", ".join(dts)

    detail = "; ".join(part for part in (
        f"inf/NaN: {where(bad)}" if bad else "",
        f">{FLAG_BITS:g} bits: {where(lossy)}" if lossy else "") if part)
    return Result(label, FLAGGED if lossy or bad else PASSED, group, detail, info=info)
