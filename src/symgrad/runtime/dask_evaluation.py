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
>>> loss, dW = symgrad.svm_loss_and_grad(np.zeros((3, 4)), X, y)    # evaluated here for a Dask X
>>> loss, dW.shape
(2.0, (3, 4))
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from symgrad import validation
from symgrad.runtime.generated import linear_layer

CHUNKS_IN_MEMORY = 16
"""A memory budget is divided into this many chunks, leaving room for the chunks the scheduler's threads hold
at once and their per-chunk temporaries. Measured (tests/test_dask_backend.py, 94 MiB float32 file, 3
full-batch steps and 80 mini-batch steps on 2 threads): peak RSS grew by 18.9 / 31.9 / 56.8 MiB at budgets of
32 / 64 / 128 MiB; about 12 MiB of it does not scale with the budget, so budgets below ~24 MiB are not met."""


def loss_and_grad_on_dask(loss, weights, X, y, reg: float, values: tuple) -> tuple[float, np.ndarray]:
    """A compiled loss on a Dask X: one ``dask.compute`` of the loss, the gradient and the input checks.

    Args:
        loss: a :class:`symgrad.runtime.losses.CompiledLoss`.
        weights: NumPy weights (C, D), checked (a regression loss's w as one row).
        X: Dask array (N, D), real, chunked over rows (any chunking of the columns is merged).
        y: labels (N,) in [0, C), or real targets (N,), a Dask or NumPy array.
        reg: L2 strength >= 0. values: the loss's parameters in generated order.

    Returns:
        (loss: float, gradient: NumPy array (C, D) in the computing dtype).
    """
    import dask
    import dask.array as da

    number_of_classes, number_of_features = weights.shape
    X = _dask_inputs(X, number_of_features)
    dtype = np.result_type(weights.dtype, X.dtype)
    X = X if np.issubdtype(X.dtype, np.floating) else X.astype(dtype)
    targets = _dask_targets(loss, y, X, number_of_classes, dtype)
    W = weights.astype(dtype, copy=False)
    S = linear_layer().scores(W, X)[0].T
    value, gradient = loss.batch_objective_and_gradient(S, targets, X, W, reg, values)
    checks = [da.isfinite(S).all()]
    if loss.kind == "classifier":
        checks += [y.min(), y.max()] if validation.is_dask_array(y) else []
    value, gradient, finite, *label_range = dask.compute(value, gradient, *checks)
    if label_range and (label_range[0] < 0 or label_range[1] >= number_of_classes):
        raise ValueError(
            f"y: labels must be in [0, {number_of_classes}), got values from {label_range[0]} to {label_range[1]}"
        )
    if not finite:
        validation.require_finite(weights, loss.weights_name)
        raise ValueError(f"X: inputs must be finite (found NaN or inf), or the scores X @ {loss.weights_name}.T overflow")
    gradient = np.asarray(gradient)
    if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
        raise ValueError(f"{loss.name}: the loss or its gradient overflows (value {float(value)}); rescale X or "
                         f"{loss.weights_name}")
    return float(value), gradient


def read_npy_in_chunks(
    path: str | os.PathLike[str], *, rows_per_chunk: int | None = None, memory_budget: int | None = None
) -> Any:
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
    try:
        import dask
        import dask.array as da
    except ImportError as error:
        raise ImportError("read_npy_in_chunks needs Dask: pip install 'symgrad[dask]'") from error

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


def _dask_targets(loss, y, X, number_of_classes: int, dtype):
    """T (C, N) as a Dask array chunked like X's rows: one-hot labels, or a regression loss's targets as a row."""
    import dask.array as da

    values = y if validation.is_dask_array(y) else np.asarray(y)
    if loss.kind == "classifier":
        if values.dtype == bool or not np.issubdtype(values.dtype, np.integer):
            raise TypeError(f"y: labels must be integers, got dtype {values.dtype}")
    elif values.dtype == bool or not np.issubdtype(values.dtype, np.number) or np.iscomplexobj(values):
        raise TypeError(f"t: expected real targets, got dtype {values.dtype}")
    name = loss.targets_name
    if values.shape != (X.shape[0],):
        raise ValueError(f"{name}: expected shape ({X.shape[0]},), one per row of X, got {values.shape}")
    if not validation.is_dask_array(values):
        if loss.kind == "classifier":
            validation.class_labels(values, X.shape[0], number_of_classes)
        else:
            validation.real_targets(values, X.shape[0], "t", *loss.target_bounds)
        values = da.from_array(values, chunks=(X.chunks[0],))
    elif values.chunks != (X.chunks[0],):
        values = values.rechunk((X.chunks[0],))
    return loss.targets(values, number_of_classes, dtype)
