"""The lecture's bowls (Lecture 4, sections 6.1, 6.2): w^2 and w1^2 + w2^2, and a saddle for contrast.

Gradient descent on w^2 from w0 = 3 with alpha = 0.1 multiplies w by 1 - 2 alpha = 0.8 each step:
after K = 10 steps, w = 3 * 0.8^10 = 0.3221...
"""

from pathlib import Path

import numpy as np

import symgrad
from symgrad.codegen.compile import compile_derivation

for name in ("bowl_1d", "bowl_2d", "saddle"):
    derivation = symgrad.get_derivation(name)
    print(derivation.pretty())
    for point in symgrad.critical_points(derivation):
        print(f"critical point {point}")
    print()

bowl_1d = compile_derivation(symgrad.get_derivation("bowl_1d"))
result = symgrad.gradient_descent(bowl_1d.gradient, 3.0, 0.1, 10)
print("Gradient descent on L(w) = w^2, w0 = 3, alpha = 0.1, K = 10")
print(f"{'k':>2}  {'w_k':>12}  {'3 * 0.8^k':>12}  {'L(w_k)':>12}")
for k, w in enumerate(result.path):
    print(f"{k:>2}  {w:>12.9f}  {3 * 0.8**k:>12.9f}  {bowl_1d.value(w):>12.9f}")
print(f"final w = {result.w:.9f}")

schedules = [
    ("alpha_k = 0.3 / (k + 1)", lambda k: 0.3 / (k + 1)),
    ("alpha = 0.9 (oscillates)", 0.9),
    ("alpha = 1.1 (diverges)", 1.1),
]
for schedule_name, schedule in schedules:
    path = symgrad.gradient_descent(bowl_1d.gradient, 3.0, schedule, 10).path
    print(f"{schedule_name}: w_10 = {path[-1]: .6f}   path {np.round(path[:5], 4)} ...")

bowl_2d = compile_derivation(symgrad.get_derivation("bowl_2d"))
result_2d = symgrad.gradient_descent(bowl_2d.gradient, [3.0, -4.0], 0.1, 30)
print("\nGradient descent on L(w1, w2) = w1^2 + w2^2 from (3, -4), alpha = 0.1")
print(f"{'k':>2}  {'w1':>10} {'w2':>10}  {'L':>10}")
for k in (0, 1, 2, 3, 5, 10, 20, 30):
    w1, w2 = result_2d.path[k]
    print(f"{k:>2}  {w1:>10.6f} {w2:>10.6f}  {bowl_2d.value(result_2d.path[k]):>10.6f}")

search = symgrad.LineSearch(bowl_2d.value, step_sizes=(0.01, 0.1, 0.3, 0.5, 1.0))
result_search = symgrad.gradient_descent(bowl_2d.gradient, [3.0, -4.0], search, 3)
print(f"\nLine search over the step sizes {', '.join(f'{a:g}' for a in search.step_sizes)}:")
print(f"  steps taken {result_search.learning_rates}, w = {result_search.w}")

try:
    from matplotlib.figure import Figure
except ImportError:
    print("\nmatplotlib is not installed (pip install 'symgrad[plot]'): no figure")
else:
    figure = Figure(figsize=(6.5, 5), layout="constrained")
    axes = figure.add_subplot()
    grid = np.linspace(-5, 5, 201)
    w1_grid, w2_grid = np.meshgrid(grid, grid)
    axes.contour(w1_grid, w2_grid, bowl_2d.value(np.stack([w1_grid, w2_grid])), levels=15, cmap="coolwarm")
    axes.plot(result_2d.path[:, 0], result_2d.path[:, 1], "o-", color="black", markersize=3, label="w_k, alpha = 0.1,\nfrom (3, -4)")
    axes.set(xlabel="w1", ylabel="w2", aspect="equal",
             title="Gradient descent on the bowl L(w1, w2) = w1^2 + w2^2\n(no data: the lecture's function), level sets of L")
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize="small")
    output = Path("figures") / "bowl_2d_descent.png"
    output.parent.mkdir(exist_ok=True)
    figure.savefig(output, dpi=100)
    print(f"\nwrote {output}")
