"""The lecture's strategies for training a linear classifier, scores ``X @ W.T``, on a compiled loss.

Every strategy takes ``loss_and_grad(W, X, y, reg=...) -> (loss, dW)`` (for instance
``symgrad.svm_loss_and_grad``): W (C, D), X (N, D) with the bias trick as the last column, y (N,);
loss = mean data loss + reg * sum(W**2), dW shaped like W. Each returns a :class:`TrainingHistory`.

1. random search:          W_best = argmin over K draws W_k ~ scale * N(0, 1) of L(W_k)
2. random local search:    W <- W + step * N(0, 1)   if that lowers L, else keep W
3. full-batch descent:     W <- W - alpha_k * grad L(W)                   on all N examples
4. mini-batch descent:     W <- W - alpha_k * grad L_B(W)                 B = 256 examples, without
                                                                          replacement within an epoch
5. stochastic descent:     mini-batch descent with B = 1

The data are checked once per run (X real, y integer labels in [0, C)); X's values are not scanned up front, as
every step checks the scores X_B W^T it computes and names a NaN or inf in X. When ``loss_and_grad`` is a
compiled loss function (it carries ``.loss``, its :class:`symgrad.runtime.losses.CompiledLoss`, as every
``symgrad.NAME_loss_and_grad`` does), each step runs on the checked arrays through the loss's
:class:`symgrad.runtime.losses.PreparedLoss`, made once per run: the same generated code, without re-checking X
and y at every step. On NumPy data, unless the learning rate is a :class:`symgrad.training.descent.LineSearch`
(which reads the gradient), a step never forms dL/dW: ``PreparedLoss.step`` computes W - alpha dL/dW as
(1 - 2 alpha lambda) W - (alpha / N) G X (G = dl_i/ds, (C, N)), the function's step up to rounding, in half the
passes over (C, D); on a mini-batch of at least 3 MiB and 256 of X's rows it is split across the cores
(:func:`symgrad.runtime.threads.step_threads`, :meth:`PreparedLoss.run`), each thread gathering and summing its
share of the rows. Otherwise the step is W - alpha dL/dW from the function's loss and gradient, bit for bit, in a
reused buffer. Any other callable is called as given and its result checked (a real loss, a gradient shaped and
typed like W).

A run never records a NaN or inf: a non-finite loss or gradient, or a loss that raises ValueError after the run's
first evaluation on finite examples (so the weights the run produced are the cause), stops it with
:class:`TrainingDiverged`, "... diverged at step k ...", suggesting a smaller learning rate (or step).

Training accuracy is recorded :data:`ACCURACY_POINTS` times per run, on a fixed sample of at most
:data:`ACCURACY_SAMPLE` training examples (every s-th row of X, s = ceil(N / ACCURACY_SAMPLE), the same at every
point): the run keeps a copy of W at each point and measures all of them when it ends, in one product with the
sample, so that it costs a fixed, small amount whatever N is. ``accuracy(history.W, X, y)`` gives it on all of X.

X may also be a Dask array chunked over rows (for instance :func:`symgrad.read_npy_in_chunks` of a file larger
than memory, or an array persisted on a ``dask.distributed`` cluster): the compiled losses then evaluate chunk by
chunk (:mod:`symgrad.runtime.dask_evaluation`), and mini-batches are cut from one chunk at a time
(:func:`chunk_minibatches`), on the cluster's workers when there is one.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, Union

import numpy as np
import numpy.typing as npt

from symgrad import validation
from symgrad.runtime.dask_evaluation import loss_and_grad_on_dask, on_a_cluster
from symgrad.runtime.losses import CompiledLoss, PreparedLoss
from symgrad.runtime.threads import step_threads
from symgrad.training.descent import LineSearch, TrainingDiverged, step_size_rule
from symgrad.validation import is_dask_array

LearningRate = Union[float, Sequence[float], Callable[[int], float], LineSearch]
"""A number alpha, a schedule alpha_0 ... alpha_{K-1}, a function k -> alpha_k, or a line search."""

ACCURACY_POINTS = 5
"""Training accuracy is measured this many times per run: every K // 5 steps, and after the last."""

ACCURACY_SAMPLE = 500
"""...on at most this many training examples, every ceil(N / 500)-th row of X (all of them when N <= 500): at
CIFAR size (D = 3073) the five measurements, taken together when the run ends, cost one (500, D) x (D, 5 C)
product, about 1 ms in float32, whatever N is."""

SMALLER_LEARNING_RATE = "try a smaller learning rate"


@dataclass(frozen=True)
class TrainingHistory:
    """The run of one training strategy.

    Attributes:
        strategy: its name ("random search", "random local search", "gradient descent", ...).
        W: (C, D) the trained weights (for random search: the best draw); for the two-layer network
            (:func:`symgrad.training.two_layer.train_two_layer`) its TwoLayerParameters W1, b1, W2, b2.
        losses: (K,) the loss at step k: of the best W after k + 1 draws (random search), of the current W
            after step k (local search), or before update k on that step's batch (descent: all N examples,
            a mini-batch, one example). Always finite.
        accuracy_steps: (M,) steps after which the training accuracy was measured; the last is K.
        accuracies: (M,) training accuracy of the current W (best W for random search) at those steps, on the
            run's fixed sample of at most ACCURACY_SAMPLE training examples.
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
        """Training accuracy of :attr:`W` on the run's sample (all of X when N <= ACCURACY_SAMPLE)."""
        return float(self.accuracies[-1])


def predict(W: npt.ArrayLike, X: Any) -> np.ndarray:
    """Predicted class per example: argmax over the scores ``X @ W.T``.

    Args:
        W: (C, D) weights, C >= 2. X: (N, D) features, bias trick as the last column; NumPy or Dask.

    Returns:
        (N,) int64 labels in 0 ... C-1.

    Raises:
        ValueError: the shapes do not fit, or W and X look swapped: W has more rows than X, and either W's last
            column is the all-ones bias column while X's is not, or W has more rows than columns.

    >>> predict(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[2.0, 1.0], [0.0, 3.0]])).tolist()
    [0, 1]
    """
    W, X = _checked_model(W, X)
    predictions = np.argmax(X @ W.T, axis=1)
    return predictions.compute() if is_dask_array(predictions) else predictions


def accuracy(W: npt.ArrayLike, X: Any, y: npt.ArrayLike) -> float:
    """Fraction of examples whose predicted class equals the label: W (C, D), X (N, D), y (N,) integer labels in
    [0, C)."""
    W, X = _checked_model(W, X)
    labels = validation.class_labels(y.compute() if is_dask_array(y) else y, X.shape[0], W.shape[0])
    return float(np.mean(predict(W, X) == labels))


def _checked_model(W: npt.ArrayLike, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """W (C, D) and X (N, D) for predict/accuracy, refusing swapped arguments (see :func:`predict`)."""
    W = validation.real_matrix(W, "W")
    X = validation.real_matrix(X, "X")
    (classes, features), examples = W.shape, X.shape[0]
    if X.shape[1] != features:
        raise ValueError(f"X: has {X.shape[1]} features per example, W has {features} (W is (C, D), X is (N, D))")
    if classes < 2:
        raise ValueError(f"W: a classifier needs at least 2 classes (rows), got shape {W.shape}")
    if classes > examples:  # more classes than examples to predict: the usual sign of swapped arguments
        bias_in_W = not is_dask_array(X) and bool(np.all(W[:, -1] == 1)) and not bool(np.all(X[:, -1] == 1))
        if bias_in_W or classes > features:
            raise ValueError(
                f"W: shape {W.shape} looks like inputs X ({classes} rows against {examples} in X, and "
                + ("its last column is the all-ones bias column, X's is not" if bias_in_W else
                   f"more rows than its {features} columns")
                + "): were W and X swapped? The order is W (C, D), X (N, D)"
            )
    return W, X


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

    Raises:
        TrainingDiverged: a draw's loss is not finite (try a smaller weight_scale).
    """
    X, y, shape, rng = checked_problem(loss_and_grad, X, y, num_classes, rng, scan_values=False)
    validation.count(candidates, "candidates")
    validation.positive_number(weight_scale, "weight_scale")
    objective = _Objective("random search", loss_and_grad, reg, shape, X.dtype, "try a smaller weight_scale")
    data = _all_rows(X, y, loss_and_grad)
    best_W, best_loss = None, np.inf

    def draw(k):
        nonlocal best_W, best_loss
        W = (weight_scale * rng.standard_normal(shape)).astype(X.dtype)
        loss = objective(k, W, *data)[0]
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

    Raises:
        TrainingDiverged: a tried W's loss is not finite (try a smaller step_size).
    """
    X, y, shape, rng = checked_problem(loss_and_grad, X, y, num_classes, rng, scan_values=False)
    validation.count(steps, "steps")
    validation.positive_number(step_size, "step_size")
    objective = _Objective("random local search", loss_and_grad, reg, shape, X.dtype, "try a smaller step_size")
    data = _all_rows(X, y, loss_and_grad)
    W = _start(W0, shape, weight_scale, X.dtype, rng)
    loss = objective(0, W, *data)[0]

    def try_a_step(k):
        nonlocal W, loss
        W_try = (W + step_size * rng.standard_normal(shape)).astype(X.dtype)
        loss_try = objective(k, W_try, *data)[0]
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
        X: (N, D) features, bias trick as the last column; NumPy, or Dask chunked over rows (on a cluster, each
            step is one map over its chunks on the workers). y: (N,) labels in 0 ... C-1.
        learning_rate: a number alpha; a sequence alpha_0 ... alpha_{K-1}; or a callable k -> alpha_k
            (as :func:`symgrad.gradient_descent` accepts).
        steps: K >= 1. W0: (C, D) finite start (default weight_scale * N(0, 1) drawn from rng).
        reg: L2 strength >= 0. num_classes: C (default max(y) + 1). rng: seed or ``numpy.random.Generator``.
        progress: show a tqdm bar with the loss (only when the output is a terminal).

    Returns:
        :class:`TrainingHistory` with W (C, D), losses (K,) before each update, accuracies on the sample of X.

    Raises:
        TrainingDiverged: the loss or gradient stopped being finite (try a smaller learning rate).
    """
    X, y, shape, rng = checked_problem(loss_and_grad, X, y, num_classes, rng, scan_values=False)
    W = _start(W0, shape, weight_scale, X.dtype, rng)
    every_step_all_rows = itertools.repeat((*_all_rows(X, y, loss_and_grad), None))
    return _descend("gradient descent", loss_and_grad, X, y, every_step_all_rows, learning_rate, steps, W, reg, progress)


def chunk_minibatches(X, y, batch_size: int, rng: np.random.Generator) -> Iterator[tuple]:
    """Endless mini-batches (X_B, y_B) of a Dask X chunked over rows, one chunk at a time.

    Each epoch visits the chunks in a random order; each chunk is loaded once, checked finite, its rows permuted
    and cut into ceil(rows / batch_size) batches of nearly equal size. So every example is used once per epoch and
    the data is read from its source once per epoch, whatever its size; a batch never mixes two chunks.

    Where the chunk is loaded depends on the scheduler: on a ``dask.distributed`` cluster it is persisted on a
    worker and X_B is a Dask array of its rows -- the loss runs there, and X never moves to this process;
    otherwise the chunk is read into this process and X_B is a NumPy array.

    Args:
        X: Dask array (N, D); y: NumPy labels (N,); batch_size >= 1; rng: the source of the permutations.

    Yields:
        X_B (B, D) (NumPy, or Dask on a cluster) and y_B (B,) NumPy, B <= batch_size.

    Raises:
        ValueError: a chunk of X holds NaN or inf (naming its rows).
    """
    import dask.array as da

    bounds = np.cumsum((0,) + X.chunks[0])
    cluster = on_a_cluster(X)
    while True:
        for block in rng.permutation(len(X.chunks[0])):
            start, stop = bounds[block], bounds[block + 1]
            rows = X.blocks[block].persist() if cluster else X.blocks[block].compute()
            if not (da.isfinite(rows).all().compute() if cluster else np.all(np.isfinite(rows))):
                raise ValueError(f"X: contains NaN or infinite values (in rows {start} ... {stop - 1})")
            labels = y[start:stop]
            order = rng.permutation(stop - start)
            for batch in np.array_split(order, math.ceil((stop - start) / batch_size)):
                if cluster:  # one task on the chunk's worker (Dask's own fancy indexing would plan a shuffle)
                    shape = ((len(batch),), rows.chunks[1])
                    yield rows.map_blocks(_rows, batch, chunks=shape, dtype=rows.dtype), labels[batch]
                else:
                    yield rows[batch], labels[batch]


def _rows(block: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """block[indices]: the rows of a mini-batch, cut from its chunk where the chunk lives."""
    return block[indices]


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
    :func:`chunk_minibatches` (one chunk in memory at a time; on a cluster, on the workers).

    Returns:
        :class:`TrainingHistory` with losses (K,) of each step's batch, accuracies on the sample of X.

    Raises:
        TrainingDiverged: the loss or gradient stopped being finite (try a smaller learning rate).
    """
    X, y, shape, rng = checked_problem(loss_and_grad, X, y, num_classes, rng, scan_values=False)
    validation.count(batch_size, "batch_size")
    if batch_size > len(X):
        raise ValueError(f"batch_size: {batch_size} exceeds the {len(X)} examples in X")
    name = "stochastic gradient descent" if batch_size == 1 else f"mini-batch gradient descent (B = {batch_size})"
    W = _start(W0, shape, weight_scale, X.dtype, rng)
    if is_dask_array(X):
        batches = ((X_B, y_B, None) for X_B, y_B in chunk_minibatches(X, y, batch_size, rng))
        threads = 1
    else:
        batches = ((X, y, rows) for rows in minibatch_indices(len(X), batch_size, rng))
        threads = step_threads(batch_size, X)
    return _descend(name, loss_and_grad, X, y, batches, learning_rate, steps, W, reg, progress, threads)


def stochastic_gradient_descent(
    loss_and_grad: Callable[..., tuple[float, np.ndarray]], X: Any, y: npt.ArrayLike, **options: Any
) -> TrainingHistory:
    """Strategy 5: :func:`minibatch_gradient_descent` with batch_size = 1 (one example per step)."""
    if "batch_size" in options:
        raise TypeError("batch_size: stochastic gradient descent always uses one example per step")
    return minibatch_gradient_descent(loss_and_grad, X, y, batch_size=1, **options)


def _descend(name, loss_and_grad, X, y, batches, learning_rate, steps, W, reg, progress, threads=1) -> TrainingHistory:
    """The descent step shared by strategies 3-5; ``batches`` yields each step's (X_B, y_B, None), or (X, y, rows)
    for the rows X[rows], y[rows]; a compiled loss splits a step on rows across ``threads`` threads
    (:meth:`PreparedLoss.run`)."""
    validation.count(steps, "steps")
    rule = step_size_rule(learning_rate, steps)
    objective = _Objective(name, loss_and_grad, reg, W.shape, W.dtype, SMALLER_LEARNING_RATE)
    rule_reads_the_gradient = isinstance(learning_rate, LineSearch)
    rates = []

    def descend(k):
        nonlocal W
        X_B, y_B, rows = next(batches)
        if objective.prepared_for(X_B) and not rule_reads_the_gradient:
            rates.append(rule(k, W, None))
            return objective.stepped(k, W, X_B, y_B, rates[-1], rows), W
        if rows is not None:
            X_B, y_B = X_B[rows], y_B[rows]
        loss, gradient = objective(k, W, X_B, y_B)
        rates.append(rule(k, W, gradient))
        W = objective.updated(W, rates[-1], gradient)
        return loss, W

    with objective.run(threads):
        return _run(name, X, y, steps, progress, descend, rates)


class _Objective:
    """``loss_and_grad`` on a run's checked data, at step k: (loss: float, gradient like W), both finite, or a whole
    step.

    A compiled loss function (its ``.loss`` a classifier :class:`CompiledLoss`) runs as its :class:`PreparedLoss`
    on the checked arrays (or its Dask evaluation), with the loss's default parameters, giving what the function
    itself would after its checks; on NumPy rows it can take a whole step without forming the gradient
    (:meth:`stepped`). Any other callable runs as given; its loss must be a real number and its gradient have the
    weights' shape and a floating dtype.
    """

    def __init__(self, strategy: str, loss_and_grad: Callable, reg, weights_shape: tuple[int, int], dtype, hint: str):
        compiled = getattr(loss_and_grad, "loss", None)
        self._compiled = compiled if isinstance(compiled, CompiledLoss) and compiled.kind == "classifier" else None
        self._values = self._compiled.parameter_values({}) if self._compiled else ()
        self._loss_and_grad, self._reg = loss_and_grad, validation.nonnegative_number(reg, "reg")
        self._prepared: PreparedLoss | None = (
            self._compiled.prepared(weights_shape, dtype, self._reg, self._values) if self._compiled else None)
        self._strategy, self._hint = strategy, hint
        self._evaluated = False

    def __call__(self, k: int, W: np.ndarray, X, y) -> tuple[float, np.ndarray]:
        """(loss, gradient) at W on the rows X, y; a compiled loss's gradient is a buffer that the next call
        overwrites (see :meth:`updated`)."""
        try:
            if self.prepared_for(X):
                loss, gradient = self._prepared(W, X, y)
            elif self._compiled is None:
                loss, gradient = self._loss_and_grad(W, X, y, reg=self._reg)
            else:
                loss, gradient = loss_and_grad_on_dask(self._compiled, W, X, y, self._reg, self._values)
        except ValueError as error:
            self._stop(k, X, error)
        self._evaluated = True
        if self._compiled is None:
            loss, gradient = self._checked(loss, gradient, W)
            if not (math.isfinite(loss) and np.all(np.isfinite(gradient))):
                self._require_finite_rows(k, X, None)
                raise self._diverged(k, f"loss_and_grad returned the loss {loss} and a gradient with "
                                        f"{np.count_nonzero(~np.isfinite(gradient))} non-finite entries")
        return loss, gradient

    def run(self, threads: int) -> contextlib.AbstractContextManager:
        """The block of a run's steps: a compiled loss's :meth:`PreparedLoss.run`, else nothing."""
        return self._prepared.run(threads) if self._prepared is not None else contextlib.nullcontext()

    def prepared_for(self, X) -> bool:
        """True for a compiled loss on NumPy rows X: its prepared loss evaluates them, and :meth:`stepped` can take
        a step on them."""
        return self._prepared is not None and isinstance(X, np.ndarray)

    def stepped(self, k: int, W: np.ndarray, X: np.ndarray, y: np.ndarray, rate: float,
                rows: np.ndarray | None = None) -> float:
        """The loss at W, after W <- W - rate * gradient in place by :meth:`PreparedLoss.step` on X, y or their
        ``rows``; raised as :meth:`__call__` would."""
        try:
            loss = self._prepared.step(W, X, y, rate, rows)
        except ValueError as error:
            self._stop(k, X if rows is None else X[rows], error)
        self._evaluated = True
        return loss

    def _stop(self, k: int, X, error: ValueError) -> NoReturn:
        """Raise for a ValueError of step k: as it is on the run's first evaluation (the inputs as given: the error
        names them), as X's fault when the step's rows hold NaN or inf, else as a divergence."""
        if not self._evaluated:
            raise error
        self._require_finite_rows(k, X, error)
        raise self._diverged(k, str(error)) from error

    @staticmethod
    def _require_finite_rows(k: int, X, cause) -> None:
        """On a failed step: a NaN or inf in the step's rows of X is the data's fault, not a divergence (X is
        not scanned up front; a Dask X's chunks are checked as they are loaded)."""
        if not is_dask_array(X) and not np.all(np.isfinite(X)):
            raise ValueError(f"X: contains NaN or infinite values (in the examples of step {k})") from cause

    def updated(self, W: np.ndarray, rate: float, gradient: np.ndarray) -> np.ndarray:
        """W - rate * gradient in W's dtype: in place for a compiled loss (which keeps no reference to W, and whose
        gradient is its own buffer, scaled in place), a new array for any other callable (which might keep
        either)."""
        if self._compiled is None:
            return (W - rate * gradient).astype(W.dtype, copy=False)
        gradient *= rate
        W -= gradient
        return W

    def _diverged(self, k: int, cause: str) -> TrainingDiverged:
        return TrainingDiverged(f"{self._strategy} diverged at step {k}: {cause}; {self._hint}", k)

    @staticmethod
    def _checked(loss, gradient, W) -> tuple[float, np.ndarray]:
        value = np.asarray(loss)
        if value.shape != () or not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
            raise TypeError(f"loss_and_grad: returned a loss of dtype {value.dtype} and shape {value.shape}; "
                            "expected a real number")
        gradient = np.asarray(gradient)
        if gradient.shape != W.shape:
            raise ValueError(f"loss_and_grad: returned a gradient of shape {gradient.shape} for weights of shape "
                             f"{W.shape}; it must have the weights' shape")
        if gradient.dtype.kind != W.dtype.kind:
            raise TypeError(f"loss_and_grad: returned a gradient of dtype {gradient.dtype} for {W.dtype} weights; "
                            "it must be floating like them")
        return float(value), gradient


def _all_rows(X, y, loss_and_grad: Callable) -> tuple:
    """(X, labels) for a step on all N examples: on a cluster the labels are persisted beside X's chunks, so that
    a step ships no labels; for a loss that places its examples on a device (the JAX backend's
    ``place_examples``), NumPy X is placed there once per run, not copied at every step."""
    place_examples = getattr(loss_and_grad, "place_examples", None)
    if place_examples is not None and isinstance(X, np.ndarray):
        return place_examples(X), y
    if is_dask_array(X) and on_a_cluster(X):
        import dask.array as da

        return X, da.from_array(y, chunks=(X.chunks[0],)).persist()
    return X, y


def _run(strategy: str, X, y, steps: int, progress: bool, step: Callable, rates=()) -> TrainingHistory:
    """The loop every strategy shares: ``steps`` calls of ``step(k) -> (loss, W)``, recording every loss and the
    training accuracy :data:`ACCURACY_POINTS` times, with a progress bar showing the loss; ``rates`` is the
    list the step appends its learning rates to (descent only)."""
    recorder = AccuracyRecorder(X, y, steps)
    W = None
    with Progress(steps, strategy, progress) as bar:
        for k in range(steps):
            loss, W = step(k)
            recorder.record(k, loss, W)
            bar.show(loss)
    if not np.all(np.isfinite(W)):
        raise TrainingDiverged(f"{strategy} diverged at step {steps - 1}: the last update made W non-finite; "
                               f"{SMALLER_LEARNING_RATE}", steps - 1)
    return recorder.history(strategy, W, rates)


def linear_scores(X, models: list) -> list:
    """The linear classifier's scores X W^T (n, C) for X (n, D) and each W (C, D) in ``models``, from one product
    with the weights stacked (M C, D), so that X is read once."""
    scores = X @ np.concatenate(models).T
    classes = models[0].shape[0]
    return [scores[:, m * classes : (m + 1) * classes] for m in range(len(models))]


class AccuracyRecorder:
    """Collects the loss of every step and, ACCURACY_POINTS times per run, a copy of the model; when the run ends
    (:meth:`history`), the training accuracy of every copy on a fixed sample of X: every s-th example,
    s = ceil(N / ACCURACY_SAMPLE), so at most ACCURACY_SAMPLE examples spread over all of X (a NumPy X's sample is
    a view of X, not a copy; a Dask X's sample is held where X is: in this process, or persisted on the cluster).
    ``scores(X_sample, models) -> [(n, C), ...]`` gives each model's scores (default the linear classifier's,
    models W (C, D)); the predicted class is their argmax."""

    def __init__(self, X, y: np.ndarray, steps: int, scores: Callable = linear_scores):
        stride = math.ceil(len(y) / ACCURACY_SAMPLE)
        sample = X[::stride]
        if is_dask_array(sample):
            sample = sample.persist() if on_a_cluster(sample) else sample.compute()
        self._X, self._y, self._steps, self._scores = sample, y[::stride], steps, scores
        self._every = max(1, steps // ACCURACY_POINTS)
        self._losses, self._accuracy_steps, self._models = [], [], []

    def record(self, k: int, loss: float, model) -> None:
        """Step k's loss; a copy of ``model`` too when k + 1 is one of the run's accuracy points."""
        self._losses.append(loss)
        if (k + 1) % self._every == 0 or k + 1 == self._steps:
            self._accuracy_steps.append(k + 1)
            self._models.append(copy.deepcopy(model))

    def history(self, strategy: str, W, learning_rates) -> TrainingHistory:
        """The run's history with final weights W, the accuracies of the recorded copies measured now."""
        scores = self._scores(self._X, self._models) if self._models else []
        if any(is_dask_array(each) for each in scores):  # one computation for all of them, on a Dask sample
            import dask

            scores = dask.compute(*scores)
        accuracies = [float(np.mean(np.argmax(each, axis=1) == self._y)) for each in scores]
        return TrainingHistory(strategy=strategy, W=W, losses=np.array(self._losses),
                               accuracy_steps=np.array(self._accuracy_steps, dtype=np.int64),
                               accuracies=np.array(accuracies), learning_rates=np.array(learning_rates, dtype=np.float64))


class Progress:
    """A tqdm bar showing the loss when tqdm is installed and stderr is a terminal (``disable=None``)."""

    def __init__(self, steps: int, description: str, enabled: bool):
        self._bar = None
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        bar = tqdm(total=steps, desc=description, disable=None, leave=False)
        self._bar = None if bar.disable else bar  # off a terminal: no bar, and no per-step formatting

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.close()

    def show(self, loss: float) -> None:
        if self._bar is not None:
            self._bar.update()
            self._bar.set_postfix(loss=f"{loss:.4g}", refresh=False)


def checked_problem(loss_and_grad, X, y, num_classes, rng, *, scan_values: bool = True):
    """Validated (X (N, D) float, y (N,) int64, W's shape (C, D), Generator): the checks a run does once.

    With ``scan_values`` a NumPy X is also scanned for NaN and inf. The training strategies skip that pass over X
    (at CIFAR size it costs ~10% of 300 mini-batch steps): every step checks the scores X_B W^T it computes anyway,
    and a non-finite score from a non-finite row of X is named as such. A Dask X is never scanned here.
    """
    if not callable(loss_and_grad):
        raise TypeError("loss_and_grad: expected a callable (W, X, y, reg=...) -> (loss, dW)")
    X = validation.real_matrix(X, "X")
    if len(X) == 0:
        raise ValueError("X: needs at least one example")
    if scan_values and not is_dask_array(X) and not np.all(np.isfinite(X)):
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
    validation.require_finite(W, "W0")
    return W.astype(dtype, copy=True)
