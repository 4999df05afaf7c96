"""The lecture's loss-surface experiments: step sizes, 1-D and 2-D slices, the piecewise-linear hinge, figures."""

import sys

import numpy as np
import pytest

from symgrad.training.datasets import load_digits_dataset
from symgrad.training.landscape import (
    hinge_demo,
    loss_along,
    loss_slice_1d,
    loss_slice_2d,
    random_directions,
    step_size_sweep,
)
from symgrad import softmax_loss_and_grad, svm_loss_and_grad
from symgrad.training.plotting import plot_hinge_demo, plot_loss_curves, plot_slice_1d, plot_slice_2d, plot_step_sizes
from symgrad.training.strategies import full_batch_gradient_descent, random_search

DIGITS_STEP_SIZES = 10.0 ** np.arange(-10, 3)  # the lecture's 1e-10 ... 1e-1, on to 1e2: digits are in [0, 1]


@pytest.fixture(scope="module")
def digits():
    return load_digits_dataset(rng=0)


@pytest.fixture(scope="module")
def point(digits):
    """A random W (C, D) and two random directions (C, D)."""
    rng = np.random.default_rng(11)
    W = 1e-3 * rng.standard_normal((digits.num_classes, digits.num_features))
    W1, W2 = random_directions(W.shape, 2, rng)
    return W, W1, W2


def test_step_size_sweep_drops_then_blows_up(digits, point):
    sweep = step_size_sweep(svm_loss_and_grad, point[0], digits.X_train, digits.y_train, DIGITS_STEP_SIZES)
    best = int(np.argmin(sweep.losses))
    assert 0 < best < len(DIGITS_STEP_SIZES) - 1
    assert np.all(np.diff(sweep.losses[: best + 1]) <= 1e-12)  # bigger steps help, up to the best one ...
    assert np.all(np.diff(sweep.losses[best:]) > 0)  # ... then hurt
    assert sweep.losses[best] < sweep.loss / 2 and sweep.losses[-1] > sweep.loss  # the blow-up passes L(W)
    assert abs(sweep.losses[0] - sweep.loss) < 1e-8  # a step of 1e-10 changes almost nothing


def test_small_steps_lower_the_loss_at_the_rate_of_the_squared_gradient_norm(digits, point):
    sweep = step_size_sweep(svm_loss_and_grad, point[0], digits.X_train, digits.y_train, [1e-6], reg=0.1)
    slope = (sweep.losses[0] - sweep.loss) / 1e-6
    assert slope == pytest.approx(-(sweep.gradient_norm**2), rel=1e-4)


def test_1d_slice_equals_the_loss_at_each_point(digits, point):
    W, W1, _ = point
    alphas = np.array([-0.7, -0.1, 0.0, 0.25, 0.9])
    X, y = digits.X_dev, digits.y_dev
    for loss in (svm_loss_and_grad, softmax_loss_and_grad):
        losses = loss_slice_1d(loss, W, W1, alphas, X, y, reg=0.05)
        direct = [loss(W + a * W1, X, y, reg=0.05)[0] for a in alphas]
        assert losses.shape == (5,)
        np.testing.assert_allclose(losses, direct, rtol=1e-10)


def test_2d_slice_has_b_along_rows_and_equals_the_loss_at_each_point(digits, point):
    W, W1, W2 = point
    alphas, betas = np.linspace(-1, 1, 4), np.linspace(-0.5, 0.5, 3)
    grid = loss_slice_2d(svm_loss_and_grad, W, W1, W2, alphas, betas, digits.X_dev, digits.y_dev, reg=0.01)
    assert grid.shape == (3, 4)
    for i, b in enumerate(betas):
        for j, a in enumerate(alphas):
            expected = svm_loss_and_grad(W + a * W1 + b * W2, digits.X_dev, digits.y_dev, reg=0.01)[0]
            assert grid[i, j] == pytest.approx(expected, rel=1e-10)


def second_differences(values):
    return values[2:] - 2 * values[1:-1] + values[:-2]


def test_svm_slice_is_piecewise_linear_and_softmax_slice_is_curved(digits, point):
    W, W1, _ = point
    alphas = np.linspace(-1, 1, 801)
    X, y = digits.X_train[:10], digits.y_train[:10]
    svm_bends = np.abs(second_differences(loss_slice_1d(svm_loss_and_grad, W, W1, alphas, X, y))) > 1e-10
    softmax_bends = np.abs(second_differences(loss_slice_1d(softmax_loss_and_grad, W, W1, alphas, X, y))) > 1e-10
    # 10 examples x 9 margins: at most 90 kinks, each bending at most two second differences
    assert 0 < svm_bends.sum() <= 180 and svm_bends.mean() < 0.25
    assert softmax_bends.mean() > 0.9


def test_hinge_demo_total_is_the_mean_and_convex(digits):
    rng = np.random.default_rng(2)
    examples = [int(np.flatnonzero(digits.y_train == c)[0]) for c in range(3)]
    W, W1 = 1e-3 * rng.standard_normal((3, 65)), rng.standard_normal((3, 65))
    demo = hinge_demo(svm_loss_and_grad, W, W1, digits.X_train[examples], digits.y_train[examples], np.linspace(-2, 2, 401))
    assert demo.example_losses.shape == (3, 401) and demo.total.shape == (401,)
    np.testing.assert_allclose(demo.total, demo.example_losses.mean(axis=0), rtol=1e-12)
    assert np.all(second_differences(demo.total) >= -1e-12)  # a sum of convex hinges is convex
    for losses in demo.example_losses:
        assert 0 < (np.abs(second_differences(losses)) > 1e-10).sum() <= 2 * 2  # two margins, so two kinks at most
    with pytest.raises(ValueError, match="^X"):
        hinge_demo(svm_loss_and_grad, W, W1, digits.X_train[:4], digits.y_train[:4], [0.0])


def test_bad_slice_inputs_name_the_argument(digits, point):
    W, W1, _ = point
    with pytest.raises(ValueError, match="^directions"):
        loss_along(svm_loss_and_grad, W, W1, [[0.0]], digits.X_dev, digits.y_dev)
    with pytest.raises(ValueError, match="^coefficients"):
        loss_along(svm_loss_and_grad, W, W1[None], [[0.0, 1.0]], digits.X_dev, digits.y_dev)
    with pytest.raises(ValueError, match="^alphas"):
        loss_slice_1d(svm_loss_and_grad, W, W1, [[0.0]], digits.X_dev, digits.y_dev)
    with pytest.raises(ValueError, match="^step_sizes"):
        step_size_sweep(svm_loss_and_grad, W, digits.X_dev, digits.y_dev, [1e-3, -1.0])
    with pytest.raises(ValueError, match="^reg"):
        loss_slice_1d(svm_loss_and_grad, W, W1, [0.0], digits.X_dev, digits.y_dev, reg=-1.0)
    with pytest.raises(ValueError, match="^X"):
        loss_slice_1d(svm_loss_and_grad, W, W1, [0.0], digits.X_dev[:, :10], digits.y_dev)


def assert_png_with_content(path):
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    assert pixels.shape[0] > 200 and pixels[..., :3].std() > 0.05  # not a blank canvas


def test_figures_are_written_as_png_files(digits, point, tmp_path):
    W, W1, W2 = point
    X, y = digits.X_dev, digits.y_dev
    alphas = np.linspace(-1, 1, 21)
    examples = [int(np.flatnonzero(y == c)[0]) for c in range(3)]
    demo = hinge_demo(svm_loss_and_grad, W[:3], W1[:3], X[examples], y[examples], alphas)
    histories = [
        random_search(svm_loss_and_grad, X, y, candidates=20, rng=0),
        full_batch_gradient_descent(svm_loss_and_grad, X, y, learning_rate=0.5, steps=20, rng=0),
    ]
    slice_1d = loss_slice_1d(svm_loss_and_grad, W, W1, alphas, X[:10], y[:10])
    slice_2d = loss_slice_2d(svm_loss_and_grad, W, W1, W2, alphas, alphas, X, y)
    written = [
        plot_slice_1d(tmp_path / "slice_1d.png", alphas, {"10 examples": slice_1d}, loss="SVM", data="digits"),
        plot_slice_2d(tmp_path / "nested" / "slice_2d.png", alphas, alphas, {"all": slice_2d}, loss="SVM", data="digits"),
        plot_hinge_demo(tmp_path / "hinge.png", demo, data="digits"),
        plot_step_sizes(tmp_path / "steps.png", step_size_sweep(svm_loss_and_grad, W, X, y, DIGITS_STEP_SIZES),
                        loss="SVM", data="digits"),
        plot_loss_curves(tmp_path / "curves.png", histories, loss="SVM", data="digits"),
    ]
    for path in written:
        assert path.parent.parent == tmp_path or path.parent == tmp_path
        assert_png_with_content(path)


def test_plotting_without_matplotlib_says_which_extra_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"symgrad\[plot\]"):
        plot_slice_1d(tmp_path / "x.png", [0.0, 1.0], {"line": np.array([0.0, 1.0])}, loss="SVM", data="none")


@pytest.mark.parametrize(
    "alphas, betas, error, message",
    [
        ([0.0, 1.0], "abc", TypeError, "^betas: expected a real array"),
        ("abc", [0.0, 1.0], TypeError, "^alphas: expected a real array"),
        ([0.0, np.nan], [0.0, 1.0], ValueError, r"^alphas: must be finite, found nan at index \(1,\)"),
        ([0.0, 1.0], [np.inf], ValueError, "^betas: must be finite"),
        ([], [0.0], ValueError, "^alphas: expected a non-empty 1-D array"),
        ([0.0, 1.0], [[0.0]], ValueError, "^betas: expected a non-empty 1-D array"),
        ([0.0, 1.0j], [0.0], TypeError, "^alphas: expected a real array"),
    ],
)
def test_bad_slice_coordinates_are_named(digits, point, alphas, betas, error, message):
    W, W1, W2 = point
    with pytest.raises(error, match=message):
        loss_slice_2d(svm_loss_and_grad, W, W1, W2, alphas, betas, digits.X_dev, digits.y_dev)


def test_bad_centres_and_directions_are_named(digits, point):
    W, W1, W2 = point
    X, y = digits.X_dev, digits.y_dev
    with pytest.raises(ValueError, match=r"^W: must be finite"):
        loss_slice_1d(svm_loss_and_grad, np.where(W > 0, np.inf, W), W1, [0.0], X, y)
    with pytest.raises(ValueError, match=r"^W1: expected a direction shaped like W"):
        loss_slice_1d(svm_loss_and_grad, W, W1[:, :5], [0.0], X, y)
    with pytest.raises(ValueError, match=r"^W2: expected a direction shaped like W"):
        loss_slice_2d(svm_loss_and_grad, W, W1, W2.T, [0.0], [0.0], X, y)
    with pytest.raises(ValueError, match=r"^directions: must be finite"):
        loss_slice_1d(svm_loss_and_grad, W, np.full_like(W1, np.nan), [0.0], X, y)
    with pytest.raises(TypeError, match=r"^reg: expected a real number"):
        loss_slice_1d(svm_loss_and_grad, W, W1, [0.0], X, y, reg="0.1")


def test_at_reg_0_a_huge_centre_gives_finite_losses_not_nan(digits, point):
    # ||W||^2 overflows (1e200^2) but the scores do not: the L2 term must not be computed at all (0 * inf = NaN)
    W, W1, _ = point
    X, y = digits.X_dev, digits.y_dev
    huge = np.zeros_like(W)
    huge[:, -1] = 1e200  # only the bias column: every class's score is the same 1e200, margins stay Delta
    losses = loss_slice_1d(svm_loss_and_grad, huge, 1e-3 * W1, [-1.0, 0.0, 1.0], X, y)
    assert np.all(np.isfinite(losses))
    assert losses[1] == pytest.approx(svm_loss_and_grad(huge, X, y)[0])


def test_overflowing_scores_and_penalties_name_the_cause(digits, point):
    W, W1, _ = point
    X, y = digits.X_dev, digits.y_dev
    with pytest.raises(ValueError, match=r"^W: the scores X @ W.T overflow"):
        loss_slice_1d(svm_loss_and_grad, np.full_like(W, 1e308), W1, [0.0], X, y)
    with pytest.raises(ValueError, match=r"^coefficients: the scores overflow at \[1e\+308\]"):
        loss_slice_1d(svm_loss_and_grad, W, W1, [0.0, 1e308], X, y)
    with pytest.raises(ValueError, match=r"^reg: reg \* \|\|W"):
        loss_slice_1d(svm_loss_and_grad, W, 1e200 * W1, [1.0], X, y, reg=1.0)
    with pytest.raises(ValueError, match=r"^step_sizes: after a step of 1e\+308 the loss is not finite"):
        step_size_sweep(svm_loss_and_grad, W, X, y, [1e-3, 1e308])


@pytest.mark.parametrize(
    "shape, count, rng, error, message",
    [
        ((3,), 2, 0, TypeError, r"^shape: expected \(C, D\)"),
        ("ab", 2, 0, TypeError, r"^shape: expected \(C, D\)"),
        ((3, 0), 2, 0, ValueError, r"^shape\[1\]: expected an integer >= 1"),
        ((3, 4), 0, 0, ValueError, "^count: expected an integer >= 1"),
        ((3, 4), 2.0, 0, TypeError, "^count: expected an integer"),
        ((3, 4), 2, "abc", TypeError, "^rng: expected an integer"),
        ((3, 4), 2, -5, ValueError, "^rng: expected an integer >= 0"),
    ],
)
def test_bad_random_directions_arguments_are_named(shape, count, rng, error, message):
    with pytest.raises(error, match=message):
        random_directions(shape, count, rng)


def test_slices_show_progress_only_on_a_terminal(digits, point, capsys):
    W, W1, W2 = point
    loss_slice_2d(svm_loss_and_grad, W, W1, W2, [0.0, 1.0], [0.0, 1.0], digits.X_dev, digits.y_dev)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize(
    "draw, error, message",
    [
        (lambda path: plot_slice_1d(path, [0.0], {"a": [1.0]}, loss="SVM", data="none"), ValueError, "^alphas: a figure needs at least 2"),
        (lambda path: plot_slice_1d(path, [0.0, 1.0], {"a": [1.0, 2.0, 3.0]}, loss="SVM", data="none"), ValueError, r"^curves\['a'\]: expected shape \(2,\)"),
        (lambda path: plot_slice_1d(path, [0.0, 1.0], {}, loss="SVM", data="none"), TypeError, "^curves: expected a non-empty mapping"),
        (lambda path: plot_slice_1d(path, [0.0, 1.0], [[1.0, 2.0]], loss="SVM", data="none"), TypeError, "^curves: expected a non-empty mapping"),
        (lambda path: plot_slice_1d(path, [0.0, 1.0], {"a": [1.0, np.nan]}, loss="SVM", data="none"), ValueError, r"^curves\['a'\]: must be finite"),
        (lambda path: plot_slice_2d(path, [0.0, 1.0], [0.0, 1.0], {"a": np.zeros((3, 2))}, loss="SVM", data="none"), ValueError, r"^grids\['a'\]: expected shape \(2, 2\)"),
        (lambda path: plot_slice_2d(path, [0.0, 1.0], [5.0], {"a": np.zeros((1, 2))}, loss="SVM", data="none"), ValueError, "^betas: a figure needs at least 2"),
        (lambda path: plot_hinge_demo(path, "demo", data="none"), TypeError, "^demo: expected a HingeDemo"),
        (lambda path: plot_step_sizes(path, None, loss="SVM", data="none"), TypeError, "^sweep: expected a StepSizeSweep"),
        (lambda path: plot_loss_curves(path, [], loss="SVM", data="none"), TypeError, "^histories: expected a non-empty sequence"),
        (lambda path: plot_loss_curves(path, ["x"], loss="SVM", data="none"), TypeError, "^histories: every entry must be a TrainingHistory"),
        (lambda path: plot_slice_1d(3.5, [0.0, 1.0], {"a": [1.0, 2.0]}, loss="SVM", data="none"), TypeError, "^path: expected a file path"),
        (lambda path: plot_slice_1d(path.with_suffix(".xyz"), [0.0, 1.0], {"a": [1.0, 2.0]}, loss="SVM", data="none"), ValueError, r"^path: cannot write .*Format 'xyz' is not supported"),
    ],
)
def test_figures_refuse_what_they_cannot_draw_naming_the_argument(tmp_path, draw, error, message):
    with pytest.raises(error, match=message):
        draw(tmp_path / "figure.png")
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_figure_path_is_an_os_error_naming_the_path(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(NotADirectoryError, match=r"^path: cannot write .*a_file/figure.png: a file stands where"):
        plot_slice_1d(blocker / "figure.png", [0.0, 1.0], {"a": [1.0, 2.0]}, loss="SVM", data="none")
    with pytest.raises(FileNotFoundError, match=r"^path: cannot write /proc/symgrad_no_such/figure.png"):
        plot_slice_1d("/proc/symgrad_no_such/figure.png", [0.0, 1.0], {"a": [1.0, 2.0]}, loss="SVM", data="none")


def test_a_float32_sweep_evaluates_every_step_in_float32(digits, point):
    # a float64 W after a step would make the loss copy a float32 X to float64 (1.2 GB for CIFAR-10's training split)
    seen = []

    def recording_loss(W, X, y, reg=0.0):
        seen.append((W.dtype, X.dtype))
        return svm_loss_and_grad(W, X, y, reg=reg)

    X = digits.X_dev.astype(np.float32)
    step_size_sweep(recording_loss, point[0].astype(np.float32), X, digits.y_dev, [1e-3, 1e-1])
    assert seen == [(np.float32, np.float32)] * 3
