"""call_within: a result, or TimeBudgetExceeded once the budget is spent, in the main thread and in any other."""

import signal
import sys
import threading
import time
import weakref

import pytest

from symgrad.symbolic.time_budget import TimeBudgetExceeded, call_within

HANG_BOUND = 5.0  # seconds: generous upper bound for calls whose budget is a fraction of a second
# In another thread the call is tried in a forked child. When JAX has been imported (by another test in this
# session), JAX warns that forking a process with its threads may deadlock: expected, see the module docstring.
forks = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")


def spin_forever():
    while True:
        pass


def spin_for(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "finished"


def swallow_once_then_spin():
    try:
        spin_forever()
    except BaseException:  # noqa: BLE001 - a careless library catching everything, once
        pass
    spin_forever()


def in_thread(function, *arguments):
    """Run function(*arguments) in another thread; return ("returned", value) or ("raised", exception)."""
    outcome = []

    def target():
        try:
            outcome.append(("returned", function(*arguments)))
        except Exception as error:  # noqa: BLE001
            outcome.append(("raised", error))

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    return outcome[0]


def test_a_call_that_finishes_returns_its_result_and_leaves_no_alarm_behind():
    previous = signal.getsignal(signal.SIGALRM)
    assert call_within(1.0, sorted, [3, 1, 2]) == [1, 2, 3]
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is previous


def test_a_call_that_runs_too_long_is_stopped_near_its_budget():
    start = time.monotonic()
    with pytest.raises(TimeBudgetExceeded, match="did not finish within 0.2 s") as raised:
        call_within(0.2, spin_forever)
    assert 0.2 <= time.monotonic() - start < HANG_BOUND
    assert raised.value.seconds == 0.2 and isinstance(raised.value, TimeoutError)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_interrupt_swallowed_by_a_bare_except_comes_again():
    start = time.monotonic()
    with pytest.raises(TimeBudgetExceeded):
        call_within(0.2, swallow_once_then_spin)
    assert time.monotonic() - start < HANG_BOUND


class Collected:
    """An object whose weak reference runs ``spin_forever`` in a callback when it is collected."""


def spin_inside_a_weakref_callback():
    referent = Collected()
    keep = weakref.ref(referent, lambda _: spin_forever())
    del referent  # the callback spins; the alarm lands in it, where Python discards exceptions
    spin_forever()
    return keep


def test_an_interrupt_discarded_by_a_weakref_callback_comes_again_and_is_not_reported(monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    start = time.monotonic()
    with pytest.raises(TimeBudgetExceeded):
        call_within(0.2, spin_inside_a_weakref_callback)
    assert time.monotonic() - start < HANG_BOUND
    assert reported == [] and sys.unraisablehook == reported.append


def test_other_unraisable_exceptions_still_reach_the_hook_during_a_budget(monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def raise_in_a_weakref_callback():
        referent = Collected()
        keep = weakref.ref(referent, lambda _: 1 / 0)
        del referent
        return keep

    call_within(1.0, raise_in_a_weakref_callback)
    assert [type(report.exc_value) for report in reported] == [ZeroDivisionError]


def test_the_exception_of_the_call_passes_through():
    with pytest.raises(ZeroDivisionError):
        call_within(1.0, lambda: 1 / 0)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_inner_budget_that_runs_out_leaves_the_outer_one_running():
    def outer_work():
        with pytest.raises(TimeBudgetExceeded, match="within 0.1 s"):
            call_within(0.1, spin_forever)
        return call_within(1.0, spin_for, 0.05)

    assert call_within(3.0, outer_work) == "finished"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_outer_budget_shorter_than_the_inner_one_stops_the_inner_call_with_the_outer_error():
    start = time.monotonic()
    with pytest.raises(TimeBudgetExceeded, match="within 0.2 s"):
        call_within(0.2, call_within, 10.0, spin_forever)
    assert time.monotonic() - start < HANG_BOUND


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf"), "1", True, None])
def test_a_budget_that_is_not_a_positive_number_of_seconds_is_refused(seconds):
    with pytest.raises(ValueError, match="^timeout: expected a positive number of seconds"):
        call_within(seconds, sorted, [])


@forks
def test_in_another_thread_a_call_that_finishes_in_its_trial_returns_its_result():
    assert in_thread(call_within, 5.0, spin_for, 0.05) == ("returned", "finished")


@forks
def test_in_another_thread_a_call_that_runs_too_long_is_stopped():
    start = time.monotonic()
    kind, error = in_thread(call_within, 0.3, spin_forever)
    assert kind == "raised" and isinstance(error, TimeBudgetExceeded) and "within 0.3 s" in str(error)
    assert time.monotonic() - start < HANG_BOUND


@forks
def test_in_another_thread_the_exception_of_the_call_passes_through():
    kind, error = in_thread(call_within, 5.0, lambda: 1 / 0)
    assert kind == "raised" and isinstance(error, ZeroDivisionError)


@forks
def test_in_another_thread_an_unpicklable_result_comes_back():
    kind, value = in_thread(call_within, 5.0, lambda: (lambda: 42))
    assert kind == "returned" and value() == 42
