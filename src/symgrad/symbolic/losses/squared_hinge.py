"""The squared hinge (Weston-Watkins L2-SVM): the compiled loss ``squared_hinge``.

    L_i = sum_{j != y_i} max(0, m_j)^2,    m_j = s_j - s_{y_i} + Delta,    s = W x_i

    dL_i/ds_j     = 2 max(0, m_j),  j != y_i
    dL_i/ds_{y_i} = -2 sum_{j != y_i} max(0, m_j)

The square makes the loss differentiable everywhere: at m_j = 0 the slope is 0 from both sides and only the
curvature jumps (from 0 to 2), so there is no kink parameter. As in :mod:`symgrad.symbolic.losses.svm`, the label
is one-hot, t[j] = 1(j = y), and the j = y term is masked by the factor 1 - t[j].
"""

import numpy as np
import sympy as sp

from symgrad.symbolic.linear_model_loss import LinearModelLoss, LossParameter
from symgrad.symbolic.notation import class_sum, j, k, label_score, s, t

margin = sp.Symbol("Delta", real=True)


def hinge_margin(index: sp.Symbol) -> sp.Expr:
    """m = s[index] - s_y + Delta."""
    return s[index] - label_score + margin


def naive_squared_hinge(W, X, y, reg=0.0, delta=1.0):
    """The squared hinge and dW (C, D), one example and one class at a time."""
    loss, dW = 0.0, np.zeros(W.shape)
    for x, label in zip(X, y, strict=True):
        scores = W @ x
        for row in range(W.shape[0]):
            if row == label:
                continue
            hinge = max(0.0, scores[row] - scores[label] + delta)
            loss += hinge**2
            dW[row] += 2 * hinge * x
            dW[label] -= 2 * hinge * x
    return loss / len(X) + reg * np.sum(W * W), dW / len(X) + 2 * reg * W


LOSS = LinearModelLoss(
    name="squared_hinge",
    kind="classifier",
    title="squared hinge (L2-SVM): L_i = sum_{j != y} max(0, s_j - s_y + Delta)^2",
    per_example=class_sum((1 - t[j]) * sp.Max(0, hinge_margin(j)) ** 2),
    lecture_gradient=2 * (1 - t[k]) * sp.Max(0, hinge_margin(k))
    - 2 * t[k] * class_sum((1 - t[j]) * sp.Max(0, hinge_margin(j))),
    parameters=(LossParameter(margin, 1.0, meaning="the margin Delta", keyword="delta"),),
    source="Weston and Watkins (1999), the L2-SVM; the lecture's hinge squared",
    convex=True,
    reference=naive_squared_hinge,
)
