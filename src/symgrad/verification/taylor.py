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

from symgrad.verification.checker import NOISE_POINTS, OFF_GRID, validated_inputs, measure_noise
from symgrad.verification.numerical import as_scalar

#: A remainder counts only above this many times f's measured noise (plus g's rounding times t).
ABOVE_NOISE = 16


@dataclass(frozen=True)
class TaylorReport:
    """Verdict of :func:`check_taylor_remainder`.

    Attributes:
        ok: the remainder shrinks at least like t^1.5 (a right gradient gives ~2, a wrong one ~1), or stays at
            rounding level (f is linear along d and g^T d is exact); False for a non-finite gradient or f.
        slope: the measured log-log slope of the remainder against t over the smallest usable steps (nan when
            every remainder is at rounding level, or nothing finite was measured).
        steps, remainders: t (k,) and |f(x + t d) - f(x) - t g^T d| (k,), the usable ones.
        direction: d (S), of unit length.
        reason: why the test failed without a slope (a non-finite gradient or value), else empty.
    """

    ok: bool
    slope: float
    steps: np.ndarray
    remainders: np.ndarray
    direction: np.ndarray
    reason: str = ""

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        if self.reason:
            return f"Taylor test {verdict}: {self.reason}"
        if math.isnan(self.slope):
            return f"Taylor test {verdict}: the remainder is at rounding level (f linear along d, g^T d exact)"
        pairs = ", ".join(f"{t:.1e}: {r:.2e}" for t, r in zip(self.steps[-4:], self.remainders[-4:], strict=False))
        return (
            f"Taylor test {verdict}: remainder |f(x + t d) - f(x) - t g^T d| shrinks like t^{self.slope:.2f} "
            f"(right gradient ~2, wrong ~1)\n  t: remainder  {pairs}"
        )


def check_taylor_remainder(f: Callable, grad, x, *, direction=None, seed: int | None = None) -> TaylorReport:
    """The Taylor-remainder test: a verdict from a slope, with no tolerance to choose.

    r(t) = |f(x + t d) - f(x) - t g^T d| is O(t^2) when g is the gradient and ~ t |g^T d - f'(x; d)| otherwise,
    so the slope of log r against log t is ~2 for a right gradient and ~1 for a wrong one. Steps t halve from
    max(1, |x|) / 8, and the slope is fitted over the four smallest whose remainder is above f's measured noise.
    Meant for smooth points: at a kink even a valid subgradient gives slope 1 (use
    :func:`symgrad.verification.checker.check_subgradient`).

    Args:
        f: function of an array shaped like x (S) returning one real number.
        grad: function x -> claimed gradient (S), or that gradient (S).
        x: the point (S), real and finite.
        direction: d (S), finite and not zero (scaled to unit length); default a random signed unit direction.
        seed: seed for the random direction.

    Returns:
        a :class:`TaylorReport` with the usable steps (k,), their remainders (k,) and d (S).

    Raises:
        ValueError: x empty or not finite; direction of another shape, not finite, zero or underflowing.
    """
    point, gradient, rng, _ = validated_inputs(f, grad, x, seed)
    if direction is None:
        direction = rng.standard_normal(point.shape)
    direction = _unit_direction(direction, point.shape)
    empty = np.array([])
    if not np.all(np.isfinite(gradient)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(gradient))[0])
        return TaylorReport(False, math.nan, empty, empty, direction,
                            f"the claimed gradient is not finite: grad{list(index)} = {gradient[index]}")
    x = point.astype(np.float64)
    claimed = gradient.astype(np.float64)
    f_at_x = as_scalar(f(x))
    if not math.isfinite(f_at_x):
        return TaylorReport(False, math.nan, empty, empty, direction, f"f(x) = {f_at_x} is not finite")
    slope_claimed = float(np.sum(claimed * direction))
    spacing = 2.0**-17 * max(1.0, float(np.max(np.abs(x))))
    half = NOISE_POINTS // 2
    nearby = [f_at_x if k == 0 else as_scalar(f(x + k * spacing * OFF_GRID * direction))
              for k in range(-half, half + 1)]
    noise = measure_noise(nearby).absolute if all(map(math.isfinite, nearby)) else 0.0
    rounding_of_g = float(np.finfo(gradient.dtype).eps) * float(np.sum(np.abs(claimed * direction)))
    steps = max(1.0, float(np.max(np.abs(x)))) / 8 * 0.5 ** np.arange(40)
    usable_steps, remainders = [], []
    for t in steps:
        f_at_y = as_scalar(f(x + t * direction))
        if not math.isfinite(f_at_y):
            return TaylorReport(False, math.nan, np.array(usable_steps), np.array(remainders), direction,
                                f"f(x + {t:.3g} d) = {f_at_y} is not finite")
        remainder = abs(f_at_y - f_at_x - t * slope_claimed)
        if remainder > ABOVE_NOISE * (noise + t * rounding_of_g):
            usable_steps.append(t)
            remainders.append(remainder)
    usable_steps, remainders = np.array(usable_steps), np.array(remainders)
    if len(usable_steps) < 3:
        return TaylorReport(True, math.nan, usable_steps, remainders, direction)
    slope = float(np.polyfit(np.log(usable_steps[-4:]), np.log(remainders[-4:]), 1)[0])
    return TaylorReport(slope >= 1.5, slope, usable_steps, remainders, direction)


def _unit_direction(direction, shape) -> np.ndarray:
    """``direction`` as a float64 unit vector of ``shape``; a ValueError, naming it, when that is impossible."""
    try:
        direction = np.asarray(direction, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"direction: expected a real array, got {error}") from None
    if direction.shape != shape:
        raise ValueError(f"direction: shape {direction.shape} differs from x's shape {shape}")
    if not np.all(np.isfinite(direction)):
        raise ValueError("direction: must be finite (found NaN or inf)")
    largest = float(np.max(np.abs(direction)))
    if largest == 0:
        raise ValueError("direction: is zero; the test needs a direction to move along")
    if largest < np.finfo(np.float64).tiny:
        raise ValueError(f"direction: its largest entry {largest:.3g} underflows (subnormal); scale it up")
    scaled = direction / largest
    return scaled / np.linalg.norm(scaled)
