"""Mini-batch gradient descent on the two-layer ReLU network s = W2 relu(W1 x + b1) + b2, with any classifier loss.

Every step evaluates ``symgrad.two_layer_loss_and_grad`` on a batch B (one forward and one backward pass of the
generated code) and updates every parameter from the same point:

    theta <- theta - alpha_k * grad L_B(theta)      theta = (W1 (H, D), b1 (H,), W2 (C, H), b2 (C,))

The batches, the progress bar, the learning-rate schedules and the accuracy recorded on a fixed sample are the
linear strategies' (:mod:`symgrad.training.strategies`). A loss or gradient that stops being finite, or a step that
raises ValueError once the run has evaluated its inputs, ends the run with :class:`TrainingDiverged`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from symgrad import validation
from symgrad.runtime.two_layer import (
    PARAMETER_NAMES,
    TwoLayerParameters,
    checked_parameters,
    classifier_loss,
    two_layer_loss_and_grad,
)
from symgrad.training.descent import LineSearch, TrainingDiverged, step_size_rule
from symgrad.training.strategies import (
    SMALLER_LEARNING_RATE,
    AccuracyRecorder,
    Progress,
    TrainingHistory,
    checked_problem,
    minibatch_indices,
)


def two_layer_scores(X, params) -> np.ndarray:
    """Scores (N, C) of X (N, D): relu(X W1^T + b1) W2^T + b2, params as a mapping or TwoLayerParameters."""
    if isinstance(params, TwoLayerParameters):
        params = params.as_dict()
    hidden = X @ params["W1"].T
    hidden += params["b1"]
    np.maximum(hidden, 0, out=hidden)
    return hidden @ params["W2"].T + params["b2"]


def each_two_layer_scores(X, models: list) -> list:
    """:func:`two_layer_scores` (n, C) of X (n, D) for each parameter mapping in ``models`` (for the run's
    :class:`AccuracyRecorder`)."""
    return [two_layer_scores(X, params) for params in models]


def two_layer_predict(params: Any, X: npt.ArrayLike) -> np.ndarray:
    """The predicted class per example (N,): argmax of the two-layer scores; params W1 (H, D), b1 (H,), W2 (C, H),
    b2 (C,), X (N, D) with D = W1's columns."""
    checked = checked_parameters(params)
    X = validation.input_matrix(X, checked["W1"].shape[1], "W1 (H, D)")
    return np.argmax(two_layer_scores(X, checked), axis=1)


def two_layer_accuracy(params: Any, X: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """The fraction of examples X (N, D) whose predicted class equals the label y (N,) in [0, C)."""
    predictions = two_layer_predict(params, X)
    labels = validation.class_labels(y, len(predictions), checked_parameters(params)["W2"].shape[0])
    return float(np.mean(predictions == labels))


def initial_parameters(features: int, hidden: int, classes: int, rng: np.random.Generator, dtype,
                       weight_scale: float | None = None) -> TwoLayerParameters:
    """W1 (H, D), W2 (C, H) drawn N(0, s^2) with s = ``weight_scale`` or He's sqrt(2 / fan-in); zero biases."""
    scales = (weight_scale, weight_scale) if weight_scale is not None else (np.sqrt(2 / features), np.sqrt(2 / hidden))
    return TwoLayerParameters(
        W1=(scales[0] * rng.standard_normal((hidden, features))).astype(dtype), b1=np.zeros(hidden, dtype),
        W2=(scales[1] * rng.standard_normal((classes, hidden))).astype(dtype), b2=np.zeros(classes, dtype))


def train_two_layer(
    X: Any,
    y: npt.ArrayLike,
    *,
    hidden: int = 100,
    loss: Any = "softmax",
    learning_rate: Union[float, Sequence[float], Callable[[int], float]] = 0.5,
    steps: int = 1000,
    batch_size: int = 128,
    reg: float = 1e-3,
    relu_kink_value: float = 0.0,
    params0: Any = None,
    weight_scale: float | None = None,
    num_classes: int | None = None,
    rng: int | np.random.Generator | None = None,
    progress: bool = True,
    **loss_parameters: float,
) -> TrainingHistory:
    """Train s = W2 relu(W1 x + b1) + b2 by mini-batch gradient descent on a classifier loss.

    Args:
        X: (N, D) features (NumPy), one example per row; the dtype of the run (float32 stays float32).
        y: (N,) integer labels in [0, C).
        hidden: H >= 1, the hidden width.
        loss: a classifier loss's name (``symgrad.loss_names("classifier")``) or its ``NAME_loss_and_grad``.
        learning_rate: alpha, a schedule alpha_0 ... alpha_{K-1}, or a function k -> alpha_k.
        steps: K >= 1 update steps.
        batch_size: examples per step, 1 ... N, drawn without replacement within each epoch.
        reg: L2 strength lambda >= 0 on W1 and W2.
        relu_kink_value: relu'(0) in [0, 1].
        params0: the starting parameters (mapping or TwoLayerParameters, copied); default drawn by
            :func:`initial_parameters` (He's scale unless ``weight_scale`` is given).
        num_classes: C; default max(y) + 1.
        rng: seed or Generator for the start and the batches.
        progress: show a tqdm bar with the loss (on a terminal, tqdm installed).
        **loss_parameters: the loss's keyword parameters.

    Returns:
        a :class:`~symgrad.training.strategies.TrainingHistory` whose ``W`` is the trained
        :class:`TwoLayerParameters` (W1 (H, D), b1 (H,), W2 (C, H), b2 (C,)); ``losses`` (K,) on each step's batch
        before its update, ``accuracies`` on a fixed sample of at most 500 training examples.

    Raises:
        TrainingDiverged: the loss or gradients stopped being finite (try a smaller learning rate).
    """
    compiled = classifier_loss(loss)
    X, y, (classes, features), rng = checked_problem(two_layer_loss_and_grad, X, y, num_classes, rng,
                                                     scan_values=False)
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    validation.count(hidden, "hidden")
    validation.count(steps, "steps")
    validation.count(batch_size, "batch_size")
    if batch_size > len(X):
        raise ValueError(f"batch_size: {batch_size} exceeds the {len(X)} examples in X")
    if isinstance(learning_rate, LineSearch):
        raise TypeError("learning_rate: a line search is not supported for the two-layer network; give a number, "
                        "a schedule or a function of the step")
    rule = step_size_rule(learning_rate, steps)
    if params0 is None:
        params = initial_parameters(features, hidden, classes, rng, X.dtype, weight_scale).as_dict()
    else:
        params = {name: array.astype(X.dtype, copy=True) for name, array in checked_parameters(params0).items()}
        if params["W1"].shape != (hidden, features) or params["W2"].shape[0] != classes:
            raise ValueError(f"params0: expected W1 (H, D) = ({hidden}, {features}) and W2 with C = {classes} rows, "
                             f"got W1 {params['W1'].shape} and W2 {params['W2'].shape}")
    name = f"two-layer mini-batch gradient descent (B = {batch_size})"
    batches = minibatch_indices(len(X), batch_size, rng)
    recorder = AccuracyRecorder(X, y, steps, scores=each_two_layer_scores)
    rates = []
    with Progress(steps, name, progress) as bar:
        for k in range(steps):
            rows = next(batches)
            try:
                value, gradients = two_layer_loss_and_grad(params, X[rows], y[rows], compiled, reg,
                                                           relu_kink_value, **loss_parameters)
            except ValueError as error:
                if k == 0:  # the inputs as given: the error names them
                    raise
                if not np.all(np.isfinite(X[rows])):
                    raise ValueError(f"X: contains NaN or infinite values (in the examples of step {k})") from error
                raise TrainingDiverged(f"{name} diverged at step {k}: {error}; {SMALLER_LEARNING_RATE}", k) from error
            rates.append(rule(k, params, gradients))
            for parameter in PARAMETER_NAMES:
                params[parameter] -= X.dtype.type(rates[-1]) * gradients[parameter]
            recorder.record(k, value, params)
            bar.show(value)
    if not all(np.all(np.isfinite(array)) for array in params.values()):
        raise TrainingDiverged(f"{name} diverged at step {steps - 1}: the last update made the parameters "
                               f"non-finite; {SMALLER_LEARNING_RATE}", steps - 1)
    return recorder.history(name, TwoLayerParameters(**params), rates)
