"""PNG figures of the lecture's experiments, drawn with matplotlib's object API (no pyplot, no global state).

Each function builds a ``matplotlib.figure.Figure``, saves it to ``path`` (creating the folder) and returns the
path. Every figure explains itself: its title names the loss and the data (``loss=``, ``data=``), its axes say
what is plotted ("data loss", or "data loss + regularization" where the L2 term is in), curves that may overlap
differ in line style and marker as well as colour, and legends sit outside the data. matplotlib is optional:
``pip install 'symgrad[plot]'`` (without it: :class:`symgrad.validation.MissingExtraError`).
Data that cannot be drawn is refused before drawing (ValueError naming the argument); a ``path`` that cannot be
written raises the OSError of its kind, and one whose suffix names no image format a ValueError, with a message that
starts with ``path``. The format follows the suffix (``.png``, ``.svg``, ``.pdf``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from symgrad import validation
from symgrad.training.landscape import HingeDemo, StepSizeSweep, coordinates
from symgrad.training.strategies import TrainingHistory

LANDSCAPE_COLORMAP = "RdYlBu_r"  # blue = low loss, red = high loss, as in the lecture's figure

LINE_STYLES = (
    {"color": "C0", "linestyle": "-", "marker": "o"},
    {"color": "C1", "linestyle": "--", "marker": "s"},
    {"color": "C2", "linestyle": "-.", "marker": "^"},
    {"color": "C3", "linestyle": ":", "marker": "D"},
    {"color": "C4", "linestyle": (0, (5, 1, 1, 1, 1, 1)), "marker": "v"},
)
"""One style per curve, so that curves lying on top of each other stay distinguishable (markers every ~8%);
a curve keeps its style in every panel of a figure."""

SEARCH_STRATEGIES = ("random search", "random local search")
"""The strategies that search (no gradient); the loss-curve figure draws them apart from the descents."""


def objective_label(reg: float) -> str:
    """The y-axis label of a loss: "data loss" at reg = 0, else "data loss + regularization (lambda = reg)"."""
    return "data loss" if reg == 0 else f"data loss + regularization (λ = {reg:g})"


def plot_slice_1d(path: str | Path, alphas: npt.ArrayLike, curves: Mapping[str, np.ndarray], *, loss: str,
                  data: str, reg: float = 0.0) -> Path:
    """Line plot of 1-D slices L(W + a W1): ``curves`` maps a label (which examples) to losses (A,) at ``alphas``, A >= 2."""
    path, alphas = _output_path(path), _axis(alphas, "alphas")
    curves = _arrays(curves, "curves", (len(alphas),))
    figure = _new_figure(figsize=(7.5, 4))
    axes = figure.add_subplot()
    for style, (label, losses) in zip(_styles(len(curves)), curves.items(), strict=True):
        axes.plot(alphas, losses, label=label, markevery=_every(alphas), markersize=4, **style)
    axes.set(xlabel="a  (W + a W1, W1 a random direction)", ylabel=f"{loss}: {objective_label(reg)}",
             title=f"{loss} loss along one random direction\n{data}")
    _legend_outside(axes)
    return _save(figure, path)


def plot_slice_2d(path: str | Path, alphas: npt.ArrayLike, betas: npt.ArrayLike, grids: Mapping[str, np.ndarray], *,
                  loss: str, data: str, reg: float = 0.0) -> Path:
    """One heatmap with contour lines per entry of ``grids`` (label -> losses (B, A) on betas x alphas), A, B >= 2."""
    path, alphas, betas = _output_path(path), _axis(alphas, "alphas"), _axis(betas, "betas")
    grids = _arrays(grids, "grids", (len(betas), len(alphas)))
    figure = _new_figure(figsize=(5 * len(grids), 4.6))
    figure.suptitle(f"{loss} loss on W + a W1 + b W2, W1 and W2 random directions (blue low, red high)\n{data}")
    for index, (label, grid) in enumerate(grids.items(), start=1):
        axes = figure.add_subplot(1, len(grids), index)
        mesh = axes.pcolormesh(alphas, betas, grid, cmap=LANDSCAPE_COLORMAP, shading="auto")
        axes.contour(alphas, betas, grid, levels=12, colors="black", linewidths=0.4)
        axes.set(xlabel="a", ylabel="b", title=label, aspect="equal")
        figure.colorbar(mesh, ax=axes, label=f"{loss}: {objective_label(reg)}")
    return _save(figure, path)


def plot_hinge_demo(path: str | Path, demo: HingeDemo, *, data: str) -> Path:
    """The three per-example SVM losses along one direction (thin) and their mean (thick): piecewise linear."""
    path = _output_path(path)
    if not isinstance(demo, HingeDemo):
        raise TypeError(f"demo: expected a HingeDemo (from hinge_demo), got {type(demo).__name__}")
    figure = _new_figure(figsize=(7.5, 4))
    axes = figure.add_subplot()
    for style, (i, losses) in zip(_styles(len(demo.example_losses)), enumerate(demo.example_losses), strict=True):
        axes.plot(demo.alphas, losses, linewidth=1, markevery=_every(demo.alphas), markersize=4,
                  label=f"L{i} (example {i}, class {i})", **style)
    axes.plot(demo.alphas, demo.total, color="black", linewidth=2.5, label="L = (L0 + L1 + L2) / 3")
    axes.set(xlabel="a  (W + a W1, W1 a random direction)", ylabel="multiclass SVM: data loss",
             title=f"SVM data loss of three examples: a sum of hinges, piecewise linear\n{data}")
    _legend_outside(axes)
    return _save(figure, path)


def plot_step_sizes(path: str | Path, sweep: StepSizeSweep, *, loss: str, data: str, reg: float = 0.0) -> Path:
    """Loss after one gradient step against the step size (log x), with the loss before the step."""
    path = _output_path(path)
    if not isinstance(sweep, StepSizeSweep):
        raise TypeError(f"sweep: expected a StepSizeSweep (from step_size_sweep), got {type(sweep).__name__}")
    figure = _new_figure(figsize=(7.5, 4))
    axes = figure.add_subplot()
    axes.plot(sweep.step_sizes, sweep.losses, "o-", label="L(W - alpha grad L(W))")
    axes.axhline(sweep.loss, color="gray", linestyle=":", label=f"L(W) = {sweep.loss:.4g}, before the step")
    axes.set(xscale="log", yscale="log", xlabel="step size alpha", ylabel=f"{loss}: {objective_label(reg)}",
             title=f"{loss} loss after one gradient step of each size\n{data}")
    _legend_outside(axes)
    return _save(figure, path)


def plot_loss_curves(path: str | Path, histories: Sequence[TrainingHistory], *, loss: str, data: str,
                     search_reg: float = 0.0, descent_reg: float = 0.0) -> Path:
    """The loss per step of the search strategies (left) and of the descents (middle), each with a running mean
    over noisy steps, and the training accuracy of all (right); one style per strategy across the three panels.

    ``search_reg`` and ``descent_reg``: the L2 strength each group minimized, for the y-axis labels.
    """
    path = _output_path(path)
    if isinstance(histories, (str, bytes)) or not isinstance(histories, Sequence) or not histories:
        raise TypeError(f"histories: expected a non-empty sequence of TrainingHistory, got {type(histories).__name__}")
    if not all(isinstance(history, TrainingHistory) for history in histories):
        raise TypeError("histories: every entry must be a TrainingHistory (from a training strategy)")
    figure = _new_figure(figsize=(15, 4.6))
    figure.suptitle(f"{loss} training: the lecture's strategies\n{data}")
    search_axes, descent_axes, accuracy_axes = (figure.add_subplot(1, 3, k) for k in (1, 2, 3))
    for style, history in zip(_styles(len(histories)), histories, strict=True):
        steps = np.arange(1, len(history.losses) + 1)
        axes = search_axes if history.strategy in SEARCH_STRATEGIES else descent_axes
        axes.plot(steps, _running_mean(history.losses), label=history.strategy, markevery=_every(steps),
                            markersize=4, **style)
        accuracy_axes.plot(history.accuracy_steps, history.accuracies, markersize=4, label=history.strategy, **style)
    search_axes.set(xscale="log", yscale="log", xlabel="step", title="Search (no gradient): best loss so far",
                    ylabel=f"{objective_label(search_reg)}\n(running mean over 1% of the run)")
    descent_axes.set(xscale="log", yscale="log", xlabel="step", title="Descent: loss of each step's batch",
                     ylabel=f"{objective_label(descent_reg)}\n(running mean over 1% of the run)")
    accuracy_axes.set(xscale="log", xlabel="step", ylabel="training accuracy", ylim=(0, 1),
                      title="Training accuracy (all training examples)")
    _legend_outside(accuracy_axes)
    return _save(figure, path)


def plot_two_layer_training(path: str | Path, histories: Mapping[str, TrainingHistory], *, data: str, hidden: int,
                            reg: float = 0.0) -> Path:
    """The two-layer network's training: the loss of each step's batch (left, running mean over 1% of the run)
    and the training accuracy (right), one curve per classifier loss on top (``histories``: loss name -> the
    :class:`TrainingHistory` of :func:`symgrad.training.two_layer.train_two_layer`), one style per loss in both
    panels. ``hidden``: the width H, for the title; ``reg``: the L2 strength minimized, for the y-axis label."""
    path = _output_path(path)
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError(f"histories: expected a non-empty mapping of loss name -> TrainingHistory, "
                        f"got {type(histories).__name__}")
    if not all(isinstance(history, TrainingHistory) for history in histories.values()):
        raise TypeError("histories: every value must be a TrainingHistory (from train_two_layer)")
    hidden = validation.count(hidden, "hidden")
    figure = _new_figure(figsize=(12, 4.6))
    figure.suptitle(f"two-layer ReLU network s = W2 relu(W1 x + b1) + b2, H = {hidden}: mini-batch descent\n{data}")
    loss_axes, accuracy_axes = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    for style, (loss, history) in zip(_styles(len(histories)), histories.items(), strict=True):
        steps = np.arange(1, len(history.losses) + 1)
        loss_axes.plot(steps, _running_mean(history.losses), label=f"{loss} loss", markevery=_every(steps),
                       markersize=4, **style)
        accuracy_axes.plot(history.accuracy_steps, history.accuracies, markersize=4, label=f"{loss} loss", **style)
    loss_axes.set(xscale="log", yscale="log", xlabel="step", title="Loss of each step's batch",
                  ylabel=f"{objective_label(reg)}\n(running mean over 1% of the run)")
    accuracy_axes.set(xlabel="step", ylabel="training accuracy", ylim=(0, 1),
                      title="Training accuracy (fixed sample of the training split)")
    _legend_outside(accuracy_axes)
    return _save(figure, path)


def _styles(count: int) -> list[dict[str, Any]]:
    return [LINE_STYLES[k % len(LINE_STYLES)] for k in range(count)]


def _every(positions: npt.ArrayLike) -> int:
    """A marker every ~8% of the points (at least every point)."""
    return max(1, len(np.asarray(positions)) // 12)


def _legend_outside(axes: Any) -> None:
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize="small")


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


def _new_figure(**options: Any) -> Any:
    figure_module = validation.optional_module("matplotlib.figure", "plot", "symgrad.training.plotting")
    return figure_module.Figure(layout="constrained", **options)


def _output_path(path: str | Path) -> Path:
    """``path`` as a Path; TypeError naming it otherwise (checked before drawing)."""
    if not isinstance(path, str) and not hasattr(path, "__fspath__"):
        raise TypeError(f"path: expected a file path (str or os.PathLike), got {type(path).__name__}")
    return Path(path)


def _save(figure: Any, path: Path) -> Path:
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
