"""Gradient descent: the lecture's numbers, schedules, simultaneous update, line search, bad input."""

import numpy as np
import pytest

import symgrad
from symgrad.training.descent import TrainingDiverged
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
        (dict(w0=1.0, learning_rate=0.1, steps=-1), ValueError, "steps: expected an integer >= 0"),
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


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(w0=1.0, learning_rate=0.1, steps=3, tolerance="1e-3"), TypeError, "^tolerance: expected a real number"),
        (dict(w0=1.0, learning_rate=0.1, steps=3, tolerance=float("nan")), ValueError, "^tolerance"),
        (dict(w0=1.0, learning_rate=0.1, steps="3"), TypeError, "^steps: expected an integer"),
        (dict(w0=1.0 + 2.0j, learning_rate=0.1, steps=3), TypeError, "^w0: expected a real array"),
        (dict(w0="abc", learning_rate=0.1, steps=3), TypeError, "^w0: expected a real array"),
        (dict(w0=1.0, learning_rate=float("inf"), steps=3), ValueError, "^learning_rate"),
    ],
)
def test_raw_numpy_errors_become_messages_naming_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        symgrad.gradient_descent(lambda w: 2 * w, **kwargs)


def test_a_learning_rate_too_large_stops_with_diverged_at_the_step_it_happened():
    # On L = w^2 the update is w <- (1 - 2 alpha) w: alpha = 1e200 multiplies w by about -2e200 per step, so
    # w_1 = -2e200 is finite and w_2 = 4e400 overflows, at step 1.
    with pytest.raises(TrainingDiverged, match=r"^gradient descent diverged at step 1: .*try a smaller learning rate"):
        symgrad.gradient_descent(lambda w: 2 * w, 1.0, 1e200, 10)


def test_divergence_is_an_arithmetic_error_reported_at_the_first_non_finite_gradient():
    # The gradient overflows on its own (w^3 is inf for |w| > 5.6e102) before the iterate does.
    calls = []

    def cubic_gradient(w):
        calls.append(float(w))
        with np.errstate(over="ignore"):
            return 4 * w**3

    with pytest.raises(ArithmeticError, match=r"diverged at step (\d+): grad\(w_\1\) is -?inf .*\|\|w_\1\|\| = \d"):
        symgrad.gradient_descent(cubic_gradient, 10.0, 0.5, 50)
    assert np.isfinite(calls).all() and len(calls) < 50


def test_a_gradient_that_is_nan_at_the_start_is_bad_input_not_divergence():
    with pytest.raises(ValueError, match=r"^grad: returned nan at index \(1,\) at the starting point w0"):
        symgrad.gradient_descent(lambda w: np.array([1.0, np.nan]), [1.0, 2.0], 0.1, 5)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_gradient_going_non_finite_after_the_first_step_says_diverged(bad):
    def gradient(w):
        return 2 * w if w[0] == 1.0 else np.array([bad, 0.0])

    with pytest.raises(TrainingDiverged, match=r"diverged at step 1: grad\(w_1\) is .* at index \(0,\)"):
        symgrad.gradient_descent(gradient, [1.0, 2.0], 0.1, 5)


def test_a_non_finite_gradient_at_the_tolerance_check_after_the_last_step_is_divergence_too():
    def gradient(w):
        return 2 * w if w == 3.0 else np.array(np.nan)

    with pytest.raises(TrainingDiverged, match="diverged at step 1"):
        symgrad.gradient_descent(gradient, 3.0, 0.1, 1, tolerance=1e-9)


def test_a_complex_gradient_is_refused_not_truncated_to_its_real_part():
    with pytest.raises(TypeError, match=r"^grad: .*complex128: its imaginary part would be lost"):
        symgrad.gradient_descent(lambda w: w + 1j, [1.0, 2.0], 0.1, 1)


@pytest.mark.parametrize("gradient", [lambda w: w > 0, lambda w: np.array(["a", "b"]), lambda w: [None, None]])
def test_a_gradient_of_a_non_numeric_kind_is_refused(gradient):
    with pytest.raises(TypeError, match=r"^grad: must return a real array"):
        symgrad.gradient_descent(gradient, [1.0, 2.0], 0.1, 1)


def test_an_integer_gradient_is_accepted_as_real():
    result = symgrad.gradient_descent(lambda w: np.array([1, 2]), [0.0, 0.0], 0.5, 2)
    np.testing.assert_array_equal(result.w, [-1.0, -2.0])


def test_a_scalar_gradient_for_a_vector_is_refused_not_broadcast():
    with pytest.raises(ValueError, match=r"^grad: returned shape \(\) at a point of shape \(2,\)"):
        symgrad.gradient_descent(lambda w: 1.0, [1.0, 2.0], 0.1, 1)


def test_line_search_with_a_nan_objective_raises_naming_the_objective_instead_of_standing_still():
    search = symgrad.LineSearch(lambda w: float("nan"))
    with pytest.raises(ValueError, match=r"^objective: returned nan at the current point"):
        symgrad.gradient_descent(lambda w: 2 * w, 1.0, search, 100)


def test_line_search_never_takes_a_step_whose_objective_is_not_finite():
    # L(w) = w^2 except that it overflows to inf beyond |w| = 10: the step 100 would "lower" nothing.
    def objective(w):
        return float(w**2) if abs(w) <= 10 else float("inf")

    search = symgrad.LineSearch(objective, step_sizes=(0.1, 100.0))
    result = symgrad.gradient_descent(lambda w: 2 * w, 1.0, search, 1)
    assert result.learning_rates.tolist() == [0.1]


@pytest.mark.parametrize(
    "step_sizes, error, message",
    [
        ("abc", TypeError, r"^step_sizes: expected a sequence"),
        ([0.1, "x"], TypeError, r"^step_sizes\[1\]: expected a real number"),
        ([0.1, -1.0], ValueError, r"^step_sizes\[1\]"),
        ([], ValueError, r"^step_sizes: need at least one"),
        ([np.nan], ValueError, r"^step_sizes\[0\]"),
    ],
)
def test_line_search_step_sizes_are_checked_by_name(step_sizes, error, message):
    with pytest.raises(error, match=message):
        symgrad.LineSearch(lambda w: 0.0, step_sizes)


def test_line_search_objective_must_return_one_real_number():
    search = symgrad.LineSearch(lambda w: np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"^objective: must return one real number"):
        symgrad.gradient_descent(lambda w: 2 * w, 1.0, search, 1)
