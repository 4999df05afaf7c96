"""The benchmark scripts run end to end in their quick modes (they measure nothing here: timings in unit
tests would be noise; the numbers live in BENCHMARKS.md)."""

import subprocess
import sys
from pathlib import Path

import pytest

from symgrad.runtime.catalog import loss_names

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_quick(script: str, *options: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", *options], capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def table_rows(output: str, first_cell: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in output.splitlines()
            if line.startswith(f"| {first_cell} ")]


def test_the_training_comparison_runs_on_its_own():
    output = run_quick("run.py", "--training")
    rows = [line for line in output.splitlines() if line.startswith("training (")]
    assert sorted(row.split(",")[:2] for row in rows) == sorted(
        [f"training ('{dtype}'", f" '{loss}'"] for dtype in ("float32", "float64") for loss in ("svm", "softmax"))
    assert "load average" in output and "| float32 |" not in output  # the training rows only, no table


def test_side_by_side_benchmark_quick_mode_with_its_dask_sections():
    pytest.importorskip("jax")
    pytest.importorskip("dask.distributed")
    output = run_quick("run.py")
    for implementation in ("floor (X W^T and G^T X)", "symgrad compiled", "symgrad JAX backend",
                           "symgrad JAX, DeviceExamples"):
        assert output.count(f"| {implementation} |") == 2 * len(loss_names()) * 2  # dtypes x losses x sizes
    for implementation in ("NumPy hand-vectorized", "JAX jit(value_and_grad)"):
        assert output.count(f"| {implementation} |") == 2 * 2 * 2  # peers for the SVM and softmax
    rows = table_rows(output, "float32") + table_rows(output, "float64")
    jax_comparison = [row for row in rows if len(row) == 8]
    assert sorted((row[0], row[1], row[2]) for row in jax_comparison) == sorted(
        (dtype, n, loss) for dtype in ("float32", "float64") for n in ("2000", "256") for loss in ("softmax", "svm"))
    training = [row for row in rows if len(row) == 7]
    assert sorted((row[0], row[1]) for row in training) == [(dtype, loss) for dtype in ("float32", "float64")
                                                             for loss in ("softmax", "svm")]
    assert "import symgrad + first svm_loss_and_grad" in output
    # The Dask sections (benchmarks/dask_scaling.py): Dask agreed with NumPy, the out-of-core ratios, the
    # simulated table for every size and worker count, and where each size stops scaling.
    persisted = table_rows(output, "svm") + table_rows(output, "softmax")
    assert len(persisted) == 2 and all(row[-1] == "yes" for row in persisted)
    assert "the workers sent" in output and "step / read" in output and "**Simulated**" in output
    simulated = table_rows(output, "1e+06") + table_rows(output, "1e+07") + table_rows(output, "1e+08")
    assert [int(row[1]) for row in simulated] == [1, 2, 4, 8, 16, 64] * 3
    assert output.count("- N = ") == 3


def test_two_layer_benchmark_quick_mode_checks_every_implementation_and_prints_its_table():
    output = run_quick("two_layer.py")
    rows = table_rows(output, "float32") + table_rows(output, "float64")
    implementations = {row[3] for row in rows}
    assert {"floor (W1 X^T, W2 A, G A^T, dZ X)", "symgrad two_layer_loss_and_grad",
            "NumPy hand-vectorized backprop"} <= implementations
    assert sorted({(row[0], row[2]) for row in rows}) == [(dtype, loss) for dtype in ("float32", "float64")
                                                          for loss in ("softmax", "svm")]
    assert all(float(row[4]) > 0 and float(row[5]) > 0 for row in rows)
    try:
        import torch  # noqa: F401
    except ImportError:
        assert "PyTorch is not installed" in output
    else:
        assert "PyTorch autograd" in implementations
