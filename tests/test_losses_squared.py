"""Squared loss for linear regression: proofs for symbolic N and D, the compiled function against centered
differences, and gradient descent recovering the line that generated the data."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import gradient_descent, numerical_gradient, relative_error
from symgrad.runtime.losses import squared_loss_and_grad
from symgrad.symbolic.objectives import squared_loss


@pytest.mark.parametrize(
    "derivation",
    [squared_loss.squared_loss, squared_loss.squared_loss_matrix, squared_loss.squared_error],
    ids=lambda d: d.name,
)
def test_derived_gradient_is_proved_equal_to_the_lecture_form(derivation):
    assert derivation.verify()


def test_a_wrong_lecture_form_is_not_proved():
    halved = tuple(g / 2 for g in squared_loss.squared_loss.lecture_gradient)  # 1/N instead of 2/N
    assert not dataclasses.replace(squared_loss.squared_loss, name="wrong", lecture_gradient=halved).verify()
    swapped = tuple(reversed(squared_loss.squared_loss.lecture_gradient))
    assert not dataclasses.replace(squared_loss.squared_loss, name="wrong", lecture_gradient=swapped).verify()


def test_index_form_for_symbolic_number_of_examples():
    assert squared_loss.prove_index_form()


def test_matrix_form_for_symbolic_sizes():
    assert squared_loss.prove_matrix_form()


def test_class_axis_form_that_is_compiled_is_the_per_example_squared_error():
    assert squared_loss.prove_class_axis_form()


def test_lecture_value_on_the_registered_data():
    # x = (0, 1, 2), y = (1, 3, 5) lie on y = 1 + 2x: zero loss there, 1/3 sum (0 + x_i - y_i)^2 at w = (0, 2).
    compiled = squared_loss.squared_loss.compiled
    assert compiled.value(np.array([1.0, 2.0])) == pytest.approx(0.0)
    assert compiled.value(np.array([0.0, 2.0])) == pytest.approx(1.0)
    np.testing.assert_allclose(compiled.gradient(np.array([0.0, 2.0])), [-2.0, -2.0])


problems = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 6))


def random_problem(seed, number_of_examples, number_of_features, dtype=np.float64):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=number_of_features).astype(dtype)
    X = rng.normal(size=(number_of_examples, number_of_features)).astype(dtype)
    return w, X, rng.normal(size=number_of_examples).astype(dtype)


@settings(max_examples=40)
@given(problems)
def test_compiled_gradient_matches_centered_differences(problem):
    w, X, y = random_problem(*problem)
    loss, dw = squared_loss_and_grad(w, X, y)
    residual = X @ w - y
    assert loss == pytest.approx(residual @ residual / len(y))
    numeric = numerical_gradient(lambda v: squared_loss_and_grad(v, X, y)[0], w, h=1e-5)
    assert relative_error(dw, numeric) <= 1e-7


def test_gradient_descent_recovers_the_generating_line_and_matches_lstsq():
    rng = np.random.default_rng(0)
    true_w0, true_w1 = 1.5, -2.0
    x = rng.uniform(0.0, 1.0, size=200)
    y = true_w0 + true_w1 * x + rng.normal(scale=0.05, size=200)
    X = np.column_stack([np.ones_like(x), x])  # bias trick: w = (w0, w1)
    run = gradient_descent(lambda w: squared_loss_and_grad(w, X, y)[1], np.zeros(2), 0.5, 3000)
    least_squares, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(run.w, least_squares, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(run.w, [true_w0, true_w1], atol=0.05)


def test_float32_in_float32_out():
    w, X, y = random_problem(5, 30, 4, dtype=np.float32)
    loss, dw = squared_loss_and_grad(w, X, y.astype(np.float64))
    assert dw.dtype == np.float32 and dw.shape == w.shape
    loss64, dw64 = squared_loss_and_grad(w.astype(np.float64), X.astype(np.float64), y.astype(np.float64))
    assert loss == pytest.approx(loss64, rel=1e-5)
    assert relative_error(dw, dw64) < 1e-4
