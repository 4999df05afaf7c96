"""PNG figures of the lecture's experiments, drawn with matplotlib's object API (no pyplot, no global state).

Each function builds a ``matplotlib.figure.Figure``, saves it to ``path`` (creating the folder) and returns the
path. matplotlib is optional: ``pip install 'symgrad[plot]'`` (without it:
:class:`symgrad.validation.MissingExtraError`).
Data that cannot be drawn is refused before drawing (ValueError naming the argument); a ``path`` that cannot be
written raises the OSError of its kind, and one whose suffix names no image format a ValueError, with a message that
starts with ``path``. The format follows the suffix (``.png``, ``.svg``, ``.pdf``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from symgrad import validation
from symgrad.training.landscape import HingeDemo, StepSizeSweep, coordinates
from symgrad.training.strategies import TrainingHistory

LANDSCAPE_COLORMAP = "RdYlBu_r"  # blue = low loss, red = high loss, as in the lecture's figure


def plot_slice_1d(path, alphas, curves: Mapping[str, np.ndarray], title: str = "Loss along W + a W1") -> Path:
    """Line plot of 1-D slices: ``curves`` maps a label to losses (A,) at ``alphas`` (A,), A >= 2."""
    path, alphas = _output_path(path), _axis(alphas, "alphas")
    curves = _arrays(curves, "curves", (len(alphas),))
    figure = _new_figure(figsize=(6, 4))
    axes = figure.add_subplot()
    for label, losses in curves.items():
        axes.plot(alphas, losses, label=label)
    axes.set(xlabel="a", ylabel="loss", title=title)
    axes.legend()
    return _save(figure, path)


def plot_slice_2d(path, alphas, betas, grids: Mapping[str, np.ndarray], title: str = "Loss on W + a W1 + b W2") -> Path:
    """One heatmap with contour lines per entry of ``grids`` (label -> losses (B, A) on betas x alphas), A, B >= 2."""
    path, alphas, betas = _output_path(path), _axis(alphas, "alphas"), _axis(betas, "betas")
    grids = _arrays(grids, "grids", (len(betas), len(alphas)))
    figure = _new_figure(figsize=(5 * len(grids), 4.4))
    figure.suptitle(title)
    for index, (label, grid) in enumerate(grids.items(), start=1):
        axes = figure.add_subplot(1, len(grids), index)
        mesh = axes.pcolormesh(alphas, betas, grid, cmap=LANDSCAPE_COLORMAP, shading="auto")
        axes.contour(alphas, betas, grid, levels=12, colors="black", linewidths=0.4)
        axes.set(xlabel="a", ylabel="b", title=label, aspect="equal")
        figure.colorbar(mesh, ax=axes, label="loss")
    return _save(figure, path)


def plot_hinge_demo(path, demo: HingeDemo) -> Path:
    """The three per-example SVM losses along one direction (thin) and their mean (thick): piecewise linear."""
    path = _output_path(path)
    if not isinstance(demo, HingeDemo):
        raise TypeError(f"demo: expected a HingeDemo (from hinge_demo), got {type(demo).__name__}")
    figure = _new_figure(figsize=(6, 4))
    axes = figure.add_subplot()
    for i, losses in enumerate(demo.example_losses):
        axes.plot(demo.alphas, losses, linewidth=1, linestyle="--", label=f"L{i} (example {i})")
    axes.plot(demo.alphas, demo.total, color="black", linewidth=2.5, label="L = (L0 + L1 + L2) / 3")
    axes.set(xlabel="a  (W + a W1)", ylabel="multiclass SVM loss", title="Data loss: a sum of hinges, piecewise linear")
    axes.legend()
    return _save(figure, path)


def plot_step_sizes(path, sweep: StepSizeSweep) -> Path:
    """Loss after one gradient step against the step size (log x), with the loss before the step."""
    path = _output_path(path)
    if not isinstance(sweep, StepSizeSweep):
        raise TypeError(f"sweep: expected a StepSizeSweep (from step_size_sweep), got {type(sweep).__name__}")
    figure = _new_figure(figsize=(6, 4))
    axes = figure.add_subplot()
    axes.plot(sweep.step_sizes, sweep.losses, "o-", label="L(W - alpha grad L(W))")
    axes.axhline(sweep.loss, color="gray", linestyle=":", label=f"L(W) = {sweep.loss:.4g}")
    axes.set(xscale="log", yscale="log", xlabel="step size alpha", ylabel="loss", title="One gradient step of each size")
    axes.legend()
    return _save(figure, path)


def plot_loss_curves(path, histories: Sequence[TrainingHistory]) -> Path:
    """Loss per step (left, with a running mean over noisy steps) and training accuracy (right) per strategy."""
    path = _output_path(path)
    if isinstance(histories, (str, bytes)) or not isinstance(histories, Sequence) or not histories:
        raise TypeError(f"histories: expected a non-empty sequence of TrainingHistory, got {type(histories).__name__}")
    if not all(isinstance(history, TrainingHistory) for history in histories):
        raise TypeError("histories: every entry must be a TrainingHistory (from a training strategy)")
    figure = _new_figure(figsize=(12, 4.5))
    loss_axes, accuracy_axes = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    for history in histories:
        steps = np.arange(1, len(history.losses) + 1)
        (line,) = loss_axes.plot(steps, _running_mean(history.losses), label=history.strategy)
        accuracy_axes.plot(history.accuracy_steps, history.accuracies, "o-", markersize=3, color=line.get_color())
    loss_axes.set(xscale="log", yscale="log", xlabel="step", ylabel="loss (running mean over 1% of the run)")
    loss_axes.set_title("Loss per step")
    accuracy_axes.set(xscale="log", xlabel="step", ylabel="training accuracy", ylim=(0, 1), title="Training accuracy")
    loss_axes.legend(fontsize="small")
    return _save(figure, path)


def _running_mean(values: np.ndarray) -> np.ndarray:
    """Mean over a trailing window of about 1% of the run (1 for short runs): (K,) -> (K,)."""
    window = max(1, len(values) // 100)
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    starts = np.maximum(np.arange(1, len(values) + 1) - window, 0)
    return (cumulative[1:] - cumulative[starts]) / (np.arange(1, len(values) + 1) - starts)


def _axis(values, name: str) -> np.ndarray:
    """Coordinates along one axis of a figure: finite, 1-D, at least two (a line or a cell needs two)."""
    axis = coordinates(values, name)
    if len(axis) < 2:
        raise ValueError(f"{name}: a figure needs at least 2 points along an axis, got {len(axis)}")
    return axis


def _arrays(named, name: str, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """``named`` (label -> array) checked: at least one entry, each a finite real array of ``shape``."""
    if not isinstance(named, Mapping) or not named:
        raise TypeError(f"{name}: expected a non-empty mapping of label -> losses, got {type(named).__name__}")
    checked = {}
    for label, values in named.items():
        array = validation.real_array(values, f"{name}[{label!r}]").astype(np.float64)
        if array.shape != shape:
            raise ValueError(f"{name}[{label!r}]: expected shape {shape} to match the axes, got {array.shape}")
        validation.require_finite(array, f"{name}[{label!r}]")
        checked[str(label)] = array
    return checked


def _new_figure(**options):
    figure_module = validation.optional_module("matplotlib.figure", "plot", "symgrad.training.plotting")
    return figure_module.Figure(layout="constrained", **options)


def _output_path(path) -> Path:
    """``path`` as a Path; TypeError naming it otherwise (checked before drawing)."""
    if not isinstance(path, str) and not hasattr(path, "__fspath__"):
        raise TypeError(f"path: expected a file path (str or os.PathLike), got {type(path).__name__}")
    return Path(path)


def _save(figure, path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
    except FileExistsError:  # mkdir met a file where a folder of the path should be
        raise NotADirectoryError(f"path: cannot write {path}: a file stands where a folder of it should be") from None
    except OSError as error:
        raise type(error)(f"path: cannot write {path}: {error.strerror or error}") from None
    except ValueError as error:  # matplotlib: a suffix that names no format it can write
        raise ValueError(f"path: cannot write {path}: {error}") from None
    return path
