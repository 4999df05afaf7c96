"""Formulas an adversary would type, by family: each gets a result or a one-line error naming the argument, in time.

One property per family of issue 16, over Hypothesis-generated formulas and the examples measured to hang or crash
before the limits and budgets: towers, huge literals, deep nesting, long sums, unary chains, compatibility
characters, functions with no or extra arguments, domain errors, and names SymPy reads as constants. Each runs
through the Python API (``derive``) and, for a share of the cases, through ``symgrad derive`` / ``symgrad check``
in this process (``main``), whose failures must be exit code 2 and one line on stderr.
"""

import contextlib
import io
import time
import unicodedata

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from symgrad.cli import main
from symgrad.codegen.compile import compile_derivation
from symgrad.symbolic.expressions import ExpressionError, derive, parse_expression

TIME_BOUND = 5.0  # seconds per formula: the promise to users; asserted to catch hangs
ARGUMENTS = ("expression", "wrt", "expected")
fuzz = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
fuzz_command = settings(fuzz, max_examples=30)


def answered(call):
    """call() within TIME_BOUND, returning its result, or the documented error: one line naming the argument."""
    start = time.perf_counter()
    try:
        result = call()
    except (ExpressionError, TypeError) as error:
        message = str(error)
        assert "\n" not in message and message.split(":")[0] in ARGUMENTS, message
        result = error
    assert time.perf_counter() - start < TIME_BOUND
    event("refused" if isinstance(result, Exception) else "accepted")
    return result


def derived(expression, wrt="x", expected=None):
    """derive() of the formula: a Derivation with its gradient, or the documented error."""
    return answered(lambda: derive(expression, wrt, expected=expected))


def command(*argv):
    """``symgrad *argv`` in this process: (exit code, stdout, stderr), within TIME_BOUND, never a traceback."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert time.perf_counter() - start < TIME_BOUND
    stderr = err.getvalue()
    assert code in (0, 1, 2), code
    event(f"symgrad {argv[0]}: exit {code}")
    if code == 2:
        assert stderr.count("\n") == 1, stderr
        assert stderr.startswith(tuple(f"symgrad {argv[0]}: {name}: " for name in ARGUMENTS)), stderr
    return code, out.getvalue(), stderr


def commands_answer(formula, wrt="x"):
    """``symgrad derive`` and ``symgrad check`` on the formula answer: a result, or exit 2 with one line."""
    command("derive", "--expr", formula, "--wrt", wrt)
    command("check", "--expr", formula, "--wrt", wrt, "--points", "1")


numbers = st.one_of(st.integers(-12, 12).map(str), st.sampled_from(["10", "9", "2", "0.5", "1e3", "E", "pi", "x"]))


# 1. Exponent towers: a**b**c**..., of numbers and names.
@fuzz
@given(st.lists(numbers, min_size=2, max_size=8).map("**".join))
@example("x**10**10**10")
@example("x**9**9**9")
@example("10**10**10*x")
@example("2**2**2**2**2**2*x")
@example("exp(10**10**10)")
@example("x**(-10)**(-10)**(-10)")
def test_towers(formula):
    derived(formula if "x" in formula else f"x*{formula}")


@fuzz_command
@given(st.lists(numbers, min_size=2, max_size=6).map(lambda parts: "x*" + "**".join(parts)))
@example("x**9**9**9")
def test_towers_on_the_command_line(formula):
    commands_answer(formula)


# 2. Huge and tiny literals, alone and combined.
literals = st.one_of(
    st.integers(-(10**400), 10**400).map(str),
    st.builds(lambda mantissa, exponent: f"{mantissa}e{exponent}", st.integers(0, 99), st.integers(-(10**6), 10**6)),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
templates = st.sampled_from(["{a}*x", "x**{a}", "exp({a})*x", "{a}**{b}*x", "x*{a}*{b}", "(x+{a})**{b}", "x/{a}"])


@fuzz
@given(templates, literals, literals)
@example("{a}*x", "1e999999", "1")
@example("{a}*x", "1e-999999", "1")
@example("(x+{a})**{b}", "1", "20000")
def test_huge_literals(template, a, b):
    derived(template.format(a=a, b=b))


@fuzz_command
@given(templates, literals, literals)
def test_huge_literals_on_the_command_line(template, a, b):
    commands_answer(template.format(a=a, b=b))


# 3. Deep nesting of calls and parentheses.
single_argument = st.sampled_from(["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "abs", "sign"])


@fuzz
@given(st.lists(st.one_of(single_argument, st.just("")), min_size=1, max_size=200))
@example(["exp"] * 150)
def test_deep_nesting(functions):
    derived("".join(f"{name}(x+" for name in functions) + "x" + ")" * len(functions))


@fuzz_command
@given(st.integers(1, 200), single_argument)
@example(150, "exp")
def test_deep_nesting_on_the_command_line(depth, function):
    commands_answer(f"{function}(" * depth + "x" + ")" * depth)


# 4. Long sums and products.
@fuzz
@given(st.integers(1, 12_000), st.sampled_from(["+", "-", "*", "/", "+x*"]), st.sampled_from(["x", "2", "x**2", "y"]))
@example(10_000, "+", "x")
def test_long_sums(terms, operator, term):
    derived("x+" + operator.join([term] * terms))


@fuzz_command
@given(st.integers(1, 12_000), st.sampled_from(["+", "-", "*"]))
@example(10_000, "+")
def test_long_sums_on_the_command_line(terms, operator):
    commands_answer(operator.join(["x"] * terms))


# 5. Chains of unary signs.
@fuzz
@given(st.integers(1, 100_000), st.sampled_from(["-", "+", "-+", "--+", "+-+"]))
@example(3000, "-")
@example(100_000, "-")
def test_unary_chains(length, pattern):
    result = derived((pattern * length)[:length] + "x")
    signs = (pattern * length)[:length]
    if not isinstance(result, Exception):
        # an independent count: an odd number of minus signs negates x
        assert result.objective == (-1) ** signs.count("-") * sp.Symbol("x", real=True)


@fuzz_command
@given(st.integers(1, 100_000))
@example(3000)
@example(100_000)
def test_unary_chains_on_the_command_line(length):
    commands_answer("-" * length + "x")


# 6. Compatibility characters: full-width and mathematical letters read as their ASCII; superscripts refused.
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in map(chr, range(0x21, 0x7F))}
ITALIC = {c: unicodedata.lookup(f"MATHEMATICAL ITALIC SMALL {c.upper()}") for c in "abcdefgijklmnopqrstuvwxyz"}
BASES = ["exp(x) + 2*x**2", "log(1 + x**2)", "max(0, x - 1)", "sqrt(x**2 + 1) * tanh(x)"]


@fuzz
@given(st.sampled_from(BASES), st.lists(st.booleans(), min_size=40, max_size=40), st.sampled_from([FULL_WIDTH, ITALIC]))
@example("exp(x) + 2*x**2", [True] * 40, FULL_WIDTH)
def test_compatibility_characters(formula, which, table):
    disguised = "".join(table.get(c, c) if flip else c for c, flip in zip(formula, which + [False] * len(formula), strict=False))
    assert answered(lambda: parse_expression(disguised)) == parse_expression(formula)


@fuzz
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12), st.sampled_from(BASES))
@example("²", "x")
@example("ｅｘｐ(x)", "")
def test_any_characters_around_a_formula(noise, formula):
    derived(noise + formula)


@fuzz_command
@given(st.sampled_from(BASES), st.sampled_from([FULL_WIDTH, ITALIC]))
def test_compatibility_characters_on_the_command_line(formula, table):
    code, _, _ = command("derive", "--expr", "".join(table.get(c, c) for c in formula), "--wrt", table.get("x", "x"))
    assert code == 0


# 7. Functions with no, too few or too many arguments, bare, or called on something that is not a name.
ARITY = {  # written from the mathematics: log(x, base), Heaviside(z, value at 0), max and min of two or more
    **dict.fromkeys(["exp", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "abs", "Abs", "sign"], (1, 1)),
    "log": (1, 2), "Heaviside": (1, 2), **dict.fromkeys(["max", "Max", "min", "Min"], (2, 99)),
}


@fuzz
@given(st.sampled_from(sorted(ARITY)), st.integers(0, 6))
@example("max", 0)
def test_functions_with_any_number_of_arguments(name, count):
    result = derived(f"{name}({', '.join(['x + 1', *['0.5'] * (count - 1)][:count])}) + x")
    fewest, most = ARITY[name]
    assert isinstance(result, Exception) == (not fewest <= count <= most)


@fuzz
@given(st.sampled_from(sorted(ARITY) + ["open", "eval", "f", "__import__"]), st.sampled_from(["{f}", "{f}*x", "x({f})",
       "{f}(x)(x)", "(x)({f})", "{f}.__class__", "max({f}, x)"]))
@example("exp", "{f}")
def test_bare_and_strange_calls(name, template):
    derived(template.format(f=name))


@fuzz_command
@given(st.sampled_from(sorted(ARITY)), st.integers(0, 4))
@example("max", 0)
def test_functions_on_the_command_line(name, count):
    commands_answer(f"{name}({', '.join(['x'] * count)})" if count else name)


# 8. Domain errors: the check draws points where value and gradient are finite, or says it could not.
@st.composite
def domain_formulas(draw):
    inner = f"{draw(st.integers(-5, 5))}*x + {draw(st.integers(-60, 60))}"
    return draw(st.sampled_from(["log({u})", "sqrt({u})", "1/({u})", "log(log({u}))", "sqrt(-({u})**2)",
                                 "log({u}) + abs(x)", "({u})**0.5 * exp(x)", "log(-1 - x**2) + x"])).format(u=inner)


@settings(fuzz, max_examples=40)
@given(domain_formulas(), st.sampled_from(["float64", "float32"]))
@example("log(x)", "float64")
@example("log(-1 - x**2) + x", "float64")
def test_domain_errors(formula, dtype):
    if isinstance(derived(formula), Exception):
        return
    code, out, err = command("check", "--expr", formula, "--wrt", "x", "--points", "2", "--dtype", dtype)
    assert code in (0, 2), out
    if code == 2:
        assert "no point where the value and gradient are finite" in err
    else:
        assert out.count("ok   smooth point") == 2


@fuzz
@given(domain_formulas(), st.floats(-100, 100))
def test_domain_errors_in_the_compiled_functions(formula, point):
    derivation = derived(formula)
    if not isinstance(derivation, Exception):
        with np.errstate(all="ignore"):
            value, gradient = compile_derivation(derivation).value(point), compile_derivation(derivation).gradient(point)
        assert np.shape(value) == () and np.shape(gradient) == ()


# 9. Names SymPy reads as constants or specially: variables everywhere, except pi and E, which are constants.
SPECIAL = ["E", "pi", "I", "oo", "nan", "zoo", "S", "N", "Q", "O", "C", "Symbol", "Integer", "Float", "Rational",
           "Function", "Lambda", "beta", "gamma", "Sum", "Matrix", "e", "x", "self", "exp", "numpy"]


@fuzz
@given(st.sampled_from(SPECIAL), st.sampled_from(SPECIAL))
@example("E", "w")
@example("pi", "w")
def test_constants_as_names(name, other):
    # d/dv (v^2 + 3 v u) = 2 v + 3 u, and 8 v when u is v itself
    expected = f"8*{name}" if other == name else f"2*{name} + 3*{other}"
    result = derived(f"{name}**2 + 3*{name}*{other}", wrt=name, expected=expected)
    if name in ("E", "pi"):
        assert str(result).startswith(f"wrt: '{name}' is a constant")
    elif name in ("exp", "numpy"):
        assert str(result).startswith("wrt: ")
    elif other in ("exp", "numpy"):
        assert str(result).startswith("expression: ")
    else:
        assert result.verify()


@fuzz_command
@given(st.sampled_from(SPECIAL))
@example("E")
def test_constants_as_names_on_the_command_line(name):
    code, out, err = command("check", "--expr", f"{name}**2 + w", "--wrt", name, "--points", "1", "--expect",
                             f"2*{name}")
    assert code == (2 if name in ("E", "pi", "exp", "numpy") else 0), out + err
