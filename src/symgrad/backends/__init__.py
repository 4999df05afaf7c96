"""Choosing where a compiled classifier loss runs: NumPy (default), JAX (jitted), or Dask (chunked data).

    backend   runs on                                   choose it for
    numpy     NumPy arrays in memory, one process       data that fits in memory; the fastest on a CPU
    jax       jax.numpy under jax.jit                   a GPU/TPU, or a JAX training loop
    dask      dask.array chunked over examples          data larger than memory, or a dask.distributed cluster

All three run the same SymPy derivation: NumPy and Dask the same generated text (Dask arrays implement the NumPy
functions it calls), JAX the same expressions printed for ``jax.numpy``.

>>> import numpy as np
>>> svm = loss_and_grad_function("svm", backend="numpy")
>>> svm(np.zeros((3, 2)), np.ones((4, 2)), np.array([0, 1, 2, 0]))[0]
2.0
"""

from __future__ import annotations

from typing import Callable

BACKENDS = ("numpy", "jax", "dask")
LOSS_NAMES = {"svm": "svm_hinge", "softmax": "softmax_ce"}


def loss_and_grad_function(loss: str, backend: str = "numpy") -> Callable:
    """The compiled ``loss_and_grad(W, X, y, reg=0.0, **parameters) -> (loss, dW)`` of a linear classifier.

    Args:
        loss: ``"svm"`` (parameters ``delta``, ``kink_value``) or ``"softmax"``.
        backend: ``"numpy"``, ``"jax"`` or ``"dask"``. The Dask function takes X (N, D) as a Dask array chunked
            over rows (a NumPy X is wrapped in one with Dask's automatic chunks); the others take arrays in
            memory.

    Returns:
        A function of W (C, D), X (N, D), y (N,) returning (loss: float, dW: NumPy array (C, D) in W's dtype).
    """
    if loss not in LOSS_NAMES:
        raise ValueError(f"loss: expected one of {sorted(LOSS_NAMES)}, got {loss!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    from symgrad.runtime import losses

    numpy_function = {"svm": losses.svm_loss_and_grad, "softmax": losses.softmax_loss_and_grad}[loss]
    if backend == "numpy":
        return numpy_function
    if backend == "jax":
        from symgrad.backends.jax_backend import jax_loss_and_grad

        return jax_loss_and_grad(LOSS_NAMES[loss])
    try:
        import dask.array as da
    except ImportError as error:
        raise ImportError("the dask backend needs Dask: pip install 'symgrad[dask]'") from error

    def dask_loss_and_grad(W, X, y, reg=0.0, **parameters):
        """(loss, dW) with X (N, D) evaluated as a Dask array chunked over rows."""
        return numpy_function(W, X if losses.is_dask_array(X) else da.from_array(X, chunks=("auto", -1)), y,
                              reg=reg, **parameters)

    return dask_loss_and_grad
