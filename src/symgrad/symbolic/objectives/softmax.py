"""Softmax cross-entropy (Lecture 3), with the label as a one-hot vector t (s_y = sum_c t_c s_c).

    L_i = -log(e^{s_y} / sum_j e^{s_j})
    dL_i/ds_k = p_k - 1(k = y),        p_k = e^{s_k} / sum_j e^{s_j}

Shift invariance, L(s + c 1) = L(s) for every real c (and the same for the gradient), licenses
evaluating at s - max_j s_j: then no exponent is positive and the sum is at least 1, so nothing
overflows. It is proved here for C = 3 at every label (:func:`prove_shift_invariance`) and for symbolic C
(:func:`prove_shift_invariance_index_form`), as is the log-sum-exp form L_i = log sum_j e^{s_j} - s_y that the
compiled loss :mod:`symgrad.symbolic.losses.softmax` is declared in (:func:`prove_log_sum_exp_form`).
"""

import sympy as sp

from symgrad.symbolic.derivation import Derivation, is_identically_zero
from symgrad.symbolic.notation import score_symbols
from symgrad.symbolic.registry import register


def correct_class_score(scores, onehot) -> sp.Expr:
    """s_y = sum_c t_c s_c."""
    return sum(t * s for t, s in zip(onehot, scores, strict=True))


def cross_entropy(scores, onehot) -> sp.Expr:
    """The lecture's L_i = -log(e^{s_y} / sum_j e^{s_j})."""
    return -sp.log(sp.exp(correct_class_score(scores, onehot)) / sum(sp.exp(s) for s in scores))


def cross_entropy_log_sum_exp(scores, onehot) -> sp.Expr:
    """L_i = log sum_j e^{s_j} - s_y."""
    return sp.log(sum(sp.exp(s) for s in scores)) - correct_class_score(scores, onehot)


def softmax_lecture_score_gradient(scores, onehot) -> list[sp.Expr]:
    """dL_i/ds_k = p_k - t_k, the probability minus the one-hot label."""
    normalizer = sum(sp.exp(s) for s in scores)
    return [sp.exp(s) / normalizer - t for s, t in zip(scores, onehot, strict=True)]


def prove_log_sum_exp_form(number_of_classes: int = 3) -> bool:
    """Prove -log(e^{s_y} / sum_j e^{s_j}) == log sum_j e^{s_j} - s_y for real scores, any one-hot t."""
    scores, onehot = score_symbols(number_of_classes)
    difference = cross_entropy(scores, onehot) - cross_entropy_log_sum_exp(scores, onehot)
    return is_identically_zero(sp.expand_log(difference, force=True))


def prove_shift_invariance(number_of_classes: int = 3) -> bool:
    """Prove L(s + c 1) = L(s) and grad L(s + c 1) = grad L(s) for symbolic c and s, at every label t = e_y.

    (It needs sum_c t_c = 1: for other t the loss moves by c (1 - sum_c t_c).)
    """
    scores, onehot = score_symbols(number_of_classes)
    shift = sp.Symbol("c", real=True)
    shifted = {s: s + shift for s in scores}
    for label in range(number_of_classes):
        loss = cross_entropy(scores, [int(c == label) for c in range(number_of_classes)])
        differences = [loss.xreplace(shifted) - loss]
        differences += [sp.diff(loss, s).xreplace(shifted) - sp.diff(loss, s) for s in scores]
        if not all(is_identically_zero(sp.expand_log(d, force=True)) for d in differences):
            return False
    return True


def prove_shift_invariance_index_form() -> bool:
    """Prove L(s + c 1) = L(s) with symbolic C: s an IndexedBase, the normalizer a Sum over j."""
    number_of_classes = sp.Symbol("C", integer=True, positive=True)
    j, label = sp.symbols("j y", integer=True)
    s = sp.IndexedBase("s", real=True)
    shift = sp.Symbol("c", real=True)

    def loss(offset):
        normalizer = sp.Sum(sp.exp(s[j] + offset), (j, 0, number_of_classes - 1))
        return -sp.log(sp.exp(s[label] + offset) / normalizer)

    return is_identically_zero(sp.expand_log(loss(shift) - loss(0), force=True))


_scores, _onehot = score_symbols(3)
_one_hot_defaults = {"t0": 1.0, "t1": 0.0, "t2": 0.0}

softmax_ce = register(
    Derivation(
        name="softmax_ce",
        title="L_i = -log(e^{s_y} / sum_j e^{s_j}) over C = 3 scores, label one-hot t",
        objective=cross_entropy(_scores, _onehot),
        variables=_scores,
        lecture_gradient=softmax_lecture_score_gradient(_scores, _onehot),
        parameters=_onehot,
        defaults=_one_hot_defaults,
        source="Lecture 3, softmax classifier (cross-entropy loss)",
        convex=True,
    )
)
