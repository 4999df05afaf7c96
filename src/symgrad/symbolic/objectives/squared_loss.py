"""Squared loss for linear regression (Lecture 4, eq. 8-12), with the data x_i, y_i as constants.

    L(w0, w1) = 1/N sum_i (w0 + w1 x_i - y_i)^2
    dL/dw0    = 2/N sum_i (w0 + w1 x_i - y_i)
    dL/dw1    = 2/N sum_i (w0 + w1 x_i - y_i) x_i

In D dimensions (bias trick: a column of ones in X (N, D)), w (D,), y (N,):

    L(w) = 1/N ||X w - y||^2          grad L = 2/N X^T (X w - y)

What is compiled is one example's squared error of the prediction u = w^T x, l(u; y) = (u - y)^2, pushed through
the linear layer: the loss ``squared`` declared in :mod:`symgrad.symbolic.losses.squared`.
"""

import sympy as sp

from symgrad.symbolic.derivation import Derivation, is_identically_zero
from symgrad.symbolic.registry import register

w0, w1 = sp.symbols("w0 w1", real=True)


def line_squared_loss(x, y, number_of_examples) -> sp.Expr:
    """1/N sum_i (w0 + w1 x_i - y_i)^2 for sequences (or IndexedBase entries) x_i, y_i."""
    return sum((w0 + w1 * xi - yi) ** 2 for xi, yi in zip(x, y, strict=True)) / number_of_examples


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
    return all(is_identically_zero(sp.diff(loss, w) - g) for w, g in zip((w0, w1), lecture, strict=True))


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
_residuals = [w0 + w1 * xi - yi for xi, yi in zip(_x, _y, strict=True)]

squared_loss = register(
    Derivation(
        name="squared_loss",
        title="L(w0, w1) = 1/N sum_i (w0 + w1 x_i - y_i)^2 with N = 3 data points (x_i, y_i)",
        objective=line_squared_loss(_x, _y, 3),
        variables=(w0, w1),
        lecture_gradient=(
            sp.Rational(2, 3) * sum(_residuals),
            sp.Rational(2, 3) * sum(r * xi for r, xi in zip(_residuals, _x, strict=True)),
        ),
        parameters=(*_x, *_y),
        defaults={"x0": 0.0, "x1": 1.0, "x2": 2.0, "y0": 1.0, "y1": 3.0, "y2": 5.0},
        source="Lecture 4, eq. 8-12 (symbolic N: prove_index_form)",
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
        source="Lecture 4, eq. 12 in matrix form (symbolic N, D: prove_matrix_form)",
        convex=True,
    )
)
