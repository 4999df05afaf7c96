"""The linear score layer (dL/dW = (dL/ds) x^T, batch form G X/N + 2 lambda W), the logistic chain rule,
the float32-preserving printer, and input validation of the batch loss functions."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

from symgrad import compile_derivation, svm_loss_and_grad
from symgrad.codegen.modules import generated_function
from symgrad.runtime.catalog import loss_function, loss_names
from symgrad.runtime.generated import linear_layer as generated_linear_layer
from symgrad.runtime.generated import module_source
from symgrad.symbolic.objectives import linear_layer, logistic


def test_outer_product_rule_for_any_loss_of_the_scores():
    assert linear_layer.prove_outer_product_rule(3, 2)


def test_batch_gradient_for_symbolic_sizes():
    assert linear_layer.prove_batch_gradient()


def test_matrix_diff_pitfall_is_avoided():
    # .diff of this sum of traces returns 0 (sympy#26585); the module derives with Derivative(...).doit().
    assert linear_layer.batch_gradient != 0
    assert linear_layer.batch_gradient.shape == (linear_layer.classes, linear_layer.features)


def test_generated_layer_code_is_two_matrix_products_and_no_loop():
    source = module_source(generated_linear_layer())
    # The two O(N C D) products, X W^T and G X, and nothing else (the L2 term is a vdot).
    assert "(X @ W.T)" in source and "(G @ X)" in source and source.count(" @ ") == 2
    assert "for " not in source and ".dot(" not in source and "einsum" not in source


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_generated_layer_code_keeps_the_dtype(dtype):
    rng = np.random.default_rng(0)
    W, X = rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=(5, 4)).astype(dtype)
    losses, G = rng.normal(size=(5, 1)).astype(dtype), rng.normal(size=(3, 5)).astype(dtype)
    layer = generated_linear_layer()
    S = layer.scores(W, X)[0]
    value, gradient = layer.data_objective_and_gradient(losses, G, X, 5)
    penalty, penalty_gradient = layer.l2_penalty_and_gradient(W, dtype(0.1))
    outputs = (S, gradient, penalty_gradient, np.asarray(value), np.asarray(penalty))
    assert {array.dtype for array in outputs} == {np.dtype(dtype)}
    np.testing.assert_allclose(S, X @ W.T, rtol=1e-5)
    np.testing.assert_allclose(gradient, G @ X / 5, rtol=1e-5)
    np.testing.assert_allclose(penalty_gradient, 0.2 * W, rtol=1e-5)
    assert value == pytest.approx(losses.mean(), rel=1e-5)
    assert penalty == pytest.approx(0.1 * np.sum(W**2), rel=1e-5)


def test_printer_writes_scaled_matrix_products_without_dot():
    A = sp.MatrixSymbol("A", 2, 3)
    B = sp.MatrixSymbol("B", 3, 2)
    f = generated_function([A, B], [A * B / 4])
    a, b = np.ones((2, 3), dtype=np.float32), np.ones((3, 2), dtype=np.float32)
    result = f(a, b)[0]
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, np.full((2, 2), 0.75))


def test_logistic_derivation_and_chain_rule():
    assert logistic.logistic.verify()
    assert logistic.prove_chain_rule()
    factors = logistic.chain_rule_factors()
    assert sp.simplify(factors["dL/dp"] + 1 / logistic.probability) == 0
    wrong = dataclasses.replace(
        logistic.logistic, name="wrong", lecture_gradient=tuple(-logistic.sigmoid(logistic.score) * x for x in logistic.features)
    )
    assert not wrong.verify()


def test_logistic_compiled_gradient_matches_closed_form():
    w, x = np.array([0.3, -0.7]), np.array([1.0, -2.0])
    gradient = compile_derivation(logistic.logistic).gradient(w, x0=x[0], x1=x[1])
    np.testing.assert_allclose(gradient, -(1 - 1 / (1 + np.exp(-w @ x))) * x)


W, X, Y = np.zeros((3, 4)), np.ones((5, 4)), np.array([0, 1, 2, 0, 1])
CLASSIFIERS = [loss_function(name) for name in loss_names("classifier")]
REGRESSIONS = [loss_function(name) for name in loss_names("regression")]
BAD_CLASSIFIER_INPUTS = [
    ({"W": np.zeros((3, 5))}, ValueError, "X: has 4 features"),
    ({"W": np.zeros(4)}, ValueError, "W: expected a 2-D array"),
    ({"W": np.zeros((1, 4))}, ValueError, "W: a classifier needs at least 2 classes"),
    ({"W": np.zeros((3, 4), dtype=int)}, TypeError, "W: expected a floating array"),
    ({"W": np.full((3, 4), np.nan)}, ValueError, "W: must be finite"),
    ({"X": np.ones((0, 4)), "y": np.array([], dtype=int)}, ValueError, "X: the batch is empty"),
    ({"X": np.ones(4)}, ValueError, "X: expected a 2-D array"),
    ({"X": np.where(np.eye(5, 4) > 0, np.inf, 1.0)}, ValueError, "X: inputs must be finite"),
    ({"X": np.where(np.eye(5, 4) > 0, np.nan, 1.0)}, ValueError, "X: inputs must be finite"),
    ({"y": np.array([0, 1, 3, 0, 1])}, ValueError, r"y: labels must be in \[0, 3\)"),
    ({"y": np.array([0, 1, -1, 0, 1])}, ValueError, r"y: labels must be in \[0, 3\)"),
    ({"y": np.array([0.0, 1.0, 2.0, 0.0, 1.0])}, TypeError, "y: labels must be integers"),
    ({"y": np.array([0, 1, 2])}, ValueError, "y: expected labels of shape"),
    ({"reg": -1.0}, ValueError, "reg:"),
    ({"reg": np.nan}, ValueError, "reg:"),
]


@pytest.mark.parametrize("loss_and_grad", CLASSIFIERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("change, error, message", BAD_CLASSIFIER_INPUTS)
def test_bad_classifier_input_names_the_argument(loss_and_grad, change, error, message):
    arguments = {"W": W, "X": X, "y": Y, **change}
    with pytest.raises(error, match=f"^{message}"):
        loss_and_grad(**arguments)


@pytest.mark.parametrize(
    "change, error, message",
    [({"delta": np.inf}, ValueError, "delta:"), ({"kink_value": 1.5}, ValueError, "kink_value:")],
)
def test_bad_svm_parameters_name_the_argument(change, error, message):
    with pytest.raises(error, match=f"^{message}"):
        svm_loss_and_grad(W, X, Y, **change)


def test_overflowing_scores_are_reported():
    with pytest.raises(ValueError, match="^X: the scores X @ W.T overflow"):
        svm_loss_and_grad(np.full((3, 4), 1e200), np.full((5, 4), 1e200), Y)


@pytest.mark.parametrize("loss_and_grad", REGRESSIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "w, X, t, error, message",
    [
        (np.zeros(3), np.ones((5, 4)), np.zeros(5), ValueError, "X: has 4 features"),
        (np.zeros((1, 4)), np.ones((5, 4)), np.zeros(5), ValueError, "w: expected a 1-D array"),
        (np.zeros(4, dtype=int), np.ones((5, 4)), np.zeros(5), TypeError, "w: expected a floating array"),
        (np.zeros(4), np.ones((5, 4)), np.zeros(4), ValueError, "t: expected targets of shape"),
        (np.zeros(4), np.ones((5, 4)), np.full(5, np.nan), ValueError, "t: targets must be finite"),
        (np.zeros(4), np.ones((0, 4)), np.zeros(0), ValueError, "X: the batch is empty"),
        (np.zeros(4), np.full((5, 4), np.inf), np.zeros(5), ValueError, "X: inputs must be finite"),
        (np.zeros(4), np.ones((5, 4)), np.array(["a"] * 5), TypeError, "t: expected real targets"),
        (np.zeros(4), np.ones((5, 4)), np.zeros(5, dtype=bool), TypeError, "t: expected real targets"),
    ],
)
def test_bad_regression_input_names_the_argument(loss_and_grad, w, X, t, error, message):
    with pytest.raises(error, match=f"^{message}"):
        loss_and_grad(w, X, t)


def test_integer_inputs_are_accepted_for_X():
    loss_from_int, dW_from_int = svm_loss_and_grad(np.ones((3, 4)), np.ones((5, 4), dtype=np.uint8), Y)
    loss, dW = svm_loss_and_grad(np.ones((3, 4)), np.ones((5, 4)), Y)
    assert loss_from_int == loss
    np.testing.assert_array_equal(dW_from_int, dW)
