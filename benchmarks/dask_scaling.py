"""Dask with two workers against NumPy at growing N, including N beyond a memory budget.

For each N a float32 .npy file (N, D) of synthetic data is written to a temporary folder; then, interleaved over
rounds, symgrad.softmax_loss_and_grad runs on
  - NumPy: the whole array loaded in memory (load time not counted),
  - Dask: a dask.distributed LocalCluster of 2 single-thread worker processes (loopback), X read from the file
    in chunks of memory_budget / CHUNKS_IN_MEMORY bytes (symgrad.read_npy_in_chunks) on every call.
Medians of the time per loss-and-gradient evaluation, and each worker's peak RSS, are reported.

    python benchmarks/dask_scaling.py            # prints the table
    python benchmarks/dask_scaling.py --quick    # small sizes (tests/test_benchmarks.py runs it)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import symgrad

MEMORY_BUDGET = 128 * 2**20


def write_problem(folder: Path, n: int, d: int, c: int) -> tuple[Path, np.ndarray]:
    """A float32 (n, d) .npy written in blocks, and labels (n,)."""
    rng = np.random.default_rng(n)
    path = folder / f"X_{n}.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for start in range(0, n, 8192):
        X[start : start + 8192] = rng.standard_normal((min(8192, n - start), d), dtype=np.float32)
    X.flush()
    del X
    return path, rng.integers(0, c, size=n)


def worker_peak_rss() -> int:
    """This worker process's peak resident memory in bytes: VmHWM of /proc/self/status (Linux). Not ru_maxrss,
    which a worker started by fork + exec inherits from the benchmark process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def scaling_table(sizes, d: int, c: int, repeats: int) -> str:
    from dask.distributed import Client, LocalCluster

    W = (np.random.default_rng(0).standard_normal((c, d)) * 1e-3).astype(np.float32)
    lines = [
        "| N | data MiB | budget MiB | NumPy ms | Dask 2 workers ms | Dask / NumPy | worker peak RSS MiB | agree |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    with tempfile.TemporaryDirectory() as folder, LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as cluster, Client(cluster) as client:
        for n in sizes:
            path, y = write_problem(Path(folder), n, d, c)
            X_memory = np.load(path)
            X_chunked = symgrad.read_npy_in_chunks(path, memory_budget=MEMORY_BUDGET)
            cases = {
                "numpy": lambda: symgrad.softmax_loss_and_grad(W, X_memory, y),
                "dask": lambda: symgrad.softmax_loss_and_grad(W, X_chunked, y),
            }
            results = {name: call() for name, call in cases.items()}
            agree = abs(results["dask"][0] - results["numpy"][0]) <= 1e-4 * abs(results["numpy"][0])
            samples = {name: [] for name in cases}
            for _ in range(repeats):
                for name, call in cases.items():
                    start = time.perf_counter()
                    call()
                    samples[name].append(time.perf_counter() - start)
            numpy_ms, dask_ms = (1e3 * statistics.median(samples[name]) for name in ("numpy", "dask"))
            peak = max(client.run(worker_peak_rss).values()) / 2**20
            lines.append(
                f"| {n} | {n * d * 4 / 2**20:.0f} | {MEMORY_BUDGET / 2**20:.0f} | {numpy_ms:.1f} | {dask_ms:.1f} | "
                f"{dask_ms / numpy_ms:.2f} | {peak:.0f} | {'yes' if agree else 'NO'} |"
            )
            print(lines[-1], flush=True)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    arguments = parser.parse_args()
    sizes = (2000, 8000) if arguments.quick else (16_000, 64_000, 256_000)
    print(scaling_table(sizes, 257 if arguments.quick else 1025, 10, 2 if arguments.quick else 5))


if __name__ == "__main__":
    main()
