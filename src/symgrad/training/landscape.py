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
    steps = np.asarray(step_sizes, dtype=np.float64)
    if steps.ndim != 1 or steps.size == 0 or not np.all(np.isfinite(steps) & (steps > 0)):
        raise ValueError(f"step_sizes: expected a non-empty 1-D sequence of finite numbers > 0, got {step_sizes!r}")
    loss, gradient = loss_and_grad(W, X, y, reg=reg)
    losses = np.array([float(loss_and_grad(W - alpha * gradient, X, y, reg=reg)[0]) for alpha in steps])
    return StepSizeSweep(float(loss), float(np.linalg.norm(gradient)), steps, losses)


def random_directions(shape: tuple[int, int], count: int, rng=None) -> np.ndarray:
    """``count`` directions of shape (C, D) with independent N(0, 1) entries, stacked: (count, C, D)."""
    return np.random.default_rng(rng).standard_normal((count, *shape))


def loss_along(loss_and_grad: Callable, W, directions, coefficients, X, y, *, reg: float = 0.0) -> np.ndarray:
    """L(W + Σ_k c_pk · directions_k) at every row c_p of ``coefficients``, with two matrix products in all.

    Args:
        loss_and_grad: (W (C, D), X (N, D), y (N,), reg=...) -> (loss, dW); called once per point on
            (N, C) scores with weights I_C.
        W: (C, D) the centre. directions: (K, C, D). coefficients: (P, K), one point of the slice per row.
        X: (N, D), bias trick as the last column. y: (N,) labels. reg: L2 strength >= 0.

    Returns:
        (P,) losses.
    """
    W = validation.real_matrix(W, "W")
    directions = np.asarray(directions, dtype=W.dtype)
    if directions.ndim != 3 or directions.shape[1:] != W.shape:
        raise ValueError(f"directions: expected shape (K, {W.shape[0]}, {W.shape[1]}), got {directions.shape}")
    coefficients = np.asarray(coefficients, dtype=W.dtype)
    if coefficients.ndim != 2 or coefficients.shape[1] != len(directions):
        raise ValueError(f"coefficients: expected shape (P, {len(directions)}), got {coefficients.shape}")
    X, y, _, _ = checked_problem(loss_and_grad, X, y, W.shape[0], None)
    if X.shape[1] != W.shape[1]:
        raise ValueError(f"X: has {X.shape[1]} features per example, W has {W.shape[1]}")
    if not (np.isfinite(reg) and reg >= 0):
        raise ValueError(f"reg: must be a finite number >= 0, got {reg!r}")
    centre_scores = X @ W.T  # (N, C)
    K, C, D = directions.shape
    direction_scores = (X @ directions.reshape(K * C, D).T).reshape(len(X), K, C).transpose(1, 0, 2)  # (K, N, C)
    identity = np.eye(W.shape[0], dtype=W.dtype)
    data_losses = np.array([
        float(loss_and_grad(identity, centre_scores + np.tensordot(c, direction_scores, axes=1), y, reg=0.0)[0])
        for c in coefficients
    ])
    return data_losses + reg * _squared_norms_along(W, directions, coefficients)


def _squared_norms_along(W, directions, coefficients) -> np.ndarray:
    """||W + Σ_k c_pk directions_k||² for every row c_p, from the Gram matrix of [W, directions]: (P,)."""
    vectors = np.concatenate([W[None], directions]).reshape(len(directions) + 1, -1)
    gram = vectors @ vectors.T
    weights = np.hstack([np.ones((len(coefficients), 1)), coefficients])  # (P, K + 1)
    return np.einsum("pi,ij,pj->p", weights, gram, weights)


def loss_slice_1d(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]], W: npt.ArrayLike, W1: npt.ArrayLike, alphas: npt.ArrayLike,
    X: npt.ArrayLike, y: npt.ArrayLike, *, reg: float = 0.0,
) -> np.ndarray:
    """L(W + a W₁) for every a in ``alphas`` (A,): returns (A,). W, W1 (C, D); X (N, D); y (N,)."""
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1:
        raise ValueError(f"alphas: expected a 1-D array, got shape {alphas.shape}")
    return loss_along(loss_and_grad, W, np.asarray(W1)[None], alphas[:, None], X, y, reg=reg)


def loss_slice_2d(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]], W: npt.ArrayLike, W1: npt.ArrayLike, W2: npt.ArrayLike,
    alphas: npt.ArrayLike, betas: npt.ArrayLike, X: npt.ArrayLike, y: npt.ArrayLike, *, reg: float = 0.0,
) -> np.ndarray:
    """L(W + a W₁ + b W₂) on the grid alphas (A,) x betas (B,): returns (B, A), row i at b = betas[i].

    W, W1, W2 (C, D); X (N, D); y (N,). The layout suits ``imshow``/``contour`` with a on the x axis.
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    betas = np.asarray(betas, dtype=np.float64)
    if alphas.ndim != 1 or betas.ndim != 1:
        raise ValueError(f"alphas, betas: expected 1-D arrays, got shapes {alphas.shape} and {betas.shape}")
    a_grid, b_grid = np.meshgrid(alphas, betas)
    coefficients = np.column_stack([a_grid.ravel(), b_grid.ravel()])
    losses = loss_along(loss_and_grad, W, np.stack([np.asarray(W1), np.asarray(W2)]), coefficients, X, y, reg=reg)
    return losses.reshape(b_grid.shape)


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
    example_losses = np.stack([loss_slice_1d(loss_and_grad, W, W1, alphas, X[i : i + 1], y[i : i + 1]) for i in range(3)])
    total = loss_slice_1d(loss_and_grad, W, W1, alphas, X, y)
    return HingeDemo(np.asarray(alphas, dtype=np.float64), example_losses, total)
