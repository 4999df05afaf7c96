"""Softmax cross-entropy against smoothed labels (label smoothing): the compiled loss ``smoothed_softmax``.

    q = (1 - eps) onehot(y) + eps / C,    L_i = -sum_j q_j log p_j,    p_j = e^{s_j} / sum_c e^{s_c}
    dL_i/ds_k = p_k - q_k

With sum_j q_j = 1 the loss is log sum_j e^{s_j} - sum_j q_j s_j, the form declared here (proved equal to the
cross-entropy at every label); eps = 0 is the plain softmax loss. Code generation shifts the scores by their
maximum as for :mod:`symgrad.symbolic.losses.softmax`.
"""

import numpy as np
import sympy as sp

from symgrad.symbolic.linear_model_loss import LinearModelLoss, LossParameter
from symgrad.symbolic.notation import C, c, class_sum, j, k, s, t

smoothing = sp.Symbol("epsilon", real=True)


def smoothed_label(index: sp.Symbol) -> sp.Expr:
    """q[index] = (1 - eps) t[index] + eps / C."""
    return (1 - smoothing) * t[index] + smoothing / C


def naive_smoothed_softmax(W, X, y, reg=0.0, smoothing=0.1):
    """Cross-entropy against (1 - eps) onehot + eps / C, and dW (C, D), one example at a time."""
    classes = W.shape[0]
    loss, dW = 0.0, np.zeros(W.shape)
    for x, label in zip(X, y, strict=True):
        scores = W @ x
        scores = scores - scores.max()
        log_probabilities = scores - np.log(np.sum(np.exp(scores)))
        smoothed = np.full(classes, smoothing / classes)
        smoothed[label] += 1 - smoothing
        loss -= smoothed @ log_probabilities
        dW += np.outer(np.exp(log_probabilities) - smoothed, x)
    return loss / len(X) + reg * np.sum(W * W), dW / len(X) + 2 * reg * W


LOSS = LinearModelLoss(
    name="smoothed_softmax",
    kind="classifier",
    title="softmax cross-entropy against q = (1 - eps) onehot + eps / C: L_i = -sum_j q_j log p_j",
    per_example=sp.log(class_sum(sp.exp(s[j]))) - class_sum(smoothed_label(j) * s[j]),
    lecture_loss=-class_sum(smoothed_label(j) * sp.log(sp.exp(s[j]) / class_sum(sp.exp(s[c]), c))),
    lecture_gradient=sp.exp(s[k]) / class_sum(sp.exp(s[j])) - smoothed_label(k),
    parameters=(LossParameter(smoothing, 0.1, 0.0, 1.0, meaning="the label smoothing eps", keyword="smoothing"),),
    source="Szegedy et al. (2016), label smoothing; the lecture's softmax loss at eps = 0",
    convex=True,
    reference=naive_smoothed_softmax,
)
