"""Multiclass SVM hinge loss (Lecture 3, eq. 14-16), with the label as a one-hot vector t.

    L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + Delta),      s = W x_i,  s_{y_i} = sum_c t_c s_c

    dL_i/dw_{y_i} = -(sum_{j != y_i} 1(s_j - s_{y_i} + Delta > 0)) x_i     (eq. 15)
    dL_i/dw_j     = 1(s_j - s_{y_i} + Delta > 0) x_i,  j != y_i           (eq. 16)

SymPy's derivative of max(0, z) is Heaviside(z); its value at the kink z = 0 is the parameter
``H0`` (default 0: the lecture's strict indicator 1(z > 0); every value in [0, 1] is a
subgradient). Writing "j != y_i" as the factor (1 - t_j) makes one formula hold for every label:

    L_i = sum_j (1 - t_j) max(0, m_j),    m_j = s_j - sum_c t_c s_c + Delta
    dL_i/ds_k = (1 - t_k) 1(m_k > 0) - t_k sum_j (1 - t_j) 1(m_j > 0)

The compiled form sums over every class and subtracts the j = y_i term, max(0, Delta):

    L_i = sum_j max(0, m_j) - max(0, Delta),    dL_i/ds_k = 1(m_k > 0) - t_k sum_j 1(m_j > 0)

which equals the lecture's at every one-hot t (proved by :func:`prove_all_classes_form`) and whose
gradient shares one sum across the classes: O(C) work per example instead of O(C^2). It is written in
index notation for a symbolic number of classes (s[j], t[j], sums over j = 0 ... C - 1), differentiated
by s[k], and compiled on the class axis (:mod:`symgrad.symbolic.index_form`): one generated text for every C.
"""

import sympy as sp

from symgrad.symbolic.index_form import drop_range_guards
from symgrad.symbolic.derivation import Derivation, is_identically_zero, pin_heaviside
from symgrad.symbolic.objectives.linear_layer import (
    class_sum,
    correct_class,
    index_score_gradient,
    label_family,
    on_class_axis,
    score_family,
    score_symbols,
    summed_class,
    written_out,
)
from symgrad.symbolic.registry import register

margin = sp.Symbol("Delta", real=True)
kink_value = sp.Symbol("H0", real=True)


def indicator(z: sp.Expr) -> sp.Expr:
    """The lecture's 1(z > 0) with its value at z = 0 left as the parameter ``H0``."""
    return sp.Heaviside(z, kink_value)


def margins(scores, onehot) -> list[sp.Expr]:
    """m_j = s_j - s_y + Delta with s_y = sum_c t_c s_c, one per class."""
    correct_score = sum(t * s for t, s in zip(onehot, scores))
    return [s - correct_score + margin for s in scores]


def hinge_loss(scores, onehot) -> sp.Expr:
    """The lecture's L_i = sum_{j != y} max(0, m_j), the exclusion written as the factor (1 - t_j)."""
    return sum((1 - t) * sp.Max(0, m) for t, m in zip(onehot, margins(scores, onehot)))


def hinge_lecture_score_gradient(scores, onehot) -> list[sp.Expr]:
    """dL_i/ds_k as the lecture writes it: eq. 16 when t_k = 0, eq. 15 when t_k = 1."""
    indicators = [indicator(m) for m in margins(scores, onehot)]
    missed_margins = sum((1 - t) * h for t, h in zip(onehot, indicators))
    return [t * (-missed_margins) + (1 - t) * h for t, h in zip(onehot, indicators)]


def index_hinge_loss() -> sp.Expr:
    """The all-classes form in index notation, symbolic C: sum_j max(0, s[j] - sum_c t[c] s[c] + Delta) - max(0, Delta)."""
    correct_score = class_sum(label_family[correct_class] * score_family[correct_class], correct_class)
    return class_sum(sp.Max(0, score_family[summed_class] - correct_score + margin)) - sp.Max(0, margin)


def index_hinge_gradient() -> sp.Expr:
    """dL_i/ds[k] of :func:`index_hinge_loss` as SymPy derives it (symbolic C):
    1(m_k > 0) - t[k] sum_j 1(m_j > 0), the indicator's value at 0 being ``H0``."""
    return index_score_gradient(index_hinge_loss(), kink_value)


def compiled_loss_and_gradient() -> tuple[sp.Expr, sp.Expr]:
    """What is compiled: L_i (1, N) and dL_i/ds (C, N) as array expressions in S, T (C, N), Delta and H0."""
    return on_class_axis(index_hinge_loss()), on_class_axis(index_hinge_gradient())


def prove_all_classes_form(number_of_classes: int = 3) -> bool:
    """Prove that the compiled form's loss and gradient, written out for C classes, equal the lecture's
    at every label y (t = e_y)."""
    scores, onehot = score_symbols(number_of_classes)
    lecture_loss = hinge_loss(scores, onehot)
    lecture_gradient = hinge_lecture_score_gradient(scores, onehot)
    loss = written_out(index_hinge_loss(), number_of_classes)
    gradient = [written_out(index_hinge_gradient(), number_of_classes, k) for k in range(number_of_classes)]
    for label in range(number_of_classes):
        at_label = {t: int(c == label) for c, t in enumerate(onehot)}
        differences = [loss - lecture_loss] + [g - l for g, l in zip(gradient, lecture_gradient)]
        if not all(is_identically_zero(d.subs(at_label)) for d in differences):
            return False
    return True


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


_scores, _onehot = score_symbols(3)

svm_hinge_scores = register(
    Derivation(
        name="svm_hinge_scores",
        title="L_i = sum_{j != y} max(0, s_j - s_y + Delta) over C = 3 scores, label one-hot t",
        objective=hinge_loss(_scores, _onehot),
        variables=_scores,
        lecture_gradient=hinge_lecture_score_gradient(_scores, _onehot),
        parameters=(*_onehot, margin, kink_value),
        defaults={"t0": 1.0, "t1": 0.0, "t2": 0.0, "Delta": 1.0, "H0": 0.0},
        source="Lecture 3, eq. 14-16 (per score)",
        kink_value=kink_value,
        convex=True,
    )
)

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
