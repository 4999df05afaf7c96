"""The Crammer-Singer multiclass SVM: the compiled loss ``crammer_singer``.

    L_i = max(0, Delta + max_{j != y_i} s_j - s_{y_i})
    dL_i/ds = e_{j*} - e_{y_i} where the margin is positive (j* the largest other score), 0 where it is negative

Only the most violating class is penalized (the Weston-Watkins SVM, ``svm``, sums over every class). With
e_j = s_j + Delta (1 - t_j) (so e_y = s_y) the loss is max_j e_j - s_y: one maximum over all classes, the
label's own term standing for the max(0, .). Its derivative is the mean of the tied maxima's derivatives
(:class:`symgrad.symbolic.index_form.ClassMaximum`): e_{j*} - e_y away from ties, and at a tie a convex
combination of the tied classes' limiting gradients (an element of the Clarke generalized gradient).
"""

import numpy as np
import sympy as sp

from symgrad.symbolic.linear_model_loss import LinearModelLoss, LossParameter
from symgrad.symbolic.notation import class_max, class_sum, j, k, label_score, s, t

margin = sp.Symbol("Delta", real=True)


def augmented_score(index: sp.Symbol) -> sp.Expr:
    """e[index] = s[index] + Delta (1 - t[index]): the scores with the margin added to every class but the label."""
    return s[index] + margin * (1 - t[index])


largest_augmented_score = class_max(augmented_score(j))
largest_other_score = class_max((1 - t[j]) * s[j] + t[j] * (label_score - margin - 1))
"""max(max_{j != y} s_j, s_y - Delta - 1): the label's entry s_y - Delta - 1 gives the margin below the sign of
Delta + max_{j != y} s_j - s_y (it is -1 < 0 where it wins), so it changes neither max(0, margin) nor its sign."""
violation = margin + largest_other_score - label_score
"""The margin Delta + max_{j != y} s_j - s_y (where it is positive or zero; negative where it is negative)."""


def is_largest_other(index: sp.Symbol) -> sp.Expr:
    """1 when class ``index`` is not the label and its score is the largest of the other classes' (ties too)."""
    return (1 - t[index]) * sp.Heaviside(s[index] - largest_other_score, 1)


def lecture_score_gradient() -> sp.Expr:
    """dL_i/ds[k] as the lecture states it: where the margin is positive, e_{j*} - e_y shared among the n tied
    largest other classes; at a zero margin the label ties too and each of the n + 1 gets 1 / (n + 1); 0 below."""
    tied = class_sum(is_largest_other(j))
    share = sp.Heaviside(violation, 1) / (tied + 1 - sp.Heaviside(violation, 0))
    return share * (is_largest_other(k) - tied * t[k])


def naive_crammer_singer(W, X, y, reg=0.0, delta=1.0):
    """The Crammer-Singer loss and dW (C, D), one example at a time; ties share the gradient equally."""
    loss, dW = 0.0, np.zeros(W.shape)
    for x, label in zip(X, y, strict=True):
        augmented = W @ x + delta
        augmented[label] -= delta
        largest = augmented.max()
        loss += largest - augmented[label]
        tied = augmented == largest
        dW += np.outer(tied / tied.sum(), x)
        dW[label] -= x
    return loss / len(X) + reg * np.sum(W * W), dW / len(X) + 2 * reg * W


LOSS = LinearModelLoss(
    name="crammer_singer",
    kind="classifier",
    title="Crammer-Singer SVM: L_i = max(0, Delta + max_{j != y} s_j - s_y)",
    per_example=largest_augmented_score - label_score,
    lecture_loss=sp.Max(0, violation),
    lecture_gradient=lecture_score_gradient(),
    parameters=(LossParameter(margin, 1.0, meaning="the margin Delta", keyword="delta"),),
    source="Crammer and Singer (2001), the multiclass SVM with one margin per example",
    convex=True,
    # Proved case by case over every ordering of the scores: 2 s for C = 2, 12 s for C = 3, 7 minutes for C = 4.
    proof_class_counts=(2, 3),
    reference=naive_crammer_singer,
)
