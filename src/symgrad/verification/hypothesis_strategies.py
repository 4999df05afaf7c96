"""Hypothesis strategies for property-testing gradients, at ordinary points and exactly at kinks.

Needs Hypothesis (the ``test`` extra). Values are small and exact where it matters: the kink strategies
use small integers, so that a zero margin or a tied score is exactly zero in float32 as in float64.

>>> from hypothesis import given
>>> @given(classifier_problems(margin=1e-3))
... def test_my_svm_gradient(problem):
...     W, X, y, delta = problem          # W (C, D), X (N, D), y (N,), every |margin| >= 1e-3
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from symgrad.symbolic.kinks import distance_to_kinks

FLOATING_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
KINK_KINDS = ("zero margin", "tied scores", "zero weights")


class ClassifierProblem(NamedTuple):
    """A linear classifier's data as the lecture writes it.

    Attributes:
        W: weights (C, D).
        X: examples as rows (N, D), last feature 1 (the bias trick).
        y: labels (N,), integers in [0, C).
        delta: the hinge's margin Delta.
    """

    W: np.ndarray
    X: np.ndarray
    y: np.ndarray
    delta: float


def floating_dtypes() -> st.SearchStrategy[np.dtype]:
    """float32 or float64."""
    return st.sampled_from(FLOATING_DTYPES)


def finite_arrays(shape, dtype=np.float64, bound: float = 4.0) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``shape`` with entries in [-bound, bound], exactly representable in ``dtype``."""
    dtype = np.dtype(dtype)
    elements = st.floats(-bound, bound, width=8 * dtype.itemsize, allow_subnormal=False)
    return hnp.arrays(dtype, shape, elements=elements)


def integer_arrays(shape, dtype=np.float64, bound: int = 2) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``shape`` holding small integers in [-bound, bound] as ``dtype``: kinks at 0 get hit exactly."""
    return hnp.arrays(np.int64, shape, elements=st.integers(-bound, bound)).map(lambda a: a.astype(dtype))


def arrays_away_from_zero(shape, dtype=np.float64, margin: float = 1e-3, bound: float = 4.0):
    """Arrays of ``shape`` whose entries have magnitude in [margin, bound], either sign: away from |w|'s kink."""
    dtype = np.dtype(dtype)
    smallest = dtype.type(margin)
    if smallest < margin:
        smallest = np.nextafter(smallest, dtype.type(np.inf))
    magnitudes = st.floats(float(smallest), bound, width=8 * dtype.itemsize, allow_subnormal=False)
    signed = st.tuples(st.sampled_from((-1, 1)), magnitudes).map(lambda pair: pair[0] * pair[1])
    return hnp.arrays(dtype, shape, elements=signed)


def away_from_kinks(
    points: st.SearchStrategy, kink_arguments: Callable[..., np.ndarray], margin: float
) -> st.SearchStrategy:
    """Draws of ``points`` at which every kink argument is at least ``margin`` away from 0.

    ``kink_arguments(point)`` returns the quantities whose zeros are kinks (margins for a hinge, the weights
    for an L1 penalty, score differences for a max), as an array of any shape.
    """
    return points.filter(lambda point: bool(np.all(np.abs(kink_arguments(point)) >= margin)))


def hinge_margins(W: np.ndarray, X: np.ndarray, y: np.ndarray, delta: float) -> np.ndarray:
    """Margins m_ij = s_ij - s_{i, y_i} + delta for j != y_i, S = X W^T; (N, C - 1), in float64."""
    scores = X.astype(np.float64) @ W.astype(np.float64).T
    margins = scores - scores[np.arange(len(y)), y][:, None] + delta
    others = np.arange(W.shape[0])[None, :] != y[:, None]
    return margins[others].reshape(len(y), W.shape[0] - 1)


@st.composite
def classifier_problems(
    draw,
    dtype=None,
    max_examples: int = 5,
    max_features: int = 4,
    max_classes: int = 4,
    margin: float | None = None,
) -> ClassifierProblem:
    """Small linear-classifier problems with drawn N, D (>= 2, bias column of ones) and C (>= 2).

    Args:
        dtype: of W and X; default drawn from float32 and float64.
        max_examples, max_features, max_classes: upper bounds of N, D, C.
        margin: if given, every hinge margin and every weight is at least this far from 0, so that neither
            the hinge nor an L1 penalty has a kink within ``margin``.
    """
    dtype = np.dtype(draw(floating_dtypes()) if dtype is None else dtype)
    examples = draw(st.integers(1, max_examples))
    features = draw(st.integers(2, max_features))
    classes = draw(st.integers(2, max_classes))
    if margin is None:
        W = draw(finite_arrays((classes, features), dtype, bound=2.0))
    else:
        W = draw(arrays_away_from_zero((classes, features), dtype, margin, bound=2.0))
    X = draw(finite_arrays((examples, features), dtype, bound=2.0))
    X[:, -1] = 1
    y = draw(hnp.arrays(np.int64, examples, elements=st.integers(0, classes - 1)))
    delta = 1.0
    if margin is not None:
        assume(np.all(np.abs(hinge_margins(W, X, y, delta)) >= margin))
    return ClassifierProblem(W, X, y, delta)


@st.composite
def classifier_problems_at_kinks(
    draw, dtype=None, max_examples: int = 5, max_features: int = 4, max_classes: int = 4, kinds=KINK_KINDS
) -> ClassifierProblem:
    """Small linear-classifier problems sitting exactly on kinks of the hinge and of an L1 penalty.

    One of ``kinds``, with small integer W and X so that every margin is computed exactly:

    - ``"zero margin"``: delta = 1 and the bias weight of one class j != y_i set so that m_ij = 0;
    - ``"tied scores"``: delta = 0 and the rows W_j, W_{y_i} equal, so s_ij = s_{i, y_i} and m_ij = 0;
    - ``"zero weights"``: W = 0 and delta = 0: every score tied, every margin 0, every weight at |w|'s kink.

    Every problem has at least one zero margin and at least one zero weight.
    """
    dtype = np.dtype(draw(floating_dtypes()) if dtype is None else dtype)
    examples = draw(st.integers(1, max_examples))
    features = draw(st.integers(2, max_features))
    classes = draw(st.integers(2, max_classes))
    kind = draw(st.sampled_from(kinds))
    W = draw(integer_arrays((classes, features), np.float64))
    X = draw(integer_arrays((examples, features), np.float64))
    X[:, -1] = 1
    y = draw(hnp.arrays(np.int64, examples, elements=st.integers(0, classes - 1)))
    example = draw(st.integers(0, examples - 1))
    other = draw(st.sampled_from([c for c in range(classes) if c != y[example]]))
    W[other, 0] = 0
    if kind == "zero margin":
        delta = 1.0
        W[other, -1] = 0
        W[other, -1] = W[y[example]] @ X[example] - W[other] @ X[example] - delta
    elif kind == "tied scores":
        delta = 0.0
        W[other] = W[y[example]]
        W[other, 0] = W[y[example], 0] = 0
    else:
        delta = 0.0
        W[:] = 0
    return ClassifierProblem(W.astype(dtype), X.astype(dtype), y, delta)


@st.composite
def derivation_parameters(draw, derivation, bound: float = 2.0) -> dict:
    """Values for a derivation's parameters: its ``defaults`` where given, else floats in [-bound, bound]."""
    values = {}
    for symbol in derivation.parameters:
        if symbol.name in derivation.defaults:
            values[symbol.name] = float(derivation.defaults[symbol.name])
        else:
            values[symbol.name] = draw(st.floats(-bound, bound, allow_subnormal=False))
    return values


@st.composite
def derivation_points(draw, derivation, dtype=np.float64, margin: float = 1e-3, bound: float = 2.0):
    """A point x of shape ``derivation.shape`` and parameter values, x at least ``margin`` from every kink.

    The kinks are read off the objective (:attr:`symgrad.Derivation.kink_arguments`).
    Returns ``(x, parameters)``.
    """
    parameters = draw(derivation_parameters(derivation, bound))
    x = draw(finite_arrays(derivation.shape, dtype, bound))
    assume(distance_to_kinks(derivation, x, parameters) >= margin)
    return x, parameters
