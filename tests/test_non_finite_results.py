"""The compiled losses never return NaN or inf without raising, on every backend: the L2 term is not computed at
reg = 0 (an overflowing sum(W^2) would turn 0 * inf into NaN), and a margin or residual that overflows raises a
ValueError naming the cause (issue 16)."""

import warnings

import numpy as np
import pytest

import symgrad

BACKENDS = ["numpy", "jax", "dask"]
CLASSIFIERS = symgrad.loss_names("classifier")


def backend_function(loss, backend):
    if backend != "numpy":
        pytest.importorskip("jax" if backend == "jax" else "dask.array")
    return symgrad.loss_and_grad_function(loss, backend)


def evaluate(function, backend, *arguments, **options):
    if backend != "dask":
        return function(*arguments, **options)
    # Dask runs the generated code in worker threads, where NumPy's errstate (thread-local) does not reach: the
    # overflow warnings of a case that then raises leak from there (dask_evaluation.py, not the result).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return function(*arguments, **options)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("loss", CLASSIFIERS)
def test_at_reg_0_an_overflowing_sum_of_squared_weights_leaves_loss_and_gradient_finite(loss, backend):
    # W is huge only on a feature that every example has at 0: the scores are exactly those of W with that
    # column zeroed, while sum(W^2) = 3e400 overflows.
    function = backend_function(loss, backend)
    X = np.array([[0.5, -1.0, 0.0, 1.0], [2.0, 0.25, 0.0, 1.0], [-1.0, 1.5, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    y = np.array([0, 2, 1, 1])
    W = np.random.default_rng(0).normal(size=(3, 4))
    W[:, 2] = 1e200
    value, gradient = evaluate(function, backend, W, X, y, reg=0.0)
    W_zeroed = W.copy()
    W_zeroed[:, 2] = 0.0
    expected_value, expected_gradient = symgrad.loss_and_grad_function(loss, "numpy")(W_zeroed, X, y)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("backend", BACKENDS)
def test_at_reg_0_the_regression_loss_ignores_an_overflowing_weight_on_a_zero_feature(backend):
    function = backend_function("squared", backend)
    X = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    t = np.array([1.0, 3.0, 5.0])
    value, gradient = evaluate(function, backend, np.array([0.5, 1e200]), X, t, reg=0.0)
    expected_value, expected_gradient = symgrad.squared_loss_and_grad(np.array([0.5, 0.0]), X, t)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("loss", CLASSIFIERS)
def test_an_overflowing_margin_raises_naming_the_loss_instead_of_returning_inf(loss, backend):
    # scores +-1e308 are finite; their difference s_j - s_y = 2e308 is not
    function = backend_function(loss, backend)
    W = np.array([[1e308, 0.0], [-1e308, 0.0], [0.0, 0.0]])
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    y = np.array([1, 1])
    with pytest.raises(ValueError, match=rf"^{loss}: the loss or its gradient overflows"):
        evaluate(function, backend, W, X, y, reg=0.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_overflowing_residual_raises_naming_the_loss(backend):
    function = backend_function("squared", backend)
    with pytest.raises(ValueError, match=r"^squared: the loss or its gradient overflows"):
        evaluate(function, backend, np.array([1e200, 0.0]), np.array([[1.0, 0.0], [2.0, 0.0]]), np.array([0.0, 1.0]))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("loss", CLASSIFIERS)
def test_an_overflowing_penalty_raises_naming_reg(loss, backend):
    function = backend_function(loss, backend)
    W = np.full((3, 2), 1e200)
    with pytest.raises(ValueError, match=r"reg \* sum\(W\*\*2\) overflows|overflow"):
        evaluate(function, backend, W, np.zeros((2, 2)), np.array([0, 1]), reg=1.0)
