"""The checker's handling of what users hand it: non-finite values, CS231n's habits, the mode that fits the size,
a report that keeps the worst probes and counts, resolution that says when a check could not tell."""

import numpy as np
import pytest

from symgrad.cli import main as symgrad_command
from symgrad.verification.checker import KEPT_PROBES, check_gradient, random_direction
from symgrad.verification.numerical import relative_error
from symgrad.verification.taylor import check_taylor_remainder


def sum_of_squares(v):
    return float(np.sum(v * v))


def twice(v):
    return 2 * v


# ------------------------------------------------------------------------------------------- not finite


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_claimed_gradient_fails_and_names_the_entry(bad):
    x = np.ones((2, 3))
    claim = 2 * x
    claim[1, 2] = bad
    report = check_gradient(sum_of_squares, claim, x)
    assert not report.ok and not report.inconclusive
    assert "grad[1, 2]" in report.reason and "not finite" in report.reason


def test_f_not_finite_at_a_probe_point_fails_and_names_the_point():
    def f(v):
        return float(np.sum(v * v)) if v[1] <= 1.0 else np.nan

    report = check_gradient(f, twice, np.array([0.5, 1.0, -0.25]), "full", seed=0)
    assert not report.ok and not report.inconclusive
    assert "not finite" in report.reason and "nan" in report.reason


def test_f_not_finite_at_x_fails():
    report = check_gradient(lambda v: np.inf, twice, np.ones(3))
    assert not report.ok and "f(x) = inf" in report.reason


def test_relative_error_propagates_nan_and_never_reads_a_non_finite_gradient_as_a_match():
    assert np.isnan(relative_error([np.nan], [1.0]))
    assert np.isnan(relative_error([1.0, np.inf], [1.0, 1.0]))
    assert np.isnan(relative_error([np.nan, np.nan], [np.nan, np.nan]))
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0


@pytest.mark.parametrize("direction, message", [
    (np.zeros(3), "direction: is zero"),
    (np.array([1.0, np.nan, 0.0]), "direction: must be finite"),
    (np.array([1e-320, 0.0, 0.0]), "direction: its largest entry .* underflows"),
])
def test_the_taylor_test_refuses_a_direction_it_cannot_move_along(direction, message):
    with pytest.raises(ValueError, match=message):
        check_taylor_remainder(sum_of_squares, twice, np.ones(3), direction=direction)


def test_the_taylor_test_fails_a_wrong_gradient_along_a_tiny_direction_and_a_non_finite_gradient():
    x = np.array([0.3, -1.2, 2.0])
    tiny = 1e-30 * np.array([1.0, 2.0, -1.0])
    assert not check_taylor_remainder(sum_of_squares, lambda v: 2 * v + 0.5, x, direction=tiny).ok
    report = check_taylor_remainder(sum_of_squares, np.array([np.nan, 0.0, 0.0]), x, seed=0)
    assert not report.ok and "not finite" in str(report)


# ------------------------------------------------------------------------------------------ CS231n habits


def test_f_returning_a_loss_and_gradient_pair_gets_a_message_showing_the_fix():
    def loss_and_grad(W):
        return float(np.sum(W * W)), 2 * W

    with pytest.raises(TypeError, match=r"\(loss, gradient\) pair.*lambda W: loss_and_grad\(W\)\[0\]"):
        check_gradient(loss_and_grad, twice, np.ones(3))


def test_cs231n_order_with_a_gradient_function_is_read_as_such():
    x = np.array([0.3, -1.7, 2.2])
    report = check_gradient(sum_of_squares, x, twice)
    assert report.ok and "CS231n's order" in report.mode_reason


def test_cs231n_order_with_two_arrays_is_refused_with_the_right_order():
    x = np.random.default_rng(0).standard_normal(5)
    with pytest.raises(ValueError, match=r"check_gradient\(f, grad, x\)"):
        check_gradient(sum_of_squares, x, 2 * x)


def test_a_wrong_gradient_in_the_right_order_is_reported_not_refused():
    x = np.random.default_rng(1).standard_normal(5)
    report = check_gradient(sum_of_squares, 2.5 * x, x)
    assert not report.ok and not report.inconclusive


# -------------------------------------------------------------------------------- modes, reports, scale


def test_the_default_mode_is_full_below_the_evaluation_budget_and_directional_plus_sparse_above():
    small, large = np.linspace(-1, 1, 50), np.linspace(-1, 1, 5000)
    assert check_gradient(sum_of_squares, twice, small, seed=0).mode == "full"
    report = check_gradient(sum_of_squares, twice, large, seed=0)
    assert report.mode == "directional+sparse" and "max_evaluations=10000" in report.mode_reason
    assert report.ok and report.evaluations < 200
    assert check_gradient(sum_of_squares, twice, large, seed=0, max_evaluations=20_000).mode == "full"


def test_the_report_keeps_the_worst_probes_and_counts_every_probe():
    x = np.linspace(-1, 1, 300)
    claim = 2 * x
    claim[[7, 200]] += 1e-3
    report = check_gradient(sum_of_squares, claim, x, "full", seed=0)
    assert not report.ok
    assert len(report.probes) <= KEPT_PROBES and report.counts.checked == 300
    assert report.counts.failed == 2 and report.counts.passed == 298
    assert {probe.index for probe in report.probes if probe.verdict == "FAILED"} == {(7,), (200,)}
    assert all(not isinstance(value, np.ndarray) for probe in report.probes for value in vars(probe).values())


def test_random_directions_are_named_by_number_and_regenerated_from_the_seed():
    x = np.linspace(-1, 1, 40)
    report = check_gradient(sum_of_squares, twice, x, "directional", samples=3, seed=11)
    for probe in report.probes:
        if "random" in probe.label:
            direction = random_direction(x.shape, 11, probe.index)
            assert probe.analytic == pytest.approx(2 * x @ direction)
            np.testing.assert_array_equal(direction, random_direction(x.shape, 11, probe.index))


def test_full_mode_evaluates_f_in_place_on_one_working_copy():
    seen = set()

    def f(v):
        seen.add(id(v))
        return float(np.sum(v * v))

    x = np.linspace(-1, 1, 200)
    assert check_gradient(f, twice, x, "full", seed=0).ok
    assert len(seen) <= 3  # the working copy, and one scratch array for the lines that measure noise


def test_f_that_modifies_its_argument_is_refused():
    def f(v):
        v[0] += 1.0
        return float(np.sum(v * v))

    with pytest.raises(ValueError, match="f: modified its argument"):
        check_gradient(f, twice, np.ones(4), "full")


@pytest.mark.parametrize("progress", [True, False, None])
def test_progress_is_optional_and_silent_off_a_terminal(progress, capsys):
    assert check_gradient(sum_of_squares, twice, np.linspace(-1, 1, 30), progress=progress).ok
    assert capsys.readouterr().out == ""


# ------------------------------------------------------------------------------------ honest resolution


def float32_inside(v):
    """sum of squares computed in float32, returned as a float64 off float32's grid (so nothing but its noise
    shows that f computes in float32)."""
    return float(np.sum(np.square(np.asarray(v, dtype=np.float32)), dtype=np.float32)) * (1 + 2**-30)


def test_a_float32_f_cannot_confirm_a_float64_tolerance_and_says_so():
    x = np.random.default_rng(2).uniform(0.5, 2.0, 8)
    report = check_gradient(float32_inside, lambda v: 2 * v * (1 + 2**-30), x, "full", seed=0)
    assert not report.ok and report.inconclusive
    assert report.resolution > report.tolerance == 1e-7 and "resolution" in report.reason


def test_a_float32_f_step_fits_float32_not_the_float64_of_x():
    x = np.random.default_rng(3).uniform(0.5, 2.0, 6)
    report = check_gradient(float32_inside, lambda v: 2 * v * (1 + 2**-30), x, "full", seed=0, tolerance=1e-4)
    assert report.ok, report
    assert all(probe.step > 1e-4 for probe in report.probes)  # a float64-sized step would be ~1e-5


def test_a_curvature_jump_is_named_and_the_exact_gradient_passes():
    report = check_gradient(lambda v: float(np.sum(np.maximum(0.0, 1 - v) ** 2)),
                            lambda v: -2 * np.maximum(0.0, 1 - v), np.array([1.0, 0.5, 1.0]), "full", seed=0)
    assert report.ok and report.counts.curvature_jumps == 2


def test_symgrad_check_passes_its_own_exact_gradient_of_a_squared_hinge(capsys):
    assert symgrad_command(["check", "--expr", "max(0, 1 - w)**2", "--wrt", "w"]) == 0
    assert "all checks passed" in capsys.readouterr().out
