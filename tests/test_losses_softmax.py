"""Softmax cross-entropy: the lecture's numbers, the proofs (gradient, log-sum-exp form, shift invariance),
stability at scores of +-1e4, and the compiled batch function against an oracle and centered differences."""

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp

from symgrad import softmax_loss_and_grad
from symgrad.runtime.catalog import compiled_loss
from symgrad.symbolic.notation import score_symbols
from symgrad.symbolic.objectives import softmax
from symgrad.symbolic.registry import get_derivation, get_loss

CAT_SCORES = np.array([3.2, 5.1, -1.7])  # the lecture's cat image: scores (cat, car, frog), label cat


def compiled_per_example(scores, label):
    """(loss, probabilities) of one example through the generated per-score code."""
    number_of_classes = len(scores)
    onehot = np.eye(number_of_classes)[label]
    loss, gradient = compiled_loss("softmax").module.loss_and_score_gradient(scores[:, None], onehot[:, None])
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


@pytest.mark.parametrize("derivation", [softmax.softmax_ce, get_derivation("softmax")], ids=lambda d: d.name)
def test_derived_gradient_is_proved_equal_to_p_minus_onehot(derivation):
    assert derivation.verify()


def test_a_wrong_lecture_form_is_not_proved():
    scores, labels = score_symbols(3)
    normalizer = sum(sp.exp(s) for s in scores)
    plus_instead_of_minus = [sp.exp(s) / normalizer + t for s, t in zip(scores, labels, strict=True)]
    wrong = dataclasses.replace(softmax.softmax_ce, name="wrong", lecture_gradient=plus_instead_of_minus)
    assert not wrong.verify()


def test_log_sum_exp_form_equals_the_lecture_form():
    assert softmax.prove_log_sum_exp_form(3)


def test_shift_invariance_of_loss_and_gradient():
    assert softmax.prove_shift_invariance(3)


def test_shift_invariance_for_symbolic_number_of_classes():
    assert softmax.prove_shift_invariance_index_form()


def test_the_compiled_declaration_is_the_log_sum_exp_form_and_the_ratio_form_at_every_label():
    # verify() proves per_example == lecture_loss (the ratio) and the gradient == p - t for C = 2, 3, 4, each label.
    declaration = get_loss("softmax")
    assert declaration.lecture_loss is not None and declaration.verify()
    wrong = dataclasses.replace(declaration, lecture_loss=declaration.lecture_loss + 1)
    assert not wrong.verify()


def test_the_generated_code_shifts_by_the_class_maximum():
    source = compiled_loss("softmax").generated_source
    assert "numpy.maximum.reduce(S, axis=0, keepdims=True)" in source and "numpy.exp(S - " in source
