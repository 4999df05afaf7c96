"""Gradient checking that neither cries wolf at a kink nor misses a wrong gradient.

A *probe* is a unit direction d -- a coordinate e_i, a random signed direction, or the claimed gradient's own
direction -- named by its index or number, never stored. Along each probe the checker evaluates f at x + t d on
a ladder of steps t = +-s_j, s_j = h 2^j, and reads three estimates off it:

    centered    D_j = (f(x + s_j d) - f(x - s_j d)) / 2 s_j                  error O(s^2) for smooth f
    right       R_j = (-3 f(x) + 4 f(x + s_j d) - f(x + 2 s_j d)) / 2 s_j    -> f'(x; d), f smooth on x + [0, 2s] d
    left        L_j = ( 3 f(x) - 4 f(x - s_j d) + f(x - 2 s_j d)) / 2 s_j    -> -f'(x; -d)

Smoothness is measured, not assumed: each estimate is Richardson-extrapolated across levels at the order its
successive differences show (2 for smooth f, 1 for centered differences across a jump in f''), and the
uncertainty U is the disagreement of two such extrapolations plus f's rounding noise (measured once, from
third differences of f at tiny steps). Then:

- R ~ L: f is differentiable along d (a jump in f'' is no obstacle): the claim g^T d must match the estimate.
- R != L: a kink along d at x: g^T d must lie between -f'(x; -d) and f'(x; d).
- f(x +- s d) - f(x) not shrinking with s: f jumps at x, where no gradient exists.

A claim outside that interval by more than the tolerance plus U is checked against the Clarke generalized
gradient before it fails: directional secants at nearby base points y = x + r u (several u, r -> 0
extrapolated) are, by Lebourg's mean-value theorem, values xi^T d of generalized gradients xi near x, so they
widen the interval towards [-f°(x; -d), f°(x; d)]; and where f(y) - f(x) - g^T (y - x) vanishes, the whole
gradient measured next to y can show that g is itself a limiting gradient. A claim still outside fails. A
claim that passes every probe is also probed along the direction that separates it from the hull of gradients
measured near x, since a point can lie in every probed projection of a polytope and still outside it.

The verdict is ``ok`` only when every probe resolved the claim to the tolerance: a probe whose U exceeds the
tolerance (relative to the gradient's magnitude) makes the check *inconclusive*, never a silent pass.

>>> import numpy as np
>>> check_gradient(lambda x: float(np.sum(x**2)), lambda x: 2 * x, np.array([1.0, -2.0])).ok
True
>>> check_gradient(lambda x: float(np.maximum(x, 0).sum()), lambda x: np.heaviside(x, 0.0), np.zeros(3)).kink
True
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from symgrad.validation import count, positive_number
from symgrad.verification.numerical import (
    COMPLEX_STEP,
    check_finite_point,
    complex_step_derivative,
    refuse_unless_analytic,
    as_scalar,
    floating_copy,
)

#: Relative-error threshold per dtype (the claimed gradient's, or the one f computes in, whichever is coarser).
#: float64: the lecture's (CS231n) "<= 1e-7 is good"; float32: its rounding (~6e-8) grown through a loss,
#: CS231n's "< 1e-4 acceptable"; float16: its rounding (~5e-4) likewise.
TOLERANCES = {
    np.dtype(np.float64): 1e-7,
    np.dtype(np.float32): 1e-4,
    np.dtype(np.float16): 1e-2,
}

MODES = ("full", "sparse", "directional")
REFERENCES = ("centered", "complex_step")

#: Default budget of f evaluations below which the default mode is "full" (about 3 per coordinate).
DEFAULT_MAX_EVALUATIONS = 10_000
#: Nearby base points sampled before a claim outside its interval fails.
DEFAULT_NEARBY_POINTS = 4096
#: Base points after which sampling stops if none shows f changing piece near x.
EVIDENCE_POINTS = 24
#: Base points that each get a secant before the search tests the claim's linear model first.
SECANT_POINTS = 48
#: Nearby base points whose gradients the hull probe estimates per round, and its rounds (see run_hull_probe).
HULL_POINTS, HULL_ROUNDS = 32, 3
#: Step ladder: levels j of s_j = h 2^j that may be evaluated.
LOWEST_LEVEL, HIGHEST_LEVEL = -8, 6
#: A failure is re-measured down to its step times 2^ROUGH_LEVELS, and the secants fitted by a smooth model on all
#: levels or on the finest ROUGH_MIN_LEVELS at least, before it stands (see _Line.unless_rough).
ROUGH_LEVELS, ROUGH_MIN_LEVELS = -8, 5
#: A relative noise this many times smaller at a 256-fold smaller spacing is kinks read as noise (see rounding_at).
ROUGH_NOISE_DROP = 16
#: Probes the report keeps (the worst ones).
KEPT_PROBES = 5
#: Checks expected to take longer than this show a progress bar (when tqdm is installed and stderr is a terminal).
PROGRESS_AFTER_SECONDS = 3.0

SMOOTH = "smooth"
CURVATURE_JUMP = "curvature jump (f' continuous, f'' jumps)"
KINK = "kink (f' jumps)"
JUMP_IN_F = "jump in f"
NOT_FINITE = "not finite"
UNRESOLVED = "unresolved"
INEQUALITY = "subgradient inequality"
COMPLEX = "complex step"

PASSED, INCONCLUSIVE, FAILED = "passed", "inconclusive", "FAILED"
WITHIN = "within its uncertainty"
_SEVERITY = {PASSED: 0, INCONCLUSIVE: 1, FAILED: 2}


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
    return _power_of_two(np.finfo(dtype).eps ** (1 / 3) * max(1.0, abs(float(scale))))


def random_direction(shape, seed: int, number: int) -> np.ndarray:
    """Random probe ``number`` of a check with ``seed``: a signed unit vector (shape), Gaussian before scaling."""
    direction = np.random.default_rng([seed, 0, number]).standard_normal(shape)
    return direction / np.linalg.norm(direction)


@dataclass(frozen=True)
class Probe:
    """One comparison: the claim g^T d against the interval [lower, upper] that f allows along d.

    Attributes:
        label: what was probed, e.g. ``"x[1, 2]"`` or ``"direction 3 (random)"``.
        index: index into x (tuple) for a coordinate, else the probe's number (int); random direction k is
            :func:`random_direction` (x.shape, seed, k).
        analytic: g^T d (for the subgradient inequality, g^T (y - x)).
        numerical: the extrapolated centered difference (for the inequality, f(y) - f(x)).
        lower, upper: what the claim must lie in: one value where f is differentiable along d, the one-sided
            derivatives at a kink, widened by nearby base points towards the Clarke bracket.
        uncertainty: U, the measured bound on how far [lower, upper] may be off (truncation and rounding).
        step: the smallest step the estimate rests on.
        behaviour: what f does along d at x: smooth, curvature jump, kink, jump in f, not finite, unresolved.
        verdict: ``"passed"``, ``"FAILED"`` or ``"inconclusive"``.
        error: distance of ``analytic`` from [lower, upper] over the largest magnitude of the three (the
            lecture's |a - b| / max(|a|, |b|) where f is differentiable), that magnitude floored at
            uncertainty / tolerance; inf when not finite.
        resolution: U over the larger of that magnitude and the gradient's magnitude along the probes: the
            smallest relative error this probe could detect.
        note: how the interval was obtained when it was widened, or where f was not finite.
    """

    label: str
    index: tuple[int, ...] | int
    analytic: float
    numerical: float
    lower: float
    upper: float
    uncertainty: float
    step: float
    behaviour: str
    verdict: str
    error: float
    resolution: float
    note: str = ""

    @property
    def kink(self) -> bool:
        """Whether the one-sided derivatives along this probe differ at x."""
        return self.behaviour == KINK


class ProbeCounts(NamedTuple):
    """How many probes were checked, by verdict and by what f does along them."""

    checked: int
    passed: int
    failed: int
    inconclusive: int
    kinks: int
    curvature_jumps: int
    widened: int


@dataclass(frozen=True)
class GradientReport:
    """Verdict of :func:`check_gradient` or :func:`check_subgradient`, with the worst probes and counts.

    Attributes:
        ok: every probe within ``tolerance`` and resolved to it.
        inconclusive: no probe failed, but some could not resolve the tolerance (``ok`` is then False).
        reason: one line saying why the check passed, failed or was inconclusive.
        mode: ``"full"``, ``"sparse"``, ``"directional"``, ``"directional+sparse"`` or ``"subgradient"``.
        mode_reason: why that mode (the default fits the size of x to ``max_evaluations``).
        reference: ``"centered"`` or ``"complex_step"``.
        tolerance: the relative-error threshold applied.
        resolution: the smallest relative error this check could have detected at x (its worst probe's).
        noise: f's rounding noise relative to |f| near x, as measured.
        gradient_dtype, reference_dtype: dtype of the claimed gradient; precision f computes in (measured).
        probes: the worst probes (at most :data:`KEPT_PROBES`), worst first.
        counts: :class:`ProbeCounts` over every probe.
        max_rel_error: largest relative error over every probe.
        evaluations: evaluations of f the check made.
        seed: seed of the random coordinates and directions (pass it back to reproduce the check).
    """

    ok: bool
    inconclusive: bool
    reason: str
    mode: str
    mode_reason: str
    reference: str
    tolerance: float
    resolution: float
    noise: float
    gradient_dtype: np.dtype
    reference_dtype: np.dtype
    probes: tuple[Probe, ...]
    counts: ProbeCounts
    max_rel_error: float
    evaluations: int
    seed: int

    @property
    def worst(self) -> Probe:
        """The worst probe: a failure before an inconclusive probe before a pass, then the largest error."""
        return self.probes[0]

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
        """Smallest finite-difference step used at the worst probe."""
        return self.worst.step

    @property
    def kink(self) -> bool:
        """Whether any probe met a kink (and the claim was then checked against the one-sided bracket)."""
        return self.counts.kinks > 0

    def __str__(self) -> str:
        verdict = "passed" if self.ok else ("INCONCLUSIVE" if self.inconclusive else "FAILED")
        counts = self.counts
        lines = [
            f"gradient check {verdict}: {self.reason}",
            f"  mode={self.mode} ({self.mode_reason}), reference={self.reference}, seed={self.seed}",
            f"  {self.gradient_dtype} gradient; f computes in {self.reference_dtype} (noise {self.noise:.1e} "
            f"relative); tolerance {self.tolerance:.1e}, resolution {self.resolution:.1e}",
        ]
        for probe in self.probes[:3]:
            lines.append(f"  {probe.verdict} {probe.label}: {probe.behaviour}, relative error {probe.error:.3e}")
            lines.append(f"    analytic   {probe.analytic: .12g}")
            lines.append(f"    numerical  {probe.numerical: .12g}   (step {probe.step:.3g})")
            if probe.lower != probe.upper:
                lines.append(f"    allowed    [{probe.lower: .12g}, {probe.upper: .12g}] +- {probe.uncertainty:.2g}")
            else:
                lines.append(f"    allowed     {probe.lower: .12g} +- {probe.uncertainty:.2g}")
            if probe.note:
                lines.append(f"    {probe.note}")
        lines.append(
            f"  {counts.checked} probes: {counts.passed} passed, {counts.failed} failed, {counts.inconclusive} "
            f"inconclusive; {counts.kinks} met a kink, {counts.curvature_jumps} a curvature jump, "
            f"{counts.widened} widened by nearby points; {self.evaluations} evaluations of f"
        )
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        """The report as a small Markdown table, which Jupyter shows for a report at the end of a cell: the verdict
        and its reason, the mode and dtypes, the largest error against the tolerance, the worst probe, the counts."""
        counts = self.counts
        comparison = "<=" if self.max_rel_error <= self.tolerance else ">"
        rows = [
            ("verdict", "**passed**" if self.ok else ("**INCONCLUSIVE**" if self.inconclusive else "**FAILED**")),
            ("reason", self.reason),
            ("mode", f"{self.mode}: {self.gradient_dtype} gradient vs {self.reference_dtype} reference "
                     f"({self.reference})"),
            ("max relative error", f"{self.max_rel_error:.3e} {comparison} tolerance {self.tolerance:.1e}"),
            ("worst probe", f"`{self.worst.label}`: analytic {self.analytic:.12g}, numerical {self.numerical:.12g}"),
            ("probes", f"{counts.checked}: {counts.passed} passed, {counts.failed} failed, {counts.inconclusive} "
                       f"inconclusive; " + (f"a kink met along {counts.kinks}" if counts.kinks else "no kink met")),
        ]
        return "\n".join(["| gradient check | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)])


def check_gradient(
    f: Callable,
    grad,
    x,
    mode: str | None = None,
    *,
    samples: int | None = None,
    tolerance: float | None = None,
    step: float | None = None,
    convex: bool = False,
    subgradient_directions: int = 8,
    nearby_points: int = DEFAULT_NEARBY_POINTS,
    reference: str = "centered",
    analytic: bool = False,
    seed: int | None = None,
    max_evaluations: int = DEFAULT_MAX_EVALUATIONS,
    progress: bool | None = None,
) -> GradientReport:
    """Check a claimed gradient of ``f`` at ``x`` against finite differences, kinks included.

    CS231n's order ``(f, x, grad)`` is read as such when ``grad`` is the callable; with two arrays of one shape
    a check that fails but passes with them swapped raises a ValueError showing symgrad's order.

    Args:
        f: function of an array shaped like x (S) returning one real number (not a ``(loss, grad)`` pair).
            It is called on a float64 working copy, changed in place between calls; it must not keep or
            modify its argument.
        grad: function x (S) -> claimed gradient (S), or that gradient as an array (S).
        x: the point (S), real and finite. Never modified.
        mode: ``"full"`` (every coordinate), ``"sparse"`` (``samples`` random coordinates, default 10),
            ``"directional"`` (the claimed gradient's own direction plus ``samples`` random signed unit
            directions, default 4), or None: full when about 3 evaluations per coordinate fit in
            ``max_evaluations``, else directional and sparse together.
        tolerance: relative-error threshold; default :data:`TOLERANCES` of the coarser of the gradient's dtype
            and the precision f is measured to compute in.
        step: base finite-difference step h; default fitted to f's measured noise E and the gradient's magnitude
            G, (E s^2 / G)^(1/3) at scale s = max(1, |x_i|).
        convex: f is convex: once a kink is met, also test f(y) >= f(x) + g^T (y - x) at random y.
        subgradient_directions: random signed directions added when a kink is met.
        nearby_points: base points near x sampled before a claim outside its interval fails.
        reference: ``"centered"`` or ``"complex_step"`` (Im f(x + i h d) / h, exact to rounding, needs
            ``analytic=True``).
        analytic: you assert that f extends analytically to complex x: no abs, maximum, heaviside, sign or
            comparisons, through which complex step silently returns wrong derivatives.
        seed: seed for the random coordinates and directions; default a fresh one, recorded in the report.
        max_evaluations: budget of f evaluations deciding the default mode.
        progress: show a tqdm bar (if installed): None for checks expected to take over
            :data:`PROGRESS_AFTER_SECONDS`, and then only on a terminal.

    Returns:
        a :class:`GradientReport`; ``str(report)`` renders it for a terminal.

    Raises:
        ValueError: bad mode, reference, samples, tolerance or step; x empty or not finite; grad(x) not
            shaped like x; complex step without ``analytic=True``; arguments in CS231n's order.
        TypeError: f or grad not callable / not an array, x or grad(x) not real, f returns a
            ``(loss, grad)`` pair.
    """
    f, grad, x, order_note = _argument_order(f, grad, x)
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES} or None, got {mode!r}")
    _check_reference(reference, analytic)
    options = _Options(
        tolerance=tolerance, step=step, samples=None if samples is None else count(samples, "samples"),
        subgradient_directions=count(subgradient_directions, "subgradient_directions"),
        nearby_points=count(nearby_points, "nearby_points"), convex=convex, reference=reference,
        max_evaluations=count(max_evaluations, "max_evaluations"), progress=progress,
    )
    report = _check_gradient(f, grad, x, mode, options, seed, order_note)
    if not report.ok and not report.inconclusive and not callable(grad):
        _refuse_if_swapped(f, grad, x, report, options)
    return report


def _check_gradient(f, grad, x, mode, options: _Options, seed, order_note: str) -> GradientReport:
    """:func:`check_gradient` once the arguments are read and the options validated."""
    samples = options.samples
    check = _Check.start(f, grad, x, seed, options)
    if check.failure is not None:
        return check.failure
    if mode is None:
        full_cost = 3 * check.size + check.evaluations
        if full_cost <= options.max_evaluations:
            mode, why = "full", f"3 x {check.size} coordinates ~ {full_cost} evaluations <= max_evaluations"
        else:
            mode, why = "directional+sparse", (
                f"full mode would take ~{full_cost} evaluations > max_evaluations={options.max_evaluations}"
            )
    else:
        why = "as asked"
    check.mode, check.mode_reason = mode, why + order_note
    if "directional" in mode:
        check.run_directions(check.claimed_direction_specs((1,)) + check.random_direction_specs(
            4 if samples is None else options.samples))
    if mode == "full":
        check.run_coordinates(np.arange(check.size))
    elif "sparse" in mode:
        count = min(10 if samples is None else options.samples, check.size)
        check.run_coordinates(np.sort(check.rng.choice(check.size, size=count, replace=False)))
    if check.kinks_met():
        signs = (-1,) if "directional" in mode else (1, -1)
        specs = check.claimed_direction_specs(signs) + check.random_direction_specs(options.subgradient_directions)
        check.run_directions(specs)
        if options.convex:
            check.run_inequalities(specs)
    check.confirm_failures()
    if check.kinks_met():
        check.run_hull_probe()
    return check.report()


def assert_gradient(f: Callable, grad, x, mode: str | None = None, **options) -> GradientReport:
    """:func:`check_gradient`, raising ``AssertionError(str(report))`` unless the check passed; else the report."""
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
    nearby_points: int = DEFAULT_NEARBY_POINTS,
    seed: int | None = None,
    progress: bool | None = None,
) -> GradientReport:
    """Check that ``g`` is a generalized (Clarke) gradient of ``f`` at ``x``, which may be a kink.

    Along every coordinate (if ``coordinates``), along +-g and along ``directions`` random signed unit
    directions d, g^T d must lie in what f allows along d: between the one-sided derivatives
    -f'(x; -d) and f'(x; d), widened by nearby base points towards [-f°(x; -d), f°(x; d)]. For convex f that
    is the subdifferential; with ``convex``, also f(y) >= f(x) + g^T (y - x) at y = x + t d for the same
    directions (t from 1e-3 to 1 times max(1, |x|)).

    Args:
        f: function of an array shaped like x (S) returning one real number.
        g: the claimed subgradient (S), or a function x -> (S).
        x: the point (S), real and finite.
        convex, directions, coordinates, tolerance, step, nearby_points, seed, progress: as described above
            and in :func:`check_gradient`.

    Returns:
        a :class:`GradientReport` with mode ``"subgradient"``.
    """
    options = _Options(
        tolerance=tolerance, step=step, samples=None, subgradient_directions=count(directions, "directions"),
        nearby_points=count(nearby_points, "nearby_points"), convex=convex, reference="centered",
        max_evaluations=DEFAULT_MAX_EVALUATIONS, progress=progress,
    )
    check = _Check.start(f, g, x, seed, options)
    if check.failure is not None:
        return check.failure
    check.mode = "subgradient"
    check.mode_reason = ("coordinates, " if coordinates else "") + "+-g and random directions"
    if coordinates:
        check.run_coordinates(np.arange(check.size))
    specs = check.claimed_direction_specs((1, -1)) + check.random_direction_specs(options.subgradient_directions)
    check.run_directions(specs)
    if convex:
        check.run_inequalities(specs)
    check.confirm_failures()
    if coordinates and check.kinks_met():
        check.run_hull_probe()
    return check.report()


# ------------------------------------------------------------------------------------------------ input handling


class _Options(NamedTuple):
    tolerance: float | None
    step: float | None
    samples: int | None
    subgradient_directions: int
    nearby_points: int
    convex: bool
    reference: str
    max_evaluations: int
    progress: bool | None


def _argument_order(f, grad, x):
    """(f, grad, x, note): CS231n's ``(f, x, grad_function)`` is unambiguous -- a point is never callable."""
    if callable(x) and not callable(grad):
        return f, x, grad, "; arguments read in CS231n's order (f, x, grad)"
    return f, grad, x, ""


def _refuse_if_swapped(f, grad, x, report: GradientReport, options: _Options) -> None:
    """Raise when a failed check of two same-shaped arrays passes with them swapped: CS231n's order."""
    point, claimed = np.asarray(x), np.asarray(grad)
    if point.shape != claimed.shape or not np.all(np.isfinite(claimed)) or not np.all(np.isfinite(point)):
        return
    if any(np.array_equal(array, np.round(array)) for array in (point, claimed)):
        return  # integer-valued: f's gradient at one may equal the other by coincidence (flat regions, integer nets)
    if report.counts.failed < report.counts.checked / 2:
        return  # swapped arguments fail nearly every probe
    mode = "full" if point.size <= 256 else "directional"
    try:
        quick = options._replace(samples=8, nearby_points=8, convex=False, reference="centered", progress=False)
        swapped = _check_gradient(f, point, claimed, mode, quick, report.seed, "")
    except (TypeError, ValueError):
        return
    if swapped.ok:
        raise ValueError(
            "grad, x: the check fails with these two arrays but passes with them swapped: they look passed in "
            "CS231n's order grad_check_sparse(f, x, analytic_grad); symgrad's is check_gradient(f, grad, x) -- "
            "call check_gradient(f, grad=analytic_grad, x=x)"
        )


def _check_reference(reference, analytic) -> None:
    if reference not in REFERENCES:
        raise ValueError(f"reference: expected one of {REFERENCES}, got {reference!r}")
    if reference == "complex_step":
        refuse_unless_analytic(analytic)


def validated_inputs(f, grad, x, seed):
    """(x as a floating copy (S), claimed gradient (S), rng, seed) after the checks every verb shares."""
    if not callable(f):
        raise TypeError(f"f: expected a callable returning a number, got {type(f).__name__}")
    seed = int(np.random.SeedSequence().entropy % 2**32) if seed is None else count(seed, "seed", minimum=0)
    point = floating_copy(x)
    if point.size == 0:
        raise ValueError(f"x: empty array of shape {point.shape}; nothing to check")
    check_finite_point(point)
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
    return point, claimed, np.random.default_rng(seed), seed


def _coordinate_label(index) -> str:
    return f"x[{', '.join(map(str, index))}]" if index else "x"


def _power_of_two(value: float) -> float:
    return 2.0 ** round(math.log2(value))


class _NotFinite(Exception):
    """f returned a NaN or an infinity."""


# --------------------------------------------------------------------------------------------- noise of f


class Noise(NamedTuple):
    """f's rounding near x, measured, and the precision f's values come in.

    Attributes:
        absolute: E, a bound (4 standard deviations) on the rounding error of one value of f.
        relative: the standard deviation over max |f| on the measuring line.
        precision: the float dtype of f's values: the dtype f returns, or float32 (float16) when every value
            measured, at points off any binary grid, is exactly representable in it.
    """

    absolute: float
    relative: float
    precision: np.dtype


#: Values of f on the line x + k s v, k = -(NOISE_POINTS // 2) .. NOISE_POINTS // 2, that measure its noise.
NOISE_POINTS = 17
#: |v| of that line: (sqrt(5) - 1) / 2, so that x + k s v lies off the binary grid of x even in one dimension.
OFF_GRID = (math.sqrt(5) - 1) / 2


def _rounding_sigma(values):
    """sigma = MAD(third differences along axis 0) * 1.4826 / sqrt(20) of values taken at evenly spaced points
    (see :func:`measure_noise`); one per column of a 2-D ``values``."""
    third = np.diff(values, 3, axis=0)
    return 1.4826 * np.median(np.abs(third - np.median(third, axis=0)), axis=0) / math.sqrt(20)


def measure_noise(values, output_dtype=np.float64) -> Noise:
    """f's rounding noise from values f(x + k s v), k = -8..8, at a step s too small for curvature to show.

    Third differences cancel f up to its quadratic part; what remains is rounding, whose standard deviation
    is sigma = MAD(third differences) * 1.4826 / sqrt(20) (a third difference sums 4 values with weights
    1, 3, 3, 1). The median ignores the three third differences each kink on the line spoils. sigma is at least
    half a unit in the last place of f's values. The noise sets the step and the uncertainty, never the
    tolerance: a kink misread as noise can make a check inconclusive, not lenient.
    """
    values = np.asarray(values, dtype=np.float64)
    sigma = float(_rounding_sigma(values))
    magnitude = float(np.max(np.abs(values)))
    precision = np.dtype(output_dtype)
    if precision == np.float64 and len(np.unique(values)) >= 3:
        for candidate in (np.dtype(np.float16), np.dtype(np.float32)):
            with np.errstate(over="ignore"):
                representable = np.array_equal(values.astype(candidate).astype(np.float64), values)
            if representable:
                precision = candidate
                break
    sigma = max(sigma, 0.5 * float(np.finfo(precision).eps) * magnitude)  # at least the final rounding, ulp / 2
    relative = sigma / magnitude if magnitude > 0 else 0.0
    return Noise(max(4 * sigma, float(np.finfo(np.float64).tiny)), relative, precision)


# ---------------------------------------------------------------------------------------------- the check


@dataclass
class _Outcome:
    """A probe's result before the report: the interval, its uncertainty and what f did along d."""

    label: str
    index: tuple[int, ...] | int
    claim: float
    numerical: float
    lower: float
    upper: float
    uncertainty: float
    step: float
    behaviour: str
    note: str = ""
    settled: str | None = None  # a verdict fixed before the gradient's magnitude is known (failures)
    widened: bool = False
    line: _Line | None = None  # outside its interval at x: to be widened with nearby points, or failed

    def magnitude(self) -> float:
        values = [abs(v) for v in (self.claim, self.lower, self.upper) if math.isfinite(v)]
        return max(values) if values else math.inf

    def distance(self) -> float:
        if not math.isfinite(self.claim) or math.isnan(self.lower) or math.isnan(self.upper):
            return math.inf
        return max(self.lower - self.claim, self.claim - self.upper, 0.0)


def _verdicts(distance, magnitude, uncertainty, tolerance: float, scale: float) -> np.ndarray:
    """The verdicts on claims at ``distance`` from the interval f allows, with uncertainty U; elementwise.

    FAILED: outside by more than tolerance x magnitude + U. PASSED: U resolves the tolerance relative to the
    larger of the probe's magnitude and ``scale`` (the gradient's), and the claim is within tolerance x
    magnitude or within U (or the probe is negligible, below tolerance x scale) -- or everything is exactly 0
    (f flat to the last bit along every probe, and the claim 0). WITHIN: past both but within their sum: a
    finer estimate may settle it (a pass once the ladder is exhausted). INCONCLUSIVE: U too large to tell.
    """
    distance, magnitude, uncertainty = np.broadcast_arrays(distance, magnitude, uncertainty)
    return np.select(
        [distance > tolerance * magnitude + uncertainty,
         (magnitude == 0) & (scale == 0),
         uncertainty > tolerance * np.maximum(magnitude, scale),
         (distance <= np.maximum(tolerance * magnitude, uncertainty)) | (magnitude <= tolerance * scale)],
        [FAILED, PASSED, INCONCLUSIVE, PASSED], WITHIN)


def _decide(distance: float, magnitude: float, uncertainty: float, tolerance: float, scale: float) -> str:
    """:func:`_verdicts` of one claim."""
    return str(_verdicts(distance, magnitude, uncertainty, tolerance, scale))


class _Check:
    """Everything fixed for one check: f, the working copy of x, the claim, f's noise, the options, the tally."""

    @classmethod
    def start(cls, f, grad, x, seed, options: _Options) -> _Check:
        point, claimed, rng, seed = validated_inputs(f, grad, x, seed)
        check = cls(f, point, claimed, rng, seed, options)
        if callable(grad):
            check.gradient_function = grad
        return check

    def __init__(self, f, point, claimed, rng, seed, options: _Options):
        self.f, self.options, self.rng, self.seed = f, options, rng, seed
        self.gradient_function: Callable | None = None  # grad, when given as a function (see claim_noise_along)
        self.point_dtype = point.dtype
        self._claim_noise: np.ndarray | None = None
        self.shape, self.size = point.shape, point.size
        self.gradient_dtype = claimed.dtype
        self.claim = claimed.astype(np.float64).reshape(-1)
        self.work = np.ascontiguousarray(point, dtype=np.float64).copy()
        self.flat = self.work.reshape(-1)
        self.scratch = np.empty(self.size)
        self.base = np.empty(self.size)
        self.evaluations = 0
        self.outcomes: list[_Outcome] = []
        self.bulk = None  # coordinates settled in one vectorized pass (see run_coordinates)
        self.directions_numbered = 0
        self.seconds_per_evaluation = 0.0
        self.precision = np.dtype(np.float64)
        self._noise_magnitude = self._noise_secant = 0.0
        self._fine_noise_ratio: float | None = None
        self.mode = self.mode_reason = ""
        self.certified = ""  # where the claim was measured to be f's gradient next to x, if it was
        self.failure: GradientReport | None = None
        self.convert = as_scalar
        self._start_clock = time.perf_counter()
        if options.step is not None:
            positive_number(options.step, "step")
        if options.tolerance is not None:
            positive_number(options.tolerance, "tolerance")
        bad = ~np.isfinite(self.claim)
        if bad.any():
            index = np.unravel_index(int(np.argmax(bad)), self.shape)
            self.fail_before_probing(
                f"grad{_coordinate_label(index)[1:]} = {self.claim[np.argmax(bad)]}: the claimed gradient is not "
                f"finite ({int(bad.sum())} entries)", _coordinate_label(index), tuple(int(i) for i in index),
                float(self.claim[np.argmax(bad)]))
            return
        raw = f(self.work)
        self.evaluations += 1
        self.f0 = as_scalar(raw)
        output_dtype = np.asarray(raw).dtype if isinstance(raw, (np.ndarray, np.generic)) else np.dtype(np.float64)
        if not (np.issubdtype(output_dtype, np.floating) and output_dtype.itemsize <= 8):
            output_dtype = np.dtype(np.float64)
        if isinstance(raw, (float, np.floating)) or (isinstance(raw, np.ndarray) and raw.ndim == 0):
            self.convert = float
        if not math.isfinite(self.f0):
            self.fail_before_probing(f"f(x) = {self.f0}: f is not finite at x", "f(x)", (), self.f0)
            return
        self.seconds_per_evaluation = time.perf_counter() - self._start_clock
        try:
            self.noise = self._measure_noise(output_dtype)
        except _NotFinite as error:
            self.fail_before_probing(str(error), "f near x", (), math.nan)
            return
        self.precision = self.noise.precision
        if self.precision != np.float64:
            rounded = self.flat.astype(self.precision).astype(np.float64)
            if not np.array_equal(rounded, self.flat):
                self.flat[:] = rounded
                self.f0 = self.value(self.work)
        self.point_in_precision = self.work.copy()
        self.tolerance = options.tolerance if options.tolerance is not None else max(
            tolerance_for(self.gradient_dtype), tolerance_for(self.precision))
        largest = float(np.max(np.abs(self.claim)))
        unit = self.claim / largest if largest > 0 else self.claim
        self.claimed_unit = unit / np.linalg.norm(unit) if largest > 0 else None
        # The gradient's magnitude, against which U is judged: the claim's largest entry, or what the probes
        # measure if larger. A claim below tolerance x f's own derivative scale near x -- max |f| / max(1, |x|), or
        # the largest secant on the noise line -- is judged against that scale: a slope 0, or one that f's values
        # cannot show (a subnormal slope, a gradient of 1e-15 at a point where f curves), passes where f is flat
        # to within its rounding, as a relative error of the gradient as a whole.
        own_scale = max(max(abs(self.f0), self._noise_magnitude) / max(1.0, float(np.max(np.abs(self.flat)))),
                        self._noise_secant)
        self.scale = largest if largest > self.tolerance * own_scale else own_scale

    # -- evaluating f

    def value(self, array) -> float:
        """f(array) as a float; raises _NotFinite."""
        self.evaluations += 1
        result = self.convert(self.f(array))
        if not math.isfinite(result):
            raise _NotFinite(result)
        return result

    def round(self, value: float) -> float:
        """``value`` rounded to the precision f computes in (so that offsets are the ones f sees)."""
        return float(np.asarray(value, dtype=self.precision)) if self.precision != np.float64 else value

    def along(self, direction, t: float, base: np.ndarray | None = None) -> tuple[float, float]:
        """(f(y + t d), the offset actually taken) with y = x (in place) or ``base`` (S flat); d a flat index or
        a flat unit vector."""
        if isinstance(direction, (int, np.integer)) and base is None:
            original = self.flat[direction]
            target = self.round(float(original) + t)
            self.flat[direction] = target
            try:
                return self.value(self.work), target - float(original)
            finally:
                self.flat[direction] = original
        if base is None:
            base = self.flat
        scratch = self.scratch
        if isinstance(direction, (int, np.integer)):
            scratch[:] = base
            scratch[direction] = self.round(float(base[direction]) + t)
            offset = float(scratch[direction]) - float(base[direction])
        else:
            np.multiply(direction, t, out=scratch)
            scratch += base
            if self.precision != np.float64:
                scratch[:] = scratch.astype(self.precision)
            offset = t
        return self.value(scratch.reshape(self.shape)), offset

    def _measure_noise(self, output_dtype) -> Noise:
        """f's noise on a line through x at a step that suits float64; where f's values turn out to come in a
        coarser precision, measured again at a step that suits it (at float64's, inputs rounded to float32 barely
        move and successive values are too alike to show their noise), keeping the larger."""
        direction = self._noise_direction()
        noise = self._noise_on_line(direction, np.float64, output_dtype)
        if noise.precision != np.float64:
            coarse = self._noise_on_line(direction, noise.precision, output_dtype)
            noise = max(noise, coarse._replace(precision=noise.precision), key=lambda n: n.absolute)
        return noise

    def _noise_direction(self) -> np.ndarray:
        direction = np.random.default_rng([self.seed, 1]).standard_normal(self.size)
        return direction * (OFF_GRID / np.linalg.norm(direction))  # off every binary grid, even in one dimension

    def rounding_at(self, magnitude) -> float:
        """:meth:`noise_at`, or less where f's relative noise, measured again at a 256-fold smaller spacing, is less.

        Kinks denser than the measuring spacing (a mean of 10^5 hinges) read as noise there; below them only
        rounding remains. Rounding measured twice agrees to within a small factor (the estimate from 14 third
        differences scatters by about a third), so only a drop beyond :data:`ROUGH_NOISE_DROP` counts. Used where a
        smaller bound can only make a check more cautious (see _Line.unless_rough). Measured once, on the first
        call (17 evaluations of f)."""
        if self._fine_noise_ratio is None:
            try:
                fine = self._noise_on_line(self._noise_direction(), self.precision, np.dtype(self.precision),
                                           shrink=1 / 256)
                ratio = fine.relative / self.noise.relative if self.noise.relative > 0 else 1.0
            except _NotFinite:
                ratio = 1.0
            self._fine_noise_ratio = ratio if ratio < 1 / ROUGH_NOISE_DROP else 1.0
        return float(self.noise_at(magnitude)) * self._fine_noise_ratio

    def _noise_on_line(self, direction, precision, output_dtype, shrink: float = 1.0) -> Noise:
        spacing = default_step(float(np.max(np.abs(self.flat))), precision) * shrink
        values = []
        for k in range(-(NOISE_POINTS // 2), NOISE_POINTS // 2 + 1):
            if k == 0:
                values.append(self.f0)
                continue
            try:
                values.append(self.along(direction, k * spacing)[0])
            except _NotFinite as error:
                raise _NotFinite(f"f(x + {k * spacing:.3g} v) = {error} (measuring f's noise): f is not finite "
                                 f"near x") from None
        self._noise_magnitude = max(self._noise_magnitude, float(np.max(np.abs(values))))
        offsets = np.abs(np.arange(-(NOISE_POINTS // 2), NOISE_POINTS // 2 + 1)) * spacing * OFF_GRID
        secants = np.abs(np.array(values) - self.f0)[offsets > 0] / offsets[offsets > 0]
        self._noise_secant = max(self._noise_secant, float(np.max(secants)))
        return measure_noise(values, output_dtype)

    def step_for(self, direction) -> float:
        """Base step h along a unit direction, fitted to f's noise at x's largest scale (see coordinate_steps)."""
        if self.options.step is not None:
            return float(self.options.step)
        return float(self._steps(np.array([max(1.0, float(np.max(np.abs(self.flat))))]))[0])

    def coordinate_steps(self, indices: np.ndarray) -> np.ndarray:
        """Base step h_i along each coordinate, fitted to f's noise at the coordinate's scale."""
        if self.options.step is not None:
            return np.full(len(indices), float(self.options.step))
        return self._steps(np.maximum(1.0, np.abs(self.flat[indices])))

    def _steps(self, scales: np.ndarray) -> np.ndarray:
        """h = (E s^2 / G)^(1/3) at scale s = max(1, |x_i|), a power of two, with s eps^(1/3) <= h <= s / 16.

        It balances the truncation of the first pass, h^2 |f_3| with a third derivative f_3 ~ G / s^2 (G the
        gradient's magnitude), against its rounding E / h (E f's measured noise): the step fits the precision f
        computes in, whatever the dtype of x. (Where |f| ~ G s this is the textbook (E / |f|)^(1/3) s.)
        """
        relative_noise = self.noise.absolute / (self.scale * scales) if self.scale > 0 else 0.0
        relative = np.clip(relative_noise, float(np.finfo(np.float64).eps), 2.0**-12) ** (1 / 3)
        return 2.0 ** np.round(np.log2(relative * scales))

    # -- probes

    def claimed_direction_specs(self, signs):
        """(label, number, make_direction) for +-g / |g|; none when g is 0."""
        if self.claimed_unit is None:
            return []
        return [(f"direction {number} ({'+' if sign > 0 else '-'}claimed gradient)", number,
                 lambda sign=sign: sign * self.claimed_unit) for sign, number in zip(signs, self._numbers(len(signs)), strict=False)]

    def random_direction_specs(self, count):
        """(label, number, make_direction) for ``count`` random signed unit directions."""
        return [(f"direction {number} (random)", number, lambda number=number: random_direction(
            self.size, self.seed, number)) for number in self._numbers(count)]

    def _numbers(self, count):
        first = self.directions_numbered
        self.directions_numbered += count
        return range(first, first + count)

    def run_directions(self, specs) -> None:
        """Probe each (label, number, make_direction) in turn."""
        with self._progress(len(specs), len(specs) * 4) as bar:
            for label, number, make in specs:
                direction = make()
                self.outcomes.append(self._probe(label, number, direction, self.step_for(direction)))
                bar.update(1)

    def run_coordinates(self, indices: np.ndarray) -> None:
        """Probe coordinates: a first pass of 3 evaluations each (f at x + h e_i, x - h e_i, x + 2h e_i) in place,
        judged all at once; the ones it cannot settle are followed up one by one."""
        if self.options.reference == "complex_step":
            for index in indices.tolist():
                coordinate = tuple(int(i) for i in np.unravel_index(index, self.shape))
                self.outcomes.append(self._complex_probe(_coordinate_label(coordinate), coordinate, index))
            return
        steps = self.coordinate_steps(indices)
        values, offsets, bad = self._first_pass(indices, steps)
        first = _first_estimate(self.f0, offsets, values, self.noise_at(np.max(np.abs(values), axis=1)))
        claims = self.claim[indices]
        estimate, uncertainty, secant = first
        uncertainty = uncertainty + self.claim_rounding(1.0)
        magnitude = np.maximum(np.abs(claims), np.abs(estimate))
        magnitude[bad] = 0.0
        self.scale = max(self.scale, float(np.max(np.where(bad, 0.0, np.maximum(magnitude, secant)), initial=0.0)))
        distance = np.abs(claims - estimate)
        tolerance = self.tolerance
        passed = (_verdicts(distance, magnitude, uncertainty, tolerance, self.scale) == PASSED) & ~bad
        self.bulk = _Bulk(indices[passed], claims[passed], estimate[passed], uncertainty[passed], steps[passed])
        pending = []
        # Most clearly outside first: the one failure confirmed with nearby points is then the worst one.
        with np.errstate(over="ignore", invalid="ignore"):
            excess = (distance - tolerance * magnitude - uncertainty) / np.maximum(magnitude, np.finfo(float).tiny)
        for position in sorted(np.flatnonzero(~passed), key=lambda position: -excess[position]):
            index = int(indices[position])
            label = _coordinate_label(np.unravel_index(index, self.shape))
            if bad[position]:
                k = int(np.argmax(~np.isfinite(values[position])))
                t = offsets[position, k]
                self.outcomes.append(_Outcome(
                    label, tuple(int(i) for i in np.unravel_index(index, self.shape)), float(claims[position]),
                    math.nan, math.nan, math.nan, math.inf, float(steps[position]), NOT_FINITE,
                    note=f"f(x + {t:.3g} e_{index}) = {values[position, k]}: f is not finite there", settled=FAILED))
                continue
            line = _Line(self, index, float(steps[position]))
            line.preload(offsets[position], values[position])
            pending.append((label, index, line))
        with self._progress(len(pending), 6 * len(pending)) as bar:
            for label, index, line in pending:
                self.outcomes.append(self._follow_up(label, tuple(int(i) for i in np.unravel_index(index, self.shape)),
                                                     line))
                bar.update(1)

    def _first_pass(self, indices, steps):
        """f at x + h e_i, x - h e_i, x + 2h e_i for each coordinate, in place on the working copy."""
        flat, work, f, convert = self.flat, self.work, self.f, self.convert
        originals = flat[indices]
        targets = [originals + steps, originals - steps, originals + 2 * steps]
        if self.precision != np.float64:
            targets = [t.astype(self.precision).astype(np.float64) for t in targets]
        offsets = np.stack([t - originals for t in targets], axis=1)
        plus, minus, plus2 = (t.tolist() for t in targets)
        results = []
        append = results.append
        chunk = 512
        with self._progress(len(indices), 3 * len(indices)) as bar:
            for start in range(0, len(indices), chunk):
                for i, a, b, c, original in zip(indices[start:start + chunk].tolist(), plus[start:start + chunk],
                                                minus[start:start + chunk], plus2[start:start + chunk],
                                                originals[start:start + chunk].tolist(), strict=False):
                    flat[i] = a
                    append(convert(f(work)))
                    flat[i] = b
                    append(convert(f(work)))
                    flat[i] = c
                    append(convert(f(work)))
                    flat[i] = original
                bar.update(min(chunk, len(indices) - start))
        self.evaluations += 3 * len(indices)
        values = np.array(results, dtype=np.float64).reshape(len(indices), 3)
        return values, offsets, ~np.all(np.isfinite(values), axis=1)

    def _probe(self, label, number, direction, step) -> _Outcome:
        if self.options.reference == "complex_step":
            return self._complex_probe(label, number, direction)
        line = _Line(self, direction, step)
        try:
            line.point(1, 0), line.point(-1, 0), line.point(1, 1)
        except _NotFinite as error:
            return self._not_finite(label, number, line, error)
        self.scale = max(self.scale, line.first_magnitude(self.claim_along(direction)))
        return self._follow_up(label, number, line)

    def _complex_probe(self, label, index, direction) -> _Outcome:
        """Im f(x + i tau d) / tau: exact to rounding for analytic f, so U is rounding alone (32 units in the last
        place of the derivative, the underflow of tau, and the claim's own rounding). tau is COMPLEX_STEP, or
        larger where derivatives as small as the gradient's scale would underflow: its truncation is O(tau^2),
        negligible up to 2^-27 max(1, |x|)."""
        dense = direction if not isinstance(direction, (int, np.integer)) else np.eye(1, self.size, direction)[0]
        underflow = 32 * float(np.finfo(np.float64).tiny)
        largest = 2.0**-27 * max(1.0, float(np.max(np.abs(self.flat))))
        needed = 16 * underflow / (self.tolerance * self.scale) if self.scale > 0 else 0.0
        tau = min(max(COMPLEX_STEP, needed), largest)
        numerical = complex_step_derivative(self.f, self.work, dense.reshape(self.shape), tau)
        self.evaluations += 1
        claim = self.claim_along(direction)
        uncertainty = 32 * float(np.finfo(np.float64).eps) * abs(numerical) + underflow / tau + self.claim_rounding(
            float(np.sum(np.abs(dense))))
        self.scale = max(self.scale, abs(claim), abs(numerical))
        return _Outcome(label, index, claim, numerical, numerical, numerical, uncertainty, tau, COMPLEX)

    def noise_at(self, magnitude):
        """Rounding bound of a value of f of this magnitude: E, grown in proportion where |f| exceeds what the
        noise was measured at (rounding is relative); elementwise on arrays."""
        if self._noise_magnitude == 0:
            return self.noise.absolute + 0 * np.asarray(magnitude)
        return self.noise.absolute * np.maximum(1.0, np.maximum(magnitude, abs(self.f0)) / self._noise_magnitude)

    def claim_rounding(self, absolute_sum: float) -> float:
        """Rounding of the claim g^T d for a direction with sum |d_i| = ``absolute_sum``: 8 units in the last
        place of g's largest entry (in g's dtype) per unit of that sum -- a float32 gradient computed in float32
        carries errors of that size, which matter where g^T d nearly cancels."""
        return 8 * float(np.finfo(self.gradient_dtype).eps) * float(np.max(np.abs(self.claim))) * absolute_sum

    def claim_noise_along(self, direction) -> float:
        """The claimed gradient's own rounding along d, sum |d_i| E_i, where grad is a function and x is not float64.

        E_i is what grad's entry i moves by when x is given in float64 (grad then computes the same formula in
        float64, as NumPy code does by promotion), plus 4 sigma of its jitter across 17 points x + k s v in x's
        dtype (third differences, as for f's noise). A float32 gradient that cancels (a softmax's p - 1 at a
        confident prediction) carries errors of its terms' size, not of its own. Only a failing probe asks (18
        calls of grad, once); 0 where grad fails off x or keeps computing in x's dtype."""
        if self._claim_noise is None:
            self._claim_noise = np.zeros(self.size)
            if self.point_dtype == np.float64:
                return 0.0
            spacing = default_step(float(np.max(np.abs(self.flat))), self.gradient_dtype)
            line = self._noise_direction()
            points = [self.flat + k * spacing * line for k in range(-(NOISE_POINTS // 2), NOISE_POINTS // 2 + 1)]
            try:
                with np.errstate(all="ignore"):
                    values = np.array([np.asarray(self.gradient_function(
                        point.astype(self.point_dtype).reshape(self.shape)), dtype=np.float64).reshape(-1)
                        for point in points])
                    in_float64 = np.asarray(self.gradient_function(self.work.copy()), dtype=np.float64).reshape(-1)
            except Exception:  # noqa: BLE001 - grad is the user's: off x it may refuse; the check goes on without
                return 0.0
            if values.shape == (NOISE_POINTS, self.size) and in_float64.shape == (self.size,) and np.all(
                    np.isfinite(values)) and np.all(np.isfinite(in_float64)):
                self._claim_noise = np.abs(in_float64 - self.claim) + 4 * _rounding_sigma(values)
        if isinstance(direction, (int, np.integer)):
            return float(self._claim_noise[direction])
        return float(np.abs(direction) @ self._claim_noise)

    def claim_along(self, direction) -> float:
        if isinstance(direction, (int, np.integer)):
            return float(self.claim[direction])
        return float(np.dot(self.claim, direction))

    def _not_finite(self, label, index, line, error) -> _Outcome:
        return _Outcome(label, index, self.claim_along(line.direction), math.nan, math.nan, math.nan, math.inf,
                        line.step, NOT_FINITE, note=f"{error.args[0]}: f is not finite there", settled=FAILED)

    def _follow_up(self, label, index, line: _Line) -> _Outcome:
        """Climb the step ladder until the claim is settled, then widen towards the Clarke bracket if outside."""
        claim = self.claim_along(line.direction)
        try:
            estimate = line.settle(claim)
            if estimate.behaviour in (SMOOTH, KINK) and self._fails(claim, estimate):
                estimate = line.unless_rough(estimate)
        except _NotFinite as error:
            return self._not_finite(label, index, line, error)
        if self.gradient_function is not None and estimate.behaviour != JUMP_IN_F and self._fails(claim, estimate):
            estimate = estimate._replace(uncertainty=estimate.uncertainty + self.claim_noise_along(line.direction))
        outcome = _Outcome(label, index, claim, estimate.numerical, estimate.lower, estimate.upper,
                           estimate.uncertainty, estimate.step, estimate.behaviour)
        if estimate.behaviour == JUMP_IN_F:
            outcome.settled = FAILED
            outcome.note = "f(x + s d) - f(x) does not shrink with s: f is discontinuous at x, no gradient exists"
            return outcome
        if _decide(outcome.distance(), outcome.magnitude(), outcome.uncertainty, self.tolerance, self.scale) == FAILED:
            outcome.line = line  # widened or failed by confirm_failures, once every probe has said what f does
        return outcome

    def _fails(self, claim: float, estimate: _Estimate) -> bool:
        """Whether ``claim`` is outside the interval of ``estimate`` by more than tolerance and uncertainty."""
        distance = max(estimate.lower - claim, claim - estimate.upper, 0.0)
        magnitude = max(abs(claim), abs(estimate.lower), abs(estimate.upper))
        return _decide(distance, magnitude, estimate.uncertainty, self.tolerance, self.scale) == FAILED

    def confirm_failures(self) -> None:
        """Widen each claim still outside its interval with nearby points, most clearly outside first; fail it if
        they do not reach it. After one such failure the rest fail without sampling (the verdict is made).
        Whether f changes piece near x is known by then from every probe (a kink met, or an interval widened),
        so a probe whose own line looks smooth still gets the full search where f is not."""
        pending = [o for o in self.outcomes if o.line is not None and o.settled is None and not o.widened]
        excess = [(o.distance() - self.tolerance * o.magnitude() - o.uncertainty) / max(o.magnitude(), 1e-300)
                  for o in pending]
        for _, outcome in sorted(zip(excess, pending, strict=False), key=lambda pair: -pair[0]):
            line = outcome.line
            outcome.line = None
            if self.certified:
                _certified(outcome, self.certified)
                continue
            if any(o.settled == FAILED for o in self.outcomes):
                outcome.settled = FAILED
                outcome.note = "outside its interval at x; nearby points not sampled once a failure was confirmed"
                continue
            key = int(line.direction) if isinstance(line.direction, (int, np.integer)) else self.size + outcome.index
            try:
                _widen(self, line, outcome, key, evidence=self.kinks_met())
            except _NotFinite as error:
                outcome.behaviour, outcome.settled = NOT_FINITE, FAILED
                outcome.note = f"{error.args[0]} near x: f is not finite there"

    def run_inequalities(self, specs) -> None:
        """f(y) - f(x) >= g^T (y - x) at y = x + t d, t cycling through 1e-3, 1e-1 and 1 times max(1, |x|)."""
        radius = max(1.0, float(np.max(np.abs(self.flat))))
        for k, (label, number, make) in enumerate(specs):
            direction = make()
            t = radius * (1e-3, 1e-1, 1.0)[k % 3]
            try:
                f_at_y, _ = self.along(direction, t)
            except _NotFinite as error:
                self.outcomes.append(_Outcome(f"subgradient inequality along {label}", number, math.nan, math.nan,
                                              math.nan, math.nan, math.inf, t, NOT_FINITE,
                                              note=f"f(x + {t:.3g} d) = {error.args[0]}", settled=FAILED))
                continue
            displacement = self.scratch - self.flat
            claimed = float(np.dot(self.claim, displacement))
            increase = f_at_y - self.f0
            uncertainty = 2 * self.noise_at(abs(f_at_y)) + float(np.finfo(self.gradient_dtype).eps) * float(
                np.dot(np.abs(self.claim), np.abs(displacement)))
            outcome = _Outcome(f"subgradient inequality at y = x + {t:g} d, d = {label}", number, claimed, increase,
                               -math.inf, increase, uncertainty, t, INEQUALITY)
            if outcome.distance() > self.tolerance * abs(claimed) + uncertainty:
                outcome.settled = FAILED
            self.outcomes.append(outcome)

    def kinks_met(self) -> bool:
        """Whether a probe met a kink at x, or needed nearby points (f changes piece near x)."""
        return any(o.behaviour == KINK or o.widened for o in self.outcomes)

    def run_hull_probe(self) -> None:
        """Probe the direction that separates the claim from the hull of gradients at nearby points, if any.

        Projections can all hold a claim that lies outside the Clarke set (a polytope with many vertices at a
        point where several kinks meet). So, once every probe passed at a kink and x is small enough, gradients
        are estimated at random nearby base points, each kept only where forward and backward differences agree
        in every coordinate (the base point lies inside one piece: a difference that crosses a kink would mix
        pieces into a vector that is no gradient). p, the point of their convex hull nearest to g, gives
        d = (g - p) / |g - p|, probed like any other direction: only the probe decides. Its nearby points can
        still widen it -- the hull missed a piece -- and then :data:`HULL_POINTS` more gradients are sampled and
        the hull tried again, up to :data:`HULL_ROUNDS` times.
        """
        cost = HULL_ROUNDS * 2 * HULL_POINTS * (2 * self.size + 1)
        if self.certified or cost > self.options.max_evaluations or any(o.settled == FAILED for o in self.outcomes):
            return
        radius = 8 * self.step_for(None)
        rng = np.random.default_rng([self.seed, 3])
        gradients = []
        for _ in range(HULL_ROUNDS):
            try:
                gradients += self._nearby_gradients(rng, radius)
            except _NotFinite as error:
                self.outcomes.append(_Outcome(
                    "gradients near x", self._numbers(1)[0], math.nan, math.nan, math.nan, math.nan, math.inf, radius,
                    NOT_FINITE, note=f"f = {error.args[0]} within {radius:.2g} of x: f is not finite there",
                    settled=FAILED))
                return
            if not gradients:
                return
            gap = self.claim - _nearest_in_hull(np.array(gradients), self.claim)
            if np.linalg.norm(gap) <= self.tolerance * np.linalg.norm(self.claim):
                return
            away = gap / np.linalg.norm(gap)
            number = self._numbers(1)[0]
            self.run_directions([(f"direction {number} (away from the hull of nearby gradients)", number,
                                  lambda: away)])
            self.confirm_failures()
            if not self.outcomes[-1].widened:
                return

    def _nearby_gradients(self, rng, radius) -> list:
        """Gradients at up to HULL_POINTS random base points x + radius u inside a piece (out of 2 HULL_POINTS)."""
        step = radius / 64
        gradients = []
        with self._progress(HULL_POINTS, 2 * HULL_POINTS * (2 * self.size + 1)) as bar:
            for _ in range(2 * HULL_POINTS):
                if len(gradients) == HULL_POINTS:
                    break
                u = rng.standard_normal(self.size)
                base = _base_point(self, u / np.linalg.norm(u), 1, radius).copy()
                at_base = self.value(base.reshape(self.shape))
                forward, backward = np.empty(self.size), np.empty(self.size)
                for index in range(self.size):
                    above, up = self.along(index, step, base)
                    below, down = self.along(index, -step, base)
                    forward[index], backward[index] = (above - at_base) / up, (at_base - below) / -down
                rounding = 16 * float(self.noise_at(abs(at_base))) / step
                if np.all(np.abs(forward - backward) <= 1e-3 * self.scale + rounding):
                    gradients.append((forward + backward) / 2)
                bar.update(1)
        return gradients

    # -- progress and the report

    def _progress(self, total, evaluations):
        expected = evaluations * self.seconds_per_evaluation
        show = self.options.progress
        if show is None:
            show = expected > PROGRESS_AFTER_SECONDS
        if show and total > 1:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                pass
            else:
                return tqdm(total=total, desc=f"gradient check ({self.mode or 'probes'})", unit="probe",
                            disable=None, leave=False)
        return _NoBar()

    def fail_before_probing(self, reason, label, index, value) -> None:
        outcome = Probe(label, index, value, math.nan, math.nan, math.nan, math.inf, math.nan, NOT_FINITE, FAILED,
                        math.inf, math.inf, reason)
        self.failure = GradientReport(
            False, False, reason, "none", "nothing probed", self.options.reference,
            self.options.tolerance or tolerance_for(self.gradient_dtype), math.inf, math.nan, self.gradient_dtype,
            np.dtype(np.float64), (outcome,), ProbeCounts(1, 0, 1, 0, 0, 0, 0), math.inf, self.evaluations, self.seed)

    def report(self) -> GradientReport:
        if not np.array_equal(self.work, self.point_in_precision):
            raise ValueError("f: modified its argument; it must leave the array it is given unchanged")
        tolerance, scale = self.tolerance, self.scale
        ranked, counts, max_error, resolution = [], [0] * 7, 0.0, 0.0
        for outcome in self.outcomes:
            magnitude = outcome.magnitude()
            distance = outcome.distance()
            verdict = outcome.settled or _decide(distance, magnitude, outcome.uncertainty, tolerance, scale)
            verdict = PASSED if verdict == WITHIN else verdict
            error = float(_relative_error(distance, magnitude, outcome.uncertainty, tolerance))
            floor = max(magnitude, scale)
            probe_resolution = outcome.uncertainty / floor if floor > 0 else (0.0 if distance == 0 else math.inf)
            if outcome.behaviour == NOT_FINITE:
                error = probe_resolution = math.inf
            max_error = max(max_error, error)
            if verdict != FAILED:
                resolution = max(resolution, probe_resolution)
            counts[1 + ["passed", "FAILED", "inconclusive"].index(verdict)] += 1
            counts[4] += outcome.behaviour == KINK
            counts[5] += outcome.behaviour == CURVATURE_JUMP
            counts[6] += outcome.widened
            probe = Probe(outcome.label, outcome.index, outcome.claim, outcome.numerical, outcome.lower,
                          outcome.upper, outcome.uncertainty, outcome.step, outcome.behaviour, verdict, error,
                          probe_resolution, outcome.note)
            ranked.append(probe)
        if self.bulk is not None and len(self.bulk.indices):
            bulk = self.bulk
            magnitude = np.maximum(np.abs(bulk.claims), np.abs(bulk.estimates))
            distance = np.abs(bulk.claims - bulk.estimates)
            errors = _relative_error(distance, magnitude, bulk.uncertainties, tolerance)
            floor = np.maximum(magnitude, scale)
            resolutions = np.divide(bulk.uncertainties, floor, out=np.zeros_like(floor), where=floor > 0)
            max_error = max(max_error, float(errors.max()))
            resolution = max(resolution, float(resolutions.max()))
            counts[1] += len(bulk.indices)
            for position in np.argsort(-errors, kind="stable")[:KEPT_PROBES]:
                index = tuple(int(i) for i in np.unravel_index(int(bulk.indices[position]), self.shape))
                estimate = float(bulk.estimates[position])
                ranked.append(Probe(_coordinate_label(index), index, float(bulk.claims[position]), estimate, estimate,
                                    estimate, float(bulk.uncertainties[position]), float(bulk.steps[position]),
                                    SMOOTH, PASSED, float(errors[position]), float(resolutions[position])))
        counts[0] = counts[1] + counts[2] + counts[3]
        counts = ProbeCounts(*counts)
        kept = heapq.nsmallest(KEPT_PROBES, ranked, key=lambda p: (-_SEVERITY[p.verdict], -p.error, -p.resolution))
        failed, inconclusive = counts.failed > 0, counts.failed == 0 and counts.inconclusive > 0
        worst = kept[0]
        if failed:
            reason = (f"{worst.label}: {worst.note}" if worst.behaviour in (NOT_FINITE, JUMP_IN_F) else
                      f"{worst.label}: the claim {worst.analytic:.6g} is outside what f allows "
                      f"[{worst.lower:.6g}, {worst.upper:.6g}] +- {worst.uncertainty:.2g} by relative "
                      f"{worst.error:.2e} > tolerance {tolerance:.1e}")
        elif inconclusive:
            reason = (f"resolution {worst.resolution:.1e} > tolerance {tolerance:.1e} at {worst.label} "
                      f"({worst.behaviour}): f computes in {self.precision} with noise {self.noise.relative:.1e}; "
                      f"no probe failed, but errors below the resolution would go unseen"
                      + ("; evaluate f in float64 for a conclusive check" if self.precision != np.float64 else ""))
        else:
            reason = f"every probe within tolerance {tolerance:.1e} at resolution {resolution:.1e}"
        return GradientReport(
            not failed and not inconclusive, inconclusive, reason, self.mode, self.mode_reason,
            self.options.reference, tolerance, resolution, self.noise.relative, self.gradient_dtype, self.precision,
            tuple(kept), counts, max_error, self.evaluations, self.seed)


def _relative_error(distance, magnitude, uncertainty, tolerance):
    """The lecture's |a - b| / max(|a|, |b|), as distance over magnitude, with the magnitude floored at U / tolerance
    so that a distance within the measured uncertainty never reads as more than the tolerance (0 / 0 is 0);
    elementwise on arrays."""
    floor = np.maximum(magnitude, np.asarray(uncertainty) / tolerance)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(floor > 0, distance / np.where(floor > 0, floor, 1.0), np.inf)
    return np.where(distance == 0, 0.0, np.where(np.isinf(distance), np.inf, ratio))


class _Bulk(NamedTuple):
    """Coordinates settled by the first pass (all passed), kept as arrays rather than probes."""

    indices: np.ndarray
    claims: np.ndarray
    estimates: np.ndarray
    uncertainties: np.ndarray
    steps: np.ndarray


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


# ------------------------------------------------------------------------------------------ along one probe


def _first_estimate(f0, offsets, values, noise):
    """The first pass along a probe, from f at x + t d for t = h, -h, 2h (columns of ``offsets`` / ``values``):

        X = (2 D + R) / 3   (exact for cubics)      U = |R - D| + rounding of X

    D centered, R one-sided: they agree to O(h^2) only where f is smooth on [x - h d, x + 2h d], so U measures
    truncation, a kink at x (|R - D| = half the jump) or a curvature jump (~ h/4 times it) alike. Rounding E of
    each value adds E |w| (w the weights of X on the four values), as independent errors do.
    Returns (X, U, largest secant |f(x + t d) - f(x)| / |t|); works elementwise on arrays.
    """
    t1, tm, t2 = offsets[..., 0], offsets[..., 1], offsets[..., 2]
    f1, fm, f2 = values[..., 0], values[..., 1], values[..., 2]
    width = t1 - tm
    centered = (f1 - fm) / width
    right, _ = _one_sided(f0, t1, f1, t2, f2, noise)
    w0, w1, w2 = _one_sided_weights(t1, t2)
    estimate = (2 * centered + right) / 3
    rounding = noise * np.sqrt(w0**2 + (2 / width + w1) ** 2 + (2 / width) ** 2 + w2**2) / 3
    uncertainty = np.abs(right - centered) + rounding
    secant = np.maximum(np.maximum(np.abs(f1 - f0) / np.abs(t1), np.abs(fm - f0) / np.abs(tm)),
                        np.abs(f2 - f0) / np.abs(t2))
    return estimate, uncertainty, secant


def _smooth_fit(half_widths, centered, sigmas):
    """(c, standard error of c) of secants D(s) = c + b s + a s^2 (at half-widths or steps s) fitted with weights
    1 / sigma, or None when the fit's chi-square exceeds its 99.9% quantile (Wilson-Hilferty) for its degrees of
    freedom. Solved through the QR factors of the weighted design, never its square (sigma may be ~1e-200)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        design = np.stack([np.ones_like(half_widths), half_widths, half_widths**2], axis=1) / sigmas[:, None]
        weighted = centered / sigmas
        if not (np.all(np.isfinite(design)) and np.all(np.isfinite(weighted))):
            return None
        q, r = np.linalg.qr(design)
        if np.any(np.abs(np.diag(r)) <= np.finfo(np.float64).tiny):
            return None
        inverse = np.linalg.inv(r)
        coefficients = inverse @ (q.T @ weighted)
        chi_square = float(np.sum((design @ coefficients - weighted) ** 2))
    freedom = len(centered) - 3
    quantile = freedom * (1 - 2 / (9 * freedom) + 3.09 * math.sqrt(2 / (9 * freedom))) ** 3
    if not chi_square <= quantile:
        return None
    return float(coefficients[0]), float(np.linalg.norm(inverse[0]))


def _one_sided(f0, ta, fa, tb, fb, noise):
    """Derivative at 0 from f at 0, ta, tb (same sign): exact for quadratics; and its rounding, E |w|."""
    w0, wa, wb = _one_sided_weights(ta, tb)
    return w0 * f0 + wa * fa + wb * fb, noise * np.sqrt(w0**2 + wa**2 + wb**2)


def _one_sided_weights(ta, tb):
    """Weights of f(0), f(ta), f(tb) in the derivative at 0 exact for quadratics: -(a + b) / ab, b / a(b - a),
    -a / b(b - a), written not to overflow."""
    return -(1 / ta + 1 / tb), 1 / (ta * (1 - ta / tb)), -1 / (tb * (tb / ta - 1))


class _Estimate(NamedTuple):
    lower: float
    upper: float
    uncertainty: float
    numerical: float
    behaviour: str
    step: float
    noise_bound: float


class _Extrapolation(NamedTuple):
    value: float
    uncertainty: float
    order: float
    noise: float


def _extrapolate(sequence) -> _Extrapolation:
    """Richardson across levels at the observed order: ``sequence`` holds (E_j, rounding of E_j) at steps
    s 2^j, ascending. Over each window of three levels the ratio of successive differences
    (E_{j+1} - E_{j+2}) / (E_j - E_{j+1}) = 2^p gives the order p, and E_j + (E_j - E_{j+1}) / (2^p - 1) the
    limit; U is its disagreement with the next window's limit (or, at the top, the last correction) plus
    rounding. Windows flat within rounding have converged: the largest step's estimate is kept, within
    2 |E_{j+1} - E_{j+2}| (its truncation at any order >= 1) plus rounding, all of it noise. Windows whose
    differences do not shrink are not in the asymptotic range. The window with the smallest U wins."""
    best = _Extrapolation(sequence[0][0], math.inf, math.nan, sequence[0][1])
    limits = []
    for k in range(len(sequence) - 2):
        (e0, n0), (e1, n1), (e2, n2) = sequence[k:k + 3]
        d0, d1 = e0 - e1, e1 - e2
        if abs(d0) <= n0 + n1 and abs(d1) <= n1 + n2:
            limits.append((e2, 2 * abs(d1) + n2, math.inf, 2 * abs(d1) + n2))
        elif d0 != 0 and d1 / d0 >= math.sqrt(2):
            order = math.log2(d1 / d0)
            gain = 2**order - 1
            limits.append((e0 + d0 / gain, None, order, math.hypot(n0 * (1 + 1 / gain), n1 / gain)))
        else:
            limits.append((e0, abs(d0) + abs(d1) + n0, math.nan, n0))
    for k, (value, uncertainty, order, noise) in enumerate(limits):
        if uncertainty is None:
            if k + 1 < len(limits) and math.isfinite(limits[k + 1][2]) and limits[k + 1][1] is None:
                uncertainty = abs(value - limits[k + 1][0]) + math.hypot(noise, limits[k + 1][3])
            else:
                d0 = sequence[k][0] - sequence[k + 1][0]
                uncertainty = abs(d0) / (2**order - 1) + noise
        if uncertainty < best.uncertainty:
            best = _Extrapolation(value, uncertainty, order, noise)
    return best


def _romberg(sequence) -> _Extrapolation:
    """Romberg's table over windows of centered differences (E_j, rounding) at steps s 2^j, ascending: where f is
    smooth they expand in even powers of s, so R_{i,k} = R_{i,k-1} + (R_{i,k-1} - R_{i+1,k-1}) / (4^k - 1) gains
    two orders a column. U is the last correction |R_{0,k} - R_{0,k-1}| plus rounding, used only where the
    corrections shrink (a curvature jump, of order 1, fails that and leaves the observed-order estimate)."""
    best = _Extrapolation(sequence[0][0], math.inf, math.nan, sequence[0][1])
    for start in range(len(sequence) - 2):
        for length in range(3, len(sequence) - start + 1):
            window = sequence[start:start + length]
            values = np.array([value for value, _ in window])
            weights = np.eye(length)
            corrections = []
            for column in range(1, length):
                factor = 4**column - 1
                corrections.append(abs(values[0] - values[1]) / factor)
                values = values[:-1] + (values[:-1] - values[1:]) / factor
                weights = weights[:-1] + (weights[:-1] - weights[1:]) / factor
            if any(later >= earlier for earlier, later in zip(corrections, corrections[1:], strict=False)):
                continue
            noise = float(np.sqrt(np.sum((weights[0] * np.array([n for _, n in window])) ** 2)))
            uncertainty = corrections[-1] + noise
            if uncertainty < best.uncertainty:
                best = _Extrapolation(float(values[0]), uncertainty, 2.0 * length, noise)
    return best


class _Line:
    """f along x + t d on the step ladder t = +-h 2^j, lowest level first."""

    def __init__(self, check: _Check, direction, step: float):
        self.check, self.direction, self.step = check, direction, step
        self.points: dict[tuple[int, int], tuple[float, float]] = {}
        self.claim_rounding = check.claim_rounding(
            1.0 if isinstance(direction, (int, np.integer)) else float(np.sum(np.abs(direction))))

    def preload(self, offsets, values) -> None:
        for (sign, level), offset, value in zip(((1, 0), (-1, 0), (1, 1)), offsets, values, strict=False):
            self.points[sign, level] = (float(offset), float(value))

    def point(self, sign: int, level: int) -> tuple[float, float]:
        """(offset, f(x + offset d)) at t = sign h 2^level."""
        key = (sign, level)
        if key not in self.points:
            value, offset = self.check.along(self.direction, sign * self.step * 2.0**level)
            self.points[key] = (offset, value)
        return self.points[key]

    def first_magnitude(self, claim: float) -> float:
        estimate, _, secant = self._first()
        return max(abs(claim), abs(float(estimate)), float(secant))

    def _first(self):
        offsets = np.array([self.point(1, 0)[0], self.point(-1, 0)[0], self.point(1, 1)[0]])
        values = np.array([self.point(1, 0)[1], self.point(-1, 0)[1], self.point(1, 1)[1]])
        return _first_estimate(self.check.f0, offsets, values, self.check.noise_at(float(np.max(np.abs(values)))))

    def settle(self, claim: float) -> _Estimate:
        """The interval f allows along d, refined level by level until it settles the claim or the ladder ends."""
        check = self.check
        estimate, uncertainty, _ = self._first()
        estimate, uncertainty = float(estimate), float(uncertainty) + self.claim_rounding
        first = _Estimate(estimate, estimate, uncertainty, estimate, SMOOTH, self.step, uncertainty)
        magnitude = max(abs(claim), abs(estimate))
        verdict = _decide(abs(claim - estimate), magnitude, uncertainty, check.tolerance, check.scale)
        if verdict == PASSED:
            return first
        if verdict == FAILED and uncertainty <= check.tolerance * max(magnitude, check.scale):
            return first  # smooth along d at this resolution: the claim is off (or f is not differentiable at x)
        low, high = -1, 2
        for level in range(low, high + 1):
            self.point(1, level), self.point(-1, level)
        while True:
            result = self._analyse(low, high)
            if result.behaviour == JUMP_IN_F and low == LOWEST_LEVEL:
                return result  # f(x + s d) - f(x) did not shrink down to the smallest step: f jumps at x
            magnitude = max(abs(claim), abs(result.lower), abs(result.upper))
            distance = max(result.lower - claim, claim - result.upper, 0.0)
            verdict = _decide(distance, magnitude, result.uncertainty, check.tolerance, check.scale)
            if verdict in (PASSED, FAILED) and result.behaviour != JUMP_IN_F:
                return result
            noisy = result.noise_bound >= result.uncertainty / 2 and result.behaviour != JUMP_IN_F
            if noisy and high < HIGHEST_LEVEL:
                high += 1
                level = high
            elif low > LOWEST_LEVEL:
                low -= 1
                level = low
            elif high < HIGHEST_LEVEL:
                high += 1
                level = high
            else:
                unresolved = verdict == INCONCLUSIVE and result.behaviour == SMOOTH
                return result._replace(behaviour=UNRESOLVED) if unresolved else result
            self.point(1, level), self.point(-1, level)

    def unless_rough(self, settled: _Estimate) -> _Estimate:
        """``settled`` (an estimate, smooth or at a kink, that fails the claim), unless f is not smooth on its levels.

        On a smooth piece, the forward, backward and centered secants F(s), B(s), D(s) each follow c + b s + a s^2
        to within f's rounding as s shrinks (D's b is 0 but at a curvature jump). They are taken at every level from
        the coarsest evaluated down to 2^ROUGH_LEVELS times the settled step and fitted by weighted least squares
        (sigma = E / 4, E the rounding below any kinks, :meth:`_Check.rounding_at`; at least eps (2 |f| + sum |g_i x_i|
        + max |x_i| |slope|): a value computed in several operations carries a few units in its last place, and
        x + s d rounded to the grid of x moves f by up to eps |g_i x_i| per entry, even where the noise line showed
        none):

        - D fits on all levels (chi-square within its 99.9% quantile): f is smooth there and ``settled`` stands;
        - some fit on their finest :data:`ROUGH_MIN_LEVELS` levels or more: kinks lie beyond the step of those
          levels, on one side or both (a kink near x bends a one-sided secant as 1 / s, which no fit follows). The
          claim is held to the fitted limits c, each give or take 4 standard errors: one value where they agree, a
          kink's interval where they do not;
        - none does: kinks are denser than any step f's precision allows (a mean of 10^5 hinges on one line), and
          every secant averages many pieces. The claim is held to the hull of all of them, with the hull's width as
          uncertainty (narrower where the secants bracket it as along a convex f, :meth:`_within_secants`): for f
          convex (or concave) along d the slope at x lies between each backward and each forward secant, so the
          exact claim is inside -- inconclusive, or passed if the bracket is within the tolerance -- and a claim
          outside the hull by more than its width fails."""
        top = round(math.log2(settled.step / self.step))
        coarsest = max(level for _, level in self.points)
        levels = range(max(coarsest, min(top + 1, HIGHEST_LEVEL)), max(LOWEST_LEVEL, top + ROUGH_LEVELS) - 1, -1)
        f0, precision_eps = self.check.f0, float(np.finfo(self.check.precision).eps)
        largest = float(np.max(np.abs(self.check.flat)))
        input_rounding = float(np.abs(self.check.claim) @ np.abs(self.check.flat))
        widths, series, sigmas = [], ([], [], []), ([], [], [])
        for level in levels:
            (tp, fp), (tm, fm) = self.point(1, level), self.point(-1, level)
            magnitude = max(abs(fp), abs(fm), abs(f0))
            slope = max(abs(fp - f0) / tp, abs(fm - f0) / -tm)
            sigma = max(self.check.rounding_at(magnitude) / 4,
                        precision_eps * (2 * magnitude + input_rounding + largest * slope))
            widths.append(tp)
            for values, spreads, value, spread in zip(series, sigmas, (
                    (fp - f0) / tp, (fm - f0) / tm, (fp - fm) / (tp - tm)),
                    (math.sqrt(2) * sigma / tp, math.sqrt(2) * sigma / -tm, math.sqrt(2) * sigma / (tp - tm)),
                    strict=True):
                values.append(value)
                spreads.append(spread)
        s = np.array(widths)
        forward, backward, centered = (np.array(values) for values in series)
        rounding = [np.array(spreads) for spreads in sigmas]
        if _smooth_fit(s, centered, rounding[2]) is not None:
            return settled
        limits = []
        for values, spreads in zip((forward, backward, centered), rounding, strict=True):
            for first in range(len(levels) - ROUGH_MIN_LEVELS + 1):
                fit = _smooth_fit(s[first:], values[first:], spreads[first:])
                if fit is not None:
                    limits.append((fit[0] - 4 * fit[1], fit[0] + 4 * fit[1]))
                    break
        finest = 2 * float(s[-1])
        if limits:
            lower, upper = min(low for low, _ in limits), max(high for _, high in limits)
            uncertainty = max(high - low for low, high in limits) / 2 + self.claim_rounding
            middle = (lower + upper) / 2
            if upper - lower <= 2 * uncertainty:
                return _Estimate(middle, middle, uncertainty, middle, SMOOTH, finest, float(rounding[2][-1]))
            return _Estimate(lower + uncertainty, upper - uncertainty, uncertainty, middle, KINK, finest,
                             float(rounding[2][-1]))
        return self._within_secants(forward, backward, centered, rounding, finest)

    def _within_secants(self, forward, backward, centered, rounding, finest) -> _Estimate:
        """The claim held to the secants of a line too rough to fit (see :meth:`unless_rough`), each give or take
        4 sigma: to the hull of all of them, or, where every backward secant lies below every forward one (as
        along a convex f; above, along a concave one) and the claim between them, to that narrower bracket --
        the slope at x of a convex f is at least each backward and at most each forward secant."""
        spreads = [4 * r + self.claim_rounding for r in rounding]
        below, above = backward - spreads[1], backward + spreads[1]
        claim = self.check.claim_along(self.direction)
        for low, high in ((float(np.max(below)), float(np.min(forward + spreads[0]))),
                          (float(np.max(forward - spreads[0])), float(np.min(above)))):
            if low <= claim <= high:
                return _Estimate(low, high, high - low, float(centered[-1]), UNRESOLVED, finest,
                                 float(rounding[2][-1]))
        secants = np.concatenate([forward, backward, centered])
        spread = np.concatenate(spreads)
        lower, upper = float(np.min(secants - spread)), float(np.max(secants + spread))
        return _Estimate(lower, upper, upper - lower, float(centered[-1]), UNRESOLVED, finest,
                         float(rounding[2][-1]))

    def _analyse(self, low: int, high: int) -> _Estimate:
        """Estimates from levels low..high: centered, right and left, each extrapolated at its observed order (the
        centered ones also by Romberg's table), and what they say: a kink where right and left differ beyond their
        uncertainties, a curvature jump where they agree but centered differences converge at order 1."""
        noise_at, f0 = self.check.noise_at, self.check.f0
        centered, right, left = [], [], []
        for level in range(low, high + 1):
            (tp, fp), (tm, fm) = self.point(1, level), self.point(-1, level)
            centered.append(((fp - fm) / (tp - tm), math.sqrt(2) * float(noise_at(max(abs(fp), abs(fm)))) / (tp - tm)))
            if level < high:
                (tp2, fp2), (tm2, fm2) = self.point(1, level + 1), self.point(-1, level + 1)
                for side, (ta, fa), (tb, fb) in ((right, (tp, fp), (tp2, fp2)), (left, (tm, fm), (tm2, fm2))):
                    side.append(tuple(map(float, _one_sided(f0, ta, fa, tb, fb, noise_at(max(abs(fa), abs(fb)))))))
        smallest = self.step * 2.0**low
        if self._jumps(low):
            return _Estimate(math.nan, math.nan, math.inf, centered[0][0], JUMP_IN_F, smallest, 0.0)
        d = min(_extrapolate(centered), _romberg(centered), key=lambda e: e.uncertainty)
        r, l = _extrapolate(right), _extrapolate(left)
        d, r, l = (e._replace(uncertainty=e.uncertainty + self.claim_rounding) for e in (d, r, l))
        tolerance = self.check.tolerance
        if abs(r.value - l.value) > r.uncertainty + l.uncertainty + tolerance * max(abs(r.value), abs(l.value)):
            lower, upper = sorted((r.value, l.value))
            return _Estimate(lower, upper, max(r.uncertainty, l.uncertainty), d.value, KINK, smallest,
                             max(r.noise, l.noise))
        middle = (r.value + l.value) / 2
        one_sided_uncertainty = max(r.uncertainty, l.uncertainty) + abs(r.value - l.value) / 2
        consistent = abs(d.value - middle) <= d.uncertainty + one_sided_uncertainty
        behaviour = CURVATURE_JUMP if d.order < 1.5 and consistent else SMOOTH
        if d.uncertainty <= one_sided_uncertainty and consistent:
            return _Estimate(d.value, d.value, d.uncertainty, d.value, behaviour, smallest, d.noise)
        return _Estimate(middle, middle, one_sided_uncertainty, d.value, behaviour, smallest, max(r.noise, l.noise))

    def _jumps(self, low: int) -> bool:
        """f jumps at x along d: |f(x +- s d) - f(x)| stays put, above rounding, as s halves twice."""
        noise, f0 = self.check.noise.absolute, self.check.f0
        for sign in (1, -1):
            changes = [abs(self.point(sign, level)[1] - f0) for level in (low, low + 1, low + 2)]
            if changes[0] > 16 * noise and changes[0] > 0.75 * changes[1] and changes[1] > 0.75 * changes[2]:
                return True
        return False


# ----------------------------------------------------------------------------- towards the Clarke bracket


def _nearby_directions(check: _Check, key, own):
    """Directions u of nearby base points y = x + r u, each to be followed by -u: structured ones -- the claimed
    gradient's, the all-ones, the ramp (0, 1, 2, ...) centred (x - r ramp breaks every tie among x's entries in
    favour of the first in C order, as argmax and max-pooling code does; x + r ramp in favour of the last), every
    coordinate (a few dozen in seeded order when x is large; a coordinate is (index, 1)), then evenly spread
    directions when x has 2 or 3 entries, else sums of two coordinates and random signs (kinks of integer-weight
    models often align with coordinate combinations) -- alternating with Gaussian ones, which leave no tied
    coordinate on its kink."""
    rng = np.random.default_rng([check.seed, 2, key])
    structured = _structured_directions(check, rng, own)
    if check.size == 1:
        yield from structured
        return
    for pair in itertools.zip_longest(structured, _gaussian_directions(check.size, rng)):
        yield from (direction for direction in pair if direction is not None)


def _structured_directions(check: _Check, rng, own):
    size = check.size
    if check.claimed_unit is not None:
        yield "the claimed gradient's direction", check.claimed_unit
    yield "the all-ones direction", np.full(size, 1 / math.sqrt(size))
    if size >= 3:
        ramp = np.arange(size) - (size - 1) / 2
        yield "the ramp over x's entries in order", ramp / np.linalg.norm(ramp)
    for k in rng.permutation(size)[:64].tolist():
        if k != own:
            yield f"coordinate {k}", (k, 1)
    if size in (2, 3):
        yield from _evenly_spread(size, rng)
        return
    for _ in range(16 if size >= 2 else 0):
        first, second = rng.choice(size, size=2, replace=False)
        direction = np.zeros(size)
        direction[first], direction[second] = rng.choice((-1.0, 1.0), size=2) / math.sqrt(2)
        yield "a sum of two coordinates", direction
    for _ in range(16 if size >= 4 else 0):
        yield "random signs", rng.choice((-1.0, 1.0), size=size) / math.sqrt(size)


def _gaussian_directions(size: int, rng):
    while True:
        direction = rng.standard_normal(size)
        yield "a random direction", direction / np.linalg.norm(direction)


def _evenly_spread(size: int, rng):
    """Half-sphere directions, evenly spread, in ever finer rounds (the caller adds each one's opposite):
    angles k pi / n on the circle; a Fibonacci lattice on the sphere, randomly rotated."""
    count = 8
    while True:
        if size == 2:
            offset = rng.uniform(0, math.pi / count)
            for angle in offset + np.arange(count) * math.pi / count:
                yield "an evenly spread direction", np.array([math.cos(angle), math.sin(angle)])
        else:
            rotation, _ = np.linalg.qr(rng.standard_normal((3, 3)))
            k = np.arange(count) + 0.5
            height = k / count
            angle = math.pi * (1 + 5**0.5) * k
            radial = np.sqrt(1 - height**2)
            for point in np.stack([radial * np.cos(angle), radial * np.sin(angle), height], axis=1):
                yield "an evenly spread direction", rotation @ point
        count *= 2


def _signed_directions(check, key, own):
    for description, u in _nearby_directions(check, key, own):
        yield description, u, 1
        yield description, u, -1


def _widen(check: _Check, line: _Line, outcome: _Outcome, key, evidence: bool) -> None:
    """Widen ``outcome``'s interval with secants at nearby base points until it holds the claim, or fail it.

    The secant (f(y + t d) - f(y - t d)) / 2t at y = x + r u is xi^T d for some Clarke gradient xi at a point of
    the segment (Lebourg's mean-value theorem), hence within O(r) of the projection of the Clarke gradient at x
    onto d. A secant that reaches the claim is re-measured at r/2 and r/4 (t = r/16 each) and extrapolated to
    r = 0; its U is the disagreement of the quadratic and linear extrapolations plus rounding.

    The first :data:`SECANT_POINTS` base points each get a secant. If none reached the claim and f changes piece
    near x, the search goes on for up to ``nearby_points`` base points, spending one evaluation on each to test
    the claim's own linear model, psi(u) = f(x + r u) - f(x) - r g^T u, which vanishes (to O(r^2)) where g is the
    gradient -- a cone that may be too thin to meet in a few dozen samples -- and a secant only where |psi| is
    below 2% of its median so far, refreshed every 32 points (elsewhere psi ~ r, there ~ r^2), and at every
    fourth point (a claim that combines pieces, such as relu'(0) = 1/2, is no piece's gradient).
    """
    claim, tolerance = outcome.claim, check.tolerance
    below = claim < outcome.lower
    gap = outcome.lower - claim if below else claim - outcome.upper
    radius = 8 * line.step
    middle = (outcome.lower + outcome.upper) / 2
    own = line.direction if isinstance(line.direction, (int, np.integer)) else None
    evidence = evidence or outcome.behaviour == KINK
    most_deviating, deviation = None, -1.0
    possible = None
    samples = 0
    residuals, typical = [], math.inf
    for description, u, sign in _signed_directions(check, key, own):
        if samples >= check.options.nearby_points:
            break
        samples += 1
        if samples > SECANT_POINTS:
            residual = abs(_claim_model_residual(check, u, sign, radius))
            residuals.append(residual)
            if len(residuals) % 32 == 1:
                typical = float(np.median(residuals))
            if residual <= 4 * check.noise.absolute + 1e-3 * typical and _is_limiting_gradient(check, u, sign, radius):
                check.certified = f"x {'-' if sign < 0 else '+'} {radius:.2g} u, u = {description}"
                _certified(outcome, check.certified)
                return
            if residual > 4 * check.noise.absolute + 0.02 * typical and samples % 4:
                continue
        value = _secant_at(check, line.direction, u, sign, radius)
        reach = value <= claim + tolerance * abs(claim) + gap / 2 if below else value >= claim - tolerance * abs(
            claim) - gap / 2
        if reach:
            limit, uncertainty = _refined_secant(check, line.direction, u, sign, radius, value)
            uncertainty += line.claim_rounding
            lower = min(outcome.lower, limit) if below else outcome.lower
            upper = outcome.upper if below else max(outcome.upper, limit)
            magnitude = max(abs(claim), abs(lower), abs(upper))
            distance = max(lower - claim, claim - upper, 0.0)
            verdict = _decide(distance, magnitude, uncertainty, tolerance, check.scale)
            if verdict in (PASSED, WITHIN):
                outcome.lower, outcome.upper, outcome.uncertainty = lower, upper, uncertainty
                outcome.widened = True
                sign_text = "-" if sign < 0 else "+"
                outcome.note = (f"widened by the nearby point x {sign_text} {radius:.2g} u, u = {description} "
                                f"({samples} nearby points sampled)")
                return
            if verdict == INCONCLUSIVE and possible is None:
                possible = (lower, upper, uncertainty, description)
        if not evidence:
            if abs(value - middle) > deviation:
                most_deviating, deviation = (u, sign, value), abs(value - middle)
            if samples == EVIDENCE_POINTS:
                evidence = _changes_piece(check, line.direction, most_deviating, middle, radius,
                                          tolerance * max(abs(claim), abs(middle)))
                if not evidence:
                    break
    if possible is not None and evidence:
        outcome.lower, outcome.upper, outcome.uncertainty = possible[:3]
        outcome.note = (f"a nearby point (u = {possible[3]}) may reach the claim, within its uncertainty; "
                        f"{samples} nearby points sampled")
        outcome.behaviour = outcome.behaviour if outcome.behaviour != SMOOTH else UNRESOLVED
        return
    outcome.settled = FAILED
    outcome.note = (f"outside its interval at x and at {samples} nearby points"
                    + ("" if evidence else " (f looks differentiable around x along d)"))


def _certified(outcome: _Outcome, where: str) -> None:
    """Widen ``outcome`` to its claim: the claim was measured to be f's gradient next to x."""
    outcome.lower, outcome.upper = min(outcome.lower, outcome.claim), max(outcome.upper, outcome.claim)
    outcome.widened = True
    outcome.note = f"the claim is f's gradient next to x, measured at {where}"


def _is_limiting_gradient(check: _Check, u, sign, radius) -> bool:
    """Whether the claim is f's gradient on the piece that x + r u lies in, as r -> 0: central differences with
    step t = r / 1024 (inside even a sliver of a piece; forward and backward differences must agree) at r and r/2,
    extrapolated to 0, equal the claim within the tolerance and their rounding. Such a claim is a limiting
    gradient, in the Clarke set, whatever direction a probe takes. 4 n + 2 evaluations; only for n <= 64."""
    if check.size > 64:
        return False
    estimates = []
    for scale in (1.0, 0.5):
        base = _base_point(check, u, sign, radius * scale).copy()
        step = radius * scale / 1024
        at_base = check.value(base.reshape(check.shape))
        forward, backward = np.empty(check.size), np.empty(check.size)
        for index in range(check.size):
            above, up = check.along(index, step, base)
            below, down = check.along(index, -step, base)
            forward[index], backward[index] = (above - at_base) / up, (at_base - below) / -down
        rounding = 4 * float(check.noise_at(abs(at_base))) / step
        if np.any(np.abs(forward - backward) > check.tolerance * np.abs(forward) + rounding):
            return False
        estimates.append((forward + backward) / 2)
    limit = 2 * estimates[1] - estimates[0]
    uncertainty = np.abs(estimates[1] - estimates[0]) + 3 * rounding
    return bool(np.all(np.abs(limit - check.claim) <= check.tolerance * np.abs(check.claim) + uncertainty))


def _claim_model_residual(check: _Check, u, sign, radius) -> float:
    """psi = f(y) - f(x) - g^T (y - x) at y = x + sign radius u."""
    base = _base_point(check, u, sign, radius)
    if isinstance(u, tuple):
        index = u[0]
        change = float(check.claim[index]) * (float(base[index]) - float(check.flat[index]))
    else:
        change = float(np.dot(check.claim, base - check.flat))
    return check.value(base.reshape(check.shape)) - check.f0 - change


def _nearest_in_hull(points: np.ndarray, target: np.ndarray, iterations: int = 500) -> np.ndarray:
    """The point of the convex hull of ``points`` (k, n) nearest to ``target`` (n): projected gradient descent
    on the weights w of sum_k w_k points_k over the simplex."""
    shifted = points - target
    gram = shifted @ shifted.T
    largest = float(np.linalg.eigvalsh(gram)[-1])
    if largest <= 0:
        return target.copy()
    weights = np.full(len(points), 1 / len(points))
    for _ in range(iterations):
        weights = _onto_simplex(weights - gram @ weights / largest)
    return weights @ points


def _onto_simplex(vector: np.ndarray) -> np.ndarray:
    """Euclidean projection of ``vector`` (k) onto {w >= 0, sum w = 1}."""
    descending = np.sort(vector)[::-1]
    cumulative = np.cumsum(descending) - 1
    last = np.flatnonzero(descending * np.arange(1, len(vector) + 1) > cumulative)[-1]
    return np.maximum(vector - cumulative[last] / (last + 1), 0.0)


def _base_point(check: _Check, u, sign, radius) -> np.ndarray:
    base = check.base
    if isinstance(u, tuple):
        index, _ = u
        base[:] = check.flat
        base[index] = check.round(float(base[index]) + sign * radius)
    else:
        np.multiply(u, sign * radius, out=base)
        base += check.flat
        if check.precision != np.float64:
            base[:] = base.astype(check.precision)
    return base


def _secant_at(check: _Check, direction, u, sign, radius) -> float:
    """(f(y + t d) - f(y - t d)) / 2t at y = x + sign radius u, t = radius / 16."""
    base = _base_point(check, u, sign, radius)
    t = radius / 16
    plus, t_plus = check.along(direction, t, base)
    minus, t_minus = check.along(direction, -t, base)
    return (plus - minus) / (t_plus - t_minus)


def _refined_secant(check: _Check, direction, u, sign, radius, at_radius) -> tuple[float, float]:
    """The secant at radii r, r/2, r/4 extrapolated to r = 0, and its uncertainty."""
    half = _secant_at(check, direction, u, sign, radius / 2)
    quarter = _secant_at(check, direction, u, sign, radius / 4)
    quadratic = (8 * quarter - 6 * half + at_radius) / 3
    linear = 2 * quarter - half
    secant_rounding = math.sqrt(2) * 8 * check.noise.absolute / radius  # E |w| of a secant at radius r, t = r/16
    rounding = secant_rounding * math.hypot(8 / 3 * 4, 2 * 2, 1 / 3)
    return quadratic, abs(quadratic - linear) + rounding


def _changes_piece(check: _Check, direction, sample, middle, radius, resolution) -> bool:
    """Whether the most deviating nearby secant keeps its deviation when r halves (f changes piece near x)
    rather than halving it (smooth drift)."""
    u, sign, value = sample
    rounding = math.sqrt(2) * 8 * check.noise.absolute / radius
    if abs(value - middle) <= rounding + resolution:
        return False
    half = _secant_at(check, direction, u, sign, radius / 2)
    return abs(half - middle) > 0.75 * abs(value - middle) + 2 * rounding
