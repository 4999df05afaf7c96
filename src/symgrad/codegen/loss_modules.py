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

and the two-layer network's module its forward and backward passes, one column per example
(:mod:`symgrad.symbolic.objectives.two_layer`):

    hidden_layer(W1, b1, X)            -> [Z = W1 X^T + b1 (H, N)]
    relu(Z)                            -> [max(0, Z)]
    output_layer(W2, b2, A)            -> [S = W2 A + b2 (C, N)]
    mean_score_gradients(G, N)         -> [G / N (C, N)]
    output_layer_gradients(G_mean, A, W2) -> [(A G_mean^T)^T (C, H), G_mean 1 (C, 1), W2^T G_mean (H, N)]
    relu_gradient(dA, Z, H0)           -> [dA * H(Z), H(0) = H0, H0 a scalar of the computing dtype]
    hidden_layer_gradients(dZ, X)      -> [dZ X = (X^T dZ^T)^T (H, D), dZ 1 (H, 1)]

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
    TWO_LAYER,
    REGENERATE_COMMAND,
    declaration_path,
    source_digest,
)
from symgrad.symbolic import registry
from symgrad.symbolic.linear_model_loss import LinearModelLoss
from symgrad.symbolic.notation import S, T
from symgrad.symbolic.objectives import linear_layer as layer
from symgrad.symbolic.objectives import two_layer as network


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


def two_layer_module_text(backend: str = "numpy") -> str:
    """The module text of the two-layer network's passes (:mod:`symgrad.symbolic.objectives.two_layer`) for
    ``backend``; the elementwise steps are printed from their scalar forms, which apply entry by entry to arrays."""
    Z, dA = sp.Symbol("Z", real=True), sp.Symbol("dA", real=True)
    elementwise = {network.relu_input: Z, network.upstream_gradient: dA}
    functions = [
        GeneratedFunction("hidden_layer", (network.first_weights, network.first_biases, layer.inputs),
                          (network.hidden_pre_activations,)),
        GeneratedFunction("relu", (Z,), (network.relu.xreplace(elementwise),)),
        GeneratedFunction("output_layer", (network.second_weights, network.second_biases, network.hidden_activations),
                          (network.scores,)),
        GeneratedFunction("mean_score_gradients", (network.score_gradients, layer.examples),
                          (network.score_gradients / layer.examples,)),
        GeneratedFunction(
            "output_layer_gradients",
            (network.mean_score_gradients, network.hidden_activations, network.second_weights),
            network.output_layer_gradients_as_computed,
        ),
        GeneratedFunction("relu_gradient", (dA, Z, network.relu_kink_value),
                          (network.pre_activation_gradient.xreplace(elementwise),)),
        GeneratedFunction("hidden_layer_gradients", (network.pre_activation_gradients, layer.inputs),
                          (network.first_weights_gradient_as_computed, network.first_biases_gradient)),
    ]
    constants = {"SOURCE_DIGEST": source_digest(TWO_LAYER)}
    return module_text(functions, backend, header=_header(TWO_LAYER), constants=constants,
                       scalar_symbols=[network.relu_kink_value], heaviside_as_comparisons=True)


def shipped_module_texts(backend: str) -> dict[str, str]:
    """Every module shipped for ``backend``, by name: each declared loss, the linear layer and the two-layer network."""
    texts = {loss.name: loss_module_text(loss, backend) for loss in registry.all_losses() if _is_builtin(loss)}
    texts[LINEAR_LAYER] = linear_layer_module_text(backend)
    texts[TWO_LAYER] = two_layer_module_text(backend)
    return texts


def _is_builtin(loss: LinearModelLoss) -> bool:
    return declaration_path(loss.name).is_file()
