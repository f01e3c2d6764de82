"""The case bank of ``lsecheck numeric``: shapes × axes × dtypes × values.

A case is one input ``z`` with its ``axes``, dtype and an ``out_grad`` ``g``
(random, shaped like the output: the check is a vector–Jacobian product).
Each case carries

* ``group``: ``course`` — the contract of the course op (``axes`` None or a
  tuple of non-negative ints, ordinary magnitudes, finite values) — or
  ``extended`` (int and negative axes, ``keepdims``, large magnitudes,
  non-finite or empty inputs);
* ``kind``: the value family, one table row (``scale 1``, ``|z| ≈ 1e8``,
  ``+inf entries`` …; see ``KINDS``);
* ``edge``: non-finite or empty inputs, where the answer is a convention
  (a limit); deviations there are *flagged*, not failed (``--strict`` fails them).

Structures (shape, axes) are few and reused across value families on
purpose: JAX compiles once per (shape, dtype, axes).  ``--seed`` makes the
bank repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lsecheck.errors import LseError
from lsecheck.reference import normalize_axes, out_shape

COURSE, EXTENDED = "course", "extended"
DTYPES = ("float32", "float64")
DEFAULT_SHAPE = (3, 4, 5)  # with --axes but no --shape

# Value families (one table row each).  "scale s": z = s·N(0, 1), one entry
# dominates; "|z| ≈ s": z = s + N(0, 1), every entry matters and |f| ≈ s, where
# the e^(z − f) form loses log2(s) bits; "−1e8 + N": the same below zero.
SCALES = {"scale 1": 1.0, "scale 1e300": 1e300}
OFFSETS = {"|z| ≈ 1e4": 1e4, "|z| ≈ 1e8": 1e8, "|z| ≈ 1e15": 1e15, "−1e8 + N": -1e8}
ORDINARY = ("scale 1", "ties")
LARGE = ("|z| ≈ 1e4", "|z| ≈ 1e8", "|z| ≈ 1e15", "−1e8 + N", "scale 1e300")
EDGE = ("−inf entries", "all −inf slice", "one +inf entry", "+inf entries", "nan entry",
        "1e308 ties", "empty reduction")
KINDS = ORDINARY + LARGE + EDGE
# Edge kinds whose answer is a limit or a convention that the frameworks and the note's
# exp(z − f) legitimately miss (nan at +inf, [1, 1, 0] at 1e308 ties, a crash on an empty
# reduction): a deviation there is flagged, not failed.  "−inf entries" is not one of
# them: e^(−inf) = 0 exactly, in IEEE arithmetic too, and masking with −inf is what
# attention does — a nan or a wrong share there fails.
LENIENT = tuple(k for k in EDGE if k != "−inf entries")

MAX_ENTRIES_ORACLE = 200_000  # the mpmath oracle costs ~7 µs an entry
BYTES_PER_ENTRY = 8 * 12  # z, g, a gradient per reference, temporaries: ~12 float64 copies


@dataclass(frozen=True)
class Case:
    """One input of the sweep; ``z`` and ``g`` are numpy arrays."""

    id: str
    kind: str
    group: str
    dtype: str
    shape: tuple[int, ...]
    axes: object  # None | int | tuple, as the op receives it
    keepdims: bool = False
    edge: bool = False
    z: np.ndarray = field(default=None, compare=False, repr=False)
    g: np.ndarray = field(default=None, compare=False, repr=False)

    @property
    def ax(self) -> tuple[int, ...]:
        return normalize_axes(self.axes, len(self.shape))

    @property
    def impl_axes(self):
        """The axes as the ``--impl`` protocol receives them: None or a tuple."""
        if self.axes is None or isinstance(self.axes, tuple):
            return self.axes
        return (self.axes,)

    @property
    def lenient(self) -> bool:
        """Whether a deviation here is flagged rather than failed (see ``LENIENT``)."""
        return self.kind in LENIENT

    @property
    def fshape(self) -> tuple[int, ...]:
        """The shape of f and of out_grad ``g``."""
        return out_shape(self.shape, self.ax, self.keepdims)

    @property
    def kdshape(self) -> tuple[int, ...]:
        """The shape of f with the reduced axes kept (size 1): f broadcast against z."""
        return out_shape(self.shape, self.ax, True)

    @property
    def K(self) -> int:
        return int(np.prod([self.shape[i] for i in self.ax], dtype=np.int64))

    def describe(self) -> str:
        ax = "None" if self.axes is None else repr(self.axes)
        kd = ", keepdims" if self.keepdims else ""
        return f"{self.kind}, {self.dtype}, shape {self.shape}, axes {ax}{kd}"

    def with_values(self, z, axes="same", g=None, dtype=None, keepdims=None) -> Case:
        """The same case with other values (shrinking), recomputing g's shape if needed."""
        axes = self.axes if axes == "same" else axes
        z = np.asarray(z, dtype=dtype or self.dtype)
        ax = normalize_axes(axes, z.ndim)
        kd = self.keepdims if keepdims is None else keepdims
        gshape = out_shape(z.shape, ax, kd)
        if g is None:
            g = self.g if self.g is not None and self.g.shape == gshape else \
                np.linspace(-1.5, 2.0, int(np.prod(gshape, dtype=np.int64))).reshape(gshape)
        return Case(self.id, self.kind, self.group, str(z.dtype), z.shape, axes, kd,
                    self.edge, z, np.asarray(g, dtype=z.dtype))


def parse_shape(text: str) -> tuple[int, ...]:
    """``"3,4,5"`` → (3, 4, 5); ``""`` or ``"()"`` → () (0-d)."""
    text = text.strip()
    if text in ("", "()", "scalar"):
        return ()
    out = []
    parts = text.strip("()").split(",")
    for k, part in enumerate(parts):
        part = part.strip()
        if not part:
            if k == len(parts) - 1 and k:  # a trailing comma: "3," is (3,)
                continue
            raise LseError(f"--shape: {text!r} has an empty size; give sizes like --shape 3,4,5")
        try:
            n = int(part)
        except ValueError:
            raise LseError(f"--shape: {part!r} is not a whole number; give sizes like "
                           "--shape 3,4,5") from None
        if n < 0:
            raise LseError(f"--shape: dimension {n} is negative; give sizes ≥ 0, "
                           "e.g. --shape 3,4,5")
        out.append(n)
    if len(out) > 8:
        raise LseError(f"--shape: {len(out)} dimensions; at most 8 are supported")
    return tuple(out)


def parse_axes(text: str):
    """``none`` → None, ``1`` → 1, ``-1`` → -1, ``0,2`` → (0, 2), ``1,`` → (1,)."""
    t = text.strip().lower()
    if t in ("none", "all", ""):
        return None
    parts = [p.strip() for p in t.strip("()").split(",")]
    if any(not p for p in parts[:-1]) or (len(parts) == 1 and not parts[0]):
        raise LseError(f"--axes: {text!r} has an empty axis; give 'none' or integers like "
                       "1, -1, 0,2")
    try:
        nums = tuple(int(p) for p in parts if p)
    except ValueError:
        raise LseError(f"--axes: {text!r} is not 'none' or integers like 1, -1, 0,2") from None
    if len(nums) == 1 and "," not in t:
        return nums[0]
    return nums


def check_size(shape: tuple[int, ...], use_oracle: bool, n_cases: int = 1) -> None:
    """Refuse a shape too large for memory (or for the oracle) before allocating it.

    The bank keeps z and out_grad of its ``n_cases`` cases; one case at a time
    is being checked (``BYTES_PER_ENTRY``).
    """
    n = 1
    for d in shape:
        n *= d
    need = n * (BYTES_PER_ENTRY + 16 * n_cases)
    total = _memory_bytes()
    dims = "×".join(map(str, shape))
    if total and need > total // 2:
        raise LseError(
            f"--shape: {dims} has {n:,} entries, about {_size(need)} to check {n_cases} cases "
            f"({_size(8 * n)} per float64 array) but this machine has {_size(total)}; "
            "use a smaller shape, or fewer cases with one --axes and --dtype"
        )
    if use_oracle and n > MAX_ENTRIES_ORACLE:
        raise LseError(
            f"--shape: {dims} has {n:,} entries, more than the mpmath oracle handles "
            f"({MAX_ENTRIES_ORACLE:,}, ~7 µs an entry); use a smaller shape or leave "
            "'oracle' out of --ref"
        )


def _memory_bytes() -> int:
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _size(b: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if b < 1024 or unit == "EiB":
            return f"{b:.3g} {unit}"
        b /= 1024
    return f"{b:.3g} EiB"  # pragma: no cover


def _shape(rng, ndim: int, ones: int = 0) -> tuple[int, ...]:
    dims = [int(rng.integers(2, 6)) for _ in range(ndim)]
    for i in rng.choice(ndim, size=min(ones, ndim), replace=False) if ndim else []:
        dims[int(i)] = 1
    return tuple(dims)


def structures(rng) -> list[tuple[tuple[int, ...], object, bool, str, tuple[str, ...]]]:
    """(shape, axes, keepdims, group, value kinds) of the random bank: 0-d to 5-d, every axes form.

    Every course structure gets the ordinary and the large values; three of
    them also the edge values; the extended axes forms get scale 1 and 1e8.
    """
    s3 = _shape(rng, 3)
    s5 = _shape(rng, 5, ones=2)
    all_values = ORDINARY + LARGE
    with_edges = ORDINARY + LARGE + EDGE[:-1]
    # few structures on purpose: JAX compiles each (shape, axes, dtype) once, ~0.1–0.2 s
    course = [
        ((), None, all_values), ((int(rng.integers(3, 9)),), None, with_edges),
        (_shape(rng, 2), (1,), with_edges), (_shape(rng, 2), (0,), all_values),
        (_shape(rng, 3, ones=1), (0, 2), all_values),
        (_shape(rng, 4), (1, 3), all_values), (s5, (0, 2, 4), with_edges),
        (s5, None, all_values),
    ]
    few = ("scale 1", "|z| ≈ 1e8")
    extended = [(s3, 1, False), (s3, -1, False), (s3, (-1, -3), False), (s3, (0, 1, 2), False),
                (_shape(rng, 4, ones=1), (0, 2), True)]
    return [(sh, ax, False, COURSE, kinds) for sh, ax, kinds in course] + \
           [(sh, ax, kd, EXTENDED, few) for sh, ax, kd in extended] + \
           [((3, 0), (1,), False, EXTENDED, ("empty reduction",))]


def _slice_slots(shape, ax) -> list[tuple[int, ...]]:
    """Index tuples of the first reduced slice (kept coordinates 0), in C order."""
    slots = []
    for r in np.ndindex(*[shape[i] for i in ax]):
        idx = [0] * len(shape)
        for a, v in zip(ax, r, strict=True):
            idx[a] = v
        slots.append(tuple(idx))
    return slots


def _values(kind: str, shape, ax, dtype, rng) -> np.ndarray | None:
    """z for the value family ``kind``; None if it does not apply (e.g. 1e300 in float32)."""
    n = rng.standard_normal(shape)
    big = float(np.finfo(dtype).max)
    if kind in SCALES:
        if SCALES[kind] * 4 > big:
            return None
        return (SCALES[kind] * n).astype(dtype)
    if kind in OFFSETS:  # no unit spread left once ulp(s) ≥ 1/4 (float32 past 2^21)
        if abs(OFFSETS[kind]) * np.finfo(dtype).eps > 0.25:
            return None
        return (OFFSETS[kind] + n).astype(dtype)
    if kind == "ties":  # a coarse grid capped at 0.5: many entries tied at the maximum
        z = np.array(np.minimum(np.round(2 * n) / 2, 0.5), dtype=dtype)
        for slot in _slice_slots(shape, ax)[:2] if z.size else []:
            z[slot] = 0.5  # at least two tied maxima in the first slice
        return z
    if kind == "empty reduction":
        return n.astype(dtype)
    z = n.astype(dtype)
    slots = _slice_slots(shape, ax) if z.size else []
    if len(slots) < 2:  # an edge pattern needs a slice of two entries or more
        return None
    top = np.float64(big) * 0.5 ** 0.1 if dtype == "float32" else 1e308
    pattern = {
        "−inf entries": {i: -np.inf for i in range(0, len(slots), 2)},
        "all −inf slice": {i: -np.inf for i in range(len(slots))},
        # one +inf: its share tends to 1 on every path (a true limit); two: the split
        # between them depends on the path (see lsecheck.compare.admissible)
        "one +inf entry": {len(slots) - 1: np.inf},
        "+inf entries": {0: np.inf, len(slots) - 1: np.inf},
        "nan entry": {len(slots) // 2: np.nan},
        # [big, big, 0, …]: e^(z − f) gives [1, 1, 0] (sums to 2)
        "1e308 ties": {i: (top if i < 2 else 0.0) for i in range(len(slots))},
    }[kind]
    for i, v in pattern.items():
        z[slots[i]] = v
    return z


def _gfor(shape, ax, keepdims, dtype, rng) -> np.ndarray:
    return rng.standard_normal(out_shape(shape, ax, keepdims)).astype(dtype)


def bank(seed: int = 0, which: str = "full", dtypes=DTYPES, shape=None, axes_list=None,
         impl: bool = False) -> list[Case]:
    """The cases: random structures, or ``shape`` × ``axes_list`` when given.

    ``which`` is ``course`` (course cases only) or ``full``.  With ``impl``
    the keepdims cases are left out (the ``--impl`` protocol has no keepdims).
    """
    if which not in ("course", "full"):
        raise LseError(f"--cases: {which!r} is not 'course' or 'full'")
    rng = np.random.default_rng(seed)
    if shape is not None or axes_list:
        shape = DEFAULT_SHAPE if shape is None else shape
        axes_list = axes_list or _axes_for(shape)
        structs = []
        for a in axes_list:
            normalize_axes(a, len(shape), name="--axes")
            grp = COURSE if a is None or (isinstance(a, tuple) and min(a, default=0) >= 0) \
                else EXTENDED
            structs.append((shape, a, False, grp, KINDS))
    else:
        structs = structures(rng)
    cases: list[Case] = []
    for shp, axes, keepdims, sgroup, kinds in structs:
        if impl and keepdims:
            continue
        ax = normalize_axes(axes, len(shp))
        empty = 0 in [shp[i] for i in ax]
        for dtype in dtypes:
            for kind in kinds:
                if empty != (kind == "empty reduction"):
                    continue
                group = COURSE if sgroup == COURSE and kind in ORDINARY else EXTENDED
                if which == "course" and group != COURSE:
                    continue
                z = _values(kind, shp, ax, dtype, rng)
                if z is None:
                    continue
                g = _gfor(shp, ax, keepdims, dtype, rng)
                cases.append(Case(f"c{len(cases):03d}", kind, group, dtype, tuple(shp), axes,
                                  keepdims, kind in EDGE, z, g))
    return cases


def count(shape, axes_list, dtypes) -> int:
    """An upper bound of the number of cases ``bank`` makes for a user-given shape."""
    return len(axes_list or _axes_for(shape)) * len(dtypes) * len(KINDS)


def _axes_for(shape) -> list:
    """Axes forms for a user-given shape: every axis, the last, the first and last, −1."""
    d = len(shape)
    out: list = [None]
    if d:
        out += [(d - 1,), -1]
    if d > 1:
        out += [(0, d - 1)]
    return out
