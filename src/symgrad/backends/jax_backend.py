"""JAX backend: every compiled loss, printed for ``jax.numpy`` and run under ``jax.jit``.

A derivation is printed, not re-implemented: code generation prints the same SymPy expressions as for NumPy
(the per-example loss and score gradient on the class axis, and the batch level of
:mod:`symgrad.symbolic.objectives.linear_layer`) through :class:`symgrad.codegen.printers.SymgradJaxPrinter`,
into ``symgrad/runtime/_generated/jax/``. The generated functions are composed into one Python function

    W (C, D), X (N, D), y (N,) -> S = X W^T (N, C), one-hot targets (N, C)
                               -> L_i, G_i = dL_i/ds (C,)         (per example: the generated code, jax.vmap-ped)
                               -> [L, dL/dW = G^T X / N (C, D)]   (batch level)

which ``jax.jit`` traces and compiles once per loss and input shape and dtype. Because the printed text is the
derivation, the JAX and NumPy backends agree to rounding (:func:`jax_module_text` shows the text that runs).
JAX is optional (``pip install 'symgrad[jax]'``) and imported only when a loss is built; building imports no SymPy.

Arrays. X may be a NumPy array (copied to the JAX device on every call), a ``jax.Array`` (used where it is:
pass ``jax.device_put(X)`` once when you call the loss many times on the same data), or :class:`DeviceExamples`,
X held on the device in both layouts, rows (N, D) and columns (D, N): twice the memory, for the fastest full-batch
call. Of the two products, S = X W^T contracts over X's contiguous axis, and dL/dW = G^T X / N over its examples
axis, which XLA:CPU measured ~1.6x slower (57 against 35 ms at N = 49000, D = 3073, float32); with the columns,
the second product is computed as its transpose X^T G / N, whose contraction is contiguous too (34 ms), and
the whole call took 0.73-0.78x JAX's own ``jit(value_and_grad)`` on X alone (``benchmarks/run.py``). X is checked
by its shape and dtype; its values are scanned only when the scores are not finite, to name the cause.

Precision. The loss computes in ``result_type(W, X)``. JAX computes in 32 bits unless ``jax_enable_x64`` is on;
float64 input is the explicit request for float64, and the call then runs inside ``jax.enable_x64(True)``, a
context that ends with the call: the process's setting, and every other JAX computation, stay as they were.

Example (needs JAX)::

    from symgrad.backends.jax_backend import jax_loss_and_grad
    svm = jax_loss_and_grad("svm")
    loss, dW = svm(W, X, y, reg=1e-3, delta=1.0)     # W (C, D), X (N, D), y (N,) -> float, dW (C, D)
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable

import numpy as np

from symgrad import validation
from symgrad.runtime.catalog import compiled_loss
from symgrad.runtime.generated import LINEAR_LAYER, generated_path, linear_layer, two_layer
from symgrad.runtime import two_layer as network_runtime
from symgrad.runtime.losses import raise_for_non_finite_result, raise_for_non_finite_scores

JAX_INSTALL_HINT = "pip install 'symgrad[jax]'"

XLA_CPU_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"}
"""Compiler options of symgrad's loss on XLA:CPU. By default XLA:CPU also compiles element-wise and reduction ops
into YNNPACK library fusions; around the per-example code those measured 2.5-4x slower than XLA's own loop fusions
at D = 65 (12-18 ms against 4-5 ms, N = 49000, float32) and ~5% slower at D = 3073, so the loss keeps YNNPACK for
its matrix products only. These are options of this one computation, not of the process; an XLA that does not
know them compiles with its defaults."""


def _import_jax():
    """Import JAX; ImportError naming the extra when it is not installed. Changes no JAX setting."""
    try:
        import jax
    except ImportError as error:
        raise ImportError(f"symgrad's JAX backend needs JAX, which is not installed: {JAX_INSTALL_HINT}") from error
    return jax


def jax_module_text(loss_name: str) -> str:
    """The generated ``jax.numpy`` text behind :func:`jax_loss_and_grad`: the loss's per-example module, then the
    linear layer's (read from the shipped files; imports neither SymPy nor JAX)."""
    loss = compiled_loss(loss_name)
    per_example = loss.backend_texts.get("jax") or generated_path(loss_name, "jax").read_text(encoding="utf-8")
    return "\n".join((per_example, generated_path(LINEAR_LAYER, "jax").read_text(encoding="utf-8")))


def precision(dtype: np.dtype):
    """The JAX context a computation in ``dtype`` runs in: ``jax.enable_x64(True)`` for 64-bit floats (ended
    when the context exits), no change otherwise."""
    jax = _import_jax()
    return jax.enable_x64(True) if np.dtype(dtype).itemsize == 8 else contextlib.nullcontext()


def _checkable(X) -> np.ndarray:
    """X for the NumPy input checks: a ``jax.Array`` as a zero-strided stand-in of its shape and dtype (checked by
    those alone, so that it stays on its device), anything else as a NumPy array."""
    if isinstance(X, _import_jax().Array):
        return np.broadcast_to(np.zeros((), X.dtype), X.shape)
    return np.asarray(X)


class DeviceExamples:
    """X (N, D) placed on the JAX device once, in both layouts: ``rows`` (N, D) and ``columns`` = X^T (D, N), each
    a ``jax.Array`` of X's dtype (float64 stays float64: it is placed inside ``jax.enable_x64``). Pass it as X to
    a loss of this backend, as often as you like: a call reads ``rows`` for the scores and ``columns`` for the
    gradient (see the module docstring). It costs twice X's memory on the device (``nbytes``), and pays on large
    batches only: at N = 256 (D = 3073, float32) a call on it measured slower than on X alone (0.91 against
    0.75 ms; ``BENCHMARKS.md``), at N = 49000 it measured 0.77x.

    Example (needs JAX)::

        examples = DeviceExamples(X)                   # X (N, D), NumPy or jax.Array
        loss, dW = jax_loss_and_grad("svm")(W, examples, y, reg=1e-3)
    """

    def __init__(self, X):
        jax = _import_jax()
        stand_in = _checkable(X)  # D is X's own
        checked = validation.input_matrix(stand_in, stand_in.shape[1] if stand_in.ndim == 2 else 0, "X")
        with precision(checked.dtype):
            self.rows = X if isinstance(X, jax.Array) else jax.device_put(checked)
            self.columns = jax.numpy.transpose(self.rows)  # computed on the device, stored (D, N) row-major

    @property
    def shape(self) -> tuple[int, int]:
        """(N, D), the shape of X."""
        return self.rows.shape

    @property
    def dtype(self) -> np.dtype:
        """X's dtype."""
        return np.dtype(self.rows.dtype)

    @property
    def nbytes(self) -> int:
        """Bytes held on the device: both layouts, 2 N D itemsize."""
        return 2 * self.rows.size * self.dtype.itemsize

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """X as a NumPy array (N, D), from ``rows``."""
        return np.asarray(self.rows, dtype=dtype)

    def __repr__(self) -> str:
        return f"DeviceExamples(shape={self.shape}, dtype={self.dtype}, {self.nbytes / 2**20:.1f} MiB on {self.rows.device})"


@functools.lru_cache(maxsize=None)
def _jitted(loss_name: str, regularized: bool, one_vs_rest: bool = False, with_columns: bool = False) -> Callable:
    """``jax.jit`` of the composed generated functions:
    (W (C, D), X (N, D), targets (N,), lambda, *parameters) -> (L, dL/dW (C, D), whether every score is finite).
    Without ``regularized`` the L2 term is left out (not multiplied by lambda = 0: sum(W^2) may overflow); with
    ``one_vs_rest`` a regression loss takes W (C, D) and labels (see :meth:`CompiledLoss.one_vs_rest`). With
    ``with_columns`` X^T (D, N) follows X, and the gradient comes transposed, (D, C): the printed
    G^T X / N evaluated as X^T G / N (:class:`DeviceExamples`), the penalty's 2 lambda W as 2 lambda W^T."""
    jax = _import_jax()
    jnp = jax.numpy
    loss = compiled_loss(loss_name).one_vs_rest() if one_vs_rest else compiled_loss(loss_name)
    per_example, layer = loss.backend_module("jax"), linear_layer("jax")

    def loss_and_grad(W, X, *arguments):
        columns, (targets, reg, *parameters) = (arguments[0], arguments[1:]) if with_columns else (None, arguments)
        X = X.astype(W.dtype)  # integer X; a no-op for X in the computing dtype
        scores = layer.scores(W, X)[0]
        if loss.kind == "classifier":
            one_hot = (targets[:, jnp.newaxis] == jnp.arange(W.shape[0])).astype(W.dtype)
        else:
            one_hot = targets.astype(W.dtype)[:, jnp.newaxis]

        def one_example(s, t):
            """The generated code on one example: scores and targets (C,) as (C, 1) columns -> L_i, dL_i/ds (C,)."""
            losses, G = per_example.loss_and_score_gradient(s[:, jnp.newaxis], t[:, jnp.newaxis], *parameters)
            return losses[0, 0], G[:, 0]

        # Mapped over the examples, the code keeps them on the leading axis: G (N, C), whose transpose XLA folds
        # into the product G^T X (the layout of JAX's own gradient; a (C, N) G measured 1.4x slower there).
        losses, G = jax.vmap(one_example)(scores, one_hot)
        if with_columns:  # (G^T X)^T = X^T G: the same printed product on the transposed factors
            value, gradient = layer.data_objective_and_gradient(losses[:, jnp.newaxis], columns.astype(W.dtype), G,
                                                                X.shape[0])
        else:
            value, gradient = layer.data_objective_and_gradient(losses[:, jnp.newaxis], G.T, X, X.shape[0])
        if regularized:
            penalty, penalty_gradient = layer.l2_penalty_and_gradient(W.T if with_columns else W, reg)
            value, gradient = value + penalty, gradient + penalty_gradient
        return value, gradient, jnp.all(jnp.isfinite(scores))

    return jax.jit(loss_and_grad, compiler_options=_compiler_options())


@functools.lru_cache(maxsize=None)
def _compiler_options() -> dict:
    """:data:`XLA_CPU_OPTIONS` when JAX computes on the CPU and its XLA accepts them (probed once), else none."""
    jax = _import_jax()
    if jax.default_backend() != "cpu":
        return {}
    try:
        jax.jit(lambda x: x + 1, compiler_options=XLA_CPU_OPTIONS).lower(np.float32(0)).compile()
    except jax.errors.JaxRuntimeError:
        return {}
    return dict(XLA_CPU_OPTIONS)


@functools.lru_cache(maxsize=None)
def jax_loss_and_grad(loss_name: str, one_vs_rest: bool = False) -> Callable:
    """The compiled loss ``loss_name`` and its weight gradient, generated for ``jax.numpy`` and jitted.

    Built once per loss; JAX compiles once per shape and dtype. Building imports JAX and changes none of its
    settings (see the module docstring for float64).

    Args:
        loss_name: a compiled loss (:func:`symgrad.runtime.catalog.loss_names`).
        one_vs_rest: a regression loss as a classifier, W (C, D) and integer labels
            (:meth:`symgrad.runtime.losses.CompiledLoss.one_vs_rest`); no effect on a classifier loss.

    Returns:
        ``f(W, X, y, reg=0.0, **parameters) -> (loss: float, gradient: NumPy array in W's dtype)``, with the
        arguments and checks of the NumPy loss (:class:`symgrad.runtime.losses.CompiledLoss`); it computes in
        ``result_type(W, X)``, and X may be a NumPy array, a ``jax.Array`` or :class:`DeviceExamples`. Its
        ``place_examples`` is :class:`DeviceExamples`: the training strategies that evaluate all N examples at
        every step (full-batch descent, random search, random local search) place a NumPy X with it once per run.

    Raises:
        ImportError: JAX is not installed (``pip install 'symgrad[jax]'``).
        ValueError: no compiled loss has that name.
    """
    loss = compiled_loss(loss_name).one_vs_rest() if one_vs_rest else compiled_loss(loss_name)
    jax = _import_jax()

    def jax_loss_function(W, X, y, reg: float = 0.0, **parameters):
        values = loss.parameter_values(parameters)
        reg = validation.nonnegative_number(reg, "reg")
        weights = loss.checked_weights(W)
        columns = (X.columns,) if isinstance(X, DeviceExamples) else ()
        X = X.rows if columns else X
        validation.input_matrix(_checkable(X), weights.shape[1], f"{loss.weights_name} {loss.weights_axes}")
        X = X if isinstance(X, jax.Array) else np.asarray(X)
        dtype = np.result_type(weights.dtype, X.dtype)
        if loss.kind == "classifier":
            targets = validation.class_labels(y, X.shape[0], weights.shape[0])
        else:
            targets = validation.real_targets(y, X.shape[0], "t", *loss.target_bounds).astype(dtype)
        with precision(dtype):
            value, gradient, scores_are_finite = _jitted(loss_name, reg > 0, one_vs_rest, bool(columns))(
                weights.astype(dtype, copy=False), X, *columns, targets, dtype.type(reg), *map(dtype.type, values)
            )
            value, gradient, scores_are_finite = float(value), np.asarray(gradient), bool(scores_are_finite)
        gradient = gradient.T if columns else gradient
        if not scores_are_finite:
            raise_for_non_finite_scores(weights, np.asarray(X), loss.weights_name)
        if not (math.isfinite(value) and np.all(np.isfinite(gradient))):
            raise_for_non_finite_result(loss, value, np.asarray(X, dtype=np.float64), weights, reg)
        gradient = np.ascontiguousarray(gradient, dtype=weights.dtype) if columns else gradient.astype(weights.dtype)
        return value, gradient if loss.kind == "classifier" else gradient[0]

    jax_loss_function.__name__ = jax_loss_function.__qualname__ = f"jax_{loss_name}_loss_and_grad"
    jax_loss_function.__doc__ = f"JAX {loss.title}; see symgrad.backends.jax_backend.jax_loss_and_grad."
    jax_loss_function.place_examples = DeviceExamples
    return jax_loss_function


@functools.lru_cache(maxsize=None)
def _jitted_two_layer(loss_name: str, regularized: bool) -> Callable:
    """``jax.jit`` of the two-layer network's generated passes under the loss's generated per-example code:
    (W1, b1 (H, 1), W2, b2 (C, 1), X (N, D), labels (N,), lambda, relu'(0), *parameters)
    -> (L, dW1, db1 (H, 1), dW2, db2 (C, 1), whether every score is finite)."""
    jax = _import_jax()
    jnp = jax.numpy
    loss = compiled_loss(loss_name)
    per_example, layer, network = loss.backend_module("jax"), linear_layer("jax"), two_layer("jax")

    def loss_and_grad(W1, b1, W2, b2, X, labels, reg, relu_kink_value, *parameters):
        X = X.astype(W1.dtype)
        Z = network.hidden_layer(W1, b1, X)[0]
        A = network.relu(Z)[0]
        S = network.output_layer(W2, b2, A)[0]
        T = (jnp.arange(W2.shape[0])[:, jnp.newaxis] == labels[jnp.newaxis, :]).astype(W1.dtype)
        losses, G = per_example.loss_and_score_gradient(S, T, *parameters)
        value = jnp.sum(losses) / X.shape[0]
        G_mean = network.mean_score_gradients(G, X.shape[0])[0]
        dW2, db2, dA = network.output_layer_gradients(G_mean, A, W2)
        dZ = network.relu_gradient(dA, Z, relu_kink_value)[0]
        dW1, db1 = network.hidden_layer_gradients(dZ, X)
        if regularized:
            penalty1, penalty_gradient1 = layer.l2_penalty_and_gradient(W1, reg)
            penalty2, penalty_gradient2 = layer.l2_penalty_and_gradient(W2, reg)
            value, dW1, dW2 = value + penalty1 + penalty2, dW1 + penalty_gradient1, dW2 + penalty_gradient2
        return value, dW1, db1, dW2, db2, jnp.all(jnp.isfinite(S))

    return jax.jit(loss_and_grad, compiler_options=_compiler_options())


def jax_two_layer_loss_and_grad(params, X, y, loss="softmax", reg: float = 0.0, relu_kink_value: float = 0.0,
                                **loss_parameters):
    """:func:`symgrad.two_layer_loss_and_grad` on JAX: the same arguments, checks and results (loss, gradients in
    the structure and dtypes of ``params``), the generated ``jax.numpy`` passes jitted once per loss, shape and
    dtype; float64 runs inside ``jax.enable_x64(True)`` (see the module docstring). X is a NumPy array.

    Raises:
        ImportError: JAX is not installed (``pip install 'symgrad[jax]'``).
    """
    compiled = network_runtime.classifier_loss(loss)
    values = compiled.parameter_values(loss_parameters)
    reg = validation.nonnegative_number(reg, "reg")
    kink = validation.real_number(relu_kink_value, "relu_kink_value", low=0.0, high=1.0)
    checked = network_runtime.checked_parameters(params)
    X = validation.input_matrix(X, checked["W1"].shape[1], "W1 (H, D)")
    labels = validation.class_labels(y, X.shape[0], checked["W2"].shape[0])
    dtype = np.result_type(*checked.values(), X.dtype if np.issubdtype(X.dtype, np.floating) else checked["W1"].dtype)
    computing = {name: array.astype(dtype, copy=False) for name, array in checked.items()}
    with precision(dtype):
        *results, scores_are_finite = _jitted_two_layer(compiled.name, reg > 0)(
            computing["W1"], computing["b1"][:, np.newaxis], computing["W2"], computing["b2"][:, np.newaxis], X,
            labels, dtype.type(reg), dtype.type(kink), *map(dtype.type, values))
        value, *gradients = float(results[0]), *(np.asarray(result) for result in results[1:])
    if not bool(scores_are_finite):
        network_runtime.raise_for_non_finite_scores(computing, X)
    names = network_runtime.PARAMETER_NAMES
    gradients = dict(zip(names, (gradients[0], gradients[1][:, 0], gradients[2], gradients[3][:, 0]), strict=True))
    if not (math.isfinite(value) and all(np.all(np.isfinite(g)) for g in gradients.values())):
        with np.errstate(all="ignore"):
            hidden = np.maximum(X @ computing["W1"].T + computing["b1"], 0)
            scores = hidden @ computing["W2"].T + computing["b2"]
        network_runtime.raise_for_non_finite_result(compiled, value, scores, computing, reg)
    return value, network_runtime.same_structure(params, {name: gradients[name].astype(checked[name].dtype)
                                                          for name in names})
