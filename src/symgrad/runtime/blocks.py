"""A loss on many examples, a block of rows at a time: X is read from memory once, not once per product.

Both matrix products of a linear classifier read X (N, D): S = X W^T, then G X once the per-example code has
given G. On all of X at once, X (hundreds of MB at CIFAR size) is read from memory twice; a block's G X reads the
rows that its S has just brought into cache. :func:`accumulate_blocks` runs the generated code that way, for the
NumPy backend (:mod:`symgrad.runtime.losses`) and for each chunk of a Dask X (:mod:`symgrad.runtime.dask_evaluation`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symgrad.runtime.generated import linear_layer

BLOCK_BYTES = 8 * 2**20
"""A loss on many examples runs a block of about this many bytes of X's rows at a time (:func:`row_blocks`). At
N = 49000, D = 3073 this measured ~0.8x the two whole-X products alone (105 against 135 ms in float32, 212 against
267 ms in float64), with blocks from 64 to 1024 rows alike; 8 MiB keeps the per-block Python work (~40 us a block)
near 2 % of a call, and one block is the whole batch below 16 MiB (every mini-batch of CIFAR-sized rows)."""


def is_one_block(X: np.ndarray) -> bool:
    """True when X (N, D) runs as a single block: at most two blocks' worth of rows."""
    return X.shape[0] <= 2 * _rows_per_block(X)


def _rows_per_block(X: np.ndarray) -> int:
    return max(1, BLOCK_BYTES // max(1, X.shape[1] * X.itemsize))


def row_blocks(X: np.ndarray) -> list[slice]:
    """Consecutive row ranges covering X (N, D), each of about :data:`BLOCK_BYTES`, of nearly equal sizes; one
    range when X is at most two blocks (:func:`is_one_block`)."""
    number_of_rows = X.shape[0]
    if is_one_block(X):
        return [slice(0, number_of_rows)]
    bounds = np.linspace(0, number_of_rows, -(-number_of_rows // _rows_per_block(X)) + 1).round().astype(int)
    return [slice(start, stop) for start, stop in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]


def block_sums(per_example, W: np.ndarray, X_b: np.ndarray, T_b: np.ndarray, values: tuple, out: np.ndarray,
               inspect_scores: Callable[[np.ndarray], None], score_gradient_scale: float | None = None):
    """One block's share of the data term: returns sum_i l_i over its rows (a NumPy scalar) and writes G_b X_b
    (C, D) into ``out``.

    S_b = X_b W^T by the generated linear layer, as (C, n_b) rows, handed to ``inspect_scores`` (which raises, or
    records, when they are not finite: :func:`symgrad.runtime.losses.finite_scores_required`); then the generated
    ``per_example(S_b, T_b, *values) -> (l_b (1, n_b), G_b (C, n_b))``, G_b times ``score_gradient_scale`` when
    given. W (C, D), X_b (n_b, D) floating, T_b (C, n_b) targets.
    """
    # X W^T is the faster orientation of the product; the per-example code reads one class per row, and
    # contiguous rows (a copy of C * n_b values) run faster than strided ones.
    S = np.ascontiguousarray(linear_layer().scores(W, X_b)[0].T)
    inspect_scores(S)
    losses, G = per_example(S, T_b, *values)
    if score_gradient_scale is not None:
        G = G * score_gradient_scale
    np.matmul(G, X_b, out=out)
    return losses.sum()


def accumulate_blocks(per_example, W: np.ndarray, X: np.ndarray, targets_of, values: tuple, out: np.ndarray,
                      inspect_scores: Callable[[np.ndarray], None], score_gradient_scale: float | None = None):
    """The data term's two sums, a block of X's rows at a time (:func:`row_blocks`, :func:`block_sums`): returns
    sum_i l_i (a NumPy scalar), and writes sum_b G_b X_b = G X (C, D) into ``out``. X (N, D) floating, out
    (C, D); ``targets_of(rows)`` gives a block's targets T_b (C, n_b); the other arguments as :func:`block_sums`.
    """
    first, *others = row_blocks(X)
    loss_sum = block_sums(per_example, W, X[first], targets_of(first), values, out, inspect_scores,
                          score_gradient_scale)
    block_product = np.empty_like(out) if others else None
    for rows in others:
        loss_sum = loss_sum + block_sums(per_example, W, X[rows], targets_of(rows), values, block_product,
                                         inspect_scores, score_gradient_scale)
        out += block_product
    return loss_sum


def mean_data_term(per_example, W: np.ndarray, X: np.ndarray, targets_of, values: tuple, out: np.ndarray,
                   inspect_scores: Callable[[np.ndarray], None], number_of_examples: int | None = None):
    """(1/N sum_i l_i, 1/N G X): :func:`accumulate_blocks`, both sums scaled by 1/N as the generated
    ``data_objective_and_gradient`` scales them. The gradient (C, D) is ``out``, scaled in place; N is
    ``number_of_examples`` (a Dask chunk's N is the whole X's), by default X's rows."""
    loss_sum = accumulate_blocks(per_example, W, X, targets_of, values, out, inspect_scores)
    scale = (X.shape[0] if number_of_examples is None else number_of_examples) ** (-1.0)
    np.multiply(out, scale, out=out)
    return scale * loss_sum, out
