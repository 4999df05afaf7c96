"""The package's layers, read from the source: imports only point down, there is no import cycle (function-level
imports included), no private name crosses a module boundary, and the run-time path never reaches SymPy."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SOURCE / "symgrad"

LAYERS = (
    "symgrad.validation",
    "symgrad.runtime",
    "symgrad.symbolic",
    "symgrad.notation",
    "symgrad.codegen",
    "symgrad.verification",
    "symgrad.training",
    "symgrad.backends",
    "symgrad.cli",
    "symgrad.cs231n",
)
"""Bottom to top: a module may import from its own layer and the layers below it."""

RUN_TIME_PATH = (
    "symgrad.validation",
    "symgrad.runtime",
    "symgrad.verification.checker",
    "symgrad.verification.numerical",
    "symgrad.verification.taylor",
    "symgrad.training",
    "symgrad.backends",
)
"""Modules (and packages) that must never import SymPy, directly or through other modules."""


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_modules() -> dict[str, ast.Module]:
    return {module_name(path): ast.parse(path.read_text(), str(path)) for path in sorted(PACKAGE.rglob("*.py"))
            if "_generated" not in path.parts}


MODULES = source_modules()


def imports(tree: ast.Module, importer: str) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for every import statement, at any depth (function-level too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = importer.split(".")[: len(importer.split(".")) - node.level + (importer in PACKAGES)]
                base = ".".join(package + ([base] if base else []))
            names = [alias.name for alias in node.names]
            submodules = [name for name in names if f"{base}.{name}" in MODULES]
            if len(submodules) < len(names):
                found.append((base, [name for name in names if name not in submodules]))
            found += [(f"{base}.{name}", []) for name in submodules]
    return found


PACKAGES = {name for name, _ in MODULES.items() if (SOURCE / name.replace(".", "/") / "__init__.py").is_file()}


def internal_edges() -> dict[str, set[str]]:
    return {
        importer: {imported for imported, _ in imports(tree, importer) if imported in MODULES and imported != importer}
        for importer, tree in MODULES.items()
    }


def layer_of(module: str) -> int | None:
    return next((index for index, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + ".")), None)


def test_every_module_belongs_to_a_layer():
    assert [m for m in MODULES if layer_of(m) is None and m not in ("symgrad", "symgrad.__main__")] == []


def test_imports_only_point_down():
    upward = [
        f"{importer} -> {imported}"
        for importer, targets in internal_edges().items()
        for imported in targets
        if imported != "symgrad" and layer_of(importer) is not None and layer_of(imported) > layer_of(importer)
    ]
    assert upward == []


def test_there_is_no_import_cycle_function_level_imports_included():
    edges = internal_edges()
    state, cycles = {}, []

    def visit(module, path):
        state[module] = "open"
        for imported in sorted(edges.get(module, ())):
            if state.get(imported) == "open":
                cycles.append(" -> ".join(path[path.index(imported):] + [imported]))
            elif imported not in state:
                visit(imported, path + [imported])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_private_name_is_imported_across_modules():
    private = [
        f"{importer}: {name} from {imported}"
        for importer, tree in MODULES.items()
        for imported, names in imports(tree, importer)
        for name in names
        if imported.startswith("symgrad") and name.startswith("_") and not name.startswith("__")
    ]
    assert private == []


def reachable(start: str) -> set[str]:
    """Every module and external top-level package ``start`` imports, transitively."""
    seen, frontier = set(), [start]
    while frontier:
        module = frontier.pop()
        if module in seen:
            continue
        seen.add(module)
        if module in MODULES:
            frontier += [imported if imported in MODULES else imported.split(".")[0]
                         for imported, _ in imports(MODULES[module], module)]
    return seen


@pytest.mark.parametrize("module", [m for m in MODULES if any(m == p or m.startswith(p + ".") for p in RUN_TIME_PATH)])
def test_the_run_time_path_never_reaches_sympy(module):
    reached = reachable(module)
    assert "sympy" not in reached
    assert not {m for m in reached if m.startswith(("symgrad.symbolic", "symgrad.codegen"))}
    assert "symgrad" not in reached - {module}, "the package root loads names lazily: import the module itself"


def test_a_loss_a_gradient_check_and_a_training_run_import_no_sympy():
    code = (
        "import sys, numpy as np, symgrad\n"
        "rng = np.random.default_rng(0)\n"
        "X, y = rng.normal(size=(40, 5)), rng.integers(0, 3, 40)\n"
        "W = np.zeros((3, 5))\n"
        "f = lambda V: symgrad.softmax_loss_and_grad(V, X, y)[0]\n"
        "assert symgrad.check_gradient(f, symgrad.softmax_loss_and_grad(W, X, y)[1], W).ok\n"
        "run = symgrad.minibatch_gradient_descent(symgrad.svm_loss_and_grad, X, y, learning_rate=0.1, steps=5,"
        " batch_size=8, progress=False)\n"
        "symgrad.gradient_descent(lambda w: 2 * w, np.ones(2), 0.1, 3)\n"
        "print('sympy' in sys.modules)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "False"
