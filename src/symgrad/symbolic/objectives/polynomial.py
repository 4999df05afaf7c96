"""The lecture's worked polynomial (Lecture 4, section 4.2) and its directional derivative.

    f(x1, x2, x3) = x1^3 + 5 x1 x2 - 3 x2 x3^2
    grad f = < 3 x1^2 + 5 x2,  5 x1 - 3 x3^2,  -6 x2 x3 >

The directional derivative along u is the derivative of f on the line x + t u:

    d/dt f(x + t u) = u^T grad f(x + t u)        (= u^T grad f(x) at t = 0)
"""

import sympy as sp

from symgrad.symbolic.derivation import Derivation
from symgrad.symbolic.registry import register

x1, x2, x3 = sp.symbols("x1 x2 x3", real=True)


def polynomial_value(a, b, c):
    """f(a, b, c) = a^3 + 5 a b - 3 b c^2 for any SymPy expressions a, b, c."""
    return a**3 + 5 * a * b - 3 * b * c**2


def polynomial_lecture_gradient(a, b, c):
    """The lecture's closed form < 3 a^2 + 5 b, 5 a - 3 c^2, -6 b c >."""
    return (3 * a**2 + 5 * b, 5 * a - 3 * c**2, -6 * b * c)


polynomial = register(
    Derivation(
        name="polynomial",
        title="f(x1, x2, x3) = x1^3 + 5 x1 x2 - 3 x2 x3^2",
        objective=polynomial_value(x1, x2, x3),
        variables=(x1, x2, x3),
        lecture_gradient=polynomial_lecture_gradient(x1, x2, x3),
        source="Lecture 4, section 4.2",
    )
)

t = sp.Symbol("t", real=True)
u1, u2, u3 = sp.symbols("u1 u2 u3", real=True)
_line = (x1 + t * u1, x2 + t * u2, x3 + t * u3)

directional_derivative = register(
    Derivation(
        name="directional_derivative",
        title="d/dt f(x + t u) = u^T grad f(x + t u), for the lecture polynomial f",
        objective=polynomial_value(*_line),
        variables=(t,),
        parameters=(x1, x2, x3, u1, u2, u3),
        lecture_gradient=(
            sum(u * g for u, g in zip((u1, u2, u3), polynomial_lecture_gradient(*_line), strict=True)),
        ),
        source="Lecture 4, section 4.2 (directional derivative)",
    )
)
