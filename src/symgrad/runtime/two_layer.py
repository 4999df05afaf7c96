"""The two-layer ReLU network's loss and gradients, one forward and one backward pass of the code SymPy generated.
NumPy only.

    Z = W1 X^T + b1 (H, N),  A = relu(Z),  S = W2 A + b2 (C, N),  L = 1/N sum_i l(s_i) + reg (sum W1^2 + sum W2^2)

The per-example level is the classifier loss's own generated code (G = dl/ds for every example, (C, N)); the
network's passes are the generated module of :mod:`symgrad.symbolic.objectives.two_layer`, except the two
elementwise ReLU steps, done here with NumPy ufuncs on the same formulas, in place (relu(Z) = max(0, Z) written
over Z once its masks are kept, and the mask multiplied into dL/dA: :class:`ReluSlopes`). A fresh (H, N) array
is 39 MB of new memory per call in float64 at CIFAR size; writing relu(Z) over Z took the float64 pass from 1.14x
to 1.07x its matrix products (benchmarks/two_layer.py). The O(N D H) work is two matrix
products, W1 X^T and dZ X; everything else is O(N H) or smaller.

>>> import numpy as np
>>> params = {"W1": np.eye(2), "b1": np.zeros(2), "W2": np.eye(2), "b2": np.zeros(2)}
>>> loss, grads = two_layer_loss_and_grad(params, np.array([[1.0, -1.0]]), np.array([0]), loss="svm")
>>> loss, grads["W1"].tolist()     # scores (1, 0): the margin 0 - 1 + 1 = 0 sits on the hinge's kink
(0.0, [[0.0, 0.0], [0.0, 0.0]])
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from symgrad import validation
from symgrad.runtime.catalog import compiled_loss
from symgrad.runtime.generated import linear_layer, two_layer
from symgrad.runtime.losses import CompiledLoss

PARAMETER_NAMES = ("W1", "b1", "W2", "b2")


@dataclass(frozen=True)
class TwoLayerParameters:
    """The parameters of s = W2 relu(W1 x + b1) + b2: W1 (H, D), b1 (H,), W2 (C, H), b2 (C,).

    Also the type of the gradients :func:`two_layer_loss_and_grad` returns for parameters given this way (a
    mapping with the same four keys gives a dict).
    """

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        """{"W1": ..., "b1": ..., "W2": ..., "b2": ...}."""
        return {name: getattr(self, name) for name in PARAMETER_NAMES}


def checked_parameters(params) -> dict[str, np.ndarray]:
    """The four parameters as floating arrays of matching shapes: W1 (H, D), b1 (H,), W2 (C, H), b2 (C,), C >= 2.

    ``params`` is a :class:`TwoLayerParameters` or a mapping with exactly the keys W1, b1, W2, b2; errors name
    the parameter.
    """
    if isinstance(params, TwoLayerParameters):
        params = params.as_dict()
    if not isinstance(params, Mapping):
        raise TypeError(f"params: expected a mapping with keys W1, b1, W2, b2 or a TwoLayerParameters, "
                        f"got {type(params).__name__}")
    missing = [name for name in PARAMETER_NAMES if name not in params]
    unknown = sorted(str(name) for name in params if name not in PARAMETER_NAMES)
    if missing or unknown:
        raise ValueError(f"params: expected the keys W1, b1, W2, b2; missing {missing}, unknown {unknown}")
    W1 = validation.floating_array(params["W1"], "W1", ndim=2, axes="(H, D)")
    b1 = validation.floating_array(params["b1"], "b1", ndim=1, axes="(H,)")
    W2 = validation.floating_array(params["W2"], "W2", ndim=2, axes="(C, H)")
    b2 = validation.floating_array(params["b2"], "b2", ndim=1, axes="(C,)")
    hidden = W1.shape[0]
    if b1.shape != (hidden,):
        raise ValueError(f"b1: expected shape (H,) = ({hidden},), one bias per row of W1, got {b1.shape}")
    if W2.shape[1] != hidden:
        raise ValueError(f"W2: has {W2.shape[1]} columns, but W1 has H = {hidden} hidden units (rows); W2 is (C, H)")
    if W2.shape[0] < 2:
        raise ValueError(f"W2: a classifier needs at least 2 classes (rows), got shape {W2.shape}")
    if b2.shape != (W2.shape[0],):
        raise ValueError(f"b2: expected shape (C,) = ({W2.shape[0]},), one bias per row of W2, got {b2.shape}")
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def classifier_loss(loss) -> CompiledLoss:
    """A classifier loss by name (``"softmax"``, or one from ``define_loss``), or given as a compiled loss or its
    ``NAME_loss_and_grad`` function."""
    found = getattr(loss, "loss", loss)
    if not isinstance(found, CompiledLoss):
        if not isinstance(found, str):
            raise TypeError(f"loss: expected the name of a classifier loss, got {type(loss).__name__}")
        found = compiled_loss(found)
    if found.kind != "classifier":
        raise ValueError(f"loss: the two-layer network needs a classifier loss of its scores; {found.name!r} is a "
                         f"{found.kind} loss")
    return found


@overload
def two_layer_loss_and_grad(params: TwoLayerParameters, X: Any, y: Any, loss: Any = ..., reg: float = ...,
                            relu_kink_value: float = ..., **loss_parameters: float
                            ) -> tuple[float, TwoLayerParameters]: ...


@overload
def two_layer_loss_and_grad(params: Mapping[str, Any], X: Any, y: Any, loss: Any = ..., reg: float = ...,
                            relu_kink_value: float = ..., **loss_parameters: float
                            ) -> tuple[float, dict[str, np.ndarray]]: ...


def two_layer_loss_and_grad(params: Any, X: Any, y: Any, loss: Any = "softmax", reg: float = 0.0,
                            relu_kink_value: float = 0.0, **loss_parameters: float
                            ) -> tuple[float, TwoLayerParameters | dict[str, np.ndarray]]:
    """Loss and gradients of the two-layer ReLU network s = W2 relu(W1 x + b1) + b2 under a classifier loss.

    L = 1/N sum_i l(s_i) + reg * (sum(W1**2) + sum(W2**2)); the biases are not regularized.

    Args:
        params: W1 (H, D), b1 (H,), W2 (C, H), b2 (C,) as a mapping with those keys or a TwoLayerParameters;
            floating, C >= 2.
        X: inputs (N, D), one example per row (no bias column needed: the layers have biases).
        y: labels (N,), integers in [0, C).
        loss: a classifier loss's name (``symgrad.loss_names("classifier")``, including ``define_loss`` ones), or
            its ``NAME_loss_and_grad`` function.
        reg: L2 strength lambda >= 0.
        relu_kink_value: relu'(0) = Heaviside(0), in [0, 1] (0 is the lecture's 1(z > 0)).
        **loss_parameters: the loss's keyword parameters (``delta=``, ``kink_value=``, ``smoothing=`` ...).

    Returns:
        (loss: float, gradients dW1 (H, D), db1 (H,), dW2 (C, H), db2 (C,) in the structure of ``params``, each in
        its parameter's dtype (float32 stays float32)).

    Raises:
        TypeError, ValueError: bad input, the message starting with the argument's name; a loss or gradient that
            is not finite (overflow) is a ValueError naming the cause, never a NaN or inf returned.
    """
    compiled = classifier_loss(loss)
    values = compiled.parameter_values(loss_parameters)
    reg = validation.nonnegative_number(reg, "reg")
    kink = validation.real_number(relu_kink_value, "relu_kink_value", low=0.0, high=1.0)
    checked = checked_parameters(params)
    hidden, features = checked["W1"].shape
    X = validation.input_matrix(X, features, "W1 (H, D)")
    number_of_classes = checked["W2"].shape[0]
    labels = validation.class_labels(y, X.shape[0], number_of_classes)
    dtype = np.result_type(*checked.values(), X.dtype if np.issubdtype(X.dtype, np.floating) else checked["W1"].dtype)
    T = compiled.targets(labels, number_of_classes, dtype)
    computing = {name: array.astype(dtype, copy=False) for name, array in checked.items()}
    value, gradients = evaluate(compiled, computing, X.astype(dtype, copy=False), T, reg, kink, values)
    gradients = {name: gradients[name].astype(checked[name].dtype, copy=False) for name in PARAMETER_NAMES}
    return value, same_structure(params, gradients)


def same_structure(params, gradients: dict[str, np.ndarray]):
    """``gradients`` as ``params`` came: a TwoLayerParameters for one, else the dict."""
    if isinstance(params, TwoLayerParameters):
        return dataclasses.replace(params, **gradients)
    return gradients


def evaluate(loss: CompiledLoss, params: dict[str, np.ndarray], X: np.ndarray, T: np.ndarray, reg: float,
             relu_kink_value: float, values: tuple) -> tuple[float, dict[str, np.ndarray]]:
    """One forward and one backward pass on checked arrays of one floating dtype: params W1 (H, D), b1 (H,),
    W2 (C, H), b2 (C,); X (N, D); T (C, N) one-hot -> (loss, gradients by name); raises ValueError when anything is
    not finite."""
    dtype = T.dtype
    network = two_layer()
    W1, b1, W2, b2 = (params[name] for name in PARAMETER_NAMES)
    with np.errstate(over="ignore", invalid="ignore"):
        Z = network.hidden_layer(W1, b1[:, np.newaxis], X)[0]
        relu_slopes = ReluSlopes(Z, dtype.type(relu_kink_value))
        A = np.maximum(Z, 0, out=Z)  # the generated relu(Z), over Z: the backward pass needs only H(Z)
        S = network.output_layer(W2, b2[:, np.newaxis], A)[0]
    if not np.all(np.isfinite(S)):
        raise_for_non_finite_scores(params, X)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        losses, G = loss.module.loss_and_score_gradient(S, T, *(dtype.type(v) for v in values))
        value = float(np.sum(losses)) / X.shape[0]
        G_mean = network.mean_score_gradients(G, X.shape[0])[0]
        dW2, db2, dA = network.output_layer_gradients(G_mean, A, W2)
        dZ = relu_slopes.times(dA)
        dW1, db1 = network.hidden_layer_gradients(dZ, X)
        if reg > 0:
            penalty1, penalty_gradient1 = linear_layer().l2_penalty_and_gradient(W1, dtype.type(reg))
            penalty2, penalty_gradient2 = linear_layer().l2_penalty_and_gradient(W2, dtype.type(reg))
            value += float(penalty1) + float(penalty2)
            dW1 += penalty_gradient1
            dW2 += penalty_gradient2
    gradients = {"W1": dW1, "b1": db1[:, 0], "W2": dW2, "b2": db2[:, 0]}
    if not (math.isfinite(value) and all(np.all(np.isfinite(g)) for g in gradients.values())):
        raise_for_non_finite_result(loss, value, S, params, reg)
    return value, gradients


class ReluSlopes:
    """H(Z) (H, N), with H(0) = ``relu_kink_value``, kept as masks so that Z's memory can hold relu(Z).

    :meth:`times` gives the values of the generated ``relu_gradient`` (which the JAX backend runs) without its
    three (H, N) temporaries -- at CIFAR size they cost ~5% of a whole forward and backward pass in float32. Exact
    zeros of Z are looked for only when relu'(0) is not 0."""

    def __init__(self, Z: np.ndarray, relu_kink_value):
        self.positive = np.greater(Z, 0)
        self.kinks = np.equal(Z, 0) if relu_kink_value != 0 else None
        self.relu_kink_value = relu_kink_value

    def times(self, dA: np.ndarray) -> np.ndarray:
        """dL/dZ = dA * H(Z), written into dA (H, N) and returned."""
        kinks = self.kinks if self.kinks is not None and self.kinks.any() else None
        at_kinks = self.relu_kink_value * dA[kinks] if kinks is not None else None
        np.multiply(dA, self.positive, out=dA)
        if at_kinks is not None:
            dA[kinks] = at_kinks
        return dA


def raise_for_non_finite_scores(params: dict[str, np.ndarray], X: np.ndarray):
    """The ValueError for scores that are not all finite, naming the cause: a parameter or X holds NaN or inf (a
    scan done only on this error path), else a layer overflowed."""
    for name in PARAMETER_NAMES:
        validation.require_finite(params[name], name)
    if not np.all(np.isfinite(X)):
        raise ValueError("X: inputs must be finite (found NaN or inf)")
    raise ValueError("X: the hidden activations or the scores overflow to inf; rescale X, W1 or W2")


def raise_for_non_finite_result(loss: CompiledLoss, value: float, S, params: dict[str, np.ndarray], reg: float):
    """The ValueError for a loss or gradients that are not finite although the scores are: an L2 penalty
    overflowed, or the per-example loss or the backward pass did."""
    for name in ("W1", "W2"):
        W = params[name]
        with np.errstate(over="ignore", invalid="ignore"):
            if reg > 0 and not np.isfinite(W.dtype.type(reg) * np.vdot(W, W)):
                raise ValueError(f"{name}: reg * sum({name}**2) overflows; rescale {name} or lower reg")
    largest = float(np.max(np.abs(S)))
    raise ValueError(
        f"{loss.name}: the loss or its gradients overflow (value {value}) at scores up to |s| = {largest:.3g}; "
        "rescale X, W1 or W2"
    )
