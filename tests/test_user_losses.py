"""Your own loss: written in index notation or as a formula string, compiled like the built-ins (NumPy, JAX, Dask),
with its kinks read off for the strategies and the checker, trainable, usable from the command line."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from random_problems import random_problem
from symgrad.notation import class_sum, j, k, label_score, prediction, s, t, target
from symgrad.symbolic.expressions import ExpressionError
from symgrad.symbolic.loss_formulas import parse_loss_formula
from symgrad.verification.checker import check_gradient, check_subgradient
from symgrad.verification.hypothesis_strategies import linear_model_problems, linear_model_problems_at_kinks

delta = sp.Symbol("delta", real=True)
margin = s[j] - label_score + delta


def squared_hinge_by_hand(W, X, y, reg=0.0, delta=1.0):
    """Mean of sum_{j != y} max(0, s_j - s_y + delta)^2 and its gradient, written here independently."""
    n = len(y)
    scores = X @ W.T
    hinge = np.maximum(scores - scores[np.arange(n), y][:, None] + delta, 0)
    hinge[np.arange(n), y] = 0
    coefficients = 2 * hinge
    coefficients[np.arange(n), y] = -coefficients.sum(axis=1)
    return (hinge**2).sum() / n + reg * np.sum(W**2), coefficients.T @ X / n + 2 * reg * W


def huber_by_hand(w, X, targets, delta=1.0):
    residual = X @ w - targets
    small = np.abs(residual) <= delta
    loss = np.where(small, residual**2 / 2, delta * (np.abs(residual) - delta / 2)).mean()
    return loss, X.T @ np.clip(residual, -delta, delta) / len(targets)


def test_the_squared_hinge_in_index_notation_is_a_few_lines_and_equals_the_reference():
    squared_hinge = symgrad.define_loss(
        "user_squared_hinge", class_sum((1 - t[j]) * sp.Max(0, margin) ** 2), parameters={"delta": 1.0}
    )
    W, X, y = random_problem(0, 40, 6, 5)
    loss, dW = squared_hinge(W, X, y, reg=0.1, delta=0.7)
    expected_loss, expected_dW = squared_hinge_by_hand(W, X, y, reg=0.1, delta=0.7)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-12, atol=1e-14)
    assert squared_hinge.declaration.kink_arguments  # read off the expression: max(0, margin)


@pytest.mark.parametrize("backend", ["numpy", "jax", "dask"])
def test_a_formula_string_loss_runs_on_every_backend(backend):
    pytest.importorskip(backend if backend != "numpy" else "numpy")
    symgrad.define_loss("user_formula_hinge", "sum_other(max(0, s[j] - s[y] + delta)**2)", parameters={"delta": 1.0})
    W, X, y = random_problem(1, 30, 5, 4)
    loss, dW = symgrad.loss_and_grad_function("user_formula_hinge", backend)(W, X, y, reg=0.05)
    expected_loss, expected_dW = squared_hinge_by_hand(W, X, y, reg=0.05)
    assert loss == pytest.approx(expected_loss, rel=1e-10)
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-10, atol=1e-13)


def test_a_regression_loss_in_the_prediction_and_target():
    huber = symgrad.define_loss(
        "user_huber", sp.Min(sp.Abs(prediction - target), delta) ** 2 / 2 + delta * sp.Max(sp.Abs(prediction - target) - delta, 0),
        kind="regression", parameters={"delta": 1.0},
    )
    rng = np.random.default_rng(3)
    w, X, targets = rng.normal(size=4), rng.normal(size=(25, 4)), 3 * rng.normal(size=25)
    loss, dw = huber(w, X, targets, delta=0.5)
    expected_loss, expected_dw = huber_by_hand(w, X, targets, delta=0.5)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(dw, expected_dw, rtol=1e-12, atol=1e-14)
    assert dw.shape == (4,)


@pytest.mark.parametrize("dtype, z", [(np.float64, 800.0), (np.float32, 100.0)])
def test_a_users_logistic_formula_is_stable_at_large_margins(dtype, z):
    logistic = symgrad.define_loss("user_logistic", "log(1 + exp(u)) - y*u", kind="regression")
    X = np.array([[1.0, -2.0]], dtype=dtype)
    for sign in (-1.0, 1.0):
        loss, gradient = logistic(np.array([sign * z, 0.0], dtype=dtype), X, np.array([1.0]))
        expected = (z, [-1.0, 2.0]) if sign < 0 else (0.0, [0.0, 0.0])  # log(1 + e^{-z}) and (sigma(z) - 1) x
        assert np.isfinite(loss) and loss == pytest.approx(expected[0], abs=1e-6)
        np.testing.assert_allclose(gradient, expected[1], atol=1e-6)
        assert gradient.dtype == dtype


def test_a_closed_form_is_proved_and_a_wrong_one_refused():
    per_example = class_sum((1 - t[j]) * sp.Max(0, margin) ** 2)
    right = 2 * (1 - t[k]) * sp.Max(0, margin.subs(j, k)) - 2 * t[k] * class_sum((1 - t[j]) * sp.Max(0, margin))
    defined = symgrad.define_loss("user_proved", per_example, parameters={"delta": 1.0}, lecture_gradient=right)
    assert defined.declaration.verify()
    with pytest.raises(ValueError, match="^lecture_gradient: user_wrong: the closed form is not proved"):
        symgrad.define_loss("user_wrong", per_example, parameters={"delta": 1.0}, lecture_gradient=right / 2)


@settings(max_examples=15)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_kinks_are_read_off_for_the_strategies_and_the_checker(data, seed):
    symgrad.define_loss("user_hinge", "sum_other(max(0, s[j] - s[y] + delta))", parameters={"delta": 1.0}, convex=True)
    problem = data.draw(linear_model_problems_at_kinks("user_hinge", dtype=np.float64))
    function = symgrad.loss_and_grad_function("user_hinge")

    def f(W):
        return function(W, problem.X, problem.targets, **problem.parameters)[0]

    gradient = function(problem.weights, problem.X, problem.targets, **problem.parameters)[1]
    assert check_subgradient(f, gradient, problem.weights, convex=True, seed=seed).ok


@settings(max_examples=10)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_smooth_points_of_a_user_loss_pass_the_checker(data, seed):
    symgrad.define_loss("user_hinge_smooth", "sum_other(max(0, s[j] - s[y] + delta))", parameters={"delta": 1.0})
    problem = data.draw(linear_model_problems("user_hinge_smooth", dtype=np.float64, margin=1e-2))
    function = symgrad.loss_and_grad_function("user_hinge_smooth")
    gradient = function(problem.weights, problem.X, problem.targets, reg=0.1, **problem.parameters)[1]
    report = check_gradient(lambda W: function(W, problem.X, problem.targets, reg=0.1, **problem.parameters)[0],
                            gradient, problem.weights, seed=seed)
    assert report.ok, report


def test_a_user_loss_trains():
    symgrad.define_loss("user_train", "sum_other(max(0, s[j] - s[y] + delta))", parameters={"delta": 1.0})
    rng = np.random.default_rng(0)
    centers = 3 * rng.normal(size=(3, 4))
    y = rng.integers(0, 3, 300)
    X = np.hstack([centers[y] + rng.normal(size=(300, 4)), np.ones((300, 1))])
    run = symgrad.minibatch_gradient_descent(symgrad.loss_and_grad_function("user_train"), X, y,
                                             learning_rate=0.1, steps=200, batch_size=32, rng=0, progress=False)
    assert symgrad.accuracy(run.W, X, y) > 0.9


def test_redefining_replaces_and_built_in_names_are_refused():
    first = symgrad.define_loss("user_again", "sum_j(s[j]**2)")
    second = symgrad.define_loss("user_again", "sum_j(2*s[j]**2)")
    W, X, y = random_problem(2, 5, 3, 3)
    assert second(W, X, y)[0] == pytest.approx(2 * first(W, X, y)[0])
    assert symgrad.loss_and_grad_function("user_again")(W, X, y)[0] == pytest.approx(second(W, X, y)[0])
    with pytest.raises(ValueError, match="^name: 'svm' is a built-in loss"):
        symgrad.define_loss("svm", "sum_j(s[j]**2)")
    with pytest.raises(ValueError, match="^name: expected a Python identifier"):
        symgrad.define_loss("not a name", "sum_j(s[j]**2)")


@pytest.mark.parametrize(
    "formula, kind, message",
    [
        ("sum_j(s[j]) + s[j]", "classifier", "s\\[j\\] and t\\[j\\] belong inside"),
        ("sum_j(max_j(s[j]))", "classifier", "do not nest"),
        ("sum_j(s[k])", "classifier", "subscript is not allowed"),
        ("s[y] + u[j]", "classifier", "subscript is not allowed"),
        ("log(1 + exp(u[0]))", "regression", "without subscripts"),
        ("sum_j(s[j], s[y])", "classifier", "sum_j takes"),
        ("__import__('os')", "classifier", "unknown function '__import__'"),
    ],
)
def test_malformed_loss_formulas_are_refused_naming_the_argument(formula, kind, message):
    with pytest.raises(ExpressionError, match=f"^per_example: .*{message}"):
        symgrad.define_loss("user_bad", formula, kind=kind)


def test_the_notation_reads_the_lecture_forms():
    hinge, parameters = parse_loss_formula("sum_other(max(0, s[j] - s[y] + delta))")
    assert parameters == ("delta",)
    assert hinge == class_sum((1 - t[j]) * sp.Max(0, margin))
    cross_entropy, _ = parse_loss_formula("log(sum_j(exp(s[j]))) - s[y]")
    assert cross_entropy == sp.log(class_sum(sp.exp(s[j]))) - label_score
    squared, _ = parse_loss_formula("r**2", kind="regression")
    assert squared == (prediction - target) ** 2


def run_cli(*arguments):
    return subprocess.run([sys.executable, "-m", "symgrad", *arguments], capture_output=True, text=True, timeout=300)


def test_the_command_line_checks_and_trains_a_loss_formula():
    checked = run_cli("check", "--loss-formula", "sum_other(max(0, s[j] - s[y] + delta))", "--param", "delta=1",
                      "--points", "1")
    assert checked.returncode == 0 and "all checks passed" in checked.stdout
    trained = run_cli("train", "--loss-formula", "log(1 + exp(u)) - y*u", "--kind", "regression", "--steps", "50")
    assert trained.returncode == 0 and "test accuracy" in trained.stdout
    refused = run_cli("train", "--loss-formula", "sum_other(max(0, s[j] - s[y] + delta))")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "delta" in refused.stderr
