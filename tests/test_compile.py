"""Compiled value and gradient: shapes, dtypes, batches, constants, caching."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import symgrad
from symgrad.codegen.compile import compile_derivation

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def lecture_polynomial_gradient(x1, x2, x3):
    """Written out by hand from the lecture, independently of SymPy."""
    return np.array([3 * x1**2 + 5 * x2, 5 * x1 - 3 * x3**2, -6 * x2 * x3])


@given(finite, finite, finite)
def test_compiled_polynomial_gradient_matches_the_lecture_formula(x1, x2, x3):
    gradient = compile_derivation(symgrad.get_derivation("polynomial")).gradient(np.array([x1, x2, x3]))
    np.testing.assert_allclose(gradient, lecture_polynomial_gradient(x1, x2, x3), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["polynomial", "bowl_1d", "bowl_2d", "saddle"])
@given(data=st.data())
def test_compiled_gradient_agrees_with_centered_differences_to_1e_7(name, data):
    compiled = compile_derivation(symgrad.get_derivation(name))
    size = int(np.prod(compiled.shape))
    x = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=size, max_size=size))).reshape(compiled.shape)
    analytic = compiled.gradient(x)
    # Relative error is meaningful where each component stands above the centered difference's rounding
    # noise, eps * |f| / h ~ 1e-9 here; the lecture's 1e-7 criterion is stated for such components.
    assume(np.all(np.abs(analytic) >= 0.1))
    numerical = symgrad.numerical_gradient(compiled.value, x, h=1e-5)
    assert symgrad.relative_error(analytic, numerical) <= 1e-7


def test_gradient_evaluates_a_batch_of_points_in_one_call():
    compiled = compile_derivation(symgrad.get_derivation("polynomial"))
    points = np.random.default_rng(0).normal(size=(3, 5, 4))
    batch = compiled.gradient(points)
    assert batch.shape == (3, 5, 4)
    for i in range(5):
        for j in range(4):
            np.testing.assert_allclose(batch[:, i, j], lecture_polynomial_gradient(*points[:, i, j]))
    assert compiled.value(points).shape == (5, 4)


def test_a_constant_gradient_component_comes_back_as_a_full_array():
    import sympy as sp

    a, b = sp.symbols("a b", real=True)
    linear = symgrad.Derivation("linear_demo", "3 a + b^2", 3 * a + b**2, (a, b), (sp.Integer(3), 2 * b))
    gradient = compile_derivation(linear).gradient(np.zeros((2, 7), dtype=np.float32))
    assert gradient.shape == (2, 7) and gradient.dtype == np.float32
    np.testing.assert_array_equal(gradient[0], np.full(7, 3.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    compiled = compile_derivation(symgrad.get_derivation("polynomial"))
    x = np.array([1.5, -2.0, 0.25], dtype=dtype)
    assert compiled.gradient(x).dtype == dtype
    assert np.asarray(compiled.value(x)).dtype == dtype


def test_integer_points_are_evaluated_in_float64():
    gradient = compile_derivation(symgrad.get_derivation("bowl_2d")).gradient(np.array([1, 2]))
    assert gradient.dtype == np.float64
    np.testing.assert_array_equal(gradient, [2.0, 4.0])


def test_parameters_are_keyword_arguments_and_broadcast():
    directional = compile_derivation(symgrad.get_derivation("directional_derivative"))
    x = dict(x1=1.0, x2=2.0, x3=3.0)
    u = dict(u1=1.0, u2=0.0, u3=0.0)
    # At t = 0 with u = e1, the directional derivative is df/dx1 = 3 x1^2 + 5 x2 = 13.
    assert directional.gradient(0.0, **x, **u) == pytest.approx(13.0)
    along_t = directional.gradient(np.array([0.0, 0.0]), **x, **u)
    assert along_t.shape == (2,)


def test_compiled_functions_are_built_once():
    polynomial = symgrad.get_derivation("polynomial")
    assert compile_derivation(polynomial) is compile_derivation(polynomial)


def test_bad_points_are_rejected_naming_the_argument():
    compiled = compile_derivation(symgrad.get_derivation("polynomial"))
    with pytest.raises(ValueError, match=r"point: polynomial takes an array of shape \(3,\)"):
        compiled.gradient(np.zeros(2))
    with pytest.raises(TypeError, match="point: expected a real array"):
        compiled.gradient(np.array(["a", "b", "c"]))
    with pytest.raises(TypeError, match="missing parameter 'u1'"):
        compile_derivation(symgrad.get_derivation("directional_derivative")).gradient(0.0, x1=1, x2=1, x3=1)
    with pytest.raises(TypeError, match="unknown parameters"):
        compiled.gradient(np.zeros(3), speed=1)
