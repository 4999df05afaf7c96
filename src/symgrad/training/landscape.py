"""The lecture's experiments on the loss surface of a linear classifier: step sizes, slices, the hinge demo.

A linear classifier's loss depends on W only through the scores S = X Wᵀ (N, C). Along a slice

    L(W + a W₁ + b W₂),    scores  S(a, b) = X Wᵀ + a X W₁ᵀ + b X W₂ᵀ,

so two matrix products are computed once, X Wᵀ and X [W₁; W₂]ᵀ (all directions stacked into one), and each
point of the slice costs only a loss on (N, C) scores: the compiled ``loss_and_grad`` is called with features S(a, b) and weights I_C (C, C), for which
the scores are S(a, b) itself. The L2 term is added exactly: ||W + a W₁ + b W₂||² expanded in a and b.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from symgrad import validation
from symgrad.training.descent import euclidean_norm
from symgrad.training.strategies import checked_problem

LECTURE_STEP_SIZES = tuple(10.0**exponent for exponent in range(-10, 0))  # 1e-10 ... 1e-1


@dataclass(frozen=True)
class StepSizeSweep:
    """Loss after one gradient step of each size, from one W (the lecture's step-size table).

    Attributes:
        loss: L(W), the loss before any step.
        gradient_norm: ||grad L(W)|| (Frobenius).
        step_sizes: (S,) the step sizes alpha.
        losses: (S,) L(W - alpha grad L(W)) for each alpha.
    """

    loss: float
    gradient_norm: float
    step_sizes: np.ndarray
    losses: np.ndarray

    @property
    def best_step_size(self) -> float:
        """The alpha with the lowest loss."""
        return float(self.step_sizes[np.argmin(self.losses)])


def step_size_sweep(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]], W: npt.ArrayLike, X: npt.ArrayLike, y: npt.ArrayLike,
    step_sizes: Sequence[float] = LECTURE_STEP_SIZES, *, reg: float = 0.0,
) -> StepSizeSweep:
    """At W, take the gradient once and evaluate the loss after a step of each size along -grad.

    Args:
        loss_and_grad: (W (C, D), X (N, D), y (N,), reg=...) -> (loss, dW (C, D)).
        W: (C, D) the point. X: (N, D), bias trick as the last column. y: (N,) labels.
        step_sizes: (S,) alphas > 0 (default the lecture's 1e-10 ... 1e-1).
        reg: L2 strength >= 0.

    Returns:
        :class:`StepSizeSweep`: small steps lower the loss a little, good ones a lot, too large ones raise it.
    """
    W = validation.real_matrix(W, "W")
    X, y, _, _ = checked_problem(loss_and_grad, X, y, W.shape[0], None)
    steps = coordinates(step_sizes, "step_sizes")
    if not np.all(steps > 0):
        raise ValueError(f"step_sizes: expected numbers > 0, got {step_sizes!r}")
    loss, gradient = loss_and_grad(W, X, y, reg=reg)
    return StepSizeSweep(float(loss), euclidean_norm(gradient), steps, np.array([
        _loss_after_step(loss_and_grad, W, gradient, alpha, X, y, reg) for alpha in steps
    ]))


def _loss_after_step(loss_and_grad: Callable, W, gradient, alpha: float, X, y, reg: float) -> float:
    """L(W - alpha * gradient) in W's dtype; the inputs were checked by L(W), so an error here is the step's overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        W_after = W - float(alpha) * gradient  # a NumPy float64 alpha would promote a float32 W (and copy X)
    try:
        return float(loss_and_grad(W_after, X, y, reg=reg)[0])
    except ValueError as error:
        raise ValueError(f"step_sizes: after a step of {alpha:g} the loss is not finite ({error})") from None


def random_directions(shape: tuple[int, int], count: int, rng=None) -> np.ndarray:
    """``count`` directions of shape (C, D) with independent N(0, 1) entries, stacked: (count, C, D)."""
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"shape: expected (C, D), two integers, got {shape!r}")
    sizes = tuple(validation.count(size, f"shape[{i}]") for i, size in enumerate(shape))
    count = validation.count(count, "count")
    rng = validation.random_generator(rng)
    try:
        return rng.standard_normal((count, *sizes))
    except (ValueError, MemoryError):  # NumPy: "array is too big" / "Maximum allowed dimension exceeded"
        raise ValueError(f"count: {count} directions of shape {sizes} do not fit in memory") from None


def coordinates(values, name: str) -> np.ndarray:
    """Slice coordinates as a non-empty, finite 1-D float64 array (A,); the error names them."""
    array = validation.real_array(values, name)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D array, got shape {array.shape}")
    validation.require_finite(array, name)
    return array.astype(np.float64)


def loss_along(
    loss_and_grad: Callable, W, directions, coefficients, X, y, *, reg: float = 0.0, progress: bool = True
) -> np.ndarray:
    """L(W + Σ_k c_pk · directions_k) at every row c_p of ``coefficients``, with two matrix products in all.

    Args:
        loss_and_grad: (W (C, D), X (N, D), y (N,), reg=...) -> (loss, dW); called once per point on
            (N, C) scores with weights I_C.
        W: (C, D) the centre, finite. directions: (K, C, D), finite. coefficients: (P, K), finite, one point of
            the slice per row.
        X: (N, D), bias trick as the last column. y: (N,) labels. reg: L2 strength >= 0.
        progress: show a tqdm bar over the P points (only when the output is a terminal).

    Returns:
        (P,) losses.
    """
    W = validation.real_matrix(W, "W")
    validation.require_finite(W, "W")
    directions = validation.real_array(directions, "directions").astype(W.dtype)
    if directions.ndim != 3 or directions.shape[1:] != W.shape or len(directions) == 0:
        raise ValueError(f"directions: expected shape (K, {W.shape[0]}, {W.shape[1]}), K >= 1, got {directions.shape}")
    validation.require_finite(directions, "directions")
    coefficients = validation.real_array(coefficients, "coefficients").astype(W.dtype)
    if coefficients.ndim != 2 or coefficients.shape[1] != len(directions) or len(coefficients) == 0:
        raise ValueError(f"coefficients: expected shape (P, {len(directions)}), P >= 1, got {coefficients.shape}")
    validation.require_finite(coefficients, "coefficients")
    reg = validation.nonnegative_number(reg, "reg")
    X, y, _, _ = checked_problem(loss_and_grad, X, y, W.shape[0], None)
    if X.shape[1] != W.shape[1]:
        raise ValueError(f"X: has {X.shape[1]} features per example, W has {W.shape[1]}")
    K, C, D = directions.shape
    with np.errstate(over="ignore", invalid="ignore"):
        centre_scores = X @ W.T  # (N, C)
        direction_scores = (X @ directions.reshape(K * C, D).T).reshape(len(X), K, C).transpose(1, 0, 2)  # (K, N, C)
    for name, scores in (("W", centre_scores), ("directions", direction_scores)):
        if not np.all(np.isfinite(scores)):
            raise ValueError(f"{name}: the scores X @ {name}.T overflow; rescale {name} or X")
    identity = np.eye(W.shape[0], dtype=W.dtype)
    data_losses = np.array([
        float(loss_and_grad(identity, _scores_at(centre_scores, direction_scores, c), y, reg=0.0)[0])
        for c in _progress(coefficients, f"loss at {len(coefficients)} points", progress)
    ])
    if reg == 0:  # not computed: an overflowing ||W||^2 would turn 0 * inf into NaN
        return data_losses
    with np.errstate(over="ignore", invalid="ignore"):
        losses = data_losses + reg * _squared_norms_along(W, directions, coefficients)
    if not np.all(np.isfinite(losses)):
        raise ValueError("reg: reg * ||W + sum_k c_k directions_k||^2 overflows; lower reg or the coefficients")
    return losses


def _scores_at(centre_scores, direction_scores, c) -> np.ndarray:
    """S(c) = X Wᵀ + Σ_k c_k X W_kᵀ (N, C); ValueError naming the coefficients when it overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        scores = centre_scores + np.tensordot(c, direction_scores, axes=1)
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"coefficients: the scores overflow at {c.tolist()}; use smaller coefficients")
    return scores


def _progress(items, description: str, enabled: bool):
    """``items`` in a tqdm bar when tqdm is installed, ``enabled`` and stderr is a terminal (``disable=None``)."""
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc=description, disable=None, leave=False)


def _squared_norms_along(W, directions, coefficients) -> np.ndarray:
    """||W + Σ_k c_pk directions_k||² for every row c_p, from the Gram matrix of [W, directions]: (P,)."""
    vectors = np.concatenate([W[None], directions]).reshape(len(directions) + 1, -1)
    gram = vectors @ vectors.T
    weights = np.hstack([np.ones((len(coefficients), 1)), coefficients])  # (P, K + 1)
    return np.einsum("pi,ij,pj->p", weights, gram, weights)


def loss_slice_1d(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]], W: npt.ArrayLike, W1: npt.ArrayLike, alphas: npt.ArrayLike,
    X: npt.ArrayLike, y: npt.ArrayLike, *, reg: float = 0.0, progress: bool = True,
) -> np.ndarray:
    """L(W + a W₁) for every a in ``alphas`` (A,): returns (A,). W, W1 (C, D); X (N, D); y (N,).

    ``progress`` shows a tqdm bar over the A points (only when the output is a terminal).
    """
    alphas = coordinates(alphas, "alphas")
    W1 = _direction(W1, "W1", W)
    return loss_along(loss_and_grad, W, W1[None], alphas[:, None], X, y, reg=reg, progress=progress)


def loss_slice_2d(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]], W: npt.ArrayLike, W1: npt.ArrayLike, W2: npt.ArrayLike,
    alphas: npt.ArrayLike, betas: npt.ArrayLike, X: npt.ArrayLike, y: npt.ArrayLike, *, reg: float = 0.0,
    progress: bool = True,
) -> np.ndarray:
    """L(W + a W₁ + b W₂) on the grid alphas (A,) x betas (B,): returns (B, A), row i at b = betas[i].

    W, W1, W2 (C, D); X (N, D); y (N,). The layout suits ``imshow``/``contour`` with a on the x axis.
    ``progress`` shows a tqdm bar over the A B points (only when the output is a terminal).
    """
    alphas, betas = coordinates(alphas, "alphas"), coordinates(betas, "betas")
    directions = np.stack([_direction(W1, "W1", W), _direction(W2, "W2", W)])
    a_grid, b_grid = np.meshgrid(alphas, betas)
    coefficients = np.column_stack([a_grid.ravel(), b_grid.ravel()])
    losses = loss_along(loss_and_grad, W, directions, coefficients, X, y, reg=reg, progress=progress)
    return losses.reshape(b_grid.shape)


def _direction(value, name: str, W) -> np.ndarray:
    """A direction shaped like W (C, D), real; the error names it."""
    direction = validation.real_array(value, name)
    if direction.shape != np.shape(W):
        raise ValueError(f"{name}: expected a direction shaped like W {np.shape(W)}, got {direction.shape}")
    return direction


@dataclass(frozen=True)
class HingeDemo:
    """The lecture's three-example illustration: the SVM loss along one direction is piecewise linear.

    Attributes:
        alphas: (A,) positions a along the direction.
        example_losses: (3, A) L_i(W + a W₁) of each example alone (a sum of hinges: kinks where a margin hits 0).
        total: (A,) their mean, the data loss L = (L₀ + L₁ + L₂) / 3: convex and piecewise linear.
    """

    alphas: np.ndarray
    example_losses: np.ndarray
    total: np.ndarray


def hinge_demo(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]], W: npt.ArrayLike, W1: npt.ArrayLike, X: npt.ArrayLike, y: npt.ArrayLike,
    alphas: npt.ArrayLike,
) -> HingeDemo:
    """Per-example and mean loss of three examples along W + a W₁.

    Args:
        loss_and_grad: the multiclass SVM (or any loss with the same contract).
        W, W1: (C, D). X: (3, D), one example per class in the lecture. y: (3,). alphas: (A,).

    Returns:
        :class:`HingeDemo` with example_losses (3, A) and total (A,).
    """
    X = validation.real_matrix(X, "X")
    if len(X) != 3:
        raise ValueError(f"X: the demo uses exactly three examples, got {len(X)}")
    y = np.asarray(y)
    if y.shape != (3,):
        raise ValueError(f"y: expected three labels, one per row of X, got shape {y.shape}")
    alphas = coordinates(alphas, "alphas")
    example_losses = np.stack([loss_slice_1d(loss_and_grad, W, W1, alphas, X[i : i + 1], y[i : i + 1]) for i in range(3)])
    total = loss_slice_1d(loss_and_grad, W, W1, alphas, X, y)
    return HingeDemo(alphas, example_losses, total)
