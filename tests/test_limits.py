"""Time limits: a runaway computation is stopped, nested limits keep the sooner one."""

import gc
import time

import pytest

from lsecheck.limits import TimeLimit, time_limit


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_limit_stops_a_runaway_loop():
    t0 = time.monotonic()
    with pytest.raises(TimeLimit), time_limit(0.05):
        _spin(5)
    assert time.monotonic() - t0 < 1


def test_no_limit_when_fast_and_timer_cleared():
    with time_limit(1.0) as limited:
        x = sum(range(1000))
    assert limited and x == 499500
    _spin(0.1)  # no stray alarm after the block


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_alarm_swallowed_in_del_is_repeated():
    class Swallow:
        def __del__(self):
            _spin(0.08)  # the first alarm lands here and Python swallows it

    t0 = time.monotonic()
    with pytest.raises(TimeLimit), time_limit(0.02):
        obj = Swallow()
        del obj
        _spin(5)
    assert time.monotonic() - t0 < 1
    gc.collect()


def test_nested_limits_keep_the_sooner():
    with pytest.raises(TimeLimit) as e, time_limit(0.05):
        with time_limit(10):
            _spin(5)
    assert e.value.seconds == 0.05
    with pytest.raises(TimeLimit) as e, time_limit(10):
        with time_limit(0.05):
            _spin(5)
    assert e.value.seconds == 0.05


@pytest.mark.parametrize("max_n,timeout,word", [
    (0, 1, "--max-n"), (513, 1, "--max-n"), (2.5, 1, "--max-n"), (True, 1, "--max-n"),
    (8, 0, "--timeout"), (8, float("nan"), "--timeout"), (8, float("inf"), "--timeout"),
])
def test_check_budget_names_the_argument(max_n, timeout, word):
    from lsecheck.errors import LseError
    from lsecheck.limits import check_budget

    with pytest.raises(LseError, match=word):
        check_budget(max_n, timeout)
    check_budget(512, 0.01)  # the edges that are allowed
