"""The lecture's training strategies on the compiled SVM and softmax gradients, on scikit-learn's digits."""

import re
import sys

import numpy as np
import pytest

import symgrad
from symgrad.runtime.losses import CompiledLoss
from symgrad.training.datasets import load_digits_dataset
from symgrad import softmax_loss_and_grad, svm_loss_and_grad
from symgrad.training.strategies import (
    ACCURACY_POINTS,
    ACCURACY_SAMPLE,
    TrainingDiverged,
    accuracy,
    full_batch_gradient_descent,
    minibatch_gradient_descent,
    minibatch_indices,
    predict,
    random_local_search,
    random_search,
    stochastic_gradient_descent,
)

LOSSES = {"svm": svm_loss_and_grad, "softmax": softmax_loss_and_grad}
CHANCE_PLUS_3_SIGMA = 0.1 + 3 * np.sqrt(0.1 * 0.9 / 450)  # 450 test digits: beating this is not luck


@pytest.fixture(scope="module")
def digits():
    return load_digits_dataset(rng=0)


@pytest.fixture(scope="module")
def descent_accuracies(digits):
    """Test accuracy of full-batch and mini-batch descent, for both losses."""
    accuracies = {}
    for name, loss in LOSSES.items():
        full = full_batch_gradient_descent(loss, digits.X_train, digits.y_train, learning_rate=1.0, steps=100, reg=1e-3, rng=0)
        mini = minibatch_gradient_descent(loss, digits.X_train, digits.y_train, learning_rate=1.0, steps=100, reg=1e-3, rng=0)
        accuracies[name, "full batch"] = accuracy(full.W, digits.X_test, digits.y_test)
        accuracies[name, "mini-batch"] = accuracy(mini.W, digits.X_test, digits.y_test)
    return accuracies


@pytest.mark.parametrize("loss", ["svm", "softmax"])
@pytest.mark.parametrize("strategy", ["full batch", "mini-batch"])
def test_gradient_descent_reaches_93_percent_test_accuracy_on_digits(descent_accuracies, loss, strategy):
    assert descent_accuracies[loss, strategy] >= 0.93


@pytest.mark.parametrize("name", symgrad.loss_names())
def test_every_compiled_loss_learns_digits_with_the_command_line_defaults(digits, name):
    """300 mini-batch steps (alpha 0.5, lambda 1e-3, B 256), a regression loss one vs rest: the measured test
    accuracies are 0.938 (huber) to 0.967 (crammer_singer)."""
    loss = symgrad.loss_and_grad_function(name, one_vs_rest=True)
    history = minibatch_gradient_descent(loss, digits.X_train, digits.y_train, learning_rate=0.5, steps=300,
                                         reg=1e-3, rng=0)
    assert accuracy(history.W, digits.X_test, digits.y_test) >= 0.93


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_sgd_with_a_decaying_schedule_learns_digits(digits, loss):
    def decaying(k):
        return 0.1 / (1 + k / 500)

    history = stochastic_gradient_descent(
        LOSSES[loss], digits.X_train, digits.y_train, learning_rate=decaying, steps=3000, reg=1e-3, rng=0
    )
    assert accuracy(history.W, digits.X_test, digits.y_test) >= 0.9


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_random_searches_beat_chance_but_not_gradient_descent(digits, descent_accuracies, loss):
    X, y = digits.X_train[:400], digits.y_train[:400]
    search = random_search(LOSSES[loss], X, y, candidates=300, weight_scale=1e-4, rng=0)
    local = random_local_search(LOSSES[loss], X, y, steps=300, step_size=1e-2, rng=0)
    for history in (search, local):
        test_accuracy = accuracy(history.W, digits.X_test, digits.y_test)
        assert CHANCE_PLUS_3_SIGMA < test_accuracy < descent_accuracies[loss, "full batch"] - 0.05, history.strategy


def test_search_histories_hold_the_best_and_current_loss(digits):
    search = random_search(svm_loss_and_grad, digits.X_dev, digits.y_dev, candidates=50, rng=1)
    local = random_local_search(svm_loss_and_grad, digits.X_dev, digits.y_dev, steps=50, step_size=1e-2, rng=1)
    for history in (search, local):
        assert history.losses.shape == (50,) and np.all(np.diff(history.losses) <= 0)
        assert history.losses[-1] == pytest.approx(svm_loss_and_grad(history.W, digits.X_dev, digits.y_dev)[0])
        assert history.learning_rates.shape == (0,)
    assert local.losses[-1] < local.losses[0]


def test_history_records_a_loss_per_step_and_accuracy_along_the_run(digits):
    history = full_batch_gradient_descent(
        svm_loss_and_grad, digits.X_dev, digits.y_dev, learning_rate=0.5, steps=45, rng=0
    )
    assert history.W.shape == (10, 65) and history.losses.shape == (45,) and history.learning_rates.shape == (45,)
    assert history.accuracy_steps[-1] == 45 and len(history.accuracy_steps) == len(history.accuracies) == 5
    assert history.final_accuracy == accuracy(history.W, digits.X_dev, digits.y_dev)
    assert history.losses[-1] < history.losses[0] / 4


def test_gradient_descent_steps_are_the_lecture_update_with_the_schedule(digits):
    X, y = digits.X_dev, digits.y_dev
    W0 = np.random.default_rng(5).standard_normal((10, 65)) * 1e-2
    history = full_batch_gradient_descent(svm_loss_and_grad, X, y, learning_rate=[0.3, 0.1], steps=2, W0=W0, reg=0.01)
    W = W0.copy()
    for alpha in (0.3, 0.1):
        W = W - alpha * svm_loss_and_grad(W, X, y, reg=0.01)[1]
    np.testing.assert_allclose(history.W, W, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(history.learning_rates, [0.3, 0.1])
    np.testing.assert_array_equal(W0, np.random.default_rng(5).standard_normal((10, 65)) * 1e-2)  # W0 untouched


def test_callable_schedule_is_called_with_the_step_index(digits):
    def schedule(k):
        return 1.0 / (k + 1)

    history = minibatch_gradient_descent(
        softmax_loss_and_grad, digits.X_dev, digits.y_dev, learning_rate=schedule, steps=4, batch_size=32, rng=0
    )
    np.testing.assert_allclose(history.learning_rates, [1, 1 / 2, 1 / 3, 1 / 4])


def test_zero_learning_rate_leaves_the_weights_alone(digits):
    W0 = np.ones((10, 65))
    history = minibatch_gradient_descent(
        svm_loss_and_grad, digits.X_dev, digits.y_dev, learning_rate=0.0, steps=5, batch_size=32, W0=W0, rng=0
    )
    np.testing.assert_array_equal(history.W, W0)


def test_regularization_shrinks_the_weights(digits):
    def trained_norm(reg):
        history = full_batch_gradient_descent(
            svm_loss_and_grad, digits.X_train[:400], digits.y_train[:400], learning_rate=0.5, steps=50, reg=reg, rng=0
        )
        return np.linalg.norm(history.W)

    assert trained_norm(0.1) < 0.6 * trained_norm(0.0)  # measured: 2.84 against 5.45


def recording(loss_and_grad, seen):
    """loss_and_grad that also records the example ids (first feature) of every batch it is given."""

    def wrapped(W, X, y, reg=0.0):
        seen.append(X[:, 0].astype(int).tolist())
        return loss_and_grad(W, X, y, reg=reg)

    return wrapped


def examples_with_ids(n):
    """X (n, 3): an id column, a feature and the bias column; y alternating 0 and 1."""
    return np.column_stack([np.arange(n), np.linspace(-1, 1, n), np.ones(n)]), np.arange(n) % 2


def test_minibatches_sample_without_replacement_within_each_epoch():
    X, y = examples_with_ids(10)
    seen = []
    minibatch_gradient_descent(recording(svm_loss_and_grad, seen), X, y, learning_rate=0.01, steps=9, batch_size=4, rng=0)
    assert [len(batch) for batch in seen] == [4, 4, 2] * 3
    epochs = [sum(seen[i : i + 3], []) for i in (0, 3, 6)]
    for epoch in epochs:
        assert sorted(epoch) == list(range(10))
    assert epochs[0] != epochs[1]  # a fresh permutation each epoch


def test_minibatch_indices_cover_every_example_once_per_epoch():
    batches = minibatch_indices(1000, 256, np.random.default_rng(0))
    for _ in range(3):
        epoch = np.concatenate([next(batches) for _ in range(4)])
        np.testing.assert_array_equal(np.sort(epoch), np.arange(1000))


def test_sgd_uses_one_example_and_full_batch_all_examples_per_step():
    X, y = examples_with_ids(6)
    seen_sgd, seen_full = [], []
    stochastic_gradient_descent(recording(svm_loss_and_grad, seen_sgd), X, y, learning_rate=0.01, steps=12, rng=0)
    full_batch_gradient_descent(recording(svm_loss_and_grad, seen_full), X, y, learning_rate=0.01, steps=3, rng=0)
    assert all(len(batch) == 1 for batch in seen_sgd) and sorted(sum(seen_sgd[:6], [])) == list(range(6))
    assert seen_full == [list(range(6))] * 3


def test_same_seed_same_run_other_seed_other_run(digits):
    def run(rng):
        return minibatch_gradient_descent(
            svm_loss_and_grad, digits.X_dev, digits.y_dev, learning_rate=0.1, steps=10, batch_size=16, rng=rng
        ).losses

    np.testing.assert_array_equal(run(3), run(3))
    np.testing.assert_array_equal(run(np.random.default_rng(3)), run(3))
    assert not np.array_equal(run(3), run(4))


def test_float32_data_trains_in_float32(digits):
    X = digits.X_dev.astype(np.float32)
    history = full_batch_gradient_descent(softmax_loss_and_grad, X, digits.y_dev, learning_rate=0.5, steps=5, rng=0)
    assert history.W.dtype == np.float32


def test_predict_and_accuracy_follow_the_scores():
    W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    X = np.array([[3.0, 1.0, 1.0], [0.0, 2.0, 1.0], [-1.0, -2.0, 1.0], [0.5, 0.2, 0.1]])
    np.testing.assert_array_equal(predict(W, X), [0, 1, 2, 0])
    assert accuracy(W, X, [0, 1, 1, 0]) == 0.75


def test_progress_bar_is_silent_when_not_a_terminal_and_optional(digits, capsys, monkeypatch):
    full_batch_gradient_descent(svm_loss_and_grad, digits.X_dev, digits.y_dev, learning_rate=0.1, steps=20, rng=0)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setitem(sys.modules, "tqdm", None)
    history = random_search(svm_loss_and_grad, digits.X_dev, digits.y_dev, candidates=5, rng=0)
    assert history.losses.shape == (5,)


@pytest.mark.parametrize(
    ("arguments", "error", "name"),
    [
        ({"X": np.ones(5)}, ValueError, "X"),
        ({"X": np.array([["a", "b"]])}, TypeError, "X"),
        ({"X": np.full((3, 2), np.nan), "y": np.zeros(3, dtype=int)}, ValueError, "X"),
        ({"y": np.zeros(7, dtype=int)}, ValueError, "y"),
        ({"y": np.zeros(6)}, ValueError, "y"),
        ({"y": np.arange(6), "num_classes": 3}, ValueError, "y"),
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 2.0}, TypeError, "steps"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 7}, ValueError, "batch_size"),
        ({"reg": -1.0}, ValueError, "reg"),
        ({"learning_rate": -0.1}, ValueError, "learning_rate"),
        ({"learning_rate": [0.1, 0.2]}, ValueError, "learning_rate"),
        ({"learning_rate": "fast"}, TypeError, "learning_rate"),
        ({"rng": "seed"}, TypeError, "rng"),
        ({"W0": np.zeros((2, 2))}, ValueError, "W0"),
        ({"loss_and_grad": "svm"}, TypeError, "loss_and_grad"),
    ],
)
def test_bad_training_inputs_name_the_argument(arguments, error, name):
    X, y = examples_with_ids(6)
    call = {"loss_and_grad": svm_loss_and_grad, "X": X, "y": y, "learning_rate": 0.1, "steps": 3, "batch_size": 2}
    call.update(arguments)
    with pytest.raises(error, match=f"^{name}"):
        minibatch_gradient_descent(call.pop("loss_and_grad"), call.pop("X"), call.pop("y"), **call)


def test_bad_search_and_prediction_inputs_name_the_argument():
    X, y = examples_with_ids(6)
    with pytest.raises(ValueError, match="^candidates"):
        random_search(svm_loss_and_grad, X, y, candidates=0)
    with pytest.raises(ValueError, match="^step_size"):
        random_local_search(svm_loss_and_grad, X, y, step_size=-1.0)
    with pytest.raises(ValueError, match="^weight_scale"):
        random_search(svm_loss_and_grad, X, y, weight_scale=0.0)
    with pytest.raises(TypeError, match="^batch_size"):
        stochastic_gradient_descent(svm_loss_and_grad, X, y, learning_rate=0.1, steps=2, batch_size=4)
    with pytest.raises(ValueError, match="^X"):
        predict(np.zeros((2, 4)), X)
    with pytest.raises(ValueError, match="^y"):
        accuracy(np.zeros((2, 3)), X, y[:4])


STRATEGIES_WITH_A_RATE = {
    "full batch": lambda loss, X, y, **o: full_batch_gradient_descent(loss, X, y, **o),
    "mini-batch": lambda loss, X, y, **o: minibatch_gradient_descent(loss, X, y, batch_size=32, **o),
    "stochastic": lambda loss, X, y, **o: stochastic_gradient_descent(loss, X, y, **o),
}


@pytest.mark.parametrize("strategy", sorted(STRATEGIES_WITH_A_RATE))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_diverging_learning_rate_stops_the_run_naming_the_step(digits, strategy, dtype):
    X = digits.X_dev.astype(dtype)
    with pytest.raises(TrainingDiverged, match=r"diverged at step (\d+): .*try a smaller learning rate") as stopped:
        STRATEGIES_WITH_A_RATE[strategy](svm_loss_and_grad, X, digits.y_dev, learning_rate=1e6, steps=200, reg=1e-3,
                                         rng=0)
    assert isinstance(stopped.value, ArithmeticError) and stopped.value.step >= 1
    assert f"step {stopped.value.step}:" in str(stopped.value)


@pytest.mark.parametrize("loss", ["svm", "softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_prepared_path_diverges_at_the_step_and_with_the_message_of_the_public_function(digits, loss, dtype):
    compiled = LOSSES[loss]
    X = digits.X_dev.astype(dtype)

    def as_given(W, X, y, reg=0.0):  # no .loss: called as given, every step through the public checks
        return compiled(W, X, y, reg=reg)

    stopped, errstate = [], np.geterr()
    for function in (as_given, compiled):
        with pytest.raises(TrainingDiverged, match=r"diverged at step (\d+): .*try a smaller learning rate") as error:
            minibatch_gradient_descent(function, X, digits.y_dev, learning_rate=1e8, steps=200, batch_size=16,
                                       reg=1e-3, rng=0, progress=False)
        stopped.append((error.value.step, str(error.value)))
        assert np.geterr() == errstate  # the run's quiet errstate (PreparedLoss.run) ends with it
    assert stopped[0] == stopped[1] and stopped[0][0] >= 1


def returning_nan_at(step):
    """svm_loss_and_grad, except that its call number ``step`` (0-based) returns a NaN loss."""
    calls = []

    def loss_and_grad(W, X, y, reg=0.0):
        calls.append(None)
        loss, gradient = svm_loss_and_grad(W, X, y, reg=reg)
        return (np.nan if len(calls) == step + 1 else loss), gradient

    return loss_and_grad


@pytest.mark.parametrize("strategy", sorted(STRATEGIES_WITH_A_RATE))
def test_a_nan_loss_is_never_recorded(digits, strategy):
    with pytest.raises(TrainingDiverged, match="diverged at step 3: loss_and_grad returned the loss nan"):
        STRATEGIES_WITH_A_RATE[strategy](returning_nan_at(3), digits.X_dev, digits.y_dev, learning_rate=0.1, steps=10,
                                         rng=0)


def test_the_search_strategies_stop_on_a_nan_loss_too(digits):
    with pytest.raises(TrainingDiverged, match="random search diverged at step 2: .*smaller weight_scale"):
        random_search(returning_nan_at(2), digits.X_dev, digits.y_dev, candidates=5, rng=0)
    with pytest.raises(TrainingDiverged, match="random local search diverged at step 1: .*smaller step_size"):
        random_local_search(returning_nan_at(2), digits.X_dev, digits.y_dev, steps=5, rng=0)  # call 0 is the start


@pytest.mark.parametrize(
    "gradient_of, error, message",
    [
        (lambda g: g[0], ValueError, r"gradient of shape \(65,\) for weights of shape \(10, 65\)"),
        (lambda g: np.float64(g.sum()), ValueError, r"gradient of shape \(\) for weights"),
        (lambda g: g.T, ValueError, r"gradient of shape \(65, 10\)"),
        (lambda g: np.round(g).astype(np.int64), TypeError, "gradient of dtype int64 for float64 weights"),
        (lambda g: g + 1j, TypeError, "gradient of dtype complex128"),
    ],
)
def test_a_gradient_not_shaped_or_typed_like_the_weights_is_refused(digits, gradient_of, error, message):
    def loss_and_grad(W, X, y, reg=0.0):
        loss, gradient = svm_loss_and_grad(W, X, y, reg=reg)
        return loss, gradient_of(gradient)

    with pytest.raises(error, match="^loss_and_grad: returned a " + message):
        full_batch_gradient_descent(loss_and_grad, digits.X_dev, digits.y_dev, learning_rate=0.1, steps=3, rng=0)


def test_a_complex_or_array_loss_is_refused(digits):
    for loss_of in (lambda loss: loss + 0j, lambda loss: np.array([loss, loss])):
        def loss_and_grad(W, X, y, reg=0.0, loss_of=loss_of):
            loss, gradient = svm_loss_and_grad(W, X, y, reg=reg)
            return loss_of(loss), gradient

        with pytest.raises(TypeError, match="^loss_and_grad: returned a loss of dtype"):
            minibatch_gradient_descent(loss_and_grad, digits.X_dev, digits.y_dev, learning_rate=0.1, steps=3,
                                       batch_size=16, rng=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ["svm", "softmax", "squared_hinge"])
def test_the_prepared_path_runs_the_steps_the_public_function_would(digits, loss, dtype, monkeypatch):
    compiled = getattr(symgrad, f"{loss}_loss_and_grad")
    X, y = digits.X_train.astype(dtype), digits.y_train
    options = dict(learning_rate=0.2, steps=40, reg=1e-3, rng=3, progress=False)

    def as_given(W, X, y, reg=0.0):  # no .loss: called as given, every step through the public checks
        return compiled(W, X, y, reg=reg)

    expected = {name: strategy(as_given, X, y, **options) for name, strategy in STRATEGIES_WITH_A_RATE.items()}
    monkeypatch.setattr(CompiledLoss, "__call__", lambda *arguments, **keywords: pytest.fail("checked call"))
    for name, strategy in STRATEGIES_WITH_A_RATE.items():
        prepared = strategy(compiled, X, y, **options)
        assert prepared.W.dtype == dtype
        # the same steps, taken without forming the gradient: equal up to rounding (PreparedLoss.step)
        rounding = 1e-5 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(prepared.losses, expected[name].losses, rtol=rounding)
        np.testing.assert_allclose(prepared.W, expected[name].W, rtol=0, atol=rounding * np.abs(expected[name].W).max())
        np.testing.assert_array_equal(prepared.learning_rates, expected[name].learning_rates)


def test_the_training_accuracy_is_measured_on_a_fixed_sample(digits):
    assert len(digits.X_train) > ACCURACY_SAMPLE
    history = minibatch_gradient_descent(softmax_loss_and_grad, digits.X_train, digits.y_train, learning_rate=0.5,
                                         steps=95, rng=0, progress=False)
    assert history.accuracy_steps.tolist() == [19, 38, 57, 76, 95] and ACCURACY_POINTS == 5  # every 95 // 5 steps
    stride = -(-len(digits.y_train) // ACCURACY_SAMPLE)  # every s-th example, s = ceil(N / 500): spread over X
    sample = slice(None, None, stride)
    assert stride == 3 and len(digits.y_train[sample]) <= ACCURACY_SAMPLE
    assert history.final_accuracy == accuracy(history.W, digits.X_train[sample], digits.y_train[sample])
    for point, steps in enumerate(history.accuracy_steps[:-1]):  # each of the W the run had then, not the last one
        shorter = minibatch_gradient_descent(softmax_loss_and_grad, digits.X_train, digits.y_train, learning_rate=0.5,
                                             steps=int(steps), rng=0, progress=False)
        assert history.accuracies[point] == shorter.final_accuracy != history.final_accuracy


def test_predict_refuses_swapped_arguments(digits):
    W = np.random.default_rng(0).normal(size=(10, 65))
    for X in (digits.X_dev, digits.X_train, digits.X_train[:40]):  # 40 examples < 65 features: the bias column tells
        assert predict(W, X).max() < 10
        with pytest.raises(ValueError, match="^W: .*were W and X swapped"):
            predict(X, W)
        with pytest.raises(ValueError, match="^W: .*were W and X swapped"):
            accuracy(X, W, digits.y_dev[:10])
    random_X, random_W = np.random.default_rng(1).normal(size=(50, 4)), np.random.default_rng(2).normal(size=(3, 4))
    with pytest.raises(ValueError, match="swapped"):
        predict(random_X, random_W)
    assert predict(random_W, random_X[:1]).shape == (1,)  # fewer examples than classes, W (3, 4): fine


@pytest.mark.parametrize(
    "labels, error, message",
    [
        (np.array([0.0, 1.0, 2.0, 0.0]), TypeError, "y: labels must be integers"),
        (np.array(["0", "1", "2", "0"]), TypeError, "y: labels must be integers"),
        (np.array([True, False, True, False]), TypeError, "y: labels must be integers"),
        (np.array([0, 1, 3, 0]), ValueError, r"y: labels must be in \[0, 3\)"),
        (np.array([0, 1, 2]), ValueError, r"y: expected labels of shape \(4,\)"),
    ],
)
def test_accuracy_refuses_labels_that_are_not_class_indices(labels, error, message):
    W = np.eye(3)
    X = np.array([[3.0, 1.0, 1.0], [0.0, 2.0, 1.0], [-1.0, -2.0, 1.0], [0.5, 0.2, 0.1]])
    with pytest.raises(error, match=message):
        accuracy(W, X, labels)


@pytest.mark.parametrize("wrap", [lambda f: f, lambda f: (lambda W, X, y, reg=0.0: f(W, X, y, reg=reg))])
def test_a_nan_example_met_late_is_named_as_bad_data_not_divergence(digits, wrap):
    X = digits.X_train.copy()
    X[700, 3] = np.nan  # not scanned up front: met when a batch holds it
    with pytest.raises(ValueError, match=r"^X: contains NaN or infinite values \(in the examples of step (\d+)\)") as bad:
        minibatch_gradient_descent(wrap(svm_loss_and_grad), X, digits.y_train, learning_rate=0.1, steps=40,
                                   batch_size=64, rng=0, progress=False)
    assert int(re.search(r"step (\d+)", str(bad.value)).group(1)) > 0


def test_the_prepared_path_takes_an_ndarray_subclass_such_as_a_memmap(digits, tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, digits.X_dev)
    X = np.load(path, mmap_mode="r")
    options = dict(learning_rate=0.2, steps=20, batch_size=16, rng=0, progress=False)
    from_file = minibatch_gradient_descent(svm_loss_and_grad, X, digits.y_dev, **options)
    in_memory = minibatch_gradient_descent(svm_loss_and_grad, digits.X_dev, digits.y_dev, **options)
    np.testing.assert_array_equal(from_file.W, in_memory.W)
