"""The linter's rules (pyproject.toml, [tool.ruff.lint]: unused imports and names, undefined names, zip() without
strict=, mutable defaults, == None) hold in the whole tree."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    completed = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise", "src", "tests", "derivations", "benchmarks"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
