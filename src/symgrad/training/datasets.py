"""Image classification data as the lecture's linear classifier expects it.

Every dataset goes through one pipeline: pixels as floats, the mean image of the *training* split subtracted
from every split, then the bias trick (a constant feature 1 appended, so ``W x`` includes the bias):

    x = [pixels - mean_train, 1]        D = pixels + 1   (CIFAR-10: 3072 + 1 = 3073; digits: 64 + 1 = 65)

Two sources: the CIFAR-10 "python version" folder (``data_batch_1`` ... ``data_batch_5``, ``test_batch``,
``batches.meta``) and scikit-learn's ``load_digits`` (1797 8x8 images that ship inside the wheel; scaled to
[0, 1] first).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from symgrad import validation

CIFAR10_TRAINING_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
CIFAR10_META_FILE = "batches.meta"
CIFAR10_FILES = (*CIFAR10_TRAINING_FILES, CIFAR10_TEST_FILE, CIFAR10_META_FILE)
CIFAR10_PIXELS = 32 * 32 * 3
CIFAR10_CLASSES = 10

# The only globals a CIFAR-10 batch pickle refers to (NumPy array reconstruction, and the bytes codec of
# protocol-2 pickles written by Python 3). Anything else is refused instead of executed.
_ALLOWED_PICKLE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("_codecs", "encode"): ("_codecs", "encode"),
}


@dataclass(frozen=True)
class Dataset:
    """Preprocessed splits of one image dataset, ready for a linear classifier with the bias trick.

    Attributes:
        X_train: (N_train, D) features: pixels minus the training mean image, last column 1.
        y_train: (N_train,) integer labels in 0 ... C-1.
        X_val, y_val: (N_val, D), (N_val,) validation split (held out from training data).
        X_test, y_test: (N_test, D), (N_test,) test split.
        X_dev, y_dev: (N_dev, D), (N_dev,) a random subset of the training split, for quick experiments.
        mean_image: (D - 1,) the training mean that was subtracted (pixel scale of the source).
        class_names: C names, one per label.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    mean_image: np.ndarray
    class_names: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        """C, the number of classes."""
        return len(self.class_names)

    @property
    def num_features(self) -> int:
        """D, features per example including the bias feature."""
        return self.X_train.shape[1]

    def summary(self) -> str:
        """One line with the split shapes, e.g. ``train (49000, 3073), val (1000, 3073), ...``."""
        splits = {"train": self.X_train, "val": self.X_val, "test": self.X_test, "dev": self.X_dev}
        return ", ".join(f"{name} {X.shape}" for name, X in splits.items()) + f", {self.num_classes} classes"


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles plain data and NumPy arrays only: a batch file cannot run code when it is loaded."""

    def find_class(self, module: str, name: str):
        try:
            module, name = _ALLOWED_PICKLE_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: not part of a CIFAR-10 batch") from None
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    """The dict stored in one CIFAR-10 file (keys as bytes); ValueError naming the file when it is not one."""
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "is missing"
        raise FileNotFoundError(f"{path}: {what} (a CIFAR-10 folder holds {', '.join(CIFAR10_FILES)})")
    try:
        with path.open("rb") as file:
            content = _BatchUnpickler(file, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise ValueError(f"{path}: not a readable CIFAR-10 pickle (truncated or corrupt?): {error}") from error
    if not isinstance(content, dict):
        raise ValueError(f"{path}: expected a pickled dict, found {type(content).__name__}")
    return content


def _path(value, name: str) -> Path:
    """``value`` (str or os.PathLike) as a Path; TypeError naming the argument otherwise."""
    if isinstance(value, bool) or not isinstance(value, (str, bytes)) and not hasattr(value, "__fspath__"):
        raise TypeError(f"{name}: expected a path (str or os.PathLike), got {type(value).__name__}")
    return Path(value.decode() if isinstance(value, bytes) else value)


def _floating_dtype(dtype) -> np.dtype:
    try:
        checked = np.dtype(dtype)
    except TypeError:
        checked = None
    if checked is None or not np.issubdtype(checked, np.floating):
        raise TypeError(f"dtype: expected a floating dtype (numpy.float32 or numpy.float64), got {dtype!r}")
    return checked


def load_cifar10_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 batch file (``data_batch_i`` or ``test_batch``), checking its layout.

    Returns:
        images (M, 3072) uint8, each row 1024 red, 1024 green, 1024 blue values of a 32x32 image (row-major);
        labels (M,) int64 in 0 ... 9. M is 10000 in the real files.

    Raises:
        FileNotFoundError: the file does not exist (the message names it).
        ValueError: the file is truncated, is not a pickle of the expected dict, or holds data of the wrong
            shape, type or range (the message names the file and what is wrong).
    """
    path = _path(path, "path")
    content = _unpickle(path)
    missing = [key.decode() for key in (b"data", b"labels") if key not in content]
    if missing:
        raise ValueError(f"{path}: missing key(s) {missing}; found {sorted(map(repr, content))}")
    images, labels = content[b"data"], np.asarray(content[b"labels"])
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2:
        found = f"{type(images).__name__} {getattr(images, 'dtype', '')}"
        raise ValueError(f"{path}: b'data' must be a 2-D uint8 array, found {found}")
    if images.shape[1] != CIFAR10_PIXELS:
        raise ValueError(f"{path}: b'data' rows must have {CIFAR10_PIXELS} values (32x32x3), found shape {images.shape}")
    if labels.shape != (images.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{path}: b'labels' must be {images.shape[0]} integers, one per image; found {labels.shape} {labels.dtype}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= CIFAR10_CLASSES):
        raise ValueError(f"{path}: labels must lie in 0 ... {CIFAR10_CLASSES - 1}, found {labels.min()} ... {labels.max()}")
    return images, labels.astype(np.int64)


def _cifar10_class_names(path: Path) -> tuple[str, ...]:
    content = _unpickle(path)
    names = content.get(b"label_names")
    if not isinstance(names, list) or len(names) != CIFAR10_CLASSES:
        raise ValueError(f"{path}: b'label_names' must be a list of {CIFAR10_CLASSES} names, found {names!r}")
    return tuple(name.decode() if isinstance(name, bytes) else str(name) for name in names)


def load_cifar10(
    directory: str | os.PathLike[str],
    num_training: int = 49000,
    num_validation: int = 1000,
    num_test: int = 1000,
    num_dev: int = 500,
    *,
    rng: int | np.random.Generator | None = 0,
    dtype: npt.DTypeLike = np.float32,
    progress: bool = True,
) -> Dataset:
    """Load the CIFAR-10 python-version folder and preprocess it as the lecture assumes.

    Splits as in CS231n: train = the first ``num_training`` training images (in batch order), val = the next
    ``num_validation``, test = the first ``num_test`` images of ``test_batch``, dev = ``num_dev`` training
    images drawn without replacement with ``numpy.random.default_rng(rng)``. Features are raw pixel values
    0 ... 255 minus the training mean image, then the bias feature: D = 3073.

    Memory: 49000 x 3073 float32 features are 0.6 GB (float64 1.2 GB), built in place from the 0.15 GB of
    pixels; loading peaks at about 0.85 GB in float32. ``progress`` shows a tqdm bar over the six files
    (only when the output is a terminal).

    Raises:
        FileNotFoundError / ValueError naming the missing or malformed file; TypeError / ValueError naming the
        argument when a split size, ``rng`` or ``dtype`` is not valid, or the split sizes do not fit the data
        (checked before any file is read, except the fit).
    """
    directory = _path(directory, "directory")
    num_training = validation.count(num_training, "num_training")
    num_validation = validation.count(num_validation, "num_validation", minimum=0)
    num_test = validation.count(num_test, "num_test", minimum=0)
    num_dev = validation.count(num_dev, "num_dev", minimum=0)
    dtype = _floating_dtype(dtype)
    validation.random_generator(rng)
    if not directory.is_dir():
        raise FileNotFoundError(f"directory: no CIFAR-10 folder at {directory}")
    files = [*CIFAR10_TRAINING_FILES, CIFAR10_TEST_FILE]
    batches = [load_cifar10_batch(directory / name) for name in _progress(files, "reading CIFAR-10", progress)]
    test_images, test_labels = batches.pop()
    class_names = _cifar10_class_names(directory / CIFAR10_META_FILE)
    train_images = np.concatenate([images for images, _ in batches])
    train_labels = np.concatenate([labels for _, labels in batches])
    del batches

    if num_training + num_validation > len(train_images):
        raise ValueError(
            f"num_training + num_validation: {num_training} + {num_validation} exceeds the "
            f"{len(train_images)} training images in {directory}"
        )
    if num_test > len(test_images):
        raise ValueError(f"num_test: {num_test} exceeds the {len(test_images)} images in {directory / CIFAR10_TEST_FILE}")
    validation_rows = slice(num_training, num_training + num_validation)
    return preprocess(
        (train_images[:num_training], train_labels[:num_training]),
        (train_images[validation_rows], train_labels[validation_rows]),
        (test_images[:num_test], test_labels[:num_test]),
        class_names,
        num_dev=num_dev,
        rng=rng,
        dtype=dtype,
    )


def load_digits_dataset(
    test_fraction: float = 0.25,
    validation_fraction: float = 0.1,
    num_dev: int = 100,
    *,
    rng: int | np.random.Generator | None = 0,
    dtype: npt.DTypeLike = np.float64,
) -> Dataset:
    """scikit-learn's handwritten digits (1797 8x8 images, 10 classes) through the same pipeline.

    Pixels 0 ... 16 are scaled to [0, 1], then the training mean is subtracted and the bias feature appended:
    D = 65. The test split is ``test_fraction`` of the images and the validation split ``validation_fraction``
    of them, both stratified by class; the rest is the training split (default: 1167 / 180 / 450 images,
    see :meth:`Dataset.summary`). Requires scikit-learn (``pip install 'symgrad[data]'``).
    """
    for name, fraction in (("test_fraction", test_fraction), ("validation_fraction", validation_fraction)):
        if not 0 < validation.real_number(fraction, name) < 1:
            raise ValueError(f"{name}: expected a fraction strictly between 0 and 1, got {fraction!r}")
    if test_fraction + validation_fraction >= 1:
        total = test_fraction + validation_fraction
        raise ValueError(f"test_fraction + validation_fraction: must leave training data (sum < 1), got {total}")
    validation.count(num_dev, "num_dev", minimum=0)
    _floating_dtype(dtype)
    seed = _seed_of(rng)
    datasets = validation.optional_module("sklearn.datasets", "data", "load_digits_dataset")
    model_selection = validation.optional_module("sklearn.model_selection", "data", "load_digits_dataset")
    train_test_split = model_selection.train_test_split
    digits = datasets.load_digits()
    images = digits.data / 16.0
    rest_images, test_images, rest_labels, test_labels = train_test_split(
        images, digits.target, test_size=test_fraction, stratify=digits.target, random_state=seed
    )
    train_images, val_images, train_labels, val_labels = train_test_split(
        rest_images,
        rest_labels,
        test_size=validation_fraction / (1 - test_fraction),
        stratify=rest_labels,
        random_state=seed,
    )
    return preprocess(
        (train_images, train_labels),
        (val_images, val_labels),
        (test_images, test_labels),
        tuple(str(name) for name in digits.target_names),
        num_dev=num_dev,
        rng=rng,
        dtype=dtype,
    )


def preprocess(train, validation_split, test, class_names, *, num_dev: int, rng=0, dtype=np.float64) -> Dataset:
    """The shared pipeline: float pixels, training mean image subtracted from every split, bias column.

    Args:
        train, validation_split, test: pairs (images (M, P), labels (M,)) for each split, any real pixel type.
        class_names: C names; labels must lie in 0 ... C-1.
        num_dev: size of the dev subset drawn from the training split without replacement.
        rng: seed or ``numpy.random.Generator`` for the dev subset.
        dtype: floating dtype of the features.

    Returns:
        :class:`Dataset` with features (M, P + 1), the last column 1. Each split's features are written into one
        (M, P + 1) array in place, so the peak memory is the features plus the pixels, never a second copy.
    """
    dtype = _floating_dtype(dtype)
    num_dev = validation.count(num_dev, "num_dev", minimum=0)
    rng = validation.random_generator(rng)
    train_images = validation.real_array(train[0], "train")
    if train_images.ndim != 2 or len(train_images) == 0:
        raise ValueError(f"train: images must be a non-empty (M, P) array, got shape {train_images.shape}")
    if num_dev > len(train_images):
        raise ValueError(f"num_dev: expected 0 ... {len(train_images)} (the training split), got {num_dev}")
    splits = {"train": train, "validation": validation_split, "test": test}
    for name, (images, labels) in splits.items():
        images, labels = validation.real_array(images, name), np.asarray(labels)
        if images.shape[1:] != train_images.shape[1:] or labels.shape != (len(images),):
            raise ValueError(
                f"{name}: expected images (M, {train_images.shape[1]}) and M labels, "
                f"got {images.shape} and {labels.shape}"
            )
        if labels.size and not (np.issubdtype(labels.dtype, np.integer) and labels.dtype != bool):
            raise TypeError(
                f"{name}: labels must be integers in 0 ... {len(class_names) - 1}, got dtype {labels.dtype}"
            )
        if labels.size and not (labels.min() >= 0 and labels.max() < len(class_names)):
            found = f"{labels.min()} ... {labels.max()}"
            raise ValueError(f"{name}: labels must lie in 0 ... {len(class_names) - 1}, found {found}")
        if np.issubdtype(images.dtype, np.floating) and not np.all(np.isfinite(images)):
            raise ValueError(f"{name}: images must be finite (found NaN or inf)")
    # accumulated in float64 whatever the pixel type, without a float copy of the images
    mean_image = train_images.mean(axis=0, dtype=np.float64).astype(dtype)

    def features(images):
        X = np.empty((len(images), train_images.shape[1] + 1), dtype=dtype)
        X[:, :-1] = images
        X[:, :-1] -= mean_image
        X[:, -1] = 1
        return X

    X_train = features(train_images)
    y_train = np.asarray(train[1], dtype=np.int64)
    dev = rng.choice(len(X_train), size=num_dev, replace=False)
    return Dataset(
        X_train=X_train,
        y_train=y_train,
        X_val=features(validation_split[0]),
        y_val=np.asarray(validation_split[1], dtype=np.int64),
        X_test=features(test[0]),
        y_test=np.asarray(test[1], dtype=np.int64),
        X_dev=X_train[dev],
        y_dev=y_train[dev],
        mean_image=mean_image,
        class_names=tuple(class_names),
    )


def _progress(items, description: str, enabled: bool):
    """``items`` wrapped in a tqdm bar when tqdm is installed and stderr is a terminal (``disable=None``)."""
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc=description, disable=None, leave=False)


def _seed_of(rng) -> int:
    """An integer seed for scikit-learn's ``random_state``, drawn from ``rng`` (an int, Generator or None)."""
    return int(validation.random_generator(rng).integers(2**31 - 1))
