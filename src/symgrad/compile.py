"""Lambdify derivations to NumPy: value and gradient, with common-subexpression elimination.

The compiled gradient takes an array ``x`` whose leading axes are the derivation's variable shape and
whose trailing axes (if any) are a batch of points: ``x`` (*shape, *batch) -> gradient (*shape, *batch).
It always returns a full array of that shape in ``x``'s floating dtype, even when a component is constant
(lambdify alone returns a Python scalar there).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter


class SymgradNumPyPrinter(NumPyPrinter):
    """NumPy printer whose output keeps float32 in float32.

    ``Heaviside(z, H0)`` prints as ``heaviside(z, H0)`` (SymPy's default is a ``select`` with integer
    choices, which upcasts float32 to float64).
    """

    def _print_Heaviside(self, expr):
        z, kink_value = expr.args
        return f"{self._module_format('numpy.heaviside')}({self._print(z)}, {self._print(kink_value)})"


def numpy_printer() -> SymgradNumPyPrinter:
    """A printer configured as ``lambdify`` configures its own (unqualified NumPy names)."""
    return SymgradNumPyPrinter(
        {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True}
    )


def lambdify_numpy(arguments, expressions) -> Callable:
    """``sympy.lambdify`` of a list of expressions with CSE and :class:`SymgradNumPyPrinter`."""
    return sp.lambdify(
        list(arguments),
        list(expressions),
        modules="numpy",
        printer=numpy_printer(),
        cse=True,
        docstring_limit=0,
    )


def generated_source(function: Callable) -> str:
    """The Python source that ``lambdify`` generated for ``function``."""
    return inspect.getsource(function)


@dataclass(frozen=True)
class CompiledDerivation:
    """NumPy value and gradient of one derivation.

    Attributes:
        name: the derivation's name.
        shape: variable shape, e.g. ``(3,)`` for the polynomial, ``()`` for w^2.
        parameters: names of the keyword arguments (data, margins, kink values).
        defaults: default value per parameter name.
        value_function, gradient_function: the lambdified functions, taking one array per variable then
            one per parameter.
    """

    name: str
    shape: tuple[int, ...]
    parameters: tuple[str, ...]
    defaults: dict
    value_function: Callable
    gradient_function: Callable

    def value(self, x, **parameters):
        """Objective at ``x`` (*shape, *batch) -> array (*batch), or a scalar for a single point."""
        x, arguments, batch = self._arguments(x, parameters)
        out = np.empty(batch, dtype=x.dtype)
        out[...] = self.value_function(*arguments)[0]
        return out[()]

    def gradient(self, x, **parameters):
        """Gradient at ``x`` (*shape, *batch) -> array (*shape, *batch) in ``x``'s dtype."""
        x, arguments, batch = self._arguments(x, parameters)
        out = np.empty(self.shape + batch, dtype=x.dtype)
        for index, component in zip(np.ndindex(self.shape), self.gradient_function(*arguments)):
            out[index] = component
        return out

    __call__ = gradient

    def _arguments(self, x, parameters):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            if not (np.issubdtype(x.dtype, np.integer) or x.dtype == bool):
                raise TypeError(f"x: expected a real array, got dtype {x.dtype}")
            x = x.astype(np.float64)
        if x.shape[: len(self.shape)] != self.shape:
            raise ValueError(
                f"x: {self.name} takes an array of shape {self.shape} (+ batch axes), got {x.shape}"
            )
        unknown = set(parameters) - set(self.parameters)
        if unknown:
            raise TypeError(f"{self.name}: unknown parameters {sorted(unknown)}; it takes {list(self.parameters)}")
        values = []
        for name in self.parameters:
            if name in parameters:
                values.append(np.asarray(parameters[name], dtype=x.dtype))
            elif name in self.defaults:
                values.append(x.dtype.type(self.defaults[name]))
            else:
                raise TypeError(f"{self.name}: missing parameter {name!r}")
        variables = [x[index] for index in np.ndindex(self.shape)]
        batch = np.broadcast_shapes(x.shape[len(self.shape) :], *(np.shape(v) for v in values))
        return x, variables + values, batch


def compile_derivation(derivation) -> CompiledDerivation:
    """Lambdify ``derivation.objective`` and ``derivation.gradient`` once; see :class:`CompiledDerivation`."""
    arguments = derivation.variables + derivation.parameters
    return CompiledDerivation(
        name=derivation.name,
        shape=derivation.shape,
        parameters=tuple(p.name for p in derivation.parameters),
        defaults=dict(derivation.defaults),
        value_function=lambdify_numpy(arguments, [derivation.objective]),
        gradient_function=lambdify_numpy(arguments, derivation.gradient),
    )
