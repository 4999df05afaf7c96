"""A loss of a linear model written as a formula string, for :func:`symgrad.define_loss` and the command line.

The notation, for one example:

    classifier (scores s = W x of the C classes; label y)     regression (prediction u = w^T x; target y)
    s[j]        the score of class j                          u        the prediction
    t[j]        1 if class j is the label, else 0             y        the target
    s[y]        the label's score                             r        the residual u - y
    sum_j(e)    e summed over the classes j
    max_j(e)    the largest e over the classes j
    sum_other(e)  e summed over the classes j != y
    C           the number of classes

``s[j]`` and ``t[j]`` appear only inside ``sum_j``, ``max_j`` or ``sum_other`` (which do not nest); every other
name is a parameter of the loss. The text is read as :func:`symgrad.symbolic.expressions.parse_expression` reads a
formula (the same allow-list, limits and time budget), with these three functions added.

>>> parse_loss_formula("sum_other(max(0, s[j] - s[y] + delta)**2)")
(Sum((1 - t[j])*Max(0, delta + s[j] - Sum(s[c]*t[c], (c, 0, C - 1)))**2, (j, 0, C - 1)), ('delta',))
>>> parse_loss_formula("log(1 + exp(u)) - y*u", kind="regression")
(-u*y + log(exp(u) + 1), ())
"""

from __future__ import annotations

import re

import sympy as sp

from symgrad.symbolic.expressions import ExpressionError, normalise, parse_expression
from symgrad.symbolic.notation import C, class_max, class_sum, j, label_score, prediction, s, t, target

_SUBSCRIPT = re.compile(r"\b([st])\[\s*([jy])\s*\]")
_REDUCTIONS = {name: sp.Function(name) for name in ("sum_j", "max_j", "sum_other")}


def _real(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


_CLASSIFIER_NAMES = {_real("s_j"): s[j], _real("t_j"): t[j], _real("s_y"): label_score, _real("C"): C}
_REGRESSION_NAMES = {_real("u"): prediction, _real("y"): target, _real("r"): prediction - target}


def parse_loss_formula(text, kind: str = "classifier", argument: str = "loss") -> tuple[sp.Expr, tuple[str, ...]]:
    """The per-example loss a formula string means, in index notation, and the names of its parameters (sorted).

    Raises:
        ExpressionError: the text is not a formula of the notation (the message starts with ``argument``).
        ValueError: ``kind`` is neither ``"classifier"`` nor ``"regression"``.
    """
    if kind not in ("classifier", "regression"):
        raise ValueError(f"kind: expected 'classifier' or 'regression', got {kind!r}")
    source = normalise(text, argument)
    if kind == "classifier":
        expression = parse_expression(
            _SUBSCRIPT.sub(lambda match: f"{match[1]}_{match[2]}", source), argument,
            {name: (function, 1) for name, function in _REDUCTIONS.items()},
        )
        indexed = _classifier_form(expression, argument)
    else:
        if "[" in source:
            raise ExpressionError(f"{argument}: a regression loss is written in u, y and r, without subscripts")
        indexed = parse_expression(source, argument).xreplace(_REGRESSION_NAMES)
    notation = {s.label, t.label, j, C, prediction, target}
    names = {symbol.name for symbol in indexed.free_symbols if isinstance(symbol, sp.Symbol) and symbol not in notation}
    return indexed, tuple(sorted(names))


def _classifier_form(expression: sp.Expr, argument: str) -> sp.Expr:
    """The notation's names and reductions as index notation; s[j], t[j] only inside one reduction."""
    for reduction in expression.atoms(*_REDUCTIONS.values()):
        if reduction.args[0].has(*_REDUCTIONS.values()):
            raise ExpressionError(f"{argument}: sum_j, max_j and sum_other do not nest")
    indexed = expression.xreplace(_CLASSIFIER_NAMES)
    indexed = indexed.replace(_REDUCTIONS["sum_j"], class_sum)
    indexed = indexed.replace(_REDUCTIONS["max_j"], class_max)
    indexed = indexed.replace(_REDUCTIONS["sum_other"], lambda e: class_sum((1 - t[j]) * e))
    if j in indexed.free_symbols:
        raise ExpressionError(f"{argument}: s[j] and t[j] belong inside sum_j(...), max_j(...) or sum_other(...)")
    return indexed
