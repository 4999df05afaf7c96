"""Critical points: solve grad f = 0 symbolically and classify each point with the Hessian.

At a critical point p, the eigenvalues of the Hessian H(p) decide: all > 0 a minimum, all < 0 a maximum,
some > 0 and some < 0 a saddle; otherwise (zero eigenvalues, no sign change) the test is inconclusive.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symgrad.symbolic.derivation import Derivation


@dataclass(frozen=True)
class CriticalPoint:
    """A real solution of grad f = 0.

    Attributes:
        point: variable -> exact value.
        hessian_eigenvalues: eigenvalues of the Hessian there, each with its multiplicity repeated.
        kind: "minimum", "maximum", "saddle" or "inconclusive".
    """

    point: dict[sp.Symbol, sp.Expr]
    hessian_eigenvalues: tuple[sp.Expr, ...]
    kind: str

    def __str__(self) -> str:
        """``w1 = 0, w2 = 0: Hessian eigenvalues 2, -2 -> saddle``."""
        where = ", ".join(f"{variable} = {value}" for variable, value in self.point.items())
        return f"{where}: Hessian eigenvalues {', '.join(map(str, self.hessian_eigenvalues))} -> {self.kind}"


def classify(eigenvalues) -> str:
    """Second-derivative test from the Hessian's eigenvalues."""
    positive = any(e > 0 for e in eigenvalues)
    negative = any(e < 0 for e in eigenvalues)
    if positive and negative:
        return "saddle"
    if all(e > 0 for e in eigenvalues):
        return "minimum"
    if all(e < 0 for e in eigenvalues):
        return "maximum"
    return "inconclusive"


def critical_points(derivation: Derivation) -> list[CriticalPoint]:
    """Every real critical point of ``derivation.objective``, classified by its Hessian.

    The derivation must have no parameters (the point must be a number, not a formula).
    """
    if derivation.parameters:
        raise ValueError(f"derivation: {derivation.name} has parameters; critical points need a closed objective")
    solutions = sp.solve(derivation.gradient, derivation.variables, dict=True)
    points = []
    for solution in solutions:
        point = {v: sp.nsimplify(solution.get(v, v)) for v in derivation.variables}
        if not all(value.is_real for value in point.values()):
            continue
        hessian = derivation.hessian.subs(point)
        eigenvalues = tuple(
            value for value, multiplicity in hessian.eigenvals().items() for _ in range(multiplicity)
        )
        points.append(CriticalPoint(point=point, hessian_eigenvalues=eigenvalues, kind=classify(eigenvalues)))
    return points
