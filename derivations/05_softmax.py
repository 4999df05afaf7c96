"""Lecture 3: softmax cross-entropy, dL/ds_k = p_k - 1(k = y) proved, shift invariance proved and used for
a stable compiled form, the lecture's worked numbers, and a softmax classifier trained on the digits."""

import math
import shutil
import textwrap

import numpy as np
import sympy as sp

from symgrad import accuracy, gradient_descent, load_digits_dataset, softmax_loss_and_grad
from symgrad.runtime.catalog import compiled_loss
from symgrad.symbolic.objectives import softmax
from symgrad.symbolic.registry import get_loss

WIDTH = shutil.get_terminal_size().columns

print(softmax.softmax_ce.pretty())
print()
print("-log(e^{s_y} / sum e^{s_j}) == log sum e^{s_j} - s_y:", softmax.prove_log_sum_exp_form(3))
print("L(s + c 1) = L(s) and its gradient too (C = 3):", softmax.prove_shift_invariance(3))
print("L(s + c 1) = L(s) for symbolic C:", softmax.prove_shift_invariance_index_form())
declaration = get_loss("softmax")
print("compiled loss `softmax`, L_i in index notation:")
print(sp.pretty(declaration.per_example, num_columns=WIDTH))
print("  dL/ds[k] derived for symbolic C:")
print(sp.pretty(declaration.score_gradient, num_columns=WIDTH))
print("  the ratio form and p_k - t_k, written out for C = 2, 3, 4 at every label:", declaration.verify())
print()

cat_scores = np.array([3.2, 5.1, -1.7])
loss, gradient = compiled_loss("softmax").module.loss_and_score_gradient(cat_scores[:, None], np.eye(3)[:, [0]])
probabilities = gradient[:, 0] + np.eye(3)[0]
print("lecture: exp 24.5, 164.0, 0.18; p 0.13, 0.87, 0.00; loss -ln 0.13 = 2.04")
print("symgrad: exp", np.round(np.exp(cat_scores), 2), "p", np.round(probabilities, 2), "loss", round(float(loss[0, 0]), 4))
print(f"loss at equal scores, C = 10: {softmax_loss_and_grad(np.zeros((10, 3)), np.ones((2, 3)), np.array([0, 1]))[0]:.6f}"
      f" (ln 10 = {math.log(10):.6f})")
for dtype in (np.float32, np.float64):
    W = np.array([[1e4], [-1e4], [0.0]], dtype=dtype)
    loss, dW = softmax_loss_and_grad(W, np.ones((1, 1), dtype), np.array([1]))
    print(f"scores (1e4, -1e4, 0), label 1, {np.dtype(dtype).name}: loss {loss:g}, dW {dW.ravel()} ({dW.dtype})")
print()
print("generated per-example code, every class and example at once")
print("(S, T: (C, N)), any C:")
for line in compiled_loss("softmax").generated_source.splitlines():  # long lines broken inside their brackets
    print(textwrap.fill(line, WIDTH, subsequent_indent=" " * 8, break_long_words=False, break_on_hyphens=False)
          if line.strip() else line)

digits = load_digits_dataset(rng=0)  # pixels / 16, training mean subtracted, bias column: D = 65
run = gradient_descent(
    lambda W: softmax_loss_and_grad(W, digits.X_train, digits.y_train, reg=1e-3)[1], np.zeros((10, 65)), 1.0, 300
)
for step in (0, 30, 100, 300):
    print(f"step {step:3d}: loss {softmax_loss_and_grad(run.path[step], digits.X_train, digits.y_train, reg=1e-3)[0]:.4f}")
print(f"digits test accuracy of the softmax classifier: {accuracy(run.w, digits.X_test, digits.y_test):.3f}")
