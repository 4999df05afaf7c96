"""Hypothesis strategies for property-testing gradients, at ordinary points and exactly at kinks.

Needs Hypothesis: ``pip install 'symgrad[check]'`` (the ``check`` extra installs nothing else). Values are small and exact where it matters: the kink strategies
use small integers, so that a zero margin or a tied score is exactly zero in float32 as in float64.

>>> from hypothesis import given
>>> @given(classifier_problems(margin=1e-3))
... def test_my_svm_gradient(problem):
...     W, X, y, delta = problem          # W (C, D), X (N, D), y (N,), every |margin| >= 1e-3
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

try:
    from hypothesis import assume
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as error:
    raise ImportError(
        "symgrad.verification.hypothesis_strategies needs Hypothesis: pip install 'symgrad[check]'"
    ) from error

from symgrad.codegen.compile import compile_derivation

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
    """A point x of shape ``derivation.shape`` and parameter values, x at least ``margin`` from every kink, where
    no entry of the value or gradient underflows in ``dtype`` (:meth:`CompiledDerivation.underflows`:
    a parameter of 1e-45 makes the lecture polynomial's directional derivative 0 or subnormal in float32).

    The kinks are read off the objective (:attr:`symgrad.Derivation.kink_arguments`).
    Returns ``(x, parameters)``.
    """
    parameters = draw(derivation_parameters(derivation, bound))
    x = draw(finite_arrays(derivation.shape, dtype, bound))
    compiled = compile_derivation(derivation)
    assume(compiled.kink_distance(x, **parameters) >= margin)
    assume(not compiled.underflows(x, dtype, **parameters))
    return x, parameters


class LinearModelProblem(NamedTuple):
    """Data for a compiled loss: ``loss(weights, X, targets, **parameters)``.

    Attributes:
        weights: W (C, D) for a classifier, w (D,) for a regression loss.
        X: examples as rows (N, D), last feature 1 (the bias trick).
        targets: labels y (N,) in [0, C), or real targets t (N,).
        parameters: the loss's keyword parameters.
    """

    weights: np.ndarray
    X: np.ndarray
    targets: np.ndarray
    parameters: dict


def _compiled(loss):
    from symgrad.runtime.catalog import compiled_loss

    return compiled_loss(loss) if isinstance(loss, str) else loss


def loss_parameters(loss, integers: bool = False) -> st.SearchStrategy[dict]:
    """Values of a compiled loss's parameters: the kink parameter from {0, 1/2, 1}; the others within their range
    and within 2 of their default (half-integers with ``integers``, so that kinks stay exact)."""
    return _loss_parameters(_compiled(loss), integers)


@st.composite
def _loss_parameters(draw, loss, integers: bool) -> dict:
    values = {}
    for parameter in loss.parameters:
        if parameter.name == loss.kink_parameter:
            values[parameter.name] = draw(st.sampled_from((0.0, 0.5, 1.0)))
            continue
        low = max(parameter.low, parameter.default - 2.0)
        high = min(parameter.high, parameter.default + 2.0)
        if integers:
            halves = [h / 2 for h in range(int(np.ceil(2 * low)), int(np.floor(2 * high)) + 1)]
            values[parameter.name] = draw(st.sampled_from(halves or [parameter.default]))
        else:
            values[parameter.name] = draw(st.floats(low, high, allow_nan=False, allow_subnormal=False))
    return values


def kink_distances(loss, weights, X, targets, parameters) -> np.ndarray:
    """Per example, how far (in float64) the scores are from the loss's nearest kink: (N,), inf when smooth."""
    loss = _compiled(loss)
    W = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    S = (X.astype(np.float64) @ W.T).T
    T = loss.targets(np.asarray(targets), W.shape[0], np.float64)
    return loss.kink_distance(S, T, loss.parameter_values(parameters))


def linear_model_problems(
    loss, dtype=None, max_examples: int = 5, max_features: int = 4, max_classes: int = 4,
    margin: float | None = None,
) -> st.SearchStrategy[LinearModelProblem]:
    """Small problems for a compiled loss (its name or :class:`~symgrad.runtime.losses.CompiledLoss`), with N, D
    (>= 2, bias column of ones) and, for a classifier, C >= 2 drawn. An unknown name is refused at once
    (``ValueError`` starting ``loss:``, as everywhere a loss is named), not when the first example is drawn.

    Args:
        dtype: of the weights and X; default drawn from float32 and float64.
        margin: if given, every example is at least this far from the loss's kinks (read off its generated
            ``kink_arguments``).
    """
    return _linear_model_problems(_compiled(loss), dtype, max_examples, max_features, max_classes, margin)


@st.composite
def _linear_model_problems(draw, loss, dtype, max_examples: int, max_features: int, max_classes: int,
                           margin: float | None) -> LinearModelProblem:
    dtype = np.dtype(draw(floating_dtypes()) if dtype is None else dtype)
    examples = draw(st.integers(1, max_examples))
    features = draw(st.integers(2, max_features))
    classes = draw(st.integers(2, max_classes)) if loss.kind == "classifier" else 1
    W = draw(finite_arrays((classes, features), dtype, bound=2.0))
    X = draw(finite_arrays((examples, features), dtype, bound=2.0))
    X[:, -1] = 1
    if loss.kind == "classifier":
        targets = draw(hnp.arrays(np.int64, examples, elements=st.integers(0, classes - 1)))
    else:
        low, high = max(loss.target_bounds[0], -2.0), min(loss.target_bounds[1], 2.0)
        targets = draw(hnp.arrays(np.float64, examples, elements=st.floats(low, high, allow_subnormal=False)))
    parameters = draw(loss_parameters(loss))
    if margin is not None:
        assume(np.all(kink_distances(loss, W, X, targets, parameters) >= margin))
    return LinearModelProblem(W if loss.kind == "classifier" else W[0], X, targets, parameters)


def linear_model_problems_at_kinks(
    loss, dtype=None, max_examples: int = 5, max_features: int = 4, max_classes: int = 4
) -> st.SearchStrategy[LinearModelProblem]:
    """Small problems sitting exactly on a kink of a compiled loss (one of its kink arguments is exactly 0 at a
    nonzero weight), with small integer weights, data and targets so that the kink is exact in float32 too.
    The loss is named or given as in :func:`linear_model_problems`.

    The kink is placed by solving for one bias weight (a classifier) or one target (a regression loss): the kink
    argument is evaluated at two values of it and the root of the line through them taken, then checked to be an
    exact zero. Problems where that fails (a loss without kinks, a nonlinear argument) are rejected.
    """
    return _linear_model_problems_at_kinks(_compiled(loss), dtype, max_examples, max_features, max_classes)


@st.composite
def _linear_model_problems_at_kinks(draw, loss, dtype, max_examples: int, max_features: int,
                                    max_classes: int) -> LinearModelProblem:
    assume(not loss.is_smooth)
    dtype = np.dtype(draw(floating_dtypes()) if dtype is None else dtype)
    examples = draw(st.integers(1, max_examples))
    features = draw(st.integers(2, max_features))
    classes = draw(st.integers(2, max_classes)) if loss.kind == "classifier" else 1
    W = draw(integer_arrays((classes, features), np.float64))
    X = draw(integer_arrays((examples, features), np.float64))
    X[:, -1] = 1
    if loss.kind == "classifier":
        targets = draw(hnp.arrays(np.int64, examples, elements=st.integers(0, classes - 1)))
    else:
        low, high = (int(np.clip(bound, -2, 2)) for bound in loss.target_bounds)
        targets = draw(hnp.arrays(np.int64, examples, elements=st.integers(low, high))).astype(np.float64)
    parameters = draw(loss_parameters(loss, integers=True))
    example = draw(st.integers(0, examples - 1))
    movable = list(range(classes)) if loss.kind == "classifier" else [None]
    for moved in draw(st.permutations(movable)):
        placed = _place_on_kink(loss, W, X, targets, parameters, example, moved)
        if placed is not None:
            W, targets = placed
            return LinearModelProblem((W if loss.kind == "classifier" else W[0]).astype(dtype), X.astype(dtype),
                                      targets, parameters)
    assume(False)


def _place_on_kink(loss, W, X, targets, parameters, example, moved_class):
    """(W, targets) with one kink argument of ``example`` exactly 0, moving the bias of ``moved_class`` (or the
    example's target for a regression loss); None when no argument moves linearly to an exact zero."""
    values = loss.parameter_values(parameters)

    def arguments(W_try, targets_try):
        S = (X[example : example + 1] @ W_try.T).T
        T = loss.targets(np.asarray(targets_try)[example : example + 1], W_try.shape[0], np.float64)
        found = loss.module.kink_arguments(S, T, *values)
        return [(np.broadcast_to(a, S.shape), np.broadcast_to(w, S.shape)) for a, w in zip(found[::2], found[1::2], strict=True)]

    def moved(position: float):
        W_try, targets_try = W.copy(), np.array(targets, dtype=np.float64 if loss.kind == "regression" else targets.dtype)
        if moved_class is None:
            targets_try[example] = position
        else:
            W_try[moved_class, -1] = position
        return W_try, targets_try

    start = float(targets[example]) if moved_class is None else float(W[moved_class, -1])
    at_start, at_next = arguments(*moved(start)), arguments(*moved(start + 1))
    for (argument, weight), (argument_next, _) in zip(at_start, at_next, strict=True):
        for row in range(argument.shape[0]):
            slope = argument_next[row, 0] - argument[row, 0]
            if weight[row, 0] == 0 or slope == 0 or not np.isfinite(slope):
                continue
            position = start - argument[row, 0] / slope
            if position != round(2 * position) / 2 or abs(position) > 8:
                continue
            if moved_class is None and not loss.target_bounds[0] <= position <= loss.target_bounds[1]:
                continue
            W_new, targets_new = moved(position)
            if any(a[r, 0] == 0 and w[r, 0] != 0 for a, w in arguments(W_new, targets_new) for r in range(a.shape[0])):
                return W_new, (targets_new if loss.kind == "regression" else targets)
    return None


class TwoLayerProblem(NamedTuple):
    """A two-layer ReLU network's data: s = W2 relu(W1 x + b1) + b2 under a classifier loss.

    Attributes:
        params: {"W1": (H, D), "b1": (H,), "W2": (C, H), "b2": (C,)}.
        X: examples as rows (N, D).
        y: labels (N,), integers in [0, C).
        loss: the classifier loss's name.
        parameters: the loss's keyword parameters.
        relu_kink_value: relu'(0), drawn from {0, 1/2, 1}.
    """

    params: dict
    X: np.ndarray
    y: np.ndarray
    loss: str
    parameters: dict
    relu_kink_value: float


def two_layer_pre_activations(params: dict, X: np.ndarray) -> np.ndarray:
    """Z = W1 X^T + b1, (H, N), in float64."""
    return params["W1"].astype(np.float64) @ X.astype(np.float64).T + params["b1"].astype(np.float64)[:, None]


def two_layer_scores(params: dict, X: np.ndarray) -> np.ndarray:
    """S = W2 relu(Z) + b2, (C, N), in float64."""
    hidden = np.maximum(two_layer_pre_activations(params, X), 0)
    return params["W2"].astype(np.float64) @ hidden + params["b2"].astype(np.float64)[:, None]


def _classifier_names() -> tuple[str, ...]:
    from symgrad.runtime.catalog import loss_names

    return loss_names("classifier")


def two_layer_problems(loss=None, dtype=None, margin: float = 1e-3, max_examples: int = 5, max_features: int = 4,
                       max_hidden: int = 4, max_classes: int = 4) -> st.SearchStrategy[TwoLayerProblem]:
    """Small two-layer problems at smooth points: every hidden pre-activation and every kink argument of the loss
    at least ``margin`` from 0 (in float64), N, D, H >= 1 and C >= 2 drawn.

    Args:
        loss: a classifier loss's name; default drawn from ``loss_names("classifier")``.
        dtype: of the parameters and X; default drawn from float32 and float64.
    """
    return _two_layer_problems(loss, dtype, margin, max_examples, max_features, max_hidden, max_classes)


@st.composite
def _two_layer_problems(draw, loss, dtype, margin, max_examples, max_features, max_hidden, max_classes):
    name = draw(st.sampled_from(_classifier_names())) if loss is None else loss
    compiled = _compiled(name)
    dtype = np.dtype(draw(floating_dtypes()) if dtype is None else dtype)
    examples, features = draw(st.integers(1, max_examples)), draw(st.integers(1, max_features))
    hidden, classes = draw(st.integers(1, max_hidden)), draw(st.integers(2, max_classes))
    params = {"W1": draw(finite_arrays((hidden, features), dtype, bound=2.0)),
              "b1": draw(finite_arrays((hidden,), dtype, bound=1.0)),
              "W2": draw(finite_arrays((classes, hidden), dtype, bound=2.0)),
              "b2": draw(finite_arrays((classes,), dtype, bound=1.0))}
    X = draw(finite_arrays((examples, features), dtype, bound=2.0))
    y = draw(hnp.arrays(np.int64, examples, elements=st.integers(0, classes - 1)))
    parameters = draw(loss_parameters(compiled))
    assume(np.all(np.abs(two_layer_pre_activations(params, X)) >= margin))
    T = compiled.targets(y, classes, np.float64)
    assume(np.all(compiled.kink_distance(two_layer_scores(params, X), T, compiled.parameter_values(parameters))
                  >= margin))
    return TwoLayerProblem(params, X, y, name, parameters, draw(st.sampled_from((0.0, 0.5, 1.0))))


def two_layer_problems_at_kinks(loss=None, dtype=None, max_examples: int = 4, max_features: int = 3,
                                max_hidden: int = 4, max_classes: int = 4) -> st.SearchStrategy[TwoLayerProblem]:
    """Small-integer two-layer problems with at least one hidden pre-activation exactly 0 (exact in float32 too),
    placed by solving for one bias b1[k]; the loss's own kinks are left where the integers put them.

    Args as in :func:`two_layer_problems`.
    """
    return _two_layer_problems_at_kinks(loss, dtype, max_examples, max_features, max_hidden, max_classes)


@st.composite
def _two_layer_problems_at_kinks(draw, loss, dtype, max_examples, max_features, max_hidden, max_classes):
    name = draw(st.sampled_from(_classifier_names())) if loss is None else loss
    compiled = _compiled(name)
    dtype = np.dtype(draw(floating_dtypes()) if dtype is None else dtype)
    examples, features = draw(st.integers(1, max_examples)), draw(st.integers(1, max_features))
    hidden, classes = draw(st.integers(1, max_hidden)), draw(st.integers(2, max_classes))
    params = {"W1": draw(integer_arrays((hidden, features))), "b1": draw(integer_arrays((hidden,))),
              "W2": draw(integer_arrays((classes, hidden))), "b2": draw(integer_arrays((classes,)))}
    X = draw(integer_arrays((examples, features)))
    unit, example = draw(st.integers(0, hidden - 1)), draw(st.integers(0, examples - 1))
    params["b1"][unit] = -(params["W1"][unit] @ X[example])
    y = draw(hnp.arrays(np.int64, examples, elements=st.integers(0, classes - 1)))
    parameters = draw(loss_parameters(compiled, integers=True))
    params = {key: value.astype(dtype) for key, value in params.items()}
    return TwoLayerProblem(params, X.astype(dtype), y, name, parameters, draw(st.sampled_from((0.0, 0.5, 1.0))))
