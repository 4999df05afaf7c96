"""The property suite: every registered derivation's compiled gradient passes the checker, at smooth points
(against centered differences, full and directional, float64 and float32) and at integer points where kinks
sit exactly; smooth derivations also against the complex step."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symgrad.verification.checker import TOLERANCES
from symgrad.verification.derivation_checks import check_derivation
from symgrad.symbolic.registry import all_derivations
from symgrad.verification.hypothesis_strategies import derivation_parameters, derivation_points, floating_dtypes, integer_arrays

DERIVATIONS = all_derivations()
SEEDS = st.integers(0, 2**32 - 1)


def test_the_suite_covers_the_losses_of_issue_3():
    names = {derivation.name for derivation in DERIVATIONS}
    assert {"polynomial", "bowl_2d", "squared_loss", "svm_hinge", "softmax_ce", "logistic_composition", "logistic"} <= names


@pytest.mark.parametrize("derivation", DERIVATIONS, ids=lambda d: d.name)
@given(data=st.data(), dtype=floating_dtypes(), seed=SEEDS)
def test_compiled_gradient_matches_centered_differences_at_smooth_points(derivation, data, dtype, seed):
    x, parameters = data.draw(derivation_points(derivation, dtype, margin=1e-2))
    for mode in ("full", "directional"):
        report = check_derivation(derivation, x, mode, parameters=parameters, seed=seed)
        assert report.ok, report
        assert not report.kink, report
        assert report.gradient_dtype == dtype and report.reference_dtype == np.float64
        assert report.max_rel_error <= TOLERANCES[dtype]


@pytest.mark.parametrize("derivation", DERIVATIONS, ids=lambda d: d.name)
@given(data=st.data(), seed=SEEDS)
def test_compiled_gradient_is_accepted_at_integer_points_where_kinks_are_exact(derivation, data, seed):
    parameters = data.draw(derivation_parameters(derivation))
    x = data.draw(integer_arrays(derivation.shape))
    report = check_derivation(derivation, x, "full", parameters=parameters, seed=seed)
    assert report.ok, report


@pytest.mark.parametrize("derivation", [d for d in DERIVATIONS if d.is_smooth], ids=lambda d: d.name)
@given(data=st.data(), seed=SEEDS)
def test_complex_step_reference_agrees_to_rounding_on_smooth_derivations(derivation, data, seed):
    x, parameters = data.draw(derivation_points(derivation, np.float64))
    report = check_derivation(derivation, x, "full", parameters=parameters, reference="complex_step", seed=seed)
    assert report.ok, report


def test_no_smooth_point_is_drawn_where_the_gradient_underflows_in_float32():
    from symgrad.codegen.compile import compile_derivation
    from symgrad.symbolic.registry import get_derivation
    from symgrad.runtime.compiled_derivation import underflows

    derivation = get_derivation("directional_derivative")
    # a draw Hypothesis once made: u1 = 1.4e-45 makes d/dt f = 5 x2 u1 = 3.5e-45, 0 or subnormal in float32
    parameters = {"x1": 0.0, "x2": 0.5, "x3": 0.0, "u1": 1.401298464324817e-45, "u2": 0.0, "u3": 0.0}
    gradient = compile_derivation(derivation).gradient(np.float64(0.0), **parameters)
    assert underflows(gradient, np.float32) and not underflows(gradient, np.float64)
    assert underflows([0.0, 1e-39], np.float32) and not underflows([0.0, 1.2e-38, -3.0], np.float32)

    @given(data=st.data())
    def drawn(data):
        for each in DERIVATIONS:
            x, values = data.draw(derivation_points(each, np.float32))
            compiled = compile_derivation(each)
            with np.errstate(all="ignore"):
                exact = np.append(compiled.value(x.astype(np.float64), **values),
                                  compiled.gradient(x.astype(np.float64), **values))
            assert not underflows(exact, np.float32)

    drawn()
