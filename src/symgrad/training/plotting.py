"""PNG figures of the lecture's experiments, drawn with matplotlib's object API (no pyplot, no global state).

Each function builds a ``matplotlib.figure.Figure``, saves it to ``path`` (creating the folder) and returns the
path. matplotlib is optional: ``pip install 'symgrad[plot]'``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from symgrad.training.landscape import HingeDemo, StepSizeSweep
from symgrad.training.strategies import TrainingHistory

LANDSCAPE_COLORMAP = "RdYlBu_r"  # blue = low loss, red = high loss, as in the lecture's figure


def plot_slice_1d(path, alphas, curves: Mapping[str, np.ndarray], title: str = "Loss along W + a W1") -> Path:
    """Line plot of 1-D slices: ``curves`` maps a label to losses (A,) at ``alphas`` (A,)."""
    figure = _new_figure(figsize=(6, 4))
    axes = figure.add_subplot()
    for label, losses in curves.items():
        axes.plot(alphas, losses, label=label)
    axes.set(xlabel="a", ylabel="loss", title=title)
    axes.legend()
    return _save(figure, path)


def plot_slice_2d(path, alphas, betas, grids: Mapping[str, np.ndarray], title: str = "Loss on W + a W1 + b W2") -> Path:
    """One heatmap with contour lines per entry of ``grids`` (label -> losses (B, A) on betas x alphas)."""
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
    figure = _new_figure(figsize=(6, 4))
    axes = figure.add_subplot()
    axes.plot(sweep.step_sizes, sweep.losses, "o-", label="L(W - alpha grad L(W))")
    axes.axhline(sweep.loss, color="gray", linestyle=":", label=f"L(W) = {sweep.loss:.4g}")
    axes.set(xscale="log", yscale="log", xlabel="step size alpha", ylabel="loss", title="One gradient step of each size")
    axes.legend()
    return _save(figure, path)


def plot_loss_curves(path, histories: Sequence[TrainingHistory]) -> Path:
    """Loss per step (left, with a running mean over noisy steps) and training accuracy (right) per strategy."""
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


def _new_figure(**options):
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("symgrad.training.plotting needs matplotlib: pip install 'symgrad[plot]'") from error
    return Figure(layout="constrained", **options)


def _save(figure, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path
