"""Numerically stable rewrites applied before printing (placeholder until the rule set lands: log-sum-exp only).

>>> import sympy as sp
>>> from symgrad.symbolic.index_form import ClassSum
>>> S = sp.Symbol("S", real=True)
>>> stabilize(sp.log(ClassSum(sp.exp(S))))
log(ClassSum(exp(S - ClassMax(S)))) + ClassMax(S)
"""

from __future__ import annotations

import sympy as sp

from symgrad.symbolic.index_form import ClassMax, ClassSum


def stabilize(expr: sp.Expr) -> sp.Expr:
    """Shift every class sum of exponentials by the class maximum: sum_j e^{E_j} = e^M sum_j e^{E_j - M}."""

    def shifted(total: ClassSum) -> sp.Expr:
        exponent = total.args[0].args[0]
        maximum = ClassMax(exponent)
        return sp.exp(maximum) * ClassSum(sp.exp(exponent - maximum))

    rewritten = expr.replace(lambda e: isinstance(e, ClassSum) and isinstance(e.args[0], sp.exp), shifted)
    return sp.powsimp(sp.expand_log(rewritten, force=True), combine="exp")
