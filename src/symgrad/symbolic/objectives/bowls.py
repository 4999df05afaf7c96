"""The lecture's bowls (Lecture 4, sections 6.1 and 6.2) and a saddle to contrast them with.

    L(w) = w^2                 dL/dw = 2 w              one minimum, at w = 0
    L(w1, w2) = w1^2 + w2^2    grad L = < 2 w1, 2 w2 >  one minimum, at (0, 0)
    L(w1, w2) = w1^2 - w2^2    grad L = < 2 w1, -2 w2 > a saddle at (0, 0): not a minimum
"""

import sympy as sp

from symgrad.symbolic.derivation import Derivation
from symgrad.symbolic.registry import register

w, w1, w2 = sp.symbols("w w1 w2", real=True)

bowl_1d = register(
    Derivation(
        name="bowl_1d",
        title="L(w) = w^2",
        objective=w**2,
        variables=(w,),
        lecture_gradient=(2 * w,),
        source="Lecture 4, section 6.1",
        convex=True,
    )
)

bowl_2d = register(
    Derivation(
        name="bowl_2d",
        title="L(w1, w2) = w1^2 + w2^2",
        objective=w1**2 + w2**2,
        variables=(w1, w2),
        lecture_gradient=(2 * w1, 2 * w2),
        source="Lecture 4, section 6.2",
        convex=True,
    )
)

saddle = register(
    Derivation(
        name="saddle",
        title="L(w1, w2) = w1^2 - w2^2",
        objective=w1**2 - w2**2,
        variables=(w1, w2),
        lecture_gradient=(2 * w1, -2 * w2),
        source="contrast to Lecture 4, section 6.2: a critical point that is not a minimum",
    )
)
