"""A compiled loss of a linear model and its weight gradient, evaluated with the code SymPy generated. NumPy only.

The code runs in two levels (see :mod:`symgrad.symbolic.objectives.linear_layer`):

1. per example, on the class axis: L_i and dL_i/ds for every example and class at once, on the scores
   S^T (C, N) and the one-hot labels (or regression targets) T (C, N) -- the loss's generated module;
2. per batch: L = 1/N sum_i L_i + lambda sum(W^2) and dL/dW = 1/N G X + 2 lambda W, where G (C, N) stacks
   dL_i/ds: two matrix products, S = X W^T and G X, carry the O(N C D) work -- the linear layer's module.
   The L2 term is not evaluated at lambda = 0 (so an overflowing sum(W^2) cannot turn the loss into NaN).

On many examples the two levels run a block of rows at a time (:mod:`symgrad.runtime.blocks`), so that G X reads each
block of X while the scores' product has just brought it into cache: X is read from memory once, not twice.

A classifier loss takes W (C, D), X (N, D) and integer labels y (N,); a regression loss takes w (D,), X (N, D) and
real targets t (N,) (one output, C = 1). Both return (loss: float, gradient shaped and typed like the weights),
and raise -- never return NaN or inf -- when the scores, the loss or the gradient are not finite, naming the cause.

>>> import numpy as np
>>> from symgrad.runtime.catalog import compiled_loss
>>> loss, dW = compiled_loss("svm")(np.zeros((3, 2)), np.ones((4, 2)), np.array([0, 1, 2, 0]))
>>> loss, dW.shape          # at W = 0 every margin is Delta = 1: the loss is C - 1
(2.0, (3, 2))
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import math
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from symgrad import validation
from symgrad.runtime.blocks import accumulate_blocks, block_sums, is_one_block, mean_data_term
from symgrad.runtime.generated import linear_layer, module_from_text, module_source, shipped_module
from symgrad.runtime.threads import helper_threads


class ClassifierLossFunction(Protocol):
    """The type of a classifier's ``symgrad.NAME_loss_and_grad``: W (C, D), X (N, D) (NumPy or Dask), labels
    y (N,), the L2 strength and the loss's keyword parameters -> (loss, dW (C, D) in W's dtype)."""

    def __call__(self, W: npt.ArrayLike, X: Any, y: Any, reg: float = 0.0,
                 **parameters: float) -> tuple[float, np.ndarray]: ...


class RegressionLossFunction(Protocol):
    """The type of a regression loss's ``symgrad.NAME_loss_and_grad``: w (D,), X (N, D) (NumPy or Dask), real
    targets t (N,), the L2 strength and the loss's keyword parameters -> (loss, dw (D,) in w's dtype)."""

    def __call__(self, w: npt.ArrayLike, X: Any, t: Any, reg: float = 0.0,
                 **parameters: float) -> tuple[float, np.ndarray]: ...


@dataclass(frozen=True)
class LossParameter:
    """A keyword parameter of a compiled loss: its name, default and accepted range [low, high]."""

    name: str
    default: float
    low: float = -math.inf
    high: float = math.inf
    meaning: str = ""

    def checked(self, value) -> float:
        """``value`` as a float in [low, high]; the error names the parameter."""
        return validation.real_number(value, self.name, low=self.low, high=self.high)


@dataclass(frozen=True, eq=False)
class CompiledLoss:
    """One compiled loss of a linear model's scores: call it as ``loss(W, X, y, reg=0.0, **parameters)``.

    Attributes:
        name: the loss's one name (``"svm"``).
        kind: ``"classifier"`` (W (C, D), integer labels) or ``"regression"`` (w (D,), real targets).
        title: the formula in words.
        parameters: its keyword parameters, in the generated functions' order.
        kink_parameter: the parameter giving the derivative's value at a kink (``"kink_value"``), if any.
        convex: convex in the weights.
        source: where the lecture writes it.
        module: the generated per-example module (``loss_and_score_gradient``, ``kink_arguments``).
        backend_texts: for a loss defined at run time, its module text per other backend (``{"jax": ...}``);
            a built-in loss's are shipped (see :meth:`backend_module`).
        target_range: (low, high) the targets of a regression loss must lie in (logistic: (0, 1)), or None.
    """

    name: str
    kind: str
    title: str
    parameters: tuple[LossParameter, ...]
    kink_parameter: str | None
    convex: bool
    source: str
    module: types.ModuleType
    backend_texts: Mapping[str, str] = field(default_factory=dict)
    target_range: tuple[float, float] | None = None

    @classmethod
    def from_module(cls, module: types.ModuleType, backend_texts: Mapping[str, str] | None = None) -> CompiledLoss:
        """The compiled loss a generated module describes (its ``LOSS`` constant)."""
        description = module.LOSS
        parameters = tuple(
            LossParameter(name, default, -math.inf if low is None else low, math.inf if high is None else high, meaning)
            for name, default, low, high, meaning in description["parameters"]
        )
        return cls(description["name"], description["kind"], description["title"], parameters,
                   description["kink_parameter"], description["convex"], description["source"], module,
                   dict(backend_texts or {}), description.get("target_range"))

    def backend_module(self, backend: str) -> types.ModuleType:
        """The per-example module for ``backend``: this one for NumPy, else the shipped module (a built-in loss) or
        the text generated when the loss was defined (executing ``"jax"`` text imports JAX)."""
        if backend == "numpy":
            return self.module
        if backend not in self.backend_texts:
            return shipped_module(self.name, backend)
        if backend not in self._backend_modules:
            self._backend_modules[backend] = module_from_text(self.backend_texts[backend], f"{self.name}_{backend}")
        return self._backend_modules[backend]

    @functools.cached_property
    def _backend_modules(self) -> dict:
        return {}

    def one_vs_rest(self) -> CompiledLoss:
        """A regression loss as a classifier, one vs rest: W (C, D), integer labels, and the loss summed over the
        C outputs against the one-hot targets, L_i = sum_c l(s_c, 1(y_i = c)) (the same generated code: it sums
        over its outputs); predict with argmax_c s_c. A classifier loss is returned as it is."""
        if self.kind == "classifier":
            return self
        return dataclasses.replace(self, kind="classifier", title=f"{self.title}, one vs rest over the classes")

    @property
    def generated_source(self) -> str:
        """The text of the per-example module that runs."""
        return module_source(self.module)

    @property
    def weights_name(self) -> str:
        return "W" if self.kind == "classifier" else "w"

    @property
    def targets_name(self) -> str:
        return "y" if self.kind == "classifier" else "t"

    def parameter_values(self, given: dict) -> tuple[float, ...]:
        """The parameters in generated order, checked; defaults for those not given."""
        unknown = set(given) - {p.name for p in self.parameters}
        if unknown:
            raise TypeError(f"{self.name}: unknown parameters {sorted(unknown)}; it takes {[p.name for p in self.parameters]}")
        return tuple(p.checked(given[p.name]) if p.name in given else p.default for p in self.parameters)

    def __call__(self, W, X, y, reg: float = 0.0, **parameters) -> tuple[float, np.ndarray]:
        """(loss, gradient) of the mean loss over the examples plus reg * sum(W^2); see the module docstring."""
        values = self.parameter_values(parameters)
        reg = validation.nonnegative_number(reg, "reg")
        weights = self.checked_weights(W)
        if validation.is_dask_array(X):
            from symgrad.runtime.dask_evaluation import loss_and_grad_on_dask

            loss, gradient = loss_and_grad_on_dask(self, weights, X, y, reg, values)
        else:
            X = validation.input_matrix(X, weights.shape[1], f"{self.weights_name} {self.weights_axes}")
            targets = self.target_array(y, X.shape[0], weights.shape[0], np.result_type(weights.dtype, X.dtype))
            loss, gradient = self.evaluate(weights.astype(targets.dtype, copy=False), X, targets, reg, values)
        gradient = gradient.astype(weights.dtype, copy=False)
        return loss, gradient if self.kind == "classifier" else gradient[0]

    @property
    def weights_axes(self) -> str:
        return "(C, D)" if self.kind == "classifier" else "(D,)"

    def checked_weights(self, W) -> np.ndarray:
        """The weights as a floating (C, D) array: W (C, D) with C >= 2, or w (D,) as a (1, D) row."""
        if self.kind == "regression":
            return validation.floating_array(W, "w", ndim=1, axes="(D,)")[np.newaxis, :]
        W = validation.floating_array(W, "W", ndim=2, axes="(C, D)")
        if W.shape[0] < 2:
            raise ValueError(f"W: a classifier needs at least 2 classes (rows), got shape {W.shape}")
        return W

    def target_array(self, y, number_of_examples: int, number_of_classes: int, dtype) -> np.ndarray:
        """T (C, N) in ``dtype`` from checked labels (classifier) or targets (regression)."""
        if self.kind == "regression":
            return self.targets(validation.real_targets(y, number_of_examples, "t", *self.target_bounds), 1, dtype)
        return self.targets(validation.class_labels(y, number_of_examples, number_of_classes), number_of_classes, dtype)

    @property
    def target_bounds(self) -> tuple[float, float]:
        """(low, high) for a regression loss's targets: its ``target_range``, else the whole real line."""
        return tuple(self.target_range) if self.target_range is not None else (-math.inf, math.inf)

    def targets(self, values, number_of_classes: int, dtype):
        """T (C, N) for NumPy or Dask values (N,): T[c, i] = 1(y_i = c) for a classifier's labels, the row of
        targets for a regression loss."""
        if self.kind == "regression":
            return values.astype(dtype, copy=False)[np.newaxis, :]
        return (np.arange(number_of_classes)[:, np.newaxis] == values[np.newaxis, :]).astype(dtype)

    def evaluate(self, W, X, T, reg: float, values: tuple) -> tuple[float, np.ndarray]:
        """Both levels on checked NumPy arrays: W (C, D) and T (C, N) in the computing dtype, X (N, D)
        -> (loss, dW (C, D)); raises ValueError naming the cause when anything is not finite.

        The data term runs a block of rows at a time (:func:`symgrad.runtime.blocks.mean_data_term`):
        L = 1/N sum_i l_i and dL/dW = 1/N sum_b G_b X_b, scaled as the generated ``data_objective_and_gradient``
        scales them; then the generated ``l2_penalty_and_gradient``."""
        dtype = T.dtype
        X = X if np.issubdtype(X.dtype, np.floating) else X.astype(dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            loss, gradient = mean_data_term(self.module.loss_and_score_gradient, W, X, lambda rows: T[:, rows],
                                            tuple(dtype.type(v) for v in values),
                                            np.empty(W.shape, np.result_type(W.dtype, X.dtype)),
                                            finite_scores_required(W, X, self.weights_name))
            if reg > 0:
                penalty, penalty_gradient = linear_layer().l2_penalty_and_gradient(W, dtype.type(reg))
                loss, gradient = loss + penalty, gradient + penalty_gradient
        loss = float(loss)
        if not (math.isfinite(loss) and all_finite(gradient)):
            raise_for_non_finite_result(self, loss, X, W, reg)
        return loss, gradient

    def prepared(self, weights_shape: tuple[int, int], dtype, reg: float, values: tuple) -> PreparedLoss:
        """This classifier loss prepared for many calls on one run's checked data (see :class:`PreparedLoss`):
        weights (C, D) of floating ``dtype``, the L2 strength and the parameters in generated order, all checked."""
        return PreparedLoss(self, weights_shape, np.dtype(dtype), reg, values)

    @property
    def is_smooth(self) -> bool:
        """True when the loss has no kink (its generated ``kink_arguments`` returns nothing)."""
        at_zero = np.zeros((2, 1))
        return not self.module.kink_arguments(at_zero, at_zero, *(p.default for p in self.parameters))

    def kink_distance(self, S, T, values: tuple) -> np.ndarray:
        """Per example, the smallest |argument| over the kinks whose weight is not 0: (N,), inf when smooth.

        S, T (C, N) in float64; ``values`` the parameters in generated order.
        """
        distance = np.full(S.shape[1], np.inf)
        found = self.module.kink_arguments(S, T, *values)
        for argument, weight in zip(found[::2], found[1::2], strict=True):
            argument, weight = np.broadcast_arrays(np.abs(argument), weight, S)[:2]
            distance = np.minimum(distance, np.where(weight != 0, argument, np.inf).min(axis=0))
        return distance

    @functools.cached_property
    def public_function(self):
        """A plain function ``<name>_loss_and_grad(W, X, y, reg=0.0, **parameters)`` with this loss's signature
        and docstring; its ``.loss`` is this loss."""

        def loss_and_grad(W, X, y, reg=0.0, **parameters):
            return self(W, X, y, reg, **parameters)

        weights, targets = self.weights_name, self.targets_name
        signature = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in (weights, "X", targets)]
        signature.append(inspect.Parameter("reg", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=0.0))
        signature += [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default) for p in self.parameters]
        loss_and_grad.__signature__ = inspect.Signature(signature)
        loss_and_grad.__name__ = loss_and_grad.__qualname__ = f"{self.name}_loss_and_grad"
        loss_and_grad.__doc__ = self.docstring()
        loss_and_grad.loss = self
        return loss_and_grad

    def docstring(self) -> str:
        """Shapes, the formula and the parameters, for ``help()``."""
        if self.kind == "classifier":
            arguments = ["W: weights (C, D), C >= 2, floating; one row per class.",
                         "X: inputs (N, D), one example per row (bias trick: a column of ones); NumPy or Dask.",
                         "y: labels (N,), integers in [0, C)."]
        else:
            arguments = ["w: weights (D,), floating.",
                         "X: inputs (N, D), one example per row (bias trick: a column of ones); NumPy or Dask.",
                         "t: targets (N,), real."]
        arguments.append("reg: L2 strength lambda >= 0.")
        arguments += [f"{p.name}: {p.meaning or 'parameter'} (default {p.default:g}"
                      + (f", in [{p.low:g}, {p.high:g}])" if math.isfinite(p.low) or math.isfinite(p.high) else ")")
                      for p in self.parameters]
        weights = "dW (C, D)" if self.kind == "classifier" else "dw (D,)"
        return "\n".join([
            f"{self.title}: the mean over the N examples plus reg * sum({self.weights_name}**2), and its gradient.",
            "",
            f"Source: {self.source}." if self.source else "",
            "",
            "Args:",
            *(f"    {line}" for line in arguments),
            "",
            "Returns:",
            f"    (loss: float, {weights} in the weights' dtype).",
        ])


class PreparedLoss:
    """A classifier loss on checked batches: ``prepared(W, X, labels) -> (loss, dW)``, and
    ``prepared.step(W, X, labels, rate) -> loss`` (W updated in place), made once per training run by
    :meth:`CompiledLoss.prepared`.

    W (C, D) in the prepared dtype, X (N, D) real, labels (N,) integers in [0, C): the caller has checked them once
    (the public function checks them at every call); X's values are not scanned, a NaN or inf in X shows in the
    scores. A call runs what :meth:`CompiledLoss.evaluate` runs -- :func:`mean_data_term` (scores, the
    per-example module, sum_i l_i and G X), then L = 1/N sum_i l_i + lambda sum(W^2) and dL/dW = 1/N G X +
    2 lambda W -- and gives bit for bit its loss and gradient, and the same ValueError when the scores, the loss
    or the gradient are not finite. The difference is where the (C, D) results go: G X is written into a buffer
    and scaled and penalized in place, in the order of the generated ``l2_penalty_and_gradient``, so that a call
    allocates no (C, D) array. The returned dW is that buffer: the next call overwrites it. Calls and steps made
    inside :meth:`run` share its one ``np.errstate``, and its threads split each step on rows of X.
    """

    def __init__(self, loss: CompiledLoss, weights_shape: tuple[int, int], dtype: np.dtype, reg: float,
                 values: tuple):
        self._loss, (self._classes, _) = loss, weights_shape
        self._dtype, self._reg = dtype, reg
        self._values = tuple(dtype.type(value) for value in values)
        self._penalty_scale = dtype.type(reg)
        self._gradient, self._penalty_gradient = np.empty(weights_shape, dtype), np.empty(weights_shape, dtype)
        self._per_example = loss.module.loss_and_score_gradient
        self._class_column = np.arange(self._classes)[:, np.newaxis]
        # Overflow on the way to a non-finite result is reported by the ValueError, not warned about: each call
        # enters np.errstate, unless it runs inside run() (entering it measured 15-20 us of a ~650 us float32
        # CIFAR step in a training loop, against ~1 us when timed alone).
        quietly = np.errstate(over="ignore", invalid="ignore")
        self._call_quietly, self._step_quietly = quietly(self._call), quietly(self._step)
        self._in_run, self._helpers, self._part_products = False, None, []

    @contextlib.contextmanager
    def run(self, threads: int = 1) -> Iterator[PreparedLoss]:
        """A block of calls and steps made in this thread, as a training run makes them: all in one
        ``np.errstate(over="ignore", invalid="ignore")`` entered here, not one per call; and with ``threads`` > 1,
        each step on rows of X split across that many threads (this one and helpers started here, BLAS held to one
        thread each: :func:`symgrad.runtime.threads.helper_threads`)."""
        if self._in_run:
            raise RuntimeError("PreparedLoss.run: already in one")
        threads = validation.count(threads, "threads")
        with contextlib.ExitStack() as block:
            block.enter_context(np.errstate(over="ignore", invalid="ignore"))
            if threads > 1:
                self._helpers = block.enter_context(helper_threads(threads - 1))
                self._part_products = [np.empty_like(self._gradient) for _ in range(threads - 1)]
            self._in_run = True
            try:
                yield self
            finally:
                self._in_run, self._helpers, self._part_products = False, None, []

    def __call__(self, W: np.ndarray, X: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        X = X if X.dtype.kind == "f" else X.astype(self._dtype)
        loss, gradient, finite = (self._call if self._in_run else self._call_quietly)(W, X, labels)
        if not (finite and math.isfinite(loss)):
            raise_for_non_finite_result(self._loss, loss, X, W, self._reg)
        return loss, gradient

    def _call(self, W: np.ndarray, X: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray, bool]:
        loss, gradient = mean_data_term(self._per_example, W, X, self._one_hot(labels), self._values, self._gradient,
                                        finite_scores_required(W, X, self._loss.weights_name))
        if self._reg > 0:
            penalty_scale = self._penalty_scale
            loss = loss + penalty_scale * np.vdot(W, W)
            gradient += np.multiply(W, 2 * penalty_scale, out=self._penalty_gradient)
        return float(loss), gradient, all_finite(gradient)

    def step(self, W: np.ndarray, X: np.ndarray, labels: np.ndarray, rate: float, rows: np.ndarray | None = None
             ) -> float:
        """One gradient-descent step on W, in place, that never forms dL/dW: W <- (1 - 2 rate lambda) W -
        (rate / N) G X, which is W - rate dL/dW regrouped (rate / N scales G (C, N), not the (C, D) product): three
        passes over (C, D) (two without L2) where forming the gradient and then stepping takes six. Returns the loss
        at W before the step.

        W: (C, D) of the prepared dtype; rate >= 0. The batch is X and labels, or with ``rows`` (integers (B,))
        their rows X[rows], labels[rows], gathered by the step: inside :meth:`run` with threads, each thread
        gathers and sums its share. The new W differs from ``W - rate * self(W, X_B, labels_B)[1]`` by rounding
        only. When the scores, the loss or (rate / N) G X are not finite, W is left as it was and the step is taken
        that way instead: it raises the same ValueError as a call, or makes the same update.
        """
        loss = (self._step if self._in_run else self._step_quietly)(W, X, labels, rate, rows)
        if loss is not None:
            return loss
        loss, gradient = self(W, *self._batch(X, labels, rows))
        with np.errstate(over="ignore", invalid="ignore"):
            gradient *= rate
            W -= gradient
        return loss

    def _step(self, W: np.ndarray, X: np.ndarray, labels: np.ndarray, rate: float, rows: np.ndarray | None
              ) -> float | None:
        """The step, returning the loss before it, when that loss and (rate / N) G X are finite; else None, with W
        untouched."""
        rate_times_gradient_of_the_data = self._gradient
        if rows is not None and self._helpers is not None:
            examples, loss_sum = len(rows), self._split_sums(W, X, labels, rows, rate / len(rows))
            if loss_sum is None:
                return None
        else:
            X, labels = self._batch(X, labels, rows)
            examples = X.shape[0]
            loss_sum = self._sums(W, X, labels, rate_times_gradient_of_the_data, rate / examples)
        loss = examples ** (-1.0) * loss_sum
        if self._reg > 0:
            loss = loss + self._penalty_scale * np.vdot(W, W)
        loss = float(loss)
        if not (all_finite(rate_times_gradient_of_the_data) and math.isfinite(loss)):
            return None
        if self._reg > 0:
            W *= 1 - 2 * rate * self._reg
        W -= rate_times_gradient_of_the_data
        return loss

    def _sums(self, W: np.ndarray, X: np.ndarray, labels: np.ndarray, out: np.ndarray, scale: float):
        """sum_i l_i over the batch X (n, D), labels (n,), and (scale G) X into out (C, D); raises ValueError when
        the scores are not finite."""
        inspect_scores = finite_scores_required(W, X, self._loss.weights_name)
        if is_one_block(X):  # a mini-batch: the block's sums without the blocks' bookkeeping
            return block_sums(self._per_example, W, X, self._one_hot_of(labels), self._values, out, inspect_scores,
                              scale)
        return accumulate_blocks(self._per_example, W, X, self._one_hot(labels), self._values, out, inspect_scores,
                                 scale)

    def _split_sums(self, W: np.ndarray, X: np.ndarray, labels: np.ndarray, rows: np.ndarray, scale: float):
        """:meth:`_sums` over X[rows], labels[rows], a nearly equal share of the rows per thread, the shares added
        in a fixed order; None when any share's scores are not finite."""
        threads = len(self._part_products) + 1
        bounds = [len(rows) * share // threads for share in range(threads + 1)]
        shares = [rows[start:stop] for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]
        pending = [self._helpers.submit(self._share_sums, W, X, labels, share, product, scale)
                   for share, product in zip(shares[1:], self._part_products, strict=True)]
        sums = [self._share_sums(W, X, labels, shares[0], self._gradient, scale)]
        sums += [each.result() for each in pending]
        if any(each is None for each in sums):
            return None
        loss_sum = sums[0]
        for share_sum, product in zip(sums[1:], self._part_products, strict=True):
            loss_sum = loss_sum + share_sum
            self._gradient += product
        return loss_sum

    def _share_sums(self, W: np.ndarray, X: np.ndarray, labels: np.ndarray, rows: np.ndarray, out: np.ndarray,
                    scale: float):
        """One thread's share: :meth:`_sums` over X[rows], labels[rows], or None when its scores are not finite."""
        try:
            return self._sums(W, *self._batch(X, labels, rows), out, scale)
        except ValueError:
            return None

    def _batch(self, X: np.ndarray, labels: np.ndarray, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The batch X_B (in the prepared dtype when X is not floating), labels_B: X's rows ``rows``, or all."""
        if rows is not None:
            X, labels = X[rows], labels[rows]
        return (X if X.dtype.kind == "f" else X.astype(self._dtype)), labels

    def _one_hot(self, labels: np.ndarray) -> Callable[[slice], np.ndarray]:
        """``targets_of`` for :func:`accumulate_blocks`: a block of rows -> its one-hot T (C, n_b)."""
        return lambda rows: self._one_hot_of(labels[rows])

    def _one_hot_of(self, labels: np.ndarray) -> np.ndarray:
        """The one-hot T (C, n) of labels (n,), as :meth:`CompiledLoss.targets` makes it, with the class column
        made once."""
        return (self._class_column == labels).astype(self._dtype)


def finite_scores_required(W: np.ndarray, X: np.ndarray, weights_name: str) -> Callable[[np.ndarray], None]:
    """The ``inspect_scores`` of a call that raises: scores of X (N, D) at W (C, D) that are not all finite raise
    the public function's ValueError, naming the cause (:func:`raise_for_non_finite_scores`)."""

    def inspect_scores(S: np.ndarray) -> None:
        if not all_finite(S):
            raise_for_non_finite_scores(W, X, weights_name)

    return inspect_scores


def all_finite(array: np.ndarray) -> bool:
    """True when every entry of a floating array is finite. NumPy's own scan, not a BLAS sum of squares: OpenBLAS
    splits a float64 dot over (C, D) entries across its threads, and under load waiting for them measured ~12 ms
    for a 10 x 3073 array (against ~7 us for this scan)."""
    return bool(np.isfinite(array).all())


def raise_for_non_finite_scores(W, X, weights_name: str = "W"):
    """The ValueError for scores X W^T that are not all finite, naming the cause: W or X holds a NaN or inf
    (a scan of each, done only on this error path), else the product overflowed."""
    validation.require_finite(W, weights_name)
    if not np.all(np.isfinite(X)):
        raise ValueError("X: inputs must be finite (found NaN or inf)")
    raise ValueError(f"X: the scores X @ {weights_name}.T overflow to inf; rescale X or {weights_name}")


def raise_for_non_finite_result(loss: CompiledLoss, value: float, X, W, reg: float):
    """The ValueError for a loss or gradient that is not finite although the scores X W^T are (X (N, D), W (C, D)):
    the L2 penalty overflowed, or the per-example loss did at these scores."""
    name = loss.weights_name
    with np.errstate(over="ignore", invalid="ignore"):
        penalty_overflows = reg > 0 and not np.isfinite(W.dtype.type(reg) * np.vdot(W, W))
    if penalty_overflows:
        raise ValueError(f"{name}: reg * sum({name}**2) overflows; rescale {name} or lower reg")
    largest = float(np.max(np.abs(linear_layer().scores(W, X)[0])))
    raise ValueError(
        f"{loss.name}: the loss or its gradient overflows (value {value}) at scores up to |s| = {largest:.3g}; "
        f"rescale X or {name}"
    )
