"""Numerically stable forms of loss expressions, as named rewrite rules applied before printing.

>>> import sympy as sp
>>> from symgrad.codegen.rewriting import stabilize
>>> z = sp.Symbol("z", real=True)
>>> stabilize(sp.log(1 + sp.exp(z)))
logaddexp(0, z)
>>> stabilize(sp.log(1 / (1 + sp.exp(-z))))
-logaddexp(0, -z)
>>> stabilize(sp.exp(z) / (1 + sp.exp(z)))
exp(z - logaddexp(0, z))
>>> stabilize(sp.exp(z) - 1), stabilize(sp.log(1 + z**2))
(expm1(z), log1p(z**2))

``lambdify`` prints an expression as written, and the written forms of losses overflow long before their
values do: log(1 + e^z) is inf from z = 710 in float64 (89 in float32) where it equals z, and the sigmoid
e^z / (1 + e^z) evaluates inf/inf = nan there. Each rule below replaces one such form by an equal form that
stays finite wherever the value is finite.

Sums of exponentials. A sum D = e^{a_1} + ... + e^{a_n} (the constant 1 read as e^0) is split as
D = e^s R with R between 1 and n:

    two terms                 s = logaddexp(a_1, a_2)           R = 1
    n >= 3 terms              s = m = Max(a_1, ..., a_n)        R = sum_j e^{a_j - m}
    on the class axis         D = ClassSum(exp(E)):  s = M = ClassMax(E),  R = ClassSum(exp(E - M))

so that log D = s + log R and e^A / D = e^{A - s} / R, which overflow only where the value itself does.
A sum already shifted by its own maximum is recognised and left alone, so the rules reach a fixed point.

Each rule is a :class:`RewriteRule`, a :class:`sympy.codegen.rewriting.Optimization`: ``rule(expr)``
rewrites every match in ``expr``, and SymPy's ``optimize(expr, STABLE_RULES)`` is one pass of
:func:`stabilize`. :func:`to_elementary` writes the new nodes back as exp and log, for proofs.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.codegen.numpy_nodes import logaddexp
from sympy.codegen.rewriting import Optimization, optimize

from symgrad.symbolic.index_form import ClassMax, ClassSum

__all__ = [
    "MAX_PASSES",
    "STABLE_RULES",
    "RewriteRule",
    "class_log_sum_exp_max_shift",
    "class_softmax_max_shift",
    "exp_minus_one",
    "log_add_exp",
    "log_one_plus",
    "log_sigmoid",
    "log_softmax",
    "log_sum_exp_max_shift",
    "sigmoid_ratio",
    "softmax_max_shift",
    "stabilize",
    "to_elementary",
]


class RewriteRule(Optimization):
    """A named rewrite: ``rule(expr)`` returns ``expr`` with every match of the rule rewritten.

    Attributes:
        name: the rule's name, the same as the module-level value that holds it.
        __doc__: the identity the rule applies and why the new form is stable.
    """

    def __init__(self, name: str, doc: str, apply: Callable[[sp.Basic], sp.Basic]):
        super().__init__()
        self.name = name
        self.__doc__ = doc
        self._apply = apply

    def __call__(self, expr: sp.Basic) -> sp.Basic:
        return self._apply(expr)

    def __repr__(self) -> str:
        return f"RewriteRule({self.name!r})"


def _exponent(term: sp.Expr) -> sp.Expr | None:
    """a for the term e^a, 0 for the constant 1, None for any other term."""
    if isinstance(term, sp.exp):
        return term.args[0]
    return sp.S.Zero if term == 1 else None


def _sum_exponents(expr: sp.Expr) -> list[sp.Expr] | None:
    """[a_1, ..., a_n] when ``expr`` is e^{a_1} + ... + e^{a_n}, n >= 2, not a constant; else None."""
    if not (expr.is_Add and expr.free_symbols):
        return None
    exponents = [_exponent(term) for term in expr.args]
    return None if any(a is None for a in exponents) else exponents


def _is_class_sum_of_exponentials(expr: sp.Expr) -> bool:
    """True for ``ClassSum(exp(E))``."""
    return isinstance(expr, ClassSum) and isinstance(expr.args[0], sp.exp)


def _is_shifted(exponents, maximum) -> bool:
    """True when the exponents are b_j - M for a node M = maximum(b_1, ..., b_n) inside them."""
    candidates = set().union(*(a.atoms(maximum) for a in exponents))
    return any(maximum(*(a + candidate for a in exponents)) == candidate for candidate in candidates)


def _split_two_exponentials(expr: sp.Expr):
    """(logaddexp(a, b), 1) for ``expr`` = e^a + e^b, else None."""
    exponents = _sum_exponents(expr)
    if exponents is None or len(exponents) != 2:
        return None
    return logaddexp(*exponents), sp.S.One


def _split_many_exponentials(expr: sp.Expr):
    """(m, sum_j e^{a_j - m}) with m = Max(a_j) for ``expr`` = sum_j e^{a_j} with three or more terms not
    already shifted by their maximum, else None."""
    exponents = _sum_exponents(expr)
    if exponents is None or len(exponents) < 3 or _is_shifted(exponents, sp.Max):
        return None
    maximum = sp.Max(*exponents)
    return maximum, sp.Add(*(sp.exp(a - maximum) for a in exponents))


def _split_class_sum(expr: sp.Expr):
    """(M, ClassSum(exp(E - M))) with M = ClassMax(E) for ``expr`` = ClassSum(exp(E)), E not already
    shifted by its class maximum, else None."""
    if not _is_class_sum_of_exponentials(expr):
        return None
    exponent = expr.args[0].args[0]
    if _is_shifted([exponent], ClassMax):
        return None
    maximum = ClassMax(exponent)
    return maximum, ClassSum(sp.exp(exponent - maximum))


def _each(kind: type, rewrite: Callable[[sp.Basic], sp.Basic]) -> Callable[[sp.Basic], sp.Basic]:
    """Apply ``rewrite`` to every node of type ``kind``, innermost first; it returns a node unchanged when
    its pattern does not match."""
    return lambda expr: expr.replace(lambda node: isinstance(node, kind), rewrite)


def _log_of_sum(split) -> Callable[[sp.Basic], sp.Basic]:
    """log D -> s + log R for every log whose argument ``split`` reads as D = e^s R."""

    def rewrite(node: sp.log) -> sp.Expr:
        parts = split(node.args[0])
        return node if parts is None else parts[0] + sp.log(parts[1])

    return _each(sp.log, rewrite)


def _ratio_of_sums(split) -> Callable[[sp.Basic], sp.Basic]:
    """e^A * D^p -> e^{A + p s} R^p (p < 0) for every product with a factor D^p that ``split`` reads as
    D = e^s R; every exponential factor of the product joins the one exponent.

    Products are rewritten first, so that their exponential factors join the denominator's shift; then the
    powers D^p that stand alone (outside any product).
    """

    def is_ratio_factor(factor: sp.Expr) -> bool:
        return factor.is_Pow and factor.exp.is_negative and split(factor.base) is not None

    def fold(factors) -> sp.Expr:
        exponent, kept = sp.S.Zero, []
        for factor in factors:
            if isinstance(factor, sp.exp):
                exponent += factor.args[0]
            elif is_ratio_factor(factor):
                shift, remainder = split(factor.base)
                exponent += factor.exp * shift
                kept.append(remainder**factor.exp)
            else:
                kept.append(factor)
        return sp.Mul(*kept) * sp.exp(exponent)

    def apply(expr: sp.Basic) -> sp.Basic:
        products = expr.replace(lambda e: e.is_Mul and any(map(is_ratio_factor, e.args)), lambda e: fold(e.args))
        return products.replace(is_ratio_factor, lambda e: fold([e]))

    return apply


def _exponential_over(expr: sp.Expr):
    """(A, D) when ``expr`` is e^A / D, a product of exponential factors (none: A = 0) and one 1/D; else None."""
    numerator, denominators = sp.S.Zero, []
    for factor in sp.Mul.make_args(expr):
        if isinstance(factor, sp.exp):
            numerator += factor.args[0]
        elif factor.is_Pow and factor.exp == -1:
            denominators.append(factor.base)
        else:
            return None
    return (numerator, denominators[0]) if len(denominators) == 1 else None


def _probability_exponents(expr: sp.Expr):
    """(a, b) when ``expr`` is the probability e^a / (e^a + e^b), written as such (1 read as e^0, so
    1/(1 + e^b) is a = 0 and e^a/(1 + e^a) is b = 0) or as the complement 1 - e^b / (e^a + e^b); else None."""
    if expr.is_Add and len(expr.args) == 2 and sp.S.One in expr.args:
        complement = _probability_exponents(1 - expr)
        return None if complement is None else complement[::-1]
    ratio = _exponential_over(expr)
    exponents = None if ratio is None else _sum_exponents(ratio[1])
    if exponents is None or len(exponents) != 2:
        return None
    for own, other in (exponents, exponents[::-1]):
        if sp.expand(ratio[0] - own) == 0:
            return own, other
    return None


def _log_sigmoid(node: sp.log) -> sp.Expr:
    exponents = _probability_exponents(node.args[0])
    if exponents is None:
        return node
    own, other = exponents
    return -logaddexp(0, other - own)


def _log_softmax(node: sp.log) -> sp.Expr:
    argument = node.args[0]
    ratio = _exponential_over(argument)
    if ratio is None or _probability_exponents(argument) is not None:
        return node
    numerator, denominator = ratio
    if _sum_exponents(denominator) is None and not _is_class_sum_of_exponentials(denominator):
        return node
    return numerator - sp.log(denominator)


def _with_expm1(add: sp.Add) -> sp.Expr:
    constant = sp.Add(*(term for term in add.args if term.is_number))
    if constant == 0:
        return add
    for term in add.args:
        coefficient, factor = term.as_coeff_Mul()
        if isinstance(factor, sp.exp) and not term.is_number and coefficient == -constant:
            return add - term - constant + coefficient * expm1(factor.args[0])
    return add


def _log1p(node: sp.log) -> sp.Expr:
    argument = node.args[0]
    if not (argument.is_Add and sp.S.One in argument.args):
        return node
    rest = argument - 1
    handled_elsewhere = _sum_exponents(argument) is not None or _probability_exponents(argument) is not None
    return node if rest.is_number or handled_elsewhere else log1p(rest)


log_sigmoid = RewriteRule(
    "log_sigmoid",
    """log(e^a / (e^a + e^b)) -> -logaddexp(0, b - a): the log of a sigmoid, log sigma(u) = -logaddexp(0, -u).

    Matched as written with the constant 1 read as e^0: log(1/(1 + e^{-z})) -> -logaddexp(0, -z),
    log(e^z/(1 + e^z)) -> -logaddexp(0, -z), and the complement log(1 - 1/(1 + e^{-z})) -> -logaddexp(0, z).
    As written, 1/(1 + e^{-z}) is 0 for z below -745 (float64), and log 0 = -inf where the value is about z;
    the complement 1 - sigma cancels to 0 for z above 37. -logaddexp(0, -u) is finite for every finite u
    and keeps its relative accuracy near 0, where u - logaddexp(0, u) would cancel.
    """,
    _each(sp.log, _log_sigmoid),
)

log_softmax = RewriteRule(
    "log_softmax",
    """log(e^A / D) -> A - log D, for D a sum of exponentials (explicit, or ClassSum(exp(E))).

    The log of a softmax probability: the ratio underflows to 0 when A is far below the largest exponent
    of D (log 0 = -inf), and overflows to inf/inf above; A - log D leaves log D to the log-sum-exp rules.
    Two-class probabilities are left to ``log_sigmoid``, which is more accurate near 0.
    """,
    _each(sp.log, _log_softmax),
)

log_add_exp = RewriteRule(
    "log_add_exp",
    """log(e^a + e^b) -> logaddexp(a, b), the constant 1 read as e^0: log(1 + e^z) -> logaddexp(0, z).

    ``logaddexp`` evaluates max(a, b) + log1p(e^{-|a - b|}), which never overflows; log(1 + e^z) as
    written is inf from z = 710 (float64) / 89 (float32), where its value is z, and so is log1p(e^z)
    (SymPy's ``log1p_opt``).
    """,
    _log_of_sum(_split_two_exponentials),
)

log_sum_exp_max_shift = RewriteRule(
    "log_sum_exp_max_shift",
    """log(sum_j e^{a_j}) -> m + log(sum_j e^{a_j - m}), m = Max(a_1, ..., a_n), for n >= 3 terms.

    Every shifted exponent is at most 0 and one is 0, so the sum lies in [1, n]: it neither overflows nor
    underflows to 0. Two terms are ``log_add_exp``'s; a sum already shifted by its maximum is left alone.
    """,
    _log_of_sum(_split_many_exponentials),
)

class_log_sum_exp_max_shift = RewriteRule(
    "class_log_sum_exp_max_shift",
    """log(ClassSum(exp(E))) -> M + log(ClassSum(exp(E - M))), M = ClassMax(E): log-sum-exp over classes.

    The same shift as ``log_sum_exp_max_shift``, by each example's largest class value: the class sum of
    exp(E - M) lies in [1, C]. Exact because M is constant along the class axis.
    """,
    _log_of_sum(_split_class_sum),
)

sigmoid_ratio = RewriteRule(
    "sigmoid_ratio",
    """e^A (e^a + e^b)^p -> e^{A + p logaddexp(a, b)} for p < 0, the constant 1 read as e^0.

    The sigmoid and its relatives in gradients: e^z/(1 + e^z) -> e^{z - logaddexp(0, z)},
    1/(1 + e^{-z}) -> e^{-logaddexp(0, -z)}, x e^{-z}/(1 + e^{-z}) -> x e^{-z - logaddexp(0, -z)}. Every
    exponential factor of the product joins the one exponent, which is the log of the ratio: it overflows
    only where the ratio does, and inf/inf or inf * 0 cannot occur. Other factors stay outside.
    """,
    _ratio_of_sums(_split_two_exponentials),
)

softmax_max_shift = RewriteRule(
    "softmax_max_shift",
    """e^A (sum_j e^{a_j})^p -> e^{A + p m} (sum_j e^{a_j - m})^p for p < 0, m = Max(a_j), n >= 3 terms.

    The softmax probability e^{a_k} / sum_j e^{a_j} becomes e^{a_k - m} / sum_j e^{a_j - m}: the numerator
    is at most 1 and the denominator lies in [1, n], so nothing overflows.
    """,
    _ratio_of_sums(_split_many_exponentials),
)

class_softmax_max_shift = RewriteRule(
    "class_softmax_max_shift",
    """e^A ClassSum(exp(E))^p -> e^{A + p M} ClassSum(exp(E - M))^p for p < 0, M = ClassMax(E).

    The softmax on the class axis: exp(E)/ClassSum(exp(E)) -> exp(E - M)/ClassSum(exp(E - M)), as
    ``softmax_max_shift`` with each example's largest class value.
    """,
    _ratio_of_sums(_split_class_sum),
)

exp_minus_one = RewriteRule(
    "exp_minus_one",
    """c e^z - c -> c expm1(z) in a sum, c a nonzero number: e^z - 1 -> expm1(z), 1 - e^z -> -expm1(z).

    For |z| << 1, e^z - 1 cancels to the rounding error of e^z (relative error about 1e-16/|z| in float64);
    expm1 is accurate there. A sum whose constant does not cancel a coefficient (e^z - 2) is left as is.
    """,
    _each(sp.Add, _with_expm1),
)

log_one_plus = RewriteRule(
    "log_one_plus",
    """log(1 + x) -> log1p(x).

    For |x| << 1 the sum 1 + x rounds most of x away; log1p keeps it. Left alone where log1p would still
    overflow and another rule applies: x = e^z or a sum of exponentials (log1p(e^z) is inf for large z;
    ``log_add_exp``, ``log_sum_exp_max_shift``), and the complement of a sigmoid (``log_sigmoid``).
    """,
    _each(sp.log, _log1p),
)

STABLE_RULES = (
    log_sigmoid,
    log_softmax,
    log_add_exp,
    log_sum_exp_max_shift,
    class_log_sum_exp_max_shift,
    sigmoid_ratio,
    softmax_max_shift,
    class_softmax_max_shift,
    exp_minus_one,
    log_one_plus,
)
"""Every rule, in the order :func:`stabilize` applies them: logs of ratios before the ratios (once a ratio
is an exponential, its log is no longer recognised), and ``log_one_plus`` last."""

MAX_PASSES = 10
"""Passes :func:`stabilize` makes before it gives up on reaching a fixed point."""


def stabilize(expr, rules=STABLE_RULES):
    """``expr`` with the rules applied, pass after pass, until a pass changes nothing.

    Args:
        expr: a SymPy expression (index form and class-axis expressions included), a matrix of them, or a
            tuple or list of them (a gradient); an expression that matches no rule is returned unchanged.
        rules: the rules of one pass, applied in order (by SymPy's ``optimize``, which takes the highest
            ``priority`` first; all of these have the same).

    Returns:
        The same kind of object as ``expr``, with every match rewritten.

    Raises:
        RuntimeError: the rules still change the expression after ``MAX_PASSES`` passes (they cycle).
    """
    if isinstance(expr, (tuple, list)):
        return type(expr)(stabilize(e, rules) for e in expr)
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: stabilize(e, rules))
    expr = sp.sympify(expr)
    for _ in range(MAX_PASSES):
        rewritten = optimize(expr, rules)
        if rewritten == expr:
            return expr
        expr = rewritten
    raise RuntimeError(f"stabilize: no fixed point after {MAX_PASSES} passes of {list(rules)}; last: {expr}")


def to_elementary(expr: sp.Basic) -> sp.Basic:
    """``expr`` with logaddexp(a, b), expm1(z) and log1p(z) written as log(e^a + e^b), e^z - 1 and
    log(1 + z): the form in which a rewrite is proved equal to the original (``Max`` and the class-axis
    reductions are kept)."""
    return (
        expr.replace(logaddexp, lambda a, b: sp.log(sp.exp(a) + sp.exp(b)))
        .replace(expm1, lambda z: sp.exp(z) - 1)
        .replace(log1p, lambda z: sp.log(1 + z))
    )
