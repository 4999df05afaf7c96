"""The multiclass SVM loss (Weston-Watkins hinge), Lecture 3, eq. 14-16: the compiled loss ``svm``.

    L_i = sum_{j != y_i} max(0, m_j),    m_j = s_j - s_{y_i} + Delta,    s = W x_i

    dL_i/ds_{y_i} = -sum_{j != y_i} 1(m_j > 0)          (eq. 15, times x_i for the row w_{y_i})
    dL_i/ds_j     = 1(m_j > 0),  j != y_i               (eq. 16, times x_i for the row w_j)

In index notation the label is one-hot, t[j] = 1(j = y), so s_y = sum_c t[c] s[c], and "j != y" is the factor
1 - t[j]: the j = y term is masked, not computed and subtracted, so the loss is never negative in floating
point. SymPy's derivative of max(0, m) is Heaviside(m); its value at m = 0 is the parameter ``kink_value``
(H0; 0 is the lecture's strict indicator 1(m > 0), and every value in [0, 1] gives a subgradient).
"""

import numpy as np
import sympy as sp

from symgrad.symbolic.linear_model_loss import LinearModelLoss, LossParameter
from symgrad.symbolic.notation import class_sum, j, k, label_score, s, t

margin = sp.Symbol("Delta", real=True)
kink_value = sp.Symbol("H0", real=True)


def hinge_margin(index: sp.Symbol) -> sp.Expr:
    """m = s[index] - s_y + Delta."""
    return s[index] - label_score + margin


def naive_svm(W, X, y, reg=0.0, delta=1.0, kink_value=0.0):
    """The multiclass SVM loss and dW (C, D), one example and one class at a time (CS231n's naive version)."""
    loss, dW = 0.0, np.zeros(W.shape)
    for x, label in zip(X, y, strict=True):
        scores = W @ x
        for row in range(W.shape[0]):
            if row == label:
                continue
            margin = scores[row] - scores[label] + delta
            indicator = 1.0 if margin > 0 else (kink_value if margin == 0 else 0.0)
            loss += max(0.0, margin)
            dW[row] += indicator * x
            dW[label] -= indicator * x
    return loss / len(X) + reg * np.sum(W * W), dW / len(X) + 2 * reg * W


LOSS = LinearModelLoss(
    name="svm",
    kind="classifier",
    title="multiclass SVM: L_i = sum_{j != y} max(0, s_j - s_y + Delta)",
    per_example=class_sum((1 - t[j]) * sp.Max(0, hinge_margin(j))),
    lecture_gradient=(1 - t[k]) * sp.Heaviside(hinge_margin(k), kink_value)
    - t[k] * class_sum((1 - t[j]) * sp.Heaviside(hinge_margin(j), kink_value)),
    parameters=(
        LossParameter(margin, 1.0, meaning="the margin Delta", keyword="delta"),
        LossParameter(kink_value, 0.0, 0.0, 1.0, meaning="the indicator's value at a margin of exactly 0",
                      keyword="kink_value"),
    ),
    kink_value=kink_value,
    source="Lecture 3, eq. 14-16",
    convex=True,
    reference=naive_svm,
)
