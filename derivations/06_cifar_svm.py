"""The lecture's linear classifier end to end: data, five optimization strategies, step sizes, loss landscapes.

    scores s = W x  (W: C x D, x: D pixels minus the training mean image, then 1 for the bias)
    L(W) = 1/N sum_i L_i(W) + lambda sum W^2,   L_i: multiclass SVM hinge or softmax cross-entropy

The losses and their gradients are the ones SymPy derived and compiled (symgrad.runtime.losses).

    python derivations/06_cifar_svm.py                  # scikit-learn's digits (offline, < 1 minute)
    python derivations/06_cifar_svm.py --cifar PATH     # the CIFAR-10 "python version" folder

With --cifar the features are float32 (0.6 GB for the training split); the long parts (loading, the strategies,
the 30731 loss evaluations of the forward difference) show tqdm progress bars on a terminal.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from symgrad.verification.checker import check_gradient
from symgrad.training.datasets import load_cifar10, load_digits_dataset
from symgrad.training.landscape import (
    LECTURE_STEP_SIZES,
    hinge_demo,
    loss_slice_1d,
    loss_slice_2d,
    random_directions,
    step_size_sweep,
)
from symgrad import softmax_loss_and_grad, svm_loss_and_grad
from symgrad.verification.numerical import numerical_gradient, relative_error
from symgrad.training.plotting import plot_hinge_demo, plot_loss_curves, plot_slice_1d, plot_slice_2d, plot_step_sizes
from symgrad.training.strategies import (
    accuracy,
    full_batch_gradient_descent,
    minibatch_gradient_descent,
    random_local_search,
    random_search,
    stochastic_gradient_descent,
)

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--cifar", type=Path, metavar="PATH", help="the folder of data_batch_1 ... 5, test_batch, batches.meta")
parser.add_argument("--figures", type=Path, default=Path("figures"), help="folder for the PNG files (default: figures/)")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
rng = np.random.default_rng(args.seed)

# ---------------------------------------------------------------------------------------------------- data
if args.cifar:
    data = load_cifar10(args.cifar, rng=args.seed)
    name = "CIFAR-10"
    # CS231n's linear SVM settings; the two search strategies use the 500-image dev split (each draw or try
    # costs a full loss evaluation), the three descents the whole training split.
    search_X, search_y = data.X_dev, data.y_dev
    # the numerical gradient takes 30731 loss evaluations: on the dev split, not on 49000 images, and in float64
    # (a float32 loss differenced with h = 1e-5 would be rounding noise)
    check_X, check_y = data.X_dev.astype(np.float64), data.y_dev
    reg = 2.5e4
    search = dict(candidates=1000, weight_scale=1e-4)
    local = dict(steps=1000, weight_scale=1e-3, step_size=1e-4)
    gradient_descent = dict(learning_rate=1e-7, steps=200)
    minibatch = dict(learning_rate=1e-7, steps=1500)
    sgd = dict(learning_rate=lambda k: 1e-7 / (1 + k / 5000), steps=5000)
    step_sizes = LECTURE_STEP_SIZES
else:
    data = load_digits_dataset(rng=args.seed)
    name = "digits (scikit-learn, 8x8)"
    search_X, search_y = data.X_train, data.y_train
    check_X, check_y = data.X_train, data.y_train
    reg = 1e-3
    search = dict(candidates=1000, weight_scale=1e-4)
    local = dict(steps=1000, weight_scale=1e-3, step_size=1e-2)
    gradient_descent = dict(learning_rate=0.5, steps=300)
    minibatch = dict(learning_rate=0.5, steps=300)
    sgd = dict(learning_rate=lambda k: 0.1 / (1 + k / 500), steps=3000)
    # features in [-1, 1] instead of CIFAR's raw 0 ... 255 pixels: the blow-up needs steps past the lecture's 1e-1
    step_sizes = 10.0 ** np.arange(-10, 3)
print(f"{name}: {data.summary()}")
print(f"features: pixels minus the training mean image, then the bias 1: D = {data.num_features}")
print(f"W is (C, D) = {(data.num_classes, data.num_features)}; scores X @ W.T are (N, C)")

# ---------------------------------------------------------------------------------------------- strategies
LOSSES = {"svm": svm_loss_and_grad, "softmax": softmax_loss_and_grad}
LOSS_TITLES = {"svm": "multiclass SVM", "softmax": "softmax cross-entropy"}
STRATEGIES = {
    "random search": lambda loss: random_search(loss, search_X, search_y, rng=rng, **search),
    "random local search": lambda loss: random_local_search(loss, search_X, search_y, rng=rng, **local),
    "gradient descent": lambda loss: full_batch_gradient_descent(
        loss, data.X_train, data.y_train, reg=reg, rng=rng, **gradient_descent
    ),
    "mini-batch (256)": lambda loss: minibatch_gradient_descent(
        loss, data.X_train, data.y_train, reg=reg, rng=rng, **minibatch
    ),
    "SGD (batch 1)": lambda loss: stochastic_gradient_descent(loss, data.X_train, data.y_train, reg=reg, rng=rng, **sgd),
}
print(f"\nFive strategies: the searches minimize the data loss, the descents add lambda sum W^2, lambda = {reg:g}")
print("data loss (without the lambda term) and accuracy of the final W on the whole training split:")
print(f"{'loss':<8} {'strategy':<20} {'steps':>6} {'data loss':>10} {'train acc':>10} {'val acc':>8} {'seconds':>8}")
results = {}
for loss_name, loss in LOSSES.items():
    for strategy, train in STRATEGIES.items():
        start = time.perf_counter()
        history = train(loss)
        seconds = time.perf_counter() - start
        results[loss_name, strategy] = history
        data_loss = loss(history.W, data.X_train, data.y_train)[0]
        train_accuracy = accuracy(history.W, data.X_train, data.y_train)
        val_accuracy = accuracy(history.W, data.X_val, data.y_val)
        print(
            f"{loss_name:<8} {strategy:<20} {len(history.losses):>6} {data_loss:>10.4f} "
            f"{train_accuracy:>10.3f} {val_accuracy:>8.3f} {seconds:>8.2f}"
        )
print(f"chance: {1 / data.num_classes:.3f}")

# --------------------------------------------------------------------------------------- step-size experiment
W_random = 1e-3 * rng.standard_normal((data.num_classes, data.num_features))
# in the features' dtype: a float64 W would make every loss evaluation copy X_train to float64
sweep = step_size_sweep(svm_loss_and_grad, W_random.astype(data.X_train.dtype), data.X_train, data.y_train, step_sizes)
print(f"\nStep sizes: at a random W (0.001 N(0, 1)), SVM loss {sweep.loss:.6f}, ||grad|| = {sweep.gradient_norm:.4g}")
print(f"{'step size':>10} {'loss after the step':>20} {'change':>12}")
for alpha, loss_after in zip(sweep.step_sizes, sweep.losses, strict=True):
    print(f"{alpha:>10.0e} {loss_after:>20.6f} {loss_after - sweep.loss:>+12.6f}")
print(f"best step here: {sweep.best_step_size:.0e}; smaller ones barely move, larger ones overshoot and blow up")

# -------------------------------------------------------------------------------- cost of the numerical gradient
calls = 0
bars = []  # the tqdm bar counting the current section's loss evaluations (shown only on a terminal)


def counted_svm_loss(W):
    global calls
    calls += 1
    for bar in bars:
        bar.update()
    return svm_loss_and_grad(W, check_X, check_y, reg=reg)[0]


parameters = W_random.size
print(f"\nCost of the numerical gradient of the SVM loss: {parameters} parameters, {check_X.shape[0]} examples", flush=True)
start = time.perf_counter()
analytic = svm_loss_and_grad(W_random, check_X, check_y, reg=reg)[1]
analytic_seconds = time.perf_counter() - start
start = time.perf_counter()
with tqdm(total=parameters + 1, desc="forward difference", unit="loss", disable=None, leave=False) as bar:
    bars.append(bar)
    forward = numerical_gradient(counted_svm_loss, W_random, h=1e-5, method="forward")
    bars.clear()
forward_seconds, forward_calls = time.perf_counter() - start, calls
calls = 0
start = time.perf_counter()
report = check_gradient(counted_svm_loss, analytic, W_random, mode="directional", seed=args.seed)
directional_seconds, directional_calls = time.perf_counter() - start, calls
print(f"  forward difference: {forward_calls} loss evaluations (= {parameters} + 1) in {forward_seconds:.2f} s")
norm_error = np.linalg.norm(forward - analytic) / np.linalg.norm(analytic)
print(
    f"    against the compiled gradient: ||difference|| / ||gradient|| = {norm_error:.1e}, "
    f"worst coordinate {relative_error(analytic, forward):.1e} (O(h) error, and steps across kinks)"
)
print(
    f"  directional check:  {directional_calls} loss evaluations in {directional_seconds:.3f} s, "
    f"ok = {report.ok}, worst relative error {report.max_rel_error:.1e}"
)
print(f"  compiled gradient:  1 call in {analytic_seconds * 1e3:.2f} ms")

cifar_classes, cifar_features, cifar_examples = 10, 3073, 49000
cifar_parameters = cifar_classes * cifar_features
if args.cifar:
    X_timing, y_timing, where = data.X_train, data.y_train, "the CIFAR-10 training split"
else:
    X_timing = np.ones((cifar_examples, cifar_features), dtype=np.float32)  # as load_cifar10 gives it
    X_timing[:, :-1] = rng.integers(0, 256, size=(cifar_examples, cifar_features - 1), dtype=np.uint8)
    X_timing[:, :-1] -= 127.5
    y_timing = rng.integers(0, cifar_classes, size=cifar_examples)
    where = "random pixels of CIFAR-10's shape"
W_cifar = (1e-3 * rng.standard_normal((cifar_classes, cifar_features))).astype(X_timing.dtype)
svm_loss_and_grad(W_cifar, X_timing[:10], y_timing[:10])
start = time.perf_counter()
for _ in range(3):
    svm_loss_and_grad(W_cifar, X_timing, y_timing)
evaluation_seconds = (time.perf_counter() - start) / 3
print(
    f"At CIFAR-10 size (W: {cifar_classes} x {cifar_features} = {cifar_parameters} parameters, "
    f"N = {X_timing.shape[0]}), one loss evaluation on {where} ({X_timing.dtype}): {evaluation_seconds:.3f} s"
)
forward_minutes = (cifar_parameters + 1) * evaluation_seconds / 60
print(
    f"  forward difference: {cifar_parameters + 1} evaluations -> {forward_minutes:.0f} min "
    f"(centered: {2 * cifar_parameters} -> {2 * cifar_parameters * evaluation_seconds / 60:.0f} min)"
)
print(f"  directional check:  {directional_calls} evaluations -> {directional_calls * evaluation_seconds:.1f} s")
print("  compiled gradient:  comes with each evaluation (svm_loss_and_grad returns loss and dW together)")
del X_timing

# ---------------------------------------------------------------------------------------------- landscapes
figures = []
W1, W2 = random_directions(W_random.shape, 2, rng)
alphas = np.linspace(-1, 1, 401)
one, hundred = (data.X_train[:1], data.y_train[:1]), (data.X_train[:100], data.y_train[:100])
figures.append(plot_slice_1d(
    args.figures / "landscape_1d.png",
    alphas,
    {"one example": loss_slice_1d(svm_loss_and_grad, W_random, W1, alphas, *one),
     "100 examples": loss_slice_1d(svm_loss_and_grad, W_random, W1, alphas, *hundred)},
    loss="multiclass SVM",
    data=f"{name}; W random (0.001 N(0, 1))",
))
grid = np.linspace(-1, 1, 81)
figures.append(plot_slice_2d(
    args.figures / "landscape_2d.png",
    grid,
    grid,
    {"one example": loss_slice_2d(svm_loss_and_grad, W_random, W1, W2, grid, grid, *one),
     "100 examples": loss_slice_2d(svm_loss_and_grad, W_random, W1, W2, grid, grid, *hundred)},
    loss="multiclass SVM",
    data=f"{name}; W random (0.001 N(0, 1))",
))
examples = [int(np.flatnonzero(data.y_train == c)[0]) for c in range(3)]
demo = hinge_demo(
    svm_loss_and_grad, W_random[:3], W1[:3], data.X_train[examples], data.y_train[examples], np.linspace(-2, 2, 401)
)
figures.append(plot_hinge_demo(args.figures / "hinge_demo.png", demo, data=f"{name}: one example of each of classes 0, 1, 2"))
figures.append(plot_step_sizes(args.figures / "step_sizes.png", sweep, loss="multiclass SVM",
                               data=f"{name}, training split; W random (0.001 N(0, 1))"))
for loss_name in LOSSES:
    histories = [results[loss_name, strategy] for strategy in STRATEGIES]
    figures.append(plot_loss_curves(
        args.figures / f"loss_curves_{loss_name}.png", histories, loss=LOSS_TITLES[loss_name],
        data=f"{name}, training split (searches: {search_X.shape[0]} examples)", descent_reg=reg,
    ))
print(f"\nwrote {len(figures)} figures to {args.figures}/: {', '.join(path.name for path in figures)}")

# ------------------------------------------------------------------------------------------------- verdict
best = max(results, key=lambda key: accuracy(results[key].W, data.X_val, data.y_val))
print(f"best on validation: {best[0]} with {best[1]}")
print(f"test accuracy: {accuracy(results[best].W, data.X_test, data.y_test):.3f}")
