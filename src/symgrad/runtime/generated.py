"""The generated modules that run: the shipped ones, checked to be current, and text generated in this process.

Code generation (:mod:`symgrad.codegen`) writes one module per compiled loss and backend, plus the linear layer,
into ``_generated/<backend>/`` beside this file, so that the compiled losses import NumPy only, never SymPy. Each
records a digest of the sources it was generated from (the loss's declaration and the code generator); a shipped
module that is missing, or whose digest no longer matches those sources, is an error that names the
regeneration command, never a silent regeneration at run time.

This module imports nothing but the standard library.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import linecache
import types
from pathlib import Path

PACKAGE_DIRECTORY = Path(__file__).resolve().parents[1]
GENERATED_DIRECTORY = Path(__file__).resolve().parent / "_generated"
GENERATED_PACKAGE = "symgrad.runtime._generated"
BACKENDS = ("numpy", "jax")
REGENERATE_COMMAND = "python -m symgrad.codegen.regenerate"

LOSS_DECLARATIONS = PACKAGE_DIRECTORY / "symbolic" / "losses"
"""One file per compiled loss, named after it."""

LINEAR_LAYER = "linear_layer"
TWO_LAYER = "two_layer"
LAYER_DECLARATIONS = {
    LINEAR_LAYER: PACKAGE_DIRECTORY / "symbolic" / "objectives" / "linear_layer.py",
    TWO_LAYER: PACKAGE_DIRECTORY / "symbolic" / "objectives" / "two_layer.py",
}
"""The batch levels that are generated besides the losses, by name: where each is derived."""

CODE_GENERATOR_SOURCES = (
    "symbolic/derivation.py",
    "symbolic/index_form.py",
    "symbolic/notation.py",
    "symbolic/linear_model_loss.py",
    "codegen/printers.py",
    "codegen/modules.py",
    "codegen/rewriting.py",
    "codegen/loss_modules.py",
)
"""Sources every generated module depends on besides its own declaration (relative to the package)."""


class GeneratedModuleError(RuntimeError):
    """A shipped generated module is missing or stale: the message names the regeneration command."""


def declaration_path(name: str) -> Path:
    """The source a generated module is generated from: ``symbolic/losses/<name>.py`` or a layer's."""
    return LAYER_DECLARATIONS.get(name, LOSS_DECLARATIONS / f"{name}.py")


def declared_loss_names() -> tuple[str, ...]:
    """The compiled losses declared in ``symbolic/losses/``, by file name (read without importing SymPy)."""
    return tuple(sorted(path.stem for path in LOSS_DECLARATIONS.glob("*.py") if not path.stem.startswith("_")))


def source_digest(name: str) -> str:
    """SHA-256 (16 hex digits) of the declaration of ``name`` and of :data:`CODE_GENERATOR_SOURCES`."""
    digest = hashlib.sha256()
    for path in (declaration_path(name), *(PACKAGE_DIRECTORY / source for source in CODE_GENERATOR_SOURCES)):
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def generated_path(name: str, backend: str = "numpy") -> Path:
    """Where the shipped module of ``name`` for ``backend`` lives."""
    return GENERATED_DIRECTORY / backend / f"{name}.py"


def shipped_module(name: str, backend: str = "numpy") -> types.ModuleType:
    """The shipped generated module of ``name`` (a compiled loss, or ``"linear_layer"``) for ``backend``, imported
    after checking that it exists and was generated from today's sources.

    Raises:
        GeneratedModuleError: it is missing or stale (the message names :data:`REGENERATE_COMMAND`).
    """
    path = generated_path(name, backend)
    where = path.relative_to(PACKAGE_DIRECTORY.parent)
    if not path.is_file():
        raise GeneratedModuleError(f"{name}: the generated module {where} is missing; run `{REGENERATE_COMMAND}`")
    module = importlib.import_module(f"{GENERATED_PACKAGE}.{backend}.{name}")
    recorded = getattr(module, "SOURCE_DIGEST", None)
    if recorded != source_digest(name):
        raise GeneratedModuleError(
            f"{name}: the generated module {where} is stale (its declaration or the code generator changed since "
            f"it was generated); run `{REGENERATE_COMMAND}`"
        )
    return module


@functools.lru_cache(maxsize=None)
def linear_layer(backend: str = "numpy") -> types.ModuleType:
    """The generated batch level for ``backend``: ``scores``, ``data_objective_and_gradient``,
    ``l2_penalty_and_gradient``."""
    return shipped_module(LINEAR_LAYER, backend)


@functools.lru_cache(maxsize=None)
def two_layer(backend: str = "numpy") -> types.ModuleType:
    """The generated forward and backward passes of the two-layer ReLU network for ``backend``: ``hidden_layer``,
    ``relu``, ``output_layer``, ``mean_score_gradients``, ``output_layer_gradients``, ``relu_gradient``,
    ``hidden_layer_gradients``
    (see :mod:`symgrad.symbolic.objectives.two_layer`)."""
    return shipped_module(TWO_LAYER, backend)


def module_from_text(text: str, name: str) -> types.ModuleType:
    """Execute generated module text as a module called ``name``.

    The text is registered with :mod:`linecache` under a name derived from its hash, so tracebacks and
    ``inspect.getsource`` show the generated lines.
    """
    filename = f"<symgrad-generated-{hashlib.sha1(text.encode()).hexdigest()[:12]}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    exec(compile(text, filename, "exec"), module.__dict__)
    return module


def module_source(module: types.ModuleType) -> str:
    """The text of a generated module, shipped or executed from text."""
    filename = module.__file__
    if filename in linecache.cache:
        return "".join(linecache.cache[filename][2])
    return Path(filename).read_text(encoding="utf-8")
