"""A derivation: an objective written in SymPy, its derived gradient, and the lecture's closed form.

>>> import sympy as sp
>>> w = sp.Symbol("w", real=True)
>>> d = Derivation("demo_square", "L(w) = w^2", w**2, (w,), lecture_gradient=(2 * w,))
>>> d.gradient
(2*w,)
>>> d.verify()
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

NON_SMOOTH_FUNCTIONS = (sp.Heaviside, sp.Abs, sp.Max, sp.Min, sp.sign, sp.Piecewise)


@dataclass(frozen=True, eq=False)
class Derivation:
    """An objective, the variables it is differentiated in, and the gradient the lecture writes down.

    Attributes:
        name: registry key, e.g. ``"polynomial"``.
        title: the formula in words, e.g. ``"f(x1, x2, x3) = x1^3 + 5 x1 x2 - 3 x2 x3^2"``.
        objective: scalar SymPy expression.
        variables: the symbols differentiated in, all ``real=True``; flattened in row-major order
            when ``shape`` has more than one axis.
        lecture_gradient: the closed form the lecture writes, one expression per variable; ``None`` for an
            objective with no closed form to prove against (a user's own loss): ``verify()`` then refuses.
        parameters: further symbols the objective depends on (data, margins, kink values);
            the compiled functions take them as keyword arguments.
        defaults: default numeric value per parameter name.
        shape: shape of the variable array; ``()`` for one variable, ``(n,)`` for n by default.
        source: where the lecture writes it (section, equation).
        kink_value: if set, every ``Heaviside(z)`` in the derived gradient is pinned to
            ``Heaviside(z, kink_value)``: the value chosen at the kink, a subgradient for any value in [0, 1].
        convex: whether the objective is convex in its variables (the subgradient inequality applies).
    """

    name: str
    title: str
    objective: sp.Expr
    variables: tuple[sp.Symbol, ...]
    lecture_gradient: tuple[sp.Expr, ...] | None
    parameters: tuple[sp.Symbol, ...] = ()
    defaults: Mapping[str, float] = field(default_factory=dict)
    shape: tuple[int, ...] | None = None
    source: str = ""
    kink_value: sp.Expr | float | None = None
    convex: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", tuple(self.variables))
        object.__setattr__(self, "parameters", tuple(self.parameters))
        if self.lecture_gradient is not None:
            object.__setattr__(self, "lecture_gradient", tuple(sp.sympify(g) for g in self.lecture_gradient))
        object.__setattr__(self, "defaults", dict(self.defaults))
        for symbol in self.variables + self.parameters:
            if not isinstance(symbol, sp.Symbol) or not symbol.is_real:
                raise TypeError(f"{self.name}: {symbol!r} must be a SymPy Symbol declared real=True")
        if self.lecture_gradient is not None and len(self.lecture_gradient) != len(self.variables):
            raise ValueError(
                f"{self.name}: lecture_gradient has {len(self.lecture_gradient)} components "
                f"for {len(self.variables)} variables"
            )
        shape = self.shape
        if shape is None:
            shape = () if len(self.variables) == 1 else (len(self.variables),)
        shape = tuple(int(n) for n in shape)
        if int(sp.prod(shape)) != len(self.variables):
            raise ValueError(f"{self.name}: shape {shape} does not hold {len(self.variables)} variables")
        object.__setattr__(self, "shape", shape)
        unknown = set(self.defaults) - {p.name for p in self.parameters}
        if unknown:
            raise ValueError(f"{self.name}: defaults name unknown parameters {sorted(unknown)}")

    @cached_property
    def gradient(self) -> tuple[sp.Expr, ...]:
        """The gradient derived by ``sympy.diff``, one component per variable (in variable order)."""
        derived = tuple(sp.diff(self.objective, v) for v in self.variables)
        if self.kink_value is None:
            return derived
        return tuple(pin_heaviside(g, self.kink_value) for g in derived)

    @cached_property
    def hessian(self) -> sp.Matrix:
        """Matrix of second derivatives, (n, n) for n variables."""
        return sp.hessian(self.objective, self.variables)

    @cached_property
    def kink_arguments(self) -> tuple[sp.Expr, ...]:
        """Expressions whose zeros are the objective's kinks: the argument of each Abs, sign and Heaviside, and
        the pairwise differences of the arguments of each Max and Min (Piecewise conditions are not read)."""
        arguments = []
        for node in sp.preorder_traversal(self.objective):
            if isinstance(node, (sp.Max, sp.Min)):
                arguments += [a - b for k, a in enumerate(node.args) for b in node.args[k + 1 :]]
            elif isinstance(node, (sp.Abs, sp.sign, sp.Heaviside)):
                arguments.append(node.args[0])
        return tuple(dict.fromkeys(arguments))

    @property
    def is_smooth(self) -> bool:
        """False when the objective contains a kink (Max, Abs, Heaviside, sign, Piecewise)."""
        return not self.objective.has(*NON_SMOOTH_FUNCTIONS)

    @property
    def non_smooth_functions(self) -> tuple[str, ...]:
        """Names of the kinked functions in the objective (e.g. ``("Heaviside", "Max")``), sorted."""
        return tuple(sorted({type(atom).__name__ for atom in self.objective.atoms(*NON_SMOOTH_FUNCTIONS)}))

    def verify(self) -> bool:
        """Prove that the derived gradient equals the lecture's form: each difference simplifies to 0.

        This is a symbolic proof, not a numeric spot check: it returns True only when SymPy reduces
        every ``derived - lecture`` to exactly zero.

        Raises:
            ValueError: the derivation has no lecture form to prove against.
        """
        if self.lecture_gradient is None:
            raise ValueError(f"{self.name}: no lecture_gradient was given, so there is nothing to prove")
        return all(is_identically_zero(d - l) for d, l in zip(self.gradient, self.lecture_gradient))

    @cached_property
    def compiled(self):
        """NumPy functions for value and gradient, lambdified once (see ``symgrad.codegen.modules``)."""
        from symgrad.codegen.modules import compile_derivation

        return compile_derivation(self)

    def verdict(self) -> str:
        """One line: the outcome of :meth:`verify`, or that there is no lecture form to prove against."""
        if self.lecture_gradient is None:
            return "no lecture form given: nothing to prove"
        if self.verify():
            return "proved: derived gradient == lecture form"
        return "NOT proved: derived gradient != lecture form"

    def pretty(self) -> str:
        """Title, objective, variables, derived gradient, lecture form and verdict, as Unicode art."""
        return "\n".join([self._title(), *self._sections(lambda label: f"{label}:", sp.pretty), self.verdict()])

    def latex(self) -> str:
        """The same as :meth:`pretty`, with each expression as a LaTeX display ``$$ ... $$``."""
        sections = self._sections(lambda label: f"{label}:", lambda e: f"$${sp.latex(e)}$$")
        return "\n".join([self._title(), *sections, self.verdict()])

    def markdown(self) -> str:
        """A Markdown section: heading, source, each expression as a LaTeX display, verdict in bold."""
        heading = [f"## `{self.name}`: {self.title}"] + ([f"Source: {self.source}."] if self.source else [])
        sections = self._sections(lambda label: f"{label}:", lambda e: f"$$\n{sp.latex(e)}\n$$")
        return "\n\n".join([*heading, *sections, f"**{self.verdict()}**"]) + "\n"

    def _title(self) -> str:
        return f"{self.name}: {self.title}" + (f"  [{self.source}]" if self.source else "")

    def _sections(self, label_format, show) -> list[str]:
        parts = [
            ("objective", self.objective),
            ("variables", sp.Matrix(self.variables).T),
            ("derived gradient (sympy.diff)", sp.Matrix(self.gradient)),
        ]
        if self.lecture_gradient is not None:
            parts.append(("lecture form", sp.Matrix(self.lecture_gradient)))
        return [line for label, expression in parts for line in (label_format(label), show(expression))]


def pin_heaviside(expr: sp.Expr, kink_value) -> sp.Expr:
    """Replace every ``Heaviside(z, ...)`` in ``expr`` by ``Heaviside(z, kink_value)``."""
    return expr.replace(sp.Heaviside, lambda z, *_: sp.Heaviside(z, kink_value))


def is_identically_zero(expr: sp.Expr) -> bool:
    """True when SymPy proves ``expr == 0`` for all values of its symbols (expand, then simplify)."""
    expr = sp.sympify(expr)
    if expr == 0 or sp.expand(expr) == 0:
        return True
    return sp.simplify(expr) == 0
