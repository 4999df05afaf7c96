"""Index notation for your own loss (:func:`symgrad.define_loss`): the scores ``s[j]``, the one-hot label ``t[j]``,
``label_score`` (s_y), ``class_sum`` and ``class_max`` over the classes, the indices ``j``, ``c`` (summed) and ``k``
(the class a derivative is taken for), and, for a regression loss, the ``prediction`` u = w^T x and the ``target``.
See :mod:`symgrad.symbolic.notation`.
"""

from symgrad.symbolic.notation import (
    C,
    c,
    class_max,
    class_sum,
    j,
    k,
    label_score,
    prediction,
    s,
    t,
    target,
)

__all__ = ["C", "c", "class_max", "class_sum", "j", "k", "label_score", "prediction", "s", "t", "target"]
