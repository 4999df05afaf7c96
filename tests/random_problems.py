"""Random problems shared by the tests."""

import numpy as np


def random_problem(seed, number_of_examples, number_of_features, number_of_classes, dtype=np.float64):
    """Gaussian W (C, D), X (N, D) and uniform labels y (N,)."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(number_of_classes, number_of_features)).astype(dtype)
    X = rng.normal(size=(number_of_examples, number_of_features)).astype(dtype)
    y = rng.integers(0, number_of_classes, size=number_of_examples)
    return W, X, y
