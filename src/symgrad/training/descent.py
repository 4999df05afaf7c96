"""Gradient descent as the lecture writes it (Lecture 4, section 6):

    w_{k+1} = w_k - alpha_k * grad L(w_k),    k = 0, 1, ..., K - 1

Every parameter is updated from the same w_k (simultaneous update: a new w1 never feeds the update of w2).
The step alpha_k is a constant, a schedule alpha_1 ... alpha_K, a function of k, or chosen by a line
search that evaluates L at several step sizes along -grad L(w_k) and keeps the best.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import SupportsFloat

import numpy as np
import numpy.typing as npt

from symgrad.verification.numerical import floating_copy, scalar_value

DEFAULT_LINE_SEARCH_STEPS = tuple(10.0**e for e in range(-6, 1))


@dataclass(frozen=True)
class LineSearch:
    """Pick each step by evaluating ``objective(w - alpha * grad)`` for every alpha in ``step_sizes``.

    The best alpha (lowest objective) is taken; if none lowers the objective, the step is 0.

    Attributes:
        objective: L(w) -> float, for w shaped like the iterate.
        step_sizes: candidate alphas, each > 0 (default 1e-6 ... 1).
    """

    objective: Callable[[np.ndarray], SupportsFloat]
    step_sizes: Sequence[float] = DEFAULT_LINE_SEARCH_STEPS

    def __post_init__(self) -> None:
        if not callable(self.objective):
            raise TypeError("objective: the line search needs a callable L(w) -> float")
        steps = tuple(float(a) for a in self.step_sizes)
        if not steps or not all(np.isfinite(a) and a > 0 for a in steps):
            raise ValueError(f"step_sizes: need at least one finite step > 0, got {self.step_sizes!r}")
        object.__setattr__(self, "step_sizes", steps)

    def __call__(self, w: np.ndarray, gradient: np.ndarray) -> float:
        best_step, best_value = 0.0, scalar_value(self.objective, w)
        for step in self.step_sizes:
            value = scalar_value(self.objective, w - step * gradient)
            if value < best_value:
                best_step, best_value = step, value
        return best_step


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
        grad: grad L(w) -> array shaped like w (e.g. ``compile_derivation(get_derivation("bowl_2d")).gradient``).
        w0: starting point, any shape (S), finite; float32 stays float32, integers become float64.
        learning_rate: a number alpha; a sequence alpha_1 ... alpha_K of length ``steps``; a callable
            k -> alpha_k (k = 0 ... K-1); or a :class:`LineSearch`.
        steps: K >= 0.
        tolerance: stop early when ||grad L(w_k)|| < tolerance.

    Returns:
        :class:`GradientDescentResult` with ``.w`` (S) and ``.path`` (k + 1, S).

    >>> gradient_descent(lambda w: 2 * w, 3.0, 0.1, 2).path.tolist()
    [3.0, 2.4, 1.92]
    """
    if not callable(grad):
        raise TypeError("grad: expected a callable grad(w) -> array like w")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"steps: expected an integer, got {type(steps).__name__}")
    if steps < 0:
        raise ValueError(f"steps: must be >= 0, got {steps}")
    if tolerance is not None and not (np.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance: must be a finite number > 0, got {tolerance!r}")
    w = floating_copy(w0)
    if not np.all(np.isfinite(w)):
        raise ValueError(f"w0: must be finite, got {w0!r}")
    rule = step_size_rule(learning_rate, steps)

    path, norms, rates = [w.copy()], [], []
    converged = False
    for k in range(steps):
        g = np.asarray(grad(w))
        if g.shape != w.shape:
            raise ValueError(f"grad: returned shape {g.shape} at a point of shape {w.shape}")
        norms.append(float(np.linalg.norm(g)))
        if tolerance is not None and norms[-1] < tolerance:
            converged = True
            break
        rate = rule(k, w, g)
        w = (w - rate * g).astype(w.dtype, copy=False)
        rates.append(rate)
        path.append(w.copy())
    if tolerance is not None and not converged and steps > 0:
        final_norm = float(np.linalg.norm(np.asarray(grad(w))))
        converged = final_norm < tolerance
    return GradientDescentResult(
        w=w,
        path=np.stack(path),
        gradient_norms=np.array(norms),
        learning_rates=np.array(rates),
        converged=converged,
    )
