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


def test_train_runs_on_every_backend_to_the_same_classifier(capsys):
    pytest.importorskip("jax")
    pytest.importorskip("dask.array")
    pytest.importorskip("sklearn")
    from symgrad import cli
    from symgrad.backends import BACKENDS

    assert cli.TRAINING_BACKENDS == BACKENDS
    reports = {}
    for backend in BACKENDS:
        assert cli.main(["train", "--backend", backend, "--steps", "60", "--loss", "softmax"]) == 0
        reports[backend] = capsys.readouterr().out
    assert "test accuracy: 0.9" in reports["numpy"]
    accuracies = {backend: [line for line in report.splitlines() if "accuracy" in line] for backend, report in reports.items()}
    assert accuracies["jax"] == accuracies["dask"] == accuracies["numpy"]  # float64 on every backend: the same run


def test_train_refuses_an_unknown_backend(capsys):
    from symgrad import cli

    with pytest.raises(SystemExit) as exit_code:
        cli.main(["train", "--backend", "torch"])
    assert exit_code.value.code == 2 and "invalid choice: 'torch'" in capsys.readouterr().err
