"""Squared loss for linear regression: proofs for symbolic N and D, the compiled function against centered
differences, and gradient descent recovering the line that generated the data."""

import dataclasses

import numpy as np
import pytest

from symgrad import compile_derivation, get_derivation, gradient_descent, squared_loss_and_grad
from symgrad.symbolic.objectives import squared_loss


@pytest.mark.parametrize(
    "derivation",
    [squared_loss.squared_loss, squared_loss.squared_loss_matrix, get_derivation("squared")],
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


def test_lecture_value_on_the_registered_data():
    # x = (0, 1, 2), y = (1, 3, 5) lie on y = 1 + 2x: zero loss there, 1/3 sum (0 + x_i - y_i)^2 at w = (0, 2).
    compiled = compile_derivation(squared_loss.squared_loss)
    assert compiled.value(np.array([1.0, 2.0])) == pytest.approx(0.0)
    assert compiled.value(np.array([0.0, 2.0])) == pytest.approx(1.0)
    np.testing.assert_allclose(compiled.gradient(np.array([0.0, 2.0])), [-2.0, -2.0])


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
