"""Run every derivation script in this folder, in order (01_..., 02_..., ...), and stop at the first failure."""

import subprocess
import sys
from pathlib import Path

scripts = sorted(Path(__file__).parent.glob("[0-9][0-9]_*.py"))
for script in scripts:
    print(f"\n{'=' * 100}\n{script.name}\n{'=' * 100}", flush=True)
    completed = subprocess.run([sys.executable, str(script), *sys.argv[1:]])
    if completed.returncode != 0:
        sys.exit(f"{script.name} failed with exit code {completed.returncode}")
print(f"\nran {len(scripts)} derivation scripts")
