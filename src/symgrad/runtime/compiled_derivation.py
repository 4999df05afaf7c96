"""A derivation's value, gradient and kink arguments as NumPy functions (built by :func:`symgrad.compile`).

The compiled gradient takes an array whose leading axes are the derivation's variable shape and whose trailing
axes (if any) are a batch of points: x (*shape, *batch) -> gradient (*shape, *batch). It always returns a full
array of that shape in x's floating dtype, even when a component is constant (lambdify alone returns a Python
scalar there). The point is a positional-only argument, so any name, ``x`` included, can be a parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, eq=False)
class CompiledDerivation:
    """NumPy functions of one derivation, and what the checker needs to know about it.

    Attributes:
        name: the derivation's name.
        shape: variable shape, e.g. ``(3,)`` for the polynomial, ``()`` for w^2.
        parameters: names of the keyword arguments (data, margins, kink values), in order.
        defaults: default value per parameter name.
        value_function, gradient_function, kink_function: generated functions of (variables..., parameters...)
            returning [value], the gradient's components, and the kink arguments (zero at a kink).
        convex: the objective is convex in its variables.
        non_smooth_functions: names of the non-smooth functions in the objective (``("Max",)``; empty if smooth).
        kink_parameter: the parameter that sets Heaviside's value at 0, if there is one.
        source: the generated module text of the three functions.
    """

    name: str
    shape: tuple[int, ...]
    parameters: tuple[str, ...]
    defaults: Mapping[str, float]
    value_function: Callable
    gradient_function: Callable
    kink_function: Callable
    convex: bool = False
    non_smooth_functions: tuple[str, ...] = ()
    kink_parameter: str | None = None
    source: str = ""

    @property
    def is_smooth(self) -> bool:
        return not self.non_smooth_functions

    def value(self, point: npt.ArrayLike, /, **parameters: npt.ArrayLike) -> Any:
        """Objective at ``point`` (*shape, *batch) -> array (*batch), or a NumPy scalar for a single point."""
        point, arguments, batch = self._arguments(point, parameters)
        out = np.empty(batch, dtype=point.dtype)
        out[...] = self.value_function(*arguments)[0]
        return out[()]

    def gradient(self, point: npt.ArrayLike, /, **parameters: npt.ArrayLike) -> np.ndarray:
        """Gradient at ``point`` (*shape, *batch) -> array (*shape, *batch) in ``point``'s dtype.

        Complex ``point`` is accepted for the complex-step reference (see :mod:`symgrad.verification.checker`).
        """
        point, arguments, batch = self._arguments(point, parameters)
        out = np.empty(self.shape + batch, dtype=point.dtype)
        for index, component in zip(np.ndindex(self.shape), self.gradient_function(*arguments), strict=True):
            out[index] = component
        return out

    __call__ = gradient

    def kink_distance(self, point: npt.ArrayLike, /, **parameters: npt.ArrayLike) -> float:
        """min |z| over the kink arguments z at ``point`` (shape ``shape``); inf for a smooth objective."""
        if self.is_smooth:
            return np.inf
        point, arguments, _ = self._arguments(np.asarray(point, dtype=np.float64), parameters)
        values = [np.abs(np.asarray(value, dtype=np.float64)) for value in self.kink_function(*arguments)]
        return float(min((np.min(v) for v in values), default=np.inf))

    def underflows(self, point: npt.ArrayLike, dtype, /, **parameters: npt.ArrayLike) -> bool:
        """True when, computed in float64 at ``point`` (shape ``shape``), an entry of the value or gradient
        :func:`underflows` in ``dtype``: there ``dtype`` holds 0 or a subnormal, and a check has nothing to compare
        (sqrt(-x - 3) exp(x) at x = -124 is 1e-53, 0 in float32)."""
        at_point = np.asarray(point, dtype=np.float64)
        with np.errstate(all="ignore"):
            exact = np.append(self.value(at_point, **parameters), self.gradient(at_point, **parameters))
        return underflows(exact, dtype)

    def _arguments(self, point, parameters):
        point = np.asarray(point)
        if not np.issubdtype(point.dtype, np.inexact):
            if not (np.issubdtype(point.dtype, np.integer) or point.dtype == bool):
                raise TypeError(f"point: expected a real array, got dtype {point.dtype}")
            point = point.astype(np.float64)
        if point.shape[: len(self.shape)] != self.shape:
            raise ValueError(f"point: {self.name} takes an array of shape {self.shape} (+ batch axes), got {point.shape}")
        unknown = set(parameters) - set(self.parameters)
        if unknown:
            raise TypeError(f"{self.name}: unknown parameters {sorted(unknown)}; it takes {list(self.parameters)}")
        values = []
        for name in self.parameters:
            if name in parameters:
                values.append(np.asarray(parameters[name], dtype=point.dtype))
            elif name in self.defaults:
                values.append(point.dtype.type(self.defaults[name]))
            else:
                raise TypeError(f"{self.name}: missing parameter {name!r}")
        variables = [point[index] for index in np.ndindex(self.shape)]
        batch = np.broadcast_shapes(point.shape[len(self.shape) :], *(np.shape(v) for v in values))
        return point, variables + values, batch


def underflows(exact: npt.ArrayLike, dtype) -> bool:
    """True when a nonzero entry of ``exact`` (values computed in float64) is smaller in magnitude than the smallest
    normal number of ``dtype``: there it is 0 or subnormal."""
    exact = np.asarray(exact, dtype=np.float64)
    return bool(np.any((exact != 0) & (np.abs(exact) < np.finfo(dtype).tiny)))
