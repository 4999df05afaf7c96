"""Loss and gradient of a linear classifier (multiclass SVM, softmax) and of linear regression, for NumPy arrays.

The code that runs is the code SymPy generated from the derivations in :mod:`symgrad.symbolic.objectives`,
in two levels (see :mod:`symgrad.symbolic.objectives.linear_layer`):

1. per example: L_i and dL_i/ds for every example and class at once, on the scores S^T (C, N) and one-hot
   labels T (C, N): the loss is derived in index notation for a symbolic number of classes and compiled
   on the class axis (:mod:`symgrad.symbolic.index_form`), so a handful of array operations serve any C;
2. per batch: L = 1/N sum_i L_i + lambda sum(W^2) and dL/dW = 1/N G X + 2 lambda W, where G (C, N)
   stacks dL_i/ds: two matrix products, S = X W^T and G X, carry the O(N C D) work.

Each generated function is built once and cached. The generated modules ship in ``symgrad/_generated``
(kept identical to what the derivations generate today by a test), so these functions run without
importing SymPy. :func:`per_example_source` and :func:`linear_layer_source` return the text that runs.

>>> import numpy as np
>>> W = np.zeros((3, 2)); X = np.ones((4, 2)); y = np.array([0, 1, 2, 0])
>>> loss, dW = svm_loss_and_grad(W, X, y)
>>> loss, dW.shape          # loss at W = 0 is C - 1 (every margin is Delta = 1)
(2.0, (3, 2))
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from symgrad.runtime.generated import function_from_module, load_function, module_text

CLASSIFIER_LOSSES = ("svm_hinge", "softmax_ce")
PER_EXAMPLE_LOSSES = CLASSIFIER_LOSSES + ("squared_error",)
LINEAR_LAYER_KEYS = ("linear_layer_scores", "linear_layer_objective_and_gradient")


def _per_example_expressions(loss_name: str):
    """(lambdify arguments, [L_i (1, N), dL_i/ds (C, N)]) of one per-example loss, on the class axis."""
    from symgrad.symbolic.objectives import softmax, squared_loss, svm_hinge
    from symgrad.symbolic.objectives.linear_layer import label_array, score_array

    if loss_name == "svm_hinge":
        return [score_array, label_array, svm_hinge.margin, svm_hinge.kink_value], svm_hinge.compiled_loss_and_gradient()
    if loss_name == "softmax_ce":
        return [score_array, label_array], softmax.compiled_loss_and_gradient()
    if loss_name == "squared_error":
        return [score_array, label_array], squared_loss.compiled_loss_and_gradient()
    raise ValueError(f"loss_name: expected one of {PER_EXAMPLE_LOSSES}, got {loss_name!r}")


def per_example_module(loss_name: str, backend: str = "numpy") -> str:
    """Module text that SymPy generates for :func:`per_example_function` (imports SymPy); ``backend`` as
    :func:`symgrad.codegen.modules.generate_module` takes it."""
    from symgrad.codegen.modules import generate_module

    return generate_module(*_per_example_expressions(loss_name), backend=backend)


def per_example_source(loss_name: str) -> str:
    """The module text :func:`per_example_function` runs: the shipped copy, or generated now."""
    return module_text(loss_name, lambda: per_example_module(loss_name))


@functools.lru_cache(maxsize=None)
def per_example_function(loss_name: str) -> Callable:
    """The lambdified per-example loss and score gradient of every example and class at once.

    Args:
        loss_name: ``"svm_hinge"``, ``"softmax_ce"`` or ``"squared_error"``.

    Returns:
        f(S, T, *parameters) -> [L (1, N), dL/dS (C, N)] for scores S (C, N) and one-hot labels (or
        regression targets) T (C, N), any C; the parameters are Delta and H0 for the SVM.
    """
    if loss_name not in PER_EXAMPLE_LOSSES:
        raise ValueError(f"loss_name: expected one of {PER_EXAMPLE_LOSSES}, got {loss_name!r}")
    return function_from_module(per_example_source(loss_name))


def linear_layer_modules(backend: str = "numpy") -> dict[str, str]:
    """Module text that SymPy generates for the batch level (imports SymPy): scores, objective and gradient,
    by key of :data:`LINEAR_LAYER_KEYS`; ``backend`` as :func:`symgrad.codegen.modules.generate_module` takes it."""
    from symgrad.codegen.modules import generate_module
    from symgrad.symbolic.objectives import linear_layer as layer

    arguments = [
        layer.per_example_losses,
        layer.score_gradients,
        layer.inputs,
        layer.weights,
        layer.examples,
        layer.regularization_strength,
    ]
    scores = generate_module([layer.weights, layer.inputs], [layer.batch_scores], backend=backend)
    objective_and_gradient = generate_module(arguments, [layer.batch_objective, layer.batch_gradient], backend=backend)
    return dict(zip(LINEAR_LAYER_KEYS, (scores, objective_and_gradient)))


@functools.lru_cache(maxsize=1)
def linear_layer_functions() -> tuple[Callable, Callable]:
    """The lambdified batch level: ``scores(W, X) -> X W^T`` (N, C) and
    ``objective_and_gradient(l, G, X, W, N, lambda) -> [L, dL/dW (C, D)]`` for per-example losses
    l (N, 1) and score gradients G (C, N)."""
    return tuple(load_function(key, lambda key=key: linear_layer_modules()[key]) for key in LINEAR_LAYER_KEYS)


def linear_layer_source() -> str:
    """The module text of both functions of :func:`linear_layer_functions`."""
    return "\n".join(module_text(key, lambda key=key: linear_layer_modules()[key]) for key in LINEAR_LAYER_KEYS)


def shipped_modules() -> dict[str, Callable[[], str]]:
    """Every generated module shipped in ``symgrad/_generated``, by key, with its generator (see symgrad.runtime.generated)."""
    modules = {loss: functools.partial(per_example_module, loss) for loss in PER_EXAMPLE_LOSSES}
    for key in LINEAR_LAYER_KEYS:
        modules[key] = lambda key=key: linear_layer_modules()[key]
    return modules


def svm_loss_and_grad(W, X, y, reg: float = 0.0, delta: float = 1.0, kink_value: float = 0.0):
    """Multiclass SVM loss and gradient: mean over the batch of sum_{j != y_i} max(0, s_j - s_{y_i} + delta),
    plus reg * sum(W^2).

    Args:
        W: weights (C, D), C >= 2, floating; one row per class.
        X: inputs (N, D), one example per row (bias trick: a column of ones); a NumPy array, or a Dask array
            chunked over rows (then evaluated by :mod:`symgrad.runtime.dask_evaluation`, reading each chunk once).
        y: labels (N,), integers in [0, C).
        reg: L2 strength lambda >= 0.
        delta: margin Delta.
        kink_value: the indicator's value at a margin of exactly 0, in [0, 1] (0: the lecture's 1(m > 0)).

    Returns:
        (loss: float, dW: array (C, D) in W's dtype).
    """
    return _classifier_loss_and_grad("svm_hinge", W, X, y, reg, svm_parameters(delta, kink_value))


def svm_parameters(delta: float = 1.0, kink_value: float = 0.0) -> tuple[float, float]:
    """The SVM's per-example parameters (Delta, H0), checked: delta finite, kink_value in [0, 1]."""
    return _checked_number(delta, "delta"), _checked_number(kink_value, "kink_value", low=0.0, high=1.0)


def softmax_loss_and_grad(W, X, y, reg: float = 0.0):
    """Softmax cross-entropy loss and gradient: mean over the batch of -log p_{y_i}, plus reg * sum(W^2).

    Computed at scores shifted by their maximum (licensed by the proved shift invariance): finite for
    any finite scores, in float32 and float64.

    Args:
        W: weights (C, D), C >= 2, floating.
        X: inputs (N, D), a NumPy array or a Dask array chunked over rows (as for :func:`svm_loss_and_grad`).
        y: labels (N,), integers in [0, C).
        reg: L2 strength lambda >= 0.

    Returns:
        (loss: float, dW: array (C, D) in W's dtype).
    """
    return _classifier_loss_and_grad("softmax_ce", W, X, y, reg, ())


def squared_loss_and_grad(w, X, y):
    """Linear-regression loss 1/N ||X w - y||^2 and its gradient 2/N X^T (X w - y).

    Args:
        w: weights (D,), floating.
        X: inputs (N, D) (bias trick: a column of ones gives the intercept).
        y: targets (N,), real.

    Returns:
        (loss: float, dw: array (D,) in w's dtype).
    """
    w = _floating_array(w, "w", ndim=1, axes="(D,)")
    X = _input_array(X, w.shape[0], "w (D,)")
    dtype = np.result_type(w.dtype, X.dtype)
    targets = np.asarray(y)
    if targets.ndim != 1 or targets.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected targets of shape ({X.shape[0]},) to match X, got shape {targets.shape}")
    if not (np.issubdtype(targets.dtype, np.floating) or np.issubdtype(targets.dtype, np.integer)):
        raise TypeError(f"y: expected real targets, got dtype {targets.dtype}")
    if not np.all(np.isfinite(targets)):
        raise ValueError("y: targets must be finite (found NaN or inf)")
    loss, gradient = _linear_layer_loss_and_grad(
        "squared_error", "w", w[np.newaxis, :], X, targets.astype(dtype, copy=False)[np.newaxis, :], 0.0, ()
    )
    return loss, gradient[0].astype(w.dtype, copy=False)


def _classifier_loss_and_grad(loss_name, W, X, y, reg, parameters):
    W = classifier_weights(W)
    reg = _checked_number(reg, "reg", low=0.0)
    if is_dask_array(X):
        from symgrad.runtime.dask_evaluation import classifier_loss_and_grad

        return classifier_loss_and_grad(loss_name, W, X, y, reg, parameters)
    X = _input_array(X, W.shape[1], "W (C, D)")
    labels = _checked_labels(y, X.shape[0], W.shape[0])
    onehot = one_hot(labels, W.shape[0], np.result_type(W.dtype, X.dtype))
    loss, gradient = _linear_layer_loss_and_grad(loss_name, "W", W, X, onehot, reg, parameters)
    return loss, gradient.astype(W.dtype, copy=False)


def classifier_weights(W) -> np.ndarray:
    """W checked as a classifier's weights: a floating array (C, D) with C >= 2 (finiteness is checked later,
    on the error path: see :func:`raise_for_non_finite_scores`)."""
    W = _floating_array(W, "W", ndim=2, axes="(C, D)")
    if W.shape[0] < 2:
        raise ValueError(f"W: a classifier needs at least 2 classes (rows), got shape {W.shape}")
    return W


def one_hot(labels, number_of_classes: int, dtype):
    """T (C, N) with T[c, i] = 1(y_i = c), for NumPy or Dask labels (N,)."""
    return (np.arange(number_of_classes)[:, np.newaxis] == labels[np.newaxis, :]).astype(dtype)


def raise_for_non_finite_scores(W, X, weights_name: str = "W"):
    """The ValueError for scores X W^T that are not all finite, naming the cause: W or X holds a NaN or inf
    (a scan of each, done only on this error path), else the product overflowed."""
    _check_finite_weights(W, weights_name)
    if not np.all(np.isfinite(X)):
        raise ValueError("X: inputs must be finite (found NaN or inf)")
    raise ValueError("X: the scores X @ W.T overflow to inf; rescale X or W")


def _linear_layer_loss_and_grad(loss_name, weights_name, W, X, targets, reg, parameters):
    """Both levels: W (C, D), X (N, D), targets (C, N) in the computing dtype -> (loss, dW (C, D)).

    A NaN or inf in W or X always reaches the scores S or the loss (whose lambda sum(W^2) is NaN or inf
    even at lambda = 0), so W and X are scanned for them only on those error paths.
    """
    dtype = targets.dtype
    W = W.astype(dtype, copy=False)
    X = X if np.issubdtype(X.dtype, np.floating) else X.astype(dtype)
    scores, _ = linear_layer_functions()
    with np.errstate(over="ignore", invalid="ignore"):
        # X W^T is the faster orientation of the product; the per-example code reads one class per row,
        # and contiguous rows (a copy of C * N values) run faster than strided ones at every N.
        S = np.ascontiguousarray(scores(W, X)[0].T)
    if not np.all(np.isfinite(S)):
        raise_for_non_finite_scores(W, X, weights_name)
    loss, gradient = evaluate_after_scores(loss_name, S, targets, X, W, reg, parameters)
    if not np.isfinite(loss):
        _check_finite_weights(W, weights_name)
    return float(loss), gradient


def evaluate_after_scores(loss_name, S, targets, X, W, reg, parameters):
    """The generated code after the scores, for NumPy arrays or lazily for Dask arrays.

    Args:
        S: scores (C, N); targets: one-hot labels or regression targets (C, N), in the computing dtype;
        X: (N, D); W: (C, D); reg: lambda; parameters: the per-example parameters (Delta, H0 for the SVM).

    Returns:
        [loss (scalar), dL/dW (C, D)].
    """
    dtype = targets.dtype
    losses, G = per_example_function(loss_name)(S, targets, *(dtype.type(p) for p in parameters))
    _, objective_and_gradient = linear_layer_functions()
    return objective_and_gradient(losses.T, G, X, W, X.shape[0], dtype.type(reg))


def _check_finite_weights(W, name: str) -> None:
    if not np.all(np.isfinite(W)):
        raise ValueError(f"{name}: must be finite (found NaN or inf)")


def is_dask_array(value) -> bool:
    """True for a ``dask.array.Array`` (checked without importing Dask)."""
    return type(value).__module__.split(".")[0] == "dask" and hasattr(value, "chunks")


def _floating_array(value, name: str, ndim: int, axes: str) -> np.ndarray:
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name}: expected a floating array {axes}, got dtype {array.dtype}")
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array {axes}, got shape {array.shape}")
    if 0 in array.shape:
        raise ValueError(f"{name}: expected a non-empty array {axes}, got shape {array.shape}")
    return array


def _input_array(value, number_of_features: int, weights: str) -> np.ndarray:
    X = np.asarray(value)
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise TypeError(f"X: expected a real (floating or integer) array (N, D), got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (N, D), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("X: the batch is empty (N = 0)")
    if X.shape[1] != number_of_features:
        raise ValueError(
            f"X: has {X.shape[1]} features (columns), but {weights} has D = {number_of_features}"
        )
    return X


def _checked_labels(value, number_of_examples: int, number_of_classes: int) -> np.ndarray:
    labels = np.asarray(value)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"y: labels must be integers in [0, {number_of_classes}), got dtype {labels.dtype}")
    if labels.shape != (number_of_examples,):
        raise ValueError(f"y: expected labels of shape ({number_of_examples},) to match X, got {labels.shape}")
    if labels.min() < 0 or labels.max() >= number_of_classes:
        raise ValueError(
            f"y: labels must be in [0, {number_of_classes}), got values from {labels.min()} to {labels.max()}"
        )
    return labels


def _checked_number(value, name: str, low: float = -np.inf, high: float = np.inf) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    value = float(value)
    if not (np.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name}: expected a finite number in [{low}, {high}], got {value}")
    return value
