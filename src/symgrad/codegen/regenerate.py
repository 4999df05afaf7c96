"""Write every shipped generated module: ``python -m symgrad.codegen.regenerate``.

For each backend (``numpy``, ``jax``) it writes ``symgrad/runtime/_generated/<backend>/<name>.py`` for every loss
declared in ``symgrad/symbolic/losses/`` and for the linear layer, removes modules nothing generates any more,
and prints what changed. A test requires the shipped modules to equal what this writes.
"""

from __future__ import annotations

from pathlib import Path

from symgrad.codegen.loss_modules import shipped_module_texts
from symgrad.runtime.generated import BACKENDS, GENERATED_DIRECTORY, generated_path

PACKAGE_MARKER = '"""Generated modules for one backend (see symgrad.codegen.regenerate)."""\n'


def write_shipped_modules() -> list[tuple[Path, str]]:
    """Regenerate every shipped module; returns (path, "written" | "unchanged" | "removed") for each."""
    outcomes = []
    GENERATED_DIRECTORY.mkdir(exist_ok=True)
    (GENERATED_DIRECTORY / "__init__.py").write_text('"""Generated modules (see symgrad.codegen.regenerate)."""\n')
    for backend in BACKENDS:
        texts = shipped_module_texts(backend)
        folder = GENERATED_DIRECTORY / backend
        folder.mkdir(exist_ok=True)
        (folder / "__init__.py").write_text(PACKAGE_MARKER)
        for name, text in texts.items():
            path = generated_path(name, backend)
            unchanged = path.is_file() and path.read_text(encoding="utf-8") == text
            if not unchanged:
                path.write_text(text, encoding="utf-8")
            outcomes.append((path, "unchanged" if unchanged else "written"))
        for path in folder.glob("*.py"):
            if path.stem not in texts and path.name != "__init__.py":
                path.unlink()
                outcomes.append((path, "removed"))
    return outcomes


if __name__ == "__main__":
    for written_path, outcome in write_shipped_modules():
        print(f"{outcome:>9}  {written_path}")
