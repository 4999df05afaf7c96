"""The derivation core: registry, symbolic proofs, rendering."""

import pytest
import sympy as sp

import symgrad
from symgrad.symbolic.derivation import Derivation, is_identically_zero


@pytest.mark.parametrize("derivation", symgrad.all_derivations(), ids=lambda d: d.name)
def test_every_registered_derivation_is_proved_equal_to_its_lecture_form(derivation):
    assert derivation.verify() is True


def test_lecture_first_examples_are_registered_with_their_gradients():
    x1, x2, x3 = sp.symbols("x1 x2 x3", real=True)
    polynomial = symgrad.get_derivation("polynomial")
    assert polynomial.variables == (x1, x2, x3)
    assert polynomial.objective == x1**3 + 5 * x1 * x2 - 3 * x2 * x3**2
    assert polynomial.gradient == (3 * x1**2 + 5 * x2, 5 * x1 - 3 * x3**2, -6 * x2 * x3)
    w = sp.Symbol("w", real=True)
    assert symgrad.get_derivation("bowl_1d").gradient == (2 * w,)
    w1, w2 = sp.symbols("w1 w2", real=True)
    assert symgrad.get_derivation("bowl_2d").gradient == (2 * w1, 2 * w2)


@pytest.mark.parametrize(
    "wrong_form",
    [
        lambda x1, x2, x3: (3 * x1**2 - 5 * x2, 5 * x1 - 3 * x3**2, -6 * x2 * x3),  # sign flip
        lambda x1, x2, x3: (3 * x1**2 + 5 * x2, 5 * x1 - 3 * x3**2, -3 * x2 * x3),  # missing factor 2
        lambda x1, x2, x3: (5 * x1 - 3 * x3**2, 3 * x1**2 + 5 * x2, -6 * x2 * x3),  # components swapped
    ],
)
def test_a_wrong_lecture_form_is_not_proved(wrong_form):
    polynomial = symgrad.get_derivation("polynomial")
    wrong = Derivation(
        name="wrong_polynomial",
        title=polynomial.title,
        objective=polynomial.objective,
        variables=polynomial.variables,
        lecture_gradient=wrong_form(*polynomial.variables),
    )
    assert wrong.verify() is False


def test_the_directional_derivative_at_t_zero_is_u_dot_the_gradient():
    derivation = symgrad.get_derivation("directional_derivative")
    t = derivation.variables[0]
    x1, x2, x3, u1, u2, u3 = derivation.parameters
    at_zero = derivation.gradient[0].subs(t, 0)
    u_dot_grad = u1 * (3 * x1**2 + 5 * x2) + u2 * (5 * x1 - 3 * x3**2) + u3 * (-6 * x2 * x3)
    assert sp.expand(at_zero - u_dot_grad) == 0


def test_kink_value_pins_heaviside_in_the_derived_gradient():
    z = sp.Symbol("z", real=True)
    hinge = Derivation("hinge_demo", "max(0, z)", sp.Max(0, z), (z,), (sp.Heaviside(z, 0),), kink_value=0)
    assert hinge.gradient == (sp.Heaviside(z, 0),)
    assert hinge.verify()
    assert not hinge.is_smooth
    assert Derivation("hinge_half", "max(0, z)", sp.Max(0, z), (z,), (sp.Heaviside(z, 0),)).verify() is False


def test_is_identically_zero_needs_simplification_not_just_expansion():
    x = sp.Symbol("x", real=True)
    assert is_identically_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1)
    assert not is_identically_zero(sp.sin(x) ** 2 - sp.cos(x) ** 2)


def test_pretty_and_latex_show_objective_gradient_and_verdict():
    polynomial = symgrad.get_derivation("polynomial")
    pretty = polynomial.pretty()
    assert "proved: derived gradient == lecture form" in pretty
    assert "x₁" in pretty
    latex = polynomial.latex()
    assert "x_{1}^{3}" in latex and latex.count("$$") >= 8


def test_unknown_derivation_name_is_a_clear_error():
    with pytest.raises(ValueError, match=r"name: no derivation called 'polynom'.*polynomial"):
        symgrad.get_derivation("polynom")


def test_a_name_registers_once():
    with pytest.raises(ValueError, match="already registered"):
        symgrad.register(symgrad.get_derivation("bowl_1d"))


def test_variables_must_be_real_symbols():
    w = sp.Symbol("w")
    with pytest.raises(TypeError, match="real=True"):
        Derivation("complex_w", "w^2", w**2, (w,), (2 * w,))


def test_lecture_gradient_needs_one_component_per_variable():
    w1, w2 = sp.symbols("w1 w2", real=True)
    with pytest.raises(ValueError, match="2 variables"):
        Derivation("short", "w1^2 + w2^2", w1**2 + w2**2, (w1, w2), (2 * w1,))
