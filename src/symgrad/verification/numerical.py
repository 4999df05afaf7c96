"""Numerical gradients from values of f, by finite differences or by complex step, and the lecture's
relative error between two gradients.

    forward:       df/dx_i ~ (f(x + h e_i) - f(x)) / h             error O(h)
    centered:      df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h    error O(h^2)
    complex step:  df/dx_i ~ Im f(x + i h e_i) / h                 error O(h^2), no subtraction (f analytic)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from symgrad.validation import positive_number

METHODS = ("centered", "forward")

#: Step h of the complex step (see :func:`complex_step_gradient`).
COMPLEX_STEP = 2.0**-500


def scalar_value(f: Callable, x: np.ndarray) -> float:
    """``f(x)`` as a Python float; a TypeError when f does not return one finite-or-not real number."""
    return as_scalar(f(x))


def as_scalar(value) -> float:
    """A value returned by f as a Python float; a TypeError, showing the fix, for anything but one real number.

    CS231n's loss functions return ``(loss, grad)``: that pair gets its own message.
    """
    if isinstance(value, (tuple, list)) and len(value) == 2 and np.ndim(value[0]) == 0 and np.ndim(value[1]) > 0:
        raise TypeError(
            "f: returned a (loss, gradient) pair, as CS231n's loss functions do; pass the loss alone, e.g. "
            "check_gradient(lambda W: loss_and_grad(W)[0], lambda W: loss_and_grad(W)[1], W)"
        )
    try:
        value = np.asarray(value)
    except ValueError as error:
        raise TypeError(f"f: must return one real number, returned {type(value).__name__} ({error})") from None
    if value.size != 1 or not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
        raise TypeError(f"f: must return one real number, returned an array of shape {value.shape} ({value.dtype})")
    return float(value.reshape(()))


def floating_copy(x, dtype=None) -> np.ndarray:
    """A writable copy of ``x`` in ``dtype`` (default: x's floating dtype, float64 for integers)."""
    x = np.asarray(x)
    if dtype is None:
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(f"dtype: expected a floating dtype, got {dtype}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) or np.iscomplexobj(x):
        raise TypeError(f"x: expected a real array, got dtype {x.dtype}")
    return np.array(x, dtype=dtype, copy=True)


def check_finite_point(point: np.ndarray) -> None:
    if not np.all(np.isfinite(point)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(point))[0])
        raise ValueError(f"x: must be finite, got {point[bad]} at index {bad}")


def numerical_gradient(f: Callable, x, h: float = 1e-5, method: str = "centered", dtype=None) -> np.ndarray:
    """Finite-difference gradient of a scalar function over every coordinate of ``x``.

    Args:
        f: function of an array shaped like ``x`` returning one real number.
        x: the point, any shape (S). Never modified.
        h: step, > 0.
        method: ``"centered"`` (2 evaluations per coordinate, error O(h^2)) or ``"forward"``
            (1 per coordinate plus f(x), error O(h)).
        dtype: floating dtype to evaluate in; default x's (float64 for integer x).

    Returns:
        array (S) in that dtype.

    The denominator is the step actually taken, ``(x_i + h) - (x_i - h)``, not ``2h``: in floating point
    the two differ, and the taken step is the one the difference quotient belongs to.
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    h = positive_number(h, "h")
    point = floating_copy(x, dtype)
    if not np.all(np.isfinite(point)):
        raise ValueError("x: must be finite (found NaN or inf)")
    gradient = np.empty_like(point)
    at_x = scalar_value(f, point) if method == "forward" else None
    for index in np.ndindex(point.shape):
        original = point[index]
        point[index] = original + h
        upper = point[index]
        if upper == original:
            raise ValueError(f"h: the step {h} is lost in rounding at x[{', '.join(map(str, index))}] = {original}")
        f_plus = scalar_value(f, point)
        if method == "forward":
            gradient[index] = (f_plus - at_x) / (float(upper) - float(original))
        else:
            point[index] = original - h
            f_minus = scalar_value(f, point)
            gradient[index] = (f_plus - f_minus) / (float(upper) - float(point[index]))
        point[index] = original
    return gradient


def complex_step_gradient(f: Callable, x, *, analytic: bool = False) -> np.ndarray:
    """Gradient by complex step, df/dx_i = Im f(x + i h e_i) / h: exact to rounding.

    There is no subtraction, so h can be tiny: h = :data:`COMPLEX_STEP` = 2^-500 (~3e-151) makes the O(h^2)
    truncation vanish, and only derivatives below ~1e-157 underflow.

    Args:
        f: function of a complex array shaped like x (S) returning one (complex) number.
        x: the point (S), real and finite.
        analytic: you assert that f extends analytically to complex x. Complex step silently returns wrong
            derivatives through abs (0), maximum (a lexicographic comparison) and other kinks, so it refuses
            to run without this assertion.

    Returns:
        float64 array (S).
    """
    refuse_unless_analytic(analytic)
    point = floating_copy(x, np.float64)
    check_finite_point(point)
    gradient = np.empty(point.shape)
    for index in np.ndindex(point.shape):
        direction = np.zeros(point.shape)
        direction[index] = 1.0
        gradient[index] = complex_step_derivative(f, point, direction)
    return gradient


def complex_step_derivative(f, x: np.ndarray, direction: np.ndarray, step: float = COMPLEX_STEP) -> float:
    """Im f(x + i h d) / h for one direction d (S), h = ``step`` (default :data:`COMPLEX_STEP`)."""
    try:
        value = np.asarray(f(x.astype(np.complex128) + 1j * step * direction))
    except TypeError as error:
        raise ValueError(f"f: cannot be evaluated at complex x ({error}); complex step needs analytic f") from error
    if value.size != 1:
        raise TypeError(f"f: must return one number, returned an array of shape {value.shape}")
    return float(np.imag(value.reshape(()))) / step


def refuse_unless_analytic(analytic: bool) -> None:
    if analytic is not True:
        raise ValueError(
            "analytic: complex step needs f to extend analytically to complex x; through abs, maximum, "
            "heaviside or sign it silently returns wrong derivatives. Pass analytic=True to assert f has none, "
            "or use the centered reference"
        )


def relative_errors(a, b) -> np.ndarray:
    """Elementwise |a - b| / max(|a|, |b|), with 0 where both are 0 and NaN where either is not finite;
    a and b real, of one shape."""
    a, b = np.asarray(a), np.asarray(b)
    for name, array in (("a", a), ("b", b)):
        if np.iscomplexobj(array) or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise TypeError(f"{name}: expected a real array, got dtype {array.dtype}")
    a, b = a.astype(np.float64), b.astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"b: shape {b.shape} differs from a's shape {a.shape}")
    with np.errstate(invalid="ignore"):
        scale = np.maximum(np.abs(a), np.abs(b))
        difference = np.abs(a - b)
        errors = np.divide(difference, scale, out=np.zeros_like(difference), where=scale > 0)
    errors[~(np.isfinite(a) & np.isfinite(b))] = np.nan
    return errors


def relative_error(a, b) -> float:
    """The lecture's gradient-check error: max over elements of |a - b| / max(|a|, |b|).

    Guarded at 0 (two zeros agree exactly); NaN when either side holds a NaN or an infinity, so that a
    non-finite gradient never reads as a match. Rule of thumb in float64 (CS231n): > 1e-2 wrong,
    < 1e-4 fine with kinks, <= 1e-7 good.

    >>> relative_error([1.0, 0.0], [1.0 + 1e-9, 0.0]) < 1e-8
    True
    >>> relative_error([float("nan")], [1.0])
    nan
    """
    errors = relative_errors(a, b)
    return float(np.max(errors)) if errors.size else 0.0
