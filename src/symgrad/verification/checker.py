"""Gradient checking that neither cries wolf at a kink nor misses a wrong gradient.

A *probe* is a direction d (shaped like x): a coordinate e_i, a random signed unit vector, or the claimed
gradient's own direction. Along each probe the checker measures f in float64 at x +- h d and x +- 2h d:

    centered   D           = (8 (f(x+hd) - f(x-hd)) - (f(x+2hd) - f(x-2hd))) / 12h     error O(h^4)
    one-sided  f'(x; d)    ~ (-3 f(x) + 4 f(x+hd) - f(x+2hd)) / 2h                     error O(h^2)
              -f'(x; -d)   ~ ( 3 f(x) - 4 f(x-hd) + f(x-2hd)) / 2h

For a smooth f the two one-sided derivatives agree up to O(h^2). When they disagree at h, h/8 and h/64 and
the gap does not shrink, the probe has met a kink: there g^T d need only lie between them (the bracket a
subgradient must satisfy), and the check adds probes along the claimed gradient and random directions,
plus the subgradient inequality f(y) >= f(x) + g^T (y - x) when f is declared convex. Elsewhere g^T d must
match D within the tolerance of the gradient's dtype (:data:`TOLERANCES`).

>>> import numpy as np
>>> check_gradient(lambda x: float(np.sum(x**2)), lambda x: 2 * x, np.array([1.0, -2.0])).ok
True
>>> check_gradient(lambda x: float(np.maximum(x, 0).sum()), lambda x: np.heaviside(x, 0.0), np.zeros(3)).kink
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from symgrad.verification.numerical import (
    COMPLEX_STEP,
    _check_finite_point,
    _complex_step_derivative,
    _refuse_unless_analytic,
    floating_copy,
    scalar_value,
)

#: Relative-error threshold per dtype of the claimed gradient, always measured against a float64 reference.
#: float64: the lecture's (CS231n) "<= 1e-7 is good"; float32: its rounding (~6e-8) grown through a loss,
#: CS231n's "< 1e-4 acceptable"; float16: its rounding (~5e-4) likewise.
TOLERANCES = {
    np.dtype(np.float64): 1e-7,
    np.dtype(np.float32): 1e-4,
    np.dtype(np.float16): 1e-2,
}

#: f and the claimed gradient are trusted to this many units in the last place of their largest magnitude:
#: differences below that are rounding, not error.
ROUNDING_ULPS = 32

#: Kink test: the step shrinks by this factor between levels, over this many levels.
STEP_RATIO = 8
STEP_LEVELS = 3

MODES = ("full", "sparse", "directional")
REFERENCES = ("centered", "complex_step")


def tolerance_for(dtype) -> float:
    """Default relative-error threshold for a gradient of ``dtype`` (see :data:`TOLERANCES`)."""
    dtype = np.dtype(dtype)
    if dtype not in TOLERANCES:
        raise TypeError(f"dtype: no default tolerance for {dtype}; pass tolerance= (known: {list(TOLERANCES)})")
    return TOLERANCES[dtype]


def default_step(scale: float, dtype=np.float64) -> float:
    """Finite-difference step eps^(1/3) * max(1, |scale|), rounded to a power of two so that x +- h is exact.

    eps^(1/3) balances the O(h^2) truncation of a centered difference against its O(eps / h) rounding.

    >>> default_step(1.0) == 2.0**-17        # eps^(1/3) = 6.06e-6 -> 2^-17 = 7.63e-6
    True
    """
    ideal = np.finfo(dtype).eps ** (1 / 3) * max(1.0, abs(float(scale)))
    return 2.0 ** round(math.log2(ideal))


@dataclass(frozen=True)
class Probe:
    """One comparison: the claimed value ``analytic`` must lie in [lower, upper] (within tolerance).

    Attributes:
        label: what was probed, e.g. ``"x[1, 2]"`` or ``"random direction 3"``.
        index: index into x (tuple) for a coordinate, else the probe's number (int).
        direction: d, shaped like x (for the subgradient inequality, y - x).
        analytic: g^T d (for the subgradient inequality, g^T (y - x)).
        numerical: the centered difference D, the complex-step derivative, or f(y) - f(x).
        lower, upper: the interval the analytic value must lie in: [D, D] where f is smooth,
            the one-sided derivatives at a kink, [-inf, f(y) - f(x)] for the subgradient inequality.
        step: the finite-difference step h (for the inequality, the distance |y - x|).
        kink: whether the one-sided derivatives disagreed at every step level.
        error: distance of ``analytic`` from [lower, upper], relative to the larger magnitude of the two sides
            (floored at rounding level); for a smooth probe the lecture's |a - b| / max(|a|, |b|).
    """

    label: str
    index: tuple[int, ...] | int
    direction: np.ndarray
    analytic: float
    numerical: float
    lower: float
    upper: float
    step: float
    kink: bool
    error: float


@dataclass(frozen=True)
class GradientReport:
    """Verdict of :func:`check_gradient` or :func:`check_subgradient`, with the worst probe.

    Attributes:
        ok: every probe within ``tolerance``.
        mode: ``"full"``, ``"sparse"``, ``"directional"`` or ``"subgradient"``.
        reference: ``"centered"`` or ``"complex_step"``.
        tolerance: the relative-error threshold applied.
        gradient_dtype, reference_dtype: dtype of the claimed gradient, and the dtype f computed the reference in.
        probes: every comparison made, in order.
        seed: seed of the random coordinates and directions (pass it back to reproduce the check).
    """

    ok: bool
    mode: str
    reference: str
    tolerance: float
    gradient_dtype: np.dtype
    reference_dtype: np.dtype
    probes: tuple[Probe, ...]
    seed: int

    @property
    def worst(self) -> Probe:
        """The probe with the largest relative error (the first one on ties)."""
        return max(self.probes, key=lambda probe: probe.error)

    @property
    def max_rel_error(self) -> float:
        """Largest relative error over all probes."""
        return self.worst.error

    @property
    def worst_index(self) -> tuple[int, ...] | int:
        """Index into x of the worst coordinate, or the number of the worst direction."""
        return self.worst.index

    @property
    def analytic(self) -> float:
        """Claimed value at the worst probe (g[i], or g^T d)."""
        return self.worst.analytic

    @property
    def numerical(self) -> float:
        """Numerical value at the worst probe."""
        return self.worst.numerical

    @property
    def step(self) -> float:
        """Finite-difference step used at the worst probe."""
        return self.worst.step

    @property
    def kink(self) -> bool:
        """Whether any probe met a kink (and the claim was then checked as a subgradient)."""
        return any(probe.kink for probe in self.probes)

    def __str__(self) -> str:
        worst = self.worst
        verdict = "passed" if self.ok else "FAILED"
        relation = "<=" if self.ok else ">"
        kinks = sum(probe.kink for probe in self.probes)
        lines = [
            f"gradient check {verdict}: mode={self.mode}, reference={self.reference}, "
            f"{self.gradient_dtype} gradient vs {self.reference_dtype} reference, seed={self.seed}",
            f"  max relative error {worst.error:.3e} {relation} tolerance {self.tolerance:.1e} at {worst.label}",
            f"    analytic   {worst.analytic: .12g}",
            f"    numerical  {worst.numerical: .12g}   (step {worst.step:.3g})",
        ]
        if worst.kink or math.isinf(worst.lower):
            lines.append(f"    allowed    [{worst.lower: .12g}, {worst.upper: .12g}]")
        if kinks:
            lines.append(f"  kink met along {kinks} of {len(self.probes)} probes: the claim was checked as a subgradient")
        else:
            lines.append(f"  {len(self.probes)} probes, no kink met")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        """The report as a small Markdown table, which Jupyter shows for a report at the end of a cell: the verdict,
        the mode and dtypes, the largest error against the tolerance, the worst probe, and the probes made."""
        kinks = sum(probe.kink for probe in self.probes)
        rows = [
            ("verdict", "**passed**" if self.ok else "**FAILED**"),
            ("mode", f"{self.mode}: {self.gradient_dtype} gradient vs {self.reference_dtype} reference ({self.reference})"),
            ("max relative error", f"{self.max_rel_error:.3e} {'<=' if self.ok else '>'} tolerance {self.tolerance:.1e}"),
            ("worst probe", f"`{self.worst.label}`: analytic {self.analytic:.12g}, numerical {self.numerical:.12g}"),
            ("probes", f"{len(self.probes)}, " + (f"a kink met along {kinks}: checked as a subgradient" if kinks
                                                   else "no kink met")),
        ]
        return "\n".join(["| gradient check | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)])


def check_gradient(
    f: Callable,
    grad,
    x,
    mode: str = "full",
    *,
    samples: int | None = None,
    tolerance: float | None = None,
    step: float | None = None,
    convex: bool = False,
    subgradient_directions: int = 8,
    reference: str = "centered",
    analytic: bool = False,
    seed: int | None = None,
) -> GradientReport:
    """Check a claimed gradient of ``f`` at ``x`` against finite differences, kinks included.

    Args:
        f: function of an array shaped like x (S) returning one real number; it should compute in the dtype of
            its input (the reference evaluates it in float64).
        grad: function x (S) -> claimed gradient (S), or that gradient as an array (S).
        x: the point (S), real and finite. Never modified.
        mode: ``"full"`` (every coordinate), ``"sparse"`` (``samples`` random coordinates, default 10) or
            ``"directional"`` (the claimed gradient's own direction plus ``samples`` random signed unit
            directions, default 4: a handful of evaluations whatever the size of x).
        tolerance: relative-error threshold; default :data:`TOLERANCES` of the gradient's dtype.
        step: finite-difference step h; default :func:`default_step` of each coordinate (or of max|x|).
        convex: f is convex: at a kink, also test f(y) >= f(x) + g^T (y - x) at random y.
        subgradient_directions: random signed directions added when a kink is met.
        reference: ``"centered"`` or ``"complex_step"`` (Im f(x + i h d) / h, exact to rounding, needs
            ``analytic=True``).
        analytic: you assert that f extends analytically to complex x: no abs, maximum, heaviside, sign or
            comparisons, through which complex step silently returns wrong derivatives.
        seed: seed for the random coordinates and directions; default a fresh one, recorded in the report.

    Returns:
        a :class:`GradientReport`; ``str(report)`` renders it for a terminal.

    Raises:
        ValueError: bad mode, reference, samples, tolerance or step; x empty or not finite; grad(x) not
            shaped like x; f(x) not finite; complex step without ``analytic=True``.
        TypeError: f or grad not callable / not an array, x or grad(x) not real.
    """
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
    point, gradient, f_at_x, rng, seed = _prepare(f, grad, x, seed)
    reference_dtype = _reference_dtype(f, point)
    if tolerance is None:
        tolerance = max(tolerance_for(gradient.dtype), tolerance_for(reference_dtype))
    _check_positive("tolerance", tolerance)
    if step is not None:
        _check_positive("step", step)
    measure = _measurement(f, point, gradient, f_at_x, tolerance, step, reference_dtype, reference, analytic)
    if mode == "full":
        directions = _coordinate_directions(point.shape, np.ndindex(point.shape))
    elif mode == "sparse":
        count = _count("samples", 10 if samples is None else samples)
        chosen = rng.choice(point.size, size=min(count, point.size), replace=False)
        directions = _coordinate_directions(point.shape, (np.unravel_index(i, point.shape) for i in sorted(chosen)))
    else:
        count = _count("samples", 4 if samples is None else samples)
        directions = _gradient_directions(gradient, signs=(1,)) + _random_directions(rng, point.shape, count)
    probes = [measure(label, index, d) for label, index, d in directions]
    if any(probe.kink for probe in probes):
        probes += _subgradient_probes(
            measure, f, point, gradient, f_at_x, rng, _count("subgradient_directions", subgradient_directions),
            convex, tolerance, reference_dtype, first_number=len(probes),
        )
    return _report(probes, point, mode, reference, tolerance, gradient.dtype, reference_dtype, seed)


def assert_gradient(f: Callable, grad, x, mode: str = "full", **options) -> GradientReport:
    """:func:`check_gradient`, raising ``AssertionError(str(report))`` when the check fails; else the report."""
    report = check_gradient(f, grad, x, mode, **options)
    if not report.ok:
        raise AssertionError(f"\n{report}")
    return report


def check_subgradient(
    f: Callable,
    g,
    x,
    *,
    convex: bool = False,
    directions: int = 8,
    coordinates: bool = True,
    tolerance: float | None = None,
    step: float | None = None,
    seed: int | None = None,
) -> GradientReport:
    """Check that ``g`` is a subgradient of ``f`` at ``x``, which may be a kink.

    Along every coordinate (if ``coordinates``), along +-g and along ``directions`` random signed unit
    directions d, the one-sided directional derivatives must bracket g^T d:

        min(-f'(x; -d), f'(x; d)) <= g^T d <= max(-f'(x; -d), f'(x; d))

    which for a convex kink is -f'(x; -d) <= g^T d <= f'(x; d). If ``convex``, also at y = x + t d for the
    same directions (t from 1e-3 to 1 times max(1, |x|)): f(y) >= f(x) + g^T (y - x).

    Args:
        f: function of an array shaped like x (S) returning one real number.
        g: the claimed subgradient (S), or a function x -> (S).
        x: the point (S), real and finite.
        convex, directions, coordinates, tolerance, step, seed: as described above and in
            :func:`check_gradient`.

    Returns:
        a :class:`GradientReport` with mode ``"subgradient"``.
    """
    point, gradient, f_at_x, rng, seed = _prepare(f, g, x, seed)
    reference_dtype = _reference_dtype(f, point)
    if tolerance is None:
        tolerance = max(tolerance_for(gradient.dtype), tolerance_for(reference_dtype))
    _check_positive("tolerance", tolerance)
    if step is not None:
        _check_positive("step", step)
    measure = _measurement(f, point, gradient, f_at_x, tolerance, step, reference_dtype, "centered", False)
    probes = []
    if coordinates:
        probes = [measure(*probe) for probe in _coordinate_directions(point.shape, np.ndindex(point.shape))]
    probes += _subgradient_probes(
        measure, f, point, gradient, f_at_x, rng, _count("directions", directions),
        convex, tolerance, reference_dtype, first_number=len(probes),
    )
    return _report(probes, point, "subgradient", "centered", tolerance, gradient.dtype, reference_dtype, seed)


def _prepare(f, grad, x, seed):
    """Validate the inputs; return (x in its floating dtype, claimed gradient, f(x) in float64, rng, seed)."""
    if not callable(f):
        raise TypeError(f"f: expected a callable returning a number, got {type(f).__name__}")
    point = floating_copy(x)
    if point.size == 0:
        raise ValueError(f"x: empty array of shape {point.shape}; nothing to check")
    _check_finite_point(point)
    claimed = grad(point.copy()) if callable(grad) else grad
    if not isinstance(claimed, (np.ndarray, np.generic, list, tuple, float, int)):
        raise TypeError(f"grad: expected an array or a callable returning one, got {type(claimed).__name__}")
    claimed = np.asarray(claimed)
    if claimed.shape != point.shape:
        raise ValueError(f"grad: the gradient has shape {claimed.shape} but x has shape {point.shape}")
    if np.iscomplexobj(claimed) or not (np.issubdtype(claimed.dtype, np.number) or claimed.dtype == bool):
        raise TypeError(f"grad: expected a real gradient, got dtype {claimed.dtype}")
    if not np.issubdtype(claimed.dtype, np.floating):
        claimed = claimed.astype(np.float64)
    f_at_x = scalar_value(f, point.astype(np.float64))
    if not math.isfinite(f_at_x):
        raise ValueError(f"f: f(x) = {f_at_x} is not finite; cannot difference it")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**32)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
    return point, claimed, f_at_x, np.random.default_rng(int(seed)), int(seed)


def _check_positive(name: str, value) -> None:
    if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name}: expected a finite number > 0, got {value!r}")


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
    return int(value)


def _reference_dtype(f, point: np.ndarray) -> np.dtype:
    """The dtype f computes in when handed float64 (float64 unless f casts down)."""
    value = np.asarray(f(point.astype(np.float64)))
    if np.issubdtype(value.dtype, np.floating) and np.finfo(value.dtype).eps > np.finfo(np.float64).eps:
        return value.dtype
    return np.dtype(np.float64)


def _coordinate_directions(shape, indices):
    """(label, index, e_i) for each index."""
    for index in indices:
        index = tuple(int(i) for i in index)
        direction = np.zeros(shape)
        direction[index] = 1.0
        yield f"x[{', '.join(map(str, index))}]", index, direction


def _gradient_directions(gradient: np.ndarray, signs, first_number: int = 0):
    """(label, number, +-g / |g|) for each sign; none when g is 0."""
    norm = float(np.linalg.norm(gradient.astype(np.float64)))
    if norm == 0 or not math.isfinite(norm):
        return []
    unit = gradient.astype(np.float64) / norm
    return [
        (f"direction {first_number + k} ({'+' if sign > 0 else '-'}claimed gradient)", first_number + k, sign * unit)
        for k, sign in enumerate(signs)
    ]


def _random_directions(rng, shape, count: int, first_number: int = 0):
    """(label, number, d) for ``count`` signed unit directions d drawn from a Gaussian (S)."""
    directions = []
    for k in range(count):
        direction = rng.standard_normal(shape)
        directions.append(
            (f"direction {first_number + k} (random)", first_number + k, direction / np.linalg.norm(direction))
        )
    return directions


def _measurement(f, point, gradient, f_at_x, tolerance, step, reference_dtype, reference, analytic):
    """A function (label, index, direction) -> :class:`_Measurement` for this f, x, claimed gradient and reference."""
    if reference not in REFERENCES:
        raise ValueError(f"reference: expected one of {REFERENCES}, got {reference!r}")
    if reference == "complex_step":
        _refuse_unless_analytic(analytic)
    x = point.astype(np.float64)
    g = gradient.astype(np.float64)
    gradient_rounding = ROUNDING_ULPS * _rounding_unit(gradient.dtype, float(np.max(np.abs(g))))
    value_rounding = ROUNDING_ULPS * np.finfo(reference_dtype).eps
    value_underflow = ROUNDING_ULPS * np.finfo(reference_dtype).tiny

    def measure(label, index, direction) -> _Measurement:
        analytic_value = float(np.sum(g * direction))
        analytic_noise = gradient_rounding * float(np.sum(np.abs(direction)))
        if reference == "complex_step":
            numerical = _complex_step_derivative(f, x, direction)
            noise = value_rounding * abs(numerical) + value_underflow / COMPLEX_STEP + analytic_noise
            return _Measurement(label, index, direction, analytic_value, numerical, numerical, numerical,
                                COMPLEX_STEP, False, noise, 0.0)
        scale = float(np.max(np.abs(x[direction != 0])))
        h = default_step(scale, reference_dtype) if step is None else float(step)
        return _difference_probe(
            f, x, f_at_x, label, index, direction, analytic_value, analytic_noise, h, value_rounding,
            value_underflow, tolerance,
        )

    return measure


def _difference_probe(
    f, x, f_at_x, label, index, direction, analytic, analytic_noise, h, value_rounding, value_underflow, tolerance
):
    """Probe along d with finite differences at steps h, h/8, h/64, stopping at the first level without a kink."""
    gaps = []
    for level in range(STEP_LEVELS):
        step = h / STEP_RATIO**level
        values = [scalar_value(f, x + k * step * direction) for k in (1, -1, 2, -2)]
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"f: not finite at x + t d for |t| <= {2 * step:g} along {label}")
        plus, minus, plus2, minus2 = values
        centered = (8 * (plus - minus) - (plus2 - minus2)) / (12 * step)
        right = (-3 * f_at_x + 4 * plus - plus2) / (2 * step)
        left = (3 * f_at_x - 4 * minus + minus2) / (2 * step)
        rounding = (value_rounding * max(abs(f_at_x), *map(abs, values)) + value_underflow) / step
        # Divided twice: step**2 raises OverflowError for a Python float step beyond ~1e154.
        curvature = abs(plus - 2 * f_at_x + minus) / step / step
        gap = right - left
        gaps.append(abs(gap))
        significant = abs(gap) > tolerance * max(abs(right), abs(left), abs(analytic)) + 8 * rounding + analytic_noise
        if not significant:
            return _Measurement(label, index, direction, analytic, centered, centered, centered, step, False,
                                1.5 * rounding + analytic_noise, curvature)
    # The gap stayed significant at every level: a kink if it held steady, rounding or curvature otherwise.
    if gaps[0] / STEP_RATIO <= gaps[-1] <= gaps[0] * STEP_RATIO:
        lower, upper = sorted((left, right))
        return _Measurement(label, index, direction, analytic, centered, lower, upper, step, True,
                            4 * rounding + analytic_noise, curvature)
    return _Measurement(label, index, direction, analytic, centered, centered, centered, step, False,
                        gaps[-1] + 1.5 * rounding + analytic_noise, curvature)


class _Measurement(NamedTuple):
    """A probe before the verdict: :class:`Probe`'s fields without ``error``, plus the absolute rounding
    budget ``noise`` of the comparison and the second difference ``curvature`` |f(x+hd) - 2f(x) + f(x-hd)| / h^2."""

    label: str
    index: tuple[int, ...] | int
    direction: np.ndarray
    analytic: float
    numerical: float
    lower: float
    upper: float
    step: float
    kink: bool
    noise: float
    curvature: float


def _relative_distance(analytic: float, lower: float, upper: float, noise: float, tolerance: float) -> float:
    """Distance of ``analytic`` from [lower, upper] over the largest magnitude of the three, floored at
    ``noise / tolerance`` (so that a distance within ``noise`` never fails)."""
    if not math.isfinite(analytic):
        return math.inf
    violation = max(lower - analytic, analytic - upper, 0.0)
    if violation == 0:
        return 0.0
    magnitudes = [abs(v) for v in (analytic, lower, upper) if math.isfinite(v)]
    return violation / max(*magnitudes, noise / tolerance)


def _subgradient_probes(measure, f, point, gradient, f_at_x, rng, count, convex, tolerance, reference_dtype,
                        first_number):
    """Probes along +-g and ``count`` random directions; with ``convex``, the subgradient inequality too."""
    directions = _gradient_directions(gradient, signs=(1, -1), first_number=first_number)
    directions += _random_directions(rng, point.shape, count, first_number=first_number + len(directions))
    probes = [measure(*direction) for direction in directions]
    if convex:
        probes += _inequality_probes(f, point, gradient, f_at_x, directions, tolerance, reference_dtype)
    return probes


def _inequality_probes(f, point, gradient, f_at_x, directions, tolerance, reference_dtype):
    """f(y) - f(x) >= g^T (y - x) at y = x + t d, t cycling through 1e-3, 1e-1 and 1 times max(1, |x|)."""
    x = point.astype(np.float64)
    g = gradient.astype(np.float64)
    radius = max(1.0, float(np.max(np.abs(x))))
    value_rounding = ROUNDING_ULPS * np.finfo(reference_dtype).eps
    probes = []
    for k, (label, number, direction) in enumerate(directions):
        t = radius * (1e-3, 1e-1, 1.0)[k % 3]
        displacement = (x + t * direction) - x
        f_at_y = scalar_value(f, x + displacement)
        increase = f_at_y - f_at_x
        claimed = float(np.sum(g * displacement))
        noise = value_rounding * max(abs(f_at_x), abs(f_at_y)) + ROUNDING_ULPS * _rounding_unit(
            gradient.dtype, float(np.sum(np.abs(g * displacement)))
        )
        probes.append(
            _Measurement(f"subgradient inequality at y = x + {t:g} d, d = {label}", number, displacement, claimed,
                         increase, -math.inf, increase, t, False, noise, 0.0)
        )
    return probes


def _rounding_unit(dtype, magnitude: float) -> float:
    """One unit of rounding of a number of ``magnitude`` in ``dtype``: eps * magnitude, or the smallest normal
    number where that underflows."""
    information = np.finfo(dtype)
    return float(information.eps) * magnitude + float(information.tiny)


def _report(measurements, point, mode, reference, tolerance, gradient_dtype, reference_dtype, seed) -> GradientReport:
    """Verdicts of all measurements, with one more rounding budget shared by all: the stencil x + k h d is
    rounded to within eps (|x| + 2h) of where it should be, which moves a directional derivative by up to
    that distance times the largest curvature seen (this is what lets a gradient of 1e-133 at x ~ 1e-133
    match a centered difference of 0)."""
    largest_curvature = max(m.curvature for m in measurements)
    largest_step = max(m.step for m in measurements)
    argument_rounding = (
        ROUNDING_ULPS * np.finfo(reference_dtype).eps * (float(np.max(np.abs(point))) + 2 * largest_step)
        * largest_curvature
    )
    probes = tuple(
        Probe(m.label, m.index, m.direction, m.analytic, m.numerical, m.lower, m.upper, m.step, m.kink,
              _relative_distance(m.analytic, m.lower, m.upper,
                                 m.noise + argument_rounding * float(np.sum(np.abs(m.direction))), tolerance))
        for m in measurements
    )
    ok = all(probe.error <= tolerance for probe in probes)
    return GradientReport(ok, mode, reference, tolerance, np.dtype(gradient_dtype), np.dtype(reference_dtype),
                          probes, seed)
