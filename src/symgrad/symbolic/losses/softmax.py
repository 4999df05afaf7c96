"""The softmax classifier's cross-entropy, Lecture 3: the compiled loss ``softmax``.

    L_i = -log(e^{s_y} / sum_j e^{s_j}) = log sum_j e^{s_j} - s_y
    dL_i/ds_k = p_k - 1(k = y),    p_k = e^{s_k} / sum_j e^{s_j}

It is declared in the log-sum-exp form (proved equal to the lecture's ratio at every label): the ratio underflows
to 0 when s_y is far below the largest score (log 0 = -inf). Code generation evaluates log-sum-exp and the
probabilities at the scores shifted by their maximum (:mod:`symgrad.codegen.rewriting`), licensed by the shift
invariance L(s + c 1) = L(s) (proved in :mod:`symgrad.symbolic.objectives.softmax`): finite for any finite scores.
"""

import numpy as np
import sympy as sp

from symgrad.symbolic.linear_model_loss import LinearModelLoss
from symgrad.symbolic.notation import class_sum, j, k, label_score, s, t

def naive_softmax(W, X, y, reg=0.0):
    """Softmax cross-entropy and dW (C, D), one example at a time (CS231n's naive version, scores shifted by
    their maximum)."""
    loss, dW = 0.0, np.zeros(W.shape)
    for x, label in zip(X, y, strict=True):
        scores = W @ x
        scores = scores - scores.max()
        probabilities = np.exp(scores) / np.sum(np.exp(scores))
        loss += np.log(np.sum(np.exp(scores))) - scores[label]
        for row in range(W.shape[0]):
            dW[row] += (probabilities[row] - (row == label)) * x
    return loss / len(X) + reg * np.sum(W * W), dW / len(X) + 2 * reg * W


LOSS = LinearModelLoss(
    name="softmax",
    kind="classifier",
    title="softmax cross-entropy: L_i = -log(e^{s_y} / sum_j e^{s_j})",
    per_example=sp.log(class_sum(sp.exp(s[j]))) - label_score,
    lecture_loss=-sp.log(sp.exp(label_score) / class_sum(sp.exp(s[j]))),
    lecture_gradient=sp.exp(s[k]) / class_sum(sp.exp(s[j])) - t[k],
    source="Lecture 3, softmax classifier",
    convex=True,
    reference=naive_softmax,
)
