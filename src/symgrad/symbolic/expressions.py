"""The user's own objective: from a formula string (or a SymPy expression) to a derivation.

>>> d = derive("w1**2 + 3*w1*w2", wrt="w1, w2", expected="2*w1 + 3*w2, 3*w1")
>>> d.gradient
(2*w1 + 3*w2, 3*w1)
>>> d.verify()
True

**Reading a formula.** A string goes through four steps, and SymPy sees nothing before the last:

1. *Normalisation*, once, shared by the check and the translation: Unicode NFKC turns full-width and other
   compatibility characters into the ASCII they stand for (``ｅｘｐ（ｗ）`` is ``exp(w)``, ``w₁`` is ``w1``).
   Superscripts and vulgar fractions are refused instead, because NFKC would merge them into their neighbours
   (``w²`` would become the name ``w2``). ``^`` means ``**``. What remains must be printable ASCII.
2. *Allow-list*: Python's ``ast`` parses the text; every node must be arithmetic (``+ - * / **`` and signs), a
   number, a name, or a call of one of :data:`ALLOWED_FUNCTIONS` with as many arguments as it takes.
3. *Limits*, checked on that tree, so that everything after them is fast (see below).
4. *Translation*, node by node, into SymPy: no ``eval`` and no ``parse_expr``, so SymPy's parser never reads
   the text and none of its special names applies.

**Limits**, so that SymPy never starts work it cannot finish (a C-level integer power cannot be interrupted); a
formula beyond one gets a one-line :class:`ExpressionError` that says which.

- length: at most :data:`MAX_LENGTH` = 1,000 characters after normalisation;
- nesting: at most :data:`MAX_NESTING` = 32 levels of calls, powers and signs; a run of ``+``/``-``, or of
  ``*``/``/``, is one level, as SymPy stores it flat (a 400-term sum is one level);
- exponent towers: at most :data:`MAX_TOWER` = 3 ``**`` stacked (``a**b**c**d``);
- exponents: a number used as an exponent is at most :data:`MAX_EXPONENT` = 1,000 in magnitude;
- range: every number written, and every number computed from numbers alone (``10**400``, ``exp(1000)``), is
  finite in float64 (below about 1.8e308 in magnitude); a nonzero literal must not round to 0;
- exact numbers: the integers and fractions a formula implies have at most :data:`MAX_DIGITS` = 1,000 digits,
  estimated from the text: the digits of the integers written add up under ``+ - * /`` and function calls, and
  are multiplied by |n| under ``** n`` (``(10**300*w)**1000`` would mean a 300,000-digit coefficient).

**Time.** What the text cannot bound runs under a time budget instead (:mod:`symgrad.symbolic.time_budget`):
a sum of seventeen 8-argument ``max`` fits in 1,000 characters, yet takes SymPy seconds to differentiate and
more to compile, and a proof may ``expand`` a ``(w+1)**999``. A derivation made here has
:data:`FORMULA_TIME_BUDGET` seconds for each step: :func:`derive` reads the arguments and differentiates at once,
and reports running out as an ExpressionError, as it does a gradient of more than :data:`MAX_GRADIENT_NODES`
nodes (so that printing it stays fast); compiling raises TimeBudgetExceeded, and the proof reports "not proved
within N s".

**Names.** ``pi`` and ``E`` are the constants π and e, in ``expression`` and ``expected`` alike, and are refused in
``wrt``. Every other name is a real variable, including those SymPy's own parser reads specially (``I``,
``oo``, ``nan``, ``zoo``, ``S``, ``N``, ``Q``, ``O``, ``Symbol``, ``Integer``, ...). A name starts with a letter; a
function name must be called (``exp`` alone is refused); :data:`RESERVED_NAMES`, the modules the generated code
imports, are refused. Any name, ``x`` included, can be a parameter: the compiled functions take the point positionally.
"""

from __future__ import annotations

import ast
import cmath
import itertools
import math
import re
import unicodedata
from collections.abc import Sequence

import sympy as sp

from symgrad.symbolic.derivation import Derivation
from symgrad.symbolic.time_budget import TimeBudgetExceeded, call_within

__all__ = [
    "ALLOWED_FUNCTIONS", "CONSTANTS", "ExpressionError", "FORMULA_TIME_BUDGET", "RESERVED_NAMES",
    "derive", "parse_expression", "parse_names",
]

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
"""Name in a formula -> SymPy function."""

ARGUMENT_COUNTS = {
    **dict.fromkeys(ALLOWED_FUNCTIONS, (1, 1)),
    "log": (1, 2),  # log(x, base)
    "Heaviside": (1, 2),  # Heaviside(z, value at 0)
    **dict.fromkeys(("max", "Max", "min", "Min"), (2, None)),
}
"""Function name -> (fewest, most) arguments it takes; None: no upper bound."""

CONSTANTS = {"pi": sp.pi, "E": sp.E}
"""The only names read as constants; every other name is a variable."""

RESERVED_NAMES = frozenset({"numpy", "functools", "scipy", "jax"})
"""Modules the generated code imports: a variable with one of these names would hide the module."""

MAX_LENGTH = 1000
MAX_NESTING = 32
MAX_TOWER = 3
MAX_EXPONENT = 1000
MAX_DIGITS = 1000
MAX_GRADIENT_NODES = 10_000
FORMULA_TIME_BUDGET = 1.5
"""Seconds each symbolic step of a formula may take: reading and differentiating (together), compiling, proving."""

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_MERGING_FORMS = ("<super>", "<fraction>")
_ADDITIVE, _MULTIPLICATIVE = (ast.Add, ast.Sub), (ast.Mult, ast.Div)
_NOT_REAL_NUMBERS = (sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I)
_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd,
    ast.Call, ast.Name, ast.Load, ast.Constant,
)


class ExpressionError(ValueError):
    """A formula that symgrad will not read: the message starts with the argument's name and says why."""


def normalise(text, argument: str = "expression", max_length: int = MAX_LENGTH) -> str:
    """The text every later step reads: NFKC-normalised, ``^`` as ``**``, stripped, printable ASCII.

    Raises:
        TypeError: ``text`` is not a string.
        ExpressionError: a superscript or vulgar fraction, a character that is not printable ASCII after
            normalisation, an empty text, or one longer than ``max_length``.
    """
    if not isinstance(text, str):
        raise TypeError(f"{argument}: expected a string, got {type(text).__name__}")
    if len(text.strip()) > max_length:  # NFKC never shortens a text that ends up ASCII: refuse before reading it all
        raise ExpressionError(f"{argument}: {len(text.strip())} characters; the limit is {max_length}")
    for character in text:
        if unicodedata.decomposition(character).startswith(_MERGING_FORMS):
            raise ExpressionError(
                f"{argument}: {character!r} ({unicodedata.name(character, 'unnamed')}) is not read; "
                "write powers with ** and fractions with /"
            )
    source = unicodedata.normalize("NFKC", text).replace("^", "**").strip()
    if not source:
        raise ExpressionError(f"{argument}: empty")
    for position, character in enumerate(source):
        if not (" " <= character <= "~" or character in "\t\n\r"):
            raise ExpressionError(
                f"{argument}: character {character!r} (U+{ord(character):04X}) at position {position} is not "
                "allowed in a formula"
            )
    if len(source) > max_length:
        raise ExpressionError(f"{argument}: {len(source)} characters; the limit is {max_length}")
    return source


def parse_expression(text, argument: str = "expression", extra_functions=None) -> sp.Expr:
    """Read a formula such as ``"w1**2 + 3*w1*w2"`` into a SymPy expression (see the module docstring).

    Every name but ``pi`` and ``E`` becomes a Symbol declared ``real=True``.

    Args:
        text: the formula.
        argument: the argument's name, which every error message starts with (``expression``, ``expected``).
        extra_functions: more functions this formula may call, name -> (SymPy function, number of arguments)
            (a notation such as :mod:`symgrad.symbolic.loss_formulas`' ``sum_j``).

    Raises:
        TypeError: ``text`` is not a string.
        ExpressionError: the text is not an allowed formula, or exceeds a limit.
    """
    source = normalise(text, argument)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"{argument}: not a formula ({error.msg} at column {error.offset}): {source!r}") from None
    except (RecursionError, MemoryError):
        message = f"{argument}: nested too deeply for Python's parser; the limit is {MAX_NESTING}"
        raise ExpressionError(message) from None
    functions = {name: function for name, function in ALLOWED_FUNCTIONS.items()}
    counts = dict(ARGUMENT_COUNTS)
    for name, (function, count) in (extra_functions or {}).items():
        functions[name], counts[name] = function, (count, count)
    _check_allowed(tree, argument, functions, counts)
    _check_limits(tree, source, argument)
    try:
        return call_within(FORMULA_TIME_BUDGET, _translate, tree, source, argument, functions)
    except TimeBudgetExceeded:
        raise ExpressionError(f"{argument}: SymPy took longer than {FORMULA_TIME_BUDGET:g} s to build it") from None


def _check_allowed(tree: ast.Expression, argument: str, functions: dict, counts: dict) -> None:
    """Every node on the allow-list, every call of an allowed function with a valid number of arguments,
    every name a variable name or a constant."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"{argument}: {type(node).__name__.lower()} is not allowed in a formula")
        if isinstance(node, ast.Constant) and (type(node.value) not in (int, float)):
            raise ExpressionError(f"{argument}: only real numbers may appear as constants, got {node.value!r}")
        if isinstance(node, ast.Call):
            _check_call(node, argument, functions, counts)
        if isinstance(node, ast.Name) and id(node) not in called:
            _check_variable_name(node.id, argument, functions)


def _check_call(node: ast.Call, argument: str, functions: dict, counts: dict) -> None:
    if not isinstance(node.func, ast.Name):
        raise ExpressionError(f"{argument}: only a function's name can be called, as in exp(w), not an expression")
    if node.func.id not in functions:
        name = node.func.id
        raise ExpressionError(f"{argument}: unknown function {name!r}; allowed: {', '.join(sorted(functions))}")
    if node.keywords:
        raise ExpressionError(f"{argument}: keyword arguments are not allowed (in a call of {node.func.id})")
    fewest, most = counts[node.func.id]
    if len(node.args) < fewest or (most is not None and len(node.args) > most):
        takes = {(1, 1): "exactly 1 argument", (1, 2): "1 or 2 arguments"}.get(
            (fewest, most), f"at least {fewest} arguments"
        )
        raise ExpressionError(f"{argument}: {node.func.id} takes {takes}, got {len(node.args)}")


def _check_variable_name(name: str, argument: str, functions=ALLOWED_FUNCTIONS) -> None:
    """A name standing for a value: a constant, or a variable name that is not a function's or reserved."""
    if name in CONSTANTS:
        return
    if name in functions:
        raise ExpressionError(f"{argument}: {name!r} is a function; call it, as in {name}(w)")
    if not _NAME.match(name):
        raise ExpressionError(f"{argument}: {name!r} is not a variable name (a letter, then letters, digits, _)")
    if name in RESERVED_NAMES:
        raise ExpressionError(f"{argument}: {name!r} is reserved (a module the generated code imports)")


def _children(node) -> list:
    """The formula-level children of an AST node, left to right, as (child, inverted) pairs.

    A run of ``+``/``-`` (or of ``*``/``/``) is one node whose children are all its operands: ``inverted`` is True
    for an operand that is subtracted (or divided by), parentheses included: a - (b - c) is a - b + c.
    """
    if isinstance(node, ast.Expression):
        return [(node.body, False)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return [(node.left, False), (node.right, False)]
    if isinstance(node, ast.BinOp):
        family = _ADDITIVE if isinstance(node.op, _ADDITIVE) else _MULTIPLICATIVE
        operands, pending = [], [(node, False)]
        while pending:
            current, inverted = pending.pop()
            if isinstance(current, ast.BinOp) and isinstance(current.op, family):
                right_inverted = inverted != isinstance(current.op, (ast.Sub, ast.Div))
                pending += [(current.right, right_inverted), (current.left, inverted)]
            else:
                operands.append((current, inverted))
        return operands
    if isinstance(node, ast.UnaryOp):
        return [(node.operand, False)]
    if isinstance(node, ast.Call):
        return [(child, False) for child in node.args]
    return []


def _bottom_up(tree: ast.Expression) -> list:
    """Formula-level nodes, each after all of its descendants (iterative: no recursion on deep trees)."""
    order, pending = [], [tree]
    while pending:
        node = pending.pop()
        order.append(node)
        pending += [child for child, _ in _children(node)]
    return order[::-1]


def _check_limits(tree: ast.Expression, source: str, argument: str) -> None:
    """Nesting, tower height, exponents, float64 range and exact digits (module docstring), bottom-up.

    A numeric subtree (one without names) is estimated in complex floating point, never exactly, so that the
    check itself cannot hang on ``10**10**10``.
    """
    nesting, tower, digits, value = {}, {}, {}, {}

    def shown(node) -> str:
        text = ast.get_source_segment(source, node) or source
        return repr(text if len(text) <= 60 else text[:57] + "...")

    for node in _bottom_up(tree):
        children = _children(node)
        keys = [id(child) for child, _ in children]
        key = id(node)
        nesting[key] = max((nesting[k] for k in keys), default=0) + (not isinstance(node, ast.Expression))
        tower[key] = max((tower[k] for k in keys), default=0)
        digits[key] = sum(digits[k] for k in keys)
        value[key] = _approximate(node, children, [value[k] for k in keys])
        if isinstance(node, ast.Constant):
            _check_literal(node, ast.get_source_segment(source, node), argument)
            digits[key] = len(str(abs(node.value))) if isinstance(node.value, int) else 0
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            base, exponent = keys
            tower[key] = max(tower[base], tower[exponent] + 1)
            power = value[exponent]
            if power is not None and abs(power) > MAX_EXPONENT:
                raise ExpressionError(
                    f"{argument}: exponent {_show_number(power)} in {shown(node)} is beyond ±{MAX_EXPONENT}"
                )
            if power is not None and not cmath.isnan(power):
                digits[key] = digits[base] * max(1, math.ceil(abs(power)))
        if nesting[key] > MAX_NESTING:
            raise ExpressionError(
                f"{argument}: nested {nesting[key]} levels deep at {shown(node)}; the limit is {MAX_NESTING}"
            )
        if tower[key] > MAX_TOWER:
            raise ExpressionError(f"{argument}: {tower[key]} powers stacked in {shown(node)}; the limit is {MAX_TOWER}")
        if value[key] is not None and cmath.isinf(value[key]):
            raise ExpressionError(f"{argument}: {shown(node)} is beyond float64's range (about 1.8e308)")
        if digits[key] > MAX_DIGITS:
            raise ExpressionError(
                f"{argument}: {shown(node)} implies exact numbers of up to {digits[key]} digits; "
                f"the limit is {MAX_DIGITS}"
            )


def _check_literal(node: ast.Constant, text: str, argument: str) -> None:
    """A literal finite in float64, and not a nonzero decimal that rounds to 0 (``1e-400``)."""
    try:
        as_float = float(node.value)
    except OverflowError:
        as_float = math.inf
    if math.isinf(as_float):
        raise ExpressionError(f"{argument}: the number {text[:40]!r} is beyond float64's range (about 1.8e308)")
    mantissa = re.split(r"[eE]", text)[0]
    if as_float == 0 and isinstance(node.value, float) and re.search(r"[1-9]", mantissa):
        raise ExpressionError(f"{argument}: the number {text[:40]!r} rounds to 0 in float64")


def _show_number(number: complex) -> str:
    return f"{number.real:.6g}" if number.imag == 0 else f"{number:.6g}"


def _approximate(node, children, operands) -> complex | None:
    """The node's value in complex floating point when it is built from numbers alone, else None.

    ``operands`` are the children's approximations. inf means beyond float64's range (refused by the caller);
    nan means SymPy's answer is undefined or complex-infinite (``1/0``), which is harmless and left to SymPy.
    """
    if isinstance(node, ast.Name):
        return complex(CONSTANTS[node.id]) if node.id in CONSTANTS else None
    if any(operand is None for operand in operands):
        return None
    try:
        if isinstance(node, ast.Constant):
            return complex(node.value)
        if isinstance(node, ast.Expression):
            return operands[0]
        if isinstance(node, ast.UnaryOp):
            return -operands[0] if isinstance(node.op, ast.USub) else operands[0]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return operands[0] ** operands[1]
        if isinstance(node, ast.BinOp):
            return _approximate_run(node, children, operands)
        return _approximate_call(node.func.id, operands)
    except OverflowError:
        return complex(math.inf)
    except (ZeroDivisionError, ValueError):
        return complex(math.nan)


def _approximate_run(node: ast.BinOp, children, operands) -> complex:
    if isinstance(node.op, _ADDITIVE):
        return sum((-x if inverted else x for (_, inverted), x in zip(children, operands, strict=True)), 0j)
    result = 1 + 0j
    for (_, inverted), x in zip(children, operands, strict=True):
        result = result / x if inverted else result * x
    return result


def _approximate_call(name: str, operands) -> complex:
    nan = complex(math.nan)
    if name in ("abs", "Abs"):
        return complex(abs(operands[0]))
    if name == "log":
        return cmath.log(operands[0]) / (cmath.log(operands[1]) if len(operands) == 2 else 1)
    if name in ("exp", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh"):
        return getattr(cmath, name)(operands[0])
    if any(x.imag != 0 or cmath.isnan(x) for x in operands):
        return nan
    reals = [x.real for x in operands]
    if name in ("max", "Max", "min", "Min"):
        return complex(max(reals) if name.lower() == "max" else min(reals))
    if name == "sign":
        return complex((reals[0] > 0) - (reals[0] < 0))
    if name != "Heaviside":
        return nan  # a notation's function (sum_j, ...): left to SymPy
    value_at_0 = reals[1] if len(reals) == 2 else 0.5
    return complex(1.0 if reals[0] > 0 else 0.0 if reals[0] < 0 else value_at_0)


def _translate(tree: ast.Expression, source: str, argument: str, functions: dict) -> sp.Expr:
    """The SymPy expression of a checked tree, built bottom-up with SymPy's constructors."""
    built = {}
    for node in _bottom_up(tree):
        children = _children(node)
        operands = [built[id(child)] for child, _ in children]
        try:
            built[id(node)] = _build(node, children, operands, functions)
        except (ValueError, TypeError, ArithmeticError) as error:
            text = ast.get_source_segment(source, node) or source
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ExpressionError(f"{argument}: SymPy cannot build {text[:60]!r}: {reason}") from None
    result = built[id(tree)]
    not_real = _first_number_not_real(result)
    if not_real is not None:
        raise ExpressionError(
            f"{argument}: not real: SymPy reads it with {not_real} (from a division by 0, log(0), sqrt(-1), ...)"
        )
    return result


def _first_number_not_real(expression: sp.Expr) -> str | None:
    """The first constant in ``expression`` that is not a finite real number (zoo, nan, I, (-1)**(1/3)), or None."""
    for part in sp.preorder_traversal(expression):
        if part in _NOT_REAL_NUMBERS or (part.is_number and not _is_real_number(part)):
            return str(part)[:40]
    return None


def _is_real_number(number: sp.Expr) -> bool:
    """Whether a constant is real: by SymPy's assumptions, or, where they cannot decide ((-1)**E), numerically."""
    if number.is_real is not None:
        return bool(number.is_real)
    return sp.im(number.evalf(15)) == 0


def _build(node, children, operands, functions: dict) -> sp.Expr:
    if isinstance(node, ast.Expression):
        return operands[0]
    if isinstance(node, ast.Constant):
        return sp.Integer(node.value) if isinstance(node.value, int) else sp.Float(node.value)
    if isinstance(node, ast.Name):
        return CONSTANTS[node.id] if node.id in CONSTANTS else sp.Symbol(node.id, real=True)
    if isinstance(node, ast.UnaryOp):
        return -operands[0] if isinstance(node.op, ast.USub) else operands[0]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return sp.Pow(*operands)
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ADDITIVE):
        return sp.Add(*(-x if inverted else x for (_, inverted), x in zip(children, operands, strict=True)))
    if isinstance(node, ast.BinOp):
        return sp.Mul(*(sp.Pow(x, -1) if inverted else x for (_, inverted), x in zip(children, operands, strict=True)))
    return functions[node.func.id](*operands)


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
    """``"w1, w2"`` or ``["w1", "w2"]`` -> ``("w1", "w2")``: distinct variable names, normalised like a formula.

    Raises:
        TypeError: ``wrt`` is neither a string nor a sequence of strings.
        ExpressionError: a name that is not a variable name (a constant, a function, a reserved name), repeated
            names, or no name.
    """
    if isinstance(wrt, str):
        names = tuple(name.strip() for name in normalise(wrt, "wrt").split(","))
    elif isinstance(wrt, Sequence) and all(isinstance(name, str) for name in wrt):
        names = tuple(normalise(name, "wrt") for name in wrt)
    else:
        raise TypeError(f"wrt: expected variable names, as 'w1, w2' or ['w1', 'w2'], got {type(wrt).__name__}")
    if not names:
        raise ExpressionError("wrt: no variable names")
    for name in names:
        if name in CONSTANTS or name in ALLOWED_FUNCTIONS:
            kind = "a constant (pi and E are π and e)" if name in CONSTANTS else "a function"
            raise ExpressionError(f"wrt: {name!r} is {kind}, not a variable")
        _check_variable_name(name, "wrt")
    if len(set(names)) != len(names):
        raise ExpressionError(f"wrt: a variable is named twice in {wrt!r}")
    return names


def as_real(expression, argument: str) -> sp.Expr:
    """A formula string (read by :func:`parse_expression`) or SymPy expression, every symbol ``real=True``."""
    if isinstance(expression, str):
        return parse_expression(expression, argument)
    if not isinstance(expression, sp.Expr):
        raise TypeError(f"{argument}: expected a string or a SymPy expression, got {type(expression).__name__}")
    return expression.subs({s: sp.Symbol(s.name, real=True) for s in expression.free_symbols})


def parse_expected(expected, count: int) -> tuple[sp.Expr, ...]:
    """The closed form of the gradient: ``count`` components from a comma-separated string (commas inside
    parentheses do not split), a SymPy expression (one component) or a sequence of strings / expressions; each
    string component at most :data:`MAX_LENGTH` characters."""
    if isinstance(expected, str):
        components = split_top_level(normalise(expected, "expected", MAX_LENGTH * count + count - 1))
    elif isinstance(expected, sp.Expr):
        components = [expected]
    elif isinstance(expected, Sequence):
        components = list(expected)
    else:
        raise TypeError(
            f"expected: expected a string, a SymPy expression or a sequence of them, got {type(expected).__name__}"
        )
    if len(components) != count:
        raise ExpressionError(f"expected: {len(components)} components for {count} variables")
    return tuple(as_real(component, "expected") for component in components)


def derive(
    expression: str | sp.Expr,
    wrt: str | Sequence[str | sp.Symbol],
    *,
    expected: str | sp.Expr | Sequence[str | sp.Expr] | None = None,
    name: str = "user",
    title: str | None = None,
) -> Derivation:
    """A derivation of the user's own objective, ready to prove, compile and check like the built-in ones.

    Reading the arguments and differentiating take at most :data:`FORMULA_TIME_BUDGET` seconds together.

    Args:
        expression: a formula string (see the module docstring) or a SymPy expression.
        wrt: the variables to differentiate in, ``"w1, w2"`` or a sequence of names; each must appear in the
            expression. Every other name becomes a parameter (a keyword argument of the compiled functions).
        expected: optional closed form of the gradient to prove against, one component per variable
            (a comma-separated string, a SymPy expression, or a sequence of strings / SymPy expressions).
        name, title: how it is shown; it is not registered (call :func:`symgrad.register` for that).

    Returns:
        a :class:`Derivation` with its gradient derived, and ``time_budget`` = :data:`FORMULA_TIME_BUDGET` for
        compiling it and for its proof.

    Raises:
        TypeError, ExpressionError (a ValueError): the message starts with the argument's name; an expression
            that takes longer than the time budget to read and differentiate, or whose gradient has more than
            :data:`MAX_GRADIENT_NODES` nodes, is refused too.
    """
    for argument, value in (("name", name), ("title", title)):
        if not isinstance(value, str) and not (argument == "title" and value is None):
            raise TypeError(f"{argument}: expected a string, got {type(value).__name__}")
    try:
        derivation = call_within(FORMULA_TIME_BUDGET, _differentiated, expression, wrt, expected, name, title)
    except TimeBudgetExceeded:
        raise ExpressionError(
            f"expression: reading and differentiating it took longer than {FORMULA_TIME_BUDGET:g} s"
        ) from None
    nodes = itertools.chain.from_iterable(map(sp.preorder_traversal, derivation.gradient))
    if sum(1 for _ in itertools.islice(nodes, MAX_GRADIENT_NODES + 1)) > MAX_GRADIENT_NODES:
        raise ExpressionError(f"expression: its gradient has more than {MAX_GRADIENT_NODES} nodes, too many to print")
    return derivation


def _differentiated(expression, wrt, expected, name: str, title: str | None) -> Derivation:
    """The body of :func:`derive`: read every argument, build the derivation, differentiate."""
    variable_names = parse_names(wrt)
    objective = as_real(expression, "expression")
    variables = tuple(sp.Symbol(n, real=True) for n in variable_names)
    absent = [v.name for v in variables if v not in objective.free_symbols]
    if absent:
        present = ", ".join(sorted(s.name for s in objective.free_symbols)) or "none"
        raise ExpressionError(f"wrt: {', '.join(map(repr, absent))} not in the expression (its variables: {present})")
    parameters = tuple(sorted(objective.free_symbols - set(variables), key=lambda s: s.name))
    lecture_gradient = None if expected is None else parse_expected(expected, len(variables))
    derivation = Derivation(
        name=name,
        title=title or str(objective),
        objective=objective,
        variables=variables,
        lecture_gradient=lecture_gradient,
        parameters=parameters,
        time_budget=FORMULA_TIME_BUDGET,
    )
    not_real = next(filter(None, map(_first_number_not_real, derivation.gradient)), None)
    if not_real is not None:
        raise ExpressionError(f"expression: not real: its gradient has {not_real} (a negative base to a real power?)")
    unevaluated = [d for g in derivation.gradient for d in g.atoms(sp.Derivative, sp.Subs)]
    if unevaluated:
        left = str(unevaluated[0])[:80]
        raise ExpressionError(f"expression: SymPy leaves {left!r} unevaluated; it cannot be compiled")
    return derivation
