r"""SymPy building blocks for the LogSumExp theorems (shared by ``prove`` and ``check``).

The model.  ``z`` is an :class:`~sympy.IndexedBase` of reals, ``n`` a positive
integer symbol, and every index symbol (``i``, ``j``, ``k``, ``l`` and every
summation dummy) ranges over ``1..n``.  The stable LogSumExp with its maximum
at ``k`` (on the open set where ``z_k`` is the unique maximum, ``max z = z_k``
locally) is

.. math::

    f = \log \sum_{i=1}^n \exp(z_i - z_k) + z_k .

The exact zero test uses structure, never ``sp.simplify``: substitute
``w_i = exp(z_i) > 0`` (``exp`` of an integer combination of ``z``'s and
``log``'s becomes a monomial), apply the textbook rules of finite sums
(linearity, constant factors out, the sifting rule
:math:`\sum_i \delta_{ij} g(i) = g(j)` for ``j`` in ``1..n``,
:math:`\sum_i c = n c`), and the difference is a rational function of a few
atoms (``w_j``, ``w_k``, ``Σ w_i``); :func:`sympy.cancel` then decides it.
Since ``z -> exp(z)`` maps the reals onto the positive reals, a rational
identity in ``w`` is the identity in ``z``.

API summary
-----------
``z, w, n, i, j, k, l, m``
    the model's symbols (``w`` positive, ``m`` a real shift).
``Sym(distinct=())`` / ``Exact(n)``
    two interpreters of one vocabulary: ``M.z(a)``, ``M.m``, ``M.exp``,
    ``M.log``, ``M.sum(term)``, ``M.sum_except(a, term)``, ``M.delta(a, b)``,
    ``M.d(x, a)`` = ∂x/∂z_a, ``M.dm(x)`` = ∂x/∂m, ``M.d_ones(x)`` = Σ_b ∂x/∂z_b
    (b over 1..n, not m),
    and the note's objects ``M.lse()``, ``M.g(shift)``, ``M.zhat_sum(k)``,
    ``M.f_stable(k)``, ``M.softmax(j, k)``.  ``Sym`` builds SymPy expressions
    for symbolic ``n`` (``Sum``, ``KroneckerDelta``; ``distinct`` index
    symbols have δ = 0); ``Exact`` computes at a concrete ``n`` in exact
    rational arithmetic of ``w`` (``sympy.polys`` rings, denominators kept
    factored so ``Σ w`` is never re-expanded), with ``M.is_zero(x)``,
    ``M.tie(x, at, to)`` (evaluate on a tie), ``M.value(x, zs)`` and
    ``M.counterexample(lhs, rhs, maxat=, tie=)``.  A theorem written once as
    ``lambda M, j, k: (lhs, rhs)`` runs on both.
``to_w(expr)``
    exp substitution on a SymPy expression (``exp(z_i - z_k) -> w_i/w_k``).
``normal_sums(expr)``
    the finite-sum rules above; remaining sums are canonical atoms.
``zero_test(expr, distinct=()) -> Zero``
    exact decision: ``Zero.verdict`` is True (reduced to 0), False (a nonzero
    rational function: the claim is false somewhere) or None (not reduced;
    ``Zero.residual`` is the evidence).  ``distinct`` lists index symbols
    assumed pairwise different (``KroneckerDelta`` between them is 0).
``expand_n(expr, n_value, subs)``
    a symbolic-``n`` expression at a concrete ``n``: sums written out,
    derivatives done, indices substituted.

Every call that can take long must run under :func:`lsecheck.limits.time_limit`
(the callers do that).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import count

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring

DPS = 50  # decimal digits of the counterexample search
REL_TOL = 1e-30  # |lhs - rhs| above this (relative) at DPS digits is a real difference
TRIALS = 12  # random points tried per counterexample search
SEED = 20240720  # the note's date: counterexamples are reproducible

z = sp.IndexedBase("z", real=True)
w = sp.IndexedBase("w", positive=True)  # w_i = exp(z_i)
n = sp.Symbol("n", integer=True, positive=True)
i, j, k, l = sp.symbols("i j k l", integer=True, positive=True)
m = sp.Symbol("m", real=True)
u = sp.Symbol("u", positive=True)  # u = exp(m)


class NotExact(Exception):
    """The expression leaves exact rational arithmetic (e.g. exp(1), log(z))."""


# --------------------------------------------------------------------------- symbolic n


_DIFFS: dict = {}  # (expression, index) -> derivative, for the symbolic model


class Sym:
    """Symbolic ``n``: the vocabulary as SymPy expressions with ``Sum`` over ``1..n``."""

    n = n
    m = m
    exp = staticmethod(sp.exp)
    log = staticmethod(sp.log)

    def __init__(self, distinct=()):
        self._dummies = count()
        self.distinct = tuple(distinct)  # index symbols of the case, pairwise different

    def z(self, a):
        return z[a]

    def sum(self, term):
        d = sp.Symbol("i" + "'" * next(self._dummies), integer=True, positive=True)
        return sp.Sum(term(d), (d, 1, n))

    def sum_except(self, skip, term):
        """Σ_{i≠skip} term(i) = Σ_i term(i) − term(skip)."""
        return self.sum(term) - term(skip)

    @staticmethod
    def delta(a, b):
        return sp.KroneckerDelta(a, b)

    def d(self, expr, a):
        """∂/∂z_a (memoized: theorems share derivatives, e.g. ∂f/∂z_j)."""
        key = (expr, a, self.distinct)
        if key not in _DIFFS:  # the case's δ_jk = 0 applied at once: less to differentiate
            _DIFFS[key] = apply_distinct(sp.diff(expr, z[a]), self.distinct)
        return _DIFFS[key]

    def dm(self, expr):
        """∂/∂m."""
        return sp.diff(expr, m)

    def d_ones(self, expr):
        r"""Σ_b ∂expr/∂z_b, written out literally: ``Sum(diff(expr, z[b]), (b, 1, n))``.

        .. math:: (H\mathbf{1})_a = \sum_{b=1}^n \frac{\partial}{\partial z_b}
                  \frac{\partial f}{\partial z_a}

        (The sum rules sift the ``δ_ib`` that ``diff`` leaves; ``m`` is not a ``z``.)
        """
        b = sp.Dummy("b", integer=True, positive=True)  # fresh: never captures an index
        return sp.Sum(sp.diff(expr, z[b]), (b, 1, n))

    # the objects of the note, the same for every interpreter
    def lse(self):
        return self.log(self.sum(lambda a: self.exp(self.z(a))))

    def g(self, shift):
        """log Σ exp(z_i − shift) + shift."""
        return self.log(self.sum(lambda a: self.exp(self.z(a) - shift))) + shift

    def zhat_sum(self, kk):
        """Σ exp(ẑ_i), ẑ = z − z_k."""
        return self.sum(lambda b: self.exp(self.z(b) - self.z(kk)))

    def f_stable(self, kk):
        return self.log(self.zhat_sum(kk)) + self.z(kk)

    def softmax(self, a, kk):
        """exp(ẑ_a)/Σ exp(ẑ_i), ẑ = z − z_k."""
        return self.exp(self.z(a) - self.z(kk)) / self.zhat_sum(kk)


def _exp_to_w(arg):
    """exp(Σ c_t t) as a product: z[a] -> w[a], m -> u, log(X) -> X, numbers stay."""
    out = []
    for term in sp.Add.make_args(arg):
        c, t = term.as_coeff_Mul()
        if t == 1:
            out.append(sp.exp(c))
        elif isinstance(t, sp.Indexed) and t.base == z:
            out.append(w[t.indices] ** c)
        elif t == m:
            out.append(u ** c)
        elif isinstance(t, sp.log):
            out.append(to_w(t.args[0]) ** c)
        else:
            out.append(sp.exp(term))
    return sp.Mul(*out)


def to_w(expr):
    """Substitute ``w_i = exp(z_i)`` (and ``u = exp(m)``) throughout ``expr``."""
    if isinstance(expr, sp.exp):  # top-down: rebuilding must not re-evaluate an exp first
        return _exp_to_w(expr.args[0])
    if not expr.args or not expr.has(sp.exp):
        return expr
    return expr.func(*[to_w(a) for a in expr.args])


def _sift(term, var):
    """Σ_var δ(var, x)·g(var) -> g(x) (x in 1..n); None when no delta on ``var``."""
    for f in sp.Mul.make_args(term):
        if isinstance(f, sp.KroneckerDelta) and var in f.args:
            other = f.args[0] if f.args[1] == var else f.args[1]
            if not (other.is_Symbol and other.is_integer):  # only an index known in 1..n
                continue
            rest = sp.Mul(*[g for g in sp.Mul.make_args(term) if g is not f])
            return rest.xreplace({var: other})
    return None


# the bound variable of a normalized sum: a Dummy, never equal to a model's index symbol
_CANON = sp.Dummy("i", integer=True, positive=True)


def _sum_rule(s):
    """One finite sum over 1..n in normal form: linear, constants out, sifted."""
    (var, lo, hi), body = s.limits[0], s.function
    if len(s.limits) != 1 or lo != 1:
        return s
    body = sp.expand(normal_sums(body))
    out = []
    for term in sp.Add.make_args(body):
        sifted = _sift(term, var)
        if sifted is not None:
            out.append(normal_sums(sifted))
            continue
        const, dep = [], []
        for f in sp.Mul.make_args(term):
            (dep if var in f.free_symbols else const).append(f)
        if not dep:
            out.append(sp.Mul(*const) * hi)
            continue
        inner = sp.Mul(*dep)
        if _CANON in inner.atoms(sp.Dummy) or inner.has(sp.Sum):
            out.append(sp.Mul(*const) * sp.Sum(inner, (var, 1, hi)))  # no capture
        else:
            out.append(sp.Mul(*const) * sp.Sum(inner.xreplace({var: _CANON}), (_CANON, 1, hi)))
    return sp.Add(*out)


def normal_sums(expr):
    """Apply the finite-sum rules bottom-up; the sums left are canonical atoms."""
    if not expr.has(sp.Sum):
        return expr
    return expr.replace(lambda e: isinstance(e, sp.Sum), _sum_rule)


@dataclass(frozen=True)
class Zero:
    """Outcome of :func:`zero_test`: verdict True (0), False (nonzero), None (unknown)."""

    verdict: bool | None
    residual: sp.Expr
    how: str


def apply_distinct(expr, distinct=()):
    """KroneckerDelta(a, b) -> 0 for index symbols assumed pairwise different."""
    ds = set(distinct)
    return expr.replace(
        lambda e: isinstance(e, sp.KroneckerDelta) and set(e.args) <= ds and e.args[0] != e.args[1],
        lambda e: sp.S.Zero)


def zero_test(expr, distinct=()) -> Zero:
    """Decide ``expr == 0`` exactly (exp substitution, sum rules, ``cancel``)."""
    e = sp.sympify(expr)
    if e.has(sp.Derivative):  # do derivatives only: Sum.doit would try closed forms (slow)
        e = e.replace(lambda x: isinstance(x, sp.Derivative), lambda x: x.doit(deep=False))
    e = apply_distinct(e, distinct)
    e = normal_sums(to_w(e))
    e = apply_distinct(e, distinct)
    r = sp.cancel(sp.together(e))
    if r == 0:
        return Zero(True, r, "exp substitution w = exp(z), sum rules, cancel")
    if r.has(sp.exp, sp.log, sp.KroneckerDelta, sp.Derivative):
        return Zero(None, r, "not reduced to a rational function of w = exp(z)")
    if r.has(sp.Sum):  # Σ w_i and w_j are not independent (n = 1): no verdict from symbols
        return Zero(None, r, "a nonzero rational function of w_j, w_k and the sums Σ w_i")
    free = r.free_symbols | r.atoms(sp.Indexed)
    if r.is_rational_function(*free):
        return Zero(False, r, "a nonzero rational function of w = exp(z)")
    return Zero(None, r, "not reduced to a rational function of w = exp(z)")


def expand_n(expr, n_value: int, subs=None):
    """``expr`` at ``n = n_value``: substitute, write sums out, do derivatives."""
    e = sp.sympify(expr).xreplace({n: sp.Integer(n_value), **(subs or {})})

    def write_out(s):
        var, lo, hi = s.limits[-1]
        body = s.function if len(s.limits) == 1 else sp.Sum(s.function, *s.limits[:-1])
        terms = [body.xreplace({var: sp.Integer(v)}) for v in range(int(lo), int(hi) + 1)]
        return sp.Add(*[write_out_all(t) for t in terms])

    def write_out_all(x):
        return x.replace(lambda e: isinstance(e, sp.Sum), write_out)

    return write_out_all(e).doit()


def _point(n_value: int, maxat, rng, tie=()):
    """z in [-3, 1] with z_maxat the unique maximum (z_t = z_maxat for t in tie).

    ``maxat`` may list several indices (the maxima of different slices).
    """
    import mpmath as mp

    zs = [mp.mpf(round(rng.uniform(-3, 0.75), 3)) for _ in range(n_value)]
    tops = [] if maxat is None else [maxat] if isinstance(maxat, int) else list(maxat)
    for t in [*tops, *tie]:
        zs[t - 1] = mp.mpf(1)
    return zs


def _differs(a, b) -> bool:
    import mpmath as mp

    return abs(a - b) > REL_TOL * (1 + abs(a) + abs(b)) or mp.isnan(a - b)


# --------------------------------------------------------------------------- concrete n


class Frac:
    """An exact rational function ``num / Π base**e`` over a ``sympy.polys`` ring.

    Denominators stay factored (``Σ w`` is a base, never multiplied out), so
    quotient rules do not square polynomials of ``n`` terms.  The value is 0
    exactly when ``num`` is the zero polynomial (every base is nonzero).
    """

    __slots__ = ("num", "den")

    def __init__(self, num, den=()):
        self.num = num
        self.den = den  # tuple of (base, exponent > 0), bases nonconstant, no repeats

    @staticmethod
    def _merge(a, b, op):
        d = dict(a)
        for base, e in b:
            d[base] = op(d.get(base, 0), e)
        return d

    def _scaled(self, target):
        """num · Π base**(target[base] − own) (target ⊇ own)."""
        num, own = self.num, dict(self.den)
        for base, e in target.items():
            extra = e - own.get(base, 0)
            if extra:
                num = num * base ** extra
        return num

    def __add__(self, o):
        if not isinstance(o, Frac):
            o = Frac(self.num.ring(o))
        if self.den == o.den:
            return Frac(self.num + o.num, self.den)
        if not o.num:
            return self
        if not self.num:
            return o
        lcm = self._merge(self.den, o.den, max)
        return Frac(self._scaled(lcm) + o._scaled(lcm), _tuple(lcm))

    __radd__ = __add__

    def __neg__(self):
        return Frac(-self.num, self.den)

    def __sub__(self, o):
        return self + (-o if isinstance(o, Frac) else -1 * o)

    def __rsub__(self, o):
        return (-self) + o

    def __mul__(self, o):
        if not isinstance(o, Frac):
            return Frac(self.num * o, self.den)
        if not self.num or not o.num:
            return Frac(self.num.ring.zero)
        return Frac(self.num * o.num, _tuple(self._merge(self.den, o.den, lambda x, y: x + y)))

    __rmul__ = __mul__

    def inv(self):
        num = self.num
        if not num:
            raise ZeroDivisionError("division by an expression that is exactly 0")
        top = num.ring.one
        for base, e in self.den:
            top = top * base ** e
        if num.is_ground:
            return Frac(top * (1 / num.LC), ())
        return Frac(top, ((num, 1),))

    def __truediv__(self, o):
        if not isinstance(o, Frac):
            return Frac(self.num * (1 / self.num.ring.domain.convert(o)), self.den)
        return self * o.inv()

    def __rtruediv__(self, o):
        return self.inv() * o

    def __pow__(self, e: int):
        e = int(e)
        if e < 0:
            return self.inv() ** (-e)
        return Frac(self.num ** e, tuple((b, x * e) for b, x in self.den))

    def diff(self, x):
        """∂/∂x for a generator x: num'/D − num Σ e b'/(b D)."""
        out = Frac(self.num.diff(x), self.den)
        for base, e in self.den:
            db = base.diff(x)
            if db:
                out = out + Frac(-e * self.num * db, _tuple(self._merge(self.den, ((base, 1),),
                                                                        lambda a, b: a + b)))
        return out

    def subs(self, x, value):
        """Substitute generator x by a polynomial value (e.g. a tie w_l = w_j)."""
        num = self.num.compose(x, value)
        den = {}
        for base, e in self.den:
            b = base.compose(x, value)
            if not b:
                raise ZeroDivisionError("a denominator vanishes under the substitution")
            if b.is_ground:
                num = num * (1 / b.LC ** e)
            else:
                den[b] = den.get(b, 0) + e
        return Frac(num, _tuple(den))

    def is_zero(self) -> bool:
        return not self.num

    def evaluate(self, values):
        """Value at mpmath numbers ``values`` (one per ring generator)."""
        return _peval(self.num, values) / _prod(_peval(b, values) ** e for b, e in self.den)

    def as_expr(self):
        expr = self.num.as_expr()
        for base, e in self.den:
            expr = expr / base.as_expr() ** e
        return expr


def _tuple(d):
    return tuple((b, e) for b, e in d.items() if e)


def _prod(xs):
    out = 1
    for x in xs:
        out = out * x
    return out


def _peval(p, values):
    import mpmath as mp

    total = mp.mpf(0)
    for monom, c in p.terms():
        t = mp.mpf(c.numerator) / c.denominator
        for v, e in zip(values, monom, strict=False):
            if e:
                t *= v ** e
        total += t
    return total


class LogRat:
    """``r + Σ c·log(a) + Σ b_v z_v`` with ``r, c, a, b_v`` exact :class:`Frac`.

    The shape every expression of the theorems has at a concrete n: the
    stable f, its derivatives (rational), ``exp(z_j − f)`` (rational again).
    """

    __slots__ = ("r", "logs", "lin", "M")

    def __init__(self, M, r=None, logs=(), lin=()):
        self.M = M
        self.r = r if r is not None else M.zero
        self.logs = tuple((c, a) for c, a in logs if not c.is_zero())
        self.lin = tuple((v, c) for v, c in lin if not c.is_zero())

    def _lift(self, o):
        return o if isinstance(o, LogRat) else LogRat(self.M, o if isinstance(o, Frac)
                                                      else self.M.frac(o))

    @property
    def rational(self) -> bool:
        return not self.logs and not self.lin

    def __add__(self, o):
        o = self._lift(o)
        lin = dict(self.lin)
        for v, c in o.lin:
            lin[v] = lin[v] + c if v in lin else c
        return LogRat(self.M, self.r + o.r, self.logs + o.logs, tuple(lin.items()))

    __radd__ = __add__

    def __neg__(self):
        return LogRat(self.M, -self.r, tuple((-c, a) for c, a in self.logs),
                      tuple((v, -c) for v, c in self.lin))

    def __sub__(self, o):
        return self + (-self._lift(o))

    def __rsub__(self, o):
        return self._lift(o) - self

    def __mul__(self, o):
        o = self._lift(o)
        if not o.rational:
            if not self.rational:
                raise NotExact("a product of two logarithmic terms")
            return o * self
        s = o.r
        return LogRat(self.M, self.r * s, tuple((c * s, a) for c, a in self.logs),
                      tuple((v, c * s) for v, c in self.lin))

    __rmul__ = __mul__

    def __truediv__(self, o):
        o = self._lift(o)
        if not o.rational:
            raise NotExact("division by a logarithmic term")
        return self * LogRat(self.M, o.r.inv())

    def __rtruediv__(self, o):
        return self._lift(o) / self

    def __pow__(self, e):
        if not self.rational:
            raise NotExact("a power of a logarithmic term")
        return LogRat(self.M, self.r ** int(e))


class Exact:
    """Concrete ``n``: the vocabulary of :class:`Sym` in exact arithmetic of ``w = exp(z)``.

    ``names`` are the z-like variables (default ``z1..zn`` plus ``m``); each
    gets a positive generator ``w``.  ``plain`` names extra real symbols that
    are not exponentiated (e.g. an out_grad ``g``): they may appear only
    polynomially.
    """

    def __init__(self, n_value: int, names=None, plain=()):
        self.n = n_value
        self.names = list(names) if names is not None else [f"z{a}" for a in
                                                            range(1, n_value + 1)] + ["m"]
        wnames = ["w" + s[1:] if s.startswith("z") else "u" if s == "m" else "w_" + s
                  for s in self.names]
        self.ring, *gens = ring(wnames + list(plain), QQ)
        self.w = gens[: len(self.names)]
        self.plain = gens[len(self.names):]
        self._var = {name: v for v, name in enumerate(self.names)}
        self.zero, self.one = Frac(self.ring.zero), Frac(self.ring.one)
        self._memo = {}

    def _memoized(self, key, make):
        """Pure builders (Σ, f, softmax, ∂) are computed once per model."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    # vocabulary
    def frac(self, c):
        if c == 0:
            return self.zero
        return self.one if c == 1 else Frac(self.ring(c))

    def z(self, a):
        """z_a for an index 1..n (or a variable name)."""
        v = self._var[a if isinstance(a, str) else f"z{a}"]
        return LogRat(self, lin=((v, self.frac(1)),))

    @property
    def m(self):
        return self.z("m")

    def g(self, shift):
        return Sym.g(self, shift)

    def lse(self):
        return Sym.lse(self)

    def zhat_sum(self, kk):
        return self._memoized(("S", kk), lambda: Sym.zhat_sum(self, kk))

    def f_stable(self, kk):
        return self._memoized(("f", kk), lambda: Sym.f_stable(self, kk))

    def softmax(self, a, kk):
        return self._memoized(("p", a, kk), lambda: Sym.softmax(self, a, kk))

    def f_stable_over(self, kk, over):
        """The stable f of the variables ``over`` with its maximum at ``kk``."""
        return self.log(self.sum(lambda a: self.exp(self.z(a) - self.z(kk)), over=over)) \
            + self.z(kk)

    def const(self, p):
        """A plain generator (or polynomial in them) as an expression."""
        return LogRat(self, Frac(p))

    def sum(self, term, over=None):
        out = None
        for a in (over if over is not None else range(1, self.n + 1)):
            t = term(a)
            out = t if out is None else out + t
        return out if out is not None else LogRat(self)

    def sum_except(self, skip, term):
        return self.sum(term, over=[a for a in range(1, self.n + 1) if a != skip])

    def delta(self, a, b):
        return LogRat(self, self.frac(1 if a == b else 0))

    def exp(self, x):
        x = x if isinstance(x, LogRat) else LogRat(self, self.frac(x))
        if not x.r.is_zero():
            raise NotExact("exp of a rational part (only exp of z's and logs is exact)")
        out = self.one
        for c, a in x.logs:
            out = out * a ** self._int(c)
        for v, c in x.lin:
            out = out * Frac(self.w[v]) ** self._int(c)
        return LogRat(self, out)

    @staticmethod
    def _int(c: Frac) -> int:
        if c.den or not c.num.is_ground or c.num.LC.denominator != 1:
            raise NotExact("exp with a non-integer coefficient")
        return int(c.num.LC)

    def log(self, x):
        if not isinstance(x, LogRat) or not x.rational:
            raise NotExact("log of a logarithmic term")
        return LogRat(self, logs=((self.frac(1), x.r),))

    def d(self, x, a):
        """∂/∂z_a = w_a ∂/∂w_a (w_a = exp(z_a))."""
        return self._d(x, self._var[a if isinstance(a, str) else f"z{a}"])

    def dm(self, x):
        return self._d(x, self._var["m"])

    def d_ones(self, x):
        """Σ_b ∂x/∂z_b over every z-like variable but the shift ``m``."""
        return self.sum(lambda v: self._d(x, v),
                        over=[v for v, name in enumerate(self.names) if name != "m"])

    def _d(self, x, v):
        if not isinstance(x, LogRat):
            return LogRat(self)
        # keyed by identity; the entry keeps x alive so the id is not reused
        return self._memoized((id(x), v), lambda: (x, self._d_new(x, v)))[1]

    def _d_new(self, x, v):
        wv = self.w[v]

        gv = self.ring.gens.index(wv)  # degree() by position: no generator lookup per call

        def dz(fr):
            if fr.num.degree(gv) <= 0 and all(b.degree(gv) <= 0 for b, _ in fr.den):
                return self.zero  # free of w_v (most coefficients): skip the quotient rule
            return fr.diff(wv) * Frac(wv)

        r = dz(x.r)
        logs = []
        for c, a in x.logs:
            logs.append((dz(c), a))
            r = r + c * dz(a) * a.inv()
        lin = []
        for var, c in x.lin:
            lin.append((var, dz(c)))
            if var == v:
                r = r + c
        return LogRat(self, r, tuple(logs), tuple(lin))

    # decisions
    def is_zero(self, x) -> bool | None:
        """Exact: True/False; logarithmic terms are compared through exp (exp is injective)."""
        if not isinstance(x, LogRat):
            return x == 0
        if x.rational:
            return x.r.is_zero()
        if not x.r.is_zero():
            return None
        try:
            e = self.exp(x).r
        except NotExact:
            return None
        return (e - 1).is_zero()

    def tie(self, x, at, to):
        """Evaluate at a tie: w_t = w_to for every index t in ``at``."""
        if not isinstance(x, LogRat) or not x.rational:
            raise NotExact("ties are evaluated on rational expressions")
        r = x.r
        for t in at:
            r = r.subs(self.w[self._var[f"z{t}"]], self.w[self._var[f"z{to}"]])
        return LogRat(self, r)

    def _uses(self, v, *xs) -> bool:
        """Does any of ``xs`` depend on variable ``v`` (through z_v or w_v)?"""
        g = self.w[v]
        for x in xs:
            if not isinstance(x, LogRat):
                continue
            fracs = [x.r] + [c for c, _ in x.logs] + [a for _, a in x.logs] + [c for _, c in x.lin]
            if any(var == v for var, _ in x.lin) or any(
                    fr.num.degree(g) > 0 or any(b.degree(g) > 0 for b, _ in fr.den)
                    for fr in fracs):
                return True
        return False

    def _plain_values(self):
        import mpmath as mp

        return [mp.mpf(a + 2) / 3 for a in range(len(self.plain))]

    def value(self, x, zs):
        """x at z = zs (mpmath numbers for every z-like variable, plain gens = 1..)."""
        import mpmath as mp

        if not isinstance(x, LogRat):  # a number in a claim, e.g. the 0 of H·1 = 0
            x = LogRat(self, self.frac(x))
        ws = [mp.exp(v) for v in zs] + self._plain_values()
        out = x.r.evaluate(ws)
        for c, a in x.logs:
            out += c.evaluate(ws) * mp.log(a.evaluate(ws))
        for v, c in x.lin:
            out += c.evaluate(ws) * zs[v]
        return out

    def counterexample(self, lhs, rhs, maxat=None, tie=(), j=None, k=None,
                       trials: int = TRIALS, seed: int = SEED):
        """Concrete z (z_maxat the unique maximum, tied with ``tie``) where lhs != rhs."""
        import mpmath as mp

        rng = random.Random(seed)
        best = None
        with mp.workdps(DPS):
            for _ in range(trials):
                zs = _point(len(self.names), maxat, rng, tie)
                if "m" in self._var:
                    zs[self._var["m"]] = mp.mpf(round(rng.uniform(-2, 2), 3))
                a, b = self.value(lhs, zs), self.value(rhs, zs)
                if _differs(a, b) and (best is None or abs(a - b) > best[3]):
                    best = (zs, a, b, abs(a - b))
        if best is None:
            return None
        zs, a, b, _ = best
        vals = dict(zip(self.names, zs, strict=True))
        out = {"n": self.n, "z": [float(vals[f"z{a}"]) for a in range(1, self.n + 1)]}
        if "m" in vals and self._uses(self._var["m"], lhs, rhs):
            out["m"] = float(vals["m"])
        if self.plain:
            out["out_grad"] = [float(v) for v in self._plain_values()]
        if j is not None:
            out["j"] = j
        if k is not None:
            out["k"] = k
        out.update(lhs=float(a), rhs=float(b), difference=float(a - b))
        return out

