"""Regularizers L2, L1 and elastic net: proofs, the value at L1's kink, and the L2 term in the batch losses."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

from symgrad import softmax_loss_and_grad, svm_loss_and_grad
from symgrad.symbolic.objectives import regularizers
from symgrad.codegen.compile import compile_derivation


@pytest.mark.parametrize(
    "derivation",
    [regularizers.l2_regularizer, regularizers.l1_regularizer, regularizers.elastic_net],
    ids=lambda d: d.name,
)
def test_derived_gradient_is_proved_equal_to_the_lecture_form(derivation):
    assert derivation.verify()


def test_wrong_lecture_forms_are_not_proved():
    l2_without_factor_two = tuple(regularizers.weights)
    l1_as_step = tuple(sp.Heaviside(w) for w in regularizers.weights)
    assert not dataclasses.replace(regularizers.l2_regularizer, name="wrong", lecture_gradient=l2_without_factor_two).verify()
    assert not dataclasses.replace(regularizers.l1_regularizer, name="wrong", lecture_gradient=l1_as_step).verify()


def test_l1_subgradient_at_zero_is_zero_and_within_the_subdifferential():
    W = np.array([[0.0, -2.0], [3.0, 0.0]])
    gradient = compile_derivation(regularizers.l1_regularizer).gradient(W)
    np.testing.assert_array_equal(gradient, [[0.0, -1.0], [1.0, 0.0]])
    assert np.all(np.abs(gradient[W == 0]) <= 1)


def test_elastic_net_gradient_values():
    W = np.array([[0.5, -1.0], [0.0, 2.0]])
    gradient = compile_derivation(regularizers.elastic_net).gradient(W, beta=0.25)
    np.testing.assert_allclose(gradient, 2 * 0.25 * W + np.sign(W))
    assert compile_derivation(regularizers.elastic_net).value(W, beta=0.25) == pytest.approx(0.25 * np.sum(W**2) + np.sum(np.abs(W)))


@pytest.mark.parametrize("loss_and_grad", [svm_loss_and_grad, softmax_loss_and_grad])
def test_l2_term_of_the_batch_losses(loss_and_grad):
    rng = np.random.default_rng(4)
    W, X, y = rng.normal(size=(3, 4)), rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
    loss0, dW0 = loss_and_grad(W, X, y)
    loss1, dW1 = loss_and_grad(W, X, y, reg=0.3)
    assert loss1 - loss0 == pytest.approx(0.3 * np.sum(W**2))
    np.testing.assert_allclose(dW1 - dW0, 2 * 0.3 * W, atol=1e-12)
