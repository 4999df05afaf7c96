"""Index-form expressions over the classes, evaluated for every class and every example at once.

A per-example loss written for a symbolic number of classes C, in index notation (scores s[j], one-hot
label t[j], sums ``Sum(..., (j, 0, C - 1))``, maxima :class:`ClassMaximum`), is turned into code that works on whole arrays:

    s[j], t[j]                      ->  S, T            arrays (C, N): classes on axis 0, one column per example
    Sum(e(j), (j, 0, C - 1))        ->  ClassSum(E)     sum over axis 0, kept as (1, N) so it broadcasts
    e(k), one free class index k    ->  E               the (C, N) array of e at k = 0 ... C - 1

so the generated code makes a handful of array operations whatever C is, and one text serves every C.
This is exact when no subexpression has two free class indices (that would need an outer product over
classes); :func:`to_class_axis` checks it and refuses otherwise. A maximum over the classes,
``ClassMaximum(e(j), j, C)``, becomes ``ClassMax(E)``, the maximum over axis 0.
"""

from __future__ import annotations

import sympy as sp
from sympy.simplify.simplify import factor_sum


class _ClassReduction(sp.Function):
    """A reduction over the class axis, (C, N) -> (1, N); printed by NumPy-style printers.

    NumPy gets the ufunc's own ``reduce`` (``numpy.add.reduce``), which ``numpy.sum`` calls after a few
    microseconds of argument handling: the same result, and a mini-batch step makes several of these calls.
    """

    nargs = 1
    reduction = ""
    numpy_ufunc = ""

    def _print_reduction(self, printer, method: str = "") -> str:
        function = printer._module_format(f"{printer._module}.{self.numpy_ufunc if method else self.reduction}")
        return f"{function}{method}({printer._print(self.args[0])}, axis=0, keepdims=True)"

    def _numpycode(self, printer) -> str:
        return self._print_reduction(printer, ".reduce")

    def _jaxcode(self, printer) -> str:
        return self._print_reduction(printer)


class ClassSum(_ClassReduction):
    """sum_j of an array (C, N) over its class axis -> (1, N)."""

    reduction = "sum"
    numpy_ufunc = "add"


class ClassMax(_ClassReduction):
    """max_j of an array (C, N) over its class axis -> (1, N)."""

    reduction = "max"
    numpy_ufunc = "maximum"


class ClassCount(sp.Function):
    """C, the length of the class axis of an array (C, N), printed as ``A.shape[0]``: a loss that uses the number of
    classes (label smoothing's eps / C) gets it from its scores."""

    nargs = 1

    def _print_count(self, printer) -> str:
        return f"{printer._print(self.args[0])}.shape[0]"

    def _numpycode(self, printer) -> str:
        return self._print_count(printer)

    def _jaxcode(self, printer) -> str:
        return self._print_count(printer)


class ClassMaxGap(_ClassReduction):
    """The largest minus the second largest entry of an array (C, N) over its class axis -> (1, N), C >= 2:
    zero exactly where the maximum over the classes is tied (a kink of max_j e_j)."""

    def _print_reduction(self, printer, method: str = "") -> str:
        module = printer._module
        partition = printer._module_format(f"{module}.partition")
        difference = printer._module_format(f"{module}.diff")
        return f"{difference}({partition}({printer._print(self.args[0])}, -2, axis=0)[-2:], axis=0)"


class ClassMaximum(sp.Function):
    """max_{index = 0}^{count - 1} term, in index notation (``term`` depends on ``index``).

    Its derivative is the mean of the derivatives of the tied maximal terms,

        d/dx max_j e_j = sum_j 1(e_j = M) de_j/dx / sum_j 1(e_j = M),    M = max_j e_j,

    with 1(e_j = M) written ``Heaviside(e_j - M, 1)`` (e_j - M <= 0 always): away from ties the derivative of
    the largest term, at a tie a convex combination of the tied terms' derivatives, so an element of the
    Clarke generalized gradient (unlike SymPy's ``Max``, whose derivative at a three-way tie sums to 3/2).
    ``doit`` with a number for ``count`` writes it out as ``Max``.
    """

    nargs = 3

    @property
    def free_symbols(self):
        term, index, count = self.args
        return (term.free_symbols - {index}) | count.free_symbols

    def _eval_subs(self, old, new):
        term, index, count = self.args
        if old == index:
            return self  # the index is bound: max_j e(j) does not depend on j
        return None

    def _eval_derivative(self, symbol):
        term, index, count = self.args
        tied = sp.Heaviside(term - self, 1)
        over_classes = (index, 0, count - 1)
        return sp.Sum(tied * sp.diff(term, symbol), over_classes) / sp.Sum(tied, over_classes)

    def doit(self, **hints):
        term, index, count = self.args
        if hints.get("deep", True):
            term, count = term.doit(**hints), count.doit(**hints)
        if count.is_Integer:  # unevaluated: SymPy's pairwise simplification of Max arguments is slow
            return sp.Max(*(term.subs(index, value) for value in range(int(count))), evaluate=False)
        return self.func(term, index, count)


def drop_range_guards(expr: sp.Expr, valid_symbols) -> sp.Expr:
    """Keep the first branch of every ``Piecewise`` whose condition involves only ``valid_symbols``.

    ``diff`` by s[k] followed by ``doit`` sums Kronecker deltas and guards the result with the range
    condition ``k <= C - 1``; for a class index k that is valid by construction, the guard is true.
    """
    valid_symbols = set(valid_symbols)

    def first_branch(*pieces):
        (value, condition), *_ = pieces
        return value if condition.free_symbols <= valid_symbols else sp.Piecewise(*pieces)

    return expr.replace(sp.Piecewise, first_branch)


def index_gradient(loss: sp.Expr, family: sp.IndexedBase, index: sp.Symbol, class_count: sp.Symbol) -> sp.Expr:
    """dL/d family[index] for a loss in index form: ``diff``, delta sums done, range guards dropped, and
    factors that do not depend on a sum's index taken out of the sum."""
    derived = drop_range_guards(sp.diff(loss, family[index]).doit(), {index, class_count})
    return derived.replace(lambda e: isinstance(e, sp.Sum), factor_sum)


def to_class_axis(expr: sp.Expr, arrays: dict, class_count: sp.Symbol) -> sp.Expr:
    """Rewrite an index-form expression over the classes as array operations on the class axis.

    Args:
        expr: built from ``family[i]`` for the families in ``arrays``, sums over class indices from 0 to
            ``class_count - 1``, and class-independent symbols (margins, kink values).
        arrays: IndexedBase -> Symbol naming the (C, N) array that holds the family.
        class_count: the symbol C.

    Returns:
        The expression in the array symbols, ``ClassSum`` and ``ClassMax``.

    Raises:
        ValueError: a subexpression with two free class indices, a sum that does not run over 0 ... C - 1
            or whose body does not depend on its index, or a class index used other than as a subscript.
    """
    class_indices = {
        index for indexed in expr.atoms(sp.Indexed) if indexed.base in arrays for index in indexed.indices
    }
    class_indices |= {limit[0] for total in expr.atoms(sp.Sum) for limit in total.limits}
    class_indices |= {maximum.args[1] for maximum in expr.atoms(ClassMaximum)}
    for part in sp.preorder_traversal(expr):
        free_indices = part.free_symbols & class_indices
        if len(free_indices) > 1:
            raise ValueError(f"{part} has free class indices {sorted(map(str, free_indices))}: not one class axis")
    for maximum in expr.atoms(ClassMaximum):
        if maximum.args[2] != class_count:
            raise ValueError(f"{maximum} does not run over every class 0 ... {class_count - 1}")
    for total in expr.atoms(sp.Sum):
        for index, low, high in total.limits:
            if (low, high) != (0, class_count - 1):
                raise ValueError(f"{total} does not run over every class 0 ... {class_count - 1}")
            if index not in total.function.free_symbols:
                raise ValueError(f"{total}: the body does not depend on {index}, so it is not a sum over classes")

    def subscript(indexed: sp.Indexed):
        if indexed.base not in arrays or not (len(indexed.indices) == 1 and indexed.indices[0] in class_indices):
            raise ValueError(f"{indexed}: expected one of {sorted(map(str, arrays))} subscripted by a class index")
        return arrays[indexed.base]

    on_axis = expr.replace(lambda e: isinstance(e, ClassMaximum), lambda e: ClassMax(e.args[0]))
    on_axis = on_axis.replace(lambda e: isinstance(e, sp.Sum), lambda e: ClassSum(e.function))
    on_axis = on_axis.replace(lambda e: isinstance(e, sp.Indexed), subscript)
    leftover = on_axis.free_symbols & class_indices
    if leftover:
        raise ValueError(f"class indices {sorted(map(str, leftover))} are used other than as subscripts")
    return on_axis.xreplace({class_count: ClassCount(next(iter(arrays.values())))})


def at_class_count(expr: sp.Expr, class_count: sp.Symbol, count: int, families: dict, index=None, value=None):
    """An index-form expression written out for a concrete number of classes.

    Args:
        expr: index form, as for :func:`to_class_axis`.
        class_count: the symbol C; ``count`` its value.
        families: IndexedBase -> sequence of ``count`` symbols replacing family[0] ... family[count - 1].
        index, value: a free class index and the class it takes.

    Returns:
        The expression with every sum written out as ``count`` terms, in the symbols of ``families``.
    """
    if value is not None:
        expr = expr.subs(index, value)
    written_out = expr.subs(class_count, count).doit()
    return written_out.xreplace(
        {family[position]: symbol for family, symbols in families.items() for position, symbol in enumerate(symbols)}
    )
