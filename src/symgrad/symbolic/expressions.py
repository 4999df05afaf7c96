"""The user's own objective: from a formula string (or a SymPy expression) to a derivation.

>>> d = derive("w1**2 + 3*w1*w2", wrt="w1, w2", expected="2*w1 + 3*w2, 3*w1")
>>> d.gradient
(2*w1 + 3*w2, 3*w1)
>>> d.verify()
True

Strings are never given to ``eval`` as they are: the text is first parsed by Python's ``ast`` and rejected unless
every node is arithmetic, a number, a plain name or a call of one of :data:`ALLOWED_FUNCTIONS`; only then does
SymPy's ``parse_expr`` read it, with a namespace that holds nothing but those functions and real symbols.
"""

from __future__ import annotations

import ast
import keyword
import re

import sympy as sp
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from symgrad.symbolic.derivation import Derivation

ALLOWED_FUNCTIONS = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "tanh": sp.tanh,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "abs": sp.Abs,
    "Abs": sp.Abs,
    "max": sp.Max,
    "Max": sp.Max,
    "min": sp.Min,
    "Min": sp.Min,
    "Heaviside": sp.Heaviside,
    "sign": sp.sign,
}
CONSTANTS = {"pi": sp.pi, "E": sp.E}
_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd,
    ast.Call, ast.Name, ast.Load, ast.Constant,
)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


class ExpressionError(ValueError):
    """A formula string that symgrad will not read: the message says what and where."""


def parse_expression(text: str) -> sp.Expr:
    """Read a formula such as ``"w1**2 + 3*w1*w2"`` (``^`` means power) into a SymPy expression.

    Every name that is not a function of :data:`ALLOWED_FUNCTIONS` or a constant becomes a Symbol declared
    ``real=True``.

    Raises:
        ExpressionError: the text is not a formula of numbers, names, + - * / ** ^ and allowed functions.
    """
    if not isinstance(text, str):
        raise TypeError(f"expression: expected a string, got {type(text).__name__}")
    source = text.replace("^", "**").strip()
    if not source:
        raise ExpressionError("expression: empty")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"expression: not a formula ({error.msg} at column {error.offset}): {text!r}") from None
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"expression: {type(node).__name__.lower()} is not allowed in a formula: {text!r}")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, (int, float))):
            raise ExpressionError(f"expression: only numbers may appear as constants, got {node.value!r}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in ALLOWED_FUNCTIONS:
                called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise ExpressionError(
                    f"expression: unknown function {called!r}; allowed: {', '.join(sorted(ALLOWED_FUNCTIONS))}"
                )
            if node.keywords:
                raise ExpressionError(f"expression: keyword arguments are not allowed in {ast.unparse(node)!r}")
        if isinstance(node, ast.Name) and node.id not in ALLOWED_FUNCTIONS and node.id not in CONSTANTS:
            if not _NAME.match(node.id) or keyword.iskeyword(node.id):
                raise ExpressionError(f"expression: {node.id!r} is not a variable name")
            names.add(node.id)
    namespace = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "Symbol": sp.Symbol}
    namespace.update(ALLOWED_FUNCTIONS)
    namespace.update(CONSTANTS)
    symbols = {name: sp.Symbol(name, real=True) for name in names}
    return sp.sympify(parse_expr(source, local_dict=symbols, global_dict=namespace, transformations=standard_transformations))


def split_top_level(text: str) -> list[str]:
    """Split at the commas that are not inside parentheses: ``"max(0, w), 2*v"`` -> ``["max(0, w)", " 2*v"]``."""
    parts, depth, start = [], 0, 0
    for position, character in enumerate(text):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character == "," and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    return parts + [text[start:]]


def parse_names(wrt) -> tuple[str, ...]:
    """``"w1, w2"`` or ``["w1", "w2"]`` -> ``("w1", "w2")``, each a valid, distinct variable name."""
    names = tuple(n.strip() for n in wrt.split(",")) if isinstance(wrt, str) else tuple(wrt)
    if not names or any(not isinstance(n, str) or not _NAME.match(n) or n in ALLOWED_FUNCTIONS for n in names):
        raise ValueError(f"wrt: expected variable names such as 'w1,w2', got {wrt!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"wrt: a variable is named twice in {wrt!r}")
    return names


def as_real(expression, argument: str) -> sp.Expr:
    """A formula string or SymPy expression, with every symbol declared ``real=True``."""
    if isinstance(expression, str):
        return parse_expression(expression)
    if not isinstance(expression, sp.Expr):
        raise TypeError(f"{argument}: expected a string or a SymPy expression, got {type(expression).__name__}")
    return expression.subs({s: sp.Symbol(s.name, real=True) for s in expression.free_symbols})


def derive(expression, wrt, *, expected=None, name: str = "user", title: str | None = None) -> Derivation:
    """A derivation of the user's own objective, ready to compile and check like the built-in ones.

    Args:
        expression: a formula string (see :func:`parse_expression`) or a SymPy expression.
        wrt: the variables to differentiate in, ``"w1, w2"`` or a sequence of names; every other name in the
            expression becomes a parameter (a keyword argument of the compiled functions).
        expected: optional closed form of the gradient to prove against, one component per variable
            (a comma-separated string or a sequence of strings / SymPy expressions).
        name, title: how it is shown; it is not registered (call :func:`symgrad.register` for that).
    """
    variable_names = parse_names(wrt)
    objective = as_real(expression, "expression")
    variables = tuple(sp.Symbol(n, real=True) for n in variable_names)
    parameters = tuple(sorted(objective.free_symbols - set(variables), key=lambda s: s.name))
    lecture_gradient = None
    if expected is not None:
        components = split_top_level(expected) if isinstance(expected, str) else list(expected)
        lecture_gradient = tuple(as_real(c, "expected") for c in components)
        if len(lecture_gradient) != len(variables):
            raise ValueError(f"expected: {len(lecture_gradient)} components for {len(variables)} variables")
    return Derivation(
        name=name,
        title=title or str(objective),
        objective=objective,
        variables=variables,
        lecture_gradient=lecture_gradient,
        parameters=parameters,
    )
