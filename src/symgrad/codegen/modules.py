"""Lambdify derivations to NumPy: value and gradient, with common-subexpression elimination.

The compiled gradient takes an array ``x`` whose leading axes are the derivation's variable shape and
whose trailing axes (if any) are a batch of points: ``x`` (*shape, *batch) -> gradient (*shape, *batch).
It always returns a full array of that shape in ``x``'s floating dtype, even when a component is constant
(lambdify alone returns a Python scalar there).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp
from sympy.printing.numpy import JaxPrinter, NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

from symgrad.runtime.generated import function_from_module


class _ArrayModulePrinting:
    """Printer methods shared by the NumPy and JAX printers, written against ``self._module`` (``numpy``,
    ``jax.numpy``), for output that keeps float32 in float32.

    ``Heaviside(z, H0)`` prints as ``heaviside(z, H0)`` (SymPy's default is a ``select`` with integer
    choices, which upcasts float32 to float64). A scaled matrix product ``c*A*B`` prints as
    ``c*(A @ B)`` (SymPy's default ``.dot(c)`` upcasts too), and ``Trace(A)`` as ``trace(A)`` (``vdot(A, A)``
    for tr(A A^T)). ``DiracDelta``, the derivative of ``Heaviside`` and ``sign`` that SymPy cannot print for
    NumPy, prints as its value off the jump (0) and NaN on it (see :meth:`_print_DiracDelta`).
    """

    def _array_function(self, name: str) -> str:
        """``name`` in the printer's array module, fully qualified: ``numpy.sum``, ``jax.numpy.sum``."""
        return self._module_format(f"{self._module}.{name}")

    def _print_Heaviside(self, expr):
        z, kink_value = expr.args
        return f"{self._array_function('heaviside')}({self._print(z)}, {self._print(kink_value)})"

    def _print_DiracDelta(self, expr):
        """``DiracDelta(z)`` (and its derivatives ``DiracDelta(z, k)``): 0 where z != 0, NaN where z == 0.

        d/dz Heaviside(z) and d/dz sign(z) are 0 away from z = 0 and do not exist at it: the objective jumps there,
        so no gradient or subgradient does. NaN says so where a number is asked for, and keeps z's dtype.
        """
        z = self._print(expr.args[0])
        where, equal, zeros_like = (self._array_function(name) for name in ("where", "equal", "zeros_like"))
        return f"{where}({equal}({z}, 0), {self._array_function('nan')}, {zeros_like}({z}))"

    def _print_MatMul(self, expr):
        """``c * (A @ B)``; SymPy's default ``(A).dot(B).dot(c)`` upcasts float32 when c is a float.

        A leading row of ones, ``1^T A`` (shape (1, n) times (n, m)), prints as the column sum
        ``sum(A, axis=0, keepdims=True)`` so that no float64 ``ones`` array enters the product.
        """
        coefficient, matrices = expr.as_coeff_matrices()
        matrices = list(matrices)
        if len(matrices) > 1 and isinstance(matrices[0], sp.OneMatrix) and matrices[0].shape[0] == 1:
            rest = sp.MatMul(*matrices[1:]) if len(matrices) > 2 else matrices[1]
            product = f"{self._array_function('sum')}({self._print(rest)}, axis=0, keepdims=True)"
        else:
            product = "(" + " @ ".join(self.parenthesize(m, PRECEDENCE["Mul"]) for m in matrices) + ")"
        if coefficient == 1:
            return product
        return f"{self.parenthesize(coefficient, PRECEDENCE['Mul'])}*{product}"

    def _print_Trace(self, expr):
        """``trace(A)``; the squared Frobenius norm tr(A A^T) = sum(A^2) as ``vdot(A, A)``, one pass over A
        instead of a (C, D) x (D, C) product."""
        factors = expr.arg.args if isinstance(expr.arg, sp.MatMul) else ()
        if len(factors) == 2 and factors[1] == factors[0].T:
            matrix = self._print(factors[0])
            return f"{self._array_function('vdot')}({matrix}, {matrix})"
        return f"{self._array_function('trace')}({self._print(expr.arg)})"


class SymgradNumPyPrinter(_ArrayModulePrinting, NumPyPrinter):
    """NumPy printer whose output keeps float32 in float32 (see :class:`_ArrayModulePrinting`)."""


class SymgradJaxPrinter(_ArrayModulePrinting, JaxPrinter):
    """JAX printer (``jax.numpy``) with the same customisations as :class:`SymgradNumPyPrinter`, and
    ``Max``/``Min`` printed as nested ``maximum``/``minimum`` calls.

    SymPy prints ``Max(0, x)`` as ``functools.reduce(jax.numpy.maximum, [0, x])``, a Python-level fold
    over a list; ``jax.numpy.maximum(0, x)`` is the same elementwise maximum (a scalar broadcasts against
    an array), traced as one operation and with no ``functools`` import.
    """

    def _nested(self, name: str, args) -> str:
        function = self._array_function(name)
        printed = self._print(args[0])
        for arg in args[1:]:
            printed = f"{function}({printed}, {self._print(arg)})"
        return printed

    def _print_Max(self, expr):
        return self._nested("maximum", expr.args)

    def _print_Min(self, expr):
        return self._nested("minimum", expr.args)


_PRINTER_SETTINGS = {"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": True}


def numpy_printer() -> SymgradNumPyPrinter:
    """A printer with fully qualified names (``numpy.exp``), so generated text says what it imports."""
    return SymgradNumPyPrinter(dict(_PRINTER_SETTINGS))


def jax_printer() -> SymgradJaxPrinter:
    """A JAX printer with fully qualified names (``jax.numpy.exp``), like :func:`numpy_printer`."""
    return SymgradJaxPrinter(dict(_PRINTER_SETTINGS))


PRINTERS = {"numpy": numpy_printer, "jax": jax_printer}
"""Backend name -> function returning a fresh printer for :func:`generate_module`."""


def generate_module(arguments, expressions, backend: str = "numpy") -> str:
    """Python module text for the expressions, as ``sympy.lambdify`` (with CSE) prints them.

    The text imports what the printer used and defines ``_lambdifygenerated(*arguments)``, returning the
    list of expression values. lambdify names a list argument ``_Dummy_<counter>``; those names are
    renumbered in order of appearance so the same derivation always gives the same text.

    Args:
        arguments: the symbols (or matrix symbols) of the function's parameters, in order.
        expressions: the expressions whose values the function returns, as a list.
        backend: ``"numpy"`` (:class:`SymgradNumPyPrinter`) or ``"jax"`` (:class:`SymgradJaxPrinter`,
            text calling ``jax.numpy``). Printing needs neither JAX nor a GPU; only running the text does.
    """
    if backend not in PRINTERS:
        raise ValueError(f"backend: expected one of {sorted(PRINTERS)}, got {backend!r}")
    printer = PRINTERS[backend]()
    # The namespace lambdify builds from ``modules`` is not used: the text is executed again, by its own imports.
    function = sp.lambdify(
        list(arguments), list(expressions), modules="numpy", printer=printer, cse=True, docstring_limit=0
    )
    source = inspect.getsource(function)
    dummies = list(dict.fromkeys(re.findall(r"\b_Dummy_\d+\b", source)))
    for number, dummy in enumerate(dummies):
        source = re.sub(rf"\b{dummy}\b", f"argument_{number}", source)
    imports = "".join(f"import {module}\n" for module in sorted(printer.module_imports))
    return f"# Generated by SymPy's lambdify through symgrad.codegen.modules.generate_module: do not edit.\n{imports}\n\n{source}"


def lambdify_numpy(arguments, expressions) -> Callable:
    """The function of :func:`generate_module`'s text: lambdify with CSE and :class:`SymgradNumPyPrinter`."""
    return function_from_module(generate_module(arguments, expressions))


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

    def value(self, x, /, **parameters):
        """Objective at ``x`` (*shape, *batch) -> array (*batch), or a scalar for a single point.

        ``x`` is positional-only, so that any name, ``x`` included, can be a parameter: ``value(1.0, x=2.0)``.
        """
        x, arguments, batch = self._arguments(x, parameters)
        out = np.empty(batch, dtype=x.dtype)
        out[...] = self.value_function(*arguments)[0]
        return out[()]

    def gradient(self, x, /, **parameters):
        """Gradient at ``x`` (*shape, *batch) -> array (*shape, *batch) in ``x``'s dtype.

        Complex ``x`` is accepted for the complex-step reference (see :mod:`symgrad.verification.checker`).
        """
        x, arguments, batch = self._arguments(x, parameters)
        out = np.empty(self.shape + batch, dtype=x.dtype)
        for index, component in zip(np.ndindex(self.shape), self.gradient_function(*arguments)):
            out[index] = component
        return out

    __call__ = gradient

    def _arguments(self, x, parameters):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.inexact):
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
