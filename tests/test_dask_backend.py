"""The compiled losses on Dask arrays: equal to the NumPy backend, on threads and on a two-worker
dask.distributed cluster; .npy files read in chunks; training on data larger than a memory budget."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import symgrad  # noqa: E402
from symgrad.runtime.catalog import compiled_loss, loss_names  # noqa: E402
from symgrad.runtime.dask_evaluation import CHUNKS_IN_MEMORY, read_npy_in_chunks  # noqa: E402
from symgrad.training.strategies import chunk_minibatches  # noqa: E402
from random_problems import integer_problem, random_problem  # noqa: E402


def relative_difference(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(np.max(np.abs(b)), 1e-300))


LOSSES = {
    "svm": lambda W, X, y: symgrad.svm_loss_and_grad(W, X, y, reg=0.1, delta=0.5, kink_value=0.5),
    "softmax": lambda W, X, y: symgrad.softmax_loss_and_grad(W, X, y, reg=0.1),
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("number_of_classes, rows_per_chunk", [(2, 7), (10, 64), (10, 1000)])
def test_dask_equals_numpy_in_float64(loss, number_of_classes, rows_per_chunk):
    W, X, y = random_problem(number_of_classes, 300, 17, number_of_classes)
    expected_loss, expected_gradient = LOSSES[loss](W, X, y)
    dask_loss, dask_gradient = LOSSES[loss](W, da.from_array(X, chunks=(rows_per_chunk, 17)), y)
    assert abs(dask_loss - expected_loss) <= 1e-10 * abs(expected_loss)
    assert relative_difference(dask_gradient, expected_gradient) <= 1e-10
    assert isinstance(dask_gradient, np.ndarray) and dask_gradient.shape == W.shape


def test_dask_labels_and_column_chunks_and_float32():
    W, X, y = random_problem(1, 120, 9, 4, dtype=np.float32)
    X_dask = da.from_array(X, chunks=(50, 4))  # column chunks are merged
    y_dask = da.from_array(y, chunks=33)  # label chunks follow X's rows
    loss, gradient = symgrad.svm_loss_and_grad(W, X_dask, y_dask)
    expected_loss, expected_gradient = symgrad.svm_loss_and_grad(W, X, y)
    assert gradient.dtype == np.float32
    assert loss == pytest.approx(expected_loss, rel=1e-6)
    assert relative_difference(gradient, expected_gradient) < 1e-5


def test_exact_kinks_give_the_numpy_subgradient():
    # Integer data and weights: many margins s_j - s_y + 1 are exactly 0.
    rng = np.random.default_rng(3)
    W = rng.integers(-1, 2, size=(3, 4)).astype(float)
    X = rng.integers(-1, 2, size=(40, 4)).astype(float)
    y = rng.integers(0, 3, size=40)
    margins = X @ W.T - (X @ W.T)[np.arange(40), y][:, None] + 1
    assert np.any(margins == 0)
    gradients = []
    for kink_value in (0.0, 0.5, 1.0):
        expected = symgrad.svm_loss_and_grad(W, X, y, kink_value=kink_value)
        got = symgrad.svm_loss_and_grad(W, da.from_array(X, chunks=(9, 4)), y, kink_value=kink_value)
        assert got[0] == pytest.approx(expected[0], rel=1e-12)  # the chunks add in another order: rounding only
        assert relative_difference(got[1], expected[1]) <= 1e-12
        gradients.append(got[1])
    assert relative_difference(gradients[0], gradients[2]) > 0.01  # the kink value reaches the gradient


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda W, X, y: (W, X, y + 5), "y: labels must be in"),
        (lambda W, X, y: (W, X.map_blocks(lambda b: np.where(b > 2.5, np.nan, b)), y), "X: inputs must be finite"),
        (lambda W, X, y: (W[:, :3], X, y), "X: has 5 features"),
        (lambda W, X, y: (W, X, y[:-1]), "y: expected shape"),
        (lambda W, X, y: (W, X[X[:, 0] > 0], y), "X: the number of rows is unknown"),
        (lambda W, X, y: (W, X, y.astype(float)), "y: labels must be integers"),
    ],
)
def test_bad_input_is_named(change, message):
    W, X, y = random_problem(4, 60, 5, 3)
    W, X_dask, y = change(W, da.from_array(X, chunks=(16, 5)), y)
    with pytest.raises((ValueError, TypeError), match=message):
        symgrad.softmax_loss_and_grad(W, X_dask, y)


def test_npy_file_read_in_chunks(tmp_path):
    X = np.arange(35 * 6, dtype=np.float32).reshape(35, 6)
    path = tmp_path / "X.npy"
    np.save(path, X)
    chunked = read_npy_in_chunks(path, rows_per_chunk=8)
    assert chunked.chunks == ((8, 8, 8, 8, 3), (6,))
    np.testing.assert_array_equal(chunked.compute(), X)
    budgeted = read_npy_in_chunks(path, memory_budget=CHUNKS_IN_MEMORY * 4 * 6 * 10)
    assert budgeted.chunks[0][0] == 10


@pytest.mark.parametrize(
    "array, options, error",
    [
        (np.zeros((4, 3), order="F"), {"rows_per_chunk": 2}, ValueError),
        (np.zeros((2, 3, 4)), {"rows_per_chunk": 2}, ValueError),
        (np.zeros((4, 3)), {"rows_per_chunk": 0}, ValueError),
        (np.zeros((4, 3)), {"memory_budget": -1}, ValueError),
        (np.zeros((4, 3)), {}, TypeError),
        (np.zeros((4, 3)), {"rows_per_chunk": 2, "memory_budget": 100}, TypeError),
    ],
)
def test_npy_reader_refuses_what_it_cannot_chunk(tmp_path, array, options, error):
    path = tmp_path / "X.npy"
    np.save(path, array)
    with pytest.raises(error):
        read_npy_in_chunks(path, **options)


def test_a_file_that_is_not_npy_is_refused(tmp_path):
    path = tmp_path / "X.npy"
    path.write_bytes(b"not a numpy file at all")
    with pytest.raises(ValueError, match="is not a .npy file"):
        read_npy_in_chunks(path, rows_per_chunk=1)


def test_minibatches_of_a_dask_array_use_every_example_once_per_epoch():
    X = np.arange(50, dtype=float)[:, None] * np.ones((1, 2))
    y = np.arange(50)
    batches = chunk_minibatches(da.from_array(X, chunks=(12, 2)), y, 5, np.random.default_rng(0))
    epoch = [next(batches) for _ in range(3 + 3 + 3 + 3 + 1)]  # ceil(12 / 5) = 3 batches per full chunk, 1 for 2 rows
    rows = np.concatenate([batch_labels for _, batch_labels in epoch])
    assert sorted(rows.tolist()) == list(range(50))
    for batch_inputs, batch_labels in epoch:
        np.testing.assert_array_equal(batch_inputs[:, 0], batch_labels)
        assert len(batch_labels) <= 5 and len(set(batch_labels // 12)) == 1  # one chunk per batch


@pytest.fixture(scope="module")
def cluster():
    """A dask.distributed LocalCluster of two single-thread worker processes (a Client per test uses it)."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0", processes=True
    ) as local_cluster:
        yield local_cluster


def forget_transfers(client) -> None:
    client.run(lambda dask_worker: dask_worker.transfer_outgoing_log.clear())


def bytes_sent_to_the_client(client) -> int:
    """Bytes the workers sent to this client since :func:`forget_transfers` (the log's entries without a
    receiving worker are the client's gathers; worker-to-worker moves name the receiving worker)."""
    logs = client.run(lambda dask_worker: [(entry["who"], entry["total"]) for entry in dask_worker.transfer_outgoing_log])
    return sum(total for log in logs.values() for who, total in log if who is None)


def test_every_compiled_loss_on_a_persisted_two_worker_cluster_equals_numpy(cluster):
    from dask.distributed import Client

    with Client(cluster):
        for name in loss_names():
            function = symgrad.loss_and_grad_function(name)
            for seed in range(2):
                weights, X, targets = integer_problem(compiled_loss(name), seed, 300, 6, 5)
                X_persisted = da.from_array(X, chunks=(70, 6)).persist()
                targets_persisted = da.from_array(targets, chunks=70).persist()
                expected_loss, expected_gradient = function(weights, X, targets, reg=0.1)
                loss, gradient = function(weights, X_persisted, targets_persisted, reg=0.1)
                assert loss == pytest.approx(expected_loss, rel=1e-10), name
                assert gradient.shape == weights.shape and relative_difference(gradient, expected_gradient) <= 1e-10


def test_a_call_is_one_map_over_the_chunks_and_one_tree_reduction(monkeypatch):
    import dask

    computed = []
    compute = dask.compute
    monkeypatch.setattr(dask, "compute", lambda *collections: computed.append(collections) or compute(*collections))
    W, X, y = random_problem(6, 1000, 5, 3)
    X_dask = da.from_array(X, chunks=(50, 5)).persist()  # 20 chunks, held in memory
    loss, gradient = symgrad.softmax_loss_and_grad(W, X_dask, y)
    (collections,) = computed
    tasks = [str(key) for key in dict(collections[0].__dask_graph__())]
    assert sum(task.startswith("_chunk_sums") for task in tasks) == 20  # the map: one task per chunk
    assert sum(task.startswith("added") for task in tasks) == 3 + 1  # the tree: 20 -> 3 -> 1 with fan-in 8
    assert sum(task.startswith("symgrad-chunk-evaluation") for task in tasks) == 1  # W, once
    assert len(tasks) == 20 + 4 + 1 + 20  # and the persisted chunks: nothing is read or recomputed
    expected_loss, expected_gradient = symgrad.softmax_loss_and_grad(W, X, y)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert relative_difference(gradient, expected_gradient) <= 1e-12


def test_a_persisted_x_is_never_read_again_nor_gathered(cluster, tmp_path):
    from dask.distributed import Client, wait

    W, X, y = random_problem(7, 4000, 64, 10)
    np.save(tmp_path / "X.npy", X)
    with Client(cluster) as client:
        X_persisted = read_npy_in_chunks(tmp_path / "X.npy", rows_per_chunk=500).persist()
        y_persisted = da.from_array(y, chunks=500).persist()
        wait([X_persisted, y_persisted])
        (tmp_path / "X.npy").unlink()  # a call that read X again would fail
        forget_transfers(client)
        for _ in range(3):
            loss, gradient = symgrad.svm_loss_and_grad(W, X_persisted, y_persisted, reg=0.1)
        sent = bytes_sent_to_the_client(client)
    expected_loss, expected_gradient = symgrad.svm_loss_and_grad(W, X, y, reg=0.1)
    assert loss == pytest.approx(expected_loss, rel=1e-10) and relative_difference(gradient, expected_gradient) <= 1e-10
    assert 0 < sent < X.nbytes / 20, f"the workers sent {sent} bytes to the client in 3 calls; X has {X.nbytes}"


def test_an_epoch_of_minibatch_descent_on_a_persisted_x_leaves_x_on_the_workers(cluster):
    from dask.distributed import Client, wait

    digits = symgrad.load_digits_dataset(rng=0) if _has_sklearn() else None
    rng = np.random.default_rng(8)
    X = rng.normal(size=(12_000, 65))
    X[:, -1] = 1
    y = np.argmax(X @ rng.normal(size=(10, 65)).T, axis=1)
    options = dict(learning_rate=0.5, steps=24, batch_size=500, reg=1e-3, rng=0, progress=False)  # 24 steps: an epoch
    locally = symgrad.minibatch_gradient_descent(symgrad.softmax_loss_and_grad, da.from_array(X, chunks=(1500, 65)),
                                                 y, **options)
    with Client(cluster) as client:
        X_persisted = da.from_array(X, chunks=(1500, 65)).persist()
        wait(X_persisted)
        forget_transfers(client)
        on_cluster = symgrad.minibatch_gradient_descent(symgrad.softmax_loss_and_grad, X_persisted, y, **options)
        sent = bytes_sent_to_the_client(client)
        assert 0 < sent < X.nbytes / 20, f"the workers sent {sent} bytes to the client in an epoch; X has {X.nbytes}"
        if digits is not None:  # and a classifier trained on the cluster is the one trained in memory
            steps = dict(learning_rate=0.5, steps=15, reg=1e-3, rng=0, progress=False)
            X_train = da.from_array(digits.X_train, chunks=(300, digits.X_train.shape[1])).persist()
            trained = symgrad.full_batch_gradient_descent(symgrad.svm_loss_and_grad, X_train, digits.y_train, **steps)
    np.testing.assert_allclose(on_cluster.losses, locally.losses, rtol=1e-10)  # the same batches, in the same order
    assert on_cluster.losses[-1] < on_cluster.losses[0] / 2
    if digits is not None:
        in_memory = symgrad.full_batch_gradient_descent(symgrad.svm_loss_and_grad, digits.X_train, digits.y_train,
                                                        **steps)
        assert trained.final_accuracy == in_memory.final_accuracy > 0.9
        np.testing.assert_allclose(trained.losses, in_memory.losses, rtol=1e-10)


def _has_sklearn() -> bool:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def test_a_chunk_with_nan_stops_minibatches_naming_its_rows():
    X = np.ones((40, 3))
    X[25, 1] = np.nan
    batches = chunk_minibatches(da.from_array(X, chunks=(10, 3)), np.zeros(40, dtype=int), 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^X: contains NaN or infinite values \(in rows 20 \.\.\. 29\)"):
        for _ in range(12):
            next(batches)


OUT_OF_CORE_RUN = textwrap.dedent(
    """
    import sys
    import numpy as np
    import symgrad
    from symgrad.runtime.dask_evaluation import read_npy_in_chunks

    path, labels_path, budget = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def resident(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024

    X = read_npy_in_chunks(path, memory_budget=budget)
    y = np.load(labels_path)
    # Warm up on the first chunk, so that the code Dask and NumPy load on first use is not counted as data.
    symgrad.accuracy(symgrad.softmax_loss_and_grad(np.zeros((10, X.shape[1]), X.dtype), X[:100], y[:100])[1],
                     X[:100], y[:100])
    open("/proc/self/clear_refs", "w").write("5")  # peak RSS := current RSS
    before = resident("VmRSS:")
    full = symgrad.full_batch_gradient_descent(
        symgrad.softmax_loss_and_grad, X, y, learning_rate=1.0, steps=3, rng=0, progress=False)
    mini = symgrad.minibatch_gradient_descent(
        symgrad.softmax_loss_and_grad, X, y, learning_rate=0.5, steps=80, batch_size=256, rng=0, progress=False)
    print(resident("VmHWM:") - before, full.losses[0], full.losses[-1], mini.final_accuracy)
    """
)


def test_training_on_a_file_larger_than_the_memory_budget_stays_within_it(tmp_path):
    budget = 32 * 2**20
    number_of_examples, number_of_features, number_of_classes = 24_000, 1_025, 10  # 98 MiB of float32
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(number_of_classes, number_of_features)).astype(np.float32)
    path = tmp_path / "X.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(number_of_examples, number_of_features))
    y = np.empty(number_of_examples, dtype=np.int64)
    for start in range(0, number_of_examples, 4_000):
        block = rng.normal(size=(4_000, number_of_features)).astype(np.float32) / 32
        X[start : start + 4_000] = block
        y[start : start + 4_000] = np.argmax(block @ truth.T, axis=1)
    X.flush()
    del X
    np.save(tmp_path / "y.npy", y)
    assert path.stat().st_size > 2 * budget

    run = subprocess.run(
        [sys.executable, "-c", OUT_OF_CORE_RUN, str(path), str(tmp_path / "y.npy"), str(budget)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    peak_growth, first_loss, last_loss, minibatch_accuracy = map(float, run.stdout.split())
    assert peak_growth < budget, f"peak RSS grew by {peak_growth / 2**20:.1f} MiB, budget {budget / 2**20:.0f} MiB"
    assert last_loss < first_loss
    assert minibatch_accuracy > 0.5  # 10 classes: chance is 0.1
