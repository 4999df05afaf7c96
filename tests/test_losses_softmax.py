"""Softmax cross-entropy: the lecture's numbers, the proofs (gradient, log-sum-exp form, shift invariance),
stability at scores of +-1e4, and the compiled batch function against an oracle and centered differences."""

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symgrad import numerical_gradient, relative_error
from symgrad.runtime.losses import per_example_function, softmax_loss_and_grad
from symgrad.symbolic.objectives import softmax
from test_losses_svm import random_problem

CAT_SCORES = np.array([3.2, 5.1, -1.7])  # the lecture's cat image: scores (cat, car, frog), label cat


def softmax_oracle(W, X, y, reg=0.0):
    """Hand-written vectorized softmax (CS231n style), W (C, D), X (N, D): the independent reference."""
    n = X.shape[0]
    scores = X @ W.T
    scores = scores - scores.max(axis=1, keepdims=True)
    log_normalizer = np.log(np.exp(scores).sum(axis=1))
    loss = np.sum(log_normalizer - scores[np.arange(n), y]) / n + reg * np.sum(W * W)
    probabilities = np.exp(scores - log_normalizer[:, None])
    probabilities[np.arange(n), y] -= 1
    return loss, probabilities.T @ X / n + 2 * reg * W


def compiled_per_example(scores, label):
    """(loss, probabilities) of one example through the generated per-score code."""
    number_of_classes = len(scores)
    onehot = np.eye(number_of_classes)[label]
    loss, gradient = per_example_function("softmax_ce")(scores[:, None], onehot[:, None])
    return float(loss[0, 0]), gradient[:, 0] + onehot


def test_lecture_cat_example_probabilities_and_loss():
    loss, probabilities = compiled_per_example(CAT_SCORES, 0)
    assert probabilities == pytest.approx([0.13, 0.87, 0.00], abs=0.005)
    lecture_exponentials = np.array([24.5, 164.0, 0.18])
    assert probabilities == pytest.approx(lecture_exponentials / lecture_exponentials.sum(), abs=1e-3)
    assert loss == pytest.approx(-math.log(0.13), abs=0.01)
    assert loss == pytest.approx(2.04, abs=0.005)


@pytest.mark.parametrize("number_of_classes", [2, 3, 10])
def test_loss_at_equal_scores_is_log_of_classes(number_of_classes):
    X = np.random.default_rng(0).normal(size=(5, 3))
    loss, _ = softmax_loss_and_grad(np.zeros((number_of_classes, 3)), X, np.arange(5) % number_of_classes)
    assert loss == pytest.approx(math.log(number_of_classes))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_and_correct_at_scores_of_ten_thousand(dtype):
    # X = I: the scores of example i are column i of W. Columns: (1e4, -1e4, 0) with labels 0, 1, 2.
    W = np.array([[1e4, 1e4, 1e4], [-1e4, -1e4, -1e4], [0.0, 0.0, 0.0]], dtype=dtype)
    loss, dW = softmax_loss_and_grad(W, np.eye(3, dtype=dtype), np.array([0, 1, 2]))
    # p = (1, 0, 0) to working precision for every example: losses 0, 2e4, 1e4; dL/ds = p - e_y.
    assert loss == pytest.approx((0.0 + 2e4 + 1e4) / 3, rel=1e-6)
    expected_dW = (np.array([[1, 1, 1], [0, 0, 0], [0, 0, 0]]) - np.eye(3)) / 3
    assert dW.dtype == dtype and np.all(np.isfinite(dW))
    np.testing.assert_allclose(dW, expected_dW, atol=1e-6)


@pytest.mark.parametrize("derivation", [softmax.softmax_ce, softmax.softmax_ce_log_sum_exp], ids=lambda d: d.name)
def test_derived_gradient_is_proved_equal_to_p_minus_onehot(derivation):
    assert derivation.verify()


def test_a_wrong_lecture_form_is_not_proved():
    scores, labels = softmax.score_symbols(3)
    normalizer = sum(sp.exp(s) for s in scores)
    plus_instead_of_minus = [sp.exp(s) / normalizer + t for s, t in zip(scores, labels)]
    wrong = dataclasses.replace(softmax.softmax_ce, name="wrong", lecture_gradient=plus_instead_of_minus)
    assert not wrong.verify()


def test_log_sum_exp_form_equals_the_lecture_form():
    assert softmax.prove_log_sum_exp_form(3)


def test_shift_invariance_of_loss_and_gradient():
    assert softmax.prove_shift_invariance(3)


def test_shift_invariance_for_symbolic_number_of_classes():
    assert softmax.prove_shift_invariance_index_form()


@pytest.mark.parametrize("number_of_classes", [2, 3, 4])
def test_index_form_that_is_compiled_is_the_log_sum_exp_loss_and_the_lecture_gradient(number_of_classes):
    assert softmax.prove_index_form(number_of_classes)


problems = st.tuples(
    st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 5), st.integers(2, 5), st.floats(0.0, 1.0)
)


@settings(max_examples=40)
@given(problems)
def test_compiled_gradient_matches_centered_differences(problem):
    seed, n, d, c, reg = problem
    W, X, y = random_problem(seed, n, d, c)
    _, dW = softmax_loss_and_grad(W, X, y, reg=reg)
    # An entry that nearly cancels to 0 measures the difference quotient's rounding (~1e-11), not the gradient.
    assume(np.min(np.abs(dW)) > 1e-3)
    numeric = numerical_gradient(lambda V: softmax_loss_and_grad(V, X, y, reg=reg)[0], W, h=1e-5)
    assert relative_error(dW, numeric) <= 1e-7


@settings(max_examples=40)
@given(problems, st.floats(1.0, 1e3))
def test_compiled_batch_matches_the_hand_written_oracle(problem, scale):
    seed, n, d, c, reg = problem
    W, X, y = random_problem(seed, n, d, c)
    W = W * scale  # large scores too: the shifted form must stay exact
    loss, dW = softmax_loss_and_grad(W, X, y, reg=reg)
    expected_loss, expected_dW = softmax_oracle(W, X, y, reg=reg)
    assert loss == pytest.approx(expected_loss, rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-9, atol=1e-9 * (1 + reg * scale))


def test_float32_in_float32_out_close_to_float64():
    W, X, y = random_problem(3, 60, 30, 10, dtype=np.float32)
    loss32, dW32 = softmax_loss_and_grad(W, X, y, reg=0.05)
    loss64, dW64 = softmax_loss_and_grad(W.astype(np.float64), X.astype(np.float64), y, reg=0.05)
    assert dW32.dtype == np.float32 and dW32.shape == W.shape
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    assert relative_error(dW32, dW64) < 1e-3


def test_generated_code_keeps_float32_in_float32():
    scores = np.ones((4, 6), dtype=np.float32)
    onehot = np.zeros((4, 6), dtype=np.float32)
    onehot[0] = 1
    outputs = per_example_function("softmax_ce")(scores, onehot)
    assert {np.asarray(o).dtype for o in outputs} == {np.dtype(np.float32)}
