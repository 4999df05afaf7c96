"""Logistic loss as a composition (Lecture 3), and the chain rule through it.

    u = w^T x,    p = sigma(u) = 1 / (1 + e^{-u}),    L = -log p = -log(1 / (1 + e^{-w^T x}))

    dL/dw = dL/dp * dp/du * du/dw = (-1/p) * p (1 - p) * x = -(1 - sigma(w^T x)) x
"""

import sympy as sp

from symgrad.symbolic.derivation import Derivation, is_identically_zero
from symgrad.symbolic.registry import register

weights = sp.symbols("w0 w1", real=True)
features = sp.symbols("x0 x1", real=True)
activation, probability = sp.symbols("u p", real=True)


def sigmoid(u: sp.Expr) -> sp.Expr:
    """sigma(u) = 1 / (1 + e^{-u})."""
    return 1 / (1 + sp.exp(-u))


score = sum(w * x for w, x in zip(weights, features, strict=True))
loss_of_probability = -sp.log(probability)


def chain_rule_factors() -> dict[str, sp.Expr]:
    """The three factors of dL/dw, each derived by ``sympy.diff`` in its own variable.

    Returns ``{"dL/dp": -1/p, "dp/du": e^{-u} / (1 + e^{-u})^2, "du/dw": (x0, x1)}``.
    """
    return {
        "dL/dp": sp.diff(loss_of_probability, probability),
        "dp/du": sp.diff(sigmoid(activation), activation),
        "du/dw": sp.Matrix([sp.diff(score, w) for w in weights]),
    }


def prove_chain_rule() -> bool:
    """Prove dL/dp * dp/du * du/dw (at p = sigma(u), u = w^T x) equals the derived gradient, and
    that dp/du = p (1 - p)."""
    factors = chain_rule_factors()
    at_point = {probability: sigmoid(score), activation: score}
    product = [factors["dL/dp"].subs(at_point) * factors["dp/du"].subs(at_point) * du for du in factors["du/dw"]]
    sigmoid_rule = factors["dp/du"] - sigmoid(activation) * (1 - sigmoid(activation))
    return is_identically_zero(sigmoid_rule) and all(
        is_identically_zero(p - g) for p, g in zip(product, logistic.gradient, strict=True)
    )


logistic = register(
    Derivation(
        name="logistic_composition",
        title="L(w) = -log(1 / (1 + e^{-w^T x})) with w, x in R^2",
        objective=loss_of_probability.subs(probability, sigmoid(score)),
        variables=weights,
        lecture_gradient=tuple(-(1 - sigmoid(score)) * x for x in features),
        parameters=features,
        defaults={"x0": 1.0, "x1": -2.0},
        source="Lecture 3, logistic loss as a composition",
        convex=True,
    )
)
