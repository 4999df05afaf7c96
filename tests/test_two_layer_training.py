"""Training the two-layer ReLU network: mini-batch descent on digits beats the linear classifier, deterministically,
and a diverging run stops with TrainingDiverged instead of recording NaN."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import symgrad
from symgrad.training.descent import TrainingDiverged
from symgrad.training.strategies import ACCURACY_POINTS
from symgrad.training.two_layer import train_two_layer, two_layer_accuracy, two_layer_predict


@pytest.fixture(scope="module")
def digits():
    return symgrad.load_digits_dataset()


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Products of a 128-example batch are too small for BLAS threads: on a shared 2-core machine they only wait
    for each other (a 1000-step run took ~20 s with two threads under load, ~1 s with one)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.mark.parametrize("seed", [0, 1])
def test_minibatch_descent_on_digits_reaches_097_test_accuracy(digits, seed):
    history = train_two_layer(digits.X_train, digits.y_train, hidden=100, loss="softmax", learning_rate=0.5,
                              steps=1000, batch_size=128, reg=1e-3, rng=seed, progress=False)
    assert two_layer_accuracy(history.W, digits.X_test, digits.y_test) >= 0.97
    assert len(history.losses) == 1000 and np.all(np.isfinite(history.losses))
    assert history.losses[-50:].mean() < history.losses[:50].mean() / 4
    assert len(history.accuracies) == ACCURACY_POINTS and history.accuracy_steps[-1] == 1000
    assert history.final_accuracy >= 0.97


def test_the_same_seed_gives_the_same_run(digits):
    runs = [train_two_layer(digits.X_train, digits.y_train, hidden=16, steps=30, rng=3, progress=False)
            for _ in range(2)]
    assert np.array_equal(runs[0].losses, runs[1].losses)
    assert all(np.array_equal(getattr(runs[0].W, n), getattr(runs[1].W, n)) for n in ("W1", "b1", "W2", "b2"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ["svm", "crammer_singer", "smoothed_softmax"])
def test_training_keeps_the_dtype_and_works_with_other_losses(digits, loss, dtype):
    history = train_two_layer(digits.X_train.astype(dtype), digits.y_train, hidden=32, loss=loss, steps=200,
                              learning_rate=0.1, rng=0, progress=False)
    assert history.W.W1.dtype == dtype and history.W.W1.shape == (32, digits.X_train.shape[1])
    assert history.losses[-20:].mean() < history.losses[:20].mean()
    assert two_layer_accuracy(history.W, digits.X_val, digits.y_val) > 0.8


def test_a_learning_rate_schedule_is_followed(digits):
    schedule = [0.5 * 0.99 ** k for k in range(50)]
    history = train_two_layer(digits.X_train, digits.y_train, hidden=8, steps=50, learning_rate=schedule, rng=0,
                              progress=False)
    assert np.allclose(history.learning_rates, schedule)


def test_divergence_stops_the_run_naming_the_step(digits):
    with pytest.raises(TrainingDiverged, match="diverged at step .*try a smaller learning rate"):
        train_two_layer(digits.X_train, digits.y_train, hidden=16, steps=200, learning_rate=1e30, rng=0,
                        progress=False)


def test_starting_parameters_are_copied_not_modified(digits):
    rng = np.random.default_rng(0)
    start = {"W1": rng.normal(size=(4, 65)) * 0.1, "b1": np.zeros(4), "W2": rng.normal(size=(10, 4)), "b2": np.zeros(10)}
    copy = {name: value.copy() for name, value in start.items()}
    history = train_two_layer(digits.X_train, digits.y_train, hidden=4, steps=5, params0=start, progress=False)
    assert all(np.array_equal(start[name], copy[name]) for name in start)
    assert not np.array_equal(history.W.W1, start["W1"])


@pytest.mark.parametrize("options, error, start", [
    ({"hidden": 0}, ValueError, "hidden:"),
    ({"steps": 0}, ValueError, "steps:"),
    ({"batch_size": 5000}, ValueError, "batch_size:"),
    ({"loss": "huber"}, ValueError, "loss:"),
    ({"learning_rate": -1.0}, ValueError, "learning_rate:"),
    ({"params0": {"W1": np.ones((3, 65)), "b1": np.ones(3), "W2": np.ones((10, 3)), "b2": np.ones(10)}},
     ValueError, "params0:"),
    ({"reg": -1.0}, ValueError, "reg:"),
])
def test_bad_options_are_refused_naming_them(digits, options, error, start):
    with pytest.raises(error) as raised:
        train_two_layer(digits.X_train, digits.y_train, **{"hidden": 5, "steps": 2, **options}, progress=False)
    assert str(raised.value).startswith(start), str(raised.value)


def test_predict_and_accuracy_check_their_arguments(digits):
    history = train_two_layer(digits.X_train, digits.y_train, hidden=5, steps=2, progress=False)
    assert two_layer_predict(history.W, digits.X_test).shape == (len(digits.X_test),)
    with pytest.raises(ValueError, match="^X:"):
        two_layer_predict(history.W, digits.X_test[:, :10])
    with pytest.raises(ValueError, match="^y:"):
        two_layer_accuracy(history.W, digits.X_test, digits.y_test[:-1])
