"""Independent NumPy references for the compiled losses, written by hand in the CS231n style (explicit loops
over nothing, plain indexing): the oracle every compiled loss is compared with. Each takes the weights (W (C, D)
or w (D,)), X (N, D), labels or targets (N,), reg and the loss's keyword parameters, and returns
(loss, gradient) in float64."""

import numpy as np


def svm(W, X, y, reg=0.0, delta=1.0, kink_value=0.0):
    """Mean over examples of sum_{j != y_i} max(0, s_j - s_{y_i} + delta), plus reg * sum(W^2)."""
    n = X.shape[0]
    scores = X @ W.T
    margins = scores - scores[np.arange(n), y][:, None] + delta
    margins[np.arange(n), y] = -np.inf  # the j = y term is excluded
    loss = np.maximum(margins, 0).sum() / n + reg * np.sum(W * W)
    indicator = np.where(margins > 0, 1.0, np.where(margins == 0, kink_value, 0.0))
    indicator[np.arange(n), y] = -indicator.sum(axis=1)
    return loss, indicator.T @ X / n + 2 * reg * W


def softmax(W, X, y, reg=0.0):
    """Mean over examples of -log softmax(s)_{y_i}, plus reg * sum(W^2)."""
    n = X.shape[0]
    scores = X @ W.T
    scores = scores - scores.max(axis=1, keepdims=True)
    log_normalizer = np.log(np.exp(scores).sum(axis=1))
    loss = np.sum(log_normalizer - scores[np.arange(n), y]) / n + reg * np.sum(W * W)
    probabilities = np.exp(scores - log_normalizer[:, None])
    probabilities[np.arange(n), y] -= 1
    return loss, probabilities.T @ X / n + 2 * reg * W


def squared(w, X, t, reg=0.0):
    """1/N ||X w - t||^2 + reg * sum(w^2)."""
    residual = X @ w - t
    return residual @ residual / len(t) + reg * w @ w, 2 * X.T @ residual / len(t) + 2 * reg * w


REFERENCES = {"svm": svm, "softmax": softmax, "squared": squared}


def random_problem(seed, number_of_examples, number_of_features, number_of_classes, dtype=np.float64):
    """Gaussian W (C, D), X (N, D) and uniform labels y (N,)."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(number_of_classes, number_of_features)).astype(dtype)
    X = rng.normal(size=(number_of_examples, number_of_features)).astype(dtype)
    y = rng.integers(0, number_of_classes, size=number_of_examples)
    return W, X, y
