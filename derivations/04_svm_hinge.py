"""Lecture 3, eq. 14-16: the multiclass SVM loss, its Heaviside gradient proved equal to the lecture's,
the lecture's worked numbers through the generated code, and a linear SVM trained on the digits."""

import shutil
import textwrap

import numpy as np
import sympy as sp

from symgrad import accuracy, get_derivation, gradient_descent, load_digits_dataset, svm_loss_and_grad
from symgrad.runtime.catalog import compiled_loss
from symgrad.symbolic.objectives import svm_hinge
from symgrad.symbolic.registry import get_loss

WIDTH = shutil.get_terminal_size().columns

print(get_derivation("svm").pretty())
print()
print("weights W (3, 2) and features x (2,) all symbolic, eq. 15 and 16 proved:", svm_hinge.svm_hinge.verify())
print("eq. 15 and 16 in index form, symbolic C and D:", svm_hinge.prove_index_form())
declaration = get_loss("svm")
print("compiled loss `svm`, L_i in index notation:")
print(sp.pretty(declaration.per_example, num_columns=WIDTH))
print("  dL/ds[k] derived for symbolic C:")
print(sp.pretty(declaration.score_gradient, num_columns=WIDTH))
print("  equal to the lecture's, written out for C = 2, 3, 4 at every label:", declaration.verify())
print()

scores = np.array([[3.2, 1.3, 2.2], [5.1, 4.9, 2.5], [-1.7, 2.0, -3.1]])  # columns: cat, car, frog images
labels = np.array([0, 1, 2])
onehot = np.eye(3)[:, labels]
svm_per_example = compiled_loss("svm").module.loss_and_score_gradient
losses = svm_per_example(scores, onehot, 1.0, 0.0)[0][0]
print("lecture: losses 2.9, 0, 12.9, mean 5.27")
print("symgrad: losses", np.round(losses, 6), "mean", round(losses.mean(), 4))
print("car image with W doubled:", svm_per_example(2 * scores[:, [1]], onehot[:, [1]], 1.0, 0.0)[0][0])
print("loss at W = 0 for C = 10:", svm_loss_and_grad(np.zeros((10, 5)), np.ones((4, 5)), np.arange(4))[0])
print()
print("generated per-example code, every class and example at once")
print("(S, T: (C, N)), any C:")
for line in compiled_loss("svm").generated_source.splitlines():  # long lines broken inside their brackets
    print(textwrap.fill(line, WIDTH, subsequent_indent=" " * 8, break_long_words=False, break_on_hyphens=False)
          if line.strip() else line)

digits = load_digits_dataset(rng=0)  # pixels / 16, training mean subtracted, bias column: D = 65
run = gradient_descent(
    lambda W: svm_loss_and_grad(W, digits.X_train, digits.y_train, reg=1e-3)[1], np.zeros((10, 65)), 0.5, 300
)
for step in (0, 30, 100, 300):
    print(f"step {step:3d}: loss {svm_loss_and_grad(run.path[step], digits.X_train, digits.y_train, reg=1e-3)[0]:.4f}")
print(f"digits test accuracy of the linear SVM: {accuracy(run.w, digits.X_test, digits.y_test):.3f}")
