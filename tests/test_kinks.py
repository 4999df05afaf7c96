"""Points exactly at kinks, found by solving a kink argument = 0."""

import numpy as np
import pytest
import sympy as sp

import symgrad
from symgrad.symbolic.kinks import kink_point

NON_SMOOTH = [d for d in symgrad.all_derivations() if not d.is_smooth]


def test_the_registry_has_non_smooth_derivations():
    assert {"svm_hinge", "svm", "l1_regularizer"} <= {d.name for d in NON_SMOOTH}


@pytest.mark.parametrize("derivation", NON_SMOOTH, ids=lambda d: d.name)
@pytest.mark.parametrize("seed", range(5))
def test_a_kink_point_zeroes_one_kink_argument_and_passes_the_subgradient_check(derivation, seed):
    rng = np.random.default_rng(seed)
    x = kink_point(derivation, rng)
    assert x is not None and x.shape == derivation.shape
    parameters = {p.name: derivation.defaults.get(p.name, 0) for p in derivation.parameters}
    assert symgrad.compile_derivation(derivation).kink_distance(x, **parameters) == 0
    report = symgrad.check_derivation(derivation, x, parameters=parameters)
    assert report.ok, str(report)


def test_kink_arguments_are_read_off_max_abs_and_heaviside():
    a, b = sp.symbols("a b", real=True)
    derivation = symgrad.derive("max(0, a - b) + abs(b) + Max(a, b, 1)", wrt="a, b")
    # Up to sign (the zeros are what matters): max(0, a - b) -> a - b; |b| -> b; Max(a, b, 1) -> a - b, a - 1, b - 1.
    up_to_sign = lambda expressions: {frozenset((e, -e)) for e in expressions}  # noqa: E731
    assert up_to_sign(derivation.kink_arguments) == up_to_sign([a - b, b, a - 1, b - 1])


def test_a_smooth_objective_has_no_kink_point():
    assert kink_point(symgrad.get_derivation("polynomial"), np.random.default_rng(0)) is None
    assert symgrad.compile_derivation(symgrad.get_derivation("polynomial")).kink_distance(np.zeros(3)) == np.inf
