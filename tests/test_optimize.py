"""Gradient descent: the lecture's numbers, schedules, simultaneous update, line search, bad input."""

import numpy as np
import pytest

import symgrad
from symgrad.codegen.compile import compile_derivation


@pytest.fixture(scope="module")
def bowl_1d_gradient():
    return compile_derivation(symgrad.get_derivation("bowl_1d")).gradient


def test_descent_on_w_squared_gives_the_lecture_numbers(bowl_1d_gradient):
    result = symgrad.gradient_descent(bowl_1d_gradient, 3.0, 0.1, 10)
    assert abs(result.w - 0.322122547) < 1e-9
    assert abs(result.w - 3 * 0.8**10) < 1e-12
    np.testing.assert_allclose(result.path, 3 * 0.8 ** np.arange(11), rtol=0, atol=1e-12)
    assert result.path.shape == (11,)


def test_descent_on_the_2d_bowl_reaches_the_minimum():
    gradient = compile_derivation(symgrad.get_derivation("bowl_2d")).gradient
    result = symgrad.gradient_descent(gradient, [3.0, -4.0], 0.1, 200)
    assert result.path.shape == (201, 2)
    np.testing.assert_allclose(result.w, [0.0, 0.0], atol=1e-15)


def test_the_update_is_simultaneous():
    # L(w1, w2) = w1^2 + w1 w2 + w2^2: grad = (2 w1 + w2, w1 + 2 w2), coupled.
    def gradient(w):
        return np.array([2 * w[0] + w[1], w[0] + 2 * w[1]])

    result = symgrad.gradient_descent(gradient, [1.0, 1.0], 0.5, 1)
    # Simultaneous: both components from (1, 1): (1 - 0.5*3, 1 - 0.5*3) = (-0.5, -0.5).
    # A sequential update would use w1 = -0.5 for w2: 1 - 0.5*(-0.5 + 2) = 0.25.
    np.testing.assert_allclose(result.w, [-0.5, -0.5])


def test_a_schedule_gives_one_rate_per_step(bowl_1d_gradient):
    rates = [0.1, 0.2, 0.3]
    result = symgrad.gradient_descent(bowl_1d_gradient, 1.0, rates, 3)
    np.testing.assert_allclose(result.path, [1.0, 0.8, 0.8 * 0.6, 0.8 * 0.6 * 0.4])
    np.testing.assert_allclose(result.learning_rates, rates)


def test_a_callable_schedule_gets_the_step_index(bowl_1d_gradient):
    seen = []

    def rate(k):
        seen.append(k)
        return 0.1

    symgrad.gradient_descent(bowl_1d_gradient, 1.0, rate, 4)
    assert seen == [0, 1, 2, 3]


def test_tolerance_stops_early_and_reports_convergence(bowl_1d_gradient):
    result = symgrad.gradient_descent(bowl_1d_gradient, 3.0, 0.1, 1000, tolerance=1e-6)
    assert result.converged
    assert result.steps_taken < 1000
    assert abs(2 * result.w) < 1e-6
    assert abs(2 * result.path[-2]) >= 1e-6


def test_line_search_takes_the_best_step_along_the_negative_gradient():
    bowl = compile_derivation(symgrad.get_derivation("bowl_2d"))
    search = symgrad.LineSearch(bowl.value, step_sizes=(0.01, 0.1, 0.5, 1.0))
    result = symgrad.gradient_descent(bowl.gradient, [3.0, -4.0], search, 1)
    # Along -grad = -(6, -8), alpha = 0.5 lands exactly on the minimum.
    assert result.learning_rates[0] == 0.5
    np.testing.assert_allclose(result.w, [0.0, 0.0])


def test_line_search_stays_put_when_no_step_lowers_the_objective():
    bowl = compile_derivation(symgrad.get_derivation("bowl_1d"))
    search = symgrad.LineSearch(bowl.value, step_sizes=(5.0,))
    result = symgrad.gradient_descent(bowl.gradient, 1.0, search, 2)
    np.testing.assert_allclose(result.path, [1.0, 1.0, 1.0])


def test_float32_stays_float32(bowl_1d_gradient):
    result = symgrad.gradient_descent(bowl_1d_gradient, np.float32(3.0), 0.1, 3)
    assert result.path.dtype == np.float32


def test_the_caller_start_point_is_not_modified():
    w0 = np.array([1.0, 2.0])
    symgrad.gradient_descent(lambda w: 2 * w, w0, 0.1, 5)
    np.testing.assert_array_equal(w0, [1.0, 2.0])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(w0=float("nan"), learning_rate=0.1, steps=3), ValueError, "w0: must be finite"),
        (dict(w0=[1.0, float("inf")], learning_rate=0.1, steps=3), ValueError, "w0: must be finite"),
        (dict(w0=1.0, learning_rate=0.1, steps=-1), ValueError, "steps: must be >= 0"),
        (dict(w0=1.0, learning_rate=0.1, steps=2.5), TypeError, "steps: expected an integer"),
        (dict(w0=1.0, learning_rate=[0.1, 0.1], steps=3), ValueError, "learning_rate: the schedule has 2 steps"),
        (dict(w0=1.0, learning_rate=-0.1, steps=3), ValueError, "learning_rate: .* >= 0"),
        (dict(w0=1.0, learning_rate="fast", steps=3), TypeError, "learning_rate: expected a number"),
        (dict(w0=1.0, learning_rate=0.1, steps=3, tolerance=0), ValueError, "tolerance"),
    ],
)
def test_bad_input_is_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        symgrad.gradient_descent(lambda w: 2 * w, **kwargs)


def test_a_gradient_of_the_wrong_shape_is_named():
    with pytest.raises(ValueError, match=r"grad: returned shape \(3,\)"):
        symgrad.gradient_descent(lambda w: np.zeros(3), [1.0, 2.0], 0.1, 1)
