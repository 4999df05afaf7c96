"""Your own loss of a linear model's scores, compiled like the built-in ones.

Write one example's loss in index notation (:mod:`symgrad.notation`: the scores ``s[j]``, the one-hot label
``t[j]``, the label's score ``label_score``, ``class_sum`` and ``class_max`` over a symbolic number of classes;
a regression loss in the ``prediction`` u = w^T x and the ``target``), and :func:`define_loss` derives its score
gradient with SymPy, proves it against your closed form if you give one, generates NumPy and JAX code on the class
axis through the stable rewrites, and returns ``loss_and_grad(W, X, y, reg=0.0, **parameters)`` with the
built-ins' contract: inputs checked, the weights' dtype kept, the mean over examples plus ``reg * sum(W**2)``.
The loss is then known by its name everywhere at run time: ``symgrad.loss_and_grad_function(name, backend)`` on
NumPy, JAX and Dask, the training strategies, the Hypothesis strategies (its kinks are read off the expression),
and ``symgrad derive NAME``.

>>> import numpy as np, sympy as sp
>>> from symgrad.notation import class_sum, j, label_score, s, t
>>> delta = sp.Symbol("delta", real=True)
>>> squared_hinge = define_loss("doc_squared_hinge", class_sum((1 - t[j]) * sp.Max(0, s[j] - label_score + delta) ** 2),
...                             parameters={"delta": 1.0})
>>> loss, dW = squared_hinge(np.zeros((3, 2)), np.ones((4, 2)), np.array([0, 1, 2, 0]))
>>> loss, dW.shape            # at W = 0 every margin is delta = 1: (C - 1) * 1^2
(2.0, (3, 2))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from symgrad.codegen.loss_modules import loss_module_text
from symgrad.runtime import catalog
from symgrad.runtime.generated import declared_loss_names, module_from_text
from symgrad.runtime.losses import CompiledLoss
from symgrad.symbolic import registry
from symgrad.symbolic.linear_model_loss import LinearModelLoss, LossParameter
from symgrad.symbolic.loss_formulas import parse_loss_formula


def define_loss(
    name: str,
    per_example: sp.Expr | str,
    *,
    kind: str = "classifier",
    parameters: Mapping[str, float] | Sequence[LossParameter] = (),
    lecture_gradient: sp.Expr | None = None,
    lecture_loss: sp.Expr | None = None,
    kink_value: str | None = None,
    title: str | None = None,
    convex: bool = False,
    reference: Callable[..., tuple[float, np.ndarray]] | None = None,
) -> Callable[..., tuple[float, np.ndarray]]:
    """Compile your own loss of the scores; returns its ``loss_and_grad`` (see the module docstring).

    Args:
        name: how the loss is known (a Python identifier, not a built-in loss's name); defining it again replaces it.
        per_example: L_i in index notation (classifier) or in ``prediction`` and ``target`` (regression), or a
            formula string in the notation of :mod:`symgrad.symbolic.loss_formulas` (``"sum_other(max(0, s[j] - s[y]
            + delta)**2)"``, ``"log(1 + exp(u)) - y*u"``), whose parameters must all be given defaults.
        kind: ``"classifier"`` (W (C, D), integer labels y (N,)) or ``"regression"`` (w (D,), real targets t (N,)).
        parameters: ``{"delta": 1.0}`` (name -> default, any real value accepted) or a sequence of
            :class:`~symgrad.symbolic.linear_model_loss.LossParameter` (with ranges).
        lecture_gradient: your closed form of dL_i/ds[k] (free index ``k``), or of dL/du for a regression loss.
        lecture_loss: your form of L_i, when ``per_example`` is written differently.
        kink_value: the parameter whose value Heaviside takes at 0, if the gradient has one.
        title: the formula in words (default: the expression).
        convex: the loss is convex in the scores.
        reference: an independent implementation ``reference(W, X, y, reg=0.0, **parameters) -> (loss, gradient)``.

    Returns:
        ``loss_and_grad(W, X, y, reg=0.0, **parameters) -> (loss: float, gradient in W's shape and dtype)``;
        its ``.loss`` is the :class:`~symgrad.runtime.losses.CompiledLoss`, its ``.declaration`` the
        :class:`~symgrad.symbolic.linear_model_loss.LinearModelLoss`.

    Raises:
        ValueError: a bad name or kind, symbols that are neither indices nor parameters, or a closed form that is
            not proved equal to the derived gradient (the message says which).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name: expected a Python identifier, got {name!r}")
    if name in declared_loss_names():
        raise ValueError(f"name: {name!r} is a built-in loss; choose another name")
    if isinstance(per_example, str):
        title = title or per_example
        per_example, names = parse_loss_formula(per_example, kind, "per_example")
        given = {p.name for p in parameters} if not isinstance(parameters, Mapping) else set(parameters)
        missing = [name for name in names if name not in given]
        if missing:
            example = ", ".join(f"{name!r}: 1.0" for name in missing)
            raise ValueError(f"parameters: the formula's parameters {missing} need defaults, e.g. {{{example}}}")
    if not isinstance(per_example, sp.Expr):
        raise TypeError(f"per_example: expected a SymPy expression in index notation, got {type(per_example).__name__}")
    declared_parameters = _parameters(parameters, per_example)
    declaration = LinearModelLoss(
        name=name,
        kind=kind,
        title=title or str(per_example),
        per_example=per_example,
        lecture_gradient=lecture_gradient,
        lecture_loss=lecture_loss,
        parameters=declared_parameters,
        kink_value=_kink_symbol(kink_value, declared_parameters),
        source="defined with symgrad.define_loss",
        convex=convex,
        reference=reference,
    )
    if (lecture_gradient is not None or lecture_loss is not None) and not declaration.verify():
        raise ValueError(f"lecture_gradient: {name}: the closed form is not proved equal to the derived gradient "
                         f"{declaration.score_gradient}")
    texts = {backend: loss_module_text(declaration, backend, shipped=False) for backend in ("numpy", "jax")}
    compiled = CompiledLoss.from_module(module_from_text(texts["numpy"], name), {"jax": texts["jax"]})
    registry.register_loss(declaration, "symgrad.user", replace=True)
    catalog.add_compiled_loss(compiled, replace=True)
    function = catalog.loss_function(name)
    function.declaration = declaration
    return function


def _parameters(parameters, per_example: sp.Expr) -> tuple[LossParameter, ...]:
    """LossParameters from ``{"name": default}`` (the symbol of that name in the loss) or as given."""
    if isinstance(parameters, Mapping):
        by_name = {symbol.name: symbol for symbol in per_example.free_symbols if isinstance(symbol, sp.Symbol)}
        return tuple(
            LossParameter(by_name.get(key, sp.Symbol(key, real=True)), float(default)) for key, default in parameters.items()
        )
    declared = tuple(parameters)
    if not all(isinstance(p, LossParameter) for p in declared):
        raise TypeError("parameters: expected a mapping of names to defaults, or a sequence of LossParameter")
    return declared


def _kink_symbol(kink_value, parameters: tuple[LossParameter, ...]):
    if kink_value is None:
        return None
    for parameter in parameters:
        if kink_value in (parameter.name, parameter.symbol):
            return parameter.symbol
    raise ValueError(f"kink_value: {kink_value!r} is not one of the parameters {[p.name for p in parameters]}")
