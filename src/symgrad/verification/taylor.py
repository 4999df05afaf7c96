"""The Taylor-remainder test: a claimed gradient g judged by how fast the first-order remainder
|f(x + t d) - f(x) - t g^T d| shrinks with t (like t^2 when g is right, like t when it is wrong), with no
tolerance to choose.

>>> import numpy as np
>>> check_taylor_remainder(lambda x: float(np.sum(x**3)), lambda x: 3 * x**2, np.array([1.0, -2.0]), seed=0).ok
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from symgrad.verification.checker import ROUNDING_ULPS, _prepare, _reference_dtype, _rounding_unit
from symgrad.verification.numerical import scalar_value


@dataclass(frozen=True)
class TaylorReport:
    """Verdict of :func:`check_taylor_remainder`.

    Attributes:
        ok: the remainder shrinks at least like t^1.5 (a right gradient gives ~2, a wrong one ~1), or stays at
            rounding level (f is linear along d and g^T d is exact).
        slope: the measured log-log slope of the remainder against t over the smallest usable steps (nan when
            every remainder is at rounding level).
        steps, remainders: t (k,) and |f(x + t d) - f(x) - t g^T d| (k,), the usable ones.
        direction: d (S).
    """

    ok: bool
    slope: float
    steps: np.ndarray
    remainders: np.ndarray
    direction: np.ndarray

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        if math.isnan(self.slope):
            return f"Taylor test {verdict}: the remainder is at rounding level (f linear along d, g^T d exact)"
        pairs = ", ".join(f"{t:.1e}: {r:.2e}" for t, r in zip(self.steps[-4:], self.remainders[-4:]))
        return (
            f"Taylor test {verdict}: remainder |f(x + t d) - f(x) - t g^T d| shrinks like t^{self.slope:.2f} "
            f"(right gradient ~2, wrong ~1)\n  t: remainder  {pairs}"
        )


def check_taylor_remainder(f: Callable, grad, x, *, direction=None, seed: int | None = None) -> TaylorReport:
    """The Taylor-remainder test: a verdict from a slope, with no tolerance to choose.

    r(t) = |f(x + t d) - f(x) - t g^T d| is O(t^2) when g is the gradient and ~ t |g^T d - f'(x; d)| otherwise,
    so the slope of log r against log t is ~2 for a right gradient and ~1 for a wrong one. Steps t halve from
    max(1, |x|) / 8, and the slope is fitted over the four smallest whose remainder is above rounding level.
    Meant for smooth points: at a kink even a valid subgradient gives slope 1 (use
    :func:`symgrad.verification.checker.check_subgradient`).

    Args:
        f: function of an array shaped like x (S) returning one real number.
        grad: function x -> claimed gradient (S), or that gradient (S).
        x: the point (S), real and finite.
        direction: d (S); default a random signed unit direction.
        seed: seed for the random direction.

    Returns:
        a :class:`TaylorReport` with the usable steps (k,), their remainders (k,) and d (S).
    """
    point, gradient, f_at_x, rng, _ = _prepare(f, grad, x, seed)
    if direction is None:
        direction = rng.standard_normal(point.shape)
        direction /= np.linalg.norm(direction)
    direction = np.asarray(direction, dtype=np.float64)
    if direction.shape != point.shape:
        raise ValueError(f"direction: shape {direction.shape} differs from x's shape {point.shape}")
    x = point.astype(np.float64)
    slope_claimed = float(np.sum(gradient.astype(np.float64) * direction))
    rounding_of_g = ROUNDING_ULPS * _rounding_unit(gradient.dtype, float(np.sum(np.abs(gradient * direction))))
    rounding_of_f = ROUNDING_ULPS * np.finfo(_reference_dtype(f, point)).eps
    steps = max(1.0, float(np.max(np.abs(x)))) / 8 * 0.5 ** np.arange(40)
    usable_steps, remainders = [], []
    for t in steps:
        f_at_y = scalar_value(f, x + t * direction)
        remainder = abs(f_at_y - f_at_x - t * slope_claimed)
        if remainder > 100 * (rounding_of_f * max(abs(f_at_x), abs(f_at_y)) + t * rounding_of_g):
            usable_steps.append(t)
            remainders.append(remainder)
    usable_steps, remainders = np.array(usable_steps), np.array(remainders)
    if len(usable_steps) < 3:
        return TaylorReport(True, math.nan, usable_steps, remainders, direction)
    slope = float(np.polyfit(np.log(usable_steps[-4:]), np.log(remainders[-4:]), 1)[0])
    return TaylorReport(slope >= 1.5, slope, usable_steps, remainders, direction)
