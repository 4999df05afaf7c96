"""Subgradients at kinks: the library's SVM hinge and the L1 regularizer with H(0) / sign(0) in {0, 1/2, 1}
pass check_subgradient and check_gradient; values outside [0, 1] are caught."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symgrad.verification.checker import check_gradient, check_subgradient
from symgrad import svm_loss_and_grad
from symgrad.symbolic.registry import get_derivation
from symgrad.codegen.compile import compile_derivation
from symgrad.verification.hypothesis_strategies import (
    classifier_problems,
    classifier_problems_at_kinks,
    hinge_margins,
    integer_arrays,
)

SEEDS = st.integers(0, 2**32 - 1)
VALID_KINK_VALUES = [0.0, 0.5, 1.0]


def svm_objective(X, y, delta, reg, kink_value=0.0):
    """(f, grad) of the library's svm_loss_and_grad for fixed data; W (C, D)."""
    return (
        lambda W: svm_loss_and_grad(W, X, y, reg=reg, delta=delta, kink_value=kink_value)[0],
        lambda W: svm_loss_and_grad(W, X, y, reg=reg, delta=delta, kink_value=kink_value)[1],
    )


def test_kink_problems_have_an_exact_zero_margin_and_an_exact_zero_weight():
    @given(classifier_problems_at_kinks())
    def check(problem):
        assert np.any(hinge_margins(*problem) == 0) and np.any(problem.W == 0)

    check()


def test_smooth_problems_keep_every_margin_and_weight_away_from_zero():
    @given(classifier_problems(margin=1e-3))
    def check(problem):
        assert np.min(np.abs(hinge_margins(*problem))) >= 1e-3 and np.min(np.abs(problem.W)) >= 1e-3

    check()


# svm_loss_and_grad validates its inputs on every call and a check at a kink makes a few hundred calls:
# 30 examples per kink value keep the suite fast.
@pytest.mark.parametrize("kink_value", VALID_KINK_VALUES)
@settings(max_examples=30)
@given(problem=classifier_problems_at_kinks(), reg=st.sampled_from([0.0, 0.25]), seed=SEEDS)
def test_svm_gradient_with_a_valid_kink_value_is_a_subgradient_at_kinks(kink_value, problem, reg, seed):
    W, X, y, delta = problem
    f, grad = svm_objective(X, y, delta, reg, kink_value)
    report = check_subgradient(f, grad(W), W, convex=True, seed=seed)
    assert report.ok, report
    directional = check_gradient(f, grad, W, "directional", convex=True, seed=seed)
    assert directional.ok and directional.kink, directional


@pytest.mark.parametrize("kink_value", [2.0, -0.5])
@settings(max_examples=30)
@given(problem=classifier_problems_at_kinks(kinds=("zero margin",)), seed=SEEDS)
def test_svm_gradient_with_a_kink_value_outside_zero_one_is_not_a_subgradient(kink_value, problem, seed):
    W, X, y, delta = problem
    assume(np.sum(hinge_margins(W, X, y, delta) == 0) == 1)
    f, at_zero = svm_objective(X, y, delta, 0.0, 0.0)
    at_one = svm_objective(X, y, delta, 0.0, 1.0)[1]
    # The gradient is affine in the kink value k (svm_loss_and_grad accepts only k in [0, 1]).
    claimed = (1 - kink_value) * at_zero(W) + kink_value * at_one(W)
    # Fewer nearby points can only fail a claim sooner: a claim outside the Clarke set is never reached.
    report = check_subgradient(f, claimed, W, seed=seed, nearby_points=256)
    assert not report.ok, report
    assert not check_gradient(f, claimed, W, "directional", seed=seed, nearby_points=256).ok


@pytest.mark.parametrize("sign_at_zero", [0.0, 0.5, 1.0, -1.0])
@given(W=integer_arrays((2, 2)), seed=SEEDS)
def test_l1_subgradient_with_sign_zero_in_the_interval_passes(sign_at_zero, W, seed):
    l1 = compile_derivation(get_derivation("l1_regularizer"))
    subgradient = np.where(W == 0, sign_at_zero, l1.gradient(W))
    report = check_subgradient(l1.value, subgradient, W, convex=True, seed=seed)
    assert report.ok, report
    assert report.kink == bool(np.any(W == 0))


@given(W=integer_arrays((2, 2)), seed=SEEDS)
def test_l1_with_sign_zero_beyond_one_is_caught_wherever_a_weight_is_zero(W, seed):
    l1 = compile_derivation(get_derivation("l1_regularizer"))
    subgradient = np.where(W == 0, 1.5, l1.gradient(W))
    report = check_subgradient(l1.value, subgradient, W, seed=seed, nearby_points=256)
    assert report.ok == (not np.any(W == 0)), report


def test_concave_kink_bracket_is_accepted_between_the_one_sided_derivatives():
    negative_abs = lambda v: -float(np.abs(v).sum())  # noqa: E731
    assert check_subgradient(negative_abs, np.zeros(2), np.zeros(2), seed=0).ok
    assert not check_subgradient(negative_abs, np.array([1.5, 0.0]), np.zeros(2), seed=0).ok


def test_the_subgradient_inequality_is_tested_when_convexity_is_declared():
    # -|x|^2 at 0 with g = 0: every directional derivative is 0, so only f(y) >= f(x) + g^T (y - x) objects.
    concave = lambda v: -float(np.sum(v**2))  # noqa: E731
    assert check_subgradient(concave, np.zeros(2), np.zeros(2), seed=0).ok
    report = check_subgradient(concave, np.zeros(2), np.zeros(2), convex=True, seed=0)
    assert not report.ok and "subgradient inequality" in report.worst.label
