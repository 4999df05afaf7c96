"""Malformed input thrown at every public function: only a result or the documented ValueError / TypeError."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import symgrad
from symgrad.codegen.compile import compile_derivation
from symgrad.training.descent import TrainingDiverged

dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, np.str_, object])
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


@st.composite
def arrays(draw):
    """Arrays of any small shape and dtype, with NaN and inf among the floats, or a non-array value."""
    dtype = draw(dtypes)
    shape = draw(shapes)
    if dtype in (np.float64, np.float32):
        return draw(hnp.arrays(dtype, shape, elements=st.floats(width=32 if dtype == np.float32 else 64)))
    if dtype is np.int64:
        return draw(hnp.arrays(dtype, shape, elements=st.integers(-3, 12)))
    if dtype is np.bool_:
        return draw(hnp.arrays(dtype, shape))
    if dtype is np.complex128:
        return draw(hnp.arrays(dtype, shape, elements=st.complex_numbers(max_magnitude=10)))
    if dtype is np.str_:
        return np.full(shape, "w")
    return draw(st.sampled_from([None, [1.0, "a"], {"W": 1}, 3.5, "text"]))


def sum_of_squares(v):
    """sum(v^2), inf without a warning for the huge values drawn (their square overflows on purpose)."""
    with np.errstate(over="ignore"):
        return float(np.sum(np.square(v)))


def twice(v):
    """2 v, inf without a warning for the huge values drawn."""
    with np.errstate(over="ignore"):
        return 2 * np.asarray(v)


numbers = st.one_of(st.floats(), st.integers(-5, 5), st.none(), st.text(max_size=2), st.booleans())
DOCUMENTED = (ValueError, TypeError)
fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_documented_errors(call):
    try:
        call()
    except DOCUMENTED:
        pass


def only_named_errors(call, names):
    """``call()`` returns, or raises a documented error (ValueError, TypeError, TrainingDiverged, OSError) whose
    message starts with one of ``names``, followed by ":" or "[" (an argument's name or a file path)."""
    try:
        call()
    except (*DOCUMENTED, TrainingDiverged, OSError) as error:
        message = str(error)
        assert message.startswith(tuple(names)), f"{type(error).__name__} not naming one of {names}: {message}"


@fuzz
@given(arrays(), arrays(), arrays(), numbers)
@pytest.mark.parametrize("name", ["svm_loss_and_grad", "softmax_loss_and_grad"])
def test_classifier_losses(name, W, X, y, reg):
    only_documented_errors(lambda: getattr(symgrad, name)(W, X, y, reg=reg))


@fuzz
@given(arrays(), arrays(), arrays())
def test_squared_loss(w, X, y):
    only_documented_errors(lambda: symgrad.squared_loss_and_grad(w, X, y))


@fuzz
@given(arrays(), numbers, st.sampled_from(["centered", "forward", "backward", 3]))
def test_numerical_gradient(x, h, method):
    # numerical.py (not this file's concern) warns "overflow in cast" for a float32 x with a step h near 3e38
    with np.errstate(over="ignore", invalid="ignore"):
        only_documented_errors(lambda: symgrad.numerical_gradient(sum_of_squares, x, h=h, method=method))


@fuzz
@given(arrays(), arrays())
def test_relative_error(a, b):
    with np.errstate(over="ignore", invalid="ignore"):  # numerical.py divides inf by inf for drawn values near 1e308
        only_documented_errors(lambda: symgrad.relative_error(a, b))


@fuzz
@given(arrays(), st.one_of(numbers, st.lists(st.floats(0, 1), max_size=4)), st.one_of(st.integers(-2, 5), st.floats(), st.none()))
def test_gradient_descent(w0, learning_rate, steps):
    # a learning rate drawn large enough makes the run diverge: that is the documented TrainingDiverged
    only_named_errors(
        lambda: symgrad.gradient_descent(twice, w0, learning_rate, steps),
        ("w0", "learning_rate", "steps", "grad", "gradient descent diverged at step"),
    )


@fuzz
@given(arrays(), st.sampled_from(["full", "sparse", "directional", "fast", None]))
def test_check_gradient(x, mode):
    with np.errstate(over="ignore", invalid="ignore"):  # huge drawn points: the checker's own arithmetic overflows
        only_documented_errors(lambda: symgrad.check_gradient(sum_of_squares, twice, x, mode=mode))


@fuzz
@given(arrays(), arrays())
def test_check_subgradient(x, g):
    with np.errstate(over="ignore", invalid="ignore"):  # the checker's probes overflow at drawn points near 1e308
        only_documented_errors(lambda: symgrad.check_subgradient(lambda v: float(np.sum(np.abs(v))), g, x))


@fuzz
@given(st.one_of(st.text(max_size=12), st.none(), st.integers()))
def test_get_derivation(name):
    only_documented_errors(lambda: symgrad.get_derivation(name))


@fuzz
@given(st.text(max_size=20), st.one_of(st.text(max_size=6), st.lists(st.text(max_size=3), max_size=3), st.none()))
def test_derive(expression, wrt):
    only_documented_errors(lambda: symgrad.derive(expression, wrt))


@fuzz
@given(arrays())
def test_compiled_gradient_of_a_derivation(x):
    compiled = compile_derivation(symgrad.get_derivation("polynomial"))
    with np.errstate(over="ignore", invalid="ignore"):  # x1**3 of a drawn 1e300 is inf, as IEEE says
        only_documented_errors(lambda: compiled.gradient(x))
        only_documented_errors(lambda: compiled.value(x))


def problem(dtype):
    rng = np.random.default_rng(0)
    return rng.normal(size=(4, 6)).astype(dtype), rng.normal(size=(7, 6)).astype(dtype), rng.integers(0, 4, 7)


@pytest.mark.parametrize("name", ["svm_loss_and_grad", "softmax_loss_and_grad"])
def test_read_only_and_non_contiguous_inputs_are_accepted_and_never_modified(name):
    W, X, y = problem(np.float64)
    expected = getattr(symgrad, name)(W, X, y, reg=0.1)
    wide = np.zeros((7, 12))
    wide[:, ::2] = X
    strided = wide[:, ::2]
    W_fortran = np.asfortranarray(W)
    copies = [a.copy() for a in (W_fortran, strided, y)]
    for array in (W_fortran, strided, y):
        array.flags.writeable = False
    loss, dW = getattr(symgrad, name)(W_fortran, strided, y, reg=0.1)
    assert loss == pytest.approx(expected[0]) and np.allclose(dW, expected[1])
    for array, copy in zip((W_fortran, strided, y), copies, strict=True):
        np.testing.assert_array_equal(array, copy)


@pytest.mark.parametrize("name", ["svm_loss_and_grad", "softmax_loss_and_grad"])
def test_float32_in_float32_out(name):
    W, X, y = problem(np.float32)
    loss, dW = getattr(symgrad, name)(W, X, y, reg=0.1)
    assert dW.dtype == np.float32 and isinstance(loss, float)


# ------------------------------------------------------------------------------------------------------------------
# Bad input by category, for every public function of the training layer (descent, data, landscapes, figures), for
# critical_points, and for the non-formula subcommands. Each case names its category; the ids read
# "category/function/n", so `pytest --collect-only -q tests/test_fuzz_public_api.py -k "by_category"` counts them.
# Library contract: a result, or the documented exception whose message starts with the argument's name (a file's
# path for a file that is wrong). Command contract: exit 0, or exit 2 with one line on stderr.

import functools  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

from symgrad.training import datasets, landscape, plotting  # noqa: E402

CATEGORIES = (
    "wrong-type", "wrong-shape", "empty", "nan-inf", "out-of-range", "swapped", "huge", "unusable-path",
    "missing-extra", "closed-pipe",
)
REPOSITORY = Path(__file__).resolve().parents[1]


def write_batch(path, images, labels):
    """A CIFAR-10 batch as the python version stores it: a protocol-2 pickle of a bytes-keyed dict."""
    content = {b"batch_label": b"batch", b"labels": [int(v) for v in labels], b"data": images}
    path.write_bytes(pickle.dumps(content, protocol=2))


@functools.cache
def context():
    """Digits, a point and directions for the slices, a tiny CIFAR-10 folder and one with a malformed batch."""
    rng = np.random.default_rng(0)
    data = datasets.load_digits_dataset(rng=0)
    root = Path(tempfile.mkdtemp(prefix="symgrad-fuzz-"))
    folders = {name: root / name for name in ("cifar", "wide", "empty", "unreadable")}
    for folder in folders.values():
        folder.mkdir()
    for name in datasets.CIFAR10_TRAINING_FILES:
        write_batch(folders["cifar"] / name, rng.integers(0, 256, (20, 3072), dtype=np.uint8), rng.integers(0, 10, 20))
        write_batch(folders["wide"] / name, np.zeros((20, 3000), dtype=np.uint8), [0] * 20)
        (folders["unreadable"] / name).mkdir()  # a folder where the batch file should be
    write_batch(folders["cifar"] / "test_batch", rng.integers(0, 256, (16, 3072), dtype=np.uint8), [1] * 16)
    (folders["cifar"] / "batches.meta").write_bytes(
        pickle.dumps({b"label_names": [f"class {c}".encode() for c in range(10)]}, protocol=2)
    )
    a_file = root / "a_file"
    a_file.write_text("")
    W = 1e-3 * rng.standard_normal((10, 65))
    W1, W2 = landscape.random_directions(W.shape, 2, rng)
    X, y = data.X_dev, data.y_dev
    sweep = landscape.step_size_sweep(symgrad.svm_loss_and_grad, W, X, y, [1e-3, 1e-1])
    return SimpleNamespace(data=data, W=W, W1=W1, W2=W2, X=X, y=y, root=root, a_file=a_file, sweep=sweep,
                           **folders)


def svm(*arguments, **options):
    return symgrad.svm_loss_and_grad(*arguments, **options)


def descent(grad=lambda w: 2 * w, w0=1.0, learning_rate=0.1, steps=5, **options):
    return symgrad.gradient_descent(grad, w0, learning_rate, steps, **options)


def sweep(c, W=None, X=None, y=None, step_sizes=(1e-3, 1e-1), **options):
    return landscape.step_size_sweep(svm, c.W if W is None else W, c.X if X is None else X, c.y if y is None else y,
                                     step_sizes, **options)


def slice_1d(c, W=None, W1=None, alphas=(0.0, 1.0), X=None, y=None, **options):
    return landscape.loss_slice_1d(svm, c.W if W is None else W, c.W1 if W1 is None else W1, alphas,
                                   c.X if X is None else X, c.y if y is None else y, **options)


def slice_2d(c, alphas=(0.0, 1.0), betas=(0.0, 1.0), **options):
    return landscape.loss_slice_2d(svm, c.W, c.W1, c.W2, alphas, betas, c.X, c.y, **options)


def hinge(c, X=None, y=None, alphas=(0.0, 1.0)):
    X = c.data.X_train[:3] if X is None else X
    return landscape.hinge_demo(svm, c.W, c.W1, X, c.data.y_train[:3] if y is None else y, alphas)


def cifar(c, folder=None, **options):
    sizes = dict(num_training=80, num_validation=20, num_test=10, num_dev=5)
    return datasets.load_cifar10(c.cifar if folder is None else folder, **{**sizes, **options})


def figure(c, path=None, alphas=(0.0, 1.0), curves=None):
    path = c.root / "out" / "figure.png" if path is None else path
    return plotting.plot_slice_1d(path, alphas, {"curve": [1.0, 2.0]} if curves is None else curves, loss="SVM", data="fuzz")


def finite_result(result):
    values = [result] if isinstance(result, (float, np.ndarray)) else [
        getattr(result, name) for name in ("w", "losses", "X_train", "example_losses") if hasattr(result, name)
    ]
    assert values and all(np.all(np.isfinite(v)) for v in values)


LIBRARY_CASES = [
    # function, category, call(context), expected error (None: a finite result), message prefix
    ("gradient_descent", "wrong-type", lambda c: descent(grad=3), TypeError, "grad"),
    ("gradient_descent", "wrong-type", lambda c: descent(w0="abc"), TypeError, "w0"),
    ("gradient_descent", "wrong-type", lambda c: descent(w0=1 + 2j), TypeError, "w0"),
    ("gradient_descent", "wrong-type", lambda c: descent(learning_rate="fast"), TypeError, "learning_rate"),
    ("gradient_descent", "wrong-type", lambda c: descent(steps=2.5), TypeError, "steps"),
    ("gradient_descent", "wrong-type", lambda c: descent(tolerance="1e-3"), TypeError, "tolerance"),
    ("gradient_descent", "wrong-type", lambda c: descent(grad=lambda w: w + 1j), TypeError, "grad"),
    ("gradient_descent", "wrong-shape", lambda c: descent(grad=lambda w: np.zeros(3), w0=[1.0, 2.0]), ValueError, "grad"),
    ("gradient_descent", "wrong-shape", lambda c: descent(grad=lambda w: 1.0, w0=[1.0, 2.0]), ValueError, "grad"),
    ("gradient_descent", "wrong-shape", lambda c: descent(learning_rate=[0.1, 0.1], steps=3), ValueError, "learning_rate"),
    ("gradient_descent", "empty", lambda c: descent(w0=[]), ValueError, "w0"),
    ("gradient_descent", "empty", lambda c: descent(learning_rate=[], steps=3), ValueError, "learning_rate"),
    ("gradient_descent", "nan-inf", lambda c: descent(w0=np.nan), ValueError, "w0"),
    ("gradient_descent", "nan-inf", lambda c: descent(learning_rate=np.nan), ValueError, "learning_rate"),
    ("gradient_descent", "nan-inf", lambda c: descent(learning_rate=lambda k: np.inf), ValueError, "learning_rate(0)"),
    ("gradient_descent", "nan-inf", lambda c: descent(tolerance=np.inf), ValueError, "tolerance"),
    ("gradient_descent", "nan-inf", lambda c: descent(grad=lambda w: w * np.nan), ValueError, "grad"),
    ("gradient_descent", "nan-inf", lambda c: descent(grad=lambda w: 2 * w if w == 1 else np.inf * w), TrainingDiverged,
     "gradient descent diverged at step 1"),
    ("gradient_descent", "out-of-range", lambda c: descent(steps=-1), ValueError, "steps"),
    ("gradient_descent", "out-of-range", lambda c: descent(learning_rate=-0.1), ValueError, "learning_rate"),
    ("gradient_descent", "out-of-range", lambda c: descent(tolerance=0), ValueError, "tolerance"),
    ("gradient_descent", "swapped", lambda c: symgrad.gradient_descent(3.0, lambda w: 2 * w, 0.1, 5), TypeError, "grad"),
    ("gradient_descent", "swapped", lambda c: symgrad.gradient_descent(lambda w: 2 * w, 3.0, 5, 0.1), TypeError, "steps"),
    ("gradient_descent", "huge", lambda c: descent(w0=1e300), None, ""),
    ("gradient_descent", "huge", lambda c: descent(learning_rate=1e200), TrainingDiverged, "gradient descent diverged"),
    ("gradient_descent", "huge", lambda c: descent(w0=1e307, learning_rate=1e10), TrainingDiverged,
     "gradient descent diverged at step 0: the update"),
    ("LineSearch", "wrong-type", lambda c: symgrad.LineSearch(3), TypeError, "objective"),
    ("LineSearch", "wrong-type", lambda c: symgrad.LineSearch(abs, "abc"), TypeError, "step_sizes"),
    ("LineSearch", "wrong-type", lambda c: descent(learning_rate=symgrad.LineSearch(lambda w: [1.0, 2.0])), TypeError,
     "objective"),
    ("LineSearch", "empty", lambda c: symgrad.LineSearch(abs, ()), ValueError, "step_sizes"),
    ("LineSearch", "nan-inf", lambda c: symgrad.LineSearch(abs, [np.nan]), ValueError, "step_sizes[0]"),
    ("LineSearch", "nan-inf", lambda c: descent(learning_rate=symgrad.LineSearch(lambda w: np.nan)), ValueError,
     "objective"),
    ("LineSearch", "out-of-range", lambda c: symgrad.LineSearch(abs, [0.1, -1.0]), ValueError, "step_sizes[1]"),
    ("LineSearch", "swapped", lambda c: symgrad.LineSearch([0.1], abs), TypeError, "objective"),
    ("LineSearch", "huge", lambda c: descent(learning_rate=symgrad.LineSearch(lambda w: w**2, [1e300])), None, ""),
    ("load_digits_dataset", "wrong-type", lambda c: datasets.load_digits_dataset(num_dev=1.5), TypeError, "num_dev"),
    ("load_digits_dataset", "wrong-type", lambda c: datasets.load_digits_dataset(rng="abc"), TypeError, "rng"),
    ("load_digits_dataset", "wrong-type", lambda c: datasets.load_digits_dataset("0.2"), TypeError, "test_fraction"),
    ("load_digits_dataset", "wrong-type", lambda c: datasets.load_digits_dataset(dtype="abc"), TypeError, "dtype"),
    ("load_digits_dataset", "wrong-type", lambda c: datasets.load_digits_dataset(dtype=np.int32), TypeError, "dtype"),
    ("load_digits_dataset", "nan-inf", lambda c: datasets.load_digits_dataset(np.nan), ValueError, "test_fraction"),
    ("load_digits_dataset", "nan-inf", lambda c: datasets.load_digits_dataset(validation_fraction=np.inf), ValueError,
     "validation_fraction"),
    ("load_digits_dataset", "out-of-range", lambda c: datasets.load_digits_dataset(num_dev=-1), ValueError, "num_dev"),
    ("load_digits_dataset", "out-of-range", lambda c: datasets.load_digits_dataset(rng=-5), ValueError, "rng"),
    ("load_digits_dataset", "out-of-range", lambda c: datasets.load_digits_dataset(1.5), ValueError, "test_fraction"),
    ("load_digits_dataset", "out-of-range", lambda c: datasets.load_digits_dataset(0.5, 0.5), ValueError,
     "test_fraction + validation_fraction"),
    ("load_digits_dataset", "swapped", lambda c: datasets.load_digits_dataset(100, 0.25), ValueError, "test_fraction"),
    ("load_digits_dataset", "huge", lambda c: datasets.load_digits_dataset(num_dev=10**30), ValueError, "num_dev"),
    ("load_digits_dataset", "huge", lambda c: datasets.load_digits_dataset(rng=2**200), None, ""),
    ("load_cifar10", "wrong-type", lambda c: datasets.load_cifar10(5), TypeError, "directory"),
    ("load_cifar10", "wrong-type", lambda c: cifar(c, num_training="80"), TypeError, "num_training"),
    ("load_cifar10", "wrong-type", lambda c: cifar(c, num_dev=2.5), TypeError, "num_dev"),
    ("load_cifar10", "wrong-type", lambda c: cifar(c, rng="abc"), TypeError, "rng"),
    ("load_cifar10", "wrong-type", lambda c: cifar(c, dtype="text"), TypeError, "dtype"),
    ("load_cifar10", "wrong-shape", lambda c: cifar(c, folder=c.wide), ValueError, "{wide}/data_batch_1: b'data' rows"),
    ("load_cifar10", "empty", lambda c: cifar(c, folder=c.empty), FileNotFoundError, "{empty}/data_batch_1: is missing"),
    ("load_cifar10", "empty", lambda c: cifar(c, num_training=0), ValueError, "num_training"),
    ("load_cifar10", "out-of-range", lambda c: cifar(c, num_training=100, num_validation=1), ValueError,
     "num_training + num_validation"),
    ("load_cifar10", "out-of-range", lambda c: cifar(c, num_test=17), ValueError, "num_test"),
    ("load_cifar10", "out-of-range", lambda c: cifar(c, num_dev=81), ValueError, "num_dev"),
    ("load_cifar10", "out-of-range", lambda c: cifar(c, num_validation=-1), ValueError, "num_validation"),
    ("load_cifar10", "swapped", lambda c: datasets.load_cifar10(80, c.cifar), TypeError, "directory"),
    ("load_cifar10", "huge", lambda c: cifar(c, num_training=10**30), ValueError, "num_training + num_validation"),
    ("load_cifar10", "unusable-path", lambda c: cifar(c, folder=c.unreadable), FileNotFoundError,
     "{unreadable}/data_batch_1: is a folder, not a file"),
    ("load_cifar10", "unusable-path", lambda c: cifar(c, folder=c.a_file), FileNotFoundError, "directory"),
    ("load_cifar10_batch", "wrong-type", lambda c: datasets.load_cifar10_batch(None), TypeError, "path"),
    ("load_cifar10_batch", "empty", lambda c: datasets.load_cifar10_batch(c.a_file), ValueError,
     "{a_file}: not a readable CIFAR-10 pickle"),
    ("load_cifar10_batch", "wrong-shape", lambda c: datasets.load_cifar10_batch(c.wide / "data_batch_1"), ValueError,
     "{wide}/data_batch_1"),
    ("preprocess", "nan-inf", lambda c: datasets.preprocess(([[np.nan]], [0]), ([[1.0]], [0]), ([[1.0]], [0]), "ab",
                                                            num_dev=0), ValueError, "train: images must be finite"),
    ("preprocess", "wrong-type", lambda c: datasets.preprocess(([[1.0]], [0.5]), ([[1.0]], [0]), ([[1.0]], [0]), "ab",
                                                               num_dev=0), TypeError, "train: labels must be integers"),
    ("preprocess", "wrong-shape", lambda c: datasets.preprocess(([[1.0]], [0]), ([[1.0, 2.0]], [0]), ([[1.0]], [0]),
                                                                "ab", num_dev=0), ValueError, "validation"),
    ("step_size_sweep", "wrong-type", lambda c: landscape.step_size_sweep(3, c.W, c.X, c.y), TypeError, "loss_and_grad"),
    ("step_size_sweep", "wrong-type", lambda c: sweep(c, W="abc"), TypeError, "W"),
    ("step_size_sweep", "wrong-type", lambda c: sweep(c, step_sizes="abc"), TypeError, "step_sizes"),
    ("step_size_sweep", "wrong-type", lambda c: sweep(c, reg="0.1"), TypeError, "reg"),
    ("step_size_sweep", "wrong-type", lambda c: sweep(c, y=c.y.astype(float)), ValueError, "y"),
    ("step_size_sweep", "wrong-shape", lambda c: sweep(c, W=c.W[:, :-1]), ValueError, "X"),
    ("step_size_sweep", "wrong-shape", lambda c: sweep(c, y=c.y[:-1]), ValueError, "y"),
    ("step_size_sweep", "empty", lambda c: sweep(c, X=c.X[:0], y=c.y[:0]), ValueError, "X"),
    ("step_size_sweep", "empty", lambda c: sweep(c, step_sizes=[]), ValueError, "step_sizes"),
    ("step_size_sweep", "nan-inf", lambda c: sweep(c, W=c.W * np.nan), ValueError, "W"),
    ("step_size_sweep", "nan-inf", lambda c: sweep(c, step_sizes=[np.inf]), ValueError, "step_sizes"),
    ("step_size_sweep", "nan-inf", lambda c: sweep(c, reg=np.nan), ValueError, "reg"),
    ("step_size_sweep", "out-of-range", lambda c: sweep(c, step_sizes=[-1.0]), ValueError, "step_sizes"),
    ("step_size_sweep", "out-of-range", lambda c: sweep(c, reg=-1.0), ValueError, "reg"),
    ("step_size_sweep", "out-of-range", lambda c: sweep(c, W=c.W[:5]), ValueError, "y"),
    ("step_size_sweep", "swapped", lambda c: sweep(c, W=c.X, X=c.W), ValueError, "y"),
    ("step_size_sweep", "huge", lambda c: sweep(c, step_sizes=[1e308]), ValueError, "step_sizes"),
    ("step_size_sweep", "huge", lambda c: sweep(c, W=np.full_like(c.W, 1e308)), ValueError, "X: the scores"),
    ("loss_slice_1d", "wrong-type", lambda c: slice_1d(c, alphas="abc"), TypeError, "alphas"),
    ("loss_slice_1d", "wrong-type", lambda c: slice_1d(c, W1="abc"), TypeError, "W1"),
    ("loss_slice_1d", "wrong-type", lambda c: slice_1d(c, W=c.W.astype(complex)), TypeError, "W"),
    ("loss_slice_1d", "wrong-shape", lambda c: slice_1d(c, W1=c.W1.T), ValueError, "W1"),
    ("loss_slice_1d", "wrong-shape", lambda c: slice_1d(c, alphas=[[0.0]]), ValueError, "alphas"),
    ("loss_slice_1d", "wrong-shape", lambda c: slice_1d(c, X=c.X[:, :10]), ValueError, "X"),
    ("loss_slice_1d", "empty", lambda c: slice_1d(c, alphas=[]), ValueError, "alphas"),
    ("loss_slice_1d", "empty", lambda c: slice_1d(c, X=c.X[:0], y=c.y[:0]), ValueError, "X"),
    ("loss_slice_1d", "nan-inf", lambda c: slice_1d(c, alphas=[0.0, np.nan]), ValueError, "alphas"),
    ("loss_slice_1d", "nan-inf", lambda c: slice_1d(c, W1=c.W1 * np.inf), ValueError, "directions"),
    ("loss_slice_1d", "nan-inf", lambda c: slice_1d(c, X=c.X * np.nan), ValueError, "X"),
    ("loss_slice_1d", "out-of-range", lambda c: slice_1d(c, reg=-1.0), ValueError, "reg"),
    ("loss_slice_1d", "out-of-range", lambda c: slice_1d(c, y=c.y + 10), ValueError, "y"),
    ("loss_slice_1d", "swapped", lambda c: slice_1d(c, W=c.X, X=c.W), ValueError, "W1"),
    ("loss_slice_1d", "huge", lambda c: slice_1d(c, alphas=[0.0, 1e308]), ValueError, "coefficients"),
    ("loss_slice_1d", "huge", lambda c: slice_1d(c, W1=1e200 * c.W1, reg=1.0), ValueError, "reg"),
    ("loss_slice_1d", "huge", lambda c: slice_1d(c, W=np.where(np.arange(65) == 64, 1e200, c.W)), None, ""),
    ("loss_slice_2d", "wrong-type", lambda c: slice_2d(c, betas="abc"), TypeError, "betas"),
    ("loss_slice_2d", "wrong-shape", lambda c: slice_2d(c, betas=np.zeros((2, 2))), ValueError, "betas"),
    ("loss_slice_2d", "empty", lambda c: slice_2d(c, betas=[]), ValueError, "betas"),
    ("loss_slice_2d", "nan-inf", lambda c: slice_2d(c, betas=[np.inf]), ValueError, "betas"),
    ("loss_slice_2d", "out-of-range", lambda c: slice_2d(c, reg=-0.5), ValueError, "reg"),
    ("loss_slice_2d", "huge", lambda c: slice_2d(c, betas=[1e308]), ValueError, "coefficients"),
    ("hinge_demo", "wrong-type", lambda c: hinge(c, alphas="abc"), TypeError, "alphas"),
    ("hinge_demo", "wrong-shape", lambda c: hinge(c, X=c.data.X_train[:4]), ValueError, "X"),
    ("hinge_demo", "wrong-shape", lambda c: hinge(c, y=c.data.y_train[:2]), ValueError, "y"),
    ("hinge_demo", "empty", lambda c: hinge(c, alphas=[]), ValueError, "alphas"),
    ("hinge_demo", "nan-inf", lambda c: hinge(c, alphas=[np.nan]), ValueError, "alphas"),
    ("random_directions", "wrong-type", lambda c: landscape.random_directions("ab", 2), TypeError, "shape"),
    ("random_directions", "wrong-type", lambda c: landscape.random_directions((3, 4), 2.0), TypeError, "count"),
    ("random_directions", "wrong-type", lambda c: landscape.random_directions((3, 4), 2, "abc"), TypeError, "rng"),
    ("random_directions", "wrong-shape", lambda c: landscape.random_directions((3,), 2), TypeError, "shape"),
    ("random_directions", "empty", lambda c: landscape.random_directions((3, 0), 2), ValueError, "shape[1]"),
    ("random_directions", "out-of-range", lambda c: landscape.random_directions((3, 4), 2, -5), ValueError, "rng"),
    ("random_directions", "swapped", lambda c: landscape.random_directions(2, (3, 4)), TypeError, "shape"),
    ("random_directions", "huge", lambda c: landscape.random_directions((3, 4), 10**30), ValueError, "count"),
    ("plot_slice_1d", "wrong-type", lambda c: figure(c, path=3.5), TypeError, "path"),
    ("plot_slice_1d", "wrong-type", lambda c: figure(c, curves=[[1.0, 2.0]]), TypeError, "curves"),
    ("plot_slice_1d", "wrong-shape", lambda c: figure(c, curves={"a": [1.0, 2.0, 3.0]}), ValueError, "curves['a']"),
    ("plot_slice_1d", "empty", lambda c: figure(c, curves={}), TypeError, "curves"),
    ("plot_slice_1d", "empty", lambda c: figure(c, alphas=[0.0]), ValueError, "alphas"),
    ("plot_slice_1d", "nan-inf", lambda c: figure(c, curves={"a": [1.0, np.inf]}), ValueError, "curves['a']"),
    ("plot_slice_1d", "swapped", lambda c: plotting.plot_slice_1d([0.0, 1.0], c.root / "x.png", {"a": [1.0, 2.0]}, loss="SVM", data="fuzz"),
     TypeError, "path"),
    ("plot_slice_1d", "unusable-path", lambda c: figure(c, path=c.a_file / "figure.png"), NotADirectoryError, "path"),
    ("plot_slice_1d", "unusable-path", lambda c: figure(c, path="/proc/symgrad-fuzz/figure.png"), FileNotFoundError,
     "path"),
    ("plot_slice_1d", "unusable-path", lambda c: figure(c, path=c.root / "figure.unknown"), ValueError, "path"),
    ("plot_slice_2d", "wrong-shape", lambda c: plotting.plot_slice_2d(c.root / "x.png", [0, 1], [0, 1],
                                                                      {"a": np.zeros((2, 3))}, loss="SVM", data="fuzz"), ValueError, "grids['a']"),
    ("plot_slice_2d", "nan-inf", lambda c: plotting.plot_slice_2d(c.root / "x.png", [0, np.nan], [0, 1],
                                                                  {"a": np.zeros((2, 2))}, loss="SVM", data="fuzz"), ValueError, "alphas"),
    ("plot_hinge_demo", "wrong-type", lambda c: plotting.plot_hinge_demo(c.root / "x.png", None, data="fuzz"), TypeError, "demo"),
    ("plot_step_sizes", "swapped", lambda c: plotting.plot_step_sizes(c.sweep, c.root / "x.png", loss="SVM", data="fuzz"), TypeError, "path"),
    ("plot_step_sizes", "unusable-path", lambda c: plotting.plot_step_sizes(c.a_file / "x.png", c.sweep, loss="SVM", data="fuzz"),
     NotADirectoryError, "path"),
    ("plot_loss_curves", "empty", lambda c: plotting.plot_loss_curves(c.root / "x.png", [], loss="SVM", data="fuzz"), TypeError, "histories"),
    ("plot_loss_curves", "wrong-type", lambda c: plotting.plot_loss_curves(c.root / "x.png", "history", loss="SVM", data="fuzz"), TypeError,
     "histories"),
    ("critical_points", "wrong-type", lambda c: symgrad.critical_points("bowl_1d"), TypeError, "derivation"),
    ("critical_points", "out-of-range", lambda c: symgrad.critical_points(symgrad.derive("abs(x)", "x")), ValueError,
     "derivation: SymPy cannot solve"),
    ("critical_points", "out-of-range", lambda c: symgrad.critical_points(symgrad.derive("max(0, x - 1)", "x")),
     ValueError, "derivation"),
    ("critical_points", "out-of-range", lambda c: symgrad.critical_points(symgrad.derive("a * x**2", "x")), ValueError,
     "derivation: user has parameters"),
    ("numerical_gradient", "wrong-type", lambda c: symgrad.numerical_gradient(sum_of_squares, [1.0], h="1e-5"),
     TypeError, "h"),
    ("numerical_gradient", "wrong-type", lambda c: symgrad.numerical_gradient(sum_of_squares, [1.0], h=True),
     TypeError, "h"),
    ("numerical_gradient", "out-of-range", lambda c: symgrad.numerical_gradient(sum_of_squares, [1.0], h=-1e-5),
     ValueError, "h"),
    ("numerical_gradient", "nan-inf", lambda c: symgrad.numerical_gradient(sum_of_squares, [1.0], h=np.inf),
     ValueError, "h"),
    ("check_gradient", "out-of-range", lambda c: symgrad.check_gradient(sum_of_squares, [2.0], [1.0], seed=-1),
     ValueError, "seed"),
    ("check_gradient", "wrong-type", lambda c: symgrad.check_gradient(sum_of_squares, [2.0], [1.0], seed="3"),
     TypeError, "seed"),
    ("check_gradient", "wrong-type", lambda c: symgrad.check_gradient(sum_of_squares, [2.0], [1.0], seed=1.5),
     TypeError, "seed"),
    ("read_npy_in_chunks", "unusable-path", lambda c: symgrad.read_npy_in_chunks(truncated_npy(c), rows_per_chunk=10),
     ValueError, "path: {truncated} is truncated: its header announces 100 x 8 float64 (6400 bytes of data)"),
]


def truncated_npy(c) -> Path:
    """A .npy file of 100 x 8 float64 whose last 100 bytes are missing (a download cut short)."""
    path = c.root / "truncated.npy"
    np.save(path, np.ones((100, 8)))
    path.write_bytes(path.read_bytes()[:-100])
    return path


def case_id(cases, index):
    return f"{cases[index][1]}/{cases[index][0]}/{index}"


@pytest.mark.parametrize("index", range(len(LIBRARY_CASES)), ids=lambda i: case_id(LIBRARY_CASES, i))
def test_library_bad_input_by_category(index):
    _, category, call, error, prefix = LIBRARY_CASES[index]
    assert category in CATEGORIES
    c = context()
    prefix = prefix.format(**{name: getattr(c, name) for name in ("wide", "empty", "unreadable", "a_file")},
                           truncated=c.root / "truncated.npy")
    if error is None:
        finite_result(call(c))
        return
    with pytest.raises(error) as raised:
        call(c)
    assert str(raised.value).startswith(prefix), str(raised.value)


def run_symgrad(arguments, capsys):
    """(exit code, stdout, stderr) of ``symgrad ARGUMENTS`` in this process."""
    from symgrad.cli import main

    try:
        status = main(list(arguments))
    except SystemExit as exit:
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


COMMAND_CASES = [
    # category, arguments (formatted with the context's paths), expected exit code, text on stderr (exit 2)
    ("wrong-type", "train --steps ten", 2, "argument --steps: expected an integer >= 1, got 'ten'"),
    ("wrong-type", "train --learning-rate fast", 2, "argument --learning-rate: expected a finite number > 0"),
    ("wrong-type", "train --reg none", 2, "argument --reg: expected a finite number >= 0"),
    ("wrong-type", "train --seed 1.5", 2, "argument --seed: expected an integer >= 0"),
    ("wrong-type", "train --batch-size 3.5", 2, "argument --batch-size: expected an integer >= 1"),
    ("wrong-type", "train --loss 3", 2, "argument --loss: invalid choice"),
    ("wrong-type", "landscape --resolution 2.5", 2, "argument --resolution: expected an integer in 2 ... 1001"),
    ("wrong-type", "landscape --examples many", 2, "argument --examples: expected an integer >= 1"),
    ("wrong-type", "landscape --scale big", 2, "argument --scale: expected a finite number > 0"),
    ("wrong-type", "check bowl_1d --points x", 2, "argument --points: expected an integer >= 1"),
    ("wrong-shape", "train --dataset cifar --cifar-dir {wide} --steps 1", 2, "{wide}/data_batch_1: b'data' rows"),
    ("wrong-shape", "landscape --dataset cifar --cifar-dir {wide} --output {root}/out", 2, "{wide}/data_batch_1"),
    ("empty", "train --steps=", 2, "argument --steps: expected an integer >= 1, got ''"),
    ("empty", "train --dataset cifar --cifar-dir=", 2, "--dataset cifar needs --cifar-dir PATH"),
    ("empty", "train --dataset cifar --cifar-dir {empty}", 2, "{empty}/data_batch_1: is missing"),
    ("empty", "landscape --output=", 2, "--output: expected a folder, got an empty name"),
    ("empty", "landscape --scale=", 2, "argument --scale: expected a finite number > 0, got ''"),
    ("nan-inf", "train --learning-rate nan", 2, "argument --learning-rate: expected a finite number > 0, got 'nan'"),
    ("nan-inf", "train --learning-rate inf", 2, "argument --learning-rate: expected a finite number > 0"),
    ("nan-inf", "train --reg nan", 2, "argument --reg: expected a finite number >= 0"),
    ("nan-inf", "landscape --scale nan", 2, "argument --scale: expected a finite number > 0, got 'nan'"),
    ("nan-inf", "landscape --scale inf", 2, "argument --scale: expected a finite number > 0"),
    ("nan-inf", "landscape --scale=-inf", 2, "argument --scale: expected a finite number > 0"),
    ("out-of-range", "landscape --resolution 1", 2, "argument --resolution: expected an integer in 2 ... 1001"),
    ("out-of-range", "landscape --resolution 0", 2, "argument --resolution: expected an integer in 2 ... 1001"),
    ("out-of-range", "landscape --examples 0", 2, "argument --examples: expected an integer >= 1"),
    ("out-of-range", "landscape --examples 5000", 2, "--examples: 5000 exceeds the 1167 training examples"),
    ("out-of-range", "landscape --scale 0", 2, "argument --scale: expected a finite number > 0"),
    ("out-of-range", "check bowl_1d --points 0", 2, "argument --points: expected an integer >= 1"),
    ("out-of-range", "check bowl_1d --points -1", 2, "argument --points: expected an integer >= 1"),
    ("out-of-range", "train --steps 0", 2, "argument --steps: expected an integer >= 1"),
    ("out-of-range", "train --seed -1", 2, "argument --seed: expected an integer >= 0"),
    ("out-of-range", "train --learning-rate 0", 2, "argument --learning-rate: expected a finite number > 0"),
    ("out-of-range", "train --reg -0.5", 2, "argument --reg: expected a finite number >= 0"),
    ("out-of-range", "train --batch-size 5000", 2, "--batch-size: 5000 exceeds the 1167 training examples"),
    ("out-of-range", "train --optimizer sgd --batch-size 32", 2, "--batch-size goes with --optimizer minibatch"),
    ("out-of-range", "train --optimizer random-search --learning-rate 0.1", 2, "--learning-rate goes with"),
    ("out-of-range", "train --cifar-dir {empty}", 2, "--cifar-dir goes with --dataset cifar"),
    ("out-of-range", "landscape --cifar-dir {empty}", 2, "--cifar-dir goes with --dataset cifar"),
    ("swapped", "train --optimizer svm --loss gd", 2, "argument --optimizer: invalid choice: 'svm'"),
    ("swapped", "train --dataset {cifar} --cifar-dir cifar", 2, "argument --dataset: invalid choice"),
    ("swapped", "landscape --resolution 0.001 --scale 81", 2, "argument --resolution: expected an integer"),
    ("swapped", "landscape --output 21 --resolution {root}/out", 2, "argument --resolution: expected an integer"),
    ("huge", "landscape --resolution 1000000000", 2, "argument --resolution: expected an integer in 2 ... 1001"),
    ("huge", "landscape --examples 1000000000", 2, "--examples: 1000000000 exceeds the 1167 training examples"),
    ("huge", "landscape --scale 1e307 --resolution 2 --output {root}/out", 2, "cannot compute the slices at --scale 1e+307"),
    ("huge", "landscape --scale 1e308 --resolution 2 --output {root}/out", 2, "--scale: 1e+308 is too large"),
    ("huge", "landscape --scale 1e300 --resolution 2 --examples 3 --output {root}/out", 0, ""),
    ("huge", "train --batch-size 1000000000", 2, "--batch-size: 1000000000 exceeds"),
    ("huge", "train --seed 10000000000000000000000000000000000000000 --steps 1", 0, ""),
    ("huge", "train --learning-rate 1e300 --optimizer gd --steps 3", 2, ""),
    ("huge", "train --reg 1e300 --optimizer gd --steps 3", 2, ""),
    ("unusable-path", "landscape --output /proc/symgrad-fuzz", 2, "--output: cannot write to /proc/symgrad-fuzz"),
    ("unusable-path", "landscape --output {a_file}", 2, "--output: cannot write to {a_file}: a file stands where"),
    ("unusable-path", "landscape --output {a_file}/figures", 2, "--output: cannot write to {a_file}/figures"),
    ("unusable-path", "train --dataset cifar --cifar-dir {unreadable}", 2, "{unreadable}/data_batch_1: is a folder"),
    ("unusable-path", "train --dataset cifar --cifar-dir {a_file}", 2, "directory: no CIFAR-10 folder at {a_file}"),
]


@pytest.mark.parametrize("index", range(len(COMMAND_CASES)), ids=lambda i: f"{COMMAND_CASES[i][0]}/symgrad/{i}")
def test_command_bad_input_by_category(index, capsys):
    category, arguments, expected_status, message = COMMAND_CASES[index]
    assert category in CATEGORIES
    c = context()
    paths = {name: getattr(c, name) for name in ("wide", "empty", "unreadable", "a_file", "root", "cifar")}
    arguments = arguments.format(**paths).split(" ")
    status, _, stderr = run_symgrad(arguments, capsys)
    assert status == expected_status, stderr
    if expected_status == 2:
        assert stderr.count("\n") == 1 and stderr.startswith(f"symgrad {arguments[0]}: "), stderr
        assert message.format(**paths) in stderr, stderr


SUBPROCESS_CASES = [
    # category, Python code run in a fresh interpreter, expected exit code, text on stderr
    ("missing-extra", "sys.modules['sklearn'] = None\nfrom symgrad.training.datasets import load_digits_dataset\n"
     "load_digits_dataset()", 1, "symgrad.validation.MissingExtraError: load_digits_dataset: needs the 'data' extra "
     "(sklearn is not installed): pip install 'symgrad[data]'\n"),
    ("missing-extra", "sys.modules['matplotlib'] = None\nfrom symgrad.training.plotting import plot_slice_1d\n"
     "plot_slice_1d('x.png', [0, 1], {'a': [1, 2]}, loss='SVM', data='fuzz')", 1, "symgrad.validation.MissingExtraError: "
     "symgrad.training.plotting: needs the 'plot' extra (matplotlib is not installed): pip install 'symgrad[plot]'\n"),
    ("missing-extra", "sys.modules['tqdm'] = None\nfrom symgrad.training.datasets import load_digits_dataset\n"
     "load_digits_dataset()", 0, ""),
    ("missing-extra", "sys.modules['sklearn'] = None\nfrom symgrad.cli import main\nsys.exit(main(['train']))", 2,
     "symgrad train: load_digits_dataset: needs the 'data' extra (sklearn is not installed): pip install 'symgrad[data]'\n"),
    ("missing-extra", "sys.modules['sklearn'] = None\nfrom symgrad.cli import main\n"
     "sys.exit(main(['landscape', '--output', 'x']))", 2, "pip install 'symgrad[data]'\n"),
    ("missing-extra", "sys.modules['matplotlib'] = None\nfrom symgrad.cli import main\n"
     "sys.exit(main(['landscape', '--output', 'x']))", 2,
     "symgrad landscape: the figures: needs the 'plot' extra (matplotlib is not installed): pip install 'symgrad[plot]'\n"),
    ("missing-extra", "sys.modules['tqdm'] = None\nfrom symgrad.cli import main\n"
     "sys.exit(main(['train', '--steps', '2']))", 0, ""),
    ("closed-pipe", "import os\nreader, writer = os.pipe()\nos.dup2(writer, 1)\nos.close(reader)\nos.close(writer)\n"
     "from symgrad.cli import main\nsys.exit(main(['list']))", 2,
     "symgrad list: standard output was closed before the output was complete\n"),
    ("closed-pipe", "import os\nreader, writer = os.pipe()\nos.dup2(writer, 1)\nos.close(reader)\nos.close(writer)\n"
     "from symgrad.cli import main\nsys.exit(main(['train', '--steps', '2']))", 2,
     "symgrad train: standard output was closed before the output was complete\n"),
]


@pytest.mark.parametrize("index", range(len(SUBPROCESS_CASES)), ids=lambda i: f"{SUBPROCESS_CASES[i][0]}/subprocess/{i}")
def test_missing_extras_and_closed_pipes_in_a_fresh_interpreter(index, tmp_path):
    category, code, expected_status, message = SUBPROCESS_CASES[index]
    assert category in CATEGORIES
    # this checkout's sources first, whatever the working directory and however symgrad is installed
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPOSITORY / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", "import sys\n" + code], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path, env=environment)
    assert result.returncode == expected_status, result.stderr
    if expected_status == 2:  # the command: one line
        assert result.stderr.count("\n") == 1 and result.stderr.endswith(message), result.stderr
    elif expected_status == 1:  # the library: the documented exception, last in the traceback
        assert result.stderr.endswith(message), result.stderr
    assert list(tmp_path.iterdir()) == [], "nothing is written when a dependency is missing"


bad_option_values = st.one_of(
    st.text(max_size=6), st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "0x10", "1_000", " 3", "", "+5", "3.0"]),
)
OPTION_RANGES = {
    ("train", "--steps"): lambda v: isinstance(v, int) and v >= 1,
    ("train", "--batch-size"): lambda v: isinstance(v, int) and v >= 1,
    ("train", "--seed"): lambda v: isinstance(v, int) and v >= 0,
    ("train", "--learning-rate"): lambda v: np.isfinite(v) and v > 0,
    ("train", "--reg"): lambda v: np.isfinite(v) and v >= 0,
    ("landscape", "--examples"): lambda v: isinstance(v, int) and v >= 1,
    ("landscape", "--resolution"): lambda v: isinstance(v, int) and 2 <= v <= 1001,
    ("landscape", "--scale"): lambda v: np.isfinite(v) and v > 0,
    ("check", "--points"): lambda v: isinstance(v, int) and v >= 1,
    ("check", "--seed"): lambda v: isinstance(v, int) and v >= 0,
}


@fuzz
@given(st.sampled_from(sorted(OPTION_RANGES)), bad_option_values)
def test_every_numeric_option_is_parsed_into_its_range_or_refused_in_one_line(option, value):
    from symgrad.cli import build_parser

    command, name = option
    import contextlib
    import io

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            arguments = build_parser().parse_args([command, f"{name}={value}"])
    except SystemExit as exit:
        assert exit.code == 2
        assert stderr.getvalue().count("\n") == 1 and stderr.getvalue().startswith(f"symgrad {command}: argument {name}")
        return
    assert OPTION_RANGES[option](getattr(arguments, name[2:].replace("-", "_")))


def valid_or(value, strategy=None):
    """The valid ``value`` (so later arguments get checked too) or a random bad one."""
    return st.one_of(st.just(value), arrays() if strategy is None else strategy)


SLICE_NAMES = ("W", "W1", "W2", "alphas", "betas", "X", "y", "reg", "directions", "coefficients", "num_classes")
c0 = context()


@fuzz
@given(valid_or(c0.W), valid_or(c0.W1), valid_or(np.linspace(-1, 1, 3)), valid_or(c0.X), valid_or(c0.y),
       valid_or(0.0, numbers))
def test_loss_slice_1d_fuzz(W, W1, alphas, X, y, reg):
    with np.errstate(over="ignore", invalid="ignore"):  # the drawn arrays may hold 1e308: the result is checked
        only_named_errors(lambda: finite_result(landscape.loss_slice_1d(svm, W, W1, alphas, X, y, reg=reg)),
                          SLICE_NAMES)


@fuzz
@given(valid_or(c0.W2), valid_or(np.linspace(-1, 1, 2)), valid_or(np.linspace(-1, 1, 3)))
def test_loss_slice_2d_fuzz(W2, alphas, betas):
    only_named_errors(lambda: finite_result(slice_2d_with(W2, alphas, betas)), SLICE_NAMES)


def slice_2d_with(W2, alphas, betas):
    return landscape.loss_slice_2d(svm, c0.W, c0.W1, W2, alphas, betas, c0.X, c0.y)


@fuzz
@given(valid_or(c0.W), valid_or(c0.X), valid_or(c0.y), valid_or([1e-3, 1e-1]), valid_or(0.0, numbers))
def test_step_size_sweep_fuzz(W, X, y, step_sizes, reg):
    only_named_errors(lambda: finite_result(landscape.step_size_sweep(svm, W, X, y, step_sizes, reg=reg).losses),
                      ("W", "X", "y", "step_sizes", "reg", "num_classes"))


@fuzz
@given(valid_or(c0.data.X_train[:3]), valid_or(c0.data.y_train[:3]), valid_or(np.linspace(-1, 1, 5)))
def test_hinge_demo_fuzz(X, y, alphas):
    only_named_errors(lambda: finite_result(landscape.hinge_demo(svm, c0.W, c0.W1, X, y, alphas)),
                      ("W", "W1", "X", "y", "alphas", "num_classes"))


@fuzz
@given(st.one_of(st.tuples(st.integers(-2, 4), st.integers(-2, 4)), arrays(), st.text(max_size=3)),
       st.one_of(st.integers(-2, 4), numbers), st.one_of(st.integers(-3, 10**30), numbers))
def test_random_directions_fuzz(shape, count, rng):
    only_named_errors(lambda: landscape.random_directions(shape, count, rng), ("shape", "count", "rng"))


@fuzz
@given(st.one_of(st.just(lambda w: float(np.sum(w**2))), st.just(lambda w: np.nan), st.just(lambda w: "x"),
                 st.just(3), st.just(lambda w: w)),
       st.one_of(st.lists(numbers, max_size=3), arrays(), st.text(max_size=3)), arrays())
def test_line_search_fuzz(objective, step_sizes, w0):
    def run():
        search = symgrad.LineSearch(objective, step_sizes)
        with np.errstate(over="ignore", invalid="ignore"):  # the objective squares drawn values up to 1e308
            return symgrad.gradient_descent(twice, w0, search, 3)

    only_named_errors(run, ("objective", "step_sizes", "w0", "grad", "gradient descent diverged"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_or(0.25, numbers), valid_or(0.1, numbers), valid_or(100, numbers), valid_or(0, numbers),
       st.sampled_from([np.float64, np.float32, np.int64, "float32", "abc", None, 3]))
def test_load_digits_dataset_fuzz(test_fraction, validation_fraction, num_dev, rng, dtype):
    only_named_errors(
        lambda: datasets.load_digits_dataset(test_fraction, validation_fraction, num_dev, rng=rng, dtype=dtype),
        ("test_fraction", "validation_fraction", "num_dev", "rng", "dtype"),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_or(80, numbers), valid_or(20, numbers), valid_or(10, numbers), valid_or(5, numbers),
       st.sampled_from([c0.cifar, c0.empty, c0.wide, c0.a_file, c0.unreadable, None, 3, ""]))
def test_load_cifar10_fuzz(num_training, num_validation, num_test, num_dev, folder):
    only_named_errors(
        lambda: datasets.load_cifar10(folder, num_training, num_validation, num_test, num_dev, progress=False),
        ("num_training", "num_validation", "num_test", "num_dev", "directory", str(c0.root), "."),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([c0.root / "fuzz" / "figure.png", c0.a_file / "figure.png", "/proc/symgrad/figure.png", 3,
                        c0.root / "figure.unknown"]),
       valid_or(np.linspace(0, 1, 3)), valid_or({"curve": [1.0, 2.0, 3.0]}, st.one_of(arrays(), st.dictionaries(
           st.text(max_size=2), arrays(), max_size=2))))
def test_plot_slice_1d_fuzz(path, alphas, curves):
    only_named_errors(lambda: plotting.plot_slice_1d(path, alphas, curves, loss="SVM", data="fuzz"), ("path", "alphas", "curves"))


@fuzz
@given(st.one_of(st.sampled_from(["bowl_1d", None, 3, 2.5]), st.sampled_from(["abs(x)", "x**2 - y**2", "sign(x) * x",
                                                                               "x**4", "exp(x)", "a * x**2"])))
def test_critical_points_fuzz(value):
    def run():
        derivation = symgrad.derive(value, "x, y" if "y" in value else "x") if "x" in str(value) else value
        return symgrad.critical_points(derivation)

    only_named_errors(run, ("derivation",))
