"""Gradient descent as the lecture writes it (Lecture 4, section 6):

    w_{k+1} = w_k - alpha_k * grad L(w_k),    k = 0, 1, ..., K - 1

Every parameter is updated from the same w_k (simultaneous update: a new w1 never feeds the update of w2).
The step alpha_k is a constant, a schedule alpha_1 ... alpha_K, a function of k, or chosen by a line
search that evaluates L at several step sizes along -grad L(w_k) and keeps the best.

A run that goes non-finite stops with :class:`TrainingDiverged` instead of returning a NaN path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import SupportsFloat

import numpy as np
import numpy.typing as npt

from symgrad import validation

DEFAULT_LINE_SEARCH_STEPS = tuple(10.0**e for e in range(-6, 1))


class TrainingDiverged(ArithmeticError):
    """A descent or training strategy met a loss, gradient or iterate that is not finite after it started from
    finite ones.

    The message names the run, says "diverged at step k" and what went non-finite, and suggests a smaller learning
    rate (or step).

    Attributes:
        step: k, the step (0-based) at which the run stopped being finite.
    """

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


@dataclass(frozen=True)
class LineSearch:
    """Pick each step by evaluating ``objective(w - alpha * grad)`` for every alpha in ``step_sizes``.

    The best alpha (lowest finite objective) is taken; if none lowers the objective, the step is 0. A candidate
    where the objective is NaN or inf (a step that overflows, or leaves L's domain) is never taken.

    Attributes:
        objective: L(w) -> float, for w shaped like the iterate.
        step_sizes: candidate alphas, each > 0 (default 1e-6 ... 1).
    """

    objective: Callable[[np.ndarray], SupportsFloat]
    step_sizes: Sequence[float] = DEFAULT_LINE_SEARCH_STEPS

    def __post_init__(self) -> None:
        if not callable(self.objective):
            raise TypeError("objective: the line search needs a callable L(w) -> float")
        sizes = self.step_sizes
        if isinstance(sizes, np.ndarray) and sizes.ndim == 1:
            sizes = sizes.tolist()
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
            raise TypeError(f"step_sizes: expected a sequence of numbers > 0, got {type(sizes).__name__}")
        steps = tuple(validation.positive_number(a, f"step_sizes[{i}]") for i, a in enumerate(sizes))
        if not steps:
            raise ValueError("step_sizes: need at least one step size > 0, got none")
        object.__setattr__(self, "step_sizes", steps)

    def __call__(self, w: np.ndarray, gradient: np.ndarray) -> float:
        """The alpha in ``step_sizes`` with the lowest finite L(w - alpha * gradient) below L(w), else 0.

        Raises:
            ValueError: L(w) itself is NaN or inf (no step could be compared with it).
        """
        best_step, best_value = 0.0, self.value(w)
        if not math.isfinite(best_value):
            raise ValueError(
                f"objective: returned {best_value} at the current point; the line search needs a finite L(w)"
            )
        for step in self.step_sizes:
            with np.errstate(over="ignore", invalid="ignore"):
                value = self.value(w - step * gradient)
            if math.isfinite(value) and value < best_value:
                best_step, best_value = step, value
        return best_step

    def value(self, w: np.ndarray) -> float:
        """L(w) as a float; TypeError naming the objective when it does not return one real number."""
        value = np.asarray(self.objective(w))
        real = value.dtype != bool and np.issubdtype(value.dtype, np.number) and not np.iscomplexobj(value)
        if value.size != 1 or not real:
            raise TypeError(
                f"objective: must return one real number, returned an array of shape {value.shape} ({value.dtype})"
            )
        return float(value.reshape(()))


@dataclass(frozen=True)
class GradientDescentResult:
    """The run of :func:`gradient_descent`.

    Attributes:
        w: final iterate, shape (S) of w0.
        path: every iterate w_0 ... w_k, shape (k + 1, S); k = steps unless the tolerance stopped it early.
        gradient_norms: Euclidean norm of grad L(w_j) for each step taken, shape (k,) (plus the norm that
            stopped the run, if it stopped early).
        learning_rates: alpha_j used at each step, shape (k,).
        converged: True when the gradient norm fell below the tolerance.
    """

    w: np.ndarray
    path: np.ndarray
    gradient_norms: np.ndarray
    learning_rates: np.ndarray
    converged: bool

    @property
    def steps_taken(self) -> int:
        return len(self.path) - 1


def step_size_rule(learning_rate, steps: int) -> Callable[[int, np.ndarray, np.ndarray], float]:
    """Turn any accepted ``learning_rate`` into a rule (k, w_k, grad_k) -> alpha_k."""
    if isinstance(learning_rate, LineSearch):
        return lambda k, w, g: learning_rate(w, g)
    if callable(learning_rate):
        return lambda k, w, g: _checked_rate(learning_rate(k), f"learning_rate({k})")
    if isinstance(learning_rate, Real):
        rate = _checked_rate(learning_rate, "learning_rate")
        return lambda k, w, g: rate
    if isinstance(learning_rate, (Sequence, np.ndarray)) and not isinstance(learning_rate, str):
        rates = [_checked_rate(a, f"learning_rate[{i}]") for i, a in enumerate(learning_rate)]
        if len(rates) != steps:
            raise ValueError(f"learning_rate: the schedule has {len(rates)} steps, but steps={steps}")
        return lambda k, w, g: rates[k]
    raise TypeError(
        "learning_rate: expected a number, a sequence of one rate per step, a callable of the step "
        f"index, or a LineSearch; got {type(learning_rate).__name__}"
    )


def _checked_rate(rate, name: str) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (Real, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a number, got {type(rate).__name__}")
    rate = float(rate)
    if not (np.isfinite(rate) and rate >= 0):
        raise ValueError(f"{name}: a learning rate must be finite and >= 0, got {rate}")
    return rate


def gradient_descent(
    grad: Callable[[np.ndarray], npt.ArrayLike],
    w0: npt.ArrayLike,
    learning_rate: float | Sequence[float] | Callable[[int], float] | LineSearch,
    steps: int,
    *,
    tolerance: float | None = None,
) -> GradientDescentResult:
    """Run K = ``steps`` steps of gradient descent from ``w0``.

    Args:
        grad: grad L(w) -> array shaped like w, real (e.g. ``compile_derivation(get_derivation("bowl_2d")).gradient``).
        w0: starting point, any shape (S), finite; float32 stays float32, integers become float64.
        learning_rate: a number alpha; a sequence alpha_1 ... alpha_K of length ``steps``; a callable
            k -> alpha_k (k = 0 ... K-1); or a :class:`LineSearch`.
        steps: K >= 0.
        tolerance: stop early when ||grad L(w_k)|| < tolerance.

    Returns:
        :class:`GradientDescentResult` with ``.w`` (S) and ``.path`` (k + 1, S).

    Raises:
        TrainingDiverged: grad L(w_k) (k >= 1) or an iterate w_k is NaN or inf: "diverged at step k".
        ValueError / TypeError: naming the argument: ``grad`` returned a gradient of the wrong shape, a complex
            or non-numeric one, or one that is not finite at w0 itself (no learning rate can help there).

    >>> gradient_descent(lambda w: 2 * w, 3.0, 0.1, 2).path.tolist()
    [3.0, 2.4, 1.92]
    """
    if not callable(grad):
        raise TypeError("grad: expected a callable grad(w) -> array like w")
    steps = validation.count(steps, "steps", minimum=0)
    if tolerance is not None:
        tolerance = validation.positive_number(tolerance, "tolerance")
    w = validation.real_array(w0, "w0")
    w = np.array(w, dtype=w.dtype if np.issubdtype(w.dtype, np.floating) else np.float64)
    if w.size == 0:
        raise ValueError(f"w0: expected at least one parameter, got an empty array of shape {w.shape}")
    validation.require_finite(w, "w0")
    rule = step_size_rule(learning_rate, steps)

    path, norms, rates = [w.copy()], [], []
    converged = False
    for k in range(steps):
        g = _checked_gradient(grad, w, k, rates)
        norms.append(euclidean_norm(g))
        if tolerance is not None and norms[-1] < tolerance:
            converged = True
            break
        rate = rule(k, w, g)
        with np.errstate(over="ignore", invalid="ignore"):
            w = (w - rate * g).astype(w.dtype, copy=False)
        if not np.all(np.isfinite(w)):
            raise TrainingDiverged(
                f"gradient descent diverged at step {k}: the update w - {rate:g} * grad overflowed "
                f"(||grad|| = {norms[-1]:.3g}); try a smaller learning rate", k
            )
        rates.append(rate)
        path.append(w.copy())
    if tolerance is not None and not converged and steps > 0:
        converged = euclidean_norm(_checked_gradient(grad, w, steps, rates)) < tolerance
    return GradientDescentResult(
        w=w,
        path=np.stack(path),
        gradient_norms=np.array(norms),
        learning_rates=np.array(rates),
        converged=converged,
    )


def euclidean_norm(v) -> float:
    """||v||_2 of a finite array, scaled by its largest entry so that squaring cannot overflow (1e200 stays 1e200)."""
    v = np.asarray(v)
    largest = float(np.max(np.abs(v), initial=0.0))
    return largest * float(np.linalg.norm(v / largest)) if largest > 0 else 0.0


def _checked_gradient(grad: Callable, w: np.ndarray, k: int, rates: list) -> np.ndarray:
    """grad(w_k), checked: real, shaped like w, finite (else TrainingDiverged after a step, ValueError at w0)."""
    g = np.asarray(grad(w))
    if g.shape != w.shape:
        raise ValueError(f"grad: returned shape {g.shape} at a point of shape {w.shape}")
    if g.dtype == bool or not (np.issubdtype(g.dtype, np.floating) or np.issubdtype(g.dtype, np.integer)):
        lost = ": its imaginary part would be lost" if np.iscomplexobj(g) else ""
        raise TypeError(f"grad: must return a real array like w ({w.dtype}), returned dtype {g.dtype}{lost}")
    if not np.all(np.isfinite(g)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(g))[0])
        found = f"{g[index]} at index {index}"
        if k == 0:
            raise ValueError(f"grad: returned {found} at the starting point w0, before any step")
        raise TrainingDiverged(
            f"gradient descent diverged at step {k}: grad(w_{k}) is {found} (||w_{k}|| = {euclidean_norm(w):.3g}, "
            f"last learning rate {rates[-1]:g}); try a smaller learning rate", k
        )
    return g
