"""The checker applied to a derivation: its compiled gradient against finite differences of its compiled value.

The derivation's parameters are keyword arguments, as for its compiled functions
(``compile_derivation(d).gradient(x, **parameters)``); the checker's options are keywords too.

>>> import numpy as np, symgrad
>>> check_derivation(symgrad.get_derivation("polynomial"), np.array([1.0, 2.0, 3.0])).ok
True
>>> hinge = symgrad.derive("max(0, 1 - y * w)", "w")
>>> check_derivation(hinge, np.array(0.5), y=-1.0, seed=0).ok        # y: the derivation's; seed: the checker's
True
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from symgrad.codegen.compile import compile_derivation
from symgrad.runtime.compiled_derivation import CompiledDerivation
from symgrad.symbolic.derivation import Derivation
from symgrad.verification.checker import GradientReport, check_gradient

CHECKER_OPTIONS = frozenset(inspect.signature(check_gradient).parameters) - {"f", "grad", "x", "mode"}
"""Keywords of :func:`check_derivation` that go to the checker (``seed``, ``samples``, ``tolerance``, ...)."""


def check_derivation(
    derivation: Derivation | CompiledDerivation,
    x: npt.ArrayLike,
    /,
    mode: str | None = None,
    *,
    parameters: Mapping[str, npt.ArrayLike] | None = None,
    **keywords: Any,
) -> GradientReport:
    """:func:`~symgrad.verification.checker.check_gradient` of a derivation's compiled value and gradient at ``x``.

    Convexity comes from the derivation (unless ``convex=`` is given). ``reference="complex_step"`` is refused,
    naming the offending functions, when the objective has a kink (Heaviside, Abs, Max, ...).

    Args:
        derivation: a :class:`symgrad.Derivation`, or its :func:`symgrad.compile_derivation`.
        x: a point of shape ``derivation.shape``.
        mode: as in :func:`~symgrad.verification.checker.check_gradient`.
        parameters: the derivation's parameters as a mapping; needed only for a parameter named like one of the
            checker's options (:data:`CHECKER_OPTIONS`) or ``mode``.
        **keywords: the derivation's parameters by name, as its compiled functions take them (defaults fill the
            rest), and the options of :func:`~symgrad.verification.checker.check_gradient` (``seed``,
            ``samples``, ``tolerance``, ``reference``, ...).

    Raises:
        TypeError: a keyword names both a parameter and a checker option, or is given twice; an unknown parameter.
    """
    complex_step = keywords.get("reference") == "complex_step"
    if isinstance(derivation, CompiledDerivation):
        compiled = derivation
    else:  # numpy.logaddexp and other stable forms take no complex input: the complex step needs the written form
        compiled = compile_derivation(derivation, stabilized=not complex_step)
    options = {name: value for name, value in keywords.items() if name in CHECKER_OPTIONS}
    values = dict(parameters or {})
    for name, value in keywords.items():
        if name in options and name in compiled.parameters and name not in values:
            raise TypeError(f"{name}: both a parameter of {compiled.name!r} and an option of the checker; pass the "
                            f"parameter as parameters={{{name!r}: ...}}")
        if name in options:
            continue
        if name in values:
            raise TypeError(f"{name}: given both as a keyword and in parameters=")
        values[name] = value
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
        lambda z: compiled.value(z, **values), lambda z: compiled.gradient(z, **values), point, mode, **options
    )
