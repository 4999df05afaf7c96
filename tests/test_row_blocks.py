"""A NumPy loss on many examples runs a block of rows at a time (symgrad.runtime.blocks.accumulate_blocks): the
result is the one-block result up to the rounding of summing the blocks, errors name the same cause whichever
block meets it, and the prepared training path takes the same blocks. The block size is shrunk here so that
small problems span many blocks."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgrad
from random_problems import integer_problem
from symgrad.runtime import blocks
from symgrad.runtime.catalog import compiled_loss, loss_names

EVERY_LOSS = loss_names()
CLASSIFIERS = symgrad.loss_names("classifier")


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 64 bytes of X: 2 rows of 4 float64 features, 4 of float32."""
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 64)


def one_block(function, *arguments, **options):
    """The result with the whole batch in one block (the block size set beyond any test's X)."""
    size = blocks.BLOCK_BYTES
    blocks.BLOCK_BYTES = 2**62
    try:
        return function(*arguments, **options)
    finally:
        blocks.BLOCK_BYTES = size


@given(rows=st.integers(1, 5000), features=st.integers(1, 4000), itemsize=st.sampled_from([1, 4, 8]),
       block_bytes=st.integers(1, 2**24))
def test_row_blocks_cover_x_in_order_in_nearly_equal_blocks_of_the_set_size(rows, features, itemsize, block_bytes):
    X = np.broadcast_to(np.zeros((), np.dtype(f"u{itemsize}")), (rows, features))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocks, "BLOCK_BYTES", block_bytes)
        ranges = blocks.row_blocks(X)
        assert blocks.is_one_block(X) == (len(ranges) == 1)
    assert ranges[0].start == 0 and ranges[-1].stop == rows
    assert all(a.stop == b.start for a, b in zip(ranges[:-1], ranges[1:], strict=True))
    sizes = [block.stop - block.start for block in ranges]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
    rows_per_block = max(1, block_bytes // (features * itemsize))
    if len(ranges) == 1:
        assert rows <= 2 * rows_per_block
    else:
        assert rows > 2 * rows_per_block and max(sizes) <= rows_per_block


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reg", [0.0, 0.1])
@pytest.mark.parametrize("name", EVERY_LOSS)
def test_every_loss_in_many_blocks_equals_one_block_at_kinks_too(name, reg, dtype, small_blocks):
    function = symgrad.loss_and_grad_function(name)
    for seed in range(3):
        weights, X, targets = integer_problem(compiled_loss(name), seed, number_of_examples=37)
        weights, X = weights.astype(dtype), X.astype(dtype)
        assert len(blocks.row_blocks(X)) >= 5
        value, gradient = function(weights, X, targets, reg=reg)
        expected_value, expected_gradient = one_block(function, weights, X, targets, reg=reg)
        rounding = 1e-6 if dtype == np.float32 else 1e-14
        assert gradient.dtype == dtype and gradient.shape == weights.shape
        assert value == pytest.approx(expected_value, rel=rounding, abs=rounding)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=rounding, atol=rounding)


@pytest.mark.parametrize("name", [name for name in EVERY_LOSS if compiled_loss(name).kind == "regression"])
def test_one_vs_rest_and_integer_and_mixed_dtype_inputs_in_many_blocks(name, small_blocks):
    function = compiled_loss(name).one_vs_rest().public_function
    rng = np.random.default_rng(1)
    W, X, y = rng.normal(size=(3, 4)), rng.integers(-2, 3, size=(41, 4)), rng.integers(0, 3, 41)
    for features in (X, X.astype(np.float32)):
        got, expected = function(W, features, y, reg=0.1), one_block(function, W, features, y, reg=0.1)
        assert got[0] == pytest.approx(expected[0], rel=1e-13)
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-13, atol=1e-15)


def nan_at(X, W, y, row):
    X[row, 1] = np.nan
    return "^X: inputs must be finite"


def score_overflow_at(X, W, y, row):
    X[row, 1], W[:, 1] = 1e308, [10.0, -10.0, 5.0]
    return r"^X: the scores X @ W.T overflow"


def margin_overflow_at(X, W, y, row):
    # scores +1e308, -1e308 and 0 there: finite, but s_0 - s_y = 2e308 for the label y = 1 is not
    X[row], W[:, 0], y[row] = [1e306, 0.0, 0.0, 0.0], [100.0, -100.0, 0.0], 1
    return "the loss or its gradient overflows"


@pytest.mark.parametrize("make_bad", [nan_at, score_overflow_at, margin_overflow_at])
@pytest.mark.parametrize("row", [0, 20, 36])
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_a_nan_or_an_overflow_in_any_block_raises_what_one_block_raises(name, row, make_bad, small_blocks):
    function = symgrad.loss_and_grad_function(name)
    rng = np.random.default_rng(2)
    W, X, y = rng.normal(size=(3, 4)), rng.normal(size=(37, 4)), rng.integers(0, 3, 37)
    message = make_bad(X, W, y, row)
    with pytest.raises(ValueError, match=message) as raised:
        function(W, X, y)
    with pytest.raises(ValueError, match=message) as raised_in_one_block:
        one_block(function, W, X, y)
    assert str(raised.value) == str(raised_in_one_block.value)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_the_prepared_loss_takes_the_same_blocks_bit_for_bit(name, dtype, small_blocks):
    loss = compiled_loss(name)
    rng = np.random.default_rng(4)
    W, X, y = rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=(37, 4)).astype(dtype), rng.integers(0, 3, 37)
    prepared = loss.prepared(W.shape, dtype, 0.1, loss.parameter_values({}))
    value, gradient = prepared(W, X, y)
    expected_value, expected_gradient = loss(W, X, y, reg=0.1)
    assert value == expected_value
    np.testing.assert_array_equal(gradient, expected_gradient)
    stepped = W.copy()
    assert prepared.step(stepped, X, y, 0.5) == expected_value
    rounding = 8 * np.finfo(dtype).eps * max(1.0, float(np.abs(W).max()))
    np.testing.assert_allclose(stepped, W - 0.5 * expected_gradient, rtol=0, atol=rounding)


@pytest.mark.parametrize("name", EVERY_LOSS)
def test_a_dask_chunk_runs_in_blocks_equal_to_numpy_in_one_block(name, small_blocks):
    da = pytest.importorskip("dask.array")
    function = symgrad.loss_and_grad_function(name)
    for seed in range(2):
        weights, X, targets = integer_problem(compiled_loss(name), seed, number_of_examples=61)
        expected_value, expected_gradient = one_block(function, weights, X, targets, reg=0.1)
        value, gradient = function(weights, da.from_array(X, chunks=(25, 4)), targets, reg=0.1)
        assert value == pytest.approx(expected_value, rel=1e-13)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-13, atol=1e-14)
    W, X, y = np.full((3, 4), 10.0), np.ones((61, 4)), np.zeros(61, dtype=int)
    X[47, 2] = 1e308  # in the second chunk's third block: the scores overflow there, to 1e309
    with pytest.raises(ValueError, match="^X: the scores X @ W.T overflow to inf") as expected:
        one_block(symgrad.svm_loss_and_grad, W, X, y)
    with pytest.raises(ValueError, match=re.escape(str(expected.value))):
        symgrad.svm_loss_and_grad(W, da.from_array(X, chunks=(25, 4)), y)
