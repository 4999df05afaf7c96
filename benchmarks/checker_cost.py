"""What symgrad's gradient checker costs, measured in one run and printed as Markdown tables.

1. Full mode on a cheap f (f(x) = sum of squares) next to a plain centered-difference loop over every coordinate,
   in the same run, alternately (best of 3): seconds and peak memory beyond x (tracemalloc), at 8,000 and 30,730
   parameters.
2. A CIFAR-sized softmax classifier and multiclass SVM (N = 49,000 synthetic examples, D = 3,073, C = 10; the
   losses are written here in NumPy): seconds per loss evaluation, full mode's cost extrapolated from it, and
   the evaluations and seconds of directional mode, sparse mode and the default (mode=None).

    python benchmarks/checker_cost.py            # the sizes above (needs ~1.3 GB for X)
    python benchmarks/checker_cost.py --quick    # small sizes (tests/test_benchmarks.py runs it)
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np

from symgrad.verification.checker import check_gradient

REG = 2.5e-4
DELTA = 1.0


def sum_of_squares(x: np.ndarray) -> float:
    """f(x) = sum_i x_i^2, a loss cheap enough that a check's own overhead shows."""
    return float(np.sum(x * x))


def plain_centered_differences(f, x: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """The textbook loop: (f(x + h e_i) - f(x - h e_i)) / 2h for every i, in place on one copy of x (S)."""
    point = x.astype(np.float64).copy()
    flat = point.reshape(-1)
    gradient = np.empty(flat.size)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + step
        above = f(point)
        flat[i] = original - step
        below = f(point)
        flat[i] = original
        gradient[i] = (above - below) / (2 * step)
    return gradient.reshape(x.shape)


def measured(call):
    """(result, seconds, peak MiB allocated during the call beyond what was allocated before it)."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, (peak - before) / 2**20


def full_mode_table(sizes, rounds: int) -> list[str]:
    """Each size: the plain loop and full mode alternately, ``rounds`` times; the best seconds of each (the
    machine may be shared) and the peak memory of the first round."""
    rows = ["| parameters | plain loop s | plain loop MiB | full mode s | full mode MiB | ratio | evaluations | ok |",
            "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for size in sizes:
        x = np.random.default_rng(size).standard_normal(size)
        plain, check = [], []
        for _ in range(rounds):
            plain.append(measured(lambda: plain_centered_differences(sum_of_squares, x)))
            check.append(measured(
                lambda: check_gradient(sum_of_squares, lambda v: 2 * v, x, "full", seed=0, progress=False)))
        plain_seconds, check_seconds = min(s for _, s, _ in plain), min(s for _, s, _ in check)
        plain_mib, (report, _, check_mib) = plain[0][2], check[0]
        rows.append(f"| {size:,} | {plain_seconds:.2f} | {plain_mib:.1f} | {check_seconds:.2f} | {check_mib:.1f} | "
                    f"{check_seconds / plain_seconds:.2f} | {report.evaluations:,} | {report.ok} |")
        print(rows[-1], flush=True)
    return rows


def cifar_like_problem(examples: int, features: int, classes: int, rng):
    """Synthetic data shaped like CIFAR-10 rows: pixel values 0..255 centred, a bias column of ones; W (C, D)
    small as at initialization."""
    X = rng.integers(0, 256, size=(examples, features)).astype(np.float64) - 127.5
    X[:, -1] = 1.0
    y = rng.integers(0, classes, size=examples)
    W = 1e-4 * rng.standard_normal((classes, features))
    return X, y, W


def softmax_loss_and_gradient(W, X, y):
    """Mean cross-entropy of softmax(X W^T) plus REG |W|^2, and its gradient (P - Y)^T X / N + 2 REG W (C, D)."""
    scores = X @ W.T
    scores -= scores.max(axis=1, keepdims=True)
    log_normalizer = np.log(np.exp(scores).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = float(np.mean(log_normalizer[:, 0] - scores[rows, y])) + REG * float(np.sum(W * W))
    probabilities = np.exp(scores - log_normalizer)
    probabilities[rows, y] -= 1
    return loss, probabilities.T @ X / len(y) + 2 * REG * W


def svm_loss_and_gradient(W, X, y):
    """Mean multiclass hinge sum_{j != y} max(0, s_j - s_y + DELTA) plus REG |W|^2, and its gradient (C, D)."""
    scores = X @ W.T
    rows = np.arange(len(y))
    margins = scores - scores[rows, y][:, None] + DELTA
    margins[rows, y] = 0
    active = (margins > 0).astype(np.float64)
    active[rows, y] = -active.sum(axis=1)
    loss = float(np.maximum(margins, 0).sum()) / len(y) + REG * float(np.sum(W * W))
    return loss, active.T @ X / len(y) + 2 * REG * W


def cifar_table(examples: int, features: int, classes: int) -> list[str]:
    X, y, W = cifar_like_problem(examples, features, classes, np.random.default_rng(0))
    rows = [f"N = {examples:,}, D = {features:,}, C = {classes}: {W.size:,} parameters", "",
            "| loss | mode | evaluations | seconds | verdict | resolution | why this mode |",
            "|---|---|---:|---:|---|---:|---|"]
    for name, loss_and_gradient in (("softmax", softmax_loss_and_gradient), ("svm", svm_loss_and_gradient)):
        loss = lambda V, loss_and_gradient=loss_and_gradient: loss_and_gradient(V, X, y)[0]  # noqa: E731
        gradient = loss_and_gradient(W, X, y)[1]
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            loss(W)
            timings.append(time.perf_counter() - start)
        per_evaluation = statistics.median(timings)
        full_evaluations = 3 * W.size + 17
        full_seconds = full_evaluations * per_evaluation
        rows.append(f"| {name} | full (extrapolated) | {full_evaluations:,} | {full_seconds:,.0f} | | | "
                    f"{per_evaluation:.3f} s per evaluation |")
        print(rows[-1], flush=True)
        for mode in ("directional", "sparse", None):
            start = time.perf_counter()
            report = check_gradient(loss, gradient, W, mode, seed=0, progress=False)
            seconds = time.perf_counter() - start
            verdict = "passed" if report.ok else "inconclusive" if report.inconclusive else "FAILED"
            rows.append(f"| {name} | {report.mode} | {report.evaluations} | {seconds:.1f} | {verdict} | "
                        f"{report.resolution:.1e} | {'default: ' + report.mode_reason if mode is None else 'asked'} |")
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    arguments = parser.parse_args()
    sizes = (500, 2_000) if arguments.quick else (8_000, 30_730)
    cifar = (400, 65, 10) if arguments.quick else (49_000, 3_073, 10)
    print("## Full mode next to a plain centered-difference loop (f = sum of squares)\n", flush=True)
    full = full_mode_table(sizes, rounds=1 if arguments.quick else 3)
    print("\n## Modes at CIFAR size\n", flush=True)
    modes = cifar_table(*cifar)
    print("\n## Summary\n")
    print("\n".join(full))
    print()
    print("\n".join(modes))


if __name__ == "__main__":
    main()
