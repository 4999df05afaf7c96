"""The checker applied to a derivation: its compiled gradient against finite differences of its compiled value.

>>> import numpy as np, symgrad
>>> check_derivation(symgrad.get_derivation("polynomial"), np.array([1.0, 2.0, 3.0])).ok
True
"""

from __future__ import annotations

import numpy as np

from symgrad.codegen.compile import compile_derivation
from symgrad.runtime.compiled_derivation import CompiledDerivation
from symgrad.verification.checker import GradientReport, check_gradient


def check_derivation(derivation, x, mode: str = "full", *, parameters=None, **options) -> GradientReport:
    """:func:`~symgrad.verification.checker.check_gradient` of a derivation's compiled value and gradient at ``x``.

    Convexity comes from the derivation (unless ``convex=`` is given). ``reference="complex_step"`` is refused,
    naming the offending functions, when the objective has a kink (Heaviside, Abs, Max, ...).

    Args:
        derivation: a :class:`symgrad.Derivation`, or its :func:`symgrad.compile_derivation`.
        x: a point of shape ``derivation.shape``.
        mode: as in :func:`~symgrad.verification.checker.check_gradient`.
        parameters: values of the derivation's parameters by name; defaults fill the rest.
        **options: further options of :func:`~symgrad.verification.checker.check_gradient`.
    """
    complex_step = options.get("reference") == "complex_step"
    if isinstance(derivation, CompiledDerivation):
        compiled = derivation
    else:  # numpy.logaddexp and other stable forms take no complex input: the complex step needs the written form
        compiled = compile_derivation(derivation, stabilized=not complex_step)
    parameters = dict(parameters or {})
    options.setdefault("convex", compiled.convex)
    point = np.asarray(x)
    if point.shape != compiled.shape:
        raise ValueError(f"x: {compiled.name} takes a point of shape {compiled.shape}, got {point.shape}")
    if complex_step:
        if compiled.non_smooth_functions:
            raise ValueError(
                f"reference: complex step refused for {compiled.name!r}: its objective contains "
                f"{', '.join(compiled.non_smooth_functions)}, through which complex arithmetic gives wrong "
                "derivatives; use 'centered'"
            )
        options["analytic"] = True
    return check_gradient(
        lambda z: compiled.value(z, **parameters), lambda z: compiled.gradient(z, **parameters), point, mode, **options
    )
