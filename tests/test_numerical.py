"""Numerical gradients and the relative error of the lecture's gradient check."""

import numpy as np
import pytest

import symgrad


def polynomial(x):
    x1, x2, x3 = x
    return x1**3 + 5 * x1 * x2 - 3 * x2 * x3**2


def polynomial_gradient(x):
    x1, x2, x3 = x
    return np.array([3 * x1**2 + 5 * x2, 5 * x1 - 3 * x3**2, -6 * x2 * x3])


def error_slope(method):
    """Slope of log(max error) against log(h): the order of the difference formula."""
    x = np.array([1.3, -0.7, 2.1])
    steps = np.logspace(-1, -3, 9)
    errors = [np.abs(symgrad.numerical_gradient(polynomial, x, h=h, method=method) - polynomial_gradient(x)).max() for h in steps]
    return np.polyfit(np.log(steps), np.log(errors), 1)[0]


def test_forward_differences_are_first_order():
    assert error_slope("forward") == pytest.approx(1.0, abs=0.1)


def test_centered_differences_are_second_order():
    assert error_slope("centered") == pytest.approx(2.0, abs=0.1)


def test_numerical_gradient_works_on_any_shape_and_leaves_the_input_alone():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(2, 3, 4))
    original = W.copy()
    weights = rng.normal(size=W.shape)
    gradient = symgrad.numerical_gradient(lambda A: np.sum(weights * A**2), W)
    np.testing.assert_allclose(gradient, 2 * weights * W, rtol=1e-8)
    np.testing.assert_array_equal(W, original)


def test_read_only_and_integer_inputs_are_accepted():
    x = np.arange(3)
    x.flags.writeable = False
    gradient = symgrad.numerical_gradient(lambda v: float(np.sum(v**2)), x)
    np.testing.assert_allclose(gradient, [0.0, 2.0, 4.0], atol=1e-8)
    assert gradient.dtype == np.float64


def test_float32_points_are_differenced_in_float32_unless_asked():
    x = np.array([1.0, 2.0], dtype=np.float32)
    assert symgrad.numerical_gradient(lambda v: v @ v, x, h=1e-2).dtype == np.float32
    assert symgrad.numerical_gradient(lambda v: v @ v, x, dtype=np.float64).dtype == np.float64


def test_relative_error_follows_the_lecture_definition():
    assert symgrad.relative_error(1.0, 1.1) == pytest.approx(0.1 / 1.1)
    assert symgrad.relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert symgrad.relative_error([0.0], [1e-12]) == 1.0
    assert symgrad.relative_error([2.0, -1.0], [2.0, 1.0]) == 2.0


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="method"):
        symgrad.numerical_gradient(polynomial, np.zeros(3), method="backward")
    with pytest.raises(ValueError, match="h: "):
        symgrad.numerical_gradient(polynomial, np.zeros(3), h=0)
    with pytest.raises(TypeError, match="f: must return one real number"):
        symgrad.numerical_gradient(lambda v: v, np.zeros(3))
    with pytest.raises(ValueError, match="b: shape"):
        symgrad.relative_error(np.zeros(2), np.zeros(3))
    with pytest.raises(TypeError, match="a: expected a real array"):
        symgrad.relative_error(np.array([1j]), np.zeros(1))
    with pytest.raises(ValueError, match="x: must be finite"):
        symgrad.numerical_gradient(polynomial, np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match=r"h: the step 1.0 is lost in rounding at x\[0\]"):
        symgrad.numerical_gradient(lambda v: float(v @ v), np.array([9.1e15]), h=1.0)
