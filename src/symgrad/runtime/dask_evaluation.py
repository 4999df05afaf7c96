"""The compiled losses on Dask arrays: data chunked over examples, larger than memory or spread over a cluster.

The generated NumPy code (``symgrad/_generated``) calls only NumPy functions and ufuncs that Dask arrays
implement (``sum``, ``max``, ``heaviside``, ``maximum``, ``exp``, ``log``, ``@``), so the same text, unchanged,
builds a Dask graph when X (N, D) is a ``dask.array`` chunked over rows: per chunk b the scores
S_b = X_b W^T, the per-example code on S_b and the one-hot labels, and G_b X_b; the mean over examples,
sum_b G_b X_b / N, is Dask's tree reduction. One ``dask.compute`` per call evaluates the loss, dW and the
input checks together, reading each chunk of X once, on whatever scheduler is active (threads by default,
a ``dask.distributed`` cluster when a ``Client`` exists).

:func:`read_npy_in_chunks` opens a ``.npy`` file on disk as such an array without loading it: each chunk is
read from the file when a task needs it, so memory holds a few chunks, whatever N is.

>>> import numpy as np, dask.array as da, symgrad
>>> X = da.ones((1000, 4), chunks=(250, 4)); y = da.zeros(1000, dtype=int, chunks=250)
>>> loss, dW = symgrad.svm_loss_and_grad(np.zeros((3, 4)), X, y)    # dispatched here for a Dask X
>>> loss, dW.shape
(2.0, (3, 4))
"""

from __future__ import annotations

import math
import os

import numpy as np

from symgrad.runtime import losses

CHUNKS_IN_MEMORY = 16
"""A memory budget is divided into this many chunks, leaving room for the chunks the scheduler's threads hold
at once and their per-chunk temporaries. Measured (tests/test_dask_backend.py, 94 MiB float32 file, 3
full-batch steps and 80 mini-batch steps on 2 threads): peak RSS grew by 18.9 / 31.9 / 56.8 MiB at budgets of
32 / 64 / 128 MiB; about 12 MiB of it does not scale with the budget, so budgets below ~24 MiB are not met."""


def classifier_loss_and_grad(loss_name: str, W, X, y, reg: float, parameters: tuple) -> tuple[float, np.ndarray]:
    """``symgrad.svm_loss_and_grad`` / ``softmax_loss_and_grad`` for a Dask X.

    Args:
        loss_name: ``"svm_hinge"`` or ``"softmax_ce"``.
        W: NumPy weights (C, D), checked by :func:`symgrad.runtime.losses.classifier_weights`.
        X: Dask array (N, D), real, chunked over rows (any chunking of the columns is merged).
        y: labels (N,) in [0, C), a Dask or NumPy integer array.
        reg: L2 strength >= 0 (checked by the caller). parameters: Delta and H0 for the SVM, () for softmax.

    Returns:
        (loss: float, dW: NumPy array (C, D) in W's dtype).
    """
    import dask
    import dask.array as da

    number_of_classes, number_of_features = W.shape
    X = _dask_inputs(X, number_of_features)
    labels = _dask_labels(y, X)
    dtype = np.result_type(W.dtype, X.dtype)
    X = X if np.issubdtype(X.dtype, np.floating) else X.astype(dtype)
    onehot = losses.one_hot(labels, number_of_classes, dtype)
    weights = W.astype(dtype, copy=False)
    scores, _ = losses.linear_layer_functions()
    S = scores(weights, X)[0].T
    loss, gradient = losses.evaluate_after_scores(loss_name, S, onehot, X, weights, reg, parameters)
    loss, gradient, finite, lowest, highest = dask.compute(
        loss, gradient, da.isfinite(S).all(), labels.min(), labels.max()
    )
    if lowest < 0 or highest >= number_of_classes:
        raise ValueError(f"y: labels must be in [0, {number_of_classes}), got values from {lowest} to {highest}")
    if not finite:
        losses._check_finite_weights(W, "W")
        raise ValueError("X: inputs must be finite (found NaN or inf), or the scores X @ W.T overflow")
    return float(loss), np.asarray(gradient).astype(W.dtype, copy=False)


def read_npy_in_chunks(path, *, rows_per_chunk: int | None = None, memory_budget: int | None = None):
    """A 2-D ``.npy`` file (N, D) as a Dask array chunked over rows, each chunk read from disk on demand.

    Chunks are read with plain file reads (not a memory map), so a chunk's memory is freed when its tasks
    are done and the process holds about ``CHUNKS_IN_MEMORY`` chunks at most.

    Args:
        path: a C-ordered 2-D ``.npy`` file (``numpy.save`` writes these).
        rows_per_chunk: rows per chunk; or
        memory_budget: bytes for the data in memory: rows_per_chunk = budget / (CHUNKS_IN_MEMORY * row bytes).

    Returns:
        ``dask.array.Array`` (N, D) of the file's dtype.
    """
    import dask
    import dask.array as da

    path = os.fspath(path)
    shape, dtype, offset = _npy_layout(path)
    number_of_rows, number_of_columns = shape
    row_bytes = number_of_columns * dtype.itemsize
    rows_per_chunk = _rows_per_chunk(rows_per_chunk, memory_budget, row_bytes)
    read = dask.delayed(_read_rows, pure=True)
    chunks = [
        da.from_delayed(
            read(path, offset, dtype, number_of_columns, start, min(start + rows_per_chunk, number_of_rows)),
            shape=(min(rows_per_chunk, number_of_rows - start), number_of_columns),
            dtype=dtype,
        )
        for start in range(0, number_of_rows, rows_per_chunk)
    ]
    return da.concatenate(chunks, axis=0)


_NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _npy_layout(path: str) -> tuple[tuple[int, int], np.dtype, int]:
    """(shape, dtype, byte offset of the data) from a ``.npy`` header; ValueError for what cannot be chunked."""
    with open(path, "rb") as file:
        try:
            version = np.lib.format.read_magic(file)
            read_header = _NPY_HEADER_READERS.get(version)
            if read_header is None:
                raise ValueError(f"format version {version} is not supported")
            shape, fortran_order, dtype = read_header(file)
        except ValueError as error:
            raise ValueError(f"path: {path} is not a .npy file ({error})") from error
        offset = file.tell()
    if len(shape) != 2 or fortran_order or dtype.hasobject:
        raise ValueError(f"path: {path} must hold a C-ordered 2-D numeric array, got shape {shape}, "
                         f"fortran_order={fortran_order}, dtype {dtype}")
    return shape, dtype, offset


def _rows_per_chunk(rows_per_chunk, memory_budget, row_bytes: int) -> int:
    if (rows_per_chunk is None) == (memory_budget is None):
        raise TypeError("give exactly one of rows_per_chunk and memory_budget")
    if memory_budget is not None:
        if not isinstance(memory_budget, (int, np.integer)) or memory_budget <= 0:
            raise ValueError(f"memory_budget: expected a positive number of bytes, got {memory_budget!r}")
        rows_per_chunk = max(1, memory_budget // (CHUNKS_IN_MEMORY * row_bytes))
    if not isinstance(rows_per_chunk, (int, np.integer)) or isinstance(rows_per_chunk, bool) or rows_per_chunk < 1:
        raise ValueError(f"rows_per_chunk: expected a positive integer, got {rows_per_chunk!r}")
    return int(rows_per_chunk)


def _read_rows(path: str, offset: int, dtype: np.dtype, number_of_columns: int, start: int, stop: int) -> np.ndarray:
    """Rows start ... stop-1 of the .npy file, (stop - start, D), read from disk."""
    with open(path, "rb") as file:
        file.seek(offset + start * number_of_columns * dtype.itemsize)
        rows = np.fromfile(file, dtype=dtype, count=(stop - start) * number_of_columns)
    return rows.reshape(stop - start, number_of_columns)


def _dask_inputs(X, number_of_features: int):
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise TypeError(f"X: expected a real (floating or integer) array (N, D), got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (N, D), got shape {X.shape}")
    if math.isnan(X.shape[0]):
        raise ValueError("X: the number of rows is unknown (NaN chunk sizes); call X.compute_chunk_sizes() first")
    if X.shape[0] == 0:
        raise ValueError("X: the batch is empty (N = 0)")
    if X.shape[1] != number_of_features:
        raise ValueError(f"X: has {X.shape[1]} features (columns), but W (C, D) has D = {number_of_features}")
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def _dask_labels(y, X):
    import dask.array as da

    labels = y if losses.is_dask_array(y) else np.asarray(y)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"y: labels must be integers, got dtype {labels.dtype}")
    if labels.shape != (X.shape[0],):
        raise ValueError(f"y: expected labels of shape ({X.shape[0]},) to match X, got {labels.shape}")
    if not losses.is_dask_array(labels):
        return da.from_array(labels, chunks=(X.chunks[0],))
    return labels.rechunk((X.chunks[0],)) if labels.chunks != (X.chunks[0],) else labels
