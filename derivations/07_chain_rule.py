"""The chain rule made visible (Lecture 3): the logistic loss as a composition, differentiated directly and
as the product of its local derivatives, proved equal; then the compiled loss ``logistic`` at |z| = 800.

    u = w^T x,    p = sigma(u) = 1 / (1 + e^{-u}),    L = -log p
    dL/dw = dL/dp * dp/du * du/dw = (-1/p) * p (1 - p) * x = -(1 - sigma(u)) x
"""

import shutil

import numpy as np
import sympy as sp

import symgrad
from symgrad.symbolic.derivation import is_identically_zero
from symgrad.symbolic.objectives import logistic

WIDTH = shutil.get_terminal_size().columns
w, x, u, p = logistic.weights, logistic.features, logistic.activation, logistic.probability


def show(label: str, expression) -> None:
    print(f"{label}:")
    print(sp.pretty(expression, num_columns=WIDTH))


composition = logistic.logistic
print(composition.pretty())
print()
print("Step 1, the local derivatives, each in its own variable:")
factors = logistic.chain_rule_factors()
show("  dL/dp   (L = -log p)", factors["dL/dp"])
show("  dp/du   (p = 1 / (1 + e^-u))", factors["dp/du"])
print("  dp/du = p (1 - p):", is_identically_zero(factors["dp/du"] - logistic.sigmoid(u) * (1 - logistic.sigmoid(u))))
show("  du/dw   (u = w^T x)", factors["du/dw"].T)
print()
print("Step 2, their product at p = sigma(u), u = w^T x:")
at_point = {p: logistic.sigmoid(logistic.score), u: logistic.score}
product = [sp.simplify(factors["dL/dp"].subs(at_point) * factors["dp/du"].subs(at_point) * du) for du in factors["du/dw"]]
show("  dL/dp * dp/du * du/dw", sp.Matrix(product).T)
print()
print("Step 3, the gradient SymPy derives from the composed L directly:")
show("  dL/dw", sp.Matrix(composition.gradient).T)
print("  product == direct derivative (proved):", logistic.prove_chain_rule())
print("  == the lecture's -(1 - sigma(w^T x)) x (proved):", composition.verify())
print()

print("The compiled loss `logistic` (binary, t in {0, 1}):")
print("  L_i = log(1 + e^z) - t z, z = w^T x")
declaration = symgrad.get_derivation("logistic")
print("  derived dL/du proved equal to sigma(u) - t:", declaration.verify())
X, t = np.array([[1.0, -2.0]]), np.array([1.0])
for z_weights in ([-800.0, 0.0], [800.0, 0.0], [-100.0, 0.0]):
    for dtype in (np.float64, np.float32):
        weights = np.array(z_weights, dtype=dtype)
        loss, gradient = symgrad.logistic_loss_and_grad(weights, X.astype(dtype), t)
        print(f"  z = {float(weights @ X[0].astype(dtype)):6.0f}, {np.dtype(dtype).name}: loss {loss:.6g}, "
              f"gradient {gradient}")
