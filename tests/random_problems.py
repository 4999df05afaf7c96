"""Random problems shared by the tests."""

import numpy as np


def random_problem(seed, number_of_examples, number_of_features, number_of_classes, dtype=np.float64):
    """Gaussian W (C, D), X (N, D) and uniform labels y (N,)."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(number_of_classes, number_of_features)).astype(dtype)
    X = rng.normal(size=(number_of_examples, number_of_features)).astype(dtype)
    y = rng.integers(0, number_of_classes, size=number_of_examples)
    return W, X, y


def integer_problem(loss, seed, number_of_examples=30, number_of_features=4, number_of_classes=4):
    """Small-integer weights and inputs, so that many margins and residuals are exactly 0 (a kinked loss sits on its
    kinks): (weights (C, D) or (D,), X (N, D), labels (N,) or targets (N,) inside the loss's target bounds)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-1, 2, size=(number_of_examples, number_of_features)).astype(np.float64)
    if loss.kind == "classifier":
        W = rng.integers(-2, 3, size=(number_of_classes, number_of_features)).astype(np.float64)
        return W, X, rng.integers(0, number_of_classes, size=number_of_examples)
    low, high = loss.target_bounds
    targets = np.clip(rng.integers(-3, 4, size=number_of_examples), low, high).astype(np.float64)
    return rng.integers(-2, 3, size=number_of_features).astype(np.float64), X, targets
