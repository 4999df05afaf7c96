"""Regularizers R(W) (Lecture 3), on a 2 x 2 weight matrix with every entry symbolic.

    L2:          R(W) = sum_kl W_kl^2                    dR/dW = 2 W
    L1:          R(W) = sum_kl |W_kl|                    dR/dW = sign(W)
    elastic net: R(W) = sum_kl beta W_kl^2 + |W_kl|      dR/dW = 2 beta W + sign(W)

|w| has a kink at 0, where every value in [-1, 1] is a subgradient; the value used is
sign(0) = 0 (SymPy's and NumPy's), which is the minimum-norm subgradient.
"""

import sympy as sp

from symgrad.symbolic.derivation import Derivation
from symgrad.symbolic.registry import register

weights = tuple(sp.Symbol(f"W{k}{l}", real=True) for k in range(2) for l in range(2))
beta = sp.Symbol("beta", real=True)

l2_regularizer = register(
    Derivation(
        name="l2_regularizer",
        title="R(W) = sum_kl W_kl^2",
        objective=sum(w**2 for w in weights),
        variables=weights,
        lecture_gradient=tuple(2 * w for w in weights),
        shape=(2, 2),
        source="Lecture 3, regularization (L2)",
        convex=True,
    )
)

l1_regularizer = register(
    Derivation(
        name="l1_regularizer",
        title="R(W) = sum_kl |W_kl|  (subgradient sign(W), sign(0) = 0)",
        objective=sum(sp.Abs(w) for w in weights),
        variables=weights,
        lecture_gradient=tuple(sp.sign(w) for w in weights),
        shape=(2, 2),
        source="Lecture 3, regularization (L1)",
        convex=True,
    )
)

elastic_net = register(
    Derivation(
        name="elastic_net",
        title="R(W) = sum_kl beta W_kl^2 + |W_kl|  (subgradient 2 beta W + sign(W), sign(0) = 0)",
        objective=sum(beta * w**2 + sp.Abs(w) for w in weights),
        variables=weights,
        lecture_gradient=tuple(2 * beta * w + sp.sign(w) for w in weights),
        parameters=(beta,),
        defaults={"beta": 0.5},
        shape=(2, 2),
        source="Lecture 3, regularization (elastic net)",
        convex=True,
    )
)
