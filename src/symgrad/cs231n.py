"""CS231n's assignment code, backed by symgrad: the assignment's names, argument orders, shapes and conventions.

Replace ``from cs231n.classifiers.linear_svm import ...``, ``from cs231n.classifiers.softmax import ...``,
``from cs231n.gradient_check import ...`` and ``from cs231n.classifiers import LinearSVM, Softmax`` by imports from
``symgrad.cs231n`` and the assignment's cells run unchanged. There is one implementation behind them: the losses and
gradients SymPy derived and compiled (:mod:`symgrad.runtime.catalog`), symgrad's finite differences
(:func:`symgrad.numerical_gradient`) and its checker (:func:`symgrad.check_gradient`).

**The assignment's convention, not symgrad's.** Here W is (D, C) and the scores are ``X.dot(W)`` (N, C); in the rest
of symgrad W is (C, D) and the scores are ``X @ W.T``. W is transposed at this boundary (a view, no copy) and the
gradient transposed back. When D != C a W in symgrad's layout is refused, with the fix in the message. **When
D == C nothing can tell the two apart: a (C, D) W is then read as (D, C), silently giving the loss of W.T.** Keep
the assignment's layout throughout, and convert with ``W.T`` when you hand weights to symgrad's own functions.

    loss(W, X, y, reg) = 1/N sum_i L_i(x_i W) + reg * sum(W**2),    dW (D, C)

with L_i the multiclass SVM hinge (Delta = 1, indicator 1(margin > 0)) or the softmax cross-entropy, X (N, D),
y (N,) integers in [0, C): the assignment's losses, to rounding (tests/test_cs231n.py compares them with the
assignment's formulas written out in NumPy).

>>> import numpy as np
>>> W, X, y = np.zeros((4, 3)), np.ones((5, 4)), np.array([0, 1, 2, 0, 1])      # W (D, C), X (N, D)
>>> loss, dW = svm_loss_vectorized(W, X, y, 0.0)
>>> loss, dW.shape            # every margin is Delta = 1 at W = 0: the loss is C - 1
(2.0, (4, 3))
"""

from __future__ import annotations

import random
import shutil
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from symgrad import validation
from symgrad.runtime.catalog import compiled_loss
from symgrad.training.strategies import predict
from symgrad.verification.checker import GradientReport, check_gradient
from symgrad.verification.numerical import numerical_gradient

__all__ = [
    "svm_loss_naive",
    "svm_loss_vectorized",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "LinearClassifier",
    "LinearSVM",
    "Softmax",
]

LossAndGradient = tuple[float, np.ndarray]
RandomSource = Union[np.random.Generator, int, None]


def svm_loss_vectorized(W: npt.ArrayLike, X: npt.ArrayLike, y: npt.ArrayLike, reg: float) -> LossAndGradient:
    """Structured SVM loss and its gradient: symgrad's compiled ``svm`` loss, in the assignment's layout.

    L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + 1), s = x_i W; loss = mean_i L_i + reg * sum(W**2).

    Args:
        W: (D, C) weights (the assignment's layout; see the module docstring).
        X: (N, D) data, one example per row.
        y: (N,) labels, integers in [0, C).
        reg: regularization strength >= 0.

    Returns:
        (loss, dW (D, C) in W's dtype).
    """
    return _compiled_loss_and_gradient("svm", W, X, y, reg)


def softmax_loss_vectorized(W: npt.ArrayLike, X: npt.ArrayLike, y: npt.ArrayLike, reg: float) -> LossAndGradient:
    """Softmax cross-entropy and its gradient: symgrad's compiled ``softmax`` loss, in the assignment's layout.

    L_i = -log(e^{s_{y_i}} / sum_j e^{s_j}), s = x_i W (evaluated stably, at the scores shifted by their maximum);
    loss = mean_i L_i + reg * sum(W**2). Shapes as :func:`svm_loss_vectorized`.
    """
    return _compiled_loss_and_gradient("softmax", W, X, y, reg)


def svm_loss_naive(W: npt.ArrayLike, X: npt.ArrayLike, y: npt.ArrayLike, reg: float) -> LossAndGradient:
    """Structured SVM loss and gradient with loops, one example and one class at a time.

    The loop is symgrad's own naive reference, ``LOSS.reference`` in ``symgrad/symbolic/losses/svm.py``, written
    by hand independently of the generated code (which the test suite compares with it), so the assignment's
    naive-vs-vectorized comparison compares two implementations. Its first call imports SymPy (about a second).
    Shapes and math as :func:`svm_loss_vectorized`.
    """
    return _naive_loss_and_gradient("svm", W, X, y, reg)


def softmax_loss_naive(W: npt.ArrayLike, X: npt.ArrayLike, y: npt.ArrayLike, reg: float) -> LossAndGradient:
    """Softmax loss and gradient with a loop over the examples: symgrad's naive reference,
    ``LOSS.reference`` in ``symgrad/symbolic/losses/softmax.py`` (see :func:`svm_loss_naive`).
    Shapes and math as :func:`softmax_loss_vectorized`."""
    return _naive_loss_and_gradient("softmax", W, X, y, reg)


def assignment_weights(W: npt.ArrayLike, X: npt.ArrayLike) -> np.ndarray:
    """W as a floating (D, C) array matching X (N, D); a W in symgrad's (C, D) layout is refused when D != C."""
    weights = validation.floating_array(W, "W", ndim=2, axes="(D, C)")
    shape = np.shape(X)
    if len(shape) != 2:
        raise ValueError(f"X: expected a 2-D array (N, D), got shape {shape}")
    features = shape[1]
    if weights.shape[0] == features:
        return weights
    if weights.shape[1] == features:
        raise ValueError(
            f"W: got shape {weights.shape}, symgrad's (C, D) layout; symgrad.cs231n follows the assignment, "
            f"W (D, C) = {weights.shape[::-1]} with scores X.dot(W): pass W.T"
        )
    raise ValueError(f"W: expected (D, C) with D = {features} rows, one per column of X {shape}; got {weights.shape}")


def _compiled_loss_and_gradient(name: str, W: npt.ArrayLike, X: npt.ArrayLike, y: npt.ArrayLike,
                                reg: float) -> LossAndGradient:
    weights = assignment_weights(W, X)
    loss, gradient = compiled_loss(name)(weights.T, X, y, reg)
    return loss, np.ascontiguousarray(gradient.T)


def _naive_loss_and_gradient(name: str, W: npt.ArrayLike, X: npt.ArrayLike, y: npt.ArrayLike,
                             reg: float) -> LossAndGradient:
    weights = assignment_weights(W, X)
    features, classes = weights.shape
    inputs = validation.input_matrix(X, features, "W (D, C)")
    labels = validation.class_labels(y, inputs.shape[0], classes)
    reference = import_module(f"symgrad.symbolic.losses.{name}").LOSS.reference
    loss, gradient = reference(weights.T, inputs, labels, validation.nonnegative_number(reg, "reg"))
    return float(loss), np.ascontiguousarray(gradient.T, dtype=weights.dtype)


@contextmanager
def _perturbed_in_place(f: Callable[[np.ndarray], Any], x: np.ndarray) -> Iterator[Callable[[np.ndarray], float]]:
    """``at(z)``: f evaluated at z, with z also written into x, as the assignment perturbs x in place (its f may
    read x through another name, ``lambda _: net.loss(X, y)[0]`` over ``net.params['W1']``); x is restored on
    exit. f receives z itself, so an f of its argument computes in z's dtype (the checker's float64)."""
    original = x.copy()

    def at(z: np.ndarray) -> float:
        x[...] = z
        return float(np.asarray(f(z)).reshape(()))

    try:
        yield at
    finally:
        x[...] = original


def _perturbable(x: Any) -> np.ndarray:
    if not (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating) and x.flags.writeable):
        raise TypeError("x: the assignment's checks perturb x in place: pass a writable floating NumPy array")
    return x


def _index_text(index: tuple[int, ...]) -> str:
    return f"x[{', '.join(map(str, index))}]"


def eval_numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, verbose: bool = True,
                            h: float = 1e-5) -> np.ndarray:
    """Centered-difference gradient of a scalar f at x: (f(x + h e_i) - f(x - h e_i)) / 2h for every i.

    symgrad's :func:`~symgrad.numerical_gradient`, with x perturbed in place as the assignment does and restored.

    Args:
        f: function of x returning one number (it may read x through another name).
        x: the point, any shape (S), a writable floating array.
        verbose: print each coordinate's derivative.
        h: the step.

    Returns:
        (S) array in x's dtype.
    """
    point = _perturbable(x)
    with _perturbed_in_place(f, point) as at:
        gradient = numerical_gradient(at, point.copy(), h=h)
    if verbose:
        for index in np.ndindex(point.shape):
            print(f"{_index_text(index)}: {gradient[index]:.10g}")
    return gradient


def eval_numerical_gradient_array(f: Callable[[np.ndarray], Any], x: np.ndarray, df: npt.ArrayLike,
                                  h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of an array-valued f at x, contracted with the upstream gradient df.

    grad[i] = sum(df * (f(x + h e_i) - f(x - h e_i))) / 2h: the centered difference of the scalar sum(df * f(x))
    (symgrad's :func:`~symgrad.numerical_gradient`), x perturbed in place and restored.

    Args:
        f: function of x returning an array shaped like df (O).
        x: the point (S), a writable floating array.
        df: (O) upstream gradient dL/df.
        h: the step.

    Returns:
        (S) array in x's dtype.
    """
    point = _perturbable(x)
    upstream = validation.real_array(df, "df")

    def contracted(z: np.ndarray) -> float:
        output = np.asarray(f(z))
        if output.shape != upstream.shape:
            raise ValueError(f"df: has shape {upstream.shape} but f(x) has shape {output.shape}")
        return float(np.sum(output * upstream))

    with _perturbed_in_place(contracted, point) as at:
        return numerical_gradient(at, point.copy(), h=h)


def assignment_relative_error(a: float, b: float) -> float:
    """The assignment's relative error |a - b| / (|a| + |b|), 0 when both are 0 (symgrad's
    :func:`~symgrad.relative_error` is max |a - b| / max(|a|, |b|): up to twice this)."""
    scale = abs(a) + abs(b)
    return abs(a - b) / scale if scale > 0 else 0.0


def grad_check_sparse(f: Callable[[np.ndarray], Any], x: np.ndarray, analytic_grad: npt.ArrayLike,
                      num_checks: int = 10, h: float = 1e-5) -> GradientReport:
    """The assignment's sparse gradient check, then symgrad's verdict on the same f.

    First ``num_checks`` random coordinates i (drawn with Python's ``random``, as the assignment does), each
    printed as ``numerical: ... analytic: ..., relative error: ...``: the centered difference with step h (symgrad's
    :func:`~symgrad.numerical_gradient` along x_i), ``analytic_grad[i]``, and |a - b| / (|a| + |b|). Then
    :func:`symgrad.check_gradient` in sparse mode on ``num_checks`` coordinates: a float64 reference, a step fitted
    to each coordinate, a tolerance fitted to the gradient's dtype (float32 gradients are judged at 1e-4), and at a
    kink the subgradient bracket instead of the difference (where the assignment's lines show a spurious error).

    Args:
        f: the loss as a function of x, returning one number (it may read x through another name).
        x: the point (S), a writable floating array, perturbed in place and restored.
        analytic_grad: (S) the gradient to check.
        num_checks: coordinates printed, and probed by the checker.
        h: the step of the printed differences.

    Returns:
        symgrad's :class:`~symgrad.GradientReport` (printed too; the assignment's function returns nothing).
    """
    point = _perturbable(x)
    analytic = validation.real_array(analytic_grad, "analytic_grad")
    if analytic.shape != point.shape:
        raise ValueError(f"analytic_grad: has shape {analytic.shape} but x has shape {point.shape}")
    checks = validation.count(num_checks, "num_checks")
    original = point.copy()
    with _perturbed_in_place(f, point) as at:
        for _ in range(checks):
            index = tuple(random.randrange(size) for size in point.shape)

            def along_coordinate(value: np.ndarray, index: tuple[int, ...] = index) -> float:
                moved = original.copy()
                moved[index] = value
                return at(moved)

            numerical = float(numerical_gradient(along_coordinate, original[index], h=h))
            claimed = float(analytic[index])
            error = assignment_relative_error(numerical, claimed)
            print(f"numerical: {numerical:f} analytic: {claimed:f}, relative error: {error:e}")
        report = check_gradient(at, analytic, original, mode="sparse", samples=checks, seed=random.randrange(2**32))
    width = shutil.get_terminal_size().columns
    verdict = ("symgrad: " + str(report).replace("\n", "\n  ")).splitlines()
    print("\n".join(textwrap.fill(line, width, subsequent_indent=" " * (len(line) - len(line.lstrip()) + 4))
                    for line in verdict))
    return report


class LinearClassifier:
    """The assignment's linear classifier: W (D, C), scores ``X.dot(W)``, trained by mini-batch SGD.

    Subclasses give :meth:`loss`; :class:`LinearSVM` and :class:`Softmax` use symgrad's compiled losses.

    Attributes:
        W: (D, C) weights, ``None`` until :meth:`train` draws them (0.001 N(0, 1)).
    """

    loss_name = ""

    def __init__(self) -> None:
        self.W: np.ndarray | None = None

    def train(self, X: npt.ArrayLike, y: npt.ArrayLike, learning_rate: float = 1e-3, reg: float = 1e-5,
              num_iters: int = 100, batch_size: int = 200, verbose: bool = False, *,
              rng: RandomSource = None) -> list[float]:
        """Stochastic gradient descent, the assignment's loop: ``num_iters`` times, draw ``batch_size`` examples
        **with replacement**, W <- W - learning_rate * dW on that batch.

        symgrad's own :func:`symgrad.minibatch_gradient_descent` draws batches *without* replacement (every example
        once per epoch, batch 256) and takes ``steps``; this method keeps the assignment's sampling and names.

        Args:
            X: (N, D) training data. y: (N,) labels in [0, C); C = max(y) + 1.
            learning_rate: the step alpha. reg: regularization strength.
            num_iters: steps. batch_size: examples per step, drawn with replacement.
            verbose: print the loss every 100 steps.
            rng: a seed or ``numpy.random.Generator``; default NumPy's global state, as the assignment
                (``np.random.seed`` makes a run repeatable).

        Returns:
            the loss of each step's batch (num_iters floats), before its update.
        """
        inputs = validation.real_matrix(X, "X")
        labels = np.asarray(y)
        number_of_examples, features = inputs.shape
        if labels.shape != (number_of_examples,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"y: expected {number_of_examples} integer labels, one per row of X, got {labels.shape}")
        steps = validation.count(num_iters, "num_iters")
        batch = validation.count(batch_size, "batch_size")
        rate = validation.nonnegative_number(learning_rate, "learning_rate")
        source: Any = np.random if rng is None else validation.random_generator(rng)
        if self.W is None:
            self.W = 0.001 * source.standard_normal((features, int(labels.max()) + 1))
        self.W = W = assignment_weights(self.W, inputs)
        loss_history = []
        for iteration in range(steps):
            rows = source.choice(number_of_examples, batch, replace=True)
            loss, gradient = self.loss(inputs[rows], labels[rows], reg)
            loss_history.append(loss)
            W -= rate * gradient
            if verbose and iteration % 100 == 0:
                print(f"iteration {iteration} / {steps}: loss {loss:f}")
        return loss_history

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Predicted labels (N,): argmax over the scores ``X.dot(W)`` (N, C) of each row of X (N, D)."""
        if self.W is None:
            raise ValueError("W: the classifier has no weights yet: call train() first")
        return predict(assignment_weights(self.W, X).T, X)

    def loss(self, X_batch: npt.ArrayLike, y_batch: npt.ArrayLike, reg: float) -> LossAndGradient:
        """(loss, dW (D, C)) of :attr:`W` on a batch X_batch (B, D), y_batch (B,)."""
        if self.W is None:
            raise ValueError("W: the classifier has no weights yet: call train() first")
        if not self.loss_name:
            raise NotImplementedError("LinearClassifier.loss: use LinearSVM or Softmax, or override loss()")
        return _compiled_loss_and_gradient(self.loss_name, self.W, X_batch, y_batch, reg)


class LinearSVM(LinearClassifier):
    """A linear classifier with the multiclass SVM loss (:func:`svm_loss_vectorized`)."""

    loss_name = "svm"


class Softmax(LinearClassifier):
    """A linear classifier with the softmax cross-entropy loss (:func:`softmax_loss_vectorized`)."""

    loss_name = "softmax"

