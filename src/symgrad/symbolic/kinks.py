"""Points exactly at a derivation's kinks: where a max(0, .) switches, an |.| turns, a Heaviside steps.

A kink argument z(x, p) (see :attr:`symgrad.Derivation.kink_arguments`) vanishes at a kink. Starting from a
random point, one variable that z depends on linearly is solved for so that z = 0 exactly (in exact rational
arithmetic, then rounded to float64).
"""

from __future__ import annotations

import numpy as np
import sympy as sp


def is_linear_in(expression: sp.Expr, variable: sp.Symbol) -> bool:
    """True when ``expression`` is a polynomial of degree exactly 1 in ``variable``."""
    return expression.has(variable) and expression.is_polynomial(variable) and sp.degree(expression, variable) == 1


def kink_point(derivation, rng: np.random.Generator, parameters: dict | None = None, scale: float = 1.0):
    """A point x of shape ``derivation.shape`` at which one kink argument is 0, or None if there is none.

    Args:
        derivation: a :class:`symgrad.Derivation`.
        rng: random generator for the starting point (values on a grid of 1/8, so the solve stays exact).
        parameters: the derivation's parameter values by name (defaults fill the rest; others must be given).
        scale: spread of the starting point.

    Returns:
        array (derivation.shape) in float64, or None when no kink argument is linear in some variable.
    """
    values = {p: sp.nsimplify(derivation.defaults.get(p.name, 0)) for p in derivation.parameters}
    values.update({p: sp.nsimplify(parameters[p.name]) for p in derivation.parameters if p.name in (parameters or {})})
    start = {v: sp.Rational(int(round(8 * scale * rng.normal())), 8) for v in derivation.variables}
    for argument in rng.permutation(np.array(derivation.kink_arguments, dtype=object)):
        argument = argument.subs(values)
        for variable in rng.permutation(np.array(derivation.variables, dtype=object)):
            if is_linear_in(argument, variable):
                others = {v: value for v, value in start.items() if v != variable}
                solution = sp.solve(argument.subs(others), variable)
                if solution:
                    point = {**start, variable: solution[0]}
                    return np.array([float(point[v]) for v in derivation.variables]).reshape(derivation.shape)
    return None
