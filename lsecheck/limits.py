"""Time limits for SymPy work (and any other pure-Python computation).

SymPy cannot be interrupted from outside, so the limit is a ``SIGALRM``
timer that raises :class:`TimeLimit` inside the computation.  It derives
from ``BaseException`` so that SymPy's own ``except Exception`` clauses do
not swallow it.  Off the main thread (where signals cannot be used) the
computation runs without a limit and :func:`time_limit` says so through
``limited``.

Python swallows an exception raised in a garbage-collector callback or a
``__del__``; a single alarm landing there would leave the computation
unlimited.  The timer therefore repeats every :data:`REPEAT` seconds until
the block ends, so a swallowed alarm is followed by another.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_TIMEOUT = 10.0  # seconds for one SymPy computation
MAX_N_LIMIT = 512  # the largest --max-n of prove and check
REPEAT = 0.05  # seconds between repeated alarms once the limit is reached


def check_budget(max_n, timeout) -> None:
    """Refuse a ``--max-n`` or ``--timeout`` that prove and check cannot use."""
    from lsecheck.errors import LseError

    if not isinstance(max_n, int) or isinstance(max_n, bool) or not 1 <= max_n <= MAX_N_LIMIT:
        raise LseError(f"--max-n: must be a whole number from 1 to {MAX_N_LIMIT} (got {max_n})")
    if not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:  # nan fails too
        raise LseError(f"--timeout: must be a positive number of seconds (got {timeout})")


class TimeLimit(BaseException):
    """Raised inside a computation that ran past its time limit."""

    def __init__(self, seconds: float):
        super().__init__(f"time limit of {seconds:g} s reached")
        self.seconds = seconds


@contextmanager
def time_limit(seconds: float | None) -> Iterator[bool]:
    """Run the block under a wall-clock limit; yields whether it is enforced.

    Nested limits keep the outer timer: the inner one is honoured only if
    it is shorter.
    """
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield False
        return
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_left and outer_left <= seconds:
        yield True  # the outer limit is sooner: let it govern
        return
    start = time.monotonic()
    armed = [True]

    def _raise(signum, frame):
        if armed[0]:  # an alarm arriving while the block is being left is ignored
            raise TimeLimit(seconds)

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
    try:
        yield True
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:  # restore the outer timer, less the time spent here
            left = outer_left - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))
