"""check_gradient, assert_gradient, the Taylor test and the complex step: verdicts, reports, input validation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symgrad.verification.checker import (
    TOLERANCES,
    assert_gradient,
    check_gradient,
    default_step,
    random_direction,
)
from symgrad.verification.derivation_checks import check_derivation
from symgrad.verification.numerical import complex_step_gradient
from symgrad.symbolic.registry import get_derivation
from symgrad.verification.hypothesis_strategies import finite_arrays
from symgrad.verification.taylor import check_taylor_remainder


def relu_sum(x):
    return float(np.maximum(x, 0).sum())


def cubic(x):
    return float(np.sum(x**3) + x[0] * x[-1])


def cubic_gradient(x):
    gradient = 3 * x**2
    gradient[0] += x[-1]
    gradient[-1] += x[0]
    return gradient


def test_the_tolerance_table_follows_the_lecture_in_float64_and_is_looser_for_shorter_floats():
    assert TOLERANCES[np.dtype(np.float64)] == 1e-7
    assert TOLERANCES[np.dtype(np.float64)] < TOLERANCES[np.dtype(np.float32)] < TOLERANCES[np.dtype(np.float16)]


def test_default_step_is_a_power_of_two_near_the_cube_root_of_eps_times_the_scale():
    for dtype in (np.float64, np.float32):
        for scale in (0.0, 1.0, -3.0, 1e3):
            step = default_step(scale, dtype)
            ideal = np.finfo(dtype).eps ** (1 / 3) * max(1.0, abs(scale))
            assert np.log2(step) == int(np.log2(step))
            assert ideal / np.sqrt(2) <= step <= ideal * np.sqrt(2)


@pytest.mark.parametrize("mode", ["full", "sparse", "directional"])
@given(x=finite_arrays(4), seed=st.integers(0, 2**32 - 1))
def test_a_right_gradient_passes_in_every_mode(mode, x, seed):
    report = check_gradient(cubic, cubic_gradient, x, mode, samples=3, seed=seed)
    assert report.ok, report
    assert report.max_rel_error <= 1e-7


@pytest.mark.parametrize("mode", ["full", "sparse", "directional"])
def test_a_wrong_gradient_fails_in_every_mode(mode):
    x = np.array([0.5, -1.5, 2.0, 1.0])
    report = check_gradient(cubic, lambda v: cubic_gradient(v) * np.array([1, 1, 1, 1.01]), x, mode, samples=4,
                            seed=3)
    assert not report.ok
    assert report.max_rel_error > 1e-3


def test_sparse_mode_probes_the_requested_number_of_distinct_coordinates():
    report = check_gradient(cubic, cubic_gradient, np.linspace(-1, 1, 12), "sparse", samples=5, seed=0)
    indices = [probe.index for probe in report.probes]
    assert len(indices) == len(set(indices)) == 5
    assert report.mode == "sparse"


def test_directional_mode_uses_signed_directions_and_a_constant_number_of_probes():
    x = np.linspace(-1, 1, 50)
    report = check_gradient(cubic, cubic_gradient, x, "directional", samples=4, seed=0)
    assert report.counts.checked == 5 and report.mode == "directional"
    random_numbers = [probe.index for probe in report.probes if "random" in probe.label]
    assert random_numbers
    for number in random_numbers:
        direction = random_direction(x.shape, report.seed, number)
        assert (direction < 0).any() and (direction > 0).any()
        assert report.probes[[p.index for p in report.probes].index(number)].analytic == pytest.approx(
            cubic_gradient(x) @ direction)


def test_directional_mode_catches_a_sign_flip_that_nonnegative_directions_could_not():
    # g and -g have opposite signs on the two coordinates: u^T g = 0 for u = (1, 1), the torch fast-mode trap.
    f = lambda v: float(v[0] ** 2 - v[1] ** 2)  # noqa: E731
    x = np.array([1.0, 1.0])
    report = check_gradient(f, lambda v: -np.array([2 * v[0], -2 * v[1]]), x, "directional", seed=0)
    assert not report.ok and report.max_rel_error == pytest.approx(2.0)


@pytest.mark.parametrize("kink_value", [0.0, 0.5, 1.0])
def test_relu_at_its_kink_passes_for_every_valid_kink_value_and_reports_the_kink(kink_value):
    for mode in ("full", "directional"):
        report = check_gradient(relu_sum, lambda v: np.heaviside(v, kink_value), np.zeros(3), mode, seed=0)
        assert report.ok and report.kink, report


def test_at_a_kink_the_bracket_is_the_one_sided_derivatives_and_centered_is_one_half():
    report = check_gradient(relu_sum, lambda v: np.heaviside(v, 2.0), np.zeros(1), seed=0)
    coordinate = report.probes[0]
    assert coordinate.kink
    assert (coordinate.lower, coordinate.upper) == pytest.approx((0.0, 1.0), abs=1e-9)
    assert coordinate.numerical == pytest.approx(0.5, abs=1e-9)
    assert not report.ok and "allowed" in str(report)


def test_a_kink_just_beside_x_is_not_a_kink_at_x_and_the_smaller_step_decides():
    # max(0, x) at x = 1e-6: the first step (~4e-6) straddles the kink, the next ones do not.
    report = check_gradient(relu_sum, lambda v: np.heaviside(v, 0.0), np.array([1e-6]), seed=0)
    assert report.ok and not report.kink, report
    assert report.step < 1e-6


def test_a_float32_gradient_is_checked_against_a_float64_reference_with_the_float32_tolerance():
    x = np.array([0.3, -1.2, 0.7], dtype=np.float32)
    report = check_gradient(cubic, cubic_gradient, x)
    assert report.ok
    assert report.gradient_dtype == np.float32 and report.reference_dtype == np.float64
    assert report.tolerance == TOLERANCES[np.dtype(np.float32)]
    assert not check_gradient(cubic, lambda v: cubic_gradient(v) * np.float32(1.001), x).ok


def test_assert_gradient_returns_the_report_or_raises_it():
    x = np.array([0.5, 2.0])
    assert assert_gradient(cubic, cubic_gradient, x).ok
    with pytest.raises(AssertionError, match=r"FAILED: x\[0\]: the claim 5.5 is outside"):
        assert_gradient(cubic, lambda v: 2 * cubic_gradient(v), x, seed=0)


def test_a_gradient_given_as_an_array_is_accepted():
    x = np.array([0.5, 2.0])
    assert check_gradient(cubic, cubic_gradient(x), x).ok


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ((cubic, cubic_gradient, np.ones(3), "everything"), ValueError, "mode"),
        ((cubic, lambda v: np.ones((3, 1)), np.ones(3)), ValueError, "grad"),
        ((cubic, cubic_gradient, np.array([1.0, np.nan])), ValueError, "x: must be finite"),
        ((cubic, cubic_gradient, np.zeros(0)), ValueError, "x: empty"),
        ((cubic, "gradient", np.ones(3)), TypeError, "grad"),
        ((42, cubic_gradient, np.ones(3)), TypeError, "f"),
        ((cubic, cubic_gradient, np.array(["a", "b"])), TypeError, "x"),
    ],
)
def test_bad_inputs_raise_errors_that_name_the_argument(arguments, error, message):
    with pytest.raises(error, match=message):
        check_gradient(*arguments)


@pytest.mark.parametrize(
    "options, message",
    [({"samples": 0}, "samples"), ({"tolerance": -1.0}, "tolerance"), ({"step": 0.0}, "step"),
     ({"reference": "backward"}, "reference")],
)
def test_bad_options_raise_value_errors_that_name_the_option(options, message):
    with pytest.raises(ValueError, match=message):
        check_gradient(cubic, cubic_gradient, np.ones(3), "sparse", **options)


def test_taylor_slope_is_two_for_the_right_gradient_and_one_for_a_wrong_one():
    x = np.array([0.4, -0.8, 1.1])
    right = check_taylor_remainder(cubic, cubic_gradient, x, seed=1)
    wrong = check_taylor_remainder(cubic, lambda v: cubic_gradient(v) + 1e-3, x, seed=1)
    assert right.ok and right.slope == pytest.approx(2.0, abs=0.1)
    assert not wrong.ok and wrong.slope == pytest.approx(1.0, abs=0.1)
    assert f"t^{wrong.slope:.2f}" in str(wrong) and "FAILED" in str(wrong)


def test_taylor_remainder_of_a_linear_function_is_at_rounding_level():
    report = check_taylor_remainder(lambda v: float(3 * v[0] - v[1]), np.array([3.0, -1.0]), np.array([1.0, 2.0]))
    assert report.ok and np.isnan(report.slope)


def test_complex_step_is_exact_to_rounding_on_a_smooth_function():
    x = np.array([0.3, -1.7, 2.2])
    f = lambda v: np.sum(v**3) + v[0] * v[-1]  # noqa: E731
    np.testing.assert_allclose(complex_step_gradient(f, x, analytic=True), cubic_gradient(x), rtol=1e-15)


def test_complex_step_is_refused_unless_f_is_declared_analytic():
    with pytest.raises(ValueError, match="analytic"):
        complex_step_gradient(lambda v: np.sum(np.abs(v)), np.ones(2))
    with pytest.raises(ValueError, match="analytic"):
        check_gradient(cubic, cubic_gradient, np.ones(2), reference="complex_step")


def test_complex_step_silently_zeroes_the_derivative_of_abs_which_is_why_it_is_refused():
    assert complex_step_gradient(lambda v: np.sum(np.abs(v)), np.array([2.0]), analytic=True)[0] == 0.0


def test_complex_step_is_refused_for_a_derivation_with_kinks_naming_them():
    with pytest.raises(ValueError, match=r"svm_hinge.*Heaviside|svm_hinge.*Max"):
        check_derivation(get_derivation("svm_hinge"), np.ones((3, 2)), reference="complex_step")
    with pytest.raises(ValueError, match="Abs"):
        check_derivation(get_derivation("l1_regularizer"), np.ones((2, 2)), reference="complex_step")


def test_complex_step_reference_checks_a_smooth_derivation():
    report = check_derivation(get_derivation("polynomial"), np.array([0.5, -1.0, 2.0]), reference="complex_step")
    assert report.ok and report.reference == "complex_step" and report.max_rel_error < 1e-14


def test_check_derivation_rejects_a_point_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"x: polynomial takes a point of shape \(3,\)"):
        check_derivation(get_derivation("polynomial"), np.ones(2))
