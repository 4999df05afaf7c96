"""Beyond the linear layer: the two-layer ReLU network, backpropagation by the chain rule, proved, compiled, checked
at its kinks and trained (the step the optimization lecture foreshadows).

    z = W1 x + b1,   h = relu(z),   s = W2 h + b2,   L = 1/N sum_i l(s_i) + lambda (sum W1^2 + sum W2^2)

Each backward step is derived by SymPy and proved equal to the lecture's closed form; then the generated code, the
checker at points where hidden pre-activations are exactly 0, and mini-batch descent on the digits (on CIFAR-10 too
with --cifar PATH), writing the loss curves to figures/two_layer_training.png.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # batch products of 128 x 65 x 100: one BLAS thread is fastest

import argparse  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import symgrad  # noqa: E402
from symgrad.runtime.generated import module_source, two_layer  # noqa: E402
from symgrad.symbolic.objectives import two_layer as network  # noqa: E402
from symgrad.training.plotting import plot_two_layer_training  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--cifar", type=Path, metavar="PATH", help="also train on CIFAR-10 from this folder")
parser.add_argument("--figures", type=Path, default=Path("figures"), help="folder for the PNG files (default: figures/)")
parser.add_argument("--seed", type=int, default=0)
args, _ = parser.parse_known_args()
WIDTH = shutil.get_terminal_size().columns


def show(label: str, expression) -> None:
    print(f"  {label}:")
    print("    " + sp.pretty(expression, num_columns=WIDTH - 4).replace("\n", "\n    "))


print(__doc__.split("\n\n")[1])
print()
print("Forward pass, one column per example (X (N, D) holds them as rows):")
show("Z = W1 X^T + b1 1^T   (H, N)", network.hidden_pre_activations)
show("relu(z)", network.relu)
show("S = W2 A + b2 1^T     (C, N)", network.scores)
print()
print("Step 1, the output layer: d/dW2, d/db2, d/dA of tr(G^T S)/N, G (C, N) = dl/ds per example (matrix calculus):")
show("dL/dW2", network.second_weights_gradient)
show("dL/db2", network.second_biases_gradient)
show("dL/dA ", network.hidden_gradient)
print("  == G A^T / N, G 1 / N, W2^T G / N for symbolic C, H, N, and so are the forms the code computes,")
print("     (A (G/N)^T)^T, (G/N) 1, W2^T (G/N) (proved):", network.prove_output_layer())
print()
print("Step 2, the ReLU, entry by entry (index notation, symbolic H and N):")
show("d relu(z)/dz", network.relu_derivative)
show("dL/dz", network.pre_activation_gradient)
print("  d/dZ[p, q] sum_{k, i} dA[k, i] max(0, Z[k, i]) == dA[p, q] H(Z[p, q]) (proved):", network.prove_relu_layer())
print()
print("Step 3, the hidden layer: d/dW1, d/db1 of tr(dZ^T Z), dZ = dL/dZ (matrix calculus):")
show("dL/dW1", network.first_weights_gradient)
show("dL/db1", network.first_biases_gradient)
print("  == dZ X = (X^T dZ^T)^T (the form the code computes), dZ 1 for symbolic H, D, N (proved):",
      network.prove_hidden_layer())
print()
print("Step 4, the L2 term on both weight matrices:")
show("(d/dW1, d/dW2)", sp.Tuple(*network.l2_penalty_gradients))
print("  == (2 lambda W1, 2 lambda W2) (proved):", network.prove_regularizer())
print()
print("The whole chain at once: L = 1/N sum_i l(W2 max(0, W1 x_i + b1) + b2) for an arbitrary l, every entry a")
print("symbol (N = 2, D = 2, H = 2, C = 2), differentiated by SymPy and compared entry by entry with the closed forms")
print("  (proved):", network.prove_chain_rule())
print()
print("The generated code that runs (symgrad/runtime/_generated/numpy/two_layer.py), after the loss's own code:")
print("    " + module_source(two_layer()).split("\n\n\n", 1)[1].replace("\n", "\n    "))

print("Checked at the kinks: integer data and weights, every hidden unit exactly at z = 0 for one example, weights")
print("of both signs, softmax on top; the checker in each mode, relu'(0) in {0, 1/2, 1}, and planted bugs:")
rng = np.random.default_rng(args.seed)
X = rng.integers(-2, 3, size=(4, 2)).astype(float)
W1 = rng.integers(-2, 3, size=(3, 2)).astype(float)
params = {"W1": W1, "b1": -np.array([W1[k] @ X[k] for k in range(3)]), "W2": rng.choice([-2.0, -1.0, 1.0, 2.0], (3, 3)),
          "b2": np.zeros(3)}
y = rng.integers(0, 3, 4)
names, sizes = ("W1", "b1", "W2", "b2"), [params[name].size for name in ("W1", "b1", "W2", "b2")]


def unpack(vector):
    pieces = np.split(vector, np.cumsum(sizes)[:-1])
    return {name: piece.reshape(params[name].shape) for name, piece in zip(names, pieces, strict=True)}


def pack(gradients):
    return np.concatenate([np.ravel(gradients[name]) for name in names])


def loss(vector):
    return symgrad.two_layer_loss_and_grad(unpack(vector), X, y, "softmax", reg=0.1)[0]


def claim(kink_value=0.0, mask=True):
    _, gradients = symgrad.two_layer_loss_and_grad(params, X, y, "softmax", reg=0.1, relu_kink_value=kink_value)
    if not mask:  # backprop with the ReLU mask forgotten: dL/dz = dL/dh
        Z = params["W1"] @ X.T + params["b1"][:, None]
        hidden = np.maximum(Z, 0)
        scores = params["W2"] @ hidden + params["b2"][:, None]
        probabilities = np.exp(scores - scores.max(0)) / np.exp(scores - scores.max(0)).sum(0)
        G = (probabilities - np.eye(3)[:, y]) / len(y)
        gradients = {**gradients, "W1": (params["W2"].T @ G) @ X + 0.2 * params["W1"],
                     "b1": (params["W2"].T @ G).sum(1)}
    return pack(gradients)


Z = params["W1"] @ X.T + params["b1"][:, None]
print(f"  hidden pre-activations exactly 0: {int(np.sum(Z == 0))} of {Z.size}")
print(f"  {'claim':32} {'full':>8} {'sparse':>8} {'directional':>12}")
for label, claimed in [(f"relu'(0) = {value:g}", claim(value)) for value in (0.0, 0.5, 1.0)] + [
        ("bug: ReLU mask forgotten", claim(mask=False))]:
    verdicts = [symgrad.check_gradient(loss, claimed, pack(params), mode, seed=args.seed) for mode in
                ("full", "sparse", "directional")]
    cells = ["passed" if report.ok else ("inconcl." if report.inconclusive else "FAILED") for report in verdicts]
    print(f"  {label:32} {cells[0]:>8} {cells[1]:>8} {cells[2]:>12}")
print()


def train_table(data, name: str, learning_rates: dict, settings) -> dict:
    """Train with each loss (name -> its learning rate) and print a row each; returns loss name -> history."""
    print(f"Training on {name}: {data.summary()}")
    print(f"  {'loss':16} {'H':>4} {'rate':>6} {'steps':>6} {'final loss':>10} {'train acc':>9} {'val acc':>8} "
          f"{'test acc':>8} {'seconds':>8}")
    histories = {}
    for loss_name, learning_rate in learning_rates.items():
        start = time.perf_counter()
        history = symgrad.train_two_layer(data.X_train, data.y_train, loss=loss_name, rng=args.seed, progress=True,
                                          num_classes=data.num_classes, learning_rate=learning_rate, **settings)
        seconds = time.perf_counter() - start
        accuracies = [symgrad.two_layer_accuracy(history.W, X_split, y_split) for X_split, y_split in
                      ((data.X_train, data.y_train), (data.X_val, data.y_val), (data.X_test, data.y_test))]
        print(f"  {loss_name:16} {settings['hidden']:>4} {learning_rate:>6g} {len(history.losses):>6} {history.losses[-1]:>10.4f} "
              f"{accuracies[0]:>9.3f} {accuracies[1]:>8.3f} {accuracies[2]:>8.3f} {seconds:>8.2f}")
        histories[loss_name] = history
    return histories


digits = symgrad.load_digits_dataset(rng=args.seed)
settings = {"hidden": 100, "steps": 1000, "batch_size": 128, "reg": 1e-3}
histories = train_table(digits, "digits", {"svm": 0.5, "softmax": 0.5, "crammer_singer": 0.5, "squared_hinge": 0.05},
                        settings)
linear = symgrad.minibatch_gradient_descent(symgrad.svm_loss_and_grad, digits.X_train, digits.y_train,
                                            learning_rate=0.5, steps=300, reg=1e-3, rng=args.seed, progress=False)
print(f"  the linear SVM (mini-batch, 300 steps) for comparison: test accuracy "
      f"{symgrad.accuracy(linear.W, digits.X_test, digits.y_test):.3f}")
figures = [plot_two_layer_training(
    args.figures / "two_layer_training.png", histories, data=f"digits, {digits.summary()}", hidden=100, reg=1e-3)]
if args.cifar is not None:
    cifar = symgrad.load_cifar10(args.cifar, rng=args.seed)
    cifar_settings = {"hidden": 100, "steps": 1000, "batch_size": 200, "reg": 0.25}
    cifar_histories = train_table(cifar, "CIFAR-10", {"softmax": 1e-4}, cifar_settings)
    figures.append(plot_two_layer_training(
        args.figures / "two_layer_training_cifar.png", cifar_histories, data=f"CIFAR-10, {cifar.summary()}",
        hidden=100, reg=0.25))
for figure in figures:
    print(f"wrote {figure}")
