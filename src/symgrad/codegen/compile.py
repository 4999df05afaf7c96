"""Compile a derivation to NumPy: its objective, its derived gradient and its kink arguments, generated once.

The objective and the gradient pass through the numerically stable rewrites of :mod:`symgrad.codegen.rewriting`
before printing (log(1 + e^z) as logaddexp(0, z), ...): the derivation itself, and what is proved about it, is the
expression as written.

>>> import symgrad
>>> bowl = compile_derivation(symgrad.get_derivation("bowl_1d"))     # L(w) = w^2
>>> float(bowl.gradient(3.0))
6.0
"""

from __future__ import annotations

import weakref

from symgrad.codegen.modules import GeneratedFunction, module_text
from symgrad.codegen.rewriting import stabilize
from symgrad.runtime.compiled_derivation import CompiledDerivation
from symgrad.runtime.generated import module_from_text
from symgrad.symbolic.derivation import Derivation

_COMPILED = {True: weakref.WeakKeyDictionary(), False: weakref.WeakKeyDictionary()}


def compile_derivation(derivation: Derivation, *, stabilized: bool = True) -> CompiledDerivation:
    """The NumPy value, gradient and kink arguments of ``derivation``, generated once per derivation.

    Args:
        derivation: a :class:`symgrad.Derivation`.
        stabilized: rewrite the objective and gradient into numerically stable forms first; ``False`` prints them
            as written (for the complex-step reference: ``numpy.logaddexp`` takes no complex input).

    Returns:
        a :class:`~symgrad.runtime.compiled_derivation.CompiledDerivation`: ``value(point, **parameters)``,
        ``gradient(point, **parameters)`` for a point (*shape, *batch), and ``kink_distance``.

    Raises:
        TimeBudgetExceeded: generating took longer than the derivation's ``time_budget`` (a user's formula).
    """
    if not isinstance(derivation, Derivation):
        raise TypeError(f"derivation: expected a symgrad.Derivation, got {type(derivation).__name__}")
    compiled = _COMPILED[stabilized]
    if derivation not in compiled:
        text = derivation.within_time_budget("compiling", _module_text, derivation, stabilized)
        module = module_from_text(text, f"symgrad_derivation_{derivation.name}")
        kink_value = derivation.kink_value
        compiled[derivation] = CompiledDerivation(
            name=derivation.name,
            shape=derivation.shape,
            parameters=tuple(p.name for p in derivation.parameters),
            defaults=dict(derivation.defaults),
            value_function=module.value,
            gradient_function=module.gradient,
            kink_function=module.kink_arguments,
            convex=derivation.convex,
            non_smooth_functions=derivation.non_smooth_functions,
            kink_parameter=kink_value.name if kink_value in derivation.parameters else None,
            source=text,
        )
    return compiled[derivation]


def _module_text(derivation: Derivation, stabilized: bool) -> str:
    """The generated module of a derivation: ``value``, ``gradient`` and ``kink_arguments``."""
    arguments = derivation.variables + derivation.parameters
    rewrite = stabilize if stabilized else (lambda expr: expr)
    return module_text([
        GeneratedFunction("value", arguments, (rewrite(derivation.objective),)),
        GeneratedFunction("gradient", arguments, tuple(rewrite(tuple(derivation.gradient)))),
        GeneratedFunction("kink_arguments", arguments, derivation.kink_arguments),
    ])
