"""A bank of planted gradient bugs: each is caught in full and in directional mode wherever it changes the
gradient, while the correct gradient passes at the same points (zero false alarms).

The losses here are independent NumPy oracles written in the tests (CS231n-style vectorized formulas), so the
bank does not lean on the code it judges.
"""

from typing import Callable, NamedTuple

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from symgrad.verification.checker import check_gradient
from symgrad.verification.hypothesis_strategies import (
    classifier_problems,
    classifier_problems_at_kinks,
    finite_arrays,
    floating_dtypes,
    hinge_margins,
)
from symgrad.verification.taylor import check_taylor_remainder

SEEDS = st.integers(0, 2**32 - 1)


def svm_loss(W, X, y, delta, reg=0.0):
    """Mean over examples of sum_{j != y_i} max(0, s_j - s_{y_i} + delta) plus reg * sum(W^2)."""
    scores = X @ W.T
    margins = scores - scores[np.arange(len(y)), y][:, None] + delta
    margins[np.arange(len(y)), y] = 0
    return np.maximum(margins, 0).sum() / len(y) + reg * np.sum(W * W)


def svm_gradient(W, X, y, delta, reg=0.0, kink_value=0.0):
    """dL/dW (C, D): 1(m_ij > 0) X_i on row j, minus their count times X_i on row y_i; the indicator is
    ``kink_value`` at m_ij = 0."""
    rows = np.arange(len(y))
    margins = hinge_margins(W, X, y, delta)
    indicators = np.zeros((len(y), W.shape[0]))
    others = np.arange(W.shape[0])[None, :] != y[:, None]
    indicators[others] = np.heaviside(margins, kink_value).ravel()
    indicators[rows, y] = -indicators.sum(axis=1)
    return (indicators.T @ X / len(y) + 2 * reg * W).astype(W.dtype)


def softmax_loss(W, X, y, reg=0.0):
    """Mean over examples of -log softmax(s)_{y_i} plus reg * sum(W^2)."""
    scores = X @ W.T
    scores = scores - scores.max(axis=1, keepdims=True)
    log_probabilities = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return -log_probabilities[np.arange(len(y)), y].mean() + reg * np.sum(W * W)


def softmax_gradient(W, X, y, reg=0.0):
    """dL/dW (C, D) = (P - Y)^T X / N + 2 reg W."""
    scores = X @ W.T
    probabilities = np.exp(scores - scores.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    probabilities[np.arange(len(y)), y] -= 1
    return probabilities.T @ X / len(y) + 2 * reg * W


class Case(NamedTuple):
    """One drawn instance of a bug: the loss f, its correct gradient, the buggy one and the point (S)."""

    f: Callable
    correct: Callable
    buggy: Callable
    x: np.ndarray


@st.composite
def sign_flip(draw):
    """Softmax cross-entropy + L2, gradient with its sign flipped."""
    W, X, y, _ = draw(classifier_problems())
    reg = draw(st.floats(0.0, 1.0))
    correct = lambda V: softmax_gradient(V, X, y, reg)  # noqa: E731
    return Case(lambda V: softmax_loss(V, X, y, reg), correct, lambda V: -correct(V), W)


@st.composite
def missing_factor_two(draw):
    """Linear regression L(w) = 1/N |X w - y|^2 with gradient X^T (X w - y) / N (the 2 dropped)."""
    dtype = draw(floating_dtypes())
    n, d = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    X, y, w = draw(finite_arrays((n, d), dtype)), draw(finite_arrays(n, dtype)), draw(finite_arrays(d, dtype))
    f = lambda v: np.mean((X @ v - y) ** 2)  # noqa: E731
    return Case(f, lambda v: 2 * X.T @ (X @ v - y) / n, lambda v: X.T @ (X @ v - y) / n, w)


@st.composite
def dropped_regularizer(draw):
    """SVM + reg sum(W^2) at smooth points, gradient without 2 reg W."""
    W, X, y, delta = draw(classifier_problems(margin=1e-3))
    reg = draw(st.floats(0.1, 1.0))
    return Case(lambda V: svm_loss(V, X, y, delta, reg), lambda V: svm_gradient(V, X, y, delta, reg),
                lambda V: svm_gradient(V, X, y, delta), W)


@st.composite
def row_of_the_wrong_class(draw):
    """SVM + reg sum(W^2) at smooth points, example 0's correct-class update written to the next class's row."""
    W, X, y, delta = draw(classifier_problems(margin=1e-3))
    reg = draw(st.floats(0.1, 1.0))

    def buggy(V):
        gradient = svm_gradient(V, X, y, delta, reg)
        missed_margins = np.sum(hinge_margins(V, X[:1], y[:1], delta) > 0)
        gradient[y[0]] += missed_margins * X[0] / len(y)
        gradient[(y[0] + 1) % V.shape[0]] -= missed_margins * X[0] / len(y)
        return gradient

    return Case(lambda V: svm_loss(V, X, y, delta, reg), lambda V: svm_gradient(V, X, y, delta, reg), buggy, W)


@st.composite
def transposed_gradient(draw):
    """L(W) = 1/2 |W B - T|^2 for a square W (n, n), gradient (W B - T) B^T returned transposed."""
    dtype = draw(floating_dtypes())
    n = draw(st.integers(2, 4))
    W, B, T = (draw(finite_arrays((n, n), dtype)) for _ in range(3))
    correct = lambda V: (V @ B - T) @ B.T  # noqa: E731
    return Case(lambda V: 0.5 * np.sum((V @ B - T) ** 2), correct, lambda V: correct(V).T, W)


@st.composite
def heaviside_zero_is_two(draw):
    """SVM exactly at a kink (one zero margin), gradient with Heaviside(0) = 2 instead of a value in [0, 1]."""
    W, X, y, delta = draw(classifier_problems_at_kinks(kinds=("zero margin",)))
    assume(np.sum(hinge_margins(W, X, y, delta) == 0) == 1)
    return Case(lambda V: svm_loss(V, X, y, delta), lambda V: svm_gradient(V, X, y, delta, kink_value=0.0),
                lambda V: svm_gradient(V, X, y, delta, kink_value=2.0), W)


a, b, c = sp.symbols("a b c", real=True)
max_of_three_gradient = sp.lambdify((a, b, c), [sp.diff(sp.Max(a, b, c), v) for v in (a, b, c)], "numpy")


@st.composite
def three_way_max_tie(draw):
    """f = max(a, b, c) at a three-way tie, where SymPy's derivative of Max(a, b, c) is (1/2, 1/2, 1/2)."""
    dtype = draw(floating_dtypes())
    x = np.full(3, draw(st.integers(-3, 3)), dtype=dtype)
    winner = draw(st.integers(0, 2))
    return Case(lambda v: np.max(v), lambda v: np.eye(3, dtype=v.dtype)[winner],
                lambda v: np.array(max_of_three_gradient(*v), dtype=v.dtype), x)


BANK = {
    "sign flip": sign_flip(),
    "missing factor 2": missing_factor_two(),
    "dropped regularizer term": dropped_regularizer(),
    "one row from the wrong class": row_of_the_wrong_class(),
    "transposed gradient": transposed_gradient(),
    "Heaviside(0) = 2": heaviside_zero_is_two(),
    "Max(a, b, c) at a three-way tie": three_way_max_tie(),
}
SMOOTH_BUGS = ["sign flip", "missing factor 2", "dropped regularizer term", "one row from the wrong class",
               "transposed gradient"]


def changes_the_gradient(case: Case) -> bool:
    """The bug makes a difference well above any tolerance at this point."""
    correct, buggy = case.correct(case.x), case.buggy(case.x)
    return bool(np.max(np.abs(buggy - correct)) > 1e-2 * max(1.0, np.max(np.abs(correct))))


@pytest.mark.parametrize("bug", list(BANK))
@given(data=st.data(), seed=SEEDS)
def test_planted_bug_is_caught_in_full_and_directional_mode_and_the_correct_gradient_passes(bug, data, seed):
    case = data.draw(BANK[bug])
    assume(changes_the_gradient(case))
    for mode in ("full", "directional"):
        # Fewer nearby points can only fail a claim sooner: a claim outside the Clarke set is never reached.
        caught = check_gradient(case.f, case.buggy, case.x, mode, seed=seed, nearby_points=256)
        assert not caught.ok, caught
        passed = check_gradient(case.f, case.correct, case.x, mode, seed=seed)
        assert passed.ok, passed


@pytest.mark.parametrize("bug", SMOOTH_BUGS)
@given(data=st.data(), seed=SEEDS)
def test_taylor_remainder_slope_is_two_for_the_right_gradient_and_one_for_the_bug(bug, data, seed):
    case = data.draw(BANK[bug])
    assume(case.x.dtype == np.float64 and changes_the_gradient(case))
    direction = np.random.default_rng(seed).standard_normal(case.x.shape)
    direction /= np.linalg.norm(direction)
    buggy = case.buggy(case.x) - case.correct(case.x)
    assume(abs(np.sum(buggy * direction)) > 1e-3 * np.linalg.norm(buggy))
    wrong = check_taylor_remainder(case.f, case.buggy, case.x, direction=direction)
    assert not wrong.ok and 0.8 < wrong.slope < 1.2, wrong
    right = check_taylor_remainder(case.f, case.correct, case.x, direction=direction)
    assert right.ok and (np.isnan(right.slope) or right.slope > 1.8), right


def test_failure_report_names_the_worst_coordinate_with_both_values():
    X = np.array([[1.0, 2.0], [0.5, 1.0]])
    y = np.array([0, 1])
    W = np.array([[0.3, -0.2], [0.1, 0.4]])

    def one_wrong_entry(V):
        gradient = softmax_gradient(V, X, y)
        gradient[1, 0] *= 3
        return gradient

    report = check_gradient(lambda V: softmax_loss(V, X, y), one_wrong_entry, W, seed=0)
    true_entry = softmax_gradient(W, X, y)[1, 0]
    assert report.worst_index == (1, 0)
    assert report.analytic == pytest.approx(3 * true_entry)
    assert report.numerical == pytest.approx(true_entry, rel=1e-9)
    assert report.max_rel_error == pytest.approx(2 / 3, rel=1e-6)
    text = str(report)
    assert "FAILED" in text and "FAILED x[1, 0]" in text
    assert f"analytic   {3 * true_entry: .12g}" in text
    assert "numerical" in text and f"{true_entry:.6f}"[:-1] in text
