"""The compiled losses on Dask arrays: data chunked over examples, larger than memory or spread over a cluster.

A loss-and-gradient call is one map over the chunks of X (N, D) and one tree reduction, whatever the scheduler
(threads by default, a ``dask.distributed`` cluster when a ``Client`` exists):

    map, per chunk b (rows X_b, labels y_b), on the worker that holds X_b, in blocks of its rows
    (symgrad.runtime.blocks.mean_data_term, so that the chunk is read from memory once):
        S_b = X_b W^T                                  linear_layer().scores
        L_i, dL_i/ds on S_b and the one-hot T_b         the loss's generated loss_and_score_gradient
        sum_i L_i / N  and  G_b X_b / N                 summed, then scaled by 1/N as the generated
                                                        linear_layer().data_objective_and_gradient, N = all rows
    reduce: the partial sums added, REDUCTION_FAN_IN at a time (depth ceil(log_8(chunks)))
    then on the client: + lambda sum(W^2), 2 lambda W  linear_layer().l2_penalty_and_gradient

so the code that runs is the generated code, a chunk at a time, and only W (C, D) goes to the workers and only
partial sums (C, D) come back: X is never gathered. With X persisted in the workers' memory
(``X = X.persist()``) a call reads nothing from storage; with X read from a file
(:func:`read_npy_in_chunks`) each call reads each chunk once. The input checks ride along: each chunk reports
whether its scores are finite, its largest score and its label range, and the errors name the cause in the
NumPy path's words.

:func:`read_npy_in_chunks` opens a ``.npy`` file on disk as such an array without loading it: each chunk is
read from the file when a task needs it, so memory holds a few chunks, whatever N is.

>>> import numpy as np, dask.array as da, symgrad
>>> X = da.ones((1000, 4), chunks=(250, 4)); y = da.zeros(1000, dtype=int, chunks=250)
>>> loss, dW = symgrad.svm_loss_and_grad(np.zeros((3, 4)), X, y)    # evaluated here for a Dask X
>>> loss, dW.shape
(2.0, (3, 4))
"""

from __future__ import annotations

import contextlib
import math
import os
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad import validation
from symgrad.runtime.blocks import mean_data_term
from symgrad.runtime.generated import linear_layer

CHUNKS_IN_MEMORY = 16
"""A memory budget is divided into this many chunks, leaving room for the chunks the scheduler's threads hold
at once and their per-chunk temporaries. Measured (tests/test_dask_backend.py, 94 MiB float32 file, 3
full-batch steps and 80 mini-batch steps on 2 threads): peak RSS grew by 20.7 / 26.0 / 40.5 MiB at budgets of
32 / 64 / 128 MiB; about 14 MiB of it does not scale with the budget, so budgets below ~20 MiB are not met."""

REDUCTION_FAN_IN = 8
"""Partial sums added by one task of the tree reduction."""


@dataclass(frozen=True)
class PartialSums:
    """What the chunks of X contribute to a loss call, and what they saw.

    Attributes:
        value: sum over their examples of L_i / N (0-d, computing dtype).
        gradient: sum over their examples of G_i x_i / N, (C, D).
        scores_finite: every score X_b W^T is finite.
        largest_score: max |s| over their finite scores (for the error message).
        targets_low, targets_high: smallest and largest label (classifier) or target (regression).
        targets_finite: every target is finite (regression; labels are integers).
    """

    value: np.ndarray
    gradient: np.ndarray
    scores_finite: bool
    largest_score: float
    targets_low: float
    targets_high: float
    targets_finite: bool

    @staticmethod
    def added(*parts: PartialSums) -> PartialSums:
        """The partial sums of the union of the parts' chunks (one node of the tree reduction)."""
        return PartialSums(
            sum((part.value for part in parts[1:]), start=parts[0].value),
            sum((part.gradient for part in parts[1:]), start=parts[0].gradient),
            all(part.scores_finite for part in parts),
            max(part.largest_score for part in parts),
            min(part.targets_low for part in parts),
            max(part.targets_high for part in parts),
            all(part.targets_finite for part in parts),
        )


@dataclass(frozen=True)
class ChunkEvaluation:
    """What every chunk's task needs besides its rows: the loss (a :class:`symgrad.runtime.losses.CompiledLoss`),
    W (C, D) in the computing dtype, the loss's parameters in generated order and N, the number of examples of the
    whole call."""

    loss: object
    W: np.ndarray
    values: tuple
    number_of_examples: int

    def __call__(self, X, targets) -> PartialSums:
        """The partial sums of one chunk: X (R, D) and its labels or targets (R,), NumPy arrays."""
        W, dtype = self.W, self.W.dtype
        X = X if np.issubdtype(X.dtype, np.floating) else X.astype(dtype)
        targets = np.asarray(targets)
        scores_finite, largest = True, 0.0

        def record(S: np.ndarray) -> None:  # what the chunk's scores were, for the client's error message
            nonlocal scores_finite, largest
            finite = np.isfinite(S)
            scores_finite = scores_finite and bool(finite.all())
            largest = max(largest, float(np.abs(S[finite]).max(initial=0.0)))

        with np.errstate(over="ignore", invalid="ignore"):
            T = self.loss.targets(targets, W.shape[0], dtype)
            value, gradient = mean_data_term(self.loss.module.loss_and_score_gradient, W, X, lambda rows: T[:, rows],
                                             tuple(dtype.type(v) for v in self.values), np.empty(W.shape, dtype),
                                             record, self.number_of_examples)
        targets_finite = bool(np.all(np.isfinite(targets))) if self.loss.kind == "regression" else True
        return PartialSums(value, gradient, scores_finite, largest, *_value_range(targets), targets_finite)


def _chunk_sums(evaluation: ChunkEvaluation, X, targets) -> PartialSums:
    """The map task: ``evaluation`` on one chunk's rows and labels or targets."""
    return evaluation(X, targets)


def loss_and_grad_on_dask(loss, weights, X, y, reg: float, values: tuple) -> tuple[float, np.ndarray]:
    """A compiled loss on a Dask X: one map over its row chunks, one tree reduction, one ``dask.compute``.

    Args:
        loss: a :class:`symgrad.runtime.losses.CompiledLoss`.
        weights: NumPy weights (C, D), checked (a regression loss's w as one row).
        X: Dask array (N, D), real, chunked over rows (any chunking of the columns is merged).
        y: labels (N,) in [0, C), or real targets (N,), a Dask or NumPy array (a Dask one is rechunked like X's
            rows; persist it beside X so that a call ships no labels).
        reg: L2 strength >= 0. values: the loss's parameters in generated order.

    Returns:
        (loss: float, gradient: NumPy array (C, D) in the computing dtype).
    """
    import dask
    import dask.array as da

    number_of_classes, number_of_features = weights.shape
    X = _dask_inputs(X, number_of_features)
    dtype = np.result_type(weights.dtype, X.dtype)
    W = weights.astype(dtype, copy=False)
    # One graph node holds W and the loss: each worker receives it once, whatever the number of chunks.
    evaluation = dask.delayed(ChunkEvaluation(loss, W, values, X.shape[0]), traverse=False,
                              name=f"symgrad-chunk-evaluation-{uuid.uuid4().hex}")
    chunks, targets = X.to_delayed().ravel(), _target_chunks(loss, y, X)
    parts = [dask.delayed(_chunk_sums)(evaluation, rows, labels) for rows, labels in zip(chunks, targets, strict=True)]
    while len(parts) > 1:
        parts = [dask.delayed(PartialSums.added)(*parts[start : start + REDUCTION_FAN_IN])
                 for start in range(0, len(parts), REDUCTION_FAN_IN)]
    with _one_blas_thread_per_task(X):
        (total,) = dask.compute(parts[0])
    if loss.kind == "classifier" and (total.targets_low < 0 or total.targets_high >= number_of_classes):
        raise ValueError(f"y: labels must be in [0, {number_of_classes}), got values from {int(total.targets_low)} "
                         f"to {int(total.targets_high)}")
    if not total.targets_finite:
        raise ValueError(f"{loss.targets_name}: targets must be finite (found NaN or inf)")
    low, high = loss.target_bounds
    if loss.kind == "regression" and (total.targets_low < low or total.targets_high > high):
        raise ValueError(f"{loss.targets_name}: targets must lie in [{low:g}, {high:g}], got values from "
                         f"{total.targets_low} to {total.targets_high}")
    name = loss.weights_name
    if not total.scores_finite:
        validation.require_finite(weights, name)
        if not bool(da.isfinite(X).all().compute()):  # a pass over X, only on this error path
            raise ValueError("X: inputs must be finite (found NaN or inf)")
        raise ValueError(f"X: the scores X @ {name}.T overflow to inf; rescale X or {name}")
    value, gradient, penalty = total.value, total.gradient, 0.0
    if reg > 0:
        penalty, penalty_gradient = linear_layer().l2_penalty_and_gradient(W, dtype.type(reg))
        value, gradient = value + penalty, gradient + penalty_gradient
    value = float(value)
    if not (math.isfinite(value) and np.all(np.isfinite(gradient))):
        if not np.isfinite(penalty):
            raise ValueError(f"{name}: reg * sum({name}**2) overflows; rescale {name} or lower reg")
        raise ValueError(f"{loss.name}: the loss or its gradient overflows (value {value}) at scores up to "
                         f"|s| = {total.largest_score:.3g}; rescale X or {name}")
    return value, gradient


def on_a_cluster(collection) -> bool:
    """True when ``collection`` would be computed by a ``dask.distributed`` cluster (a ``Client`` is active)."""
    import dask

    try:
        from distributed import Client
    except ImportError:
        return False
    return isinstance(getattr(dask.base.get_scheduler(collections=[collection]), "__self__", None), Client)


def _one_blas_thread_per_task(collection):
    """On Dask's local threaded scheduler, BLAS limited to one thread for the duration of the compute.

    The scheduler runs a task per core; a multi-threaded BLAS in each would put cores x cores threads on the
    cores (measured: a full-batch step on a 1 GiB file 10x slower on a loaded 2-core machine). Worker processes of
    a ``dask.distributed`` cluster already start with one BLAS thread. Needs threadpoolctl (extra ``dask``);
    without it, nothing is changed. The limit is process-wide while it lasts, as BLAS's setting is.
    """
    import dask
    import dask.threaded

    if dask.base.get_scheduler(collections=[collection]) is not dask.threaded.get:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


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

    Raises:
        MissingExtraError: Dask is not installed (the ``dask`` extra).
    """
    dask = validation.optional_module("dask", "dask", "read_npy_in_chunks")
    da = validation.optional_module("dask.array", "dask", "read_npy_in_chunks")

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
    expected, held = shape[0] * shape[1] * dtype.itemsize, os.path.getsize(path) - offset
    if held < expected:
        raise ValueError(f"path: {path} is truncated: its header announces {shape[0]} x {shape[1]} {dtype} "
                         f"({expected} bytes of data), the file holds {held}")
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
    if rows.size != (stop - start) * number_of_columns:
        raise ValueError(f"path: {path} was truncated after it was opened: rows {start} ... {stop - 1} are short")
    return rows.reshape(stop - start, number_of_columns)


def _value_range(targets: np.ndarray) -> tuple[float, float]:
    """(smallest, largest) finite value of a chunk's labels or targets; (inf, -inf) when there is none."""
    finite = targets[np.isfinite(targets)] if np.issubdtype(targets.dtype, np.floating) else targets
    return (float(finite.min()), float(finite.max())) if finite.size else (math.inf, -math.inf)


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


def _target_chunks(loss, y, X) -> list:
    """The labels or targets (N,) cut like X's rows (NumPy slices or Dask blocks), their dtype and shape checked
    here; their values are checked by their chunks' tasks (label range, finite targets)."""
    values = y if validation.is_dask_array(y) else np.asarray(y)
    if loss.kind == "classifier":
        if values.dtype == bool or not np.issubdtype(values.dtype, np.integer):
            raise TypeError(f"y: labels must be integers, got dtype {values.dtype}")
    elif values.dtype == bool or not np.issubdtype(values.dtype, np.number) or np.iscomplexobj(values):
        raise TypeError(f"t: expected real targets, got dtype {values.dtype}")
    if values.shape != (X.shape[0],):
        raise ValueError(f"{loss.targets_name}: expected shape ({X.shape[0]},), one per row of X, got {values.shape}")
    if validation.is_dask_array(values):
        return list((values if values.chunks == (X.chunks[0],) else values.rechunk((X.chunks[0],))).to_delayed())
    bounds = np.cumsum((0,) + X.chunks[0])
    return [values[start:stop] for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]
