"""The benchmark scripts run end to end in their quick modes (they measure nothing here: timings in unit
tests would be noise; the numbers live in BENCHMARKS.md)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_quick(script: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick"], capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_side_by_side_benchmark_quick_mode():
    output = run_quick("run.py")
    for implementation in ("floor (X W^T and G^T X)", "symgrad compiled", "NumPy hand-vectorized"):
        assert output.count(f"| {implementation} |") == 8  # 2 dtypes x 2 losses x 2 sizes
    assert "import symgrad + first svm_loss_and_grad" in output


def test_dask_scaling_benchmark_quick_mode():
    pytest.importorskip("dask.distributed")
    output = run_quick("dask_scaling.py")
    rows = [line for line in output.splitlines() if line.startswith("| 2000 ") or line.startswith("| 8000 ")]
    assert len(set(rows)) == 2 and all(row.endswith("| yes |") for row in rows)  # printed as measured, then as a table
