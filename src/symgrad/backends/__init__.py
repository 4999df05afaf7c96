"""Choosing where a compiled loss runs: NumPy (default), JAX (jitted), or Dask (chunked data).

    backend   runs on                                   choose it for
    numpy     NumPy arrays in memory, one process       data that fits in memory; the fastest on a CPU
    jax       jax.numpy under jax.jit                   a GPU/TPU, or a JAX training loop
    dask      dask.array chunked over examples          data larger than memory, or a dask.distributed cluster

All three run the same SymPy derivation: NumPy and Dask the same generated text (Dask arrays implement the NumPy
functions it calls), JAX the same expressions printed for ``jax.numpy``. Every compiled loss runs on every backend.

>>> import numpy as np
>>> svm = loss_and_grad_function("svm", backend="numpy")
>>> svm(np.zeros((3, 2)), np.ones((4, 2)), np.array([0, 1, 2, 0]))[0]
2.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from symgrad import validation
from symgrad.runtime.catalog import compiled_loss, loss_function

BACKENDS = ("numpy", "jax", "dask")


def loss_and_grad_function(
    loss: str, backend: str = "numpy", *, one_vs_rest: bool = False
) -> Callable[..., tuple[float, Any]]:
    """The compiled ``loss_and_grad(W, X, y, reg=0.0, **parameters) -> (loss, gradient)`` of a linear model.

    Args:
        loss: a compiled loss's name (``symgrad.loss_names()``: ``"svm"``, ``"softmax"``, ``"squared"``, ...).
        backend: ``"numpy"``, ``"jax"`` or ``"dask"``. The Dask function takes X (N, D) as a Dask array chunked
            over rows (a NumPy X is wrapped in one with Dask's automatic chunks); the others take arrays in
            memory.
        one_vs_rest: train a regression loss (``"squared"``, ``"huber"``, ``"logistic"``) as a classifier, one vs
            rest: W (C, D), integer labels (:meth:`symgrad.runtime.losses.CompiledLoss.one_vs_rest`). No effect on
            a classifier loss.

    Returns:
        A function of W (C, D) or w (D,), X (N, D) and labels or targets (N,), returning (loss: float, gradient:
        NumPy array in the weights' shape and dtype).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    compiled = compiled_loss(loss)
    function = compiled.one_vs_rest().public_function if one_vs_rest else loss_function(compiled.name)
    if backend == "numpy":
        return function
    if backend == "jax":
        from symgrad.backends.jax_backend import jax_loss_and_grad

        return jax_loss_and_grad(loss, one_vs_rest)
    try:
        import dask.array as da
    except ImportError as error:
        raise ImportError("the dask backend needs Dask: pip install 'symgrad[dask]'") from error

    def dask_loss_and_grad(W, X, y, reg=0.0, **parameters):
        """(loss, gradient) with X (N, D) evaluated as a Dask array chunked over rows."""
        chunked = X if validation.is_dask_array(X) else da.from_array(X, chunks=("auto", -1))
        return function(W, chunked, y, reg=reg, **parameters)

    dask_loss_and_grad.__name__ = dask_loss_and_grad.__qualname__ = f"dask_{loss}_loss_and_grad"
    return dask_loss_and_grad
