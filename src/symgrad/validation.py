"""Argument checks shared by every layer: each returns the checked value or raises an error whose message starts
with the argument's name. NumPy only.

>>> real_number(0.5, "reg", low=0.0)
0.5
>>> count(0, "steps")
Traceback (most recent call last):
    ...
ValueError: steps: expected an integer >= 1, got 0
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np


def real_number(value, name: str, *, low: float = -math.inf, high: float = math.inf) -> float:
    """``value`` as a finite float in [low, high]; TypeError for a non-number (bools and strings included)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise ValueError(f"{name}: expected a finite number in [{low:g}, {high:g}], got {number!r}")
    return number


def positive_number(value, name: str) -> float:
    """``value`` as a finite float > 0."""
    number = real_number(value, name)
    if not number > 0:
        raise ValueError(f"{name}: expected a finite number > 0, got {number!r}")
    return number


def nonnegative_number(value, name: str) -> float:
    """``value`` as a finite float >= 0."""
    return real_number(value, name, low=0.0)


def count(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``; TypeError for a non-integer (bools and floats included)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Integral, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def random_generator(rng, name: str = "rng") -> np.random.Generator:
    """None (fresh entropy), a seed >= 0 or a ``numpy.random.Generator`` as a Generator."""
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    return np.random.default_rng(count(rng, name, minimum=0))


def is_dask_array(value) -> bool:
    """True for a ``dask.array.Array`` (checked without importing Dask)."""
    return type(value).__module__.split(".")[0] == "dask" and hasattr(value, "chunks")


def real_array(value, name: str) -> np.ndarray:
    """``value`` as a real NumPy array (floating, integer or bool; not complex, object or text)."""
    array = np.asarray(value)
    if np.iscomplexobj(array) or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name}: expected a real array, got dtype {array.dtype}")
    return array


def floating_array(value, name: str, ndim: int, axes: str) -> np.ndarray:
    """A non-empty floating array of ``ndim`` axes, described as ``axes`` (e.g. ``"(C, D)"``) in messages."""
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name}: expected a floating array {axes}, got dtype {array.dtype}")
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array {axes}, got shape {array.shape}")
    if 0 in array.shape:
        raise ValueError(f"{name}: expected a non-empty array {axes}, got shape {array.shape}")
    return array


def real_matrix(value, name: str) -> np.ndarray:
    """A 2-D real array as floating (integers become float64); a Dask array stays lazy."""
    array = value if is_dask_array(value) else np.asarray(value)
    if np.iscomplexobj(array) or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name}: expected a real numeric array, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array, got shape {array.shape}")
    return array if np.issubdtype(array.dtype, np.floating) else array.astype(np.float64)


def input_matrix(value, number_of_features: int, weights: str) -> np.ndarray:
    """X (N, D), real, N >= 1 and D equal to the weights' ``number_of_features`` (``weights`` names them)."""
    X = np.asarray(value)
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise TypeError(f"X: expected a real (floating or integer) array (N, D), got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (N, D), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("X: the batch is empty (N = 0)")
    if X.shape[1] != number_of_features:
        raise ValueError(f"X: has {X.shape[1]} features (columns), but {weights} has D = {number_of_features}")
    return X


def class_labels(value, number_of_examples: int, number_of_classes: int, name: str = "y") -> np.ndarray:
    """Labels (N,), integers in [0, C)."""
    labels = np.asarray(value)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name}: labels must be integers in [0, {number_of_classes}), got dtype {labels.dtype}")
    if labels.shape != (number_of_examples,):
        raise ValueError(f"{name}: expected labels of shape ({number_of_examples},), one per row of X, got {labels.shape}")
    if labels.min() < 0 or labels.max() >= number_of_classes:
        raise ValueError(
            f"{name}: labels must be in [0, {number_of_classes}), got values from {labels.min()} to {labels.max()}"
        )
    return labels


def real_targets(value, number_of_examples: int, name: str = "t", low: float = -math.inf,
                 high: float = math.inf) -> np.ndarray:
    """Regression targets (N,), real, finite and in [low, high]."""
    targets = np.asarray(value)
    if targets.dtype == bool or not (np.issubdtype(targets.dtype, np.floating) or np.issubdtype(targets.dtype, np.integer)):
        raise TypeError(f"{name}: expected real targets, got dtype {targets.dtype}")
    if targets.shape != (number_of_examples,):
        raise ValueError(f"{name}: expected targets of shape ({number_of_examples},), one per row of X, got {targets.shape}")
    if not np.all(np.isfinite(targets)):
        raise ValueError(f"{name}: targets must be finite (found NaN or inf)")
    if targets.size and (targets.min() < low or targets.max() > high):
        raise ValueError(f"{name}: targets must lie in [{low:g}, {high:g}], got values from {targets.min()} to {targets.max()}")
    return targets


def require_finite(array, name: str) -> None:
    """Raise ValueError naming ``name`` and the first index where ``array`` holds NaN or inf."""
    array = np.asarray(array)
    if not np.all(np.isfinite(array)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name}: must be finite, found {array[index]} at index {index}")


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def optional_module(name: str, extra: str, needed_by: str):
    """``importlib.import_module(name)``, or :class:`MissingExtraError` naming ``needed_by`` and the extra to install.

    >>> optional_module("no_such_package", "plot", "plot_slice_1d")
    Traceback (most recent call last):
        ...
    symgrad.validation.MissingExtraError: plot_slice_1d: needs the 'plot' extra (no_such_package is not installed): pip install 'symgrad[plot]'
    """
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as error:
        missing = (error.name or name).split(".")[0]
        raise MissingExtraError(
            f"{needed_by}: needs the '{extra}' extra ({missing} is not installed): pip install 'symgrad[{extra}]'"
        ) from error
