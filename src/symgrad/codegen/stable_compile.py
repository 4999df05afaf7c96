"""Compile a derivation after stabilizing it: :func:`symgrad.codegen.rewriting.stabilize`, then
:func:`symgrad.codegen.modules.compile_derivation`.

The derivation itself is untouched (its gradient is proved against the closed form as written); only the
expressions handed to the printer are rewritten. For the logistic loss at z = w.x = -800 the gradient
-(1 - sigma(z)) x comes out as -x instead of nan:

>>> import numpy as np, symgrad
>>> logistic = symgrad.get_derivation("logistic")
>>> compile_stabilized(logistic).gradient(np.array([-800.0, 0.0]))  # x = (1, -2) by default
array([-1.,  2.])
"""

from __future__ import annotations

from types import SimpleNamespace

from symgrad.codegen.modules import CompiledDerivation, compile_derivation
from symgrad.codegen.rewriting import STABLE_RULES, stabilize


def compile_stabilized(derivation, rules=STABLE_RULES) -> CompiledDerivation:
    """:func:`compile_derivation` of ``derivation`` with its objective and gradient stabilized by ``rules``.

    Args:
        derivation: a :class:`symgrad.Derivation` (or any object with the attributes that
            ``compile_derivation`` reads: name, shape, variables, parameters, defaults, objective, gradient).
        rules: the rewrite rules, :data:`symgrad.codegen.rewriting.STABLE_RULES` by default.
    """
    stabilized = SimpleNamespace(
        name=derivation.name,
        shape=derivation.shape,
        variables=derivation.variables,
        parameters=derivation.parameters,
        defaults=derivation.defaults,
        objective=stabilize(derivation.objective, rules),
        gradient=stabilize(tuple(derivation.gradient), rules),
    )
    return compile_derivation(stabilized)
