"""JAX backend: the classifier losses of :mod:`symgrad.runtime.losses`, printed for ``jax.numpy`` and run under ``jax.jit``.

The concept: a derivation is printed, not re-implemented. The same SymPy expressions that the NumPy backend
compiles (the per-example loss and score gradient on the class axis, ``losses._per_example_expressions``, and the
batch level of :mod:`symgrad.symbolic.objectives.linear_layer`: S = X W^T, L = 1/N sum_i L_i + lambda sum(W^2),
dL/dW = 1/N G X + 2 lambda W) go through ``sympy.lambdify`` with :class:`symgrad.codegen.modules.SymgradJaxPrinter`
instead of the NumPy printer. The three generated functions are composed into one Python function

    W (C, D), X (N, D), y (N,) -> S^T = (X W^T)^T (C, N), one-hot T (C, N)
                               -> [L_i (1, N), G = dL_i/ds (C, N)]          (per example, on the class axis)
                               -> [L, dL/dW (C, D)]                          (batch level)

which ``jax.jit`` traces and compiles once per loss and input shape and dtype. Because the printed text is the
derivation, the JAX and NumPy backends agree to rounding (:func:`jax_module_text` shows the text that runs).

Building a loss enables JAX's ``jax_enable_x64`` flag for the whole process: without it JAX silently computes
float64 input in float32. JAX is an optional dependency (``pip install 'symgrad[jax]'``) and is imported only
when a loss is built; building also imports SymPy to print the expressions (about a second, once per loss).

Example (needs JAX)::

    from symgrad.backends.jax_backend import jax_loss_and_grad
    svm = jax_loss_and_grad("svm_hinge")
    loss, dW = svm(W, X, y, reg=1e-3, delta=1.0)     # W (C, D), X (N, D), y (N,) -> float, dW (C, D)
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from symgrad.runtime.generated import function_from_module
from symgrad.runtime.losses import (
    CLASSIFIER_LOSSES,
    LINEAR_LAYER_KEYS,
    _check_finite_weights,
    _checked_labels,
    _checked_number,
    _input_array,
    classifier_weights,
    linear_layer_modules,
    per_example_module,
    raise_for_non_finite_scores,
    svm_parameters,
)

JAX_INSTALL_HINT = "pip install 'symgrad[jax]'"


def _import_jax():
    """Import JAX, with ``jax_enable_x64`` switched on (float64 stays float64); ImportError naming the extra
    when JAX is not installed."""
    try:
        import jax
    except ImportError as error:
        raise ImportError(f"symgrad's JAX backend needs JAX, which is not installed: {JAX_INSTALL_HINT}") from error
    jax.config.update("jax_enable_x64", True)
    return jax


def _checked_loss_name(loss_name) -> str:
    if loss_name not in CLASSIFIER_LOSSES:
        raise ValueError(f"loss_name: expected one of {CLASSIFIER_LOSSES}, got {loss_name!r}")
    return loss_name


@functools.lru_cache(maxsize=None)
def _module_texts(loss_name: str) -> tuple[str, str, str]:
    """The JAX module text of the per-example level, the scores and the batch objective and gradient."""
    batch_level = linear_layer_modules(backend="jax")
    return (per_example_module(loss_name, backend="jax"), *(batch_level[key] for key in LINEAR_LAYER_KEYS))


def jax_module_text(loss_name: str) -> str:
    """The generated ``jax.numpy`` text behind :func:`jax_loss_and_grad` (imports SymPy, not JAX).

    Three modules, one after the other, each defining ``_lambdifygenerated``:
    ``f(S, T, *parameters) -> [L (1, N), dL/dS (C, N)]`` for scores S and one-hot labels T (C, N);
    ``f(W, X) -> [X W^T (N, C)]``; and ``f(l (N, 1), G (C, N), X (N, D), W (C, D), N, lambda) -> [L, dL/dW (C, D)]``.

    Args:
        loss_name: ``"svm_hinge"`` or ``"softmax_ce"``.
    """
    return "\n".join(_module_texts(_checked_loss_name(loss_name)))


@functools.lru_cache(maxsize=None)
def _jitted(loss_name: str) -> Callable:
    """``jax.jit`` of the composed generated functions:
    (W (C, D), X (N, D), y (N,), lambda, *parameters) -> (L, dL/dW (C, D), whether every score is finite)."""
    jax = _import_jax()
    jnp = jax.numpy
    per_example, scores, objective_and_gradient = (function_from_module(text) for text in _module_texts(loss_name))

    def loss_and_grad(W, X, y, reg, *parameters):
        S = scores(W, X)[0].T
        onehot = (jnp.arange(W.shape[0])[:, jnp.newaxis] == y).astype(W.dtype)
        losses, G = per_example(S, onehot, *parameters)
        loss, gradient = objective_and_gradient(losses.T, G, X, W, X.shape[0], reg)
        return loss, gradient, jnp.all(jnp.isfinite(S))

    return jax.jit(loss_and_grad)


@functools.lru_cache(maxsize=None)
def jax_loss_and_grad(loss_name: str) -> Callable:
    """The classifier loss ``loss_name`` and its weight gradient, generated for ``jax.numpy`` and jitted.

    Building it imports JAX and switches on ``jax_enable_x64`` for the process (otherwise JAX computes float64
    input in float32 without a word); it is built once per loss, and JAX compiles once per shape and dtype.

    Args:
        loss_name: ``"svm_hinge"`` (as :func:`symgrad.svm_loss_and_grad`) or ``"softmax_ce"``
            (as :func:`symgrad.softmax_loss_and_grad`).

    Returns:
        ``f(W, X, y, reg=0.0, **parameters) -> (loss: float, dW: numpy array (C, D) in W's dtype)`` for weights
        W (C, D), C >= 2, floating; inputs X (N, D), floating or integer; labels y (N,), integers in [0, C);
        L2 strength reg >= 0. The parameters are ``delta=1.0`` (margin) and ``kink_value=0.0`` (the hinge's
        subgradient at a zero margin, in [0, 1]) for ``"svm_hinge"``, none for ``"softmax_ce"``. The arguments
        are checked as :mod:`symgrad.runtime.losses` checks them, and it computes in ``result_type(W, X)``.

    Raises:
        ImportError: JAX is not installed (``pip install 'symgrad[jax]'``).
        ValueError: ``loss_name`` is not a classifier loss.
    """
    compiled = _jitted(_checked_loss_name(loss_name))

    def classifier_loss_and_grad(W, X, y, reg: float = 0.0, **parameters):
        W = classifier_weights(W)
        X = _input_array(X, W.shape[1], "W (C, D)")
        labels = _checked_labels(y, X.shape[0], W.shape[0])
        dtype = np.result_type(W.dtype, X.dtype)
        values = [_checked_number(reg, "reg", low=0.0), *_loss_parameters(loss_name, parameters)]
        loss, gradient, scores_are_finite = compiled(
            W.astype(dtype, copy=False), X.astype(dtype, copy=False), labels, *map(dtype.type, values)
        )
        if not scores_are_finite:
            raise_for_non_finite_scores(W, X)
        loss = float(loss)
        if not np.isfinite(loss):
            _check_finite_weights(W, "W")
        return loss, np.array(gradient, dtype=W.dtype)

    classifier_loss_and_grad.__name__ = classifier_loss_and_grad.__qualname__ = f"jax_{loss_name}_loss_and_grad"
    classifier_loss_and_grad.__doc__ = (
        f"JAX {loss_name} loss and gradient: (W (C, D), X (N, D), y (N,), reg=0.0, **parameters) -> "
        "(loss: float, dW (C, D) in W's dtype); see symgrad.backends.jax_backend.jax_loss_and_grad."
    )
    return classifier_loss_and_grad


def _loss_parameters(loss_name: str, parameters: dict) -> tuple[float, ...]:
    """The loss's checked parameters in the generated function's order: (Delta, H0) for the SVM
    (:func:`symgrad.runtime.losses.svm_parameters`), () for softmax."""
    accepted = {"svm_hinge": ("delta", "kink_value"), "softmax_ce": ()}[loss_name]
    unknown = set(parameters) - set(accepted)
    if unknown:
        raise TypeError(f"{loss_name}: unknown parameters {sorted(unknown)}; it takes {list(accepted)}")
    return svm_parameters(**parameters) if loss_name == "svm_hinge" else ()
