"""JAX backend: every compiled loss, printed for ``jax.numpy`` and run under ``jax.jit``.

A derivation is printed, not re-implemented: code generation prints the same SymPy expressions as for NumPy
(the per-example loss and score gradient on the class axis, and the batch level of
:mod:`symgrad.symbolic.objectives.linear_layer`) through :class:`symgrad.codegen.printers.SymgradJaxPrinter`,
into ``symgrad/runtime/_generated/jax/``. The generated functions are composed into one Python function

    W (C, D), X (N, D), y (N,) -> S^T = (X W^T)^T (C, N), targets T (C, N)
                               -> [L_i (1, N), G = dL_i/ds (C, N)]          (per example, on the class axis)
                               -> [L, dL/dW (C, D)]                          (batch level)

which ``jax.jit`` traces and compiles once per loss and input shape and dtype. Because the printed text is the
derivation, the JAX and NumPy backends agree to rounding (:func:`jax_module_text` shows the text that runs).
JAX is optional (``pip install 'symgrad[jax]'``) and imported only when a loss is built; building imports no SymPy.

Example (needs JAX)::

    from symgrad.backends.jax_backend import jax_loss_and_grad
    svm = jax_loss_and_grad("svm")
    loss, dW = svm(W, X, y, reg=1e-3, delta=1.0)     # W (C, D), X (N, D), y (N,) -> float, dW (C, D)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from symgrad import validation
from symgrad.runtime.catalog import compiled_loss
from symgrad.runtime.generated import LINEAR_LAYER, generated_path, linear_layer
from symgrad.runtime.losses import raise_for_non_finite_result, raise_for_non_finite_scores

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


def jax_module_text(loss_name: str) -> str:
    """The generated ``jax.numpy`` text behind :func:`jax_loss_and_grad`: the loss's per-example module, then the
    linear layer's (read from the shipped files; imports neither SymPy nor JAX)."""
    loss = compiled_loss(loss_name)
    per_example = loss.backend_texts.get("jax") or generated_path(loss_name, "jax").read_text(encoding="utf-8")
    return "\n".join((per_example, generated_path(LINEAR_LAYER, "jax").read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=None)
def _jitted(loss_name: str, regularized: bool) -> Callable:
    """``jax.jit`` of the composed generated functions:
    (W (C, D), X (N, D), targets (N,), lambda, *parameters) -> (L, dL/dW (C, D), whether every score is finite).
    Without ``regularized`` the L2 term is left out (not multiplied by lambda = 0: sum(W^2) may overflow)."""
    jax = _import_jax()
    jnp = jax.numpy
    loss = compiled_loss(loss_name)
    per_example, layer = loss.backend_module("jax"), linear_layer("jax")

    def loss_and_grad(W, X, targets, reg, *parameters):
        S = layer.scores(W, X)[0].T
        if loss.kind == "classifier":
            T = (jnp.arange(W.shape[0])[:, jnp.newaxis] == targets).astype(W.dtype)
        else:
            T = targets.astype(W.dtype)[jnp.newaxis, :]
        losses, G = per_example.loss_and_score_gradient(S, T, *parameters)
        value, gradient = layer.data_objective_and_gradient(losses.T, G, X, X.shape[0])
        if regularized:
            penalty, penalty_gradient = layer.l2_penalty_and_gradient(W, reg)
            value, gradient = value + penalty, gradient + penalty_gradient
        return value, gradient, jnp.all(jnp.isfinite(S))

    return jax.jit(loss_and_grad)


@functools.lru_cache(maxsize=None)
def jax_loss_and_grad(loss_name: str) -> Callable:
    """The compiled loss ``loss_name`` and its weight gradient, generated for ``jax.numpy`` and jitted.

    Building it imports JAX and switches on ``jax_enable_x64`` for the process (otherwise JAX computes float64
    input in float32 without a word); it is built once per loss, and JAX compiles once per shape and dtype.

    Args:
        loss_name: a compiled loss (:func:`symgrad.runtime.catalog.loss_names`).

    Returns:
        ``f(W, X, y, reg=0.0, **parameters) -> (loss: float, gradient: NumPy array in W's dtype)``, with the
        arguments and checks of the NumPy loss (:class:`symgrad.runtime.losses.CompiledLoss`); it computes in
        ``result_type(W, X)``.

    Raises:
        ImportError: JAX is not installed (``pip install 'symgrad[jax]'``).
        ValueError: no compiled loss has that name.
    """
    loss = compiled_loss(loss_name)
    _import_jax()

    def jax_loss_function(W, X, y, reg: float = 0.0, **parameters):
        values = loss.parameter_values(parameters)
        reg = validation.nonnegative_number(reg, "reg")
        weights = loss.checked_weights(W)
        X = validation.input_matrix(X, weights.shape[1], f"{loss.weights_name} {loss.weights_axes}")
        dtype = np.result_type(weights.dtype, X.dtype)
        if loss.kind == "classifier":
            targets = validation.class_labels(y, X.shape[0], weights.shape[0])
        else:
            targets = validation.real_targets(y, X.shape[0], "t", *loss.target_bounds).astype(dtype)
        value, gradient, scores_are_finite = _jitted(loss_name, reg > 0)(
            weights.astype(dtype, copy=False), X.astype(dtype, copy=False), targets, dtype.type(reg),
            *map(dtype.type, values),
        )
        if not scores_are_finite:
            raise_for_non_finite_scores(weights, X, loss.weights_name)
        value, gradient = float(value), np.asarray(gradient)
        if not (math.isfinite(value) and np.all(np.isfinite(gradient))):
            raise_for_non_finite_result(loss, value, np.asarray(X, dtype=np.float64) @ weights.T.astype(np.float64),
                                        weights, reg)
        gradient = gradient.astype(weights.dtype)
        return value, gradient if loss.kind == "classifier" else gradient[0]

    jax_loss_function.__name__ = jax_loss_function.__qualname__ = f"jax_{loss_name}_loss_and_grad"
    jax_loss_function.__doc__ = f"JAX {loss.title}; see symgrad.backends.jax_backend.jax_loss_and_grad."
    return jax_loss_function

