"""Multiclass SVM hinge: the lecture's numbers, the proofs, and the compiled batch function against an
independent CS231n-style oracle and against centered differences."""

import dataclasses

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symgrad import numerical_gradient, relative_error
from symgrad.runtime.losses import per_example_function, per_example_source, svm_loss_and_grad
from symgrad.symbolic.objectives import svm_hinge

# The lecture's table: one column per image (cat, car, frog), one row per class score (cat, car, frog).
LECTURE_SCORES = np.array([[3.2, 1.3, 2.2], [5.1, 4.9, 2.5], [-1.7, 2.0, -3.1]])
LECTURE_LABELS = np.array([0, 1, 2])
LECTURE_LOSSES = (2.9, 0.0, 12.9)


def svm_oracle(W, X, y, reg=0.0, delta=1.0):
    """Hand-written vectorized SVM (CS231n style), W (C, D), X (N, D): the independent reference."""
    n = X.shape[0]
    scores = X @ W.T
    margins = np.maximum(0.0, scores - scores[np.arange(n), y][:, None] + delta)
    margins[np.arange(n), y] = 0.0
    loss = margins.sum() / n + reg * np.sum(W * W)
    indicator = (margins > 0).astype(W.dtype)
    indicator[np.arange(n), y] = -indicator.sum(axis=1)
    return loss, indicator.T @ X / n + 2 * reg * W


def onehot(labels, number_of_classes):
    return (np.arange(number_of_classes)[:, None] == labels).astype(float)


def per_example_losses(scores, labels, delta=1.0):
    losses, _ = per_example_function("svm_hinge")(scores, onehot(labels, scores.shape[0]), delta, 0.0)
    return losses[0]


def test_lecture_table_losses_through_compiled_per_score_code():
    assert per_example_losses(LECTURE_SCORES, LECTURE_LABELS) == pytest.approx(LECTURE_LOSSES, abs=1e-12)


def test_lecture_table_mean_through_batch_function():
    # X = I makes the scores W x_i the columns of W: W is the table itself.
    loss, _ = svm_loss_and_grad(LECTURE_SCORES, np.eye(3), LECTURE_LABELS)
    assert loss == pytest.approx(5.27, abs=0.005)
    assert loss == pytest.approx(sum(LECTURE_LOSSES) / 3, abs=1e-12)


def test_doubling_weights_keeps_the_zero_loss_at_zero():
    car = LECTURE_LABELS == 1
    assert per_example_losses(2 * LECTURE_SCORES[:, car], LECTURE_LABELS[car]) == pytest.approx([0.0])


@pytest.mark.parametrize("number_of_classes", [2, 3, 10])
def test_loss_at_zero_weights_is_classes_minus_one(number_of_classes):
    X = np.random.default_rng(number_of_classes).normal(size=(7, 4))
    y = np.arange(7) % number_of_classes
    loss, _ = svm_loss_and_grad(np.zeros((number_of_classes, 4)), X, y)
    assert loss == pytest.approx(number_of_classes - 1)


@pytest.mark.parametrize("derivation", [svm_hinge.svm_hinge, svm_hinge.svm_hinge_scores], ids=lambda d: d.name)
def test_derived_gradient_is_proved_equal_to_equations_15_and_16(derivation):
    assert derivation.verify()


def test_a_wrong_lecture_form_is_not_proved():
    scores, labels = svm_hinge.score_symbols(3)
    lecture = svm_hinge.hinge_lecture_score_gradient(scores, labels)
    missing_minus_sign = [lecture[0].subs(labels[0], -labels[0]), *lecture[1:]]
    wrong = dataclasses.replace(svm_hinge.svm_hinge_scores, name="wrong", lecture_gradient=missing_minus_sign)
    assert not wrong.verify()


def test_index_form_for_symbolic_classes_and_features():
    assert svm_hinge.prove_index_form()


@pytest.mark.parametrize("number_of_classes", [2, 3, 4])
def test_all_classes_form_that_is_compiled_equals_the_lecture_form_at_every_label(number_of_classes):
    assert svm_hinge.prove_all_classes_form(number_of_classes)


def test_generated_source_is_one_text_for_every_class_count_without_a_loop():
    source = per_example_source("svm_hinge")
    assert "for " not in source and "select" not in source
    assert source.count("heaviside(") == 1  # one indicator array for every class and example
    assert source.count("numpy.sum(") == 3  # s_y, the loss, and the indicator count shared by the row w_y


def random_problem(seed, number_of_examples, number_of_features, number_of_classes, dtype=np.float64):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(number_of_classes, number_of_features)).astype(dtype)
    X = rng.normal(size=(number_of_examples, number_of_features)).astype(dtype)
    y = rng.integers(0, number_of_classes, size=number_of_examples)
    return W, X, y


problems = st.tuples(
    st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 5), st.integers(2, 5), st.floats(0.05, 1.0)
)


@settings(max_examples=40)
@given(problems)
def test_compiled_gradient_matches_centered_differences_away_from_kinks(problem):
    seed, n, d, c, reg = problem
    W, X, y = random_problem(seed, n, d, c)
    scores = X @ W.T
    margins = scores - scores[np.arange(n), y][:, None] + 1.0
    margins[np.arange(n), y] = np.inf
    # The loss is piecewise linear plus reg * sum(W^2): between kinks the centered difference is exact but for
    # rounding (~1e-16 L / h), so take a large step, keep every margin 10 steps' worth away from its kink, and
    # skip gradient entries that cancel to almost 0 (their relative error measures rounding only).
    step = 1e-3
    assume(np.min(np.abs(margins)) > 10 * step * np.max(np.abs(X)))
    _, dW = svm_loss_and_grad(W, X, y, reg=reg)
    assume(np.min(np.abs(dW)) > 1e-4)
    numeric = numerical_gradient(lambda V: svm_loss_and_grad(V, X, y, reg=reg)[0], W, h=step)
    assert relative_error(dW, numeric) <= 1e-7


@settings(max_examples=40)
@given(problems, st.floats(0.0, 2.0))
def test_compiled_batch_matches_the_hand_written_oracle(problem, delta):
    seed, n, d, c, reg = problem
    W, X, y = random_problem(seed, n, d, c)
    loss, dW = svm_loss_and_grad(W, X, y, reg=reg, delta=delta)
    expected_loss, expected_dW = svm_oracle(W, X, y, reg=reg, delta=delta)
    assert loss == pytest.approx(expected_loss, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-12, atol=1e-12)


@settings(max_examples=20)
@given(st.integers(0, 2**32 - 1))
def test_kink_value_zero_is_the_lecture_strict_indicator_even_at_exact_kinks(seed):
    rng = np.random.default_rng(seed)
    W = rng.integers(-2, 3, size=(4, 3)).astype(float)  # integer scores: many margins exactly 0
    X = rng.integers(-2, 3, size=(6, 3)).astype(float)
    y = rng.integers(0, 4, size=6)
    np.testing.assert_allclose(svm_loss_and_grad(W, X, y)[1], svm_oracle(W, X, y)[1], rtol=1e-12, atol=1e-12)


def test_kink_value_sets_the_indicator_at_a_zero_margin():
    # One example, scores (0, 1) with label 1: the margin of class 0 is 0 - 1 + 1 = 0, exactly a kink.
    W, X, y = np.array([[0.0], [1.0]]), np.array([[1.0]]), np.array([1])
    for kink_value in (0.0, 0.5, 1.0):
        _, dW = svm_loss_and_grad(W, X, y, kink_value=kink_value)
        np.testing.assert_array_equal(dW, [[kink_value], [-kink_value]])


def test_float32_in_float32_out_close_to_float64():
    W, X, y = random_problem(1, 50, 20, 10, dtype=np.float32)
    loss32, dW32 = svm_loss_and_grad(W, X, y, reg=0.1)
    loss64, dW64 = svm_loss_and_grad(W.astype(np.float64), X.astype(np.float64), y, reg=0.1)
    assert dW32.dtype == np.float32 and dW32.shape == W.shape
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    assert relative_error(dW32, dW64) < 1e-4


def test_generated_code_keeps_float32_in_float32():
    scores = np.ones((3, 5), dtype=np.float32)
    outputs = per_example_function("svm_hinge")(scores, onehot(np.zeros(5, int), 3).astype(np.float32),
                                                np.float32(1.0), np.float32(0.0))
    assert {np.asarray(o).dtype for o in outputs} == {np.dtype(np.float32)}


def test_inputs_are_not_modified_and_may_be_read_only_and_strided():
    W, X, y = random_problem(2, 9, 12, 3)
    X_strided = X[:, ::2]
    W_small = np.ascontiguousarray(W[:, ::2])
    for array in (W_small, X, y):
        array.setflags(write=False)
    copies = [W_small.copy(), X.copy(), y.copy()]
    loss, dW = svm_loss_and_grad(W_small, X_strided, y, reg=0.1)
    for array, copy in zip((W_small, X, y), copies):
        np.testing.assert_array_equal(array, copy)
    expected_loss, expected_dW = svm_oracle(W_small, X_strided, y, reg=0.1)
    assert loss == pytest.approx(expected_loss)
    np.testing.assert_allclose(dW, expected_dW)
