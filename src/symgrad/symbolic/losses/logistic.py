"""Binary logistic regression (the lecture's -log sigma as a loss): the compiled loss ``logistic``.

    z = u = w^T x,    sigma(z) = 1 / (1 + e^{-z}),    t in {0, 1}
    L_i = -t log sigma(z) - (1 - t) log(1 - sigma(z)) = log(1 + e^z) - t z
    dL_i/dz = sigma(z) - t

Declared in the form log(1 + e^z) - t z (proved equal to the cross-entropy for every t); code generation prints
log(1 + e^z) as logaddexp(0, z) and sigma(z) without overflow (:mod:`symgrad.codegen.rewriting`), so the loss and
its gradient are right at |z| = 800 in float64 and at |z| = 100 in float32.
"""

import numpy as np
import sympy as sp

from symgrad.symbolic.linear_model_loss import LinearModelLoss
from symgrad.symbolic.notation import prediction, target


def sigmoid(z: sp.Expr) -> sp.Expr:
    """sigma(z) = 1 / (1 + e^{-z})."""
    return 1 / (1 + sp.exp(-z))


def naive_logistic(w, X, t, reg=0.0):
    """The mean logistic loss and its gradient (D,), one example at a time (log(1 + e^z) as logaddexp)."""
    loss, dw = 0.0, np.zeros(w.shape)
    for x, label in zip(X, t, strict=True):
        z = w @ x
        loss += np.logaddexp(0.0, z) - label * z
        dw += (np.exp(-np.logaddexp(0.0, -z)) - label) * x
    return loss / len(X) + reg * w @ w, dw / len(X) + 2 * reg * w


LOSS = LinearModelLoss(
    name="logistic",
    kind="regression",
    title="logistic: L_i = -t log sigma(z) - (1 - t) log(1 - sigma(z)), z = w^T x, t in {0, 1}",
    per_example=sp.log(1 + sp.exp(prediction)) - target * prediction,
    lecture_loss=-target * sp.log(sigmoid(prediction)) - (1 - target) * sp.log(1 - sigmoid(prediction)),
    lecture_gradient=sigmoid(prediction) - target,
    source="Lecture 3, the logistic loss -log sigma(w^T x)",
    convex=True,
    target_range=(0.0, 1.0),
    reference=naive_logistic,
)
