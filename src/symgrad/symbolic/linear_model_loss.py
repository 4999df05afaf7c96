"""A loss of a linear model's scores, declared once: everything compiled, checked and shown is derived from it.

A declaration holds one example's loss in index notation (:mod:`symgrad.symbolic.notation`) for a symbolic number
of classes, its parameters with defaults and ranges, and the closed form the lecture writes down. From it:

- the score gradient dL_i/ds[k], derived by SymPy for symbolic C (:attr:`LinearModelLoss.score_gradient`);
- the proof that it equals the closed form, written out for C = 2, 3, 4 at every label (:meth:`LinearModelLoss.verify`);
- the kinks, read off the non-smooth functions of the loss (:attr:`LinearModelLoss.kink_arguments`);
- the array expressions on the class axis that :mod:`symgrad.codegen.loss_modules` prints (:meth:`LinearModelLoss.class_axis`);
- a :class:`~symgrad.symbolic.derivation.Derivation` written out for C = 3, shown by ``symgrad derive NAME``
  and in ``DERIVATIONS.md`` (:meth:`LinearModelLoss.derivation`).

Two kinds: a ``"classifier"`` loss takes W (C, D) and integer labels (t = one-hot); a ``"regression"`` loss takes
w (D,) and real targets (C = 1 output, t the target).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from symgrad.symbolic.derivation import Derivation, is_identically_zero, pin_heaviside
from symgrad.symbolic.index_form import ClassMaximum, ClassMaxGap
from symgrad.symbolic.notation import (
    C,
    k,
    on_class_axis,
    per_output,
    prediction,
    s,
    score_gradient,
    score_symbols,
    t,
    target,
    written_out,
)

KINDS = ("classifier", "regression")

NON_SMOOTH_FUNCTIONS = (sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, ClassMaximum)


@dataclass(frozen=True)
class LossParameter:
    """A keyword parameter of a compiled loss.

    Attributes:
        symbol: the real SymPy symbol in the loss, as the lecture writes it (Delta, H0).
        default: its value when the keyword is not given.
        low, high: the accepted range (inclusive).
        meaning: one line for docstrings and ``--help``.
        keyword: the keyword argument of the compiled loss; default the symbol's name.
    """

    symbol: sp.Symbol
    default: float
    low: float = -math.inf
    high: float = math.inf
    meaning: str = ""
    keyword: str | None = None

    @property
    def name(self) -> str:
        """The keyword argument (``delta``, ``kink_value``)."""
        return self.keyword or self.symbol.name


@dataclass(frozen=True, eq=False)
class LinearModelLoss:
    """One example's loss of the scores s = W x, and everything needed to derive, prove and compile it.

    Attributes:
        name: the one spelling of the loss everywhere (``"svm"``); the declaring file is ``losses/<name>.py``.
        kind: ``"classifier"`` (W (C, D), labels y, t = one-hot) or ``"regression"`` (w (D,), targets t, C = 1).
        title: the lecture's formula in words.
        per_example: L_i in index notation: s[j], t[j], ``class_sum``, ``class_max``, the parameters' symbols.
        lecture_gradient: dL_i/ds[k] as the lecture writes it (index notation, free index k), proved equal to
            the derived one; ``None`` when there is no closed form to prove against.
        lecture_loss: the lecture's L_i when ``per_example`` is written differently (proved equal).
        parameters: the keyword parameters, in the generated functions' order.
        kink_value: the parameter whose value ``Heaviside`` takes at 0 (a subgradient for any value in [0, 1]).
        source: where the lecture writes it.
        convex: convex in the scores (hence in W).
        target_range: the targets a regression loss is defined for, (low, high) (logistic: (0, 1)); others are
            refused at run time.
        proof_class_counts: the numbers of classes :meth:`verify` writes the proof out for; default 2, 3, 4 for
            a classifier, 1 for a regression loss.
        reference: the slow, obvious NumPy version, written by hand with a loop over the examples (CS231n's
            "naive" loss): ``reference(W, X, y, reg=0.0, **parameters) -> (loss, gradient)`` in float64, with
            W (C, D) or w (D,). The compiled loss is tested against it.
    """

    name: str
    kind: str
    title: str
    per_example: sp.Expr
    lecture_gradient: sp.Expr | None = None
    lecture_loss: sp.Expr | None = None
    parameters: tuple[LossParameter, ...] = ()
    kink_value: sp.Symbol | None = None
    source: str = ""
    convex: bool = False
    target_range: tuple[float, float] | None = None
    proof_class_counts: tuple[int, ...] | None = None
    reference: Callable | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", tuple(self.parameters))
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {self.kind!r}")
        if self.kind == "regression":
            # Written in the prediction u and the target: put in index notation over the C = 1 output.
            if not self.per_example.atoms(sp.Indexed):
                object.__setattr__(self, "per_example", per_output(self.per_example))
            at_k = {prediction: s[k], target: t[k]}
            for form in ("lecture_gradient",):
                value = getattr(self, form)
                if value is not None and not value.atoms(sp.Indexed):
                    object.__setattr__(self, form, value.xreplace(at_k))
            if self.lecture_loss is not None and not self.lecture_loss.atoms(sp.Indexed):
                object.__setattr__(self, "lecture_loss", per_output(self.lecture_loss))
        if not self.name.isidentifier() or self.name.startswith("_"):
            raise ValueError(f"name: {self.name!r} must be a Python identifier (it names a module and a function)")
        symbols = {p.symbol for p in self.parameters}
        indexed = self.per_example.atoms(sp.Indexed)
        foreign = sorted(str(x) for x in indexed if x.base not in (s, t))
        if foreign:
            raise ValueError(f"per_example: {foreign}: only the scores s[j] and labels t[j] may be subscripted")
        indices = {i for x in indexed for i in x.indices}
        stray = self.per_example.atoms(sp.Symbol) - indices - symbols - {s.label, t.label, C}
        if stray:
            raise ValueError(f"per_example: symbols {sorted(map(str, stray))} are neither indices nor declared parameters")
        if self.kink_value is not None and self.kink_value not in symbols:
            raise ValueError(f"kink_value: {self.kink_value} is not one of the parameters")

    @cached_property
    def score_gradient(self) -> sp.Expr:
        """dL_i/ds[k] as SymPy derives it for symbolic C (Heaviside at 0 pinned to ``kink_value``)."""
        derived = score_gradient(self.per_example)
        return derived if self.kink_value is None else pin_heaviside(derived, self.kink_value)

    @property
    def class_counts(self) -> tuple[int, ...]:
        """The numbers of classes the proofs are written out for: ``proof_class_counts``, else 2, 3, 4 (classifier)
        or 1 (regression)."""
        if self.proof_class_counts is not None:
            return tuple(self.proof_class_counts)
        return (2, 3, 4) if self.kind == "classifier" else (1,)

    def verify(self) -> bool:
        """Prove the derived score gradient equal to ``lecture_gradient`` (and ``per_example`` to ``lecture_loss``),
        written out for every count in :attr:`class_counts`, at every label y (t = e_y) of a classifier and for
        a symbolic target of a regression loss.

        Raises:
            ValueError: there is no lecture form to prove against.
        """
        if self.lecture_gradient is None and self.lecture_loss is None:
            raise ValueError(f"{self.name}: no lecture_gradient or lecture_loss was given, so there is nothing to prove")
        if "_proved" not in self.__dict__:  # kept as cached_property keeps its values
            self.__dict__["_proved"] = self._prove()
        return self.__dict__["_proved"]

    def _prove(self) -> bool:
        lecture = self.lecture_gradient
        if lecture is not None and self.kink_value is not None:
            lecture = pin_heaviside(lecture, self.kink_value)
        labels = [None] if self.kind == "regression" else None
        for count in self.class_counts:
            for label in labels or range(count):
                differences = []
                if self.lecture_loss is not None:
                    differences.append(written_out(self.per_example - self.lecture_loss, count, label=label))
                if lecture is not None:
                    differences += [written_out(self.score_gradient - lecture, count, at, label) for at in range(count)]
                if not all(is_identically_zero(sp.expand_log(d, force=True)) for d in differences):
                    return False
        return True

    @cached_property
    def kink_arguments(self) -> tuple[tuple[sp.Expr, sp.Expr], ...]:
        """(argument, weight) pairs in index notation: the loss has a kink where an argument is 0 and its weight
        is not (the weight is the factor multiplying the non-smooth function, e.g. 1 - t[j] for the hinge's
        j != y exclusion; 1 when there is none). Read off Max/Min (pairwise differences of the arguments), Abs,
        sign and Heaviside (the argument), and class maxima (the gap between the two largest terms)."""
        found = []
        for node, weight in _non_smooth_nodes(self.per_example, sp.Integer(1)):
            if isinstance(node, (sp.Max, sp.Min)):
                found += [(a - b, weight) for position, a in enumerate(node.args) for b in node.args[position + 1 :]]
            elif isinstance(node, ClassMaximum):
                found.append((ClassMaxGap(node.args[0]), weight))
            else:
                found.append((node.args[0], weight))
        return tuple(dict.fromkeys(found))

    @property
    def is_smooth(self) -> bool:
        return not self.kink_arguments

    def class_axis(self) -> dict[str, object]:
        """The array expressions that are compiled, in S, T (C, N) and the parameters' symbols:
        ``"loss"`` L_i (1, N), ``"gradient"`` dL_i/ds (C, N), and ``"kinks"``, a list of (argument, weight)
        arrays (C, N) or (1, N) (see :attr:`kink_arguments`)."""
        kinks = [(on_class_axis(argument), on_class_axis(weight)) for argument, weight in self.kink_arguments]
        return {
            "loss": on_class_axis(self.per_example),
            "gradient": on_class_axis(self.score_gradient),
            "kinks": kinks,
        }

    def derivation_title(self, number_of_classes: int = 3) -> str:
        """The title of :meth:`derivation`."""
        if self.kind == "regression":
            return self.title
        return f"{self.title}  (written out for C = {number_of_classes} at the label y = 0)"

    def derivation(self, number_of_classes: int = 3) -> Derivation:
        """The loss written out for ``number_of_classes`` scores s0, s1, ... at the label y = 0 (a regression loss:
        the prediction u and a target y), as a :class:`Derivation` named after the loss, for ``symgrad derive``,
        ``symgrad check`` and ``DERIVATIONS.md``. (:meth:`verify` proves every label.)"""
        if self.kind == "regression":
            scores, labels = score_symbols(1)
            rename = {scores[0]: prediction, labels[0]: target}
            count, label = 1, None
            variables, parameters = (prediction,), (target, *(p.symbol for p in self.parameters))
            defaults = {target.name: 0.0}
        else:
            scores, _ = score_symbols(number_of_classes)
            rename, count, label = {}, number_of_classes, 0
            variables, parameters, defaults = scores, tuple(p.symbol for p in self.parameters), {}
        defaults.update({p.symbol.name: p.default for p in self.parameters})
        lecture = None
        if self.lecture_gradient is not None:
            lecture = tuple(written_out(self.lecture_gradient, count, at, label).xreplace(rename) for at in range(count))
        derived = tuple(written_out(self.score_gradient, count, at, label).xreplace(rename) for at in range(count))
        return Derivation(
            name=self.name,
            title=self.derivation_title(number_of_classes),
            objective=written_out(self.per_example, count, label=label).xreplace(rename),
            variables=variables,
            lecture_gradient=lecture,
            parameters=parameters,
            defaults=defaults,
            source=self.source,
            kink_value=self.kink_value,
            convex=self.convex,
            derived_in_index_notation=derived,
        )


def _non_smooth_nodes(expr: sp.Expr, weight: sp.Expr):
    """(node, weight) for every non-smooth function in ``expr``, the weight being the product of the other
    factors of the products that enclose it."""
    if isinstance(expr, NON_SMOOTH_FUNCTIONS):
        yield expr, weight
        for argument in expr.args[:1] if isinstance(expr, ClassMaximum) else expr.args:
            yield from _non_smooth_nodes(argument, sp.Integer(1))
        return
    for position, argument in enumerate(expr.args):
        factor = weight
        if isinstance(expr, sp.Mul):
            factor = weight * sp.Mul(*(a for other, a in enumerate(expr.args) if other != position))
        yield from _non_smooth_nodes(argument, factor) if isinstance(argument, sp.Basic) else iter(())

