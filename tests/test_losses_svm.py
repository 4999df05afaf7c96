"""Multiclass SVM hinge: the lecture's numbers through the generated code, the proofs with symbolic weights and
features, and the indicator's value at an exact kink. (The properties every compiled loss has are in
test_compiled_losses.py.)"""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import svm_loss_and_grad
from symgrad.runtime.catalog import compiled_loss
from symgrad.symbolic.notation import score_symbols
from symgrad.symbolic.objectives import svm_hinge
from symgrad.symbolic.registry import get_derivation, get_loss

# The lecture's table: one column per image (cat, car, frog), one row per class score (cat, car, frog).
LECTURE_SCORES = np.array([[3.2, 1.3, 2.2], [5.1, 4.9, 2.5], [-1.7, 2.0, -3.1]])
LECTURE_LABELS = np.array([0, 1, 2])
LECTURE_LOSSES = (2.9, 0.0, 12.9)
svm_oracle = get_loss("svm").reference


def onehot(labels, number_of_classes):
    return (np.arange(number_of_classes)[:, None] == labels).astype(float)


def per_example_losses(scores, labels, delta=1.0):
    losses, _ = compiled_loss("svm").module.loss_and_score_gradient(scores, onehot(labels, scores.shape[0]), delta, 0.0)
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


@pytest.mark.parametrize("derivation", [svm_hinge.svm_hinge, get_derivation("svm")], ids=lambda d: d.name)
def test_derived_gradient_is_proved_equal_to_equations_15_and_16(derivation):
    assert derivation.verify()


def test_a_wrong_lecture_form_is_not_proved():
    scores, labels = score_symbols(3)
    lecture = svm_hinge.hinge_lecture_score_gradient(scores, labels)
    at_label_0 = {t: int(position == 0) for position, t in enumerate(labels)}
    missing_minus_sign = [-lecture[0].subs(at_label_0), *(row.subs(at_label_0) for row in lecture[1:])]
    wrong = dataclasses.replace(get_derivation("svm"), name="wrong", lecture_gradient=missing_minus_sign)
    assert not wrong.verify()


def test_index_form_for_symbolic_classes_and_features():
    assert svm_hinge.prove_index_form()


def test_generated_source_is_one_text_for_every_class_count_without_a_loop():
    source = compiled_loss("svm").generated_source
    assert "for " not in source and "select" not in source
    assert source.count("heaviside(") == 1  # one indicator array for every class and example
    # s_y, the loss, and the indicator count shared by the row w_y; the kink arguments repeat s_y
    assert source.count("numpy.add.reduce(") == 4


def test_the_loss_is_never_negative_where_subtracting_the_label_term_rounded_below_zero():
    # (Delta + s_y) - s_y - max(0, Delta) was -4.4e-16 here in float64 (-5.96e-8 in float32).
    W, X, y = np.array([[-0.124], [2.484]]), np.array([[1.515]]), np.array([1])
    for dtype in (np.float64, np.float32):
        loss, _ = svm_loss_and_grad(W.astype(dtype), X.astype(dtype), y)
        assert loss >= 0.0


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
