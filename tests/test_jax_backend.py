"""The JAX backend: the same derivations printed for jax.numpy, agreeing with the NumPy backend."""

import re
import subprocess
import sys

import numpy as np
import pytest

import symgrad

pytest.importorskip("jax")

from symgrad.backends.jax_backend import DeviceExamples, jax_loss_and_grad, jax_module_text  # noqa: E402
from symgrad.runtime.catalog import compiled_loss, loss_names  # noqa: E402
from random_problems import integer_problem  # noqa: E402

NUMPY_BACKEND = {"svm": symgrad.svm_loss_and_grad, "softmax": symgrad.softmax_loss_and_grad}
CASES = [
    ("svm", {}),
    ("svm", {"delta": 0.3, "kink_value": 0.25}),
    ("softmax", {}),
]


def relative_difference(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


@pytest.mark.parametrize("number_of_classes", [2, 10])
@pytest.mark.parametrize("loss_name, parameters", CASES)
def test_float64_loss_and_gradient_equal_the_numpy_backend(loss_name, parameters, number_of_classes):
    rng = np.random.default_rng(number_of_classes)
    W = rng.normal(size=(number_of_classes, 6))
    X = rng.normal(size=(40, 6))
    y = rng.integers(0, number_of_classes, size=40)
    loss, dW = jax_loss_and_grad(loss_name)(W, X, y, reg=0.05, **parameters)
    expected_loss, expected_dW = NUMPY_BACKEND[loss_name](W, X, y, reg=0.05, **parameters)
    assert isinstance(loss, float) and isinstance(dW, np.ndarray)
    assert dW.shape == W.shape and dW.dtype == np.float64
    assert relative_difference(loss, expected_loss) <= 1e-10
    assert relative_difference(dW, expected_dW) <= 1e-10


@pytest.mark.parametrize("loss_name, parameters", CASES[1:])
def test_float32_in_float32_out(loss_name, parameters):
    rng = np.random.default_rng(3)
    W = rng.normal(size=(4, 5)).astype(np.float32)
    X = rng.normal(size=(16, 5)).astype(np.float32)
    y = rng.integers(0, 4, size=16)
    loss, dW = jax_loss_and_grad(loss_name)(W, X, y, **parameters)
    assert dW.dtype == np.float32
    expected_loss, expected_dW = NUMPY_BACKEND[loss_name](W, X, y, **parameters)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-4, atol=1e-5)


def test_the_jitted_computation_stays_in_float32():
    from symgrad.backends.jax_backend import _jitted

    jax_loss_and_grad("svm")
    W, X = np.ones((3, 2), np.float32), np.ones((4, 2), np.float32)
    arguments = (W, X, np.array([0, 1, 2, 0]), *np.ones(3, np.float32))
    lowered = _jitted("svm", True).lower(*arguments).as_text()
    assert "f32" in lowered and "f64" not in lowered


@pytest.mark.parametrize("kink_value", [0.0, 0.5, 1.0])
def test_kinks_give_the_numpy_subgradient(kink_value):
    # Integer weights and inputs: every score is an integer, so margins s_j - s_y + 1 are exactly 0 often.
    rng = np.random.default_rng(7)
    W = rng.integers(-2, 3, size=(5, 3)).astype(np.float64)
    X = rng.integers(-1, 2, size=(32, 3))
    y = rng.integers(0, 5, size=32)
    scores = X @ W.T
    margins = scores - scores[np.arange(32), y][:, None] + 1.0
    margins[np.arange(32), y] = 1.0
    assert np.sum(margins == 0) >= 5
    loss, dW = jax_loss_and_grad("svm")(W, X, y, kink_value=kink_value)
    expected_loss, expected_dW = symgrad.svm_loss_and_grad(W, X, y, kink_value=kink_value)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-12, atol=1e-15)
    if kink_value != 0.0:  # the kink value reaches the gradient: the test sees the kinks
        assert not np.allclose(dW, jax_loss_and_grad("svm")(W, X, y, kink_value=0.0)[1])


@pytest.mark.parametrize("loss_name", ["svm", "softmax"])
def test_the_generated_text_is_jax_numpy_only_and_has_no_python_loop(loss_name):
    text = jax_module_text(loss_name)
    assert "jax.numpy.sum(" in text
    assert re.search(r"(?<!jax\.)numpy\.", text) is None
    assert re.search(r"\b(for|while|functools|reduce)\b", text) is None
    if loss_name == "svm":
        assert "jax.numpy.maximum(0, x1)" in text and "jax.numpy.heaviside(x1, kink_value)" in text


@pytest.mark.parametrize(
    "arguments, keywords",
    [
        ((np.zeros(3), np.ones((2, 3)), [0, 1]), {}),
        ((np.zeros((1, 3)), np.ones((2, 3)), [0, 0]), {}),
        ((np.zeros((2, 3)), np.ones((2, 4)), [0, 1]), {}),
        ((np.zeros((2, 3)), np.ones((2, 3)), [0, 2]), {}),
        ((np.zeros((2, 3)), np.ones((2, 3)), [0, 1]), {"reg": -1.0}),
        ((np.zeros((2, 3)), np.ones((2, 3)), [0, 1]), {"kink_value": 2.0}),
        ((np.zeros((2, 3)), np.full((2, 3), np.nan), [0, 1]), {}),
        ((np.full((2, 3), np.inf), np.ones((2, 3)), [0, 1]), {}),
    ],
)
def test_invalid_arguments_raise_what_the_numpy_backend_raises(arguments, keywords):
    with pytest.raises((TypeError, ValueError)) as expected:
        symgrad.svm_loss_and_grad(*arguments, **keywords)
    with pytest.raises(expected.type, match=re.escape(str(expected.value))):
        jax_loss_and_grad("svm")(*arguments, **keywords)


def test_unknown_losses_and_parameters_are_refused():
    with pytest.raises(ValueError, match="^loss: no compiled loss called 'hinge'"):
        jax_loss_and_grad("hinge")
    with pytest.raises(TypeError, match="unknown parameters"):
        jax_loss_and_grad("softmax")(np.zeros((2, 3)), np.ones((2, 3)), [0, 1], delta=1.0)


def test_without_jax_building_a_loss_names_the_extra():
    code = (
        "import sys\n"
        "sys.modules['jax'] = None\n"
        "from symgrad.backends.jax_backend import jax_loss_and_grad\n"
        "try:\n"
        "    jax_loss_and_grad('svm')\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'symgrad[jax]'" in output


@pytest.mark.parametrize("reg", [0.0, 0.1])
@pytest.mark.parametrize("examples", ["NumPy X", "DeviceExamples"])
@pytest.mark.parametrize("name", loss_names())
def test_every_compiled_loss_runs_on_jax_equal_to_numpy_in_float64_at_kinks_too(name, examples, reg):
    function = symgrad.loss_and_grad_function(name)
    for seed in range(3):
        weights, X, targets = integer_problem(compiled_loss(name), seed)
        expected = function(weights, X, targets, reg=reg)
        got = jax_loss_and_grad(name)(weights, X if examples == "NumPy X" else DeviceExamples(X), targets, reg=reg)
        assert got[0] == pytest.approx(expected[0], rel=1e-10)
        assert got[1].dtype == np.float64 and got[1].shape == weights.shape and got[1].flags.c_contiguous
        assert relative_difference(got[1], expected[1]) <= 1e-10


@pytest.mark.parametrize("name", [name for name in loss_names() if compiled_loss(name).kind != "classifier"])
def test_a_regression_loss_one_vs_rest_on_device_examples_equals_numpy(name):
    one_vs_rest = compiled_loss(name).one_vs_rest()
    rng = np.random.default_rng(5)
    W, X, y = rng.integers(-2, 3, size=(3, 4)).astype(float), rng.integers(-1, 2, size=(30, 4)), rng.integers(0, 3, 30)
    expected = one_vs_rest.public_function(W, X, y, reg=0.1)
    got = jax_loss_and_grad(name, one_vs_rest=True)(W, DeviceExamples(X.astype(float)), y, reg=0.1)
    assert got[0] == pytest.approx(expected[0], rel=1e-10)
    assert relative_difference(got[1], expected[1]) <= 1e-10


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32])
def test_device_examples_hold_x_in_both_layouts_in_its_dtype(dtype):
    import jax

    X = (np.arange(12).reshape(4, 3) - 5).astype(dtype)
    examples = DeviceExamples(X)
    assert examples.shape == (4, 3) and examples.dtype == np.dtype(dtype)
    assert examples.rows.shape == (4, 3) and examples.columns.shape == (3, 4)
    np.testing.assert_array_equal(np.asarray(examples.rows), X)
    np.testing.assert_array_equal(np.asarray(examples.columns), X.T)
    np.testing.assert_array_equal(np.asarray(examples), X)
    assert examples.nbytes == 2 * X.nbytes
    assert "DeviceExamples(shape=(4, 3)" in repr(examples)
    on_device = jax.device_put(X.astype(np.float32))
    assert DeviceExamples(on_device).rows is on_device


def test_device_examples_in_float32_compute_in_float32():
    from symgrad.backends.jax_backend import _jitted

    rng = np.random.default_rng(3)
    W, X, y = rng.normal(size=(4, 5)).astype(np.float32), rng.normal(size=(16, 5)).astype(np.float32), rng.integers(0, 4, 16)
    examples = DeviceExamples(X)
    for name in ("svm", "softmax"):
        loss, dW = jax_loss_and_grad(name)(W, examples, y, reg=0.1)
        expected_loss, expected_dW = NUMPY_BACKEND[name](W, X, y, reg=0.1)
        assert dW.dtype == np.float32 and dW.flags.c_contiguous
        assert loss == pytest.approx(expected_loss, rel=1e-5)
        np.testing.assert_allclose(dW, expected_dW, rtol=1e-4, atol=1e-5)
        lowered = _jitted(name, True, False, True).lower(W, examples.rows, examples.columns, y,
                                                        *np.ones(1 + len(compiled_loss(name).parameters), np.float32))
        assert "f32" in lowered.as_text() and "f64" not in lowered.as_text()


@pytest.mark.parametrize(
    "X, error, message",
    [
        (np.ones(3), ValueError, "^X: expected a 2-D array (N, D), got shape (3,)"),
        (np.ones((2, 3, 4)), ValueError, "^X: expected a 2-D array (N, D), got shape (2, 3, 4)"),
        (np.ones((0, 3)), ValueError, "^X: the batch is empty (N = 0)"),
        (np.ones((2, 3), complex), TypeError, "^X: expected a real (floating or integer) array (N, D), got dtype complex"),
        (np.ones((2, 3), bool), TypeError, "^X: expected a real (floating or integer) array (N, D), got dtype bool"),
        (np.array([["a", "b"]]), TypeError, "^X: expected a real (floating or integer) array (N, D), got dtype <U1"),
        (np.array(2.0), ValueError, "^X: expected a 2-D array (N, D), got shape ()"),
    ],
)
def test_device_examples_refuse_what_a_loss_refuses_as_x(X, error, message):
    with pytest.raises(error, match=re.escape(message[1:]) if message.startswith("^") else message):
        DeviceExamples(X)


def test_a_loss_checks_device_examples_as_it_checks_x():
    W, y = np.zeros((3, 4)), np.array([0, 1, 2, 0])
    examples = DeviceExamples(np.ones((4, 5)))
    for X in (np.ones((4, 5)), examples):
        with pytest.raises(ValueError, match="^X: has 5 features"):
            jax_loss_and_grad("svm")(W, X, y)
    with pytest.raises(ValueError, match=r"^y: expected labels of shape \(4,\)"):
        jax_loss_and_grad("svm")(np.zeros((3, 5)), examples, y[:3])
    with_nan = np.ones((4, 5))
    with_nan[2, 1] = np.nan
    with pytest.raises(ValueError) as expected:
        symgrad.svm_loss_and_grad(np.ones((3, 5)), with_nan, y)
    with pytest.raises(ValueError, match=re.escape(str(expected.value))):
        jax_loss_and_grad("svm")(np.ones((3, 5)), DeviceExamples(with_nan), y)
    # scores +-1e308 are finite, the margin 2e308 is not; a penalty that overflows
    overflowing_margin = (np.array([[1e308, 0.0], [-1e308, 0.0], [0.0, 0.0]]), np.array([[1.0, 0.0], [1.0, 1.0]]),
                          np.array([1, 1]), 0.0)
    overflowing_penalty = (np.full((3, 2), 1e200), np.zeros((2, 2)), np.array([0, 1]), 1.0)
    for W, X, labels, reg in (overflowing_margin, overflowing_penalty):
        with pytest.raises(ValueError) as expected:
            symgrad.svm_loss_and_grad(W, X, labels, reg=reg)
        with pytest.raises(ValueError, match=re.escape(str(expected.value))):
            jax_loss_and_grad("svm")(W, DeviceExamples(X), labels, reg=reg)


def spied_jax_svm():
    """(the JAX SVM as a plain function that records the X of every call, that list): it keeps the backend's
    ``place_examples``."""
    jax_svm = jax_loss_and_grad("svm")
    received = []

    def spy(W, X, y, reg=0.0):
        received.append(X)
        return jax_svm(W, X, y, reg=reg)

    spy.place_examples = jax_svm.place_examples
    return spy, received


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_full_batch_descent_on_jax_places_x_once_and_steps_as_numpy(dtype):
    spy, received = spied_jax_svm()
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(60, 7)).astype(dtype), rng.integers(0, 3, 60)
    arguments = dict(learning_rate=0.1, steps=6, reg=0.01, rng=0, progress=False)
    on_jax = symgrad.full_batch_gradient_descent(spy, X, y, **arguments)
    on_numpy = symgrad.full_batch_gradient_descent(symgrad.svm_loss_and_grad, X, y, **arguments)
    assert len(received) == 6 and all(isinstance(X_B, DeviceExamples) for X_B in received)
    assert len({id(X_B) for X_B in received}) == 1
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(on_jax.losses, on_numpy.losses, rtol=tolerance)
    np.testing.assert_allclose(on_jax.W, on_numpy.W, rtol=tolerance, atol=tolerance * 1e-2)
    assert on_jax.W.dtype == dtype


@pytest.mark.parametrize("strategy", ["random_search", "random_local_search"])
def test_the_search_strategies_on_jax_place_x_once_and_find_what_numpy_finds(strategy):
    spy, received = spied_jax_svm()
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(50, 5)), rng.integers(0, 3, 50)
    run = getattr(symgrad, strategy)
    options = dict(rng=1, progress=False, **({"candidates": 7} if strategy == "random_search" else {"steps": 7}))
    on_jax, on_numpy = run(spy, X, y, **options), run(symgrad.svm_loss_and_grad, X, y, **options)
    assert received and all(isinstance(X_B, DeviceExamples) for X_B in received)
    assert len({id(X_B) for X_B in received}) == 1
    np.testing.assert_allclose(on_jax.losses, on_numpy.losses, rtol=1e-12)
    np.testing.assert_array_equal(on_jax.W, on_numpy.W)


def test_x_may_be_a_jax_array_on_its_device():
    import jax

    W, X, y = np.ones((3, 5), np.float32), np.arange(20, dtype=np.float32).reshape(4, 5) / 20, np.array([0, 1, 2, 0])
    on_device = jax.device_put(X)
    assert isinstance(on_device, jax.Array)
    expected = symgrad.svm_loss_and_grad(W, X, y, reg=0.1)
    got = jax_loss_and_grad("svm")(W, on_device, y, reg=0.1)
    assert got[0] == pytest.approx(expected[0], rel=1e-6)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5)
    with pytest.raises(ValueError, match="^X: has 4 features"):
        jax_loss_and_grad("svm")(W, on_device[:, :4], y)


FLOAT64_LEAVES_JAX_AS_IT_WAS = """
import numpy as np, jax, jax.numpy as jnp
from symgrad.backends.jax_backend import jax_loss_and_grad
rng = np.random.default_rng(0)
W, X, y = rng.normal(size=(3, 4)), rng.normal(size=(20, 4)), rng.integers(0, 3, size=20)
loss, dW = jax_loss_and_grad("softmax")(W, X, y, reg=0.1)
exact = abs(loss - float(np.float32(loss))) > 0  # a float64 result, not a float32 one widened
print(exact, dW.dtype, jax.config.jax_enable_x64, jnp.zeros(2).dtype, jnp.asarray(X).dtype)
"""


def test_a_float64_call_computes_in_float64_and_leaves_jax_in_32_bits():
    output = subprocess.run([sys.executable, "-c", FLOAT64_LEAVES_JAX_AS_IT_WAS], capture_output=True, text=True,
                            check=True).stdout.split()
    assert output == ["True", "float64", "False", "float32", "float32"]
