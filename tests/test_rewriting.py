"""Stable rewrite rules (symgrad.codegen.rewriting): each rule fires on its pattern family, is proved equal to
the written form, agrees with it where that is accurate, stays finite and right where it is not, and leaves
near misses alone. References come from mpmath at 500 digits, never from the rewritten code."""

import math
import warnings

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from sympy.codegen.cfunctions import expm1, log1p
from sympy.codegen.numpy_nodes import logaddexp

import symgrad
from symgrad.codegen.modules import GeneratedFunction, generated_function, module_text
from symgrad.codegen.rewriting import (
    MAX_PASSES,
    STABLE_RULES,
    RewriteRule,
    class_log_sum_exp_max_shift,
    class_softmax_max_shift,
    exp_minus_one,
    log_add_exp,
    log_one_plus,
    log_sigmoid,
    log_softmax,
    log_sum_exp_max_shift,
    sigmoid_ratio,
    softmax_max_shift,
    stabilize,
    to_elementary,
)
from symgrad.symbolic.derivation import is_identically_zero
from symgrad.symbolic.index_form import ClassMax, ClassSum
from symgrad.symbolic.registry import get_loss

z, a, b, c, x, y, w1, w2, u1, u2 = sp.symbols("z a b c x y w1 w2 u1 u2", real=True)
S, T = sp.symbols("S T", real=True)  # class-axis arrays (C, N): scores and one-hot labels
exp, log = sp.exp, sp.log

ARGUMENTS = {
    "z": z,
    "-z": -z,
    "3z": 3 * z,
    "-z/2": -z / 2,
    "margin -y(w.u)": -y * (w1 * u1 + w2 * u2),
    "positive": sp.Symbol("p", positive=True),
    "negative": sp.Symbol("n", negative=True),
    "integer": sp.Symbol("k", integer=True),
    "no assumptions": sp.Symbol("v"),
}
"""Arguments u the patterns are written in: signs, scalings, a compound margin, symbols with assumptions."""

REAL_ARGUMENTS = ["z", "-z/2", "margin -y(w.u)"]
"""The arguments the proofs run on: the identities hold for real arguments (log e^u = u needs real u)."""


def shifted(exponents):
    """sum_j e^{a_j - m} and m = Max(a_j), written here independently of the rules."""
    maximum = sp.Max(*exponents)
    return sp.Add(*(exp(e - maximum) for e in exponents)), maximum


def class_shifted(exponent):
    maximum = ClassMax(exponent)
    return ClassSum(exp(exponent - maximum)), maximum


PATTERNS = [
    # rule, name, written form of u, the form the rule must give (written by hand)
    (log_add_exp, "log(1 + e^u)", lambda u: log(1 + exp(u)), lambda u: logaddexp(0, u)),
    (log_add_exp, "log(e^u + e^b)", lambda u: log(exp(u) + exp(b)), lambda u: logaddexp(u, b)),
    (log_sigmoid, "log(1/(1 + e^-u))", lambda u: log(1 / (1 + exp(-u))), lambda u: -logaddexp(0, -u)),
    (log_sigmoid, "log(e^u/(1 + e^u))", lambda u: log(exp(u) / (1 + exp(u))), lambda u: -logaddexp(0, -u)),
    (log_sigmoid, "log(1 - 1/(1 + e^-u))", lambda u: log(1 - 1 / (1 + exp(-u))), lambda u: -logaddexp(0, u)),
    (log_sigmoid, "log(1 - e^u/(1 + e^u))", lambda u: log(1 - exp(u) / (1 + exp(u))), lambda u: -logaddexp(0, u)),
    (log_sigmoid, "log(e^u/(e^u + e^b))", lambda u: log(exp(u) / (exp(u) + exp(b))), lambda u: -logaddexp(0, b - u)),
    (
        log_softmax,
        "log(e^u/(e^u + e^b + e^c))",
        lambda u: log(exp(u) / (exp(u) + exp(b) + exp(c))),
        lambda u: u - log(exp(u) + exp(b) + exp(c)),
    ),
    (log_softmax, "log(e^c/(1 + e^u))", lambda u: log(exp(c) / (1 + exp(u))), lambda u: c - log(1 + exp(u))),
    (
        log_softmax,
        "log(e^{uS}/ClassSum(e^{uS}))",
        lambda u: log(exp(u * S) / ClassSum(exp(u * S))),
        lambda u: u * S - log(ClassSum(exp(u * S))),
    ),
    (
        log_sum_exp_max_shift,
        "log(1 + e^u + e^b)",
        lambda u: log(1 + exp(u) + exp(b)),
        lambda u: shifted([0, u, b])[1] + log(shifted([0, u, b])[0]),
    ),
    (
        log_sum_exp_max_shift,
        "log(e^u + e^a + e^b + e^c)",
        lambda u: log(exp(u) + exp(a) + exp(b) + exp(c)),
        lambda u: shifted([u, a, b, c])[1] + log(shifted([u, a, b, c])[0]),
    ),
    (
        class_log_sum_exp_max_shift,
        "log(ClassSum(e^{uS}))",
        lambda u: log(ClassSum(exp(u * S))),
        lambda u: class_shifted(u * S)[1] + log(class_shifted(u * S)[0]),
    ),
    (
        class_log_sum_exp_max_shift,
        "log(ClassSum(e^{S + uT}))",
        lambda u: log(ClassSum(exp(S + u * T))),
        lambda u: class_shifted(S + u * T)[1] + log(class_shifted(S + u * T)[0]),
    ),
    (sigmoid_ratio, "e^u/(1 + e^u)", lambda u: exp(u) / (1 + exp(u)), lambda u: exp(u - logaddexp(0, u))),
    (sigmoid_ratio, "1/(1 + e^-u)", lambda u: 1 / (1 + exp(-u)), lambda u: exp(-logaddexp(0, -u))),
    (
        sigmoid_ratio,
        "x e^-u/(1 + e^-u)",
        lambda u: x * exp(-u) / (1 + exp(-u)),
        lambda u: x * exp(-u - logaddexp(0, -u)),
    ),
    (sigmoid_ratio, "e^u/(1 + e^u)^2", lambda u: exp(u) / (1 + exp(u)) ** 2, lambda u: exp(u - 2 * logaddexp(0, u))),
    (sigmoid_ratio, "e^u/(e^u + e^b)", lambda u: exp(u) / (exp(u) + exp(b)), lambda u: exp(u - logaddexp(u, b))),
    (
        softmax_max_shift,
        "e^u/(e^u + e^b + e^c)",
        lambda u: exp(u) / (exp(u) + exp(b) + exp(c)),
        lambda u: exp(u - shifted([u, b, c])[1]) / shifted([u, b, c])[0],
    ),
    (
        softmax_max_shift,
        "e^b/(1 + e^u + e^b)^2",
        lambda u: exp(b) / (1 + exp(u) + exp(b)) ** 2,
        lambda u: exp(b - 2 * shifted([0, u, b])[1]) / shifted([0, u, b])[0] ** 2,
    ),
    (
        class_softmax_max_shift,
        "e^{uS}/ClassSum(e^{uS})",
        lambda u: exp(u * S) / ClassSum(exp(u * S)),
        lambda u: exp(u * S - class_shifted(u * S)[1]) / class_shifted(u * S)[0],
    ),
    (
        class_softmax_max_shift,
        "T e^{uS}/ClassSum(e^{uS}) - T",
        lambda u: T * exp(u * S) / ClassSum(exp(u * S)) - T,
        lambda u: T * exp(u * S - class_shifted(u * S)[1]) / class_shifted(u * S)[0] - T,
    ),
    (exp_minus_one, "e^u - 1", lambda u: exp(u) - 1, lambda u: expm1(u)),
    (exp_minus_one, "1 - e^u", lambda u: 1 - exp(u), lambda u: -expm1(u)),
    (exp_minus_one, "3 e^u - 3", lambda u: 3 * exp(u) - 3, lambda u: 3 * expm1(u)),
    (exp_minus_one, "e^u/2 - 1/2 + x", lambda u: exp(u) / 2 - sp.Rational(1, 2) + x, lambda u: expm1(u) / 2 + x),
    (log_one_plus, "log(1 + u)", lambda u: log(1 + u), lambda u: log1p(u)),
    (log_one_plus, "log(1 - u^2)", lambda u: log(1 - u**2), lambda u: log1p(-(u**2))),
    (log_one_plus, "log(1 + x u)", lambda u: log(1 + x * u), lambda u: log1p(x * u)),
]

CONTEXTS = {
    "in a sum": lambda e: x + e,
    "in a product": lambda e: x * e,
    "in a function": sp.sin,
    "under a square root": lambda e: sp.sqrt(e**2 + 1),
}
"""Positions a pattern is found in, besides standing alone."""


def pattern_id(pattern) -> str:
    return f"{pattern[0].name}: {pattern[1]}"


def free_maxima(expr):
    """Every Max / ClassMax node replaced by its own real symbol: the shift identities hold for any shift."""
    nodes = sorted(expr.atoms(sp.Max, ClassMax), key=sp.default_sort_key)
    return expr.xreplace({node: sp.Symbol(f"m{i}", real=True) for i, node in enumerate(nodes)})


def at_class(expr, k: int, number_of_classes: int = 3):
    """A class-axis expression written out for 3 classes, at class k: ClassSum(F(S, T)) -> sum_j F(s_j, t_j),
    and S, T outside the class sums -> s_k, t_k."""
    s = sp.symbols(f"s0:{number_of_classes}", real=True)
    t = sp.symbols(f"t0:{number_of_classes}", real=True)
    written_out = expr.replace(
        lambda e: isinstance(e, ClassSum),
        lambda e: sp.Add(*(e.args[0].xreplace({S: s[j], T: t[j]}) for j in range(number_of_classes))),
    )
    return written_out.xreplace({S: s[k], T: t[k]})


def is_zero_for_real_arguments(difference) -> bool:
    """expand_log then simplify to 0; failing that, exp(difference) simplifies to 1 (for a real difference
    d, e^d = 1 means d = 0)."""
    return is_identically_zero(sp.expand_log(difference, force=True)) or sp.simplify(sp.exp(difference)) == 1


def proved_equal(original, rewritten) -> bool:
    """Prove rewritten == original for real arguments: the new nodes written out as exp and log, each shift
    a free symbol, class sums written out (at every class)."""
    difference = free_maxima(to_elementary(rewritten)) - original
    differences = [at_class(difference, k) for k in range(3)] if difference.has(S, T) else [difference]
    return all(is_zero_for_real_arguments(d) for d in differences)


@pytest.mark.parametrize("argument", ARGUMENTS.values(), ids=ARGUMENTS.keys())
@pytest.mark.parametrize("pattern", PATTERNS, ids=pattern_id)
def test_rule_fires_on_its_pattern_for_every_sign_scaling_and_assumption(pattern, argument):
    rule, _, written, expected = pattern
    assert rule(written(argument)) == expected(argument)


@pytest.mark.parametrize("context", CONTEXTS.values(), ids=CONTEXTS.keys())
@pytest.mark.parametrize("pattern", PATTERNS, ids=pattern_id)
def test_rule_fires_on_its_pattern_nested_inside_an_expression(pattern, context):
    rule, _, written, expected = pattern
    assert rule(context(written(z))) == context(expected(z))


@pytest.mark.parametrize("argument", REAL_ARGUMENTS)
@pytest.mark.parametrize("pattern", PATTERNS, ids=pattern_id)
def test_rewritten_pattern_is_proved_equal_to_the_written_form(pattern, argument):
    rule, _, written, _ = pattern
    original = written(ARGUMENTS[argument])
    rewritten = rule(original)
    assert rewritten != original
    assert proved_equal(original, rewritten)


@pytest.mark.parametrize(
    "original, wrong",
    [
        (log(1 + exp(z)), logaddexp(0, 2 * z)),
        (exp(z) / (1 + exp(z)), exp(-logaddexp(0, z))),
        (log(exp(a) + exp(b) + exp(c)), sp.Max(a, b, c) + log(exp(a) + exp(b) + exp(c))),
        (exp(S) / ClassSum(exp(S)), exp(S - ClassMax(S)) / ClassSum(exp(S))),
    ],
)
def test_the_proof_rejects_a_wrong_rewrite(original, wrong):
    assert not proved_equal(original, wrong)


NEAR_MISSES = {
    log_add_exp: [
        log(2 + exp(z)),
        log(1 + 2 * exp(z)),
        log(exp(a) - exp(b)),
        log(1 - exp(z)),
        log(x + exp(z)),
        log(exp(a) + exp(b) + x),
        log(1 + exp(2)),
    ],
    log_sigmoid: [
        log(2 / (1 + exp(z))),
        log(1 / (2 + exp(z))),
        log(exp(a) / (1 + exp(b))),
        log(1 - 2 / (1 + exp(z))),
        log(2 - 1 / (1 + exp(z))),
        log(x / (1 + exp(z))),
        log(exp(a) / (exp(a) + exp(b) + exp(c))),
    ],
    log_softmax: [
        log(x * exp(a) / (exp(a) + exp(b) + exp(c))),
        log(exp(a) / (exp(a) + exp(b) + x)),
        log(exp(S) / ClassSum(S)),
        log(exp(a) * (exp(a) + exp(b) + exp(c))),
        log(1 / (1 + exp(z))),
    ],
    log_sum_exp_max_shift: [
        log(exp(a) + exp(b) + exp(c) + x),
        log(2 + exp(a) + exp(b)),
        log(exp(a) + exp(b)),
        shifted([a, b, c])[1] + log(shifted([a, b, c])[0]),
    ],
    class_log_sum_exp_max_shift: [
        log(ClassSum(S)),
        log(ClassSum(T * exp(S))),
        log(1 + ClassSum(exp(S))),
        class_shifted(S)[1] + log(class_shifted(S)[0]),
    ],
    sigmoid_ratio: [
        1 / (2 + exp(z)),
        exp(a) * (1 + exp(b)),
        x / (1 + 2 * exp(z)),
        exp(z) / (1 + exp(z) + x),
        exp(a) / (exp(a) + exp(b) + exp(c)),
    ],
    softmax_max_shift: [
        exp(a) / (exp(a) + exp(b) + x),
        exp(a) * (exp(a) + exp(b) + exp(c)),
        exp(a) / (exp(a) + exp(b)),
        exp(a - shifted([a, b, c])[1]) / shifted([a, b, c])[0],
    ],
    class_softmax_max_shift: [
        exp(S) / ClassSum(S),
        exp(S) * ClassSum(exp(S)),
        exp(S - class_shifted(S)[1]) / class_shifted(S)[0],
    ],
    exp_minus_one: [exp(z) - 2, 2 * exp(z) - 1, exp(z) + 1, x * exp(z) - 1, exp(2) - 1],
    log_one_plus: [
        log(2 + z),
        log(1 + exp(z)),
        log(1 + exp(a) + exp(b)),
        log(1 - 1 / (1 + exp(z))),
        log(z),
        log(1 + sp.sqrt(2)),
    ],
}


@pytest.mark.parametrize(
    "rule, near_miss",
    [(rule, expr) for rule, exprs in NEAR_MISSES.items() for expr in exprs],
    ids=lambda value: value.name if isinstance(value, RewriteRule) else str(value),
)
def test_rule_leaves_a_near_miss_unchanged(rule, near_miss):
    assert rule(near_miss) == near_miss


def test_every_rule_has_patterns_and_near_misses():
    assert {pattern[0] for pattern in PATTERNS} == set(STABLE_RULES) == set(NEAR_MISSES)


REFERENCE_DIGITS = 500
"""Digits of the mpmath references: more than the 348 that cancel in 1 - 1/(1 + e^{-800}) = e^{-800}/(1 + e^{-800})."""

TOLERANCE = {np.float64: 1e-12, np.float32: 1.2e-5}
"""Relative tolerance against the 100-digit reference: an exponent as large as 800 (float64) or 100
(float32) carries its rounding, |exponent| * eps / 2, into exp: 9e-14 and 6e-6."""

MODERATE = (-4.0, -1.5, -0.25, 0.0, 0.5, 2.0, 5.0)

NUMERIC_CASES = [
    # rules applied, written form, its symbols, points: moderate, extreme in float64, extreme in float32
    ((log_add_exp,), log(1 + exp(z)), (z,), MODERATE, (-800.0, -745.0, 710.0, 800.0), (-100.0, 89.0, 100.0)),
    (
        (log_add_exp,),
        log(exp(a) + exp(b)),
        (a, b),
        ((0.3, -1.2), (2.0, 2.0), (-3.0, 4.0)),
        ((800.0, 799.0), (-800.0, -801.0), (800.0, -800.0)),
        ((100.0, 99.0), (-100.0, -101.0)),
    ),
    ((log_sigmoid,), log(1 / (1 + exp(-z))), (z,), MODERATE, (-800.0, -40.0, 40.0, 800.0), (-100.0, 100.0)),
    ((log_sigmoid,), log(1 - 1 / (1 + exp(-z))), (z,), MODERATE, (-800.0, -40.0, 40.0, 800.0), (-100.0, 100.0)),
    (
        (log_softmax, log_sum_exp_max_shift),
        log(exp(a) / (exp(a) + exp(b) + exp(c))),
        (a, b, c),
        ((0.3, -1.2, 2.0), (1.0, 1.0, 1.0), (-3.0, 4.0, 0.5)),
        ((800.0, 799.0, 0.0), (-800.0, 0.0, 1.0), (800.0, -800.0, 0.0)),
        ((100.0, 99.0, 0.0), (-100.0, 0.0, 1.0)),
    ),
    (
        (log_sum_exp_max_shift,),
        log(exp(a) + exp(b) + exp(c)),
        (a, b, c),
        ((0.3, -1.2, 2.0), (1.0, 1.0, 1.0), (-3.0, 4.0, 0.5)),
        ((800.0, 799.0, 0.0), (-800.0, -801.0, -802.0), (800.0, -800.0, 0.0)),
        ((100.0, 99.0, 0.0), (-100.0, -101.0, -102.0)),
    ),
    ((sigmoid_ratio,), exp(z) / (1 + exp(z)), (z,), MODERATE, (-800.0, -745.0, 710.0, 800.0), (-100.0, 89.0, 100.0)),
    (
        (sigmoid_ratio,),
        x * exp(-z) / (1 + exp(-z)),
        (z, x),
        tuple((v, 1.5) for v in MODERATE),
        ((-800.0, 1.5), (800.0, -2.0)),
        ((-100.0, 1.5), (100.0, -2.0)),
    ),
    ((sigmoid_ratio,), exp(z) / (1 + exp(z)) ** 2, (z,), MODERATE, (-800.0, -400.0, 400.0, 800.0), (-100.0, 100.0)),
    (
        (softmax_max_shift,),
        exp(a) / (exp(a) + exp(b) + exp(c)),
        (a, b, c),
        ((0.3, -1.2, 2.0), (1.0, 1.0, 1.0), (-3.0, 4.0, 0.5)),
        ((800.0, 799.0, 0.0), (-800.0, -801.0, -802.0), (800.0, 800.0, 800.0)),
        ((100.0, 99.0, 0.0), (-100.0, -101.0, -102.0)),
    ),
    (
        (exp_minus_one,),
        exp(z) - 1,
        (z,),
        MODERATE[:3] + MODERATE[4:],
        (1e-10, -1e-10, 1e-15, -800.0),
        (1e-5, -1e-5, -100.0),
    ),
    ((log_one_plus,), log(1 + z), (z,), (-0.5, 0.5, 3.0, 30.0), (1e-10, -1e-10, 1e-15, 800.0), (1e-5, -1e-5, 3e-7)),
]


def numeric_case_id(case) -> str:
    return f"{'+'.join(rule.name for rule in case[0])}: {case[1]}"


def evaluate(expr, symbols, points, dtype):
    """expr at each point, through symgrad's NumPy printer, in ``dtype`` (warnings on overflow are errors)."""
    columns = [np.array([np.atleast_1d(p)[i] for p in points], dtype=dtype) for i in range(len(symbols))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = generated_function(symbols, [expr])(*columns)[0]
    return np.broadcast_to(value, columns[0].shape)


def reference(expr, symbols, points, dtype):
    """expr at each point (rounded to ``dtype`` first), evaluated by mpmath with REFERENCE_DIGITS digits."""
    function = sp.lambdify(symbols, expr, modules="mpmath")
    with mpmath.workdps(REFERENCE_DIGITS):
        values = [function(*(mpmath.mpf(float(dtype(v))) for v in np.atleast_1d(p))) for p in points]
    return np.array([float(v) for v in values])


@pytest.mark.parametrize("case", NUMERIC_CASES, ids=numeric_case_id)
def test_rewritten_form_agrees_with_the_written_form_at_moderate_arguments(case):
    rules, written, symbols, moderate, *_ = case
    stable = evaluate(stabilize(written, rules), symbols, moderate, np.float64)
    naive = evaluate(written, symbols, moderate, np.float64)
    np.testing.assert_allclose(stable, naive, rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", NUMERIC_CASES, ids=numeric_case_id)
def test_rewritten_form_is_finite_and_right_at_extreme_arguments(case, dtype):
    rules, written, symbols, _, extreme64, extreme32 = case
    points = extreme64 if dtype == np.float64 else extreme32
    expected = reference(written, symbols, points, dtype)
    rewritten = stabilize(written, rules)
    assert rewritten != written
    stable = evaluate(rewritten, symbols, points, dtype)
    assert stable.dtype == dtype
    assert np.all(np.isfinite(stable))
    tiny = np.finfo(dtype).tiny  # below it, the reference underflows in dtype too
    np.testing.assert_allclose(stable, expected, rtol=TOLERANCE[dtype], atol=tiny)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        naive = evaluate(written, symbols, points, dtype)
    assert not np.allclose(naive, expected, rtol=TOLERANCE[dtype], atol=tiny), "the points are not extreme"


def class_axis_points(dtype, magnitude):
    """Scores S (3, 4): moderate columns and columns at +-magnitude, one-hot labels T."""
    scores = np.array(
        [[0.3, magnitude, -magnitude, magnitude], [-1.2, magnitude - 1, 0.0, -magnitude], [2.0, 0.0, 1.0, 0.0]],
        dtype=dtype,
    )
    labels = np.eye(3, dtype=dtype)[:, [0, 1, 2, 0]]
    return scores, labels


def mp_log_sum_exp(column):
    return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in column))


@pytest.mark.parametrize("dtype, magnitude", [(np.float64, 800.0), (np.float32, 100.0)])
def test_class_axis_log_sum_exp_and_softmax_are_finite_and_right_at_extreme_scores(dtype, magnitude):
    scores, labels = class_axis_points(dtype, magnitude)
    with mpmath.workdps(REFERENCE_DIGITS):
        log_sum_exp = np.array([float(mp_log_sum_exp(column)) for column in scores.T])
        softmax = np.array(
            [[float(mpmath.exp(mpmath.mpf(float(v)) - mp_log_sum_exp(column))) for v in column] for column in scores.T]
        ).T
        log_softmax_of_label = np.array(
            [
                float(mpmath.mpf(float(column @ label)) - mp_log_sum_exp(column))
                for column, label in zip(scores.T, labels.T, strict=True)
            ]
        )
    cases = [
        ((class_log_sum_exp_max_shift,), log(ClassSum(exp(S))), log_sum_exp),
        ((class_softmax_max_shift,), exp(S) / ClassSum(exp(S)), softmax),
        (
            (log_softmax, class_log_sum_exp_max_shift),
            ClassSum(T * log(exp(S) / ClassSum(exp(S)))),
            log_softmax_of_label,
        ),
    ]
    for rules, written, expected in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            stable = generated_function([S, T], [stabilize(written, rules)])(scores, labels)[0]
        assert stable.dtype == dtype
        np.testing.assert_allclose(np.squeeze(stable), expected, rtol=TOLERANCE[dtype], atol=np.finfo(dtype).tiny)


def softmax_on_class_axis():
    forms = get_loss("softmax").class_axis()
    return [forms["loss"], forms["gradient"]]


def test_class_axis_softmax_loss_and_gradient_stabilize_to_the_max_shifted_forms():
    stabilized = stabilize(softmax_on_class_axis())
    M = ClassMax(S)
    compiled = [M + log(ClassSum(exp(S - M))) - ClassSum(S * T), exp(S - M) / ClassSum(exp(S - M)) - T]
    assert stabilized == compiled
    scores = np.array([[1000.0, -3.0, 0.5], [0.0, -1000.0, 2.0], [-1000.0, 1000.0, -0.5]])
    labels = np.eye(3)[:, [2, 0, 1]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stable_values = generated_function([S, T], stabilized)(scores, labels)
        compiled_values = generated_function([S, T], compiled)(scores, labels)
    for stable_value, compiled_value in zip(stable_values, compiled_values, strict=True):
        np.testing.assert_allclose(stable_value, compiled_value, rtol=1e-15)


def test_forms_already_stable_are_a_fixed_point():
    stable = stabilize(softmax_on_class_axis())
    assert stabilize(stable) == stable
    for expr in (logaddexp(0, z), -logaddexp(0, -z), exp(z - logaddexp(0, z)), expm1(z), log1p(z)):
        assert stabilize(expr) == expr


def test_index_form_sums_are_left_unchanged():
    softmax = get_loss("softmax")
    for expr in (softmax.per_example, softmax.score_gradient):
        assert stabilize(expr) == expr


@given(
    st.lists(
        st.tuples(st.integers(-9, 9), st.integers(0, 4), st.integers(0, 4), st.integers(0, 3)), min_size=1, max_size=6
    )
)
def test_stabilize_leaves_a_polynomial_untouched(terms):
    polynomial = sp.Add(*(k * x**i * y**j * z**m for k, i, j, m in terms))
    assert stabilize(polynomial) == polynomial
    assert stabilize(sp.diff(polynomial, x)) == sp.diff(polynomial, x)


def test_stabilize_leaves_derivations_without_exp_or_log_untouched():
    smooth = [d for d in symgrad.all_derivations() if not d.objective.has(sp.exp, sp.log)]
    assert len(smooth) >= 3
    for derivation in smooth:
        assert stabilize(derivation.objective) == derivation.objective
        assert stabilize(derivation.gradient) == derivation.gradient


def test_stabilize_keeps_the_container_type():
    pair = [log(1 + exp(z)), z**2]
    assert stabilize(pair) == [logaddexp(0, z), z**2]
    assert stabilize(tuple(pair)) == (logaddexp(0, z), z**2)
    assert stabilize(sp.Matrix(pair)) == sp.Matrix([logaddexp(0, z), z**2])
    assert stabilize(sp.ImmutableMatrix(pair)) == sp.ImmutableMatrix([logaddexp(0, z), z**2])


def test_stabilize_composes_rules_to_a_fixed_point():
    # log_softmax, then log_sum_exp_max_shift on what it leaves: lecture-form cross-entropy
    normalizer, maximum = shifted([a, b, c])
    assert stabilize(-log(exp(a) / (exp(a) + exp(b) + exp(c)))) == maximum + log(normalizer) - a
    # sigmoid_ratio, then exp_minus_one: the complement of a sigmoid, accurate on both sides
    assert stabilize(1 - 1 / (1 + exp(-z))) == -expm1(-logaddexp(0, -z))


def test_stabilize_refuses_rules_that_cycle():
    swap = RewriteRule("swap", "a <-> b", lambda expr: expr.xreplace({a: b, b: a}))
    with pytest.raises(RuntimeError, match=f"no fixed point after {MAX_PASSES} passes"):
        stabilize(a + 2 * b, rules=(swap,))


def test_every_rule_is_a_named_documented_value_of_the_module():
    from symgrad.codegen import rewriting

    for rule in STABLE_RULES:
        assert getattr(rewriting, rule.name) is rule
        assert "->" in rule.__doc__.splitlines()[0]


# Printing: every node the rules produce, through symgrad's NumPy and JAX printers.

EVERY_PRODUCED_NODE = stabilize(
    [
        log(1 + exp(z)),
        log(1 / (1 + exp(-z))),
        exp(z) / (1 + exp(z)),
        log(exp(a) + exp(b) + exp(z)),
        exp(a) / (exp(a) + exp(b) + exp(z)),
        exp(z) - 1,
        log(1 + z**2),
    ]
)
PRINTED_FUNCTIONS = ("logaddexp", "expm1", "log1p", "maximum", "exp", "log")


@pytest.mark.parametrize("backend, module", [("numpy", "numpy"), ("jax", "jax.numpy")])
def test_every_produced_node_prints_as_an_array_function(backend, module):
    assert {type(node) for expr in EVERY_PRODUCED_NODE for node in sp.preorder_traversal(expr)} >= {
        logaddexp,
        expm1,
        log1p,
        sp.Max,
    }
    text = module_text([GeneratedFunction("f", (a, b, z), tuple(EVERY_PRODUCED_NODE))], backend)
    for name in PRINTED_FUNCTIONS:
        assert f"{module}.{name}" in text


def produced_node_references(points):
    a_, b_, z_ = (mpmath.mpf(float(v)) for v in points)
    one_plus = mpmath.log(1 + mpmath.exp(z_))
    three = mpmath.log(mpmath.exp(a_) + mpmath.exp(b_) + mpmath.exp(z_))
    return [one_plus, -mpmath.log(1 + mpmath.exp(-z_)), mpmath.exp(z_ - one_plus), three, mpmath.exp(a_ - three)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_printed_numpy_code_keeps_the_dtype_and_is_right_at_extreme_arguments(dtype):
    magnitude = 800.0 if dtype == np.float64 else 100.0
    function = generated_function([a, b, z], EVERY_PRODUCED_NODE[:5])
    for point in [(magnitude, 0.0, -magnitude), (-magnitude, 1.0, magnitude)]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values = function(*(np.array([v], dtype=dtype) for v in point))
        with mpmath.workdps(REFERENCE_DIGITS):
            expected = [float(v) for v in produced_node_references(point)]
        for value, reference_value in zip(values, expected, strict=True):
            assert value.dtype == dtype
            np.testing.assert_allclose(value, reference_value, rtol=TOLERANCE[dtype], atol=np.finfo(dtype).tiny)


def test_printed_jax_code_is_right_at_extreme_arguments_in_float32():
    pytest.importorskip("jax")
    function = generated_function([a, b, z], EVERY_PRODUCED_NODE[:5], backend="jax")
    point = (100.0, 0.0, -100.0)
    values = function(*(np.array([v], dtype=np.float32) for v in point))
    with mpmath.workdps(REFERENCE_DIGITS):
        expected = [float(v) for v in produced_node_references(point)]
    for value, reference_value in zip(values, expected, strict=True):
        assert value.dtype == np.float32
        np.testing.assert_allclose(np.asarray(value), reference_value, rtol=1e-5, atol=np.finfo(np.float32).tiny)


# End to end: the logistic derivation compiled with stabilize.


def logistic_gradient_reference(weights, features):
    """-(1 - sigma(z)) x with z = w.x, by mpmath at REFERENCE_DIGITS digits."""
    with mpmath.workdps(REFERENCE_DIGITS):
        score = mpmath.fsum(mpmath.mpf(float(w)) * mpmath.mpf(float(f)) for w, f in zip(weights, features, strict=True))
        one_minus_sigmoid = 1 / (1 + mpmath.exp(score))
        return np.array([float(-one_minus_sigmoid * mpmath.mpf(float(f))) for f in features])


LOGISTIC_WEIGHTS = [(-800.0, 0.0), (800.0, 0.0), (0.0, 400.0), (-100.0, 0.0), (100.0, 0.0), (0.5, 0.3)]
"""With the default features x = (1, -2): z = -800, 800, -800, -100, 100, -0.1."""


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", LOGISTIC_WEIGHTS)
def test_stabilized_logistic_gradient_is_right_at_z_800(weights, dtype):
    compiled = symgrad.compile_derivation(symgrad.get_derivation("logistic_composition"))
    point = np.array(weights, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradient = compiled.gradient(point)
        value = compiled.value(point)
    assert gradient.dtype == dtype and np.asarray(value).dtype == dtype
    expected = logistic_gradient_reference(point, np.array([1.0, -2.0], dtype=dtype))
    np.testing.assert_allclose(gradient, expected, rtol=TOLERANCE[dtype], atol=np.finfo(dtype).tiny)
    score = float(point @ np.array([1.0, -2.0], dtype=dtype))
    expected_value = max(-score, 0.0) + math.log1p(math.exp(-abs(score)))  # log(1 + e^{-z})
    assert value == pytest.approx(expected_value, rel=TOLERANCE[dtype])


def test_stabilized_logistic_gradient_at_z_800_in_jax():
    pytest.importorskip("jax")
    logistic = symgrad.get_derivation("logistic_composition")
    function = generated_function(logistic.variables + logistic.parameters, stabilize(logistic.gradient), "jax")
    features = np.array([1.0, -2.0], dtype=np.float32)
    for weights in [(-800.0, 0.0), (800.0, 0.0)]:
        point = np.array(weights, dtype=np.float32)
        gradient = np.array([np.asarray(g) for g in function(*point, *features)])
        assert gradient.dtype == np.float32
        np.testing.assert_allclose(gradient, logistic_gradient_reference(point, features), atol=1e-30)


def test_stabilized_user_loss_gradient_is_right_at_a_margin_of_800():
    user = symgrad.derive("log(1 + exp(-y*(w1*u1 + w2*u2)))", "w1, w2")
    compiled = symgrad.compile_derivation(user)
    data = {"u1": 2.0, "u2": 1.0, "y": 1.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for weights, expected in [((-400.0, 0.0), (-2.0, -1.0)), ((400.0, 0.0), (0.0, 0.0))]:
            # margin y w.u = -800: the loss is 800 and its gradient -y u; at +800 both are 0 (to e^-800)
            np.testing.assert_allclose(compiled.gradient(np.array(weights), **data), expected, atol=1e-300)
            assert compiled.value(np.array(weights), **data) == pytest.approx(max(-2 * weights[0], 0.0))
