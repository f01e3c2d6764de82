"""A user's ``--impl``: loading it, and calling it under a time limit.

``load_impl("module.path:NAME")`` or ``load_impl("file.py")`` imports the
target (its module-level work under the time limit too) and checks the
protocol: ``forward(z, axes)`` and ``gradient(z, out_grad, axes)``, numpy in,
numpy out.  :meth:`Impl.call` runs one of them on copies of the inputs, with
its printing swallowed (``--json`` stays clean) and every exception — even
``SystemExit`` — turned into a one-line reason; after a call runs past the
limit no later call is made.  :func:`run_impl` and :func:`run_backend` give
one case's :class:`Output` of a subject (a user's implementation or a
framework), shapes and dtypes checked.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lsecheck import tolerances as T
from lsecheck.cases import Case
from lsecheck.errors import LseError
from lsecheck.limits import TimeLimit, time_limit

NOT_RUN = "not run"  # a call after the impl's time-out


@dataclass
class Impl:
    """A user's implementation: ``forward(z, axes)`` and ``gradient(z, out_grad, axes)``."""

    name: str
    forward: Callable
    gradient: Callable
    timeout: float = T.CALL_TIMEOUT
    hung: str = ""  # set after a call ran past the time limit: later calls are not made
    hung_on: object = None  # the case of that call

    def call(self, which: str, *args):
        """``(value, problem)``: the call's result, or None and a one-line reason."""
        if self.hung:
            return None, f"{NOT_RUN}: {self.hung}"
        fn = self.forward if which == "forward" else self.gradient
        out = io.StringIO()
        try:
            with time_limit(self.timeout), contextlib.redirect_stdout(out), \
                    warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                return fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args]), ""
        except TimeLimit:
            self.hung = f"{which} ran past the {self.timeout:g} s limit"
            return None, self.hung
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # SystemExit too: the impl is not allowed to end us
            return None, f"{which} raised {type(e).__name__}: {_short(e)}"


def _short(e: BaseException, n: int = 160) -> str:
    s = " ".join(str(e).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def load_impl(target: str, timeout: float = T.CALL_TIMEOUT) -> Impl:
    """Import ``module.path`` or ``file.py``, optionally ``:NAME``; check the protocol."""
    spec, _, name = target.partition(":")
    where = f"--impl {target}"
    if not spec:
        raise LseError(f"{where}: give a module path or a .py file, e.g. examples/softmax_form.py")
    try:
        with time_limit(timeout), contextlib.redirect_stdout(io.StringIO()):
            if spec.endswith(".py") or "/" in spec or "\\" in spec:
                path = Path(spec)
                if not path.is_file():
                    what = f"{spec} is a directory" if path.is_dir() else f"no such file {spec}"
                    raise LseError(f"{where}: {what}; give an existing .py file "
                                   "or a module path")
                mod_name = "lsecheck_impl_" + path.stem.replace("-", "_")
                if str(path.parent.resolve()) not in sys.path:  # siblings import, as in a script
                    sys.path.insert(0, str(path.parent.resolve()))
                s = importlib.util.spec_from_file_location(mod_name, path)
                module = importlib.util.module_from_spec(s)
                sys.modules[mod_name] = module
                s.loader.exec_module(module)
            else:
                module = importlib.import_module(spec)
    except LseError:
        raise
    except TimeLimit:
        raise LseError(f"{where}: importing it ran past {timeout:g} s; "
                       "remove the long work at module level") from None
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        if isinstance(e, ModuleNotFoundError) and e.name and spec.startswith(e.name):
            raise LseError(f"{where}: import failed: no module named {e.name!r}; give a module "
                           "importable from here or the path of a .py file") from None
        raise LseError(f"{where}: import failed: {type(e).__name__}: {_short(e)}; "
                       "fix the module so that it imports") from None
    obj = module
    if name:
        if not hasattr(module, name):
            raise LseError(f"{where}: {spec} has no {name!r}; name an object that provides "
                           "forward(z, axes) and gradient(z, out_grad, axes)")
        obj = getattr(module, name)
        if isinstance(obj, type):
            try:
                obj = obj()
            except Exception as e:
                raise LseError(f"{where}: {name}() failed: {type(e).__name__}: {_short(e)}; "
                               "make it constructible without arguments") from None
    missing = [m for m in ("forward", "gradient") if not callable(getattr(obj, m, None))]
    if missing:
        sig = {"forward": "forward(z, axes)", "gradient": "gradient(z, out_grad, axes)"}
        raise LseError(f"{where}: no callable {' or '.join(sig[m] for m in missing)}; "
                       "define it (numpy in, numpy out)")
    return Impl(target, obj.forward, obj.gradient, timeout)


@dataclass
class Output:
    """What a subject returned on one case: arrays, or the problem that stopped it."""

    f: np.ndarray | None = None
    v: np.ndarray | None = None
    problem: str = ""  # a crash, a time-out, a wrong shape or dtype (makes the case fail)
    timed_out: bool = False  # the time-out itself or a call not made after it: one row says it


def run_impl(impl: Impl, case: Case) -> Output:
    """The implementation's forward and gradient on ``case``, shapes and dtypes checked."""
    out = Output()
    f, why = impl.call("forward", case.z, case.impl_axes)
    if not why:
        f, why = _conform("forward", f, case, case.fshape)
    v = None
    if not why:
        v, why = impl.call("gradient", case.z, case.g, case.impl_axes)
        if not why:
            v, why = _conform("gradient", v, case, case.shape)
    out.f, out.v, out.problem = f, v, why
    out.timed_out = bool(why) and bool(impl.hung) and why in (impl.hung, f"{NOT_RUN}: {impl.hung}")
    if out.timed_out and impl.hung_on is None:
        impl.hung_on = case
    return out


def _conform(which, value, case, shape):
    """The value as an array of the right shape and dtype, or the reason it is not."""
    try:
        a = np.asarray(value)
    except Exception as e:
        return None, f"{which} returned {type(value).__name__}, not an array ({_short(e)})"
    if a.dtype.kind not in "fiu" or a.dtype == object:
        return None, f"{which} returned {type(value).__name__} of dtype {a.dtype}, not floats"
    if a.shape != shape:
        hint = ""
        if a.size == int(np.prod(shape, dtype=np.int64)):
            hint = " (the same entries in another layout: keepdims or a reshape?)"
        return None, f"{which} shape {a.shape}, expected {shape}{hint}"
    if a.dtype != np.dtype(case.dtype):
        return None, f"{which} dtype {a.dtype} for {case.dtype} input; return {case.dtype}"
    return a, ""


def run_backend(backend, case: Case) -> Output:
    """A framework's (or the lsecheck reference's) value and VJP on ``case``."""
    try:
        f, v = backend.value_and_vjp(case.z, case.g, case.axes, case.keepdims)
        return Output(f, v)
    except Exception as e:  # a framework that cannot do this case at all
        return Output(problem=f"{backend.name} raised {type(e).__name__}: {_short(e)}")
