"""The linear score layer s = W x (Lecture 3) and the chain rule through it.

    s = W x                      W (C, D), x (D,): one score per class (bias trick: x[-1] = 1)
    dL/dW = (dL/ds) x^T          (C, 1) times (1, D): the outer product

For a batch X (N, D) stacked as rows, scores S = X W^T (N, C) (row i holds W x_i), per-example score
gradients stacked as the columns of G (C, N), and an L2 penalty:

    L(W)  = 1/N sum_i l(W x_i) + lambda sum(W^2)
    dL/dW = 1/N G X + 2 lambda W               (C, N) (N, D) + (C, D): two matrix products in all

The batch gradient is derived from the first-order expansion dL = 1/N sum_i g_i^T dW x_i + 2 lambda <W, dW>,
i.e. from d/dW [tr(G^T W X^T)/N + lambda tr(W W^T)] with G held fixed; SymPy's matrix calculus
(``Derivative(...).doit()``, not ``.diff``, which returns 0 here: sympy#26585) turns it into matrix
products that print as two BLAS calls.
"""

import sympy as sp

from symgrad.symbolic.derivation import is_identically_zero
from symgrad.symbolic.notation import C as classes

features, examples = sp.symbols("D N", integer=True, positive=True)
weights = sp.MatrixSymbol("W", classes, features)
inputs = sp.MatrixSymbol("X", examples, features)
score_gradients = sp.MatrixSymbol("G", classes, examples)
per_example_losses = sp.MatrixSymbol("l", examples, 1)
regularization_strength = sp.Symbol("λ", real=True)

batch_scores = inputs * weights.T
"""S = X W^T, shape (N, C): row i is the lecture's s = W x_i."""

data_loss = sp.Trace(sp.OneMatrix(1, examples) * per_example_losses) / examples
"""1/N 1^T l: the mean of the per-example losses l (N, 1)."""

data_first_order = sp.Trace(score_gradients.T * weights * inputs.T) / examples
"""tr(G^T W X^T)/N: the same derivative in W as the data loss when G (C, N) holds dl/ds per example."""

data_gradient = sp.Derivative(data_first_order, weights).doit()
"""d/dW of the data loss = G X/N, shape (C, D), as SymPy derives it."""

l2_penalty = regularization_strength * sp.Trace(weights * weights.T)
"""lambda tr(W W^T) = lambda sum(W^2)."""

l2_penalty_gradient = sp.Derivative(l2_penalty, weights).doit()
"""d/dW lambda sum(W^2) = 2 lambda W, as SymPy derives it."""

batch_objective = data_loss + l2_penalty
"""L = 1/N sum_i l_i + lambda sum(W^2)."""

batch_gradient = sp.Derivative(data_first_order + l2_penalty, weights).doit()
"""dL/dW = G X/N + 2 lambda W, shape (C, D), as SymPy derives it."""

batch_lecture_gradient = score_gradients * inputs / examples + 2 * regularization_strength * weights


def prove_batch_gradient() -> bool:
    """Prove dL/dW = G X / N + 2 lambda W for symbolic C, D, N (matrix calculus on MatrixSymbols)."""
    difference = sp.simplify(batch_gradient - batch_lecture_gradient)
    return difference == sp.ZeroMatrix(classes, features) or difference == 0


def prove_outer_product_rule(number_of_classes: int = 3, number_of_features: int = 2) -> bool:
    """Prove dl(W x)/dW = (dl/ds) x^T for an arbitrary smooth loss l of C scores, every entry symbolic.

    ``l`` is an undefined SymPy function of C arguments, so the proof holds for every loss at once;
    W is (C, D) and x is (D,), all entries real symbols.
    """
    W = sp.Matrix(number_of_classes, number_of_features, lambda c, d: sp.Symbol(f"w{c}{d}", real=True))
    x = sp.Matrix(number_of_features, 1, lambda d, _: sp.Symbol(f"x{d}", real=True))
    score_symbols = sp.symbols(f"s0:{number_of_classes}", real=True)
    loss = sp.Function("l")
    scores = W * x
    at_scores = dict(zip(score_symbols, scores, strict=True))
    loss_of_weights = loss(*scores)
    score_gradient = sp.Matrix([sp.diff(loss(*score_symbols), s).subs(at_scores) for s in score_symbols])
    derived = loss_of_weights.diff(W)
    outer_product = score_gradient * x.T
    return all(
        is_identically_zero(sp.sympify(derived[c, d]).doit() - outer_product[c, d].doit())
        for c in range(number_of_classes)
        for d in range(number_of_features)
    )
