"""The lecture's polynomial (Lecture 4, section 4.2): derive, prove, compile, check, descend.

    f(x1, x2, x3) = x1^3 + 5 x1 x2 - 3 x2 x3^2,   grad f = < 3 x1^2 + 5 x2, 5 x1 - 3 x3^2, -6 x2 x3 >
"""

import shutil
import textwrap

import numpy as np
import sympy as sp

import symgrad
from symgrad.codegen.compile import compile_derivation

WIDTH = shutil.get_terminal_size().columns
polynomial = symgrad.get_derivation("polynomial")
print(polynomial.pretty())
print()
print("LaTeX of the derived gradient:")
print(textwrap.fill(sp.latex(sp.Matrix(polynomial.gradient)), WIDTH, initial_indent="  ", subsequent_indent="  "))
print("verify() ->", polynomial.verify())

compiled = compile_derivation(polynomial)
x = np.array([1.0, 2.0, 3.0])
print(f"\nAt x = {x}: f = {compiled.value(x)}, grad f = {compiled.gradient(x)}")
numerical = symgrad.numerical_gradient(compiled.value, x, h=1e-5)
print(f"centered difference (h = 1e-5): {numerical}")
print(f"relative error: {symgrad.relative_error(compiled.gradient(x), numerical):.2e}")
for h in (1e-1, 1e-2, 1e-3):
    forward = symgrad.numerical_gradient(compiled.value, x, h=h, method="forward")
    centered = symgrad.numerical_gradient(compiled.value, x, h=h, method="centered")
    print(
        f"h = {h:.0e}: forward error {np.abs(forward - compiled.gradient(x)).max():.2e}, "
        f"centered error {np.abs(centered - compiled.gradient(x)).max():.2e}"
    )

directional = symgrad.get_derivation("directional_derivative")
print()
print(directional.pretty())
u = np.array([1.0, -1.0, 0.5]) / np.linalg.norm([1.0, -1.0, 0.5])
slope = compile_derivation(directional).gradient(0.0, x1=x[0], x2=x[1], x3=x[2], u1=u[0], u2=u[1], u3=u[2])
print(f"along u = {np.round(u, 4)} at x:")
print(f"  d/dt f(x + t u) at t = 0 is {slope:.6f}; u . grad f = {u @ compiled.gradient(x):.6f}")

print("\nCritical points (grad f = 0), classified by the Hessian:")
for point in symgrad.critical_points(polynomial):
    print(f"  {point}")

print("\nThe polynomial is unbounded below (it is cubic in x1): gradient descent lowers f while it runs.")
result = symgrad.gradient_descent(compiled.gradient, [1.0, 2.0, 3.0], 0.01, 5)
print(f"{'k':>2}  {'x1':>9} {'x2':>9} {'x3':>9}  {'f(x_k)':>10}")
for k, point in enumerate(result.path):
    print(f"{k:>2}  {point[0]:>9.5f} {point[1]:>9.5f} {point[2]:>9.5f}  {compiled.value(point):>10.5f}")
