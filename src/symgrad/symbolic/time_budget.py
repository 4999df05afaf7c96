"""Run SymPy work under a wall-clock budget: its result, or :class:`TimeBudgetExceeded` when time runs out.

>>> call_within(1.0, sum, [1, 2, 3])
6

SymPy is pure Python, so its work can be stopped between two bytecodes. How, depends on where the call runs:

- **The main thread of a POSIX process** (the ``symgrad`` command, a script, a notebook, pytest), when no one else
  has armed ``ITIMER_REAL``: :func:`call_within` arms it. When it fires, the ``SIGALRM`` handler raises an exception
  derived from ``BaseException``, so that SymPy's ``except Exception`` clauses cannot swallow it, and the timer
  fires again every :data:`REFIRE_INTERVAL` seconds until the call has unwound, in case a bare ``except:`` did
  or the alarm landed where Python discards exceptions (a garbage-collector callback; such a discarded interrupt is
  kept off ``sys.unraisablehook`` while the budget runs, since the next alarm does its work).
  The previous handler and hook are restored afterwards. Budgets nest: an inner call gets what is left of the outer one
  when that is less, and a call that outlives an outer budget ends with the outer call's TimeBudgetExceeded.
- **Any other thread**, or a timer armed by someone else: the call is first tried in a forked child process,
  killed when the budget runs out; if the child finished in time, the call then runs in the caller's process,
  where it takes about as long again (SymPy's work is deterministic), its own nested budgets waived since the
  trial has shown that it ends. Results never cross a process boundary, so they need not be picklable (compiled
  functions are not). Forking a process that runs other threads can deadlock the child on a lock one of them
  held; that ends as a TimeBudgetExceeded, not a hang.
- **No SIGALRM and no fork** (Windows): the call runs without a budget.

A long operation inside a single C call (a huge integer power, say) cannot be interrupted by the first way, which
is why formulas are bounded in size before SymPy reads them (see :mod:`symgrad.symbolic.expressions`).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import sys
import threading
import time

__all__ = ["REFIRE_INTERVAL", "TimeBudgetExceeded", "call_within", "positive_seconds"]

REFIRE_INTERVAL = 0.05
"""Seconds between repeated alarms once a budget has run out (see the module docstring)."""


class TimeBudgetExceeded(TimeoutError):
    """The work did not finish within its time budget of ``seconds``."""

    def __init__(self, message: str, seconds: float):
        super().__init__(message)
        self.seconds = seconds


class _BudgetInterrupt(BaseException):
    """Raised by the SIGALRM handler inside the interrupted work; never leaves the outermost :func:`call_within`."""


_rerun = threading.local()
"""``_rerun.active`` is True in a thread running a call again after its trial in a child finished in time."""
_deadlines: list[float] = []
"""Effective deadlines (``time.monotonic()``) of the alarm budgets running in the main thread, outermost first."""
_alarm_is_ours = False


def positive_seconds(seconds, argument: str = "timeout") -> float:
    """``seconds`` as a float, when it is a positive finite number (not a bool).

    Raises:
        ValueError: it is not; the message starts with ``argument``.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds < math.inf:
        raise ValueError(f"{argument}: expected a positive number of seconds, got {seconds!r}")
    return float(seconds)


def call_within(seconds: float, function, *arguments):
    """``function(*arguments)``, stopped after ``seconds`` of wall-clock time.

    Raises:
        TimeBudgetExceeded: the call had not returned after ``seconds`` (message "did not finish within N s").
        ValueError: ``seconds`` is not a positive finite number.
        Whatever ``function`` raises.
    """
    seconds = positive_seconds(seconds)
    if getattr(_rerun, "active", False):
        return function(*arguments)
    on_main_thread = threading.current_thread() is threading.main_thread()
    alarm_free = hasattr(signal, "setitimer") and (_deadlines or not any(signal.getitimer(signal.ITIMER_REAL)))
    if on_main_thread and alarm_free:
        return _call_with_alarm(seconds, function, arguments)
    if hasattr(os, "fork"):
        return _call_after_trial_in_child(seconds, function, arguments)
    return function(*arguments)


def _exceeded(seconds: float) -> TimeBudgetExceeded:
    return TimeBudgetExceeded(f"did not finish within {seconds:g} s", seconds)


def _raise_interrupt(signal_number, frame):
    if _alarm_is_ours:
        raise _BudgetInterrupt


def _unless_interrupt(hook):
    """``hook`` for every unraisable exception but an interrupt of ours, which the next alarm repeats."""

    def report(unraisable) -> None:
        if not isinstance(unraisable.exc_value, _BudgetInterrupt):
            hook(unraisable)

    return report


def _arm(deadline: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 1e-6), REFIRE_INTERVAL)


def _call_with_alarm(seconds: float, function, arguments):
    # The flag is set and cleared by plain global stores, at which CPython does not run signal handlers, so an
    # alarm that arrives while the outermost call unwinds cannot escape as a _BudgetInterrupt.
    global _alarm_is_ours
    deadline = time.monotonic() + seconds
    outer = _deadlines[-1] if _deadlines else math.inf
    outermost = not _deadlines
    if outermost:
        previous_handler = signal.signal(signal.SIGALRM, _raise_interrupt)
        previous_hook = sys.unraisablehook
        sys.unraisablehook = _unless_interrupt(previous_hook)
    _deadlines.append(min(deadline, outer))
    _alarm_is_ours = True
    _arm(_deadlines[-1])
    try:
        return function(*arguments)
    except _BudgetInterrupt:
        if outermost:
            _alarm_is_ours = False
        if deadline <= outer:
            raise _exceeded(seconds) from None
        raise
    finally:
        if outermost:
            _alarm_is_ours = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            sys.unraisablehook = previous_hook
        _deadlines.pop()
        if not outermost:
            _arm(outer)


def _call_after_trial_in_child(seconds: float, function, arguments):
    trial = multiprocessing.get_context("fork").Process(target=_run_silently, args=(function, arguments))
    trial.start()
    trial.join(seconds)
    if trial.is_alive():
        trial.kill()
        trial.join()
        raise _exceeded(seconds)
    _rerun.active = True
    try:
        return function(*arguments)
    finally:
        _rerun.active = False


def _run_silently(function, arguments) -> None:
    """In the trial child: run the call; its result and exceptions are the parent's to compute again."""
    try:
        function(*arguments)
    except Exception:  # noqa: BLE001, S110 - the parent runs the call again and sees the exception itself
        pass
