"""Every compiled loss, from the registry: proved, equal to its independent NumPy reference (the naive loop version
written beside its declaration), dtype-preserving, checked at smooth points and exactly at its kinks, the same on
every backend. A loss gets these tests by being declared."""

import inspect
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.runtime.catalog import compiled_loss, loss_names
from symgrad.symbolic.registry import get_loss
from symgrad.verification.checker import check_gradient, check_subgradient
from symgrad.verification.hypothesis_strategies import linear_model_problems, linear_model_problems_at_kinks

LOSSES = loss_names()
REFERENCES = {name: get_loss(name).reference for name in LOSSES}
KINKED = [name for name in LOSSES if not compiled_loss(name).is_smooth]
SEEDS = st.integers(0, 2**32 - 1)


def relative_difference(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def test_every_declared_loss_is_compiled_and_has_an_independent_reference():
    assert {"svm", "softmax", "squared"} <= set(LOSSES)
    assert all(callable(reference) for reference in REFERENCES.values())


@pytest.mark.parametrize("name", LOSSES)
def test_the_derived_score_gradient_is_proved_equal_to_the_lecture_form(name):
    assert get_loss(name).verify()


@pytest.mark.parametrize("name", LOSSES)
def test_the_public_function_has_the_loss_signature(name):
    function = getattr(symgrad, f"{name}_loss_and_grad")
    loss = compiled_loss(name)
    parameters = list(inspect.signature(function).parameters)
    assert parameters[:4] == [loss.weights_name, "X", loss.targets_name, "reg"]
    assert parameters[4:] == [p.name for p in loss.parameters]
    assert function.__name__ == f"{name}_loss_and_grad" and loss.title in function.__doc__


@pytest.mark.parametrize("name", LOSSES)
@settings(max_examples=30)
@given(data=st.data(), reg=st.floats(0.0, 1.0))
def test_equals_the_independent_reference_in_float64(name, data, reg):
    problem = data.draw(linear_model_problems(name, dtype=np.float64))
    loss, gradient = symgrad.loss_and_grad_function(name)(problem.weights, problem.X, problem.targets, reg=reg,
                                                          **problem.parameters)
    expected_loss, expected_gradient = REFERENCES[name](problem.weights, problem.X, problem.targets, reg=reg,
                                                        **problem.parameters)
    assert loss == pytest.approx(expected_loss, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-9, atol=1e-12)
    assert loss >= 0  # every built-in loss is a sum of non-negative terms, also in floating point


@pytest.mark.parametrize("name", LOSSES)
@settings(max_examples=20)
@given(data=st.data())
def test_float32_in_float32_out_close_to_float64(name, data):
    # Away from kinks: at a kink float32 and float64 may round a margin to different sides of 0.
    problem = data.draw(linear_model_problems(name, dtype=np.float32, margin=1e-2))
    function = symgrad.loss_and_grad_function(name)
    loss32, gradient32 = function(problem.weights, problem.X, problem.targets, reg=0.1, **problem.parameters)
    loss64, gradient64 = function(problem.weights.astype(np.float64), problem.X.astype(np.float64), problem.targets,
                                  reg=0.1, **problem.parameters)
    assert gradient32.dtype == np.float32 and gradient32.shape == problem.weights.shape
    assert isinstance(loss32, float)
    assert loss32 == pytest.approx(loss64, rel=1e-4, abs=1e-5)
    np.testing.assert_allclose(gradient32, gradient64, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("name", LOSSES)
def test_the_generated_code_keeps_float32_and_has_no_loop(name):
    loss = compiled_loss(name)
    classes = 3 if loss.kind == "classifier" else 1
    S = np.linspace(-1, 1, classes * 5, dtype=np.float32).reshape(classes, 5)
    T = loss.targets(np.array([0, 1, 2, 0, 1]) % classes, classes, np.float32)
    values = tuple(np.float32(p.default) for p in loss.parameters)
    outputs = loss.module.loss_and_score_gradient(S, T, *values)
    assert {np.asarray(o).dtype for o in outputs} == {np.dtype(np.float32)}
    assert [np.shape(o) for o in outputs] == [(1, 5), (classes, 5)]
    assert "for " not in loss.generated_source and "select(" not in loss.generated_source


@pytest.mark.parametrize("name", LOSSES)
def test_inputs_are_not_modified_and_may_be_read_only_and_strided(name):
    loss = compiled_loss(name)
    rng = np.random.default_rng(2)
    W = rng.normal(size=(3, 6))[:, ::2]
    weights = np.ascontiguousarray(W) if loss.kind == "classifier" else np.ascontiguousarray(W[0])
    X = rng.normal(size=(9, 12))[:, ::4]
    low, high = loss.target_bounds
    targets = rng.integers(0, 3, size=9) if loss.kind == "classifier" else np.clip(rng.normal(size=9), low, high)
    for array in (weights, X, targets):
        array.setflags(write=False)
    copies = [a.copy() for a in (weights, X, targets)]
    value, gradient = loss(weights, X, targets, reg=0.1)
    for array, copy in zip((weights, X, targets), copies, strict=True):
        np.testing.assert_array_equal(array, copy)
    expected_value, expected_gradient = REFERENCES[name](weights, X, targets, reg=0.1)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", LOSSES)
@settings(max_examples=20)
@given(data=st.data(), seed=SEEDS)
def test_the_checker_passes_the_compiled_gradient_at_smooth_points(name, data, seed):
    problem = data.draw(linear_model_problems(name, dtype=np.float64, margin=1e-2))
    function = symgrad.loss_and_grad_function(name)

    def f(weights):
        return function(weights, problem.X, problem.targets, reg=0.05, **problem.parameters)[0]

    gradient = function(problem.weights, problem.X, problem.targets, reg=0.05, **problem.parameters)[1]
    report = check_gradient(f, gradient, problem.weights, "full", seed=seed)
    assert report.ok, report


@pytest.mark.parametrize("name", KINKED)
@settings(max_examples=20)
@given(data=st.data(), seed=SEEDS)
def test_the_checker_passes_the_compiled_gradient_exactly_at_kinks(name, data, seed):
    problem = data.draw(linear_model_problems_at_kinks(name, dtype=np.float64))
    function = symgrad.loss_and_grad_function(name)

    def f(weights):
        return function(weights, problem.X, problem.targets, **problem.parameters)[0]

    gradient = function(problem.weights, problem.X, problem.targets, **problem.parameters)[1]
    report = check_subgradient(f, gradient, problem.weights, convex=compiled_loss(name).convex, seed=seed)
    assert report.ok, report


@pytest.mark.parametrize("backend", ["jax", "dask"])
@pytest.mark.parametrize("name", LOSSES)
@settings(max_examples=10)
@given(data=st.data(), at_kink=st.booleans())
def test_every_backend_equals_numpy_in_float64_at_kinks_too(name, backend, data, at_kink):
    pytest.importorskip(backend)
    if at_kink and name not in KINKED:
        at_kink = False
    strategy = linear_model_problems_at_kinks if at_kink else linear_model_problems
    problem = data.draw(strategy(name, dtype=np.float64))
    arguments = (problem.weights, problem.X, problem.targets)
    expected_loss, expected_gradient = symgrad.loss_and_grad_function(name)(*arguments, reg=0.1, **problem.parameters)
    loss, gradient = symgrad.loss_and_grad_function(name, backend)(*arguments, reg=0.1, **problem.parameters)
    assert loss == pytest.approx(expected_loss, rel=1e-10, abs=1e-12)
    assert gradient.dtype == expected_gradient.dtype and gradient.shape == expected_gradient.shape
    assert relative_difference(gradient, expected_gradient) <= 1e-10 or np.max(np.abs(expected_gradient)) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", LOSSES)
def test_the_prepared_loss_gives_the_public_functions_loss_and_gradient_bit_for_bit(name, dtype):
    loss = compiled_loss(name).one_vs_rest()  # a regression loss as a classifier, one vs rest
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 7)).astype(dtype)
    values = loss.parameter_values({})
    for reg in (0.0, 0.03):
        prepared = loss.prepared(W.shape, dtype, reg, values)
        for examples in (1, 5, 64, 257, 3):  # its buffers reused across calls and batch sizes
            X, y = rng.normal(size=(examples, 7)).astype(dtype), rng.integers(0, 4, examples)
            expected_loss, expected_gradient = loss(W, X, y, reg)
            value, gradient = prepared(W, X, y)
            assert value == expected_loss and type(value) is float
            assert gradient.dtype == expected_gradient.dtype
            np.testing.assert_array_equal(gradient, expected_gradient)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", LOSSES)
def test_a_prepared_step_is_the_gradient_step_up_to_rounding(name, dtype):
    loss = compiled_loss(name).one_vs_rest()
    rng = np.random.default_rng(1)
    unit = np.finfo(dtype).eps
    for reg in (0.0, 0.03):
        W = rng.normal(size=(4, 7)).astype(dtype)
        prepared = loss.prepared(W.shape, dtype, reg, loss.parameter_values({}))
        for examples, rate in ((1, 0.5), (5, 0.0), (64, 1e-3), (257, 3.0), (3, 0.1), (9, 0.2)):
            X, y = rng.normal(size=(examples, 7)).astype(dtype), rng.integers(0, 4, examples)
            features = X
            if examples == 9:  # integer features: the step computes in the prepared dtype, as if they were cast
                features = rng.integers(-3, 4, size=(examples, 7))
                X = features.astype(dtype)
            expected_loss, gradient = loss(W, X, y, reg)
            expected = W - dtype(rate) * gradient
            scale = np.abs(W).max() + rate * np.abs(gradient).max()
            value = prepared.step(W, features, y, rate)  # W updated in place
            assert value == expected_loss and type(value) is float  # the loss at W before the step, as a call gives
            assert W.dtype == dtype and np.abs(W - expected).max() <= 8 * unit * scale


def failing_calls():
    """(W (3, 2), X (2, 2)) pairs whose call with labels [1, 1] and reg 1e-3 raises: the scores overflow, the loss
    overflows (finite scores 1e308 apart), the L2 penalty overflows."""
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    apart = np.array([[1e308, 0.0], [-1e308, 0.0], [0.0, 0.0]])
    return [(apart.copy(), np.array([[1e308, 1e308], [1.0, 1.0]])), (apart.copy(), X), (np.full((3, 2), 1e160), X)]


@pytest.mark.parametrize("name", ["svm", "softmax"])
def test_a_prepared_step_that_fails_fails_as_the_gradient_step_does(name):
    loss = compiled_loss(name)
    prepared = loss.prepared((3, 2), np.float64, 1e-3, loss.parameter_values({}))
    X, y = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([1, 1])
    for W, rows in failing_calls():
        with pytest.raises(ValueError) as called:
            prepared(W, rows, y)
        before = W.copy()
        with pytest.raises(ValueError, match="^" + re.escape(str(called.value)) + "$"):
            prepared.step(W, rows, y, 0.1)
        np.testing.assert_array_equal(W, before)  # a failed step leaves W as it was
    # G X overflows before 1/N scales it, so the gradient cannot be formed; the step, which scales G first, is taken
    W, huge, labels = np.zeros((3, 2)), np.tile([1e308, 1.0], (4, 1)), np.ones(4, dtype=np.int64)
    with pytest.raises(ValueError, match="the loss or its gradient overflows"):
        prepared(W, huge, labels)
    at_zero = prepared(W, huge * 1e-300, labels)[0]  # the scores, so the loss, do not depend on X at W = 0
    assert prepared.step(W, huge, labels, 0.1) == at_zero
    _, G = loss.module.loss_and_score_gradient(np.zeros((3, 4)), np.eye(3)[:, labels], *loss.parameter_values({}))
    np.testing.assert_allclose(W, -(0.1 / 4) * (G @ (huge * 1e-300)) * 1e300, rtol=1e-14)
    # a finite loss and gradient whose step overflows: the same non-finite W as W - rate * gradient
    W = np.full((3, 2), 1e150)
    value, gradient = prepared(W, X, y)
    with np.errstate(over="ignore"):
        expected = W - 1e300 * gradient
    assert not np.all(np.isfinite(expected))
    assert prepared.step(W, X, y, 1e300) == value
    np.testing.assert_array_equal(W, expected)


@pytest.mark.parametrize("name", ["svm", "softmax"])
def test_the_prepared_loss_raises_the_public_functions_error_on_non_finite_input(name):
    loss = compiled_loss(name)
    W, X, y = np.ones((3, 2)), np.array([[1.0, np.inf], [0.0, 1.0]]), np.array([0, 2])
    prepared = loss.prepared(W.shape, np.float64, 0.0, loss.parameter_values({}))
    with pytest.raises(ValueError) as public:
        loss(W, X, y)
    with pytest.raises(ValueError, match=f"^{public.value}$".replace("(", r"\(").replace(")", r"\)")):
        prepared(W, X, y)
    overflowing = np.array([[1e308, 0.0], [-1e308, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match=rf"^{name}: the loss or its gradient overflows"):
        prepared(overflowing, np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([1, 1]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", LOSSES)
def test_calls_and_steps_in_a_run_give_what_they_give_alone_bit_for_bit(name, dtype):
    loss = compiled_loss(name).one_vs_rest()
    rng = np.random.default_rng(5)
    for reg in (0.0, 0.03):
        W = rng.normal(size=(4, 7)).astype(dtype)
        alone, quiet = (loss.prepared(W.shape, dtype, reg, loss.parameter_values({})) for _ in range(2))
        stepped_alone, stepped_quiet = W.copy(), W.copy()
        with quiet.run():
            for examples, rate in ((1, 0.5), (64, 1e-3), (257, 3.0)):
                X, y = rng.normal(size=(examples, 7)).astype(dtype), rng.integers(0, 4, examples)
                value, gradient = alone(W, X, y)
                quiet_value, quiet_gradient = quiet(W, X, y)
                assert quiet_value == value
                np.testing.assert_array_equal(quiet_gradient, gradient)
                assert quiet.step(stepped_quiet, X, y, rate) == alone.step(stepped_alone, X, y, rate)
                np.testing.assert_array_equal(stepped_quiet, stepped_alone)


@pytest.mark.parametrize("name", ["svm", "softmax"])
def test_a_run_raises_without_warnings_and_restores_the_errstate(name):
    # pytest turns every RuntimeWarning into an error here, so an overflow warned about would fail the test
    loss = compiled_loss(name)
    prepared = loss.prepared((3, 2), np.float64, 1e-3, loss.parameter_values({}))
    X, y = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([1, 1])
    failing = failing_calls()
    before = np.geterr()
    for W, rows in failing:
        with pytest.raises(ValueError) as alone:
            prepared.step(W.copy(), rows, y, 0.1)
        with prepared.run():
            with pytest.raises(ValueError, match="^" + re.escape(str(alone.value)) + "$"):
                prepared.step(W, rows, y, 0.1)
            with pytest.raises(ValueError, match="^" + re.escape(str(alone.value)) + "$"):
                prepared(W, rows, y)
        assert np.geterr() == before
    W = np.full((3, 2), 1e150)  # a finite gradient whose step overflows W: no warning, the same non-finite W
    expected = W.copy()
    prepared.step(expected, X, y, 1e300)
    with prepared.run():
        prepared.step(W, X, y, 1e300)
    np.testing.assert_array_equal(W, expected)
    with pytest.raises(KeyError), prepared.run():  # an exception ends the run...
        raise KeyError("stop")
    assert np.geterr() == before
    W, rows = failing[1]  # the loss overflows
    with pytest.raises(ValueError, match="overflows"):  # ...and calls enter their own errstate again: no warning
        prepared.step(W, rows, y, 0.1)
    with prepared.run(), pytest.raises(RuntimeError, match="already in one"), prepared.run():
        pass
