"""Index notation for one example's loss of a linear model's scores, for a symbolic number of classes C.

    s[j]          the scores s = W x, one per class j = 0 ... C - 1
    t[j]          the label as a one-hot vector, t[j] = 1(j = y); for regression, the target
    class_sum(e)  sum_{j=0}^{C-1} e          class_max(e)  max_{j=0}^{C-1} e
    label_score   s_y = sum_c t[c] s[c]: one formula serves every label

A regression loss is written in the prediction u = w^T x and the target ``target``; :func:`per_output` puts it in
this notation (s[j] for u, t[j] for the target, summed over the C = 1 output).

>>> from sympy import Max
>>> hinge = class_sum((1 - t[j]) * Max(0, s[j] - label_score + 1))
>>> hinge
Sum((1 - t[j])*Max(0, s[j] - Sum(s[c]*t[c], (c, 0, C - 1)) + 1), (j, 0, C - 1))
"""

from __future__ import annotations

import sympy as sp

from symgrad.symbolic.index_form import ClassMaximum, at_class_count, index_gradient, to_class_axis

C = sp.Symbol("C", integer=True, positive=True)
"""The number of classes (outputs)."""

s = sp.IndexedBase("s", real=True)
t = sp.IndexedBase("t", real=True)

j, c = sp.symbols("j c", integer=True, nonnegative=True)
"""Summation indices over the classes 0 ... C - 1."""

k = sp.Symbol("k", integer=True, nonnegative=True)
"""The class a derivative dL/ds[k] is taken for."""

S, T = sp.symbols("S T", real=True)
"""The arrays (C, N) that hold s[j] and t[j] of a whole batch, one column per example (see
:mod:`symgrad.symbolic.index_form`)."""

prediction, target = sp.symbols("u y", real=True)
"""A regression loss's prediction u = w^T x and its target y, for :func:`per_output`."""


def class_sum(term: sp.Expr, index: sp.Symbol = j) -> sp.Expr:
    """sum_{index = 0}^{C - 1} term."""
    return sp.Sum(term, (index, 0, C - 1))


def class_max(term: sp.Expr, index: sp.Symbol = j) -> sp.Expr:
    """max_{index = 0}^{C - 1} term, differentiated as the mean of the tied terms' derivatives."""
    return ClassMaximum(term, index, C)


label_score = class_sum(t[c] * s[c], c)
"""s_y = sum_c t[c] s[c] for the one-hot label t."""


def per_output(loss_of_prediction: sp.Expr) -> sp.Expr:
    """A regression loss l(u, target) in index notation: sum_j l(s[j], t[j]) (C = 1 output at run time)."""
    return class_sum(loss_of_prediction.xreplace({prediction: s[j], target: t[j]}))


def score_gradient(loss: sp.Expr) -> sp.Expr:
    """dL/ds[k] of one example's loss in index notation (symbolic C), as SymPy derives it."""
    return index_gradient(loss, s, k, C)


def on_class_axis(expr: sp.Expr) -> sp.Expr:
    """An index-notation expression as array operations on S and T (C, N) (see :mod:`symgrad.symbolic.index_form`)."""
    return to_class_axis(expr, {s: S, t: T}, C)


def score_symbols(number_of_classes: int) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """One example's scores s0 ... s{C-1} and label entries t0 ... t{C-1}, as real symbols."""
    return sp.symbols(f"s0:{number_of_classes}", real=True), sp.symbols(f"t0:{number_of_classes}", real=True)


def written_out(expr: sp.Expr, number_of_classes: int, at_class: int | None = None, label: int | None = None) -> sp.Expr:
    """An index-notation expression for C = ``number_of_classes``, in the symbols of :func:`score_symbols`, at class
    k = ``at_class`` when it has the free index k, and with t = e_label when ``label`` is given."""
    scores, labels = score_symbols(number_of_classes)
    if label is not None:
        labels = tuple(sp.Integer(int(position == label)) for position in range(number_of_classes))
    return at_class_count(expr, C, number_of_classes, {s: scores, t: labels}, k, at_class)
