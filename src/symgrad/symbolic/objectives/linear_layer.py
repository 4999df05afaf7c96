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

from symgrad.symbolic.index_form import at_class_count, index_gradient, to_class_axis
from symgrad.symbolic.derivation import is_identically_zero, pin_heaviside

classes, features, examples = sp.symbols("C D N", integer=True, positive=True)
weights = sp.MatrixSymbol("W", classes, features)
inputs = sp.MatrixSymbol("X", examples, features)
score_gradients = sp.MatrixSymbol("G", classes, examples)
per_example_losses = sp.MatrixSymbol("l", examples, 1)
regularization_strength = sp.Symbol("λ", real=True)



def score_symbols(number_of_classes: int) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """One example's scores s_0 ... s_{C-1} and one-hot label entries t_0 ... t_{C-1}, all real symbols.

    The label y becomes t = e_y, so the correct class score is s_y = sum_c t_c s_c and one formula
    serves every label.
    """
    scores = sp.symbols(f"s0:{number_of_classes}", real=True)
    onehot = sp.symbols(f"t0:{number_of_classes}", real=True)
    return scores, onehot


score_family = sp.IndexedBase("s", real=True)
label_family = sp.IndexedBase("t", real=True)
"""One example's scores s[j] and one-hot label t[j] = 1(j = y), for a symbolic number of classes C."""

class_index, summed_class, correct_class = sp.symbols("k j c", integer=True, nonnegative=True)
"""k: the class a derivative is taken for; j, c: summation indices over the classes 0 ... C - 1."""

score_array, label_array = sp.symbols("S T", real=True)
"""The arrays (C, N) that hold s[j] and t[j] of a whole batch, one column per example
(see :mod:`symgrad.symbolic.index_form`)."""


def class_sum(term: sp.Expr, index: sp.Symbol = summed_class) -> sp.Expr:
    """sum_{index = 0}^{C - 1} term."""
    return sp.Sum(term, (index, 0, classes - 1))


def index_score_gradient(loss: sp.Expr, kink_value=None) -> sp.Expr:
    """dL/ds[k] of one example's loss in index form (symbolic C), derived by SymPy.

    Args:
        loss: L(s, t) in ``score_family``, ``label_family`` and sums over the classes.
        kink_value: the value given to every ``Heaviside`` at 0, if the derivative has any.
    """
    gradient = index_gradient(loss, score_family, class_index, classes)
    return gradient if kink_value is None else pin_heaviside(gradient, kink_value)


def on_class_axis(expr: sp.Expr) -> sp.Expr:
    """An index-form expression as array operations on S and T (C, N) (see :mod:`symgrad.symbolic.index_form`)."""
    return to_class_axis(expr, {score_family: score_array, label_family: label_array}, classes)


def written_out(expr: sp.Expr, number_of_classes: int, at_class: int | None = None) -> sp.Expr:
    """An index-form expression for C = ``number_of_classes``, in the symbols of :func:`score_symbols`,
    at class k = ``at_class`` when it has the free index k."""
    scores, onehot = score_symbols(number_of_classes)
    families = {score_family: scores, label_family: onehot}
    return at_class_count(expr, classes, number_of_classes, families, class_index, at_class)


batch_scores = inputs * weights.T
"""S = X W^T, shape (N, C): row i is the lecture's s = W x_i."""

batch_objective = (
    sp.Trace(sp.OneMatrix(1, examples) * per_example_losses) / examples
    + regularization_strength * sp.Trace(weights * weights.T)
)
"""L = 1/N 1^T l + lambda tr(W W^T): mean of the per-example losses l (N, 1) plus lambda sum(W^2)."""

batch_first_order_objective = (
    sp.Trace(score_gradients.T * weights * inputs.T) / examples
    + regularization_strength * sp.Trace(weights * weights.T)
)
"""tr(G^T W X^T)/N + lambda tr(W W^T): same derivative in W as L when G (C, N) holds dl/ds per example."""

batch_gradient = sp.Derivative(batch_first_order_objective, weights).doit()
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
    at_scores = dict(zip(score_symbols, scores))
    loss_of_weights = loss(*scores)
    score_gradient = sp.Matrix([sp.diff(loss(*score_symbols), s).subs(at_scores) for s in score_symbols])
    derived = loss_of_weights.diff(W)
    outer_product = score_gradient * x.T
    return all(
        is_identically_zero(sp.sympify(derived[c, d]).doit() - outer_product[c, d].doit())
        for c in range(number_of_classes)
        for d in range(number_of_features)
    )
