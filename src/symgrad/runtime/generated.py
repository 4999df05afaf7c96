"""Generated NumPy modules: turn their text into functions, and ship copies so SymPy is not needed to run them.

A generated module is the text :func:`symgrad.codegen.modules.generate_module` writes: import lines and one function,
``_lambdifygenerated``, printed by SymPy's ``lambdify``. Copies of the modules behind the compiled losses live in
``_generated/`` beside this file, so ``import symgrad`` and a first ``svm_loss_and_grad`` call import NumPy
only. A test regenerates every copy and requires it to be identical; ``python -m symgrad.runtime.generated`` rewrites them.

This module imports nothing but the standard library.
"""

from __future__ import annotations

import hashlib
import linecache
from pathlib import Path
from typing import Callable

GENERATED_DIRECTORY = Path(__file__).parent / "_generated"
FUNCTION_NAME = "_lambdifygenerated"


def function_from_module(text: str) -> Callable:
    """Execute generated module text and return its ``_lambdifygenerated`` function.

    The text is registered with :mod:`linecache` under a name derived from its hash, so tracebacks and
    ``inspect.getsource`` show the generated lines.
    """
    filename = f"<symgrad-generated-{hashlib.sha1(text.encode()).hexdigest()[:12]}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    namespace: dict = {}
    exec(compile(text, filename, "exec"), namespace)
    return namespace[FUNCTION_NAME]


def shipped_path(key: str) -> Path:
    return GENERATED_DIRECTORY / f"{key}.py"


def module_text(key: str, generate: Callable[[], str]) -> str:
    """The shipped copy of module ``key`` if there is one, else ``generate()`` (which runs SymPy)."""
    path = shipped_path(key)
    return path.read_text(encoding="utf-8") if path.is_file() else generate()


def load_function(key: str, generate: Callable[[], str]) -> Callable:
    """The function of module ``key``: from the shipped copy, or generated now."""
    return function_from_module(module_text(key, generate))


def shipped_generators() -> dict[str, Callable[[], str]]:
    """Every module that symgrad ships, by key, with the function that generates it from its derivation."""
    from symgrad.runtime.losses import shipped_modules

    return shipped_modules()


def write_shipped_modules() -> list[Path]:
    """Regenerate every shipped module from its derivation and remove copies nothing generates any more."""
    generators = shipped_generators()
    GENERATED_DIRECTORY.mkdir(exist_ok=True)
    written = []
    for key, generate in generators.items():
        path = shipped_path(key)
        path.write_text(generate(), encoding="utf-8")
        written.append(path)
    for path in GENERATED_DIRECTORY.glob("*.py"):
        if path.stem not in generators:
            path.unlink()
    return written


if __name__ == "__main__":
    for written_path in write_shipped_modules():
        print(f"wrote {written_path}")
