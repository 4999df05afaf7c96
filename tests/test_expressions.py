"""The user's own objective: safe parsing, derivation, proof, compilation."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symgrad
from symgrad.symbolic.expressions import ExpressionError, derive, parse_expression, split_top_level
from symgrad.codegen.compile import compile_derivation


def test_a_formula_string_becomes_a_derivation_that_proves_and_compiles():
    derivation = derive("w1**2 + 3*w1*w2", wrt="w1,w2", expected="2*w1 + 3*w2, 3*w1")
    w1, w2 = sp.symbols("w1 w2", real=True)
    assert derivation.variables == (w1, w2)
    assert derivation.gradient == (2 * w1 + 3 * w2, 3 * w1)
    assert derivation.verify() is True
    np.testing.assert_allclose(compile_derivation(derivation).gradient(np.array([1.0, 2.0])), [8.0, 3.0])


def test_a_wrong_expected_gradient_is_not_proved():
    assert derive("w^2", wrt="w", expected="3*w").verify() is False


def test_without_expected_gradient_verify_refuses_rather_than_passing():
    derivation = derive("exp(w)", wrt="w")
    with pytest.raises(ValueError, match="nothing to prove"):
        derivation.verify()
    assert derivation.verdict() == "no lecture form given: nothing to prove"


def test_other_names_become_parameters_of_the_compiled_functions():
    derivation = derive("a*w**2 + b", wrt="w")
    assert [p.name for p in derivation.parameters] == ["a", "b"]
    assert compile_derivation(derivation).gradient(3.0, a=2.0, b=0.0) == pytest.approx(12.0)


def test_kinks_parse_to_max_and_heaviside():
    derivation = derive("max(0, w - 1)", wrt="w", expected="Heaviside(w - 1)")
    assert derivation.objective == sp.Max(0, sp.Symbol("w", real=True) - 1)
    assert derivation.verify()
    assert not derivation.is_smooth


def test_a_sympy_expression_is_accepted_and_made_real():
    w = sp.Symbol("w")
    derivation = derive(sp.Abs(w), wrt="w", expected=[sp.sign(w)])
    assert derivation.verify()


def test_caret_means_power():
    assert parse_expression("w^3") == sp.Symbol("w", real=True) ** 3


def test_top_level_split_keeps_function_arguments_together():
    assert split_top_level("max(0, w), 2*v") == ["max(0, w)", " 2*v"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os').system('true')", "unknown function"),
        ("w.__class__", "attribute is not allowed"),
        ("(lambda: 1)()", "unknown function 'lambda: 1'"),
        ("lambda: 1", "lambda is not allowed"),
        ("[w for w in range(3)]", "listcomp is not allowed"),
        ("'w'", "only numbers"),
        ("w1 +", "not a formula"),
        ("open('x')", "unknown function 'open'"),
        ("", "empty"),
        ("w == 1", "compare is not allowed"),
        ("exp(w, base=2)", "keyword arguments"),
    ],
)
def test_malformed_or_unsafe_formulas_get_a_clear_error(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse_expression(text)


@pytest.mark.parametrize(
    "wrt, expected, message",
    [
        ("", None, "wrt: expected variable names"),
        ("w,w", None, "wrt: a variable is named twice"),
        ("exp", None, "wrt: expected variable names"),
        ("w", "1, 2", "expected: 2 components for 1 variables"),
    ],
)
def test_bad_variables_or_expected_forms_are_named(wrt, expected, message):
    with pytest.raises(ValueError, match=message):
        derive("w**2", wrt=wrt, expected=expected)


@given(st.text(max_size=30))
def test_any_text_is_either_a_formula_or_an_expression_error(text):
    try:
        result = parse_expression(text)
    except ExpressionError:
        return
    assert isinstance(result, sp.Basic)


def test_a_user_derivation_can_be_registered(monkeypatch):
    from symgrad.symbolic import registry

    monkeypatch.setattr(registry, "_DERIVATIONS", dict(registry._DERIVATIONS))
    derivation = symgrad.register(derive("w^4", wrt="w", expected="4*w^3", name="quartic_user_test"))
    assert symgrad.get_derivation("quartic_user_test") is derivation
