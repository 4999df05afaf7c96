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
    """Second-derivative test from the Hessian's eigenvalues (an eigenvalue whose sign SymPy cannot decide counts
    as neither positive nor negative)."""
    signs = [(sp.sympify(e).is_positive, sp.sympify(e).is_negative) for e in eigenvalues]
    positive = any(is_positive for is_positive, _ in signs)
    negative = any(is_negative for _, is_negative in signs)
    if positive and negative:
        return "saddle"
    if all(is_positive for is_positive, _ in signs):
        return "minimum"
    if all(is_negative for _, is_negative in signs):
        return "maximum"
    return "inconclusive"


def critical_points(derivation: Derivation) -> list[CriticalPoint]:
    """Every real critical point of ``derivation.objective``, classified by its Hessian.

    The derivation must have no parameters (the point must be a number, not a formula). For a periodic gradient
    SymPy returns the solutions of one period only.

    Raises:
        TypeError: ``derivation`` is not a :class:`~symgrad.symbolic.derivation.Derivation`.
        ValueError: naming the derivation, when it has parameters, or when SymPy cannot solve grad f = 0 or find
            the Hessian's eigenvalues in closed form (for instance at the kinks of abs, max, sign, Heaviside).
    """
    if not isinstance(derivation, Derivation):
        raise TypeError(f"derivation: expected a Derivation (get_derivation, derive), got {type(derivation).__name__}")
    if derivation.parameters:
        raise ValueError(f"derivation: {derivation.name} has parameters; critical points need a closed objective")
    try:
        solutions = sp.solve(derivation.gradient, derivation.variables, dict=True)
    except NotImplementedError as error:
        kinks = "" if derivation.is_smooth else " (the objective has kinks, where the gradient is not defined)"
        raise ValueError(f"derivation: SymPy cannot solve grad f = 0 for {derivation.name} in closed form{kinks}: "
                         f"{error}") from None
    points = []
    for solution in solutions:
        point = {v: sp.nsimplify(solution.get(v, v)) for v in derivation.variables}
        if not all(value.is_real for value in point.values()):
            continue
        hessian = derivation.hessian.subs(point)
        try:
            eigenvalues = tuple(
                value for value, multiplicity in hessian.eigenvals().items() for _ in range(multiplicity)
            )
        except (NotImplementedError, sp.matrices.MatrixError) as error:
            raise ValueError(f"derivation: SymPy cannot find the Hessian's eigenvalues of {derivation.name} at "
                             f"{point} in closed form: {error}") from None
        points.append(CriticalPoint(point=point, hessian_eigenvalues=eigenvalues, kind=classify(eigenvalues)))
    return points
