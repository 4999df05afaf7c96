"""A mini-batch step split across threads (PreparedLoss.run(threads), symgrad.runtime.threads): each thread
gathers and sums its share of the batch's rows. The split step is the one-thread step up to the rounding of adding
the shares, fails exactly as it does (whichever share meets the fault), leaves the process as it found it (BLAS
threads, helper threads, errstate), and mini-batch descent splits its steps on batches large enough to pay."""

import re
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import symgrad
from random_problems import integer_problem
from symgrad.runtime import threads as step_threads_module
from symgrad.runtime.catalog import compiled_loss, loss_names
from symgrad.training.datasets import load_digits_dataset

EVERY_LOSS = loss_names()
CLASSIFIERS = symgrad.loss_names("classifier")


def blas_threads() -> list[int]:
    return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]


def helpers() -> int:
    """symgrad's helper threads now alive (other tests' threads, Dask's or JAX's, may come and go meanwhile)."""
    return sum(thread.name.startswith("symgrad-step") for thread in threading.enumerate())


def prepared_pair(loss, shape, dtype, reg):
    values = loss.parameter_values({})
    return loss.prepared(shape, dtype, reg, values), loss.prepared(shape, dtype, reg, values)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", EVERY_LOSS)
def test_a_split_step_is_the_one_thread_step_up_to_rounding_at_kinks_too(name, dtype, threads):
    loss = compiled_loss(name).one_vs_rest()
    _, X, _ = integer_problem(compiled_loss(name), 3, number_of_examples=61)  # small integers: on the kinks
    rng = np.random.default_rng(0)
    W = rng.integers(-2, 3, size=(4, X.shape[1])).astype(dtype)
    labels = rng.integers(0, 4, 61)
    unit = float(np.finfo(dtype).eps)
    for reg in (0.0, 0.1):
        split, alone = prepared_pair(loss, W.shape, dtype, reg)
        stepped_split, stepped_alone = W.copy(), W.copy()
        with split.run(threads):
            for rows, rate in ((rng.permutation(61)[:40], 0.1), (np.arange(61), 0.01), (np.array([5]), 0.5),
                               (np.array([7, 7, 3]), 1.0)):  # a share may be empty, rows may repeat
                value = split.step(stepped_split, X.astype(dtype), labels, rate, rows)
                expected = alone.step(stepped_alone, X[rows].astype(dtype), labels[rows], rate)
                assert value == pytest.approx(expected, rel=64 * unit, abs=64 * unit)
                scale = 1 + np.abs(stepped_alone).max()
                np.testing.assert_allclose(stepped_split, stepped_alone, rtol=0, atol=64 * unit * scale)
                stepped_split[...] = stepped_alone  # the next step from the same W


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_integer_features_are_cast_share_by_share(dtype):
    loss = compiled_loss("softmax")
    rng = np.random.default_rng(1)
    X, labels = rng.integers(-3, 4, size=(50, 6)), rng.integers(0, 3, 50)
    W = rng.normal(size=(3, 6)).astype(dtype)
    split, alone = prepared_pair(loss, W.shape, dtype, 0.0)
    rows = rng.permutation(50)[:30]
    stepped = W.copy()
    with split.run(2):
        value = split.step(stepped, X, labels, 0.2, rows)
    expected = W.copy()
    assert value == pytest.approx(alone.step(expected, X[rows].astype(dtype), labels[rows], 0.2), rel=1e-6)
    assert stepped.dtype == dtype
    np.testing.assert_allclose(stepped, expected, rtol=1e-5)


def nan_in_rows(W, X, labels, rows, share):
    X[rows[share], 0] = np.nan
    return W


def score_overflow_in_rows(W, X, labels, rows, share):
    X[rows[share], :] = 1e308
    W[:] = 1e10
    return W


def margin_overflow(W, X, labels, rows, share):
    # scores +1e308, -1e308 and 0 on that row: finite, but s_0 - s_y = 2e308 for its label y = 1 is not
    X[rows[share]], W[:, 0], labels[rows[share]] = [1e306, 0.0, 0.0, 0.0], [100.0, -100.0, 0.0], 1
    return W


def penalty_overflow(W, X, labels, rows, share):
    W[:] = 1e160
    X[:, :] = 0
    return W


@pytest.mark.parametrize("make_bad", [nan_in_rows, score_overflow_in_rows, margin_overflow, penalty_overflow])
@pytest.mark.parametrize("share", [0, 5, 11])  # the first (this thread's), a middle and the last share's rows
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_a_fault_in_any_share_fails_as_the_one_thread_step_fails(name, share, make_bad):
    loss = compiled_loss(name)
    rng = np.random.default_rng(2)
    X, labels = rng.normal(size=(30, 4)), rng.integers(0, 3, 30)
    rows = rng.permutation(30)[:12]
    W = make_bad(rng.normal(size=(3, 4)), X, labels, rows, share)
    split, alone = prepared_pair(loss, W.shape, np.float64, 1e-3)
    with pytest.raises(ValueError) as one_thread:
        alone.step(W.copy(), X[rows], labels[rows], 0.1)
    cause = {nan_in_rows: "X: inputs must be finite", score_overflow_in_rows: "X: the scores X @ W.T overflow",
             margin_overflow: f"{name}: the loss or its gradient overflows", penalty_overflow: "W: reg * sum"}
    assert str(one_thread.value).startswith(cause[make_bad])  # the fault meant, not another one
    before = W.copy()
    with split.run(3), pytest.raises(ValueError, match="^" + re.escape(str(one_thread.value)) + "$"):
        split.step(W, X, labels, 0.1, rows)
    np.testing.assert_array_equal(W, before)  # a failed step leaves W as it was


def test_a_run_with_threads_leaves_blas_the_helpers_and_the_errstate_as_it_found_them():
    loss = compiled_loss("svm")
    prepared = loss.prepared((3, 4), np.float64, 0.0, loss.parameter_values({}))
    blas, errstate = blas_threads(), np.geterr()
    assert helpers() == 0
    X, labels = np.ones((8, 4)), np.zeros(8, dtype=np.int64)
    with prepared.run(2):
        assert all(count == 1 for count in blas_threads())  # one BLAS thread per thread while the run lasts
        prepared.step(np.zeros((3, 4)), X, labels, 0.1, np.arange(8))
        assert helpers() == 1
    assert (blas_threads(), helpers(), np.geterr()) == (blas, 0, errstate)
    with pytest.raises(KeyError), prepared.run(3):
        prepared.step(np.zeros((3, 4)), X, labels, 0.1, np.arange(8))
        assert 1 <= helpers() <= 2  # the executor starts a second helper only when the first is busy
        raise KeyError("stop")
    assert (blas_threads(), helpers(), np.geterr()) == (blas, 0, errstate)
    with prepared.run(2), pytest.raises(RuntimeError, match="already in one"), prepared.run(2):
        pass
    for bad, error in ((0, ValueError), (-1, ValueError), (2.0, TypeError), ("2", TypeError), (True, TypeError)):
        with pytest.raises(error, match="threads"), prepared.run(bad):
            pass


def test_step_threads_gives_each_thread_enough_bytes_and_rows_and_at_most_one_thread_per_core(monkeypatch):
    monkeypatch.setattr(step_threads_module, "usable_cores", lambda: 4)
    count = step_threads_module.step_threads
    cifar, cifar64 = np.zeros((10, 3073), np.float32), np.zeros((10, 3073), np.float64)
    assert count(256, cifar) == 2  # 3 MiB in 256 rows: two shares of 1.5 MiB and 128 rows
    assert count(256, cifar64) == 2  # 6 MiB, but 256 rows: two shares of 128 rows
    assert count(1024, cifar64) == 4  # 24 MiB in 1024 rows: one share per core
    assert count(255, cifar) == 1 and count(176, cifar) == 1 and count(88, cifar64) == 1  # too little to pay
    assert count(4096, np.zeros((10, 101), np.float32)) == 1  # 1.6 MiB: too few bytes, however many rows
    assert count(700, np.zeros((10, 785), np.float32)) == 1  # 2.1 MiB: one share would hold less than 1.5 MiB
    rows = step_threads_module.PART_ROWS
    assert count(2 * rows, np.zeros((10, 10**6), np.float32)) == 2 and count(2 * rows - 1, np.zeros((1, 10**6))) == 1
    monkeypatch.setattr(step_threads_module, "usable_cores", lambda: 1)
    assert count(4096, cifar64) == 1  # no second core: no split


@pytest.fixture(scope="module")
def digits():
    return load_digits_dataset(rng=0)


@pytest.mark.parametrize("loss", ["svm", "softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_minibatch_descent_splits_large_batches_and_trains_as_one_thread_does(digits, loss, dtype, monkeypatch):
    function = symgrad.loss_and_grad_function(loss)
    X = digits.X_train.astype(dtype)
    options = dict(learning_rate=0.5, steps=60, batch_size=64, reg=1e-3, rng=0, progress=False)
    one_thread = symgrad.minibatch_gradient_descent(function, X, digits.y_train, **options)
    runs = []
    monkeypatch.setattr(step_threads_module, "PART_BYTES", 1)  # every batch split, one share per core
    monkeypatch.setattr(step_threads_module, "PART_ROWS", 1)
    monkeypatch.setattr(step_threads_module, "usable_cores", lambda: 3)
    started = []
    real_helpers = step_threads_module.helper_threads

    def counted(count):
        started.append(count)
        return real_helpers(count)

    monkeypatch.setattr("symgrad.runtime.losses.helper_threads", counted)
    for _ in range(2):
        runs.append(symgrad.minibatch_gradient_descent(function, X, digits.y_train, **options))
    assert started == [2, 2]  # each run split its steps three ways
    np.testing.assert_array_equal(runs[0].W, runs[1].W)  # the shares are added in a fixed order: reproducible
    np.testing.assert_array_equal(runs[0].losses, runs[1].losses)
    tolerance = 1e-3 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(runs[0].losses, one_thread.losses, rtol=tolerance)
    np.testing.assert_allclose(runs[0].W, one_thread.W, rtol=tolerance, atol=tolerance)


def test_a_nan_example_in_a_split_step_is_named_as_bad_data(digits, monkeypatch):
    monkeypatch.setattr(step_threads_module, "PART_BYTES", 1)
    monkeypatch.setattr(step_threads_module, "PART_ROWS", 1)
    monkeypatch.setattr(step_threads_module, "usable_cores", lambda: 2)
    X = digits.X_train.copy()
    X[700, 3] = np.nan
    with pytest.raises(ValueError, match=r"^X: contains NaN or infinite values \(in the examples of step (\d+)\)"):
        symgrad.minibatch_gradient_descent(symgrad.svm_loss_and_grad, X, digits.y_train, learning_rate=0.1,
                                           steps=40, batch_size=64, rng=0, progress=False)
    with pytest.raises(symgrad.TrainingDiverged, match=r"diverged at step (\d+): .*try a smaller learning rate"):
        symgrad.minibatch_gradient_descent(symgrad.softmax_loss_and_grad, digits.X_train, digits.y_train,
                                           learning_rate=1e8, steps=200, batch_size=16, reg=1e-3, rng=0,
                                           progress=False)
