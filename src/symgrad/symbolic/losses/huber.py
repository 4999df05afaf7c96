"""The Huber loss of a linear regression: the compiled loss ``huber``.

    r = u - y (u = w^T x),    l(r) = r^2 / 2            where |r| <= delta
                                   = delta (|r| - delta / 2)   elsewhere
    dl/du = r where |r| <= delta, delta sign(r) elsewhere       (the residual clipped to [-delta, delta])

Quadratic near 0 and linear in the tails, so an outlier pulls with at most delta. Declared without cases as
min(|r|, delta)^2 / 2 + delta max(|r| - delta, 0) (proved equal to the case form): the slope is continuous at
|r| = delta and only the curvature jumps there (from 1 to 0), so there is no kink parameter.
"""

import numpy as np
import sympy as sp

from symgrad.symbolic.linear_model_loss import LinearModelLoss, LossParameter
from symgrad.symbolic.notation import prediction, target

delta = sp.Symbol("delta", real=True)
residual = prediction - target


def naive_huber(w, X, t, reg=0.0, delta=1.0):
    """The mean Huber loss and its gradient (D,), one example at a time."""
    loss, dw = 0.0, np.zeros(w.shape)
    for x, value in zip(X, t, strict=True):
        r = w @ x - value
        if abs(r) <= delta:
            loss += r**2 / 2
            dw += r * x
        else:
            loss += delta * (abs(r) - delta / 2)
            dw += delta * np.sign(r) * x
    return loss / len(X) + reg * w @ w, dw / len(X) + 2 * reg * w


LOSS = LinearModelLoss(
    name="huber",
    kind="regression",
    title="Huber: l(r) = r^2 / 2 where |r| <= delta, else delta (|r| - delta / 2), r = w^T x - y",
    per_example=sp.Min(sp.Abs(residual), delta) ** 2 / 2 + delta * sp.Max(sp.Abs(residual) - delta, 0),
    lecture_loss=sp.Heaviside(delta - sp.Abs(residual)) * residual**2 / 2
    + sp.Heaviside(sp.Abs(residual) - delta) * delta * (sp.Abs(residual) - delta / 2),
    lecture_gradient=sp.Heaviside(delta - sp.Abs(residual)) * residual
    + sp.Heaviside(sp.Abs(residual) - delta) * delta * sp.sign(residual),
    parameters=(LossParameter(delta, 1.0, 0.0, meaning="where the loss turns from quadratic to linear"),),
    source="Huber (1964), robust regression",
    convex=True,
    reference=naive_huber,
)
