"""The backend choice: the three backends of one derivation agree, and bad choices are named."""

import numpy as np
import pytest

import symgrad


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_the_three_backends_agree_in_float64(loss):
    pytest.importorskip("jax")
    pytest.importorskip("dask.array")
    rng = np.random.default_rng(0)
    W, X, y = rng.normal(size=(10, 33)), rng.normal(size=(400, 33)), rng.integers(0, 10, size=400)
    results = {backend: symgrad.loss_and_grad_function(loss, backend)(W, X, y, reg=0.01) for backend in ("numpy", "jax", "dask")}
    expected_loss, expected_gradient = results["numpy"]
    for backend_loss, backend_gradient in results.values():
        assert abs(backend_loss - expected_loss) <= 1e-10 * abs(expected_loss)
        assert np.max(np.abs(backend_gradient - expected_gradient)) <= 1e-10 * np.max(np.abs(expected_gradient))


@pytest.mark.parametrize("loss, backend, message", [("hinge", "numpy", "loss:"), ("svm", "torch", "backend:")])
def test_unknown_choices_are_named(loss, backend, message):
    with pytest.raises(ValueError, match=message):
        symgrad.loss_and_grad_function(loss, backend)
