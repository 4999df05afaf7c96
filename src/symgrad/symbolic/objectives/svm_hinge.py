"""Multiclass SVM hinge loss (Lecture 3, eq. 14-16), with the label as a one-hot vector t.

    L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + Delta),      s = W x_i,  s_{y_i} = sum_c t_c s_c

    dL_i/dw_{y_i} = -(sum_{j != y_i} 1(s_j - s_{y_i} + Delta > 0)) x_i     (eq. 15)
    dL_i/dw_j     = 1(s_j - s_{y_i} + Delta > 0) x_i,  j != y_i           (eq. 16)

SymPy's derivative of max(0, z) is Heaviside(z); its value at the kink z = 0 is the parameter
``H0`` (default 0: the lecture's strict indicator 1(z > 0); every value in [0, 1] is a subgradient).
Here the weights W and the features x are symbolic: :data:`svm_hinge` with W (3, 2), and
:func:`prove_index_form` for symbolic C and D. The compiled loss, per score and for a symbolic number of
classes, is declared in :mod:`symgrad.symbolic.losses.svm`.
"""

import sympy as sp

from symgrad.symbolic.derivation import Derivation, is_identically_zero
from symgrad.symbolic.index_form import drop_range_guards
from symgrad.symbolic.notation import score_symbols
from symgrad.symbolic.registry import register

margin = sp.Symbol("Delta", real=True)
kink_value = sp.Symbol("H0", real=True)


def indicator(z: sp.Expr) -> sp.Expr:
    """The lecture's 1(z > 0) with its value at z = 0 left as the parameter ``H0``."""
    return sp.Heaviside(z, kink_value)


def margins(scores, onehot) -> list[sp.Expr]:
    """m_j = s_j - s_y + Delta with s_y = sum_c t_c s_c, one per class."""
    correct_score = sum(t * s for t, s in zip(onehot, scores, strict=True))
    return [s - correct_score + margin for s in scores]


def hinge_loss(scores, onehot) -> sp.Expr:
    """The lecture's L_i = sum_{j != y} max(0, m_j), the exclusion written as the factor (1 - t_j)."""
    return sum((1 - t) * sp.Max(0, m) for t, m in zip(onehot, margins(scores, onehot), strict=True))


def hinge_lecture_score_gradient(scores, onehot) -> list[sp.Expr]:
    """dL_i/ds_k as the lecture writes it: eq. 16 when t_k = 0, eq. 15 when t_k = 1."""
    indicators = [indicator(m) for m in margins(scores, onehot)]
    missed_margins = sum((1 - t) * h for t, h in zip(onehot, indicators, strict=True))
    return [t * (-missed_margins) + (1 - t) * h for t, h in zip(onehot, indicators, strict=True)]


def prove_index_form() -> bool:
    """Prove eq. 15 and eq. 16 for symbolic C and D, in index notation.

    W and x are IndexedBase, s_c = sum_d W[c, d] x[d], and "j != y" is the factor 1 - delta(j, y).
    ``diff`` by W[k, m] gives Kronecker-delta sums; they are evaluated with k, m, y taken to be valid
    indices (0 <= k, y < C, 0 <= m < D: the range guards that delta summation adds are dropped), in two
    cases: k = y (eq. 15) and k != y (delta(k, y) = 0, eq. 16).
    """
    number_of_classes, number_of_features = sp.symbols("C D", integer=True, positive=True)
    j, d, label, k, m = sp.symbols("j d y k m", integer=True)
    W, x = sp.IndexedBase("W", real=True), sp.IndexedBase("x", real=True)
    over_classes = (j, 0, number_of_classes - 1)

    def index_margin(c):
        score = sp.Sum(W[c, d] * x[d], (d, 0, number_of_features - 1))
        correct_score = sp.Sum(W[label, d] * x[d], (d, 0, number_of_features - 1))
        return score - correct_score + margin

    loss = sp.Sum((1 - sp.KroneckerDelta(j, label)) * sp.Max(0, index_margin(j)), over_classes)
    derived = sp.diff(loss, W[k, m])
    equation_15 = -sp.Sum((1 - sp.KroneckerDelta(j, label)) * sp.Heaviside(index_margin(j)), over_classes) * x[m]
    equation_16 = sp.Heaviside(index_margin(k)) * x[m]
    valid_indices = {k, m, label, number_of_classes, number_of_features}

    def split_class_sums(expr):
        return expr.replace(
            lambda e: isinstance(e, sp.Sum) and e.limits[0][0] == j,
            lambda e: sp.Add(*[sp.Sum(term, *e.limits) for term in sp.Add.make_args(sp.expand(e.function))]),
        )

    def evaluate(expr, case):
        for _ in range(3):
            expr = case(drop_range_guards(split_class_sums(expr).doit(), valid_indices))
        return expr

    def correct_row(expr):
        return expr.subs(k, label)

    def other_row(expr):
        return expr.subs(sp.KroneckerDelta(k, label), 0)

    return is_identically_zero(
        evaluate(derived, correct_row) - evaluate(equation_15, correct_row)
    ) and is_identically_zero(evaluate(derived, other_row) - evaluate(equation_16, other_row))


_onehot = score_symbols(3)[1]
_number_of_classes, _number_of_features = 3, 2
_weights = sp.Matrix(
    _number_of_classes, _number_of_features, lambda c, d: sp.Symbol(f"w{c}{d}", real=True)
)
_features = sp.symbols(f"x0:{_number_of_features}", real=True)
_weight_scores = list(_weights * sp.Matrix(_features))
_weight_lecture_rows = hinge_lecture_score_gradient(_weight_scores, _onehot)

svm_hinge = register(
    Derivation(
        name="svm_hinge",
        title="L_i = sum_{j != y} max(0, w_j^T x - w_y^T x + Delta), W (3, 2), x (2,), label one-hot t",
        objective=hinge_loss(_weight_scores, _onehot),
        variables=tuple(_weights),
        lecture_gradient=tuple(
            _weight_lecture_rows[c] * _features[d]
            for c in range(_number_of_classes)
            for d in range(_number_of_features)
        ),
        parameters=(*_features, *_onehot, margin, kink_value),
        defaults={"x0": 1.0, "x1": 1.0, "t0": 1.0, "t1": 0.0, "t2": 0.0, "Delta": 1.0, "H0": 0.0},
        shape=(_number_of_classes, _number_of_features),
        source="Lecture 3, eq. 14-16: eq. 15 for the row w_y, eq. 16 for the rows w_j, j != y",
        kink_value=kink_value,
        convex=True,
    )
)
