"""Dask at scale: X held in a cluster's memory, X on disk, and a cost model for more workers.

One run measures, on this machine (float32, C = 10):
  1. persisted: X and y read once by the workers of a 2-worker LocalCluster (processes, one thread each) and kept
     in their memory (``persist``); one loss-and-gradient call against NumPy with X in this process's memory,
     interleaved over rounds; and one epoch of mini-batch descent on the persisted X, with the bytes the workers
     sent meanwhile (to each other and to this process) against the size of X;
  2. out of core: a .npy file larger than the memory budget; a full-batch step (Dask's threads) against one
     sequential read of the file, both from the disk -- the file's pages evicted from the page cache with
     posix_fadvise(POSIX_FADV_DONTNEED) before each, which needs no privileges -- and from the page cache;
  3. a cost model: per-call overhead, per-task scheduling cost, per-chunk compute inside a worker (the map tasks
     of real calls, both workers busy) and transfer latency and bandwidth between workers; checked against a call
     measured on one and on two workers;
     then the step time it predicts -- simulated, not measured -- for 1 ... 64 workers at N = 1M, 10M, 100M.

    python benchmarks/dask_scaling.py            # prints the tables
    python benchmarks/dask_scaling.py --quick    # small sizes (tests/test_benchmarks.py runs it)
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import symgrad
from symgrad.runtime.dask_evaluation import REDUCTION_FAN_IN

CLASSES = 10
PERSISTED_ROWS_PER_CHUNK = 8192
MEMORY_BUDGET = 128 * 2**20
MODEL_FEATURES = 3073
MODEL_ROWS_PER_CHUNK = 8192
WORKER_COUNTS = (1, 2, 4, 8, 16, 64)
MODEL_SIZES = (1_000_000, 10_000_000, 100_000_000)


def write_npy(path: Path, n: int, d: int, seed: int = 0) -> Path:
    """A float32 (n, d) .npy of standard normal values, written in blocks and flushed to the disk."""
    rng = np.random.default_rng(seed)
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for start in range(0, n, 8192):
        X[start : start + 8192] = rng.standard_normal((min(8192, n - start), d), dtype=np.float32)
    X.flush()
    del X
    with open(path, "rb+") as file:
        os.fsync(file.fileno())  # dirty pages cannot be evicted
    return path


def local_cluster(workers: int = 2):
    from dask.distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0",
                        processes=True)


def interleaved_medians(cases: dict, repeats: int, before=None) -> dict:
    """{name: median seconds}: every case once per round, ``repeats`` rounds, after one warm-up call each;
    ``before(name)`` runs untimed before each timed call."""
    for call in cases.values():
        call()
    samples = {name: [] for name in cases}
    for _ in range(repeats):
        for name, call in cases.items():
            if before is not None:
                before(name)
            start = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def bytes_sent_by_workers(client) -> int:
    return sum(client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total).values())


def persisted_rows(folder: Path, n: int, d: int, repeats: int, batch_size: int) -> tuple[list[tuple], tuple]:
    """([(loss, NumPy ms, Dask ms, ratio, agree)], (epoch steps, seconds, ms per step, bytes sent, X bytes))."""
    import dask.array as da
    from dask.distributed import Client, wait

    path = write_npy(folder / f"persisted_{n}.npy", n, d)
    X_memory = np.load(path)
    y = np.random.default_rng(1).integers(0, CLASSES, size=n)
    W = (np.random.default_rng(2).standard_normal((CLASSES, d)) * 1e-3).astype(np.float32)
    rows = []
    with local_cluster() as cluster, Client(cluster) as client:
        X = symgrad.read_npy_in_chunks(path, rows_per_chunk=PERSISTED_ROWS_PER_CHUNK).persist()
        labels = da.from_array(y, chunks=(X.chunks[0],)).persist()
        wait([X, labels])
        for loss in ("svm", "softmax"):
            function = symgrad.loss_and_grad_function(loss)
            cases = {"numpy": lambda: function(W, X_memory, y), "dask": lambda: function(W, X, labels)}
            (expected, _), (got, _) = cases["numpy"](), cases["dask"]()
            times = interleaved_medians(cases, repeats)
            rows.append((loss, 1e3 * times["numpy"], 1e3 * times["dask"], times["dask"] / times["numpy"],
                         abs(got - expected) <= 1e-4 * abs(expected)))
            print(f"persisted {loss}: {rows[-1]}", flush=True)
        steps = math.ceil(n / batch_size)
        before = bytes_sent_by_workers(client)
        start = time.perf_counter()
        symgrad.minibatch_gradient_descent(symgrad.softmax_loss_and_grad, X, y, learning_rate=1e-4, steps=steps,
                                           batch_size=batch_size, rng=0, progress=False)
        seconds = time.perf_counter() - start
        epoch = (steps, seconds, 1e3 * seconds / steps, bytes_sent_by_workers(client) - before, X_memory.nbytes)
        print(f"persisted epoch: {epoch}", flush=True)
    return rows, epoch


def out_of_core_rows(folder: Path, n: int, d: int, budget: int, repeats: int) -> dict:
    """Medians of a sequential read and of a full-batch step, from disk (evicted) and from the page cache."""
    path = write_npy(folder / f"out_of_core_{n}.npy", n, d)
    y = np.random.default_rng(1).integers(0, CLASSES, size=n)
    W = (np.random.default_rng(2).standard_normal((CLASSES, d)) * 1e-3).astype(np.float32)
    X = symgrad.read_npy_in_chunks(path, memory_budget=budget)

    def read_once():
        buffer = bytearray(16 * 2**20)
        with open(path, "rb", buffering=0) as file:
            while file.readinto(buffer):
                pass

    def evict_when_cold(name):
        if name.endswith("disk"):
            descriptor = os.open(path, os.O_RDONLY)
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(descriptor)

    def step():
        symgrad.softmax_loss_and_grad(W, X, y)

    cases = {"read, disk": read_once, "step, disk": step, "read, page cache": read_once, "step, page cache": step}
    cases = {name: (lambda call=call: call()) for name, call in cases.items()}  # four distinct cases
    times = interleaved_medians(cases, repeats, before=evict_when_cold)
    result = {"file MiB": path.stat().st_size / 2**20, "budget MiB": budget / 2**20, "chunks": len(X.chunks[0]),
              **{name: seconds for name, seconds in times.items()}}
    print(f"out of core: {result}", flush=True)
    return result


@dataclass(frozen=True)
class CostModel:
    """Seconds of the parts of one call on a cluster, measured on this machine.

    call_overhead: a call on one tiny chunk (graph, submission, one task, the result back, the client's finish).
    scheduler_per_task: each further task's share that the scheduler spends (it handles tasks one at a time).
    worker_per_task: each further task's share that a worker spends (workers spend theirs side by side).
    row_compute: per row of X, inside a worker with every worker busy (D = features, C = 10), from the map tasks
        of real calls.
    transfer_latency, transfer_bandwidth: moving an array between two workers, t = latency + bytes / bandwidth.
    """

    features: int
    call_overhead: float
    scheduler_per_task: float
    worker_per_task: float
    row_compute: float
    transfer_latency: float
    transfer_bandwidth: float

    def partial_transfer(self) -> float:
        """Seconds to move one partial sum (C, D) float32 between workers."""
        return self.transfer_latency + CLASSES * self.features * 4 / self.transfer_bandwidth

    def step(self, n: int, workers: int, rows_per_chunk: int = MODEL_ROWS_PER_CHUNK) -> dict:
        """Predicted seconds of one call at N = n on ``workers`` workers, by part."""
        chunks = math.ceil(n / rows_per_chunk)
        reduction_tasks, level = 0, chunks
        while level > 1:
            level = math.ceil(level / REDUCTION_FAN_IN)
            reduction_tasks += level
        depth = math.ceil(math.log(chunks, REDUCTION_FAN_IN)) if chunks > 1 else 0
        parts = {
            "overhead": self.call_overhead,
            "compute": math.ceil(chunks / workers) * (min(rows_per_chunk, n) * self.row_compute + self.worker_per_task),
            "scheduling": (chunks + reduction_tasks) * self.scheduler_per_task,
            "W to the workers": (workers - 1) * self.partial_transfer(),
            "reduction": depth * (REDUCTION_FAN_IN - 1) * self.partial_transfer() if workers > 1 else 0.0,
        }
        # The scheduler hands out tasks while the workers compute: the longer of the two is on the path.
        parts["total"] = (parts["overhead"] + max(parts["compute"], parts["scheduling"]) + parts["W to the workers"]
                          + parts["reduction"])
        return parts


def chunk_compute(client, features: int, chunk_rows: int, repeats: int) -> float:
    """Median seconds of a map task (one chunk of ``chunk_rows`` rows) inside the workers, read off the task stream
    of real calls on X persisted over both workers (4 chunks each: both busy), generated in the workers."""
    import dask.array as da
    from distributed import get_task_stream

    workers = sorted(client.scheduler_info()["workers"])
    X = _persisted_on(client, da.random.default_rng(0).standard_normal(
        (8 * chunk_rows, features), chunks=(chunk_rows, features), dtype=np.float32), workers)
    y = np.zeros(8 * chunk_rows, dtype=np.int64)
    W = np.zeros((CLASSES, features), np.float32)
    symgrad.softmax_loss_and_grad(W, X, y)
    with get_task_stream(client) as stream:
        for _ in range(repeats):
            symgrad.softmax_loss_and_grad(W, X, y)
    return statistics.median(part["stop"] - part["start"] for task in stream.data
                             if str(task["key"]).startswith("_chunk_sums")
                             for part in task["startstops"] if part["action"] == "compute")


def _persisted_on(client, X, workers):
    import dask
    from distributed import wait

    with dask.annotate(workers=workers, allow_other_workers=False):
        persisted = X.persist()
    wait(persisted)
    return persisted


def measure_cost_model(client, features: int, chunk_rows: int, repeats: int) -> CostModel:
    import dask.array as da
    from distributed import wait

    workers = sorted(client.scheduler_info()["workers"])
    W = np.zeros((CLASSES, features), np.float32)

    def call_time(chunks: int, count: int) -> float:
        X = _persisted_on(client, da.zeros((64 * chunks, features), chunks=(64, features), dtype=np.float32),
                          workers[:count])
        y = np.zeros(64 * chunks, dtype=np.int64)
        return interleaved_medians({"call": lambda: symgrad.softmax_loss_and_grad(W, X, y)}, repeats)["call"]

    # 63 more map tasks and 9 reduction tasks than a call on one chunk: on one worker every task's cost is serial;
    # on two, the workers' shares halve and the scheduler's does not.
    one = call_time(1, 1)
    on_one, on_two = ((call_time(64, count) - one) / (64 + 9 - 1) for count in (1, 2))
    scheduler_per_task = min(max(2 * on_two - on_one, 0.0), on_one)
    row_compute = chunk_compute(client, features, chunk_rows, repeats) / chunk_rows

    def transfer_time(shape) -> float:
        source = client.submit(np.ones, shape, np.float32, workers=[workers[0]], pure=False)
        wait(source)
        samples = {"there": [], "here": []}
        for _ in range(repeats):
            for where, target in (("there", workers[1]), ("here", workers[0])):
                copied = client.submit(np.copy, source, workers=[target], pure=False)  # a new key: fetched anew
                start = time.perf_counter()
                client.submit(np.sum, copied, workers=[workers[0]], pure=False).result()
                samples[where].append(time.perf_counter() - start)
        return max(statistics.median(samples["there"]) - statistics.median(samples["here"]), 1e-6)

    small, large = transfer_time((CLASSES, features)), transfer_time((2**24,))  # 400 B ... 64 MiB
    bandwidth = max((2**26 - CLASSES * features * 4) / max(large - small, 1e-6), 1e6)
    latency = max(small - CLASSES * features * 4 / bandwidth, 0.0)
    return CostModel(features, one, scheduler_per_task, max(on_one - scheduler_per_task, 0.0), row_compute, latency,
                     bandwidth)


def model_check_rows(client, model: CostModel, n: int, folder: Path, repeats: int) -> list[tuple]:
    """[(N, workers, measured s, predicted s)] for a call on X (n, D) persisted on one worker, then on two."""
    path = write_npy(folder / f"model_check_{n}.npy", n, model.features)
    y = np.random.default_rng(1).integers(0, CLASSES, size=n)
    W = (np.random.default_rng(2).standard_normal((CLASSES, model.features)) * 1e-3).astype(np.float32)
    workers = sorted(client.scheduler_info()["workers"])
    rows = []
    for count in (1, 2):
        # Keys of their own for each placement: the same keys would stay where the first placement put them.
        chunks = symgrad.read_npy_in_chunks(path, rows_per_chunk=MODEL_ROWS_PER_CHUNK)
        X = _persisted_on(client, chunks.map_blocks(np.copy, name=f"model-check-on-{count}-workers"), workers[:count])
        measured = interleaved_medians({"call": lambda X=X: symgrad.softmax_loss_and_grad(W, X, y)}, repeats)["call"]
        rows.append((n, count, measured, model.step(n, count)["total"]))
        del X
    return rows


def cost_model_tables(folder: Path, features: int, check_rows: int, repeats: int, sizes=MODEL_SIZES) -> str:
    from dask.distributed import Client

    with local_cluster() as cluster, Client(cluster) as client:
        model = measure_cost_model(client, features, MODEL_ROWS_PER_CHUNK, repeats)
        print(f"cost model: {model}", flush=True)
        check = model_check_rows(client, model, check_rows, folder, repeats)
    return render_cost_model(model, check, sizes)


def render_cost_model(model: CostModel, check, sizes) -> str:
    row_bytes = model.features * 4
    lines = [
        f"Measured on the 2-worker LocalCluster (D = {model.features}, C = {CLASSES}, float32, chunks of "
        f"{MODEL_ROWS_PER_CHUNK} rows = {MODEL_ROWS_PER_CHUNK * row_bytes / 2**20:.0f} MiB, reduction fan-in "
        f"{REDUCTION_FAN_IN}):",
        "",
        "| part of a call | measured |",
        "|---|---:|",
        f"| per-call overhead (one tiny chunk: graph, scheduling, result, client) | {1e3 * model.call_overhead:.1f} ms |",
        f"| per further task: the scheduler's share (serial) | {1e3 * model.scheduler_per_task:.2f} ms |",
        f"| per further task: a worker's share (in parallel) | {1e3 * model.worker_per_task:.2f} ms |",
        f"| compute per chunk of {MODEL_ROWS_PER_CHUNK} rows (a map task of a real call), both workers busy | "
        f"{1e3 * model.row_compute * MODEL_ROWS_PER_CHUNK:.1f} ms ({1e6 * model.row_compute:.2f} µs per row) |",
        f"| transfer per chunk: a partial sum (C, D) = {CLASSES * row_bytes / 1024:.0f} KiB between workers | "
        f"{1e3 * model.partial_transfer():.2f} ms (latency {1e3 * model.transfer_latency:.2f} ms, "
        f"{model.transfer_bandwidth / 2**20:.0f} MiB/s) |",
        "",
        "The model against a measured call (X persisted on one worker, then spread over two):",
        "",
        "| N | workers | measured ms | model ms | model / measured |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {n} | {workers} | {1e3 * measured:.1f} | {1e3 * predicted:.1f} | {predicted / measured:.2f} |"
              for n, workers, measured, predicted in check]
    lines += [
        "",
        "**Simulated** from those measurements (not measured): one full-batch step on X persisted in the workers, "
        f"D = {model.features}, C = {CLASSES}, float32.",
        "",
        "| N | workers | data per worker GiB | compute ms | scheduling ms | reduction + W ms | step ms | speed-up | "
        "efficiency |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        one = model.step(n, 1)["total"]
        for workers in WORKER_COUNTS:
            parts = model.step(n, workers)
            lines.append(
                f"| {n:.0e} | {workers} | {n * row_bytes / workers / 2**30:.1f} | {1e3 * parts['compute']:.0f} | "
                f"{1e3 * parts['scheduling']:.0f} | {1e3 * (parts['reduction'] + parts['W to the workers']):.1f} | "
                f"{1e3 * parts['total']:.0f} | {one / parts['total']:.1f} | {one / parts['total'] / workers:.0%} |"
            )
    lines += ["", *scaling_limits(model, sizes)]
    return "\n".join(lines)


def scaling_limits(model: CostModel, sizes) -> list[str]:
    """Where the simulated step stops scaling, and why: the first worker count whose doubling gains < 1.3x."""
    notes = []
    for n in sizes:
        chunks = math.ceil(n / MODEL_ROWS_PER_CHUNK)
        previous, stop = None, None
        for workers in WORKER_COUNTS:
            total = model.step(n, workers)["total"]
            if previous is not None and previous[1] / total < 1.3 ** math.log2(workers / previous[0]):
                stop = previous[0], workers
                break
            previous = workers, total
        if stop is None:
            notes.append(f"- N = {n:.0e}: still scaling at {WORKER_COUNTS[-1]} workers ({chunks} chunks).")
            continue
        parts = model.step(n, stop[1])
        bound = max(("compute", "scheduling"), key=lambda name: parts[name])
        why = (f"the scheduler's {chunks} + reduction tasks ({1e3 * parts['scheduling']:.0f} ms, handed out one at a "
               f"time) outweigh each worker's compute ({1e3 * parts['compute']:.0f} ms)" if bound == "scheduling" else
               f"each worker's compute ({1e3 * parts['compute']:.0f} ms) is down to the fixed costs: overhead "
               f"{1e3 * parts['overhead']:.0f} ms, scheduling {1e3 * parts['scheduling']:.0f} ms, W and reduction "
               f"{1e3 * (parts['reduction'] + parts['W to the workers']):.0f} ms")
        granularity = " (fewer chunks than workers)" if chunks < stop[1] else ""
        notes.append(f"- N = {n:.0e}: stops scaling between {stop[0]} and {stop[1]} workers{granularity}: {why}.")
    return notes


def render_persisted(rows, epoch, n: int, d: int) -> str:
    steps, seconds, per_step, sent, x_bytes = epoch
    lines = [
        f"X ({n} x {d}, float32, {x_bytes / 2**20:.0f} MiB) read once by the workers of a 2-worker LocalCluster and "
        f"persisted in chunks of {PERSISTED_ROWS_PER_CHUNK} rows; labels persisted beside it. NumPy: the same X in "
        "this process's memory.",
        "",
        "| loss | NumPy in memory ms | Dask, persisted on 2 workers ms | Dask / NumPy | agree |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [f"| {loss} | {numpy_ms:.1f} | {dask_ms:.1f} | {ratio:.2f} | {'yes' if agree else 'NO'} |"
              for loss, numpy_ms, dask_ms, ratio, agree in rows]
    lines += ["", f"One epoch of mini-batch descent (softmax, B = {math.ceil(n / steps)}, {steps} steps) on the "
              f"persisted X: {seconds:.1f} s ({per_step:.1f} ms per step, each one task on the chunk's worker); the "
              f"workers sent {sent / 2**20:.2f} MiB in all (to each other and to this process), X is "
              f"{x_bytes / 2**20:.0f} MiB."]
    return "\n".join(lines)


def render_out_of_core(result: dict) -> str:
    disk, cache = result["step, disk"] / result["read, disk"], result["step, page cache"] / result["read, page cache"]
    evicted = result["read, disk"] > 1.5 * result["read, page cache"]
    return "\n".join([
        f"A {result['file MiB']:.0f} MiB float32 .npy (D = 1025), memory budget {result['budget MiB']:.0f} MiB "
        f"({result['chunks']} chunks read on demand by Dask's threads); one full-batch softmax step against one "
        "sequential read of the file (16 MiB reads into one buffer), medians over interleaved rounds.",
        "",
        "| where the file's pages are | one sequential read s | one full-batch step s | step / read |",
        "|---|---:|---:|---:|",
        f"| on disk (evicted with posix_fadvise before each) | {result['read, disk']:.3f} | {result['step, disk']:.3f} | "
        f"{disk:.2f} |",
        f"| in the page cache | {result['read, page cache']:.3f} | {result['step, page cache']:.3f} | {cache:.2f} |",
        "",
        ("Eviction worked: a read from disk took " if evicted else "Eviction had no visible effect: a read from disk "
         "took ") + f"{result['read, disk'] / result['read, page cache']:.1f}x one from the page cache.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    arguments = parser.parse_args()
    print(report(arguments.quick))


def report(quick: bool) -> str:
    """The three sections, as Markdown."""
    repeats = 2 if quick else 7
    persisted_n, persisted_d = (4000, 65) if quick else (128_000, 1025)
    out_of_core_n, budget = (20_000, 2**20) if quick else (262_144, MEMORY_BUDGET)
    features, check = (65, 20_000) if quick else (MODEL_FEATURES, 65_536)
    with tempfile.TemporaryDirectory() as folder:
        rows, epoch = persisted_rows(Path(folder), persisted_n, persisted_d, repeats, 256)
        out_of_core = out_of_core_rows(Path(folder), out_of_core_n, 1025 if not quick else 65, budget, repeats)
        model = cost_model_tables(Path(folder), features, check, repeats)
    return "\n\n".join([
        "### Data persisted on a cluster", render_persisted(rows, epoch, persisted_n, persisted_d),
        "### Out of core, against the disk", render_out_of_core(out_of_core),
        "### A cost model, and what it predicts for more workers", model,
    ])


if __name__ == "__main__":
    main()
