"""Critical points from grad f = 0, classified by the Hessian."""

import sympy as sp

import symgrad
from symgrad.symbolic.critical import classify


def kinds(name):
    return [(tuple(p.point.values()), p.kind) for p in symgrad.critical_points(symgrad.get_derivation(name))]


def test_the_bowls_have_one_minimum_at_the_origin():
    assert kinds("bowl_1d") == [((0,), "minimum")]
    assert kinds("bowl_2d") == [((0, 0), "minimum")]


def test_w1_squared_minus_w2_squared_has_a_saddle_at_the_origin():
    assert kinds("saddle") == [((0, 0), "saddle")]


def test_the_lecture_polynomial_has_only_a_saddle_at_the_origin():
    # 5 x1 = 3 x3^2 and x2 x3 = 0 force x2 = 0 or x3 = 0, and then 3 x1^2 + 5 x2 = 0 leaves only the origin;
    # the Hessian there, [[0, 5, 0], [5, 0, 0], [0, 0, 0]], has eigenvalues 5, -5, 0.
    (point,) = symgrad.critical_points(symgrad.get_derivation("polynomial"))
    assert tuple(point.point.values()) == (0, 0, 0)
    assert sorted(point.hessian_eigenvalues) == [-5, 0, 5]
    assert point.kind == "saddle"


def test_a_maximum_and_an_inconclusive_point():
    w = sp.Symbol("w", real=True)
    cap = symgrad.Derivation("cap_demo", "-(w - 1)^2", -((w - 1) ** 2), (w,), (-2 * (w - 1),))
    assert [(p.point[w], p.kind) for p in symgrad.critical_points(cap)] == [(1, "maximum")]
    flat = symgrad.Derivation("quartic_demo", "w^4", w**4, (w,), (4 * w**3,))
    assert [p.kind for p in symgrad.critical_points(flat)] == ["inconclusive"]
    assert classify([0, 0]) == "inconclusive"
