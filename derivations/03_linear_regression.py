"""Lecture 4, eq. 8-12: the squared loss of a line, derived and proved, then fitted by gradient descent."""

import numpy as np

from symgrad import get_derivation, gradient_descent, squared_loss_and_grad
from symgrad.symbolic.objectives import squared_loss

print(squared_loss.squared_loss.pretty())
print()
print("eq. 8-12 for symbolic N (Sum over IndexedBase x_i, y_i):", squared_loss.prove_index_form())
print("grad 1/N ||X w - y||^2 = 2/N X^T (X w - y) for symbolic N, D:", squared_loss.prove_matrix_form())
print("per-example squared error (u - y)^2, the compiled loss `squared`:", get_derivation("squared").verify())

rng = np.random.default_rng(0)
true_w0, true_w1 = 1.5, -2.0
x = rng.uniform(0.0, 1.0, size=200)
y = true_w0 + true_w1 * x + rng.normal(scale=0.05, size=200)
X = np.column_stack([np.ones_like(x), x])

run = gradient_descent(lambda w: squared_loss_and_grad(w, X, y)[1], np.zeros(2), learning_rate=0.5, steps=3000)
least_squares, *_ = np.linalg.lstsq(X, y, rcond=None)
for step in (0, 10, 100, 1000, 3000):
    print(f"step {step:5d}: w = {run.path[step]}, L = {squared_loss_and_grad(run.path[step], X, y)[0]:.6f}")
print(f"generating (w0, w1) = ({true_w0}, {true_w1})")
print(f"gradient descent    = {run.w}")
print(f"numpy.linalg.lstsq  = {least_squares}   (max difference {np.max(np.abs(run.w - least_squares)):.1e})")
