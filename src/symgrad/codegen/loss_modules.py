"""The generated modules behind the compiled losses: one per declared loss and backend, and the linear layer.

A loss module (from a :class:`~symgrad.symbolic.linear_model_loss.LinearModelLoss`) defines, on the class axis
(S, T: arrays (C, N), one column per example):

    loss_and_score_gradient(S, T, *parameters) -> [L (1, N), dL/dS (C, N)]
    kink_arguments(S, T, *parameters)          -> [argument_1, weight_1, argument_2, weight_2, ...]

and the constants ``LOSS`` (name, kind, title, parameters with defaults and ranges, convexity, source) and
``SOURCE_DIGEST`` (see :mod:`symgrad.runtime.generated`). The linear-layer module defines the batch level:

    scores(W, X)                            -> [X W^T (N, C)]
    data_objective_and_gradient(l, G, X, N) -> [1/N sum_i l_i, G X / N (C, D)]
    l2_penalty_and_gradient(W, lambda)      -> [lambda sum(W^2), 2 lambda W]

Expressions pass through :func:`symgrad.codegen.rewriting.stabilize` before printing; the proofs are about the
expressions before it.
"""

from __future__ import annotations

import math

import sympy as sp

from symgrad.codegen.modules import GeneratedFunction, module_text
from symgrad.codegen.rewriting import stabilize
from symgrad.runtime.generated import (
    LINEAR_LAYER,
    PACKAGE_DIRECTORY,
    REGENERATE_COMMAND,
    declaration_path,
    source_digest,
)
from symgrad.symbolic import registry
from symgrad.symbolic.linear_model_loss import LinearModelLoss
from symgrad.symbolic.notation import S, T
from symgrad.symbolic.objectives import linear_layer as layer


def _header(name: str) -> str:
    source = declaration_path(name).relative_to(PACKAGE_DIRECTORY).as_posix()
    return f"From symgrad/{source}; regenerate with `{REGENERATE_COMMAND}`."


def _bound(value: float) -> float | None:
    return None if math.isinf(value) else float(value)


def loss_metadata(loss: LinearModelLoss) -> dict:
    """What the run time needs to know about a loss, as Python literals."""
    return {
        "name": loss.name,
        "kind": loss.kind,
        "title": loss.title,
        "parameters": tuple(
            (p.name, float(p.default), _bound(p.low), _bound(p.high), p.meaning) for p in loss.parameters
        ),
        "kink_parameter": next((p.name for p in loss.parameters if p.symbol == loss.kink_value), None),
        "convex": loss.convex,
        "source": loss.source,
        "target_range": None if loss.target_range is None else tuple(float(v) for v in loss.target_range),
    }


def loss_functions(loss: LinearModelLoss) -> list[GeneratedFunction]:
    """The functions of a loss module, in the parameters' keyword names."""
    keywords = {p.symbol: sp.Symbol(p.name, real=True) for p in loss.parameters}
    forms = loss.class_axis()
    arguments = (S, T, *keywords.values())
    compiled = [stabilize(forms[part]).xreplace(keywords) for part in ("loss", "gradient")]
    kinks = [expression.xreplace(keywords) for pair in forms["kinks"] for expression in pair]
    return [
        GeneratedFunction("loss_and_score_gradient", arguments, tuple(compiled)),
        GeneratedFunction("kink_arguments", arguments, tuple(kinks)),
    ]


def loss_module_text(loss: LinearModelLoss, backend: str = "numpy", *, shipped: bool = True) -> str:
    """The module text of one loss for ``backend``; ``shipped`` records the digest of its declaration file."""
    constants = {"LOSS": loss_metadata(loss)}
    if shipped:
        constants["SOURCE_DIGEST"] = source_digest(loss.name)
    header = _header(loss.name) if shipped else f"A loss defined at run time: {loss.name}."
    keywords = [sp.Symbol(p.name, real=True) for p in loss.parameters]
    return module_text(loss_functions(loss), backend, header=header, constants=constants, scalar_symbols=keywords)


def linear_layer_module_text(backend: str = "numpy") -> str:
    """The module text of the batch level (:mod:`symgrad.symbolic.objectives.linear_layer`) for ``backend``."""
    functions = [
        GeneratedFunction("scores", (layer.weights, layer.inputs), (layer.batch_scores,)),
        GeneratedFunction(
            "data_objective_and_gradient",
            (layer.per_example_losses, layer.score_gradients, layer.inputs, layer.examples),
            (layer.data_loss, layer.data_gradient),
        ),
        GeneratedFunction(
            "l2_penalty_and_gradient",
            (layer.weights, layer.regularization_strength),
            (layer.l2_penalty, layer.l2_penalty_gradient),
        ),
    ]
    constants = {"SOURCE_DIGEST": source_digest(LINEAR_LAYER)}
    return module_text(functions, backend, header=_header(LINEAR_LAYER), constants=constants)


def shipped_module_texts(backend: str) -> dict[str, str]:
    """Every module shipped for ``backend``, by name: each declared loss, and the linear layer."""
    texts = {loss.name: loss_module_text(loss, backend) for loss in registry.all_losses() if _is_builtin(loss)}
    texts[LINEAR_LAYER] = linear_layer_module_text(backend)
    return texts


def _is_builtin(loss: LinearModelLoss) -> bool:
    return declaration_path(loss.name).is_file()
