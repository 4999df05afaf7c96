"""Malformed input thrown at every public function: only a result or the documented ValueError / TypeError."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import symgrad
from symgrad.codegen.compile import compile_derivation

dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, np.str_, object])
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


@st.composite
def arrays(draw):
    """Arrays of any small shape and dtype, with NaN and inf among the floats, or a non-array value."""
    dtype = draw(dtypes)
    shape = draw(shapes)
    if dtype in (np.float64, np.float32):
        return draw(hnp.arrays(dtype, shape, elements=st.floats(width=32 if dtype == np.float32 else 64)))
    if dtype is np.int64:
        return draw(hnp.arrays(dtype, shape, elements=st.integers(-3, 12)))
    if dtype is np.bool_:
        return draw(hnp.arrays(dtype, shape))
    if dtype is np.complex128:
        return draw(hnp.arrays(dtype, shape, elements=st.complex_numbers(max_magnitude=10)))
    if dtype is np.str_:
        return np.full(shape, "w")
    return draw(st.sampled_from([None, [1.0, "a"], {"W": 1}, 3.5, "text"]))


numbers = st.one_of(st.floats(), st.integers(-5, 5), st.none(), st.text(max_size=2), st.booleans())
DOCUMENTED = (ValueError, TypeError)
fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_documented_errors(call):
    try:
        call()
    except DOCUMENTED:
        pass


@fuzz
@given(arrays(), arrays(), arrays(), numbers)
@pytest.mark.parametrize("name", ["svm_loss_and_grad", "softmax_loss_and_grad"])
def test_classifier_losses(name, W, X, y, reg):
    only_documented_errors(lambda: getattr(symgrad, name)(W, X, y, reg=reg))


@fuzz
@given(arrays(), arrays(), arrays())
def test_squared_loss(w, X, y):
    only_documented_errors(lambda: symgrad.squared_loss_and_grad(w, X, y))


@fuzz
@given(arrays(), numbers, st.sampled_from(["centered", "forward", "backward", 3]))
def test_numerical_gradient(x, h, method):
    only_documented_errors(lambda: symgrad.numerical_gradient(lambda v: float(np.sum(np.square(v))), x, h=h, method=method))


@fuzz
@given(arrays(), arrays())
def test_relative_error(a, b):
    only_documented_errors(lambda: symgrad.relative_error(a, b))


@fuzz
@given(arrays(), st.one_of(numbers, st.lists(st.floats(0, 1), max_size=4)), st.one_of(st.integers(-2, 5), st.floats(), st.none()))
def test_gradient_descent(w0, learning_rate, steps):
    only_documented_errors(lambda: symgrad.gradient_descent(lambda w: 2 * np.asarray(w), w0, learning_rate, steps))


@fuzz
@given(arrays(), st.sampled_from(["full", "sparse", "directional", "fast", None]))
def test_check_gradient(x, mode):
    only_documented_errors(lambda: symgrad.check_gradient(lambda v: float(np.sum(np.square(v))), lambda v: 2 * v, x, mode=mode))


@fuzz
@given(arrays(), arrays())
def test_check_subgradient(x, g):
    only_documented_errors(lambda: symgrad.check_subgradient(lambda v: float(np.sum(np.abs(v))), g, x))


@fuzz
@given(st.one_of(st.text(max_size=12), st.none(), st.integers()))
def test_get_derivation(name):
    only_documented_errors(lambda: symgrad.get_derivation(name))


@fuzz
@given(st.text(max_size=20), st.one_of(st.text(max_size=6), st.lists(st.text(max_size=3), max_size=3), st.none()))
def test_derive(expression, wrt):
    only_documented_errors(lambda: symgrad.derive(expression, wrt))


@fuzz
@given(arrays())
def test_compiled_gradient_of_a_derivation(x):
    compiled = compile_derivation(symgrad.get_derivation("polynomial"))
    only_documented_errors(lambda: compiled.gradient(x))
    only_documented_errors(lambda: compiled.value(x))


def problem(dtype):
    rng = np.random.default_rng(0)
    return rng.normal(size=(4, 6)).astype(dtype), rng.normal(size=(7, 6)).astype(dtype), rng.integers(0, 4, 7)


@pytest.mark.parametrize("name", ["svm_loss_and_grad", "softmax_loss_and_grad"])
def test_read_only_and_non_contiguous_inputs_are_accepted_and_never_modified(name):
    W, X, y = problem(np.float64)
    expected = getattr(symgrad, name)(W, X, y, reg=0.1)
    wide = np.zeros((7, 12))
    wide[:, ::2] = X
    strided = wide[:, ::2]
    W_fortran = np.asfortranarray(W)
    copies = [a.copy() for a in (W_fortran, strided, y)]
    for array in (W_fortran, strided, y):
        array.flags.writeable = False
    loss, dW = getattr(symgrad, name)(W_fortran, strided, y, reg=0.1)
    assert loss == pytest.approx(expected[0]) and np.allclose(dW, expected[1])
    for array, copy in zip((W_fortran, strided, y), copies, strict=True):
        np.testing.assert_array_equal(array, copy)


@pytest.mark.parametrize("name", ["svm_loss_and_grad", "softmax_loss_and_grad"])
def test_float32_in_float32_out(name):
    W, X, y = problem(np.float32)
    loss, dW = getattr(symgrad, name)(W, X, y, reg=0.1)
    assert dW.dtype == np.float32 and isinstance(loss, float)
