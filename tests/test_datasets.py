"""CIFAR-10 loader on tiny batches written in the real pickle format; digits through the same pipeline."""

import collections
import os
import pickle
import sys

import numpy as np
import pytest

from symgrad.training.datasets import CIFAR10_PIXELS, load_cifar10, load_cifar10_batch, load_digits_dataset
from symgrad import svm_loss_and_grad
from symgrad.training.strategies import accuracy, minibatch_gradient_descent

ROWS_PER_BATCH = 20
TEST_ROWS = 16
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_batch(path, images, labels):
    """One batch exactly as the CIFAR-10 python version stores it: a protocol-2 pickle of a bytes-keyed dict."""
    content = {
        b"batch_label": f"batch {path.name}".encode(),
        b"labels": [int(label) for label in labels],
        b"data": images,
        b"filenames": [f"image_{i}.png".encode() for i in range(len(labels))],
    }
    with path.open("wb") as file:
        pickle.dump(content, file, protocol=2)


def write_cifar_folder(directory, rng):
    """Five training batches, a test batch and batches.meta; returns the raw training and test arrays."""
    training_images, training_labels = [], []
    for i in range(1, 6):
        images = rng.integers(0, 256, size=(ROWS_PER_BATCH, CIFAR10_PIXELS), dtype=np.uint8)
        labels = rng.integers(0, 10, size=ROWS_PER_BATCH)
        write_batch(directory / f"data_batch_{i}", images, labels)
        training_images.append(images)
        training_labels.append(labels)
    test_images = rng.integers(0, 256, size=(TEST_ROWS, CIFAR10_PIXELS), dtype=np.uint8)
    test_labels = rng.integers(0, 10, size=TEST_ROWS)
    write_batch(directory / "test_batch", test_images, test_labels)
    meta = {b"num_cases_per_batch": ROWS_PER_BATCH, b"label_names": [n.encode() for n in CLASS_NAMES], b"num_vis": 3072}
    with (directory / "batches.meta").open("wb") as file:
        pickle.dump(meta, file, protocol=2)
    return np.concatenate(training_images), np.concatenate(training_labels), test_images, test_labels


@pytest.fixture
def cifar_folder(tmp_path):
    raw = write_cifar_folder(tmp_path, np.random.default_rng(7))
    return tmp_path, raw


def test_cifar_round_trip_keeps_pixels_labels_and_batch_order(cifar_folder):
    folder, (train_images, train_labels, test_images, test_labels) = cifar_folder
    data = load_cifar10(folder, num_training=80, num_validation=20, num_test=10, num_dev=12, rng=3, dtype=np.float64)

    assert data.X_train.shape == (80, 3073) and data.X_val.shape == (20, 3073)
    assert data.X_test.shape == (10, 3073) and data.X_dev.shape == (12, 3073)
    mean_image = train_images[:80].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(data.mean_image, mean_image)
    np.testing.assert_allclose(data.X_train[:, :-1] + mean_image, train_images[:80], atol=1e-9)
    np.testing.assert_allclose(data.X_val[:, :-1] + mean_image, train_images[80:100], atol=1e-9)
    np.testing.assert_allclose(data.X_test[:, :-1] + mean_image, test_images[:10], atol=1e-9)
    for X in (data.X_train, data.X_val, data.X_test, data.X_dev):
        assert np.all(X[:, -1] == 1.0)
    np.testing.assert_array_equal(data.y_train, train_labels[:80])
    np.testing.assert_array_equal(data.y_val, train_labels[80:100])
    np.testing.assert_array_equal(data.y_test, test_labels[:10])
    assert data.class_names == tuple(CLASS_NAMES) and data.num_classes == 10 and data.num_features == 3073


def test_cifar_dev_split_is_distinct_training_rows(cifar_folder):
    folder, _ = cifar_folder
    data = load_cifar10(folder, num_training=80, num_validation=20, num_test=10, num_dev=12, rng=3)
    matches = [np.flatnonzero(np.all(data.X_train == row, axis=1)) for row in data.X_dev]
    rows = [int(match[0]) for match in matches if len(match) == 1]
    assert len(set(rows)) == 12
    np.testing.assert_array_equal(data.y_dev, data.y_train[rows])


def test_training_split_is_centred_and_other_splits_use_its_mean(cifar_folder):
    folder, (train_images, _, _, _) = cifar_folder
    data = load_cifar10(folder, num_training=60, num_validation=40, num_test=16, num_dev=0, dtype=np.float64)
    np.testing.assert_allclose(data.X_train[:, :-1].mean(axis=0), 0.0, atol=1e-9)
    assert np.abs(data.X_val[:, :-1].mean(axis=0)).max() > 1.0  # centred with the training mean, not its own


def test_cifar_features_are_float32_by_default_and_centred_to_float32_precision(cifar_folder):
    folder, (train_images, _, _, _) = cifar_folder
    data = load_cifar10(folder, num_training=80, num_validation=20, num_test=10, num_dev=5)
    assert all(X.dtype == np.float32 for X in (data.X_train, data.X_val, data.X_test, data.X_dev))
    # pixels 0 ... 255 minus a float32 mean: each feature within float32 rounding of the exact difference
    exact = train_images[:80].astype(np.float64) - train_images[:80].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(data.X_train[:, :-1], exact, atol=256 * np.finfo(np.float32).eps)


def test_float64_features_on_request(cifar_folder):
    folder, _ = cifar_folder
    data = load_cifar10(folder, num_training=80, num_validation=20, num_test=10, num_dev=5, dtype=np.float64)
    assert data.X_train.dtype == np.float64 and data.X_test.dtype == np.float64


def test_truncated_batch_is_rejected_naming_the_file(cifar_folder):
    folder, _ = cifar_folder
    batch = folder / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[: batch.stat().st_size // 2])
    with pytest.raises(ValueError, match="data_batch_3.*truncated or corrupt"):
        load_cifar10(folder, num_training=80, num_validation=20, num_test=10, num_dev=5)


def test_batch_with_wrong_row_length_is_rejected(tmp_path):
    write_batch(tmp_path / "data_batch_1", np.zeros((4, 3000), dtype=np.uint8), [0, 1, 2, 3])
    with pytest.raises(ValueError, match="data_batch_1.*3072"):
        load_cifar10_batch(tmp_path / "data_batch_1")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({b"data": np.zeros((2, 3072), dtype=np.uint8)}, "missing key.*labels"),
        ({b"data": np.zeros((2, 3072), dtype=np.float32), b"labels": [0, 1]}, "uint8"),
        ({b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [0]}, "labels.*one per image"),
        ({b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [0, 10]}, r"0 \.\.\. 9"),
        ([1, 2, 3], "expected a pickled dict"),
    ],
)
def test_malformed_batch_is_rejected_naming_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(ValueError, match=f"test_batch.*{message}"):
        load_cifar10_batch(path)


def test_batch_referring_to_other_code_is_refused_not_run(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": collections.OrderedDict(), b"labels": []}, protocol=2))
    with pytest.raises(ValueError, match="data_batch_1.*refusing to load collections.OrderedDict"):
        load_cifar10_batch(path)


@pytest.mark.parametrize("name", ["data_batch_5", "test_batch", "batches.meta"])
def test_missing_file_is_named(cifar_folder, name):
    folder, _ = cifar_folder
    (folder / name).unlink()
    with pytest.raises(FileNotFoundError, match=name):
        load_cifar10(folder, num_training=80, num_validation=20, num_test=10, num_dev=5)


def test_missing_folder_and_oversized_splits_are_named(cifar_folder, tmp_path):
    folder, _ = cifar_folder
    with pytest.raises(FileNotFoundError, match="directory"):
        load_cifar10(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="num_training"):
        load_cifar10(folder)  # the default 49000 + 1000 does not fit 100 images
    with pytest.raises(ValueError, match="num_test"):
        load_cifar10(folder, num_training=80, num_validation=20, num_test=17, num_dev=5)
    with pytest.raises(TypeError, match="num_dev"):
        load_cifar10(folder, num_training=80, num_validation=20, num_test=10, num_dev=2.5)


def test_digits_go_through_the_same_pipeline():
    data = load_digits_dataset(rng=0)
    sizes = [len(data.y_train), len(data.y_val), len(data.y_test)]
    assert sum(sizes) == 1797 and sizes[2] == 450 and data.num_features == 65 and data.num_classes == 10
    assert all(np.all(X[:, -1] == 1.0) for X in (data.X_train, data.X_val, data.X_test, data.X_dev))
    np.testing.assert_allclose(data.X_train[:, :-1].mean(axis=0), 0.0, atol=1e-12)
    assert 0.0 <= data.mean_image.min() and data.mean_image.max() <= 1.0  # pixels were scaled to [0, 1]
    assert np.abs(data.X_test[:, :-1]).max() <= 1.0
    np.testing.assert_array_equal(np.bincount(data.y_test, minlength=10) // 10, np.full(10, 4))  # stratified: 44-46 each


def test_digits_without_scikit_learn_say_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"symgrad\[data\]"):
        load_digits_dataset()


@pytest.mark.cifar
@pytest.mark.skipif(not os.environ.get("CIFAR10_DIR"), reason="set CIFAR10_DIR to the cifar-10-batches-py folder")
def test_linear_svm_on_real_cifar10_reaches_lecture_validation_accuracy():
    data = load_cifar10(os.environ["CIFAR10_DIR"])
    history = minibatch_gradient_descent(
        svm_loss_and_grad, data.X_train, data.y_train, learning_rate=1e-7, reg=2.5e4, steps=1500, batch_size=200, rng=0
    )
    assert accuracy(history.W, data.X_val, data.y_val) >= 0.35


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(num_dev=1.5), TypeError, "^num_dev: expected an integer"),
        (dict(num_dev=-1), ValueError, "^num_dev: expected an integer >= 0"),
        (dict(num_dev=5000), ValueError, r"^num_dev: expected 0 \.\.\. 1167"),
        (dict(rng="abc"), TypeError, "^rng: expected an integer"),
        (dict(rng=-5), ValueError, "^rng: expected an integer >= 0"),
        (dict(test_fraction="0.2"), TypeError, "^test_fraction: expected a real number"),
        (dict(test_fraction=float("nan")), ValueError, "^test_fraction"),
        (dict(validation_fraction=1.0), ValueError, "^validation_fraction: expected a fraction"),
        (dict(test_fraction=0.6, validation_fraction=0.5), ValueError, "^test_fraction \\+ validation_fraction"),
        (dict(dtype="abc"), TypeError, "^dtype: expected a floating dtype"),
        (dict(dtype=np.int32), TypeError, "^dtype: expected a floating dtype"),
    ],
)
def test_bad_digits_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        load_digits_dataset(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(num_training=0), ValueError, "^num_training: expected an integer >= 1"),
        (dict(num_validation=-1), ValueError, "^num_validation"),
        (dict(num_test="10"), TypeError, "^num_test: expected an integer"),
        (dict(num_dev=1.5), TypeError, "^num_dev: expected an integer"),
        (dict(rng="abc"), TypeError, "^rng"),
        (dict(dtype="float16x"), TypeError, "^dtype"),
    ],
)
def test_bad_cifar_arguments_are_named_before_any_file_is_read(tmp_path, kwargs, error, message):
    # tmp_path holds no CIFAR-10 files: an error about the arguments means they were checked first
    with pytest.raises(error, match=message):
        load_cifar10(tmp_path, **kwargs)


@pytest.mark.parametrize("directory", [None, 5, ["a"]])
def test_a_directory_that_is_not_a_path_is_named(directory):
    with pytest.raises(TypeError, match="^directory: expected a path"):
        load_cifar10(directory)
    with pytest.raises(TypeError, match="^path: expected a path"):
        load_cifar10_batch(directory)


def test_progress_over_the_cifar_files_is_silent_off_a_terminal(cifar_folder, capsys):
    folder, _ = cifar_folder
    load_cifar10(folder, num_training=80, num_validation=20, num_test=10, num_dev=5)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_cifar_loading_peaks_below_features_plus_pixels_plus_a_margin(tmp_path):
    # 5 x 400 training rows: the float32 features are 2000 x 3073 x 4 = 24.6 MB, the pixels 6.1 MB. The old
    # pipeline held the float copy, the centred copy and the stacked features at once (3 x 24.6 MB).
    import tracemalloc

    rng = np.random.default_rng(0)
    for i in range(1, 6):
        write_batch(tmp_path / f"data_batch_{i}", rng.integers(0, 256, (400, CIFAR10_PIXELS), dtype=np.uint8), [0] * 400)
    write_batch(tmp_path / "test_batch", rng.integers(0, 256, (10, CIFAR10_PIXELS), dtype=np.uint8), [1] * 10)
    with (tmp_path / "batches.meta").open("wb") as file:
        pickle.dump({b"label_names": [n.encode() for n in CLASS_NAMES]}, file, protocol=2)
    tracemalloc.start()
    data = load_cifar10(tmp_path, num_training=1990, num_validation=10, num_test=10, num_dev=5, progress=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    features = data.X_train.nbytes + data.X_val.nbytes + data.X_test.nbytes + data.X_dev.nbytes
    pixels = 2010 * CIFAR10_PIXELS
    assert peak < features + 3 * pixels + 8e6, f"peak {peak / 1e6:.1f} MB for {features / 1e6:.1f} MB of features"
