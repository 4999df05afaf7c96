"""A derivation: an objective written in SymPy, its derived gradient, and the lecture's closed form.

>>> import sympy as sp
>>> w = sp.Symbol("w", real=True)
>>> d = Derivation("demo_square", "L(w) = w^2", w**2, (w,), lecture_gradient=(2 * w,))
>>> d.gradient
(2*w,)
>>> d.verify()
True

Time budgets (:mod:`symgrad.symbolic.time_budget`). SymPy's ``simplify`` may run for minutes on an expression it
cannot reduce, so a proof always has one: ``verify(timeout=...)``, else the derivation's ``time_budget``, else
:data:`PROOF_TIME_BUDGET`. A proof that has not finished by then raises
:class:`~symgrad.symbolic.time_budget.TimeBudgetExceeded` ("not proved within N s"), and :meth:`Derivation.verdict`
says so. With ``time_budget`` set (as :func:`symgrad.derive` does for a user's formula), differentiating and
compiling are bounded by it too, and raise TimeBudgetExceeded ("differentiating 'name' took longer than N s").
The built-in derivations are trusted: their differentiation and compilation run without a budget.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from symgrad.symbolic.time_budget import TimeBudgetExceeded, call_within, positive_seconds

NON_SMOOTH_FUNCTIONS = (sp.Heaviside, sp.Abs, sp.Max, sp.Min, sp.sign, sp.Piecewise)
PROOF_TIME_BUDGET = 60.0
"""Seconds a proof may take unless the call or the derivation says otherwise (the built-in proofs take < 1 s)."""


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
        time_budget: seconds each symbolic step (differentiating, compiling, proving) may take; ``None``: no
            budget but :data:`PROOF_TIME_BUDGET` for the proof.
        derived_in_index_notation: for a compiled loss written out for a few classes, the gradient SymPy derived
            for a symbolic number of classes, written out likewise (what is compiled; a maximum over the classes
            is differentiated as the mean of the tied terms, not by SymPy's rule for a written-out ``Max``).
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
    time_budget: float | None = None
    derived_in_index_notation: tuple[sp.Expr, ...] | None = None

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
        if self.time_budget is not None:
            positive_seconds(self.time_budget, f"{self.name}: time_budget")
        unknown = set(self.defaults) - {p.name for p in self.parameters}
        if unknown:
            raise ValueError(f"{self.name}: defaults name unknown parameters {sorted(unknown)}")

    @cached_property
    def gradient(self) -> tuple[sp.Expr, ...]:
        """The gradient derived by ``sympy.diff``, one component per variable (in variable order).

        Raises:
            TimeBudgetExceeded: differentiating took longer than ``time_budget``.
        """
        return self.within_time_budget("differentiating", self._differentiate)

    def _differentiate(self) -> tuple[sp.Expr, ...]:
        if self.derived_in_index_notation is not None:
            return tuple(self.derived_in_index_notation)
        derived = tuple(sp.diff(self.objective, v) for v in self.variables)
        if self.kink_value is None:
            return derived
        return tuple(pin_heaviside(g, self.kink_value) for g in derived)

    def within_time_budget(self, step: str, function, *arguments):
        """``function(*arguments)`` under ``time_budget`` (if set); ``step`` names it in the error."""
        if self.time_budget is None:
            return function(*arguments)
        try:
            return call_within(self.time_budget, function, *arguments)
        except TimeBudgetExceeded as error:
            message = f"{step} {self.name!r} took longer than {error.seconds:g} s (its time budget)"
            raise TimeBudgetExceeded(message, error.seconds) from None

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
    def non_smooth_functions(self) -> tuple[str, ...]:
        """Names of the kinked functions in the objective (Max, Abs, Heaviside, sign, Piecewise), sorted."""
        return tuple(sorted({type(node).__name__ for node in self.objective.atoms(*NON_SMOOTH_FUNCTIONS)}))

    @property
    def is_smooth(self) -> bool:
        """False when the objective contains a kink (Max, Abs, Heaviside, sign, Piecewise)."""
        return not self.non_smooth_functions

    def verify(self, timeout: float | None = None) -> bool:
        """Prove that the derived gradient equals the lecture's form: each difference simplifies to 0.

        This is a symbolic proof, not a numeric spot check: it returns True only when SymPy reduces
        every ``derived - lecture`` to exactly zero. A finished proof's outcome is remembered.

        Args:
            timeout: seconds the proof may take; ``None``: ``self.time_budget``, else :data:`PROOF_TIME_BUDGET`.

        Raises:
            ValueError: the derivation has no lecture form to prove against, or ``timeout`` is not positive.
            TimeBudgetExceeded: (a ``TimeoutError``) "not proved within N s": the proof had not finished after
                ``timeout`` seconds. Differentiating, when it has not happened yet, has its own budget.
        """
        if self.lecture_gradient is None:
            raise ValueError(f"{self.name}: no lecture_gradient was given, so there is nothing to prove")
        seconds = positive_seconds(timeout if timeout is not None else self.time_budget or PROOF_TIME_BUDGET)
        # The outcome is kept in the instance's __dict__, as cached_property keeps its values.
        if "_proved" in self.__dict__:
            return self.__dict__["_proved"]
        if seconds <= self.__dict__.get("_ran_out_after", 0.0):
            raise _not_proved_within(seconds)
        try:
            proved = call_within(seconds, all_identically_zero, self.gradient, self.lecture_gradient)
        except TimeBudgetExceeded:
            self.__dict__["_ran_out_after"] = seconds
            raise _not_proved_within(seconds) from None
        self.__dict__["_proved"] = proved
        return proved

    def verdict(self) -> str:
        """One line: the outcome of :meth:`verify`, or that there is no lecture form to prove against."""
        if self.lecture_gradient is None:
            return "no lecture form given: nothing to prove"
        try:
            proved = self.verify()
        except TimeBudgetExceeded as error:
            return f"NOT proved within {error.seconds:g} s: the proof's time budget ran out"
        if proved:
            return "proved: derived gradient == lecture form"
        return "NOT proved: derived gradient != lecture form"

    def pretty(self, width: int | None = None) -> str:
        """Title, objective, variables, derived gradient, lecture form and verdict, as Unicode art.

        Args:
            width: columns to fit the art in (SymPy breaks longer expressions into stacked pieces instead of
                letting the terminal wrap them); default the terminal's width (80 when there is no terminal).
        """
        columns = width if width is not None else shutil.get_terminal_size().columns
        sections = self._sections(lambda label: f"{label}:", lambda e: sp.pretty(e, num_columns=columns))
        title = textwrap.fill(self._title(), columns, subsequent_indent="    ", break_on_hyphens=False)
        return "\n".join([title, *sections, self.verdict()])

    def latex(self) -> str:
        """The same as :meth:`pretty`, with each expression as a LaTeX display ``$$ ... $$``."""
        sections = self._sections(lambda label: f"{label}:", lambda e: f"$${sp.latex(e)}$$")
        return "\n".join([self._title(), *sections, self.verdict()])

    def _repr_latex_(self) -> str:
        """The derivation as one LaTeX display, which Jupyter renders for a derivation at the end of a cell: its name
        and source, the objective, the derived gradient, the lecture's closed form and the proof's verdict."""
        rows = [
            (r"\mathtt{" + self.name.replace("_", r"\_") + "}", _latex_text(self.source)),
            (r"\text{objective}", sp.latex(self.objective)),
            (r"\text{variables}", sp.latex(sp.Matrix(self.variables).T)),
            (r"\text{derived gradient}", sp.latex(sp.Matrix(self.gradient))),
        ]
        if self.lecture_gradient is not None:
            rows.append((r"\text{closed form}", sp.latex(sp.Matrix(self.lecture_gradient))))
        rows.append((r"\text{verdict}", _latex_text(self.verdict())))
        body = r" \\[6pt] ".join(f"{label} & {value}" for label, value in rows)
        return r"$$\begin{array}{ll} " + body + r" \end{array}$$"

    def markdown(self) -> str:
        """A Markdown section: heading, source, each expression as a LaTeX display, verdict in bold."""
        heading = [f"## `{self.name}`: {self.title}"] + ([f"Source: {self.source}."] if self.source else [])
        sections = self._sections(lambda label: f"{label}:", lambda e: f"$$\n{sp.latex(e)}\n$$")
        return "\n\n".join([*heading, *sections, f"**{self.verdict()}**"]) + "\n"

    def _derived_label(self) -> str:
        if self.derived_in_index_notation is not None:
            return "derived gradient (sympy.diff in index notation, symbolic C, written out)"
        return "derived gradient (sympy.diff)"

    def _title(self) -> str:
        return f"{self.name}: {self.title}" + (f"  [{self.source}]" if self.source else "")

    def _sections(self, label_format, show) -> list[str]:
        parts = [
            ("objective", self.objective),
            ("variables", sp.Matrix(self.variables).T),
            (self._derived_label(), sp.Matrix(self.gradient)),
        ]
        if self.lecture_gradient is not None:
            parts.append(("lecture form", sp.Matrix(self.lecture_gradient)))
        return [line for label, expression in parts for line in (label_format(label), show(expression))]


_LATEX_TEXT_ESCAPES = {"\\": r"\backslash ", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "%": r"\%", "#": r"\#",
                       "_": r"\_", "^": r"\hat{}", "~": r"\sim "}


def _latex_text(text: str) -> str:
    """``text`` as LaTeX text (``\\text{...}``), its special characters escaped."""
    return r"\text{" + "".join(_LATEX_TEXT_ESCAPES.get(character, character) for character in text) + "}"


def pin_heaviside(expr: sp.Expr, kink_value) -> sp.Expr:
    """Replace every ``Heaviside(z, ...)`` in ``expr`` by ``Heaviside(z, kink_value)``."""
    return expr.replace(sp.Heaviside, lambda z, *_: sp.Heaviside(z, kink_value))


def _not_proved_within(seconds: float) -> TimeBudgetExceeded:
    return TimeBudgetExceeded(f"not proved within {seconds:g} s", seconds)


def all_identically_zero(derived, lecture) -> bool:
    """True when :func:`is_identically_zero` proves every ``derived[k] - lecture[k]``."""
    return all(is_identically_zero(d - l) for d, l in zip(derived, lecture, strict=True))


def is_identically_zero(expr: sp.Expr) -> bool:
    """True when SymPy proves ``expr == 0`` for all values of its symbols: expand, then simplify, then (for kinked
    functions: Max, Min, Abs, sign, Heaviside) case by case, as a Piecewise whose every branch simplifies to 0."""
    expr = sp.sympify(expr)
    if expr == 0 or sp.expand(expr) == 0:
        return True
    if expr.has(*NON_SMOOTH_FUNCTIONS) and not expr.has(sp.Sum, sp.Indexed) and _is_zero_case_by_case(expr):
        return True
    return sp.simplify(expr) == 0


MAXIMUM_CASE_SPLITS = 10
"""A case-by-case proof splits on the sign of at most this many kink arguments (3^10 cases at worst)."""

_KINKED = (sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside)


class _NeedsSign(Exception):
    """Resolving a kinked function needs the sign of this argument, which the current case does not fix."""

    def __init__(self, argument: sp.Expr):
        super().__init__(argument)
        self.argument = argument


class _EmptyCase(Exception):
    """The signs fixed so far contradict each other (no maximum among a Max's arguments, say)."""


def _is_zero_case_by_case(expr: sp.Expr) -> bool | None:
    """Prove ``expr == 0`` by cases on the signs of its kink arguments z (z < 0, z = 0, z > 0), split as they are
    met: in each case every Max, Min, Abs, sign and Heaviside takes one smooth branch (arguments that contain
    kinked functions are resolved first), the equations z = 0 of the case are solved and substituted, and what
    remains must simplify to 0. For written-out expressions (no Sum or Indexed). Returns None (no verdict) beyond
    :data:`MAXIMUM_CASE_SPLITS` arguments."""

    def prove(signs: dict) -> bool | None:
        try:
            branch = _resolve(expr, signs)
        except _EmptyCase:
            return True
        except _NeedsSign as needed:
            if len(signs) >= MAXIMUM_CASE_SPLITS:
                return None
            verdicts = []
            for sign in (-1, 0, 1):
                verdicts.append(prove({**signs, needed.argument: sign}))
                if verdicts[-1] is False:
                    return False  # one case where the difference is not 0 settles it
            return None if None in verdicts else True
        zeros = [argument for argument, sign in signs.items() if sign == 0]
        if zeros:
            unknowns = sorted(set().union(*(z.free_symbols for z in zeros)), key=str)
            solutions = sp.solve(zeros, unknowns, dict=True)
            if not solutions:
                return True  # the arguments cannot all vanish: an empty case
            branch = branch.subs(solutions[0])
        # A branch counts only where its case can happen; simplify (slow) only what expansion leaves.
        expanded = sp.expand(branch)
        return expanded == 0 or not _signs_are_feasible(signs) or sp.simplify(expanded) == 0

    return prove({})


def _signs_are_feasible(signs: dict) -> bool:
    """Whether real values exist with sign(z) as given for every z (affine in its symbols), decided exactly by
    Fourier-Motzkin elimination; True (cannot rule it out) when an argument is not affine."""
    symbols = sorted(set().union(*(z.free_symbols for z in signs)), key=str)
    constraints = []  # (affine expression, strict): expression > 0 if strict else expression >= 0
    for argument, sign in signs.items():
        if sp.Poly(argument, *symbols).total_degree() > 1:
            return True
        if sign == 0:
            constraints += [(argument, False), (-argument, False)]
        else:
            constraints.append((sign * argument, True))
    for symbol in symbols:
        lower, upper, rest = [], [], []
        for expression, strict in constraints:
            coefficient = sp.expand(expression).coeff(symbol)
            (upper if coefficient < 0 else lower if coefficient > 0 else rest).append((expression, strict, coefficient))
        constraints = [(expression, strict) for expression, strict, _ in rest]
        constraints += [
            (sp.expand(a / ca - b / cb), strict_a or strict_b)
            for a, strict_a, ca in lower for b, strict_b, cb in upper
        ]
    return all((value > 0) if strict else (value >= 0) for value, strict in ((sp.sympify(e), s) for e, s in constraints))


def _resolve(expr: sp.Expr, signs: dict) -> sp.Expr:
    """``expr`` with every kinked function replaced by its branch where the kink arguments have ``signs``
    ({oriented argument: -1, 0 or 1}); raises _NeedsSign for an argument whose sign is not fixed."""
    if not expr.has(*_KINKED):
        return expr
    if not isinstance(expr, _KINKED):
        return expr.func(*(_resolve(argument, signs) for argument in expr.args))
    arguments = [_resolve(argument, signs) for argument in expr.args]
    if isinstance(expr, (sp.Max, sp.Min)):
        wanted = 1 if isinstance(expr, sp.Max) else -1
        for candidate in arguments:
            if all(wanted * _sign(candidate - other, signs) >= 0 for other in arguments if other is not candidate):
                return candidate
        raise _EmptyCase
    sign = _sign(arguments[0], signs)
    if isinstance(expr, sp.Abs):
        return sign * arguments[0]
    if isinstance(expr, sp.sign):
        return sp.Integer(sign)
    return {-1: sp.Integer(0), 0: arguments[1], 1: sp.Integer(1)}[sign]


def _sign(argument: sp.Expr, signs: dict) -> int:
    """The sign of a kink-free ``argument`` in the current case: a number's own, or that fixed for it (up to a
    positive factor and orientation); raises _NeedsSign when it is not fixed."""
    argument = sp.expand(argument)
    if argument.is_number:
        return int(sp.sign(argument))
    primitive = argument.as_content_primitive()[1]
    oriented, orientation = (-primitive, -1) if primitive.could_extract_minus_sign() else (primitive, 1)
    if oriented not in signs:
        raise _NeedsSign(oriented)
    return orientation * signs[oriented]