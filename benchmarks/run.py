"""Side-by-side benchmark of symgrad's compiled linear-classifier gradients.

One run measures, with cases interleaved round-robin and medians over repeats:
  - the floor: the two matrix products any linear-classifier gradient needs, S = X W^T and dW = G^T X;
  - symgrad's compiled svm_loss_and_grad and softmax_loss_and_grad;
  - a hand-vectorized NumPy reference (CS231n style, written here independently of symgrad);
  - JAX jit(value_and_grad) and PyTorch CPU autograd, when installed (extra `bench`);
for N = 49000, D = 3073, C = 10 (CIFAR-sized, synthetic) and a mini-batch of 256, in float32 and float64;
then cold start (import + first gradient, in a fresh interpreter), derivation time of every registered
derivation, and the cost of a full finite-difference gradient check against the directional one.

    python benchmarks/run.py                 # full run, writes BENCHMARKS.md
    python benchmarks/run.py --quick         # small sizes, prints only (tests/test_benchmarks.py runs it)
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import symgrad

REPOSITORY = Path(__file__).resolve().parents[1]
DELTA = 1.0
REG = 1e-4


def reference_svm(W, X, y):
    """Hand-vectorized multiclass SVM (CS231n style): W (C, D), X (N, D), y (N,) -> (loss, dW (C, D))."""
    n = X.shape[0]
    scores = X @ W.T
    rows = np.arange(n)
    margins = np.maximum(0, scores - scores[rows, y][:, None] + DELTA)
    margins[rows, y] = 0
    loss = margins.sum() / n + REG * np.sum(W * W)
    indicator = (margins > 0).astype(X.dtype)
    indicator[rows, y] = -indicator.sum(axis=1)
    return loss, indicator.T @ X / n + 2 * REG * W


def reference_softmax(W, X, y):
    """Hand-vectorized softmax cross-entropy: W (C, D), X (N, D), y (N,) -> (loss, dW (C, D))."""
    n = X.shape[0]
    scores = X @ W.T
    scores -= scores.max(axis=1, keepdims=True)
    probabilities = np.exp(scores)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = -np.log(probabilities[rows, y]).mean() + REG * np.sum(W * W)
    probabilities[rows, y] -= 1
    return loss, probabilities.T @ X / n + 2 * REG * W


def floor(W, X, y, G):
    """The two matrix products alone: S = X W^T (N, C) and dW = G^T X (C, D)."""
    return X @ W.T, G.T @ X


def jax_cases():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    jax.config.update("jax_enable_x64", True)

    def svm(W, X, y):
        scores = X @ W.T
        correct = jnp.take_along_axis(scores, y[:, None], axis=1)
        margins = jnp.maximum(0, scores - correct + DELTA)
        margins = margins * (1 - jax.nn.one_hot(y, W.shape[0], dtype=W.dtype))
        return margins.sum() / X.shape[0] + REG * jnp.sum(W * W)

    def softmax(W, X, y):
        scores = X @ W.T
        log_p = jax.nn.log_softmax(scores, axis=1)
        return -jnp.take_along_axis(log_p, y[:, None], axis=1).mean() + REG * jnp.sum(W * W)

    def wrap(loss):
        compiled = jax.jit(jax.value_and_grad(loss))

        def run(W, X, y):
            value, gradient = compiled(W, X, y)
            return float(value), np.asarray(gradient.block_until_ready())

        def prepare(W, X, y):
            return jax.device_put(W), jax.device_put(X), jax.device_put(y)

        return run, prepare

    return {"JAX jit(value_and_grad)": {"svm": wrap(svm), "softmax": wrap(softmax)}}


def torch_cases():
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(os.cpu_count() or 1)

    def svm(W, X, y):
        scores = X @ W.T
        correct = scores.gather(1, y[:, None])
        margins = torch.clamp(scores - correct + DELTA, min=0)
        margins = margins.scatter(1, y[:, None], 0.0)
        return margins.sum() / X.shape[0] + REG * (W * W).sum()

    def softmax(W, X, y):
        scores = X @ W.T
        return torch.nn.functional.cross_entropy(scores, y) + REG * (W * W).sum()

    def wrap(loss):
        def run(W, X, y):
            W = W.detach().requires_grad_(True)
            value = loss(W, X, y)
            value.backward()
            return float(value), W.grad.numpy()

        def prepare(W, X, y):
            return torch.from_numpy(W), torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))

        return run, prepare

    return {"PyTorch autograd": {"svm": wrap(svm), "softmax": wrap(softmax)}}


def median_times(cases: dict, repeats: int, calls: int) -> dict:
    """{name: median seconds per call}: in each round every case runs ``calls`` times in a row.

    Consecutive calls amortize what switching between libraries costs once (waking another thread pool),
    as a training loop that calls one implementation again and again would.
    """
    samples = {name: [] for name in cases}
    for name, call in cases.items():
        call()  # warm-up (JIT compilation, first-use caches)
    for _ in range(repeats):
        for name, call in cases.items():
            start = time.perf_counter()
            for _ in range(calls):
                call()
            samples[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


def gradient_table(n: int, d: int, c: int, repeats: int, calls: int) -> list[tuple]:
    """Rows (dtype, n, loss, implementation, median ms, ratio to floor), checking every result agrees."""
    rng = np.random.default_rng(0)
    frameworks = {**jax_cases(), **torch_cases()}
    rows = []
    for dtype in (np.float32, np.float64):
        X = rng.standard_normal((n, d)).astype(dtype)
        X[:, -1] = 1
        W = (rng.standard_normal((c, d)) * 1e-3).astype(dtype)
        y = rng.integers(0, c, size=n)
        G = rng.standard_normal((n, c)).astype(dtype)
        for loss, compiled, reference in (
            ("svm", symgrad.svm_loss_and_grad, reference_svm),
            ("softmax", symgrad.softmax_loss_and_grad, reference_softmax),
        ):
            cases = {
                "floor (X W^T and G^T X)": lambda: floor(W, X, y, G),
                "symgrad compiled": lambda: compiled(W, X, y, reg=REG),
                "NumPy hand-vectorized": lambda: reference(W, X, y),
            }
            expected_loss, expected_gradient = reference(W, X, y)
            for framework, implementations in frameworks.items():
                run, prepare = implementations[loss]
                arguments = prepare(W, X, y)
                cases[framework] = lambda run=run, arguments=arguments: run(*arguments)
            for name, call in cases.items():
                if name.startswith("floor"):
                    continue
                value, gradient = call()
                tolerance = 1e-3 if dtype == np.float32 else 1e-9
                assert abs(value - expected_loss) <= tolerance * max(1, abs(expected_loss)), (name, value, expected_loss)
                assert np.allclose(gradient, expected_gradient, rtol=tolerance * 10, atol=tolerance * 1e-2), name
            times = median_times(cases, repeats, calls)
            base = times["floor (X W^T and G^T X)"]
            for name, seconds in times.items():
                rows.append((np.dtype(dtype).name, n, loss, name, seconds * 1e3, seconds / base))
    return rows


def cold_start(repeats: int) -> dict:
    """Fresh interpreters: import time of symgrad, and import + first compiled SVM gradient on a small batch."""
    first_gradient = (
        "import time; t = time.perf_counter(); import numpy as np; import symgrad; "
        "W = np.zeros((10, 3073)); X = np.ones((4, 3073)); y = np.arange(4); "
        "symgrad.svm_loss_and_grad(W, X, y); print(time.perf_counter() - t, 'sympy' in __import__('sys').modules)"
    )
    import_only = "import time; t = time.perf_counter(); import symgrad; print(time.perf_counter() - t, False)"
    derive_all = (
        "import time; t = time.perf_counter(); import symgrad\n"
        "for d in symgrad.all_derivations(): d.gradient, symgrad.compile_derivation(d)\n"
        "print(time.perf_counter() - t, True)"
    )
    results = {}
    for name, code in (
        ("import symgrad", import_only),
        ("import symgrad + first svm_loss_and_grad", first_gradient),
        ("derive and compile every registered derivation", derive_all),
    ):
        samples, sympy_loaded = [], None
        for _ in range(repeats):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
            samples.append(float(out[0]))
            sympy_loaded = out[1] == "True"
        results[name] = (statistics.median(samples), sympy_loaded)
    results["registered derivations"] = (len(symgrad.all_derivations()), None)
    return results


def gradient_check_cost(n: int, d: int, c: int) -> dict:
    """Loss evaluations and seconds for a full forward-difference gradient vs the directional check."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, d))
    X[:, -1] = 1
    W = rng.standard_normal((c, d)) * 1e-3
    y = rng.integers(0, c, size=n)
    evaluations = {"count": 0}

    def loss(V):
        evaluations["count"] += 1
        return symgrad.svm_loss_and_grad(V, X, y, reg=REG)[0]

    samples = []
    for _ in range(5):
        start = time.perf_counter()
        loss(W)
        samples.append(time.perf_counter() - start)
    one_evaluation = statistics.median(samples)
    evaluations["count"] = 0
    start = time.perf_counter()
    report = symgrad.check_gradient(loss, lambda V: symgrad.svm_loss_and_grad(V, X, y, reg=REG)[1], W, mode="directional")
    directional_seconds = time.perf_counter() - start
    return {
        "parameters": W.size,
        "full forward-difference evaluations": W.size + 1,
        "seconds per loss evaluation": one_evaluation,
        "full forward difference, extrapolated seconds": (W.size + 1) * one_evaluation,
        "directional check evaluations": evaluations["count"],
        "directional check seconds": directional_seconds,
        "directional check ok": report.ok,
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def versions() -> str:
    found = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    for module in ("sympy", "jax", "torch"):
        try:
            found.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            found.append(f"{module} not installed")
    return ", ".join(found)


def render(rows, cold, check, sizes) -> str:
    lines = [
        "| dtype | N | loss | implementation | median ms | × floor |",
        "|---|---:|---|---|---:|---:|",
    ]
    lines += [f"| {dt} | {n} | {loss} | {name} | {ms:.2f} | {ratio:.3f} |" for dt, n, loss, name, ms, ratio in rows]
    lines += ["", "| cold start (fresh interpreter, median) | seconds | SymPy imported |", "|---|---:|---|"]
    for name, (value, sympy_loaded) in cold.items():
        if name == "registered derivations":
            continue
        lines.append(f"| {name} | {value:.3f} | {'yes' if sympy_loaded else 'no'} |")
    lines += ["", f"Registered derivations: {cold['registered derivations'][0]}.", ""]
    lines += ["| gradient check at N = {}, D = {}, C = {} | value |".format(*sizes), "|---|---:|"]
    lines += [f"| {name} | {value:.4g} |" if isinstance(value, float) else f"| {name} | {value} |" for name, value in check.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats, no BENCHMARKS.md")
    parser.add_argument("--repeats", type=int, default=None, help="rounds per case (default 9, quick 3)")
    arguments = parser.parse_args()
    repeats = arguments.repeats or (3 if arguments.quick else 9)
    full = (2000, 257, 10) if arguments.quick else (49000, 3073, 10)
    print(f"machine: {machine()}\nversions: {versions()}", flush=True)
    rows = []
    for n in (full[0], 256):
        print(f"timing N = {n}, D = {full[1]}, C = {full[2]} ...", flush=True)
        rows += gradient_table(n, full[1], full[2], repeats, 1 if n > 256 else 50)
    print("cold start ...", flush=True)
    cold = cold_start(1 if arguments.quick else 5)
    print("gradient-check cost ...", flush=True)
    check = gradient_check_cost(*full)
    table = render(rows, cold, check, full)
    print(table)
    if not arguments.quick:
        header = [
            "# Benchmarks",
            "",
            f"Written by `python benchmarks/run.py` on {datetime.date.today().isoformat()}.",
            f"Machine: {machine()}.  ",
            f"Versions: {versions()}.",
            "",
            "In each round every case ran in turn (N = 256: 50 calls in a row, timed together); the table gives",
            "medians over the rounds, and ratios to the floor (the two matrix products alone) measured in the same",
            "rounds. Every implementation's loss and gradient were checked against the NumPy reference first.",
            "",
        ]
        document = "\n".join(header) + "\n" + table + "\n"
        try:
            from dask_scaling import MEMORY_BUDGET, scaling_table
        except ImportError:
            print("dask not installed: no Dask scaling table")
        else:
            print("Dask scaling ...", flush=True)
            document += "\n".join(["", "## Dask: two workers against NumPy at growing N", "",
                                   f"`python benchmarks/dask_scaling.py` (float32, D = 1025, C = 10, softmax; memory budget "
                                   f"{MEMORY_BUDGET // 2**20} MiB for the chunks of X, read from disk on every call):", "",
                                   scaling_table((16_000, 64_000, 256_000), 1025, 10, 5), ""])
        (REPOSITORY / "BENCHMARKS.md").write_text(document)
        print("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
