"""Squared loss for linear regression (Lecture 04, eq. 8-12), with the data x_i, y_i as constants.

    L(w0, w1) = 1/N sum_i (w0 + w1 x_i - y_i)^2
    dL/dw0    = 2/N sum_i (w0 + w1 x_i - y_i)
    dL/dw1    = 2/N sum_i (w0 + w1 x_i - y_i) x_i

In D dimensions (bias trick: a column of ones in X (N, D)), w (D,), y (N,):

    L(w) = 1/N ||X w - y||^2          grad L = 2/N X^T (X w - y)

What is compiled is one example's squared error of the prediction u = w^T x,

    l(u; y) = (u - y)^2               dl/du = 2 (u - y)

pushed through the linear layer (:mod:`symgrad.symbolic.objectives.linear_layer` with C = 1). It is compiled from
its index form for C outputs, l = sum_j (s[j] - t[j])^2, on the class axis (:mod:`symgrad.symbolic.index_form`).
"""

import sympy as sp

from symgrad.symbolic.derivation import Derivation, is_identically_zero
from symgrad.symbolic.objectives.linear_layer import (
    class_sum,
    index_score_gradient,
    label_family,
    on_class_axis,
    score_family,
    summed_class,
    written_out,
)
from symgrad.symbolic.registry import register

w0, w1 = sp.symbols("w0 w1", real=True)


def line_squared_loss(x, y, number_of_examples) -> sp.Expr:
    """1/N sum_i (w0 + w1 x_i - y_i)^2 for sequences (or IndexedBase entries) x_i, y_i."""
    return sum((w0 + w1 * xi - yi) ** 2 for xi, yi in zip(x, y)) / number_of_examples


def prove_index_form() -> bool:
    """Prove eq. 8-12 for symbolic N: x, y are IndexedBase data, the loss a Sum over i = 0 ... N-1."""
    number_of_examples = sp.Symbol("N", integer=True, positive=True)
    i = sp.Symbol("i", integer=True)
    x, y = sp.IndexedBase("x", real=True), sp.IndexedBase("y", real=True)
    residual = w0 + w1 * x[i] - y[i]
    over_examples = (i, 0, number_of_examples - 1)
    loss = sp.Sum(residual**2, over_examples) / number_of_examples
    lecture = (
        2 * sp.Sum(residual, over_examples) / number_of_examples,
        2 * sp.Sum(residual * x[i], over_examples) / number_of_examples,
    )
    return all(is_identically_zero(sp.diff(loss, w) - g) for w, g in zip((w0, w1), lecture))


def prove_matrix_form() -> bool:
    """Prove grad_w 1/N ||X w - y||^2 = 2/N X^T (X w - y) for symbolic N, D (MatrixSymbols)."""
    number_of_examples, number_of_features = sp.symbols("N D", integer=True, positive=True)
    X = sp.MatrixSymbol("X", number_of_examples, number_of_features)
    w = sp.MatrixSymbol("w", number_of_features, 1)
    y = sp.MatrixSymbol("y", number_of_examples, 1)
    residual = X * w - y
    derived = sp.Derivative(sp.Trace(residual.T * residual) / number_of_examples, w).doit()
    lecture = 2 * X.T * residual / number_of_examples
    difference = sp.simplify(derived - lecture)
    return difference == 0 or difference == sp.ZeroMatrix(number_of_features, 1)


_x = sp.symbols("x0:3", real=True)
_y = sp.symbols("y0:3", real=True)
_residuals = [w0 + w1 * xi - yi for xi, yi in zip(_x, _y)]

squared_loss = register(
    Derivation(
        name="squared_loss",
        title="L(w0, w1) = 1/N sum_i (w0 + w1 x_i - y_i)^2 with N = 3 data points (x_i, y_i)",
        objective=line_squared_loss(_x, _y, 3),
        variables=(w0, w1),
        lecture_gradient=(
            sp.Rational(2, 3) * sum(_residuals),
            sp.Rational(2, 3) * sum(r * xi for r, xi in zip(_residuals, _x)),
        ),
        parameters=(*_x, *_y),
        defaults={"x0": 0.0, "x1": 1.0, "x2": 2.0, "y0": 1.0, "y1": 3.0, "y2": 5.0},
        source="Lecture 04, eq. 8-12 (symbolic N: prove_index_form)",
        convex=True,
    )
)

_matrix = sp.Matrix(3, 2, lambda i, d: sp.Symbol(f"X{i}{d}", real=True))
_targets = sp.Matrix(_y)
_w = sp.Matrix([w0, w1])
_residual_vector = _matrix * _w - _targets

squared_loss_matrix = register(
    Derivation(
        name="squared_loss_matrix",
        title="L(w) = 1/N ||X w - y||^2 with X (3, 2), y (3,), every entry symbolic",
        objective=(_residual_vector.T * _residual_vector)[0, 0] / 3,
        variables=(w0, w1),
        lecture_gradient=tuple(sp.Rational(2, 3) * _matrix.T * _residual_vector),
        parameters=(*_matrix, *_y),
        defaults={"X00": 1.0, "X01": 0.0, "X10": 1.0, "X11": 1.0, "X20": 1.0, "X21": 2.0,
                  "y0": 1.0, "y1": 3.0, "y2": 5.0},
        source="Lecture 04, eq. 12 in matrix form (symbolic N, D: prove_matrix_form)",
        convex=True,
    )
)

prediction, target = sp.symbols("u y", real=True)

squared_error = register(
    Derivation(
        name="squared_error",
        title="l(u; y) = (u - y)^2: one example's squared error, the per-example part that is compiled",
        objective=(prediction - target) ** 2,
        variables=(prediction,),
        lecture_gradient=(2 * (prediction - target),),
        parameters=(target,),
        defaults={"y": 0.0},
        source="Lecture 04, eq. 8 (one term of the sum)",
        convex=True,
    )
)


def index_squared_error() -> sp.Expr:
    """l = sum_j (s[j] - t[j])^2 over C outputs s (predictions) and targets t, in index notation."""
    return class_sum((score_family[summed_class] - label_family[summed_class]) ** 2)


def prove_class_axis_form() -> bool:
    """Prove that the index form at C = 1 is :data:`squared_error` and its derived gradient 2 (u - y)."""
    at_squared_error = {sp.Symbol("s0", real=True): prediction, sp.Symbol("t0", real=True): target}
    loss = written_out(index_squared_error(), 1).xreplace(at_squared_error)
    gradient = written_out(index_score_gradient(index_squared_error()), 1, 0).xreplace(at_squared_error)
    return is_identically_zero(loss - squared_error.objective) and is_identically_zero(
        gradient - squared_error.lecture_gradient[0]
    )


def compiled_loss_and_gradient() -> tuple[sp.Expr, sp.Expr]:
    """What is compiled: l (1, N) and dl/ds (C, N) as array expressions in S (predictions) and T (targets)."""
    return on_class_axis(index_squared_error()), on_class_axis(index_score_gradient(index_squared_error()))
