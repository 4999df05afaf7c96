"""The squared loss of linear regression, Lecture 4, eq. 8-12: the compiled loss ``squared``.

    l(u; y) = (u - y)^2,    u = w^T x        dl/du = 2 (u - y)

Pushed through the linear layer (w (D,), one output) and averaged over the batch, it is the lecture's
L(w) = 1/N ||X w - y||^2 with grad L = 2/N X^T (X w - y) (proved for symbolic N, D in
:mod:`symgrad.symbolic.objectives.squared_loss`).
"""

import numpy as np

from symgrad.symbolic.linear_model_loss import LinearModelLoss
from symgrad.symbolic.notation import prediction, target

def naive_squared(w, X, t, reg=0.0):
    """1/N sum_i (w^T x_i - t_i)^2 + reg * sum(w^2) and its gradient (D,), one example at a time."""
    loss, dw = 0.0, np.zeros(w.shape)
    for x, value in zip(X, t, strict=True):
        residual = w @ x - value
        loss += residual**2
        dw += 2 * residual * x
    return loss / len(X) + reg * w @ w, dw / len(X) + 2 * reg * w


LOSS = LinearModelLoss(
    name="squared",
    kind="regression",
    title="squared error: l(u; y) = (u - y)^2 with u = w^T x",
    per_example=(prediction - target) ** 2,
    lecture_gradient=2 * (prediction - target),
    source="Lecture 4, eq. 8-12",
    convex=True,
    reference=naive_squared,
)
