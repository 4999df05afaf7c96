"""symgrad as an installed library: its version from the package metadata, the types that mypy sees through the
lazy loader (a user's script passes ``mypy --strict``), the optional dependencies named when missing, and a wheel
that builds, installs and imports in a fresh virtual environment holding only NumPy, SymPy and threadpoolctl."""

import ast
import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

import symgrad
from symgrad.runtime.catalog import compiled_loss
from symgrad.runtime.generated import declared_loss_names

REPOSITORY = Path(__file__).resolve().parents[1]
SOURCE = REPOSITORY / "src"

USER_SCRIPT = '''\
"""A user's script of symgrad's public API."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

import symgrad
from symgrad.cs231n import LinearSVM, Softmax, grad_check_sparse, softmax_loss_vectorized, svm_loss_naive


def squared_norm(x: npt.NDArray[np.float64]) -> float:
    return float(np.sum(x**2))


def linear_classifier(seed: int) -> tuple[float, bool, float]:
    rng = np.random.default_rng(seed)
    W, X, y = rng.normal(size=(3, 5)), rng.normal(size=(20, 5)), rng.integers(0, 3, 20)
    loss, dW = symgrad.svm_loss_and_grad(W, X, y, reg=0.1, delta=1.0)
    w_loss, dw = symgrad.squared_loss_and_grad(W[0], X, rng.normal(size=20))
    report: symgrad.GradientReport = symgrad.check_gradient(
        lambda V: symgrad.softmax_loss_and_grad(V, X, y)[0], symgrad.softmax_loss_and_grad(W, X, y)[1], W,
        mode="sparse", samples=4, seed=0,
    )
    symgrad.assert_gradient(squared_norm, lambda x: 2 * x, np.ones(3))
    subgradient = symgrad.check_subgradient(lambda x: float(np.abs(x).sum()), np.zeros(2), np.zeros(2), convex=True)
    taylor = symgrad.check_taylor_remainder(squared_norm, lambda x: 2 * x, np.ones(3))
    numerical: np.ndarray = symgrad.numerical_gradient(squared_norm, np.ones(3), h=1e-5)
    error: float = symgrad.relative_error(numerical, 2 * np.ones(3)) + symgrad.TOLERANCES[np.dtype(np.float64)]
    history: symgrad.TrainingHistory = symgrad.minibatch_gradient_descent(
        symgrad.svm_loss_and_grad, X, y, learning_rate=0.1, steps=5, batch_size=8, progress=False
    )
    others = [
        symgrad.full_batch_gradient_descent(symgrad.softmax_loss_and_grad, X, y, learning_rate=lambda k: 0.1, steps=2),
        symgrad.stochastic_gradient_descent(symgrad.svm_loss_and_grad, X, y, learning_rate=0.1, steps=2),
        symgrad.random_search(symgrad.svm_loss_and_grad, X, y, candidates=2, rng=0),
        symgrad.random_local_search(symgrad.svm_loss_and_grad, X, y, steps=2, W0=W),
    ]
    predictions: np.ndarray = symgrad.predict(history.W, X)
    sweep = symgrad.step_size_sweep(symgrad.svm_loss_and_grad, W, X, y)
    slice_1d: np.ndarray = symgrad.loss_slice_1d(symgrad.svm_loss_and_grad, W, W, np.linspace(-1, 1, 5), X, y)
    slice_2d: np.ndarray = symgrad.loss_slice_2d(
        symgrad.svm_loss_and_grad, W, W, W, np.linspace(-1, 1, 5), np.linspace(-1, 1, 3), X, y
    )
    demo = symgrad.hinge_demo(symgrad.svm_loss_and_grad, W, W, X[:3], y[:3], np.linspace(-1, 1, 5))
    function = symgrad.loss_and_grad_function("softmax", backend="numpy")
    descent = symgrad.gradient_descent(lambda w: 2 * w, np.ones(2), symgrad.LineSearch(squared_norm), 3)
    rates = [sweep.best_step_size, float(demo.total[0]), float(descent.w[0]), float(function(W, X, y)[0])]
    parts = [loss, w_loss, float(dW.sum() + dw.sum()), error, taylor.slope, *rates, float(slice_1d.sum() + slice_2d.sum())]
    ok: bool = report.ok and subgradient.ok and all(len(h.losses) > 0 for h in others)
    return sum(parts), ok, symgrad.accuracy(history.W, X, y) + float(predictions.mean())


def derivations() -> list[str]:
    polynomial: symgrad.Derivation = symgrad.get_derivation("polynomial")
    proved: bool = polynomial.verify()
    compiled = symgrad.compile_derivation(polynomial)
    gradient: np.ndarray = compiled.gradient(np.array([1.0, 2.0, 3.0]))
    mine = symgrad.derive("w1**2 + 3*w1*w2", "w1, w2", expected="2*w1 + 3*w2, 3*w1")
    report = symgrad.check_derivation(mine, np.array([1.0, 2.0]))
    points = symgrad.critical_points(symgrad.get_derivation("bowl_2d"))
    names: tuple[str, ...] = symgrad.loss_names("classifier")
    registered = [d.name for d in symgrad.all_derivations()]
    my_loss = symgrad.define_loss("my_hinge", "sum_other(max(0, s[j] - s[y] + delta)**2)", parameters={"delta": 1.0})
    return [polynomial.pretty(), str(proved), str(gradient), str(report.ok), str(len(points)), *names, *registered,
            str(my_loss), symgrad.LossParameter.__name__, symgrad.__version__, symgrad.register.__name__]


def assignment() -> float:
    rng = np.random.default_rng(0)
    W, X, y = 1e-4 * rng.normal(size=(5, 3)), rng.normal(size=(20, 5)), rng.integers(0, 3, 20)
    loss, grad = svm_loss_naive(W, X, y, 0.0)
    report = grad_check_sparse(lambda w: softmax_loss_vectorized(w, X, y, 0.0)[0], W, grad, num_checks=2)
    model = Softmax() if report.ok else LinearSVM()
    history: list[float] = model.train(X, y, num_iters=3)
    return loss + history[-1] + float(np.mean(model.predict(X) == y))


def two_layer(seed: int) -> float:
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(size=(4, 5)), "b1": np.zeros(4), "W2": rng.normal(size=(3, 4)), "b2": np.zeros(3)}
    X, y = rng.normal(size=(20, 5)), rng.integers(0, 3, 20)
    loss, gradients = symgrad.two_layer_loss_and_grad(params, X, y, "svm", reg=0.1, relu_kink_value=0.5)
    as_dataclass = symgrad.two_layer_loss_and_grad(symgrad.TwoLayerParameters(**params), X, y)[1]
    history: symgrad.TrainingHistory = symgrad.train_two_layer(X, y, hidden=4, steps=3, progress=False)
    accuracy: float = symgrad.two_layer_accuracy(history.W, X, y)
    return loss + float(gradients["W1"].sum() + as_dataclass.W2.sum()) + accuracy


def data() -> symgrad.Dataset:
    digits = symgrad.load_digits_dataset(rng=0)
    return symgrad.load_cifar10("cifar-10-batches-py") if digits.num_classes != 10 else digits


def chunks(path: str) -> object:
    return symgrad.read_npy_in_chunks(path, memory_budget=2**20)
'''

# Each line is a mistake mypy must report: the types are real, not Any.
MISTAKES = '''\
import numpy as np
import symgrad

name: int = symgrad.__version__
error: str = symgrad.relative_error(np.ones(2), np.ones(2))
symgrad.no_such_function()
symgrad.svm_loss_and_grad(np.ones((2, 2)), np.ones((3, 2)), np.zeros(3), reg="strong")
'''


def run_mypy(script: str, tmp_path: Path, *options: str, environment=None) -> subprocess.CompletedProcess:
    path = tmp_path / "user_script.py"
    path.write_text(script)
    command = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"),
               *options, str(path)]
    return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tmp_path)


def mypy_with_source_tree() -> dict:
    """The environment for mypy to read this checkout's package (not an installed one), reporting only the script."""
    return {**os.environ, "MYPYPATH": str(SOURCE)}


def test_version_is_the_package_metadata():
    version = re.search(r'^version = "([^"]+)"', (REPOSITORY / "pyproject.toml").read_text(), re.MULTILINE)[1]
    assert symgrad.__version__ == importlib.metadata.version("symgrad") == version


def test_type_checkers_see_every_public_name_through_the_lazy_loader():
    tree = ast.parse((SOURCE / "symgrad" / "__init__.py").read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    imported = {alias.asname: node.module for node in block.body if isinstance(node, ast.ImportFrom)
                for alias in node.names if alias.asname}
    declared = {node.target.id: ast.unparse(node.annotation) for node in block.body if isinstance(node, ast.AnnAssign)}
    assert imported == symgrad._PUBLIC_NAMES
    kinds = {name + "_loss_and_grad": compiled_loss(name).kind for name in declared_loss_names()}
    assert declared == {"__version__": "str", **{
        name: "ClassifierLossFunction" if kind == "classifier" else "RegressionLossFunction" for name, kind in kinds.items()
    }}


def test_a_user_script_of_the_public_api_passes_mypy_strict(tmp_path):
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    result = run_mypy(USER_SCRIPT, tmp_path, "--follow-imports=silent", environment=mypy_with_source_tree())
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_reports_mistakes_in_a_user_script(tmp_path):
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    result = run_mypy(MISTAKES, tmp_path, "--follow-imports=silent", environment=mypy_with_source_tree())
    reported = sorted({int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line})
    assert reported == [4, 5, 6, 7], result.stdout


@pytest.mark.parametrize("blocked, statement, extra", [
    ("hypothesis", "import symgrad.verification.hypothesis_strategies", "check"),
    ("dask", "import symgrad; symgrad.read_npy_in_chunks('features.npy', rows_per_chunk=1)", "dask"),
])
def test_a_missing_optional_dependency_is_named_with_its_extra(blocked, statement, extra):
    code = f"import sys; sys.modules[{blocked!r}] = None  # as if not installed\n{statement}\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].endswith(f"pip install 'symgrad[{extra}]'")


WHEEL_CHECK = """
import importlib.metadata, sys
import numpy as np
import symgrad
print(symgrad.__version__)
loss, dW = symgrad.svm_loss_and_grad(np.zeros((3, 2)), np.ones((4, 2)), np.array([0, 1, 2, 0]))
assert loss == 2.0 and dW.shape == (3, 2)
assert symgrad.get_derivation("polynomial").verify()
assert symgrad.check_gradient(lambda x: float(np.sum(x**2)), lambda x: 2 * x, np.ones(3)).ok
print(sorted(d.metadata["Name"].lower() for d in importlib.metadata.distributions()))
"""


def test_the_wheel_installs_and_imports_in_a_fresh_venv_with_only_numpy_sympy_and_threadpoolctl(tmp_path):
    pytest.importorskip("build", reason="build is in the test extra: pip install -e '.[test]'")
    start = time.perf_counter()
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(REPOSITORY)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("symgrad-*.whl")
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = str(environment / "bin" / "python")
    # Nothing of this process's environment may reach the fresh one (PYTHONPATH=src would import the checkout).
    clean = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    installed = subprocess.run([python, "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True,
                               env=clean)
    assert installed.returncode == 0, installed.stderr[-3000:]
    # Run outside the checkout, so that the installed package is the one imported.
    checked = subprocess.run([python, "-c", WHEEL_CHECK], capture_output=True, text=True, cwd=tmp_path, env=clean)
    assert checked.returncode == 0, checked.stderr[-3000:]
    version, distributions = checked.stdout.strip().splitlines()
    assert version == symgrad.__version__
    assert set(ast.literal_eval(distributions)) - {"pip", "setuptools"} == {
        "symgrad", "numpy", "sympy", "mpmath", "threadpoolctl"}
    listing = subprocess.run([python, "-c", "import importlib.metadata as m; print([str(f) for f in m.files('symgrad')])"],
                             capture_output=True, text=True, cwd=tmp_path, env=clean).stdout
    assert "symgrad/py.typed" in listing and "LICENSE" in listing   # the type marker and the license ship
    if importlib.util.find_spec("mypy") is not None:  # mypy reads the installed package, through its py.typed
        result = run_mypy(USER_SCRIPT, tmp_path, "--python-executable", python)
        assert result.returncode == 0, result.stdout + result.stderr
    print(f"wheel built, installed and checked in {time.perf_counter() - start:.1f} s")
