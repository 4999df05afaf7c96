"""The two-layer ReLU network's loss and gradients: symgrad's compiled passes against their own matrix products.

For N = 49,000, D = 3,073, H = 100, C = 10 (CIFAR-sized, synthetic), float32 and float64, with cases interleaved
round-robin and medians over repeats:
  - the floor: the four matrix products one forward and one backward pass cannot avoid, Z = W1 X^T, S = W2 A,
    dW2 = G A^T and dW1 = dZ X (A = relu(Z), G = dl/ds, dZ = dL/dz; with rows as examples these are X W1^T,
    h W2^T, G^T h and dZ^T X), computed in the operand order symgrad's code uses, (A G^T)^T and (X^T dZ^T)^T:
    with OpenBLAS, G @ A.T took ~100x and dZ @ X ~3x (float32) longer at these sizes. They are the same for every
    loss, so they are timed once per dtype, in the same rounds as every loss's cases: each ratio divides by one floor;
  - ``symgrad.two_layer_loss_and_grad`` for the SVM and softmax;
  - peers written here independently of symgrad: hand-vectorized NumPy backprop (CS231n's two_layer_net style)
    and PyTorch CPU autograd (when torch is installed; otherwise the column is left out with a note).
Every implementation's loss and gradients are checked against the hand-written backprop first.

    python benchmarks/two_layer.py             # full size, prints the table
    python benchmarks/two_layer.py --quick     # small sizes (tests/test_benchmarks.py runs it)

``benchmarks/run.py`` calls :func:`report` and puts the table in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

import numpy as np

import symgrad

REG = 1e-4
DELTA = 1.0
FLOOR = "floor (W1 X^T, W2 A, G A^T, dZ X)"
HAND = "NumPy hand-vectorized backprop"
TORCH = "PyTorch autograd"
SYMGRAD = "symgrad two_layer_loss_and_grad"
LOSSES = ("svm", "softmax")


def hand_backprop(params, X, y, loss):
    """Two-layer backprop written out in NumPy, rows as examples: params W1 (H, D), b1 (H,), W2 (C, H), b2 (C,);
    X (N, D); y (N,) -> (loss, {W1, b1, W2, b2} gradients). relu'(0) = 0; SVM delta 1 or softmax."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    n, rows = X.shape[0], np.arange(X.shape[0])
    hidden = X @ W1.T
    hidden += b1
    np.maximum(hidden, 0, out=hidden)
    scores = hidden @ W2.T
    scores += b2
    if loss == "svm":
        margins = scores - scores[rows, y][:, None] + DELTA
        margins[rows, y] = 0
        value = np.maximum(margins, 0).sum() / n
        dscores = (margins > 0).astype(X.dtype)
        dscores[rows, y] = -dscores.sum(axis=1)
    else:
        scores -= scores.max(axis=1, keepdims=True)
        dscores = np.exp(scores)
        dscores /= dscores.sum(axis=1, keepdims=True)
        value = -np.log(dscores[rows, y]).mean()
        dscores[rows, y] -= 1
    dscores /= n
    value += REG * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dhidden = dscores @ W2
    dhidden *= hidden > 0
    return value, {"W1": dhidden.T @ X + 2 * REG * W1, "b1": dhidden.sum(axis=0),
                   "W2": dscores.T @ hidden + 2 * REG * W2, "b2": dscores.sum(axis=0)}


def floor(params, X, G, dZ):
    """The four matrix products alone, in the orientation symgrad computes them (one column per example)."""
    A = params["W1"] @ X.T
    return params["W2"] @ A, (A @ G.T).T, (X.T @ dZ.T).T


def torch_case():
    """(run, prepare) for PyTorch autograd, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count() or 1)

    def run(params, X, y, loss):
        leaves = {name: value.detach().requires_grad_(True) for name, value in params.items()}
        scores = torch.relu(X @ leaves["W1"].T + leaves["b1"]) @ leaves["W2"].T + leaves["b2"]
        if loss == "svm":
            margins = torch.clamp(scores - scores.gather(1, y[:, None]) + DELTA, min=0).scatter(1, y[:, None], 0.0)
            value = margins.sum() / X.shape[0]
        else:
            value = torch.nn.functional.cross_entropy(scores, y)
        value = value + REG * ((leaves["W1"] ** 2).sum() + (leaves["W2"] ** 2).sum())
        value.backward()
        return float(value.detach()), {name: leaf.grad.numpy() for name, leaf in leaves.items()}

    def prepare(params, X, y):
        return {name: torch.from_numpy(value) for name, value in params.items()}, torch.from_numpy(X), \
            torch.from_numpy(y.astype(np.int64))

    return run, prepare


def median_times(cases: dict, repeats: int) -> dict:
    """{name: median seconds per call}, every case once per round, in a fresh (seeded) order each round."""
    samples = {name: [] for name in cases}
    for call in cases.values():
        call()
    order, shuffle = list(cases), random.Random(0).shuffle
    for _ in range(repeats):
        shuffle(order)
        for name in order:
            start = time.perf_counter()
            cases[name]()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def problem(n: int, d: int, hidden: int, c: int, dtype, rng):
    """Synthetic CIFAR-like data and a network initialized at the scale training starts from."""
    X = rng.standard_normal((n, d)).astype(dtype)
    params = {"W1": (rng.standard_normal((hidden, d)) / np.sqrt(d)).astype(dtype),
              "b1": (0.01 * rng.standard_normal(hidden)).astype(dtype),
              "W2": (rng.standard_normal((c, hidden)) / np.sqrt(hidden)).astype(dtype),
              "b2": (0.01 * rng.standard_normal(c)).astype(dtype)}
    return params, X, rng.integers(0, c, size=n)


def table_rows(n: int, d: int, hidden: int, c: int, repeats: int) -> list[tuple]:
    """Rows (dtype, N, loss, implementation, median ms, ratio to floor)."""
    rng = np.random.default_rng(0)
    peer = torch_case()
    rows = []
    for dtype in (np.float32, np.float64):
        params, X, y = problem(n, d, hidden, c, dtype, rng)
        G = rng.standard_normal((c, n)).astype(dtype)
        dZ = rng.standard_normal((hidden, n)).astype(dtype)
        cases = {FLOOR: lambda: floor(params, X, G, dZ)}
        if peer is not None:
            run, prepare = peer
            arguments = prepare(params, X, y)
        for loss in LOSSES:
            cases[loss, SYMGRAD] = lambda loss=loss: symgrad.two_layer_loss_and_grad(params, X, y, loss, reg=REG)
            cases[loss, HAND] = lambda loss=loss: hand_backprop(params, X, y, loss)
            if peer is not None:
                cases[loss, TORCH] = lambda run=run, arguments=arguments, loss=loss: run(*arguments, loss)
            expected_value, expected = hand_backprop(params, X, y, loss)
            tolerance = 1e-3 if dtype == np.float32 else 1e-9
            for name in (SYMGRAD, TORCH):
                if (loss, name) not in cases:
                    continue
                value, gradients = cases[loss, name]()
                assert abs(value - expected_value) <= tolerance * max(1, abs(expected_value)), (name, value)
                for key, gradient in expected.items():
                    scale = np.abs(gradient).max()
                    assert np.abs(gradients[key] - gradient).max() <= tolerance * 10 * max(scale, 1e-12), (name, key)
        times = median_times(cases, repeats)
        for loss in LOSSES:
            rows.append((np.dtype(dtype).name, n, loss, FLOOR, times[FLOOR] * 1e3, 1.0))
            for name in (SYMGRAD, HAND, TORCH):
                if (loss, name) in times:
                    seconds = times[loss, name]
                    rows.append((np.dtype(dtype).name, n, loss, name, seconds * 1e3, seconds / times[FLOOR]))
    return rows


def report(quick: bool = False, repeats: int | None = None) -> str:
    """The Markdown section: sizes, the table, and a note when PyTorch is missing."""
    n, d, hidden, c = (2000, 257, 20, 10) if quick else (49000, 3073, 100, 10)
    rows = table_rows(n, d, hidden, c, repeats or (3 if quick else 9))
    lines = [f"Two-layer ReLU network s = W2 relu(W1 x + b1) + b2, loss and all four gradients: N = {n}, D = {d}, "
             f"H = {hidden}, C = {c}, reg = {REG:g}, medians of interleaved rounds.", "",
             "| dtype | N | loss | implementation | median ms | × floor |", "|---|---:|---|---|---:|---:|"]
    lines += [f"| {dt} | {n} | {loss} | {name} | {ms:.2f} | {ratio:.3f} |" for dt, n, loss, name, ms, ratio in rows]
    if torch_case() is None:
        lines += ["", "PyTorch is not installed: no PyTorch autograd rows (pip install 'symgrad[bench]')."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--repeats", type=int, default=None, help="rounds per case (default 9, quick 3)")
    arguments = parser.parse_args()
    print(report(arguments.quick, arguments.repeats))


if __name__ == "__main__":
    main()
