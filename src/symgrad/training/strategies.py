"""The lecture's strategies for training a linear classifier, scores ``X @ W.T``, on a compiled loss.

Every strategy takes ``loss_and_grad(W, X, y, reg=...) -> (loss, dW)`` (for instance
``symgrad.runtime.losses.svm_loss_and_grad``): W (C, D), X (N, D) with the bias trick as the last column, y (N,);
loss = mean data loss + reg * sum(W**2), dW shaped like W. Each returns a :class:`TrainingHistory`.

1. random search:          W_best = argmin over K draws W_k ~ scale * N(0, 1) of L(W_k)
2. random local search:    W <- W + step * N(0, 1)   if that lowers L, else keep W
3. full-batch descent:     W <- W - alpha_k * grad L(W)                   on all N examples
4. mini-batch descent:     W <- W - alpha_k * grad L_B(W)                 B = 256 examples, without
                                                                          replacement within an epoch
5. stochastic descent:     mini-batch descent with B = 1

X may also be a Dask array chunked over rows (for instance :func:`symgrad.read_npy_in_chunks` of a file larger
than memory): the compiled losses then evaluate chunk by chunk (:mod:`symgrad.runtime.dask_evaluation`), mini-batches are
cut from one chunk at a time (:func:`chunk_minibatches`), and the training accuracy is computed chunk by chunk.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from symgrad import validation
from symgrad.validation import is_dask_array
from symgrad.training.descent import LineSearch, step_size_rule

LearningRate = Union[float, Sequence[float], Callable[[int], float], LineSearch]
"""A number alpha, a schedule alpha_0 ... alpha_{K-1}, a function k -> alpha_k, or a line search."""

ACCURACY_POINTS = 20  # training accuracy is measured about this many times per run (and at the end)


@dataclass(frozen=True)
class TrainingHistory:
    """The run of one training strategy.

    Attributes:
        strategy: its name ("random search", "random local search", "gradient descent", ...).
        W: (C, D) the trained weights (for random search: the best draw).
        losses: (K,) the loss at step k: of the best W after k + 1 draws (random search), of the current W
            after step k (local search), or before update k on that step's batch (descent: all N examples,
            a mini-batch, one example).
        accuracy_steps: (M,) steps after which the training accuracy was measured; the last is K.
        accuracies: (M,) training accuracy of the current W (best W for random search) at those steps.
        learning_rates: (K,) alpha_k of each descent step; empty for the two search strategies.
    """

    strategy: str
    W: np.ndarray
    losses: np.ndarray
    accuracy_steps: np.ndarray
    accuracies: np.ndarray
    learning_rates: np.ndarray

    @property
    def final_accuracy(self) -> float:
        """Training accuracy of :attr:`W`."""
        return float(self.accuracies[-1])


def predict(W: npt.ArrayLike, X: Any) -> np.ndarray:
    """Predicted class per example: argmax over the scores ``X @ W.T``.

    Args:
        W: (C, D) weights. X: (N, D) features, bias trick as the last column.

    Returns:
        (N,) int64 labels in 0 ... C-1.

    >>> predict(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[2.0, 1.0], [0.0, 3.0]])).tolist()
    [0, 1]
    """
    W = validation.real_matrix(W, "W")
    X = validation.real_matrix(X, "X")
    if X.shape[1] != W.shape[1]:
        raise ValueError(f"X: has {X.shape[1]} features per example, W has {W.shape[1]} (W is (C, D), X is (N, D))")
    predictions = np.argmax(X @ W.T, axis=1)
    return predictions.compute() if is_dask_array(predictions) else predictions


def accuracy(W: npt.ArrayLike, X: Any, y: npt.ArrayLike) -> float:
    """Fraction of examples whose predicted class equals the label: W (C, D), X (N, D), y (N,)."""
    predictions = predict(W, X)
    y = np.asarray(y)
    if y.shape != predictions.shape:
        raise ValueError(f"y: expected {predictions.shape[0]} labels, one per row of X, got shape {y.shape}")
    return float(np.mean(predictions == y))


def minibatch_indices(num_examples: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Endless mini-batches of example indices, drawn without replacement within each epoch.

    Each epoch is a fresh permutation of 0 ... N-1 cut into consecutive batches of ``batch_size``; the last
    batch of an epoch is smaller when N is not a multiple of it. So every example is used once per epoch.

    >>> batches = minibatch_indices(5, 2, np.random.default_rng(0))
    >>> sorted(np.concatenate([next(batches) for _ in range(3)]).tolist())
    [0, 1, 2, 3, 4]
    """
    while True:
        order = rng.permutation(num_examples)
        for start in range(0, num_examples, batch_size):
            yield order[start : start + batch_size]


def random_search(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]],
    X: Any,
    y: npt.ArrayLike,
    *,
    candidates: int = 1000,
    weight_scale: float = 1e-4,
    reg: float = 0.0,
    num_classes: int | None = None,
    rng: int | np.random.Generator | None = None,
    progress: bool = True,
) -> TrainingHistory:
    """Strategy 1: draw ``candidates`` random W = weight_scale * N(0, 1), keep the one with the lowest loss.

    Args:
        loss_and_grad: (W (C, D), X (N, D), y (N,), reg=...) -> (loss, dW); only the loss is used.
        X: (N, D) features, bias trick as the last column. y: (N,) labels in 0 ... C-1.
        candidates: K >= 1 draws. weight_scale: standard deviation of each weight.
        reg: L2 strength >= 0. num_classes: C (default max(y) + 1). rng: seed or ``numpy.random.Generator``.
        progress: show a tqdm bar with the best loss (only when the output is a terminal).

    Returns:
        :class:`TrainingHistory` with W (C, D) the best draw and losses (K,) the best loss so far.
    """
    X, y, shape, rng = checked_problem(loss_and_grad, X, y, num_classes, rng)
    validation.count(candidates, "candidates")
    validation.nonnegative_number(reg, "reg")
    validation.positive_number(weight_scale, "weight_scale")
    best_W, best_loss = None, np.inf

    def draw(k):
        nonlocal best_W, best_loss
        W = (weight_scale * rng.standard_normal(shape)).astype(X.dtype)
        loss = float(loss_and_grad(W, X, y, reg=reg)[0])
        if loss < best_loss:
            best_W, best_loss = W, loss
        return best_loss, best_W

    return _run("random search", X, y, candidates, progress, draw)


def random_local_search(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]],
    X: Any,
    y: npt.ArrayLike,
    *,
    steps: int = 1000,
    step_size: float = 1e-4,
    weight_scale: float = 1e-3,
    W0: npt.ArrayLike | None = None,
    reg: float = 0.0,
    num_classes: int | None = None,
    rng: int | np.random.Generator | None = None,
    progress: bool = True,
) -> TrainingHistory:
    """Strategy 2: from W, try W + step_size * N(0, 1); move there when the loss drops, else stay.

    Args as :func:`random_search`, plus steps K >= 1, step_size > 0 and W0 (C, D), the start (default
    weight_scale * N(0, 1)).

    Returns:
        :class:`TrainingHistory` with losses (K,) of the current W after each step (non-increasing).
    """
    X, y, shape, rng = checked_problem(loss_and_grad, X, y, num_classes, rng)
    validation.count(steps, "steps")
    validation.positive_number(step_size, "step_size")
    validation.nonnegative_number(reg, "reg")
    W = _start(W0, shape, weight_scale, X.dtype, rng)
    loss = float(loss_and_grad(W, X, y, reg=reg)[0])

    def try_a_step(k):
        nonlocal W, loss
        W_try = (W + step_size * rng.standard_normal(shape)).astype(X.dtype)
        loss_try = float(loss_and_grad(W_try, X, y, reg=reg)[0])
        if loss_try < loss:
            W, loss = W_try, loss_try
        return loss, W

    return _run("random local search", X, y, steps, progress, try_a_step)


def full_batch_gradient_descent(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]],
    X: Any,
    y: npt.ArrayLike,
    *,
    learning_rate: LearningRate,
    steps: int,
    W0: npt.ArrayLike | None = None,
    weight_scale: float = 1e-3,
    reg: float = 0.0,
    num_classes: int | None = None,
    rng: int | np.random.Generator | None = None,
    progress: bool = True,
) -> TrainingHistory:
    """Strategy 3: W <- W - alpha_k * grad L(W) on all N examples, for K = ``steps`` steps.

    Args:
        loss_and_grad: (W (C, D), X (N, D), y (N,), reg=...) -> (loss, dW (C, D)).
        X: (N, D) features, bias trick as the last column. y: (N,) labels in 0 ... C-1.
        learning_rate: a number alpha; a sequence alpha_0 ... alpha_{K-1}; or a callable k -> alpha_k
            (as :func:`symgrad.gradient_descent` accepts).
        steps: K >= 1. W0: (C, D) start (default weight_scale * N(0, 1) drawn from rng).
        reg: L2 strength >= 0. num_classes: C (default max(y) + 1). rng: seed or ``numpy.random.Generator``.
        progress: show a tqdm bar with the loss (only when the output is a terminal).

    Returns:
        :class:`TrainingHistory` with W (C, D), losses (K,) before each update, accuracies on (X, y).
    """
    X, y, shape, rng = checked_problem(loss_and_grad, X, y, num_classes, rng)
    W = _start(W0, shape, weight_scale, X.dtype, rng)
    every_step_all_rows = itertools.repeat((X, y))
    return _descend("gradient descent", loss_and_grad, X, y, every_step_all_rows, learning_rate, steps, W, reg, progress)


def chunk_minibatches(X, y, batch_size: int, rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless mini-batches (X_B, y_B) of a Dask X chunked over rows, read one chunk at a time.

    Each epoch visits the chunks in a random order; each chunk is read into memory once, its rows permuted and
    cut into ceil(rows / batch_size) batches of nearly equal size. So every example is used once per epoch and
    the data is read from its source once per epoch, whatever its size; a batch never mixes two chunks.

    Args:
        X: Dask array (N, D); y: NumPy labels (N,); batch_size >= 1; rng: the source of the permutations.

    Yields:
        X_B (B, D) and y_B (B,) NumPy arrays, B <= batch_size.
    """
    bounds = np.cumsum((0,) + X.chunks[0])
    while True:
        for block in rng.permutation(len(X.chunks[0])):
            rows = X.blocks[block].compute()
            labels = y[bounds[block] : bounds[block + 1]]
            order = rng.permutation(len(rows))
            for batch in np.array_split(order, math.ceil(len(rows) / batch_size)):
                yield rows[batch], labels[batch]


def minibatch_gradient_descent(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]],
    X: Any,
    y: npt.ArrayLike,
    *,
    learning_rate: LearningRate,
    steps: int,
    batch_size: int = 256,
    W0: npt.ArrayLike | None = None,
    weight_scale: float = 1e-3,
    reg: float = 0.0,
    num_classes: int | None = None,
    rng: int | np.random.Generator | None = None,
    progress: bool = True,
) -> TrainingHistory:
    """Strategy 4: W <- W - alpha_k * grad L_B(W), each batch B drawn by :func:`minibatch_indices`.

    Args as :func:`full_batch_gradient_descent`, plus batch_size in 1 ... N. An epoch is ceil(N / batch_size)
    steps; every example appears once per epoch. For a Dask X the batches come from
    :func:`chunk_minibatches` (one chunk in memory at a time).

    Returns:
        :class:`TrainingHistory` with losses (K,) of each step's batch, accuracies on all of (X, y).
    """
    X, y, shape, rng = checked_problem(loss_and_grad, X, y, num_classes, rng)
    validation.count(batch_size, "batch_size")
    if batch_size > len(X):
        raise ValueError(f"batch_size: {batch_size} exceeds the {len(X)} examples in X")
    name = "stochastic gradient descent" if batch_size == 1 else f"mini-batch gradient descent (B = {batch_size})"
    W = _start(W0, shape, weight_scale, X.dtype, rng)
    if is_dask_array(X):
        batches = chunk_minibatches(X, y, batch_size, rng)
    else:
        batches = ((X[rows], y[rows]) for rows in minibatch_indices(len(X), batch_size, rng))
    return _descend(name, loss_and_grad, X, y, batches, learning_rate, steps, W, reg, progress)


def stochastic_gradient_descent(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]], X: Any, y: npt.ArrayLike, **options: Any
) -> TrainingHistory:
    """Strategy 5: :func:`minibatch_gradient_descent` with batch_size = 1 (one example per step)."""
    if "batch_size" in options:
        raise TypeError("batch_size: stochastic gradient descent always uses one example per step")
    return minibatch_gradient_descent(loss_and_grad, X, y, batch_size=1, **options)


def _descend(name, loss_and_grad, X, y, batches, learning_rate, steps, W, reg, progress) -> TrainingHistory:
    """The descent step shared by strategies 3-5; ``batches`` yields each step's (X_B, y_B)."""
    validation.count(steps, "steps")
    validation.nonnegative_number(reg, "reg")
    rule = step_size_rule(learning_rate, steps)
    rates = []

    def descend(k):
        nonlocal W
        batch_inputs, batch_labels = next(batches)
        loss, gradient = loss_and_grad(W, batch_inputs, batch_labels, reg=reg)
        rates.append(rule(k, W, gradient))
        W = (W - rates[-1] * gradient).astype(X.dtype, copy=False)
        return float(loss), W

    return _run(name, X, y, steps, progress, descend, rates)


def _run(strategy: str, X, y, steps: int, progress: bool, step: Callable, rates=()) -> TrainingHistory:
    """The loop every strategy shares: ``steps`` calls of ``step(k) -> (loss, W)``, recording every loss and the
    training accuracy about :data:`ACCURACY_POINTS` times, with a progress bar showing the loss; ``rates`` is the
    list the step appends its learning rates to (descent only)."""
    recorder = _Recorder(X, y, steps)
    W = None
    with _Progress(steps, strategy, progress) as bar:
        for k in range(steps):
            loss, W = step(k)
            recorder.record(k, loss, W)
            bar.show(loss)
    return recorder.history(strategy, W, rates)


class _Recorder:
    """Collects the loss of every step and the training accuracy about ACCURACY_POINTS times per run."""

    def __init__(self, X: np.ndarray, y: np.ndarray, steps: int):
        self._X, self._y, self._steps = X, y, steps
        self._every = max(1, steps // ACCURACY_POINTS)
        self._losses, self._accuracy_steps, self._accuracies = [], [], []

    def record(self, k: int, loss: float, W: np.ndarray) -> None:
        self._losses.append(loss)
        if (k + 1) % self._every == 0 or k + 1 == self._steps:
            self._accuracy_steps.append(k + 1)
            self._accuracies.append(accuracy(W, self._X, self._y))

    def history(self, strategy: str, W: np.ndarray, learning_rates) -> TrainingHistory:
        return TrainingHistory(
            strategy=strategy,
            W=W,
            losses=np.array(self._losses),
            accuracy_steps=np.array(self._accuracy_steps, dtype=np.int64),
            accuracies=np.array(self._accuracies),
            learning_rates=np.array(learning_rates, dtype=np.float64),
        )


class _Progress:
    """A tqdm bar showing the loss when tqdm is installed and stderr is a terminal (``disable=None``)."""

    def __init__(self, steps: int, description: str, enabled: bool):
        self._bar = None
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=steps, desc=description, disable=None, leave=False)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.close()

    def show(self, loss: float) -> None:
        if self._bar is not None:
            self._bar.update()
            self._bar.set_postfix(loss=f"{loss:.4g}", refresh=False)


def checked_problem(loss_and_grad, X, y, num_classes, rng):
    """Validated (X (N, D) float, y (N,) int64, W's shape (C, D), Generator)."""
    if not callable(loss_and_grad):
        raise TypeError("loss_and_grad: expected a callable (W, X, y, reg=...) -> (loss, dW)")
    X = validation.real_matrix(X, "X")
    if len(X) == 0:
        raise ValueError("X: needs at least one example")
    # A Dask X stays on disk or on its cluster: loss_and_grad checks its values as it reads them.
    if not is_dask_array(X) and not np.all(np.isfinite(X)):
        raise ValueError("X: contains NaN or infinite values")
    y = np.asarray(y.compute() if is_dask_array(y) else y)
    if y.shape != (len(X),) or not (np.issubdtype(y.dtype, np.integer) and y.dtype != bool):
        raise ValueError(f"y: expected {len(X)} integer labels, one per row of X, got {y.dtype} of shape {y.shape}")
    if num_classes is None:
        num_classes = int(y.max()) + 1
    validation.count(num_classes, "num_classes")
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueError(f"y: labels must lie in 0 ... {num_classes - 1}, found {y.min()} ... {y.max()}")
    return X, y.astype(np.int64, copy=False), (num_classes, X.shape[1]), validation.random_generator(rng)


def _start(W0, shape, weight_scale, dtype, rng) -> np.ndarray:
    if W0 is None:
        validation.positive_number(weight_scale, "weight_scale")
        return (weight_scale * rng.standard_normal(shape)).astype(dtype)
    W = validation.real_matrix(W0, "W0")
    if W.shape != shape:
        raise ValueError(f"W0: expected shape (C, D) = {shape}, got {W.shape}")
    return W.astype(dtype, copy=True)
