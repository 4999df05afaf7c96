"""The two-layer ReLU network s = W2 relu(W1 x + b1) + b2: backpropagation proved in SymPy, compiled, compared with
an independent NumPy backprop written here, checked by the checker at smooth points and exactly at its ReLU kinks,
and planted backprop bugs caught in every checker mode."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings

import symgrad
from symgrad.runtime.catalog import compiled_loss
from symgrad.runtime.generated import module_source, two_layer
from symgrad.symbolic.objectives import two_layer as derivation
from symgrad.verification.checker import MODES
from symgrad.verification.hypothesis_strategies import (
    two_layer_pre_activations,
    two_layer_problems,
    two_layer_problems_at_kinks,
    two_layer_scores,
)

NAMES = ("W1", "b1", "W2", "b2")
BUILT_IN_CLASSIFIERS = ("svm", "squared_hinge", "crammer_singer", "softmax", "smoothed_softmax")
USER_LOSS = "two_layer_test_hinge"


@pytest.fixture(scope="module", autouse=True)
def user_loss():
    """A classifier loss defined at run time (the squared hinge again, under another name)."""
    symgrad.define_loss(USER_LOSS, "sum_other(max(0, s[j] - s[y] + delta)**2)", parameters={"delta": 1.0})


# --------------------------------------------------------------------------------- independent NumPy backprop

def score_gradients(S, y, loss, parameters):
    """Per-example losses (N,) and dl/ds (N, C) for scores S (N, C), written out per loss (CS231n style)."""
    n, c = S.shape
    rows, onehot = np.arange(n), np.eye(c)[y]
    delta = parameters.get("delta", 1.0)
    if loss in ("svm", "squared_hinge", USER_LOSS):
        margins = S - S[rows, y][:, None] + delta
        margins[rows, y] = -np.inf
        if loss == "svm":
            losses, slopes = np.maximum(margins, 0).sum(1), np.heaviside(margins, parameters.get("kink_value", 0.0))
        else:
            losses, slopes = (np.maximum(margins, 0) ** 2).sum(1), 2 * np.maximum(margins, 0)
        slopes[rows, y] = -slopes.sum(1)
        return losses, slopes
    if loss == "crammer_singer":
        others = np.where(onehot == 1, -np.inf, S)
        worst = others.argmax(1)
        argument = delta + others[rows, worst] - S[rows, y]
        active = (argument > 0).astype(float)
        slopes = np.zeros_like(S)
        slopes[rows, worst] += active
        slopes[rows, y] -= active
        return np.maximum(argument, 0), slopes
    shifted = S - S.max(1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    targets = onehot if loss == "softmax" else (1 - parameters.get("smoothing", 0.1)) * onehot + parameters.get(
        "smoothing", 0.1) / c
    return -(targets * log_probabilities).sum(1), np.exp(log_probabilities) - targets


def reference(params, X, y, loss="softmax", reg=0.0, relu_kink_value=0.0, bug=None, **parameters):
    """Backprop by hand, examples as rows: (loss, gradients). ``bug`` plants one of BUGS."""
    W1, b1, W2, b2 = (np.asarray(params[name], dtype=np.float64) for name in NAMES)
    X, n = np.asarray(X, dtype=np.float64), len(y)
    z = X @ W1.T + b1
    h = np.maximum(z, 0)
    S = h @ W2.T + b2
    losses, dS = score_gradients(S, y, loss, parameters)
    dS = dS / n
    value = losses.mean() + reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    mask = np.where(z > 0, 1.0, np.where(z == 0, relu_kink_value, 0.0))
    if bug == "mask applied to the scores' gradient instead":
        dh = (dS * (S > 0)) @ W2
    elif bug == "W2 used untransposed":
        dh = dS @ W2.T
    else:
        dh = dS @ W2
    dz = dh if bug in ("ReLU mask forgotten", "mask applied to the scores' gradient instead") else dh * mask
    gradients = {"W1": dz.T @ X + 2 * reg * W1, "b1": dz.sum(0), "W2": dS.T @ h + 2 * reg * W2, "b2": dS.sum(0)}
    if bug == "bias gradients dropped":
        gradients["b1"], gradients["b2"] = np.zeros_like(b1), np.zeros_like(b2)
    if bug == "regularizer of W1 missing":
        gradients["W1"] = gradients["W1"] - 2 * reg * W1
    return value, gradients


BUGS = ("ReLU mask forgotten", "W2 used untransposed", "bias gradients dropped",
        "mask applied to the scores' gradient instead", "regularizer of W1 missing")


def pack(gradients):
    return np.concatenate([np.ravel(gradients[name]) for name in NAMES])


def unpack(vector, params):
    pieces, start = {}, 0
    for name in NAMES:
        size = np.size(params[name])
        pieces[name] = vector[start:start + size].reshape(np.shape(params[name]))
        start += size
    return pieces


def random_problem(seed, n=6, d=3, hidden=4, c=3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(size=(hidden, d)), "b1": rng.normal(size=hidden),
              "W2": rng.normal(size=(c, hidden)), "b2": rng.normal(size=c)}
    return ({k: v.astype(dtype) for k, v in params.items()}, rng.normal(size=(n, d)).astype(dtype),
            rng.integers(0, c, n))


def relative(a, b):
    return np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-300)


# ------------------------------------------------------------------------------------------------- the proofs

def test_each_layer_of_backpropagation_is_proved_for_symbolic_sizes():
    assert derivation.prove_output_layer()
    assert derivation.prove_relu_layer()
    assert derivation.prove_hidden_layer()
    assert derivation.prove_regularizer()


@pytest.mark.parametrize("sizes", [(1, 2, 2, 2), (2, 1, 3, 2), (2, 2, 1, 3)])
def test_the_whole_chain_rule_is_proved_for_an_arbitrary_loss_with_relu_as_max(sizes):
    assert derivation.prove_chain_rule(*sizes)


def test_the_derived_gradients_are_the_lecture_products_not_sympys_silent_zero():
    assert derivation.second_weights_gradient != 0 and derivation.first_weights_gradient != 0
    assert derivation.second_weights_gradient.shape == (derivation.classes, derivation.hidden_width)
    assert derivation.first_weights_gradient.shape == (derivation.hidden_width, derivation.features)
    assert derivation.relu_derivative == sp.Heaviside(derivation.relu_input, derivation.relu_kink_value)


def test_a_wrong_closed_form_is_refused(monkeypatch):
    monkeypatch.setattr(derivation, "lecture_hidden_gradient", derivation.second_weights.T * derivation.score_gradients)
    assert not derivation.prove_output_layer()  # the 1/N dropped
    monkeypatch.setattr(derivation, "relu_derivative", sp.Integer(1))
    assert not derivation.prove_chain_rule(1, 1, 1, 2)  # the mask forgotten


def test_the_generated_passes_are_matrix_products_without_ones_arrays():
    source = module_source(two_layer())
    for name in ("hidden_layer", "relu", "output_layer", "mean_score_gradients", "output_layer_gradients",
                 "relu_gradient", "hidden_layer_gradients"):
        assert f"def {name}(" in source
    assert "ones" not in source and "((X.T @ dZ.T)).T" in source and "numpy.greater(Z, 0) + H0*numpy.equal(Z, 0)" in source


# --------------------------------------------------------------------------------- agreement with backprop

@pytest.mark.parametrize("loss", [*BUILT_IN_CLASSIFIERS, USER_LOSS])
@pytest.mark.parametrize("shape", [(1, 1, 1, 2), (7, 5, 4, 3), (20, 3, 8, 10)])
def test_compiled_gradient_agrees_with_independent_backprop_for_every_classifier_loss(loss, shape):
    for seed in range(3):
        params, X, y = random_problem(seed, *shape)
        value, gradients = symgrad.two_layer_loss_and_grad(params, X, y, loss, reg=0.05)
        expected_value, expected = reference(params, X, y, loss, reg=0.05)
        assert abs(value - expected_value) <= 1e-12 * max(1, abs(expected_value))
        for name in NAMES:
            assert gradients[name].shape == params[name].shape
            assert relative(gradients[name], expected[name]) <= 1e-10, (loss, name)


@pytest.mark.parametrize("loss, parameters", [("svm", {"delta": 2.0, "kink_value": 1.0}),
                                              ("smoothed_softmax", {"smoothing": 0.3}),
                                              ("crammer_singer", {"delta": 0.5})])
def test_loss_parameters_reach_the_per_example_code(loss, parameters):
    params, X, y = random_problem(4, 9, 3, 5, 4)
    value, gradients = symgrad.two_layer_loss_and_grad(params, X, y, loss, **parameters)
    expected_value, expected = reference(params, X, y, loss, **parameters)
    assert abs(value - expected_value) <= 1e-12 * max(1, abs(expected_value))
    assert relative(pack(gradients), pack(expected)) <= 1e-10


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ["softmax", "smoothed_softmax", "squared_hinge"])
def test_compiled_gradient_passes_the_checker_at_smooth_points(loss, dtype):
    for seed in range(3):
        params, X, y = random_problem(seed, dtype=dtype)
        assert np.all(np.abs(two_layer_pre_activations(params, X)) > 1e-3)
        vector = pack(params).astype(np.float64)

        def f(v):  # in float64 whatever dtype the claim has: a float32 f cannot resolve float32's tolerance
            return symgrad.two_layer_loss_and_grad(unpack(v, params), X.astype(np.float64), y, loss, reg=0.1)[0]

        claimed = pack(symgrad.two_layer_loss_and_grad(params, X, y, loss, reg=0.1)[1])
        assert claimed.dtype == dtype
        report = symgrad.check_gradient(f, claimed, vector, seed=seed)
        assert report.ok, report


# ---------------------------------------------------------------------------------------- at the ReLU kinks

def kink_problem(seed, n=4, d=2, hidden=3, c=3):
    """Small integers, every hidden unit's pre-activation exactly 0 at one example, weights of both signs."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(n, d)).astype(float)
    W1 = rng.integers(-2, 3, size=(hidden, d)).astype(float)
    b1 = -np.array([W1[k] @ X[rng.integers(n)] for k in range(hidden)])
    W2 = rng.choice([-2.0, -1.0, 1.0, 2.0], size=(c, hidden))
    b2 = rng.integers(-1, 2, size=c).astype(float)
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, X, rng.integers(0, c, n)


KINK_LOSSES = {"svm": {"delta": 0.5}, "squared_hinge": {"delta": 0.5}, "softmax": {},
               "smoothed_softmax": {"smoothing": 0.2}}
"""Integer scores and Delta = 1/2 keep the hinges off their own kinks, so the kinks met are the ReLU's."""


@pytest.mark.parametrize("relu_kink_value", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("loss", list(KINK_LOSSES))
def test_compiled_gradient_passes_at_exact_relu_kinks_in_every_mode(loss, relu_kink_value):
    for seed in range(2):
        params, X, y = kink_problem(seed)
        assert np.any(two_layer_pre_activations(params, X) == 0)
        parameters = KINK_LOSSES[loss]

        def f(v):
            return symgrad.two_layer_loss_and_grad(unpack(v, params), X, y, loss, reg=0.1, **parameters)[0]

        claimed = pack(symgrad.two_layer_loss_and_grad(params, X, y, loss, reg=0.1, relu_kink_value=relu_kink_value,
                                                       **parameters)[1])
        expected = pack(reference(params, X, y, loss, reg=0.1, relu_kink_value=relu_kink_value, **parameters)[1])
        assert relative(claimed, expected) <= 1e-12
        for mode in MODES:
            report = symgrad.check_gradient(f, claimed, pack(params), mode, seed=seed)
            assert report.ok, (mode, report)


@pytest.mark.parametrize("bug", BUGS)
def test_planted_backprop_bugs_are_caught_in_every_mode(bug):
    for seed in range(4):
        params, X, y = random_problem(seed, n=6, d=2, hidden=3, c=3)
        x = pack(params)

        def f(v):
            return reference(unpack(v, params), X, y, "softmax", reg=0.1)[0]

        right = pack(symgrad.two_layer_loss_and_grad(params, X, y, "softmax", reg=0.1)[1])
        wrong = pack(reference(params, X, y, "softmax", reg=0.1, bug=bug)[1])
        for mode in MODES:
            assert symgrad.check_gradient(f, right, x, mode, seed=seed).ok
            report = symgrad.check_gradient(f, wrong, x, mode, seed=seed)
            assert not report.ok and not report.inconclusive, (bug, mode, seed)


def test_planted_bugs_at_the_kinks_are_caught_too():
    for seed in range(3):
        params, X, y = kink_problem(seed)

        def f(v):
            return reference(unpack(v, params), X, y, "softmax", reg=0.1)[0]

        for bug in ("ReLU mask forgotten", "W2 used untransposed", "regularizer of W1 missing"):
            wrong = pack(reference(params, X, y, "softmax", reg=0.1, bug=bug)[1])
            assert not symgrad.check_gradient(f, wrong, pack(params), "full", seed=seed).ok, bug


# ------------------------------------------------------------------------------------------ property tests

@settings(max_examples=30)
@given(two_layer_problems())
def test_property_compiled_gradient_equals_backprop_at_smooth_points(problem):
    value, gradients = symgrad.two_layer_loss_and_grad(problem.params, problem.X, problem.y, problem.loss,
                                                       reg=0.1, relu_kink_value=problem.relu_kink_value,
                                                       **problem.parameters)
    expected_value, expected = reference(problem.params, problem.X, problem.y, problem.loss, reg=0.1,
                                         **problem.parameters)
    dtype = problem.X.dtype
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    assert abs(value - expected_value) <= tolerance * max(1, abs(expected_value))
    for name in NAMES:
        assert gradients[name].dtype == dtype
        assert np.abs(gradients[name] - expected[name]).max() <= tolerance * max(1, np.abs(expected[name]).max())


@settings(max_examples=30)
@given(two_layer_problems_at_kinks(dtype=np.float64))
def test_property_at_relu_kinks_the_mask_takes_the_kink_value(problem):
    assert np.any(two_layer_pre_activations(problem.params, problem.X) == 0)
    loss = compiled_loss(problem.loss)
    T = loss.targets(problem.y, problem.params["W2"].shape[0], np.float64)
    scores = two_layer_scores(problem.params, problem.X)
    assume(np.all(loss.kink_distance(scores, T, loss.parameter_values(problem.parameters)) > 0))  # the ReLU's kinks
    _, gradients = symgrad.two_layer_loss_and_grad(problem.params, problem.X, problem.y, problem.loss,
                                                   relu_kink_value=problem.relu_kink_value, **problem.parameters)
    _, expected = reference(problem.params, problem.X, problem.y, problem.loss,
                            relu_kink_value=problem.relu_kink_value, **problem.parameters)
    assert relative(pack(gradients), pack(expected)) <= 1e-12


@settings(max_examples=15)
@given(two_layer_problems_at_kinks(loss="softmax", dtype=np.float64))
def test_property_softmax_network_gradient_passes_the_checker_at_relu_kinks(problem):
    params, X, y = problem.params, problem.X, problem.y

    def f(v):
        return symgrad.two_layer_loss_and_grad(unpack(v, params), X, y, "softmax")[0]

    claimed = symgrad.two_layer_loss_and_grad(params, X, y, "softmax", relu_kink_value=problem.relu_kink_value)[1]
    report = symgrad.check_gradient(f, pack(claimed), pack(params), seed=0)
    assert report.ok, report


# ------------------------------------------------------------------------------------------ the contract

def test_float32_stays_float32_and_a_dataclass_comes_back_as_one():
    params, X, y = random_problem(0, dtype=np.float32)
    value, gradients = symgrad.two_layer_loss_and_grad(symgrad.TwoLayerParameters(**params), X, y, "svm", reg=0.1)
    assert isinstance(value, float) and isinstance(gradients, symgrad.TwoLayerParameters)
    for name in NAMES:
        assert getattr(gradients, name).dtype == np.float32
        assert getattr(gradients, name).shape == params[name].shape
    _, from_dict = symgrad.two_layer_loss_and_grad(params, X, y, "svm", reg=0.1)
    assert all(np.array_equal(from_dict[name], getattr(gradients, name)) for name in NAMES)


def test_the_loss_can_be_given_as_its_function():
    params, X, y = random_problem(1)
    by_name = symgrad.two_layer_loss_and_grad(params, X, y, "squared_hinge")
    by_function = symgrad.two_layer_loss_and_grad(params, X, y, symgrad.squared_hinge_loss_and_grad)
    assert by_name[0] == by_function[0]


def test_the_arguments_are_not_modified():
    params, X, y = random_problem(2)
    copies = {name: value.copy() for name, value in params.items()}, X.copy()
    symgrad.two_layer_loss_and_grad(params, X, y, "softmax", reg=0.3)
    assert all(np.array_equal(params[name], copies[0][name]) for name in NAMES) and np.array_equal(X, copies[1])


def _bad(**changes):
    params, X, y = random_problem(0, n=5, d=3, hidden=4, c=3)
    arguments = {"params": params, "X": X, "y": y}
    for key, value in changes.items():
        if key in NAMES:
            arguments["params"] = {**arguments["params"], key: value}
        else:
            arguments[key] = value
    return arguments


@pytest.mark.parametrize("changes, error, start", [
    ({"params": [1, 2]}, TypeError, "params:"),
    ({"params": {"W1": np.ones((4, 3))}}, ValueError, "params:"),
    ({"W1": np.ones((4, 3), dtype=int)}, TypeError, "W1:"),
    ({"W1": np.ones(3)}, ValueError, "W1:"),
    ({"b1": np.ones(5)}, ValueError, "b1:"),
    ({"W2": np.ones((3, 5))}, ValueError, "W2:"),
    ({"W2": np.ones((1, 4)), "b2": np.ones(1)}, ValueError, "W2:"),
    ({"b2": np.ones((3, 1))}, ValueError, "b2:"),
    ({"X": np.ones((5, 2))}, ValueError, "X:"),
    ({"X": np.ones((0, 3))}, ValueError, "X:"),
    ({"y": np.array([0, 1, 2, 3, 0])}, ValueError, "y:"),
    ({"y": np.zeros(5)}, TypeError, "y:"),
    ({"loss": "squared"}, ValueError, "loss:"),
    ({"loss": "no_such_loss"}, ValueError, "loss:"),
    ({"loss": 3}, TypeError, "loss:"),
    ({"reg": -1.0}, ValueError, "reg:"),
    ({"relu_kink_value": 2.0}, ValueError, "relu_kink_value:"),
    ({"relu_kink_value": float("nan")}, ValueError, "relu_kink_value:"),
])
def test_bad_input_is_refused_naming_the_argument(changes, error, start):
    with pytest.raises(error) as raised:
        symgrad.two_layer_loss_and_grad(**_bad(**changes))
    assert str(raised.value).startswith(start), str(raised.value)


def test_unknown_loss_parameters_are_refused():
    with pytest.raises(TypeError, match="unknown parameters"):
        symgrad.two_layer_loss_and_grad(**_bad(), loss="softmax", delta=1.0)


@pytest.mark.parametrize("name", NAMES)
def test_non_finite_parameters_raise_naming_them(name):
    params, X, y = random_problem(0)
    params[name] = params[name].copy()
    params[name].flat[0] = np.nan
    with pytest.raises(ValueError, match=f"^{name}: must be finite"):
        symgrad.two_layer_loss_and_grad(params, X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_overflow_raises_instead_of_returning_inf_or_nan(dtype):
    params, X, y = random_problem(0, dtype=dtype)
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="^X: inputs must be finite"):
        symgrad.two_layer_loss_and_grad(params, X, y)
    huge = {**params, "W1": np.full_like(params["W1"], np.finfo(dtype).max / 4)}
    with pytest.raises(ValueError, match="overflow"):
        symgrad.two_layer_loss_and_grad(huge, random_problem(0, dtype=dtype)[1], y)
    big = {**params, "W2": np.full_like(params["W2"], np.sqrt(np.finfo(dtype).max))}
    with pytest.raises(ValueError, match="^W2: reg"):
        symgrad.two_layer_loss_and_grad(big, random_problem(0, dtype=dtype)[1], y, "svm", reg=10.0)


# ------------------------------------------------------------------------------------------------------ JAX

@pytest.mark.parametrize("loss", [*BUILT_IN_CLASSIFIERS, USER_LOSS])
def test_the_jax_backend_agrees_with_numpy_in_float64(loss):
    pytest.importorskip("jax")
    from symgrad.backends.jax_backend import jax_two_layer_loss_and_grad

    for seed, shape in enumerate([(1, 1, 1, 2), (9, 4, 6, 3)]):
        params, X, y = random_problem(seed, *shape)
        expected_value, expected = symgrad.two_layer_loss_and_grad(params, X, y, loss, reg=0.1, relu_kink_value=0.5)
        value, gradients = jax_two_layer_loss_and_grad(params, X, y, loss, reg=0.1, relu_kink_value=0.5)
        assert abs(value - expected_value) <= 1e-10 * max(1, abs(expected_value))
        assert all(relative(gradients[name], expected[name]) <= 1e-10 for name in NAMES)


def test_the_jax_backend_keeps_float32_the_structure_and_the_checks():
    pytest.importorskip("jax")
    from symgrad.backends.jax_backend import jax_two_layer_loss_and_grad

    params, X, y = random_problem(0, dtype=np.float32)
    _, gradients = jax_two_layer_loss_and_grad(symgrad.TwoLayerParameters(**params), X, y, "svm")
    assert isinstance(gradients, symgrad.TwoLayerParameters) and gradients.W1.dtype == np.float32
    params, X, y = random_problem(0, dtype=np.float32)
    integer_kinks = kink_problem(0)
    assert relative(pack(jax_two_layer_loss_and_grad(*integer_kinks, relu_kink_value=1.0)[1]),
                    pack(symgrad.two_layer_loss_and_grad(*integer_kinks, relu_kink_value=1.0)[1])) <= 1e-12
    with pytest.raises(ValueError, match="^b1:"):
        jax_two_layer_loss_and_grad({**params, "b1": np.ones(2, np.float32)}, X, y)
    huge = {**params, "W1": np.full_like(params["W1"], np.finfo(np.float32).max / 4)}
    with pytest.raises(ValueError, match="overflow"):
        jax_two_layer_loss_and_grad(huge, X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("relu_kink_value", [0.0, 0.5, 1.0])
def test_the_in_place_relu_gradient_gives_the_generated_values(dtype, relu_kink_value):
    from symgrad.runtime.two_layer import ReluSlopes

    rng = np.random.default_rng(0)
    Z = rng.integers(-2, 3, size=(5, 40)).astype(dtype)
    dA = rng.normal(size=(5, 40)).astype(dtype)
    expected = two_layer().relu_gradient(dA, Z, dtype(relu_kink_value))[0]
    assert expected.dtype == dtype and np.any(Z == 0)
    result = ReluSlopes(Z, dtype(relu_kink_value)).times(dA.copy())
    assert result.dtype == dtype and np.array_equal(result, expected)
    assert np.array_equal(two_layer().relu(Z)[0], np.maximum(Z, 0))
