"""benchmarks/checker_cost.py runs end to end in its quick mode and prints its tables (it measures nothing here:
timings in unit tests would be noise; the numbers come from a full run)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "checker_cost.py"


def test_checker_cost_quick_mode_prints_both_tables():
    completed = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    summary = completed.stdout.split("## Summary")[1]
    full_mode_rows = [line for line in summary.splitlines() if line.startswith("| 500 ") or line.startswith("| 2,000 ")]
    assert len(full_mode_rows) == 2 and all(row.endswith("| True |") for row in full_mode_rows)
    for loss in ("softmax", "svm"):
        for mode in ("full (extrapolated)", "directional", "sparse"):
            assert f"| {loss} | {mode} |" in summary
        assert f"| {loss} | full | 1967 |" in summary  # the default picks full mode at 650 parameters
