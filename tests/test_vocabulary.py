"""One vocabulary across the API: a derivation's parameters are keyword arguments to its check as to its compiled
functions, the README states ``derive``'s real signature, and every place that takes a loss's name accepts the same
names and refuses any other with the same message."""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import symgrad
from symgrad.runtime.catalog import compiled_loss, loss_names
from symgrad.verification import hypothesis_strategies

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_check_derivation_takes_parameters_as_the_compiled_gradient_does():
    hinge = symgrad.derive("max(0, margin - y * w)", "w")
    compiled = symgrad.compile_derivation(hinge)
    at = np.array(0.25)
    # margin = 0.25, y = 1: exactly at the kink; the keyword form and the mapping form check the same function.
    assert compiled.gradient(at, margin=0.25, y=1.0) == compiled.gradient(at, **{"margin": 0.25, "y": 1.0})
    by_keyword = symgrad.check_derivation(hinge, at, margin=0.25, y=1.0, seed=3)
    by_mapping = symgrad.check_derivation(hinge, at, parameters={"margin": 0.25, "y": 1.0}, seed=3)
    assert by_keyword.ok and by_mapping.ok
    assert str(by_keyword) == str(by_mapping)
    assert by_keyword.kink and "1 met a kink" in str(by_keyword)
    smooth = symgrad.check_derivation(hinge, np.array(0.0), margin=1.0, y=-1.0, seed=3)
    assert smooth.ok and not smooth.kink and "0 met a kink" in str(smooth)  # y = -1 moves the kink to w = -1: smooth at 0, slope 1
    with pytest.raises(TypeError, match=r"unknown parameters \['margn'\]"):
        symgrad.check_derivation(hinge, at, margn=1.0)


def test_a_parameter_named_like_a_checker_option_goes_through_parameters():
    scaled = symgrad.derive("step * w**2", "w")
    with pytest.raises(TypeError, match=r"step: both a parameter of 'user' and an option of the checker"):
        symgrad.check_derivation(scaled, np.array(1.0), step=3.0)
    assert symgrad.check_derivation(scaled, np.array(1.0), parameters={"step": 3.0}, step=1e-4).ok
    with pytest.raises(TypeError, match="given both as a keyword and in parameters="):
        symgrad.check_derivation(symgrad.derive("a * w", "w"), np.array(1.0), a=1.0, parameters={"a": 2.0})


def test_derives_signature_in_the_readme_is_its_signature():
    signature = inspect.signature(symgrad.derive)
    plain = signature.replace(parameters=[p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()],
                              return_annotation=inspect.Signature.empty)
    mentioned = re.findall(r"derive\(expression[^`]*\)", README)
    assert mentioned and set(mentioned) == {f"derive{plain}"}


def name_takers():
    return {
        "compiled_loss": compiled_loss,
        "loss_and_grad_function numpy": lambda name: symgrad.loss_and_grad_function(name),
        "loss_and_grad_function jax": lambda name: symgrad.loss_and_grad_function(name, "jax"),
        "loss_and_grad_function dask": lambda name: symgrad.loss_and_grad_function(name, "dask"),
        "linear_model_problems": hypothesis_strategies.linear_model_problems,
        "linear_model_problems_at_kinks": hypothesis_strategies.linear_model_problems_at_kinks,
        "loss_parameters": hypothesis_strategies.loss_parameters,
    }


@pytest.mark.parametrize("taker", name_takers())
def test_every_place_that_takes_a_loss_name_accepts_the_same_names_and_refuses_others_alike(taker):
    take = name_takers()[taker]
    for name in loss_names():
        take(name)
    for bad in ("SVM", "svm ", "nope"):
        with pytest.raises(ValueError, match=re.escape(f"loss: no compiled loss called {bad!r}; available: ")):
            take(bad)
