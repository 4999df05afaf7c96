"""Side-by-side benchmark of symgrad's compiled linear-classifier gradients.

One run measures, with cases interleaved round-robin and medians over repeats:
  - the floor: the two matrix products any linear-classifier gradient needs, S = X W^T and dW = G^T X;
  - symgrad's compiled loss for every compiled loss (``loss_names()``), on NumPy and on its JAX backend (JAX
    installed); a regression loss has one output, w (D,), and its floor is the two matrix-vector products
    X w and g X;
  - for the SVM and softmax, peers written here independently of symgrad: hand-vectorized NumPy (CS231n style),
    JAX jit(value_and_grad) and PyTorch CPU autograd (when installed, extra `bench`);
for N = 49000, D = 3073, C = 10 (CIFAR-sized, synthetic) and a mini-batch of 256, in float32 and float64;
  - whole training runs: 300 mini-batch steps (B = 256) of symgrad.minibatch_gradient_descent against a
    hand-written NumPy loop with the hand-vectorized loss, drawing the same batches;
then cold start (import + first gradient, in a fresh interpreter), derivation time of every registered
derivation, the cost of a full finite-difference gradient check against the directional one, the two-layer ReLU
network of benchmarks/two_layer.py (symgrad's compiled passes against their four matrix products, hand-vectorized
NumPy backprop and PyTorch autograd, H = 100), and the Dask sections of benchmarks/dask_scaling.py (persisted on a
cluster, out of core, the cost model).

    python benchmarks/run.py                 # full run, writes BENCHMARKS.md
    python benchmarks/run.py --quick         # small sizes, prints only (tests/test_benchmarks.py runs it)
    python benchmarks/run.py --training      # only the whole training runs (full size unless --quick), prints only
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import symgrad
from symgrad.runtime.catalog import compiled_loss
from symgrad.runtime.blocks import BLOCK_BYTES
from symgrad.training.strategies import ACCURACY_POINTS, ACCURACY_SAMPLE

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
    """The two matrix products alone: S = X W^T (N, C) and dW = G^T X (C, D); for a regression loss's w (D,) and
    g (N,), the two matrix-vector products u = X w (N,) and dw = g X (D,)."""
    if W.ndim == 1:
        return X @ W, G @ X
    return X @ W.T, G.T @ X


def jax_cases():
    """{"JAX jit(value_and_grad)": {loss: (run, prepare)}} for the SVM and softmax, written here for JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}

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
            with jax.enable_x64(W.dtype == np.float64):  # float64 asked for explicitly, as symgrad's backend does
                value, gradient = compiled(W, X, y)
                return float(value), np.asarray(gradient.block_until_ready())

        return run, device_arrays

    return {"JAX jit(value_and_grad)": {"svm": wrap(svm), "softmax": wrap(softmax)}}


def device_arrays(W, X, y):
    """W, X and y on the JAX device (X copied there once, as a JAX training loop holds it)."""
    import jax

    with jax.enable_x64(X.dtype == np.float64):
        return jax.device_put(W), jax.device_put(X), jax.device_put(y)


def symgrad_jax_case(loss: str, both_layouts: bool = False):
    """symgrad's JAX backend, given the same device arrays as JAX's own case, or with ``both_layouts`` X as
    :class:`~symgrad.backends.jax_backend.DeviceExamples` (rows and columns on the device, twice the memory);
    None without JAX."""
    try:
        jax_function = symgrad.loss_and_grad_function(loss, "jax")
    except ImportError:
        return None

    def run(W, X, y):
        return jax_function(np.asarray(W), X, np.asarray(y), reg=REG)

    def device_examples(W, X, y):
        return W, jax_function.place_examples(X), y

    return run, (device_examples if both_layouts else device_arrays)


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
            return float(value.detach()), W.grad.numpy()

        def prepare(W, X, y):
            return torch.from_numpy(W), torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))

        return run, prepare

    return {"PyTorch autograd": {"svm": wrap(svm), "softmax": wrap(softmax)}}


def median_times(cases: dict, repeats: int, calls: int) -> dict:
    """{name: median seconds per call}: in each round every case runs ``calls`` times in a row, the cases in a
    fresh order each round.

    Consecutive calls amortize what switching between libraries costs once (waking another thread pool),
    as a training loop that calls one implementation again and again would. With one call per round that cost
    stays in the time: the first JAX call after a NumPy call measured ~40 ms slower than the next one (~90 ms)
    at N = 49000. Shuffling the order each round (seeded) gives every case that cost equally often.
    """
    samples = {name: [] for name in cases}
    for name, call in cases.items():
        call()  # warm-up (JIT compilation, first-use caches)
    order, shuffle = list(cases), random.Random(0).shuffle
    for _ in range(repeats):
        shuffle(order)
        for name in order:
            call = cases[name]
            start = time.perf_counter()
            for _ in range(calls):
                call()
            samples[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


HAND_WRITTEN = {"svm": reference_svm, "softmax": reference_softmax}
FLOOR = "floor (X W^T and G^T X)"
JAX_OWN, SYMGRAD_JAX = "JAX jit(value_and_grad)", "symgrad JAX backend"
SYMGRAD_JAX_BOTH = "symgrad JAX, DeviceExamples"


def regression_problem(loss: str, W: np.ndarray, y: np.ndarray, G: np.ndarray, rng) -> tuple:
    """(w (D,), targets (N,) inside the loss's target bounds, g (N,)) for a regression loss, from a classifier's
    W (C, D), labels y (N,) and G (N, C): logistic gets 0/1 targets, the others Gaussian ones."""
    low, high = compiled_loss(loss).target_bounds
    targets = (y % 2 if low >= 0 and high <= 1 else rng.standard_normal(y.shape[0])).astype(W.dtype)
    return W[0].copy(), targets, G[:, 0].copy()


def gradient_table(n: int, d: int, c: int, repeats: int, calls: int) -> list[tuple]:
    """Rows (dtype, n, loss, implementation, median ms, ratio to floor) for every compiled loss (a regression
    loss with one output: w (D,)), checking that every implementation agrees with the hand-written loss (SVM,
    softmax) or with symgrad's NumPy backend."""
    rng = np.random.default_rng(0)
    frameworks = {**jax_cases(), **torch_cases()}
    rows = []
    for dtype in (np.float32, np.float64):
        X = rng.standard_normal((n, d)).astype(dtype)
        X[:, -1] = 1
        weights = (rng.standard_normal((c, d)) * 1e-3).astype(dtype)
        labels = rng.integers(0, c, size=n)
        score_gradients = rng.standard_normal((n, c)).astype(dtype)
        for loss in symgrad.loss_names():
            W, y, G = weights, labels, score_gradients
            if compiled_loss(loss).kind == "regression":
                W, y, G = regression_problem(loss, weights, labels, score_gradients, rng)
            compiled = symgrad.loss_and_grad_function(loss)
            cases = {FLOOR: lambda: floor(W, X, y, G), "symgrad compiled": lambda: compiled(W, X, y, reg=REG)}
            implementations = ({SYMGRAD_JAX: symgrad_jax_case(loss), SYMGRAD_JAX_BOTH: symgrad_jax_case(loss, True)}
                               if JAX_OWN in frameworks else {})
            if loss in HAND_WRITTEN:
                cases["NumPy hand-vectorized"] = lambda reference=HAND_WRITTEN[loss]: reference(W, X, y)
                implementations.update({name: peers[loss] for name, peers in frameworks.items()})
            for name, (run, prepare) in implementations.items():
                arguments = prepare(W, X, y)
                cases[name] = lambda run=run, arguments=arguments: run(*arguments)
            expected_loss, expected_gradient = (HAND_WRITTEN[loss](W, X, y) if loss in HAND_WRITTEN
                                                else compiled(W, X, y, reg=REG))
            for name, call in cases.items():
                if name == FLOOR:
                    continue
                value, gradient = call()
                tolerance = 1e-3 if dtype == np.float32 else 1e-9
                assert abs(value - expected_loss) <= tolerance * max(1, abs(expected_loss)), (name, value, expected_loss)
                assert np.allclose(gradient, expected_gradient, rtol=tolerance * 10, atol=tolerance * 1e-2), name
            times = median_times(cases, repeats, calls)
            base = times[FLOOR]
            for name, seconds in times.items():
                rows.append((np.dtype(dtype).name, n, loss, name, seconds * 1e3, seconds / base))
    return rows


def jax_table(n: int, d: int, c: int, repeats: int, calls: int) -> list[tuple]:
    """Rows (dtype, n, loss, symgrad JAX ms on X, on DeviceExamples ms, JAX's own ms, the two ratios to JAX's own)
    for the SVM and softmax, timed on their own: the three run in forward then backward order (ABC CBA), so that
    none pays for waking JAX after another library more often."""
    if not jax_cases():
        return []
    rng = np.random.default_rng(0)
    rows = []
    for dtype in (np.float32, np.float64):
        X = rng.standard_normal((n, d)).astype(dtype)
        X[:, -1] = 1
        W = (rng.standard_normal((c, d)) * 1e-3).astype(dtype)
        y = rng.integers(0, c, size=n)
        for loss in HAND_WRITTEN:
            (own, prepare), (ours, _) = jax_cases()[JAX_OWN][loss], symgrad_jax_case(loss)
            arguments, examples = prepare(W, X, y), symgrad_jax_case(loss, True)[1](W, X, y)
            cases = {"ours": lambda: ours(*arguments), "both": lambda: ours(*examples), "own": lambda: own(*arguments)}
            samples = {name: [] for name in cases}
            for call in cases.values():
                call()
            for round_number in range(2 * repeats):
                for name in (list(cases) if round_number % 2 == 0 else list(cases)[::-1]):
                    start = time.perf_counter()
                    for _ in range(calls):
                        cases[name]()
                    samples[name].append((time.perf_counter() - start) / calls)
            ours_ms, both_ms, own_ms = (1e3 * statistics.median(samples[name]) for name in ("ours", "both", "own"))
            rows.append((np.dtype(dtype).name, n, loss, ours_ms, both_ms, own_ms, ours_ms / own_ms, both_ms / own_ms))
            print(f"JAX {rows[-1]}", flush=True)
    return rows


TRAINING_RATE = 1e-4
TRAINING_ROUNDS = 11
TRAINING_SEED = 7
TRAINING_PAUSE = 0.3
"""Seconds of rest before each timed training run: OpenBLAS's threads spin for ~0.1 s after a call, and a run
started meanwhile shares a core with them (without the rest, symgrad's float32 SVM runs split in two groups,
~320 and ~360 ms, by whether the hand loop's BLAS calls had just ended; the hand loop's times did not move)."""


def hand_written_training(reference, X, y, steps: int, batch_size: int, c: int) -> tuple[np.ndarray, list]:
    """A NumPy training loop as one writes it by hand: W ~ 1e-3 N(0, 1), then each epoch a fresh permutation cut
    into batches of ``batch_size``, W -= rate * dW; the same draws from the same seed as the strategy."""
    rng = np.random.default_rng(TRAINING_SEED)
    W = (1e-3 * rng.standard_normal((c, X.shape[1]))).astype(X.dtype)
    losses, order, start = [], rng.permutation(len(X)), 0
    for _ in range(steps):
        if start >= len(X):
            order, start = rng.permutation(len(X)), 0
        rows = order[start : start + batch_size]
        start += batch_size
        loss, dW = reference(W, X[rows], y[rows])
        losses.append(loss)
        W -= TRAINING_RATE * dW
    return W, losses


def training_table(n: int, d: int, c: int, steps: int, batch_size: int, rounds: int, pause: float) -> list[tuple]:
    """Rows (dtype, loss, symgrad ms, hand-written ms, median ratio, lowest ratio, highest ratio) for whole
    mini-batch training runs, after checking that both runs drew the same batches (their losses agree step by
    step). Each round runs both, in alternating order (ABBA); a ratio is symgrad ÷ hand within one round, so that
    a slow spell of the machine hits both sides of it."""
    rng = np.random.default_rng(3)
    rows = []
    for dtype in (np.float32, np.float64):
        X = rng.standard_normal((n, d)).astype(dtype)
        X[:, -1] = 1
        y = rng.integers(0, c, size=n)
        for loss, reference in HAND_WRITTEN.items():
            compiled = symgrad.loss_and_grad_function(loss)

            def run_symgrad(compiled=compiled):
                return symgrad.minibatch_gradient_descent(
                    compiled, X, y, learning_rate=TRAINING_RATE, steps=steps, batch_size=batch_size, reg=REG,
                    num_classes=c, rng=TRAINING_SEED, progress=False)

            def run_by_hand(reference=reference):
                return hand_written_training(reference, X, y, steps, batch_size, c)

            history, (_, hand_losses) = run_symgrad(), run_by_hand()
            tolerance = 1e-4 if dtype == np.float32 else 1e-9
            assert np.allclose(history.losses, hand_losses, rtol=tolerance), f"{loss}: not the same batches"
            times = {"symgrad": [], "hand": []}
            for round_number in range(rounds):
                pair = [("symgrad", run_symgrad), ("hand", run_by_hand)]
                for name, run in pair if round_number % 2 == 0 else pair[::-1]:
                    time.sleep(pause)
                    start = time.perf_counter()
                    run()
                    times[name].append(time.perf_counter() - start)
            ratios = [ours / hand for ours, hand in zip(times["symgrad"], times["hand"], strict=True)]
            rows.append((np.dtype(dtype).name, loss, 1e3 * statistics.median(times["symgrad"]),
                         1e3 * statistics.median(times["hand"]), statistics.median(ratios), min(ratios), max(ratios)))
            print(f"training {rows[-1]}", flush=True)
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


def conditions_at_start() -> str:
    """What else shaped the numbers: the BLAS thread setting and the machine's load when the run began (read at
    import: starting a dask.distributed cluster sets OMP_NUM_THREADS and friends in this process's environment)."""
    threads = ", ".join(f"{name}={os.environ[name]}" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                        if name in os.environ) or "BLAS threads not limited"
    return f"{threads}; load average {', '.join(f'{load:.1f}' for load in os.getloadavg())} at the start"


CONDITIONS = conditions_at_start()


def versions() -> str:
    found = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    for module in ("sympy", "jax", "torch"):
        try:
            found.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            found.append(f"{module} not installed")
    return ", ".join(found)


def render(rows, jax_comparison, cold, check, sizes, training, training_setup) -> str:
    lines = [
        "| dtype | N | loss | implementation | median ms | × floor |",
        "|---|---:|---|---|---:|---:|",
    ]
    lines += [f"| {dt} | {n} | {loss} | {name} | {ms:.2f} | {ratio:.3f} |" for dt, n, loss, name, ms, ratio in rows]
    if jax_comparison:
        lines += ["", "symgrad's JAX backend against JAX's own `jit(value_and_grad)`, timed on their own, in forward "
                  "then backward order (ABC CBA), medians. \"On X\": the same device arrays as JAX's own. "
                  "\"DeviceExamples\": X placed once in both layouts, rows (N, D) and columns (D, N), twice the "
                  "memory, as `full_batch_gradient_descent` on JAX places it; the gradient's product then "
                  "contracts over a contiguous axis.", "",
                  "| dtype | N | loss | symgrad JAX on X ms | symgrad JAX on DeviceExamples ms "
                  "| JAX jit(value_and_grad) ms | on X ÷ JAX | DeviceExamples ÷ JAX |",
                  "|---|---:|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {dt} | {n} | {loss} | {ours:.2f} | {both:.2f} | {own:.2f} | {ratio:.3f} | {both_ratio:.3f} |"
                  for dt, n, loss, ours, both, own, ratio, both_ratio in jax_comparison]
    n, d, steps, batch_size = training_setup
    lines += ["", f"Whole training runs: {steps} mini-batch steps, B = {batch_size}, N = {n}, D = {d}, C = 10, "
              f"{TRAINING_ROUNDS} rounds of both runs in alternating order, each run after {TRAINING_PAUSE} s of "
              "rest (OpenBLAS's threads spin ~0.1 s after a call); medians of the times and of the "
              "ratio within each round, and the lowest and highest such ratio (symgrad's run records the loss of "
              f"every step and the training accuracy {ACCURACY_POINTS} times on a fixed sample of at most "
              f"{ACCURACY_SAMPLE} examples, and splits each step across the cores, one BLAS thread each: "
              "`symgrad.runtime.threads`; the hand-written loop records the loss, BLAS on its default threads).",
              "",
              "| dtype | loss | symgrad.minibatch_gradient_descent ms | hand-written NumPy loop ms | symgrad ÷ hand "
              "| lowest | highest |",
              "|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {dt} | {loss} | {ours:.1f} | {hand:.1f} | {ratio:.3f} | {low:.3f} | {high:.3f} |"
              for dt, loss, ours, hand, ratio, low, high in training]
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
    parser.add_argument("--training", action="store_true",
                        help="only the whole training runs (symgrad against the hand-written loop), no BENCHMARKS.md")
    arguments = parser.parse_args()
    repeats = arguments.repeats or (3 if arguments.quick else 9)
    full = (2000, 257, 10) if arguments.quick else (49000, 3073, 10)
    training_setup = (2000, 257, 30, 64) if arguments.quick else (20000, 3073, 300, 256)
    training_rounds = (3, 0.0) if arguments.quick else (TRAINING_ROUNDS, TRAINING_PAUSE)
    print(f"machine: {machine()}\nversions: {versions()}", flush=True)
    if arguments.training:
        n, d, steps, batch_size = training_setup
        print(f"conditions: {CONDITIONS}\ntraining runs: {steps} steps, B = {batch_size}, N = {n}, D = {d} ...",
              flush=True)
        training_table(n, d, full[2], steps, batch_size, *training_rounds)
        return
    rows, jax_comparison = [], []
    for n in (full[0], 256):
        print(f"timing N = {n}, D = {full[1]}, C = {full[2]} ...", flush=True)
        calls = 1 if n > 256 else (5 if arguments.quick else 50)
        rows += gradient_table(n, full[1], full[2], repeats, calls)
        jax_comparison += jax_table(n, full[1], full[2], repeats, calls)
    print("training runs ...", flush=True)
    n, d, steps, batch_size = training_setup
    training = training_table(n, d, full[2], steps, batch_size, *training_rounds)
    print("cold start ...", flush=True)
    cold = cold_start(1 if arguments.quick else 5)
    print("gradient-check cost ...", flush=True)
    check = gradient_check_cost(*full)
    table = render(rows, jax_comparison, cold, check, full, training, training_setup)
    print("two-layer network ...", flush=True)
    from two_layer import report as two_layer_report

    table += "\n\n## Two-layer network\n\n" + two_layer_report(arguments.quick, arguments.repeats)
    try:
        from dask_scaling import report as dask_report
    except ImportError:
        dask_sections = "Dask is not installed: no Dask sections."
    else:
        print("Dask ...", flush=True)
        dask_sections = dask_report(arguments.quick)
    print(table + "\n\n" + dask_sections)
    if not arguments.quick:
        header = [
            "# Benchmarks",
            "",
            f"Written by `python benchmarks/run.py` on {datetime.date.today().isoformat()}.",
            f"Machine: {machine()}.  ",
            f"Versions: {versions()}.  ",
            f"Conditions: {CONDITIONS}.",
            "",
            "In each round every case ran in turn (N = 256: 50 calls in a row, timed together); the table gives",
            "medians over the rounds, and ratios to the floor (the two matrix products alone) measured in the same",
            "rounds (for a regression loss, w (D,): the two matrix-vector products X w and g X). Every",
            "implementation's loss and gradient were checked against the hand-written NumPy loss",
            "(SVM, softmax) or symgrad's NumPy backend (the other losses) first. JAX's own and symgrad's JAX backend",
            "get the same arrays, placed on the JAX device once; \"symgrad JAX, DeviceExamples\" gets X placed once",
            "in both layouts, rows and columns (twice the memory). symgrad's NumPy backend runs X in blocks of rows",
            f"of ~{BLOCK_BYTES // 2**20} MiB (one block for the mini-batch), so that both products read a block while it is in cache:",
            "below the floor of two whole-X products is possible.",
            "",
        ]
        document = "\n".join(header) + "\n" + table + "\n\n## Dask\n\n" + dask_sections + "\n"
        (REPOSITORY / "BENCHMARKS.md").write_text(document)
        print("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
