"""SymPy printers for the generated code: NumPy and ``jax.numpy`` text that keeps float32 in float32.

>>> import sympy as sp
>>> z = sp.Symbol("z", real=True)
>>> numpy_printer().doprint(sp.Heaviside(z, 0))
'numpy.heaviside(z, 0)'
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import JaxPrinter, NumPyPrinter
from sympy.printing.precedence import PRECEDENCE


class _ArrayModulePrinting:
    """Printer methods shared by the NumPy and JAX printers, written against ``self._module`` (``numpy``,
    ``jax.numpy``), for output that keeps float32 in float32.

    ``Heaviside(z, H0)`` prints as ``heaviside(z, H0)`` (SymPy's default is a ``select`` with integer
    choices, which upcasts float32 to float64). A scaled matrix product ``c*A*B`` prints as
    ``c*(A @ B)`` (SymPy's default ``.dot(c)`` upcasts too), and ``Trace(A)`` as ``trace(A)`` (``vdot(A, A)``
    for tr(A A^T)). ``DiracDelta``, the derivative of ``Heaviside`` and ``sign`` that SymPy cannot print for
    NumPy, prints as its value off the jump (0) and NaN on it (see :meth:`_print_DiracDelta`).

    In a sum, the terms made only of numbers and of ``scalar_symbols`` (a loss's parameters) come last, so the
    margin s_j - s_y + Delta is evaluated as (s_j - s_y) + Delta: the difference of two close scores is exact,
    and a small Delta is not lost in rounding against large scores. A sum of two terms whose first is negated
    prints as a difference, ``1 - T`` rather than ``-T + 1`` (the same value, without a pass negating T).
    """

    scalar_symbols: frozenset = frozenset()
    heaviside_as_comparisons: bool = False

    def _as_ordered_terms(self, expr, order=None):
        terms = sorted(super()._as_ordered_terms(expr, order=order),
                       key=lambda term: term.free_symbols <= self.scalar_symbols)
        if len(terms) == 2 and terms[0].could_extract_minus_sign() and not terms[1].could_extract_minus_sign():
            return terms[::-1]  # b - a, not -a + b: the same sum (addition commutes), one negation fewer
        return terms

    def _array_function(self, name: str) -> str:
        """``name`` in the printer's array module, fully qualified: ``numpy.sum``, ``jax.numpy.sum``."""
        return self._module_format(f"{self._module}.{name}")

    def _print_Heaviside(self, expr):
        """``heaviside(z, H0)``; with ``heaviside_as_comparisons``, ``(greater(z, 0) + H0*equal(z, 0))``: the same
        values, about twice as fast on large arrays (two comparisons instead of the ufunc's branches). Its dtype is
        H0's, so H0 must be a scalar of the computing dtype (a Python float would make it float64)."""
        z, kink_value = (self._print(argument) for argument in expr.args)
        if self.heaviside_as_comparisons:
            greater, equal = self._array_function("greater"), self._array_function("equal")
            return f"({greater}({z}, 0) + {kink_value}*{equal}({z}, 0))"
        return f"{self._array_function('heaviside')}({z}, {kink_value})"

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
        ``sum(A, axis=0, keepdims=True)``, and a trailing column of ones, ``A 1``, as the row sum
        ``sum(A, axis=1, keepdims=True)``, so that no float64 ``ones`` array enters the product.
        """
        coefficient, matrices = expr.as_coeff_matrices()
        matrices = list(matrices)
        if len(matrices) > 1 and isinstance(matrices[0], sp.OneMatrix) and matrices[0].shape[0] == 1:
            rest = sp.MatMul(*matrices[1:]) if len(matrices) > 2 else matrices[1]
            product = f"{self._array_function('sum')}({self._print(rest)}, axis=0, keepdims=True)"
        elif len(matrices) > 1 and isinstance(matrices[-1], sp.OneMatrix) and matrices[-1].shape[1] == 1:
            rest = sp.MatMul(*matrices[:-1]) if len(matrices) > 2 else matrices[0]
            product = f"{self._array_function('sum')}({self._print(rest)}, axis=1, keepdims=True)"
        else:
            product = "(" + " @ ".join(self.parenthesize(m, PRECEDENCE["Mul"]) for m in matrices) + ")"
        if coefficient == 1:
            return product
        return f"{self.parenthesize(coefficient, PRECEDENCE['Mul'])}*{product}"

    def _print_MatAdd(self, expr):
        """A sum of matrices; a term ``b 1^T`` (a column times a row of ones: a bias repeated for every column)
        prints as ``b`` alone, which broadcasts against the sum's other terms, instead of a product with
        ``ones``. A sum of such terms only is printed as SymPy prints it."""
        broadcast = not all(repeated_column(term) for term in expr.args)
        return " + ".join(
            self._print(term.args[0]) if broadcast and repeated_column(term) else self.parenthesize(term, PRECEDENCE["Add"])
            for term in expr.args
        )

    def _print_Trace(self, expr):
        """``trace(A)``; the squared Frobenius norm tr(A A^T) = sum(A^2) as ``vdot(A, A)``, one pass over A
        instead of a (C, D) x (D, C) product."""
        factors = expr.arg.args if isinstance(expr.arg, sp.MatMul) else ()
        if len(factors) == 2 and factors[1] == factors[0].T:
            matrix = self._print(factors[0])
            return f"{self._array_function('vdot')}({matrix}, {matrix})"
        return f"{self._array_function('trace')}({self._print(expr.arg)})"


def repeated_column(term) -> bool:
    """True for ``b 1^T``: a column times a row of ones, a bias repeated for every column."""
    factors = term.args if isinstance(term, sp.MatMul) else ()
    return len(factors) == 2 and isinstance(factors[1], sp.OneMatrix) and factors[1].shape[0] == 1


class SymgradNumPyPrinter(_ArrayModulePrinting, NumPyPrinter):
    """NumPy printer whose output keeps float32 in float32 (see :class:`_ArrayModulePrinting`).

    A matrix product plus repeated biases, ``P + b 1^T``, adds the biases into the product's own fresh array,
    ``numpy.add((product := P), b, out=product)``: one array of P's size instead of two (at CIFAR size, an
    (H, N) array of 4.9 million entries per layer)."""

    def _print_MatAdd(self, expr):
        products = [term for term in expr.args if not repeated_column(term)]
        if len(products) != 1 or not isinstance(products[0], sp.MatMul) or len(expr.args) == 1:
            return super()._print_MatAdd(expr)
        printed = f"(product := {self._print(products[0])})"
        for term in expr.args:
            if repeated_column(term):
                printed = f"{self._array_function('add')}({printed}, {self._print(term.args[0])}, out=product)"
        return printed


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
"""Backend name -> function returning a fresh printer for :func:`symgrad.codegen.modules.module_text`."""
