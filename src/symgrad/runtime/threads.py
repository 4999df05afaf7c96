"""A mini-batch step split across the cores: each thread gathers its share of the batch's rows and runs the
block's sums on it (scores, per-example code, its share of G X), while those rows sit in its core's cache.

On one thread, a step on B = 256 CIFAR-sized rows leaves the second core idle while it gathers the rows (about a
third of a float32 step) and runs the per-example code; BLAS's own threads share only the two products. Split in
two here, with BLAS held to one thread per thread, 300 such steps measured 0.89-0.92x the one-thread steps in
float32 and 0.79-0.80x in float64 (SVM; softmax 0.89x and 0.78x) on this 2-core machine. Smaller shares lose:
the hand-off to a helper costs 12-80 us here, and a product on few rows runs slower on one BLAS thread. 200 SVM
steps split in two, against one thread, median of 7 rounds: 1.25x at 44 rows of 3073 float64 per thread (1 MiB),
1.02x at 88 rows of float32 (1 MiB), 0.97x at 350 rows of 785 float32 (1 MiB), 0.92x at 256 rows of 785 float64
(1.5 MiB), 0.81x at 128 rows of 3073 float64 (3 MiB); hence at least :data:`PART_BYTES` and :data:`PART_ROWS`
per thread.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

PART_BYTES = 3 * 2**19
"""A step is split so that each thread gathers at least this many bytes of the batch's rows (1.5 MiB)..."""

PART_ROWS = 128
"""...and at least this many rows."""


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the OS reports one, else the CPU count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def step_threads(batch_size: int, X: np.ndarray) -> int:
    """How many threads share a step on ``batch_size`` rows of X (N, D): at most one per :data:`PART_BYTES` and
    per :data:`PART_ROWS` of the batch's rows, and one per usable core; at least one."""
    shares = min(batch_size * X.shape[1] * X.itemsize // PART_BYTES, batch_size // PART_ROWS)
    return max(1, min(usable_cores(), shares))


@contextlib.contextmanager
def helper_threads(count: int) -> Iterator[ThreadPoolExecutor]:
    """``count`` >= 1 helper threads for the block, and BLAS held to one thread while it lasts (each thread then
    runs on a core of its own; the limit is process-wide, as BLAS's setting is). The helpers ignore floating-point
    overflow and invalid operations, as a training run's thread does: their callers check their results for being
    finite."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(
        max_workers=count, thread_name_prefix="symgrad-step", initializer=_ignore_overflow
    ) as helpers:
        yield helpers


def _ignore_overflow() -> None:
    np.seterr(over="ignore", invalid="ignore")
