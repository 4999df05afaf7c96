"""The ``symgrad`` command: list, derive, check, train and draw from the terminal.

Exit codes: 0 success; 1 a proof or a check failed; 2 bad usage or bad input (unknown name, malformed formula,
an option out of range or given where it does nothing, a missing optional dependency, an output that cannot be
written, a training run that diverged, stdout closed early); 130 interrupted. Every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
FORMULA_COMMAND_BUDGET = 3.0
"""Seconds of symbolic work (read, differentiate, print, prove, compile, draw check points) a command on a formula
(``--expr``) may take in all, within each step's own budget (``symgrad.symbolic.expressions.FORMULA_TIME_BUDGET``),
so that it answers within 5 s, start-up and a few numeric checks included."""
FORMULA_OPTIONS = ("--expr", "--wrt", "--expect")
LANDSCAPE_MAX_RESOLUTION = 1001
"""Grid points per axis of the 2-D slice at most: a panel of the figure is about 550 pixels wide."""


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr, ``symgrad train: argument --steps: ...``."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def integer_option(minimum: int, maximum: int | None = None):
    """An argparse type: an integer in [minimum, maximum]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            bound = f"in {minimum} ... {maximum}" if maximum is not None else f">= {minimum}"
            raise argparse.ArgumentTypeError(f"expected an integer {bound}, got {text!r}")
        return value

    return parse


def number_option(minimum: float, *, include_minimum: bool):
    """An argparse type: a finite number > minimum (>= minimum when ``include_minimum``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and (value >= minimum if include_minimum else value > minimum)):
            bound = f">= {minimum:g}" if include_minimum else f"> {minimum:g}"
            raise argparse.ArgumentTypeError(f"expected a finite number {bound}, got {text!r}")
        return value

    return parse


positive_number = number_option(0.0, include_minimum=False)
nonnegative_number = number_option(0.0, include_minimum=True)
seed_option = integer_option(0)


def command_list(arguments) -> int:
    from symgrad.symbolic.registry import derivation_titles

    titles = derivation_titles()
    width = max(len(name) for name, _ in titles)
    for name, title in titles:
        print(f"{name:<{width}}  {title}")
    return EXIT_OK


def selected_derivations(arguments):
    import symgrad
    from symgrad.symbolic.expressions import ExpressionError, derive

    chosen = [arguments.name is not None, arguments.all, arguments.expr is not None, arguments.loss_formula is not None]
    if sum(chosen) != 1:
        raise UsageError("give exactly one of: NAME, --all, --expr FORMULA, --loss-formula F")
    if arguments.loss_formula is None and arguments.param:
        raise UsageError("--param goes with --loss-formula")
    if arguments.loss_formula is not None:
        if arguments.wrt is not None or arguments.expect is not None:
            raise UsageError("--wrt and --expect go with --expr, not --loss-formula")
        formula_loss(arguments)
        return [symgrad.get_derivation("formula")]
    if arguments.expr is not None:
        if arguments.wrt is None:
            raise UsageError("--expr needs --wrt, the variables to differentiate in (e.g. --wrt w1,w2)")
        try:
            return [derive(arguments.expr, arguments.wrt, expected=arguments.expect)]
        except (ExpressionError, ValueError, TypeError) as error:
            raise UsageError(str(error)) from None
    if arguments.wrt is not None or arguments.expect is not None:
        raise UsageError("--wrt and --expect go with --expr")
    if arguments.all:
        return list(symgrad.all_derivations())
    try:
        return [symgrad.get_derivation(arguments.name)]
    except ValueError as error:
        raise UsageError(str(error)) from None


def within_formula_budget(arguments, function, *function_arguments):
    """``function(*function_arguments)``, within :data:`FORMULA_COMMAND_BUDGET` when the command is on a formula.

    Raises:
        UsageError: the budget, or a step's own, ran out (a proof's is reported as "not proved" instead).
    """
    from symgrad.symbolic.time_budget import TimeBudgetExceeded, call_within

    if arguments.expr is None:
        return function(*function_arguments)
    try:
        return call_within(FORMULA_COMMAND_BUDGET, function, *function_arguments)
    except TimeBudgetExceeded as error:
        raise UsageError(f"expression: {error}") from None


def unproved(derivations) -> list[str]:
    """One line per derivation whose lecture form is not proved: ``name`` or ``name (not proved within N s)``."""
    from symgrad.symbolic.time_budget import TimeBudgetExceeded

    lines = []
    for derivation in derivations:
        if derivation.lecture_gradient is None:
            continue
        try:
            if not derivation.verify():
                lines.append(derivation.name)
        except TimeBudgetExceeded as error:
            lines.append(f"{derivation.name} ({error})")
    return lines


def command_derive(arguments) -> int:
    if arguments.markdown:
        show = lambda derivation: derivation.markdown()  # noqa: E731
    elif arguments.latex:
        show = lambda derivation: derivation.latex() + "\n"  # noqa: E731
    else:
        show = lambda derivation: derivation.pretty() + "\n"  # noqa: E731

    def derivations_shown():
        derivations = selected_derivations(arguments)
        return [show(d) for d in derivations], unproved(derivations)

    texts, failed = within_formula_budget(arguments, derivations_shown)
    if arguments.markdown:
        print("# symgrad derivations\n")
        print("Generated by `symgrad derive --all --markdown`: each objective, the gradient SymPy derives, the closed")
        print("form the lecture writes down, and the verdict of the symbolic proof that they are equal.\n")
    for text in texts:
        print(text)
    if failed:
        print(f"not proved: {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def random_parameters(derivation, rng, scale: float = 1.0) -> dict:
    """Defaults where the derivation gives them, else normal draws of standard deviation ``scale``."""
    return {
        p.name: float(derivation.defaults[p.name]) if p.name in derivation.defaults else float(scale * rng.normal())
        for p in derivation.parameters
    }


DRAW_SCALES = (1.0, 0.1, 10.0, 100.0)
"""Standard deviations tried in turn when drawing points: a formula's domain may lie far from 0 (log(w - 50))."""


def is_inside_domain(derivation, x, parameters: dict, dtype) -> bool:
    """True when, in ``dtype``, the compiled gradient is finite at ``x`` and the value is finite at ``x`` and at
    x ± r along every axis, r four times the checker's largest finite-difference step: a check there can
    difference the objective without leaving its domain (log(w) at w = 1e-9 is refused); and neither the value
    nor the gradient at ``x`` underflows in ``dtype`` (:meth:`CompiledDerivation.underflows`)."""
    import numpy as np

    from symgrad.verification.checker import default_step

    point = np.asarray(x, dtype=dtype)
    radius = 4 * default_step(float(np.max(np.abs(point), initial=1.0)), dtype)
    axes = radius * np.eye(point.size, dtype=dtype).reshape((point.size, *point.shape))
    neighbourhood = np.moveaxis(np.concatenate([point[None], point + axes, point - axes]), 0, -1)
    from symgrad.codegen.compile import compile_derivation

    compiled = compile_derivation(derivation)
    with np.errstate(all="ignore"):
        values = compiled.value(neighbourhood, **parameters)
        gradient = compiled.gradient(point, **parameters)
    finite = np.all(np.isfinite(values)) and np.all(np.isfinite(gradient))
    return bool(finite and not compiled.underflows(point, dtype, **parameters))


def smooth_point(derivation, rng, dtype, margin: float = 1e-3, subject: str | None = None):
    """A random point and parameters inside the domain (value and gradient finite in ``dtype``) and at least
    ``margin`` from every kink, in up to 200 draws at the scales of :data:`DRAW_SCALES`.

    Raises:
        UsageError: no draw qualified; the message starts with ``subject`` (default: the derivation's name).
    """
    import numpy as np

    from symgrad.codegen.compile import compile_derivation

    compiled = compile_derivation(derivation)
    for attempt in range(200):
        scale = DRAW_SCALES[attempt % len(DRAW_SCALES)]
        parameters = random_parameters(derivation, rng, scale)
        x = scale * rng.normal(size=derivation.shape)
        if not is_inside_domain(derivation, x, parameters, dtype):
            continue
        with np.errstate(all="ignore"):
            if compiled.kink_distance(x, **parameters) >= margin:
                return x, parameters
    raise UsageError(
        f"{subject or derivation.name}: no point where the value and gradient are finite in {np.dtype(dtype).name} "
        f"and {margin} away from every kink, in 200 random draws"
    )


def kink_checks(derivation, rng, dtype, points: int) -> tuple[list, list]:
    """Points exactly at kinks: ``points`` of them for each kink value (0, ½, 1 when it is a parameter).

    Returns:
        (checks, skipped): (label, x, parameters) for each point found inside the domain, and the labels of the
        points for which 20 draws met kinks only where the value or gradient is not finite (a jump such as
        sign's or Heaviside's, or a kink outside the domain, as |w| + log(w) at 0). A derivation with no kink
        linear in a variable has no kink points at all.
    """
    import sympy

    from symgrad.symbolic.kinks import kink_point

    kink_parameter = derivation.kink_value if isinstance(derivation.kink_value, sympy.Symbol) else None
    kink_values = (0.0, 0.5, 1.0) if kink_parameter is not None else (None,)
    checks, skipped = [], []
    for number in range(points):
        for kink_value in kink_values:
            label = f"kink point {number + 1}"
            if kink_value is not None:
                label += f", {kink_parameter.name} = {kink_value:g}"
            for _ in range(20):
                parameters = random_parameters(derivation, rng)
                if kink_value is not None:
                    parameters[kink_parameter.name] = kink_value
                x = kink_point(derivation, rng, parameters)
                if x is None:
                    break
                if is_inside_domain(derivation, x, parameters, dtype):
                    checks.append((label, x, parameters))
                    break
            else:
                skipped.append(label)
    return checks, skipped


def prepared_checks(derivation, arguments, rng, dtype):
    """The symbolic part of a check: the proof's verdict line (with ``--expect``), the compiled functions, and the
    points. Returns (verdict or None, proof failures, [(label, x, parameters)], labels of skipped kink points)."""
    verdict, failures = None, 0
    if arguments.expect is not None:
        verdict, failures = derivation.verdict(), len(unproved([derivation]))
    subject = "expression" if arguments.expr is not None else None
    checks = [
        (f"smooth point {number + 1}", *smooth_point(derivation, rng, dtype, subject=subject))
        for number in range(arguments.points)
    ]
    skipped = []
    if not derivation.is_smooth:
        kinks, skipped = kink_checks(derivation, rng, dtype, arguments.points)
        checks += kinks
    return verdict, failures, checks, skipped


def command_check(arguments) -> int:
    import numpy as np

    import symgrad

    rng = np.random.default_rng(arguments.seed)
    dtype = np.dtype(arguments.dtype)
    failures = inconclusive = 0
    prepared = within_formula_budget(
        arguments, lambda: [(d, *prepared_checks(d, arguments, rng, dtype)) for d in selected_derivations(arguments)]
    )
    for derivation, verdict, unproved_count, checks, skipped in prepared:
        print(f"{derivation.name}: {derivation.title}")
        if verdict is not None:
            print(f"  {verdict}")
        failures += unproved_count
        for label, x, parameters in checks:
            try:
                with np.errstate(all="ignore"):
                    report = symgrad.check_derivation(
                        derivation, x.astype(dtype), mode=arguments.mode, parameters=parameters, seed=arguments.seed
                    )
            except ValueError as error:  # the objective left its domain along a probe despite the margin drawn
                subject = "expression" if arguments.expr is not None else derivation.name
                raise UsageError(f"{subject}: cannot check at {label}: {error}") from None
            verdict = "ok  " if report.ok else ("inconclusive" if report.inconclusive else "FAIL")
            kink = ", kink met: checked as a subgradient" if report.kink else ""
            print(f"  {verdict} {label}: max relative error {report.max_rel_error:.2e}{kink}")
            if not report.ok:
                failures += not report.inconclusive
                inconclusive += report.inconclusive
                print("    " + str(report).replace("\n", "\n    "))
        for label in skipped:
            print(f"  skipped {label}: the value or gradient is not finite at the kinks drawn (a jump has no gradient)")
    if failures:
        print(f"{failures} failed" + (f", {inconclusive} inconclusive" if inconclusive else ""))
    else:
        print(f"no check failed; {inconclusive} inconclusive (see above)" if inconclusive else "all checks passed")
    return EXIT_FAILED if failures else EXIT_OK


TRAINING_DEFAULTS = {
    # dataset: (learning rate, steps, L2 strength, step size of the local search); CS231n's settings for CIFAR-10
    "digits": (0.5, 300, 1e-3, 1e-2),
    "cifar": (1e-7, 1500, 2.5e4, 1e-4),
}
TWO_LAYER_DEFAULTS = {
    # dataset: (learning rate, steps, L2 strength, batch size); CS231n's two_layer_net settings for CIFAR-10
    "digits": (0.5, 1000, 1e-3, 128),
    "cifar": (1e-4, 1000, 0.25, 200),
}
MODELS = ("linear", "two-layer")
DEFAULT_HIDDEN = 100
OPTIMIZERS = ("gd", "minibatch", "sgd", "random-search", "local-search")
DEFAULT_BATCH_SIZE = 256
TRAINING_BACKENDS = ("numpy", "jax", "dask")  # symgrad.backends.BACKENDS, spelled out to keep `symgrad --help` light


def load_dataset(arguments):
    from symgrad.training.datasets import load_cifar10, load_digits_dataset

    if arguments.dataset == "cifar":
        if arguments.cifar_dir is None or not arguments.cifar_dir.strip():
            raise UsageError("--dataset cifar needs --cifar-dir PATH (the cifar-10-batches-py folder)")
        try:
            return load_cifar10(arguments.cifar_dir, rng=arguments.seed)
        except (FileNotFoundError, ValueError) as error:
            raise UsageError(str(error)) from None
    if arguments.cifar_dir is not None:
        raise UsageError("--cifar-dir goes with --dataset cifar (the dataset is digits)")
    return load_digits_dataset(rng=arguments.seed)


def loss_name(arguments) -> str:
    """The compiled loss the command runs: ``--loss``, or ``formula`` for ``--loss-formula``."""
    return "formula" if arguments.loss_formula is not None else arguments.loss


def loss_function(arguments):
    """The compiled loss of ``--loss`` (or ``--loss-formula``) as a classifier's loss_and_grad (a regression loss
    one vs rest), on ``--backend`` (NumPy for a command without one); UsageError when its extra is missing."""
    from symgrad.backends import loss_and_grad_function

    if arguments.loss_formula is not None:
        formula_loss(arguments)
    elif arguments.param:
        raise UsageError("--param goes with --loss-formula")
    try:
        return loss_and_grad_function(loss_name(arguments), getattr(arguments, "backend", "numpy"), one_vs_rest=True)
    except ImportError as error:
        raise UsageError(str(error)) from None


def refuse_unused_training_options(arguments) -> None:
    """Options the chosen model or optimizer would ignore are refused, never dropped silently."""
    if arguments.model == "linear" and arguments.hidden is not None:
        raise UsageError("--hidden goes with --model two-layer (a linear classifier has no hidden layer)")
    if arguments.model == "two-layer":
        if arguments.optimizer not in (None, "minibatch"):
            raise UsageError(f"--optimizer {arguments.optimizer} goes with --model linear (the two-layer network "
                             "trains by mini-batch descent)")
        if arguments.backend != "numpy":
            raise UsageError(f"--backend {arguments.backend} goes with --model linear (the two-layer network runs "
                             "on NumPy)")
    arguments.optimizer = arguments.optimizer or "minibatch"
    if arguments.batch_size is not None and arguments.optimizer != "minibatch":
        used = {"gd": "all examples", "sgd": "one example"}.get(arguments.optimizer, "the dev split")
        raise UsageError(f"--batch-size goes with --optimizer minibatch ({arguments.optimizer} uses {used} per step)")
    if arguments.learning_rate is not None and arguments.optimizer in ("random-search", "local-search"):
        raise UsageError(
            f"--learning-rate goes with --optimizer gd, minibatch or sgd ({arguments.optimizer} takes no gradient steps)"
        )


def given_or_default(arguments, learning_rate, steps, reg, batch_size) -> tuple:
    """(--learning-rate, --steps, --reg, --batch-size), each the option's value when given, else the default."""
    given = (arguments.learning_rate, arguments.steps, arguments.reg, arguments.batch_size)
    return tuple(default if value is None else value
                 for value, default in zip(given, (learning_rate, steps, reg, batch_size), strict=True))


def command_train(arguments) -> int:
    import numpy as np

    from symgrad.training import descent
    from symgrad.training import strategies as training

    refuse_unused_training_options(arguments)
    if arguments.model == "two-layer":
        return train_two_layer_network(arguments)
    *defaults, local_step = TRAINING_DEFAULTS[arguments.dataset]
    learning_rate, steps, reg, batch_size = given_or_default(arguments, *defaults, DEFAULT_BATCH_SIZE)
    data = load_dataset(arguments)
    print(f"{arguments.dataset}: {data.summary()}", flush=True)
    if arguments.optimizer == "minibatch" and batch_size > len(data.X_train):
        raise UsageError(f"--batch-size: {batch_size} exceeds the {len(data.X_train)} training examples")
    loss = loss_function(arguments)
    rng = np.random.default_rng(arguments.seed)
    common = dict(reg=reg, rng=rng)
    runs = {
        "gd": lambda: training.full_batch_gradient_descent(
            loss, data.X_train, data.y_train, learning_rate=learning_rate, steps=steps, **common
        ),
        "minibatch": lambda: training.minibatch_gradient_descent(
            loss, data.X_train, data.y_train, learning_rate=learning_rate, steps=steps, batch_size=batch_size, **common
        ),
        "sgd": lambda: training.stochastic_gradient_descent(
            loss, data.X_train, data.y_train, learning_rate=learning_rate, steps=steps, **common
        ),
        "random-search": lambda: training.random_search(loss, data.X_dev, data.y_dev, candidates=steps, **common),
        "local-search": lambda: training.random_local_search(
            loss, data.X_dev, data.y_dev, steps=steps, step_size=local_step, **common
        ),
    }
    try:
        history = runs[arguments.optimizer]()
    except descent.TrainingDiverged as error:
        raise UsageError(f"{error} (--learning-rate {learning_rate:g})") from None
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None
    where = "" if arguments.backend == "numpy" else f" on {arguments.backend}"
    print(f"{history.strategy}, {loss_name(arguments)} loss{where}: {len(history.losses)} steps, final loss {history.losses[-1]:.4f}")
    for split, X, y in (("train", data.X_train, data.y_train), ("validation", data.X_val, data.y_val),
                        ("test", data.X_test, data.y_test)):
        print(f"{split} accuracy: {training.accuracy(history.W, X, y):.3f}")
    return EXIT_OK


def train_two_layer_network(arguments) -> int:
    """``symgrad train --model two-layer``: mini-batch descent on s = W2 relu(W1 x + b1) + b2."""
    from symgrad.training import descent
    from symgrad.training.two_layer import train_two_layer, two_layer_accuracy

    learning_rate, steps, reg, batch_size = given_or_default(arguments, *TWO_LAYER_DEFAULTS[arguments.dataset])
    hidden = arguments.hidden if arguments.hidden is not None else DEFAULT_HIDDEN
    data = load_dataset(arguments)
    print(f"{arguments.dataset}: {data.summary()}", flush=True)
    if batch_size > len(data.X_train):
        raise UsageError(f"--batch-size: {batch_size} exceeds the {len(data.X_train)} training examples")
    loss = loss_function(arguments)
    try:
        history = train_two_layer(data.X_train, data.y_train, hidden=hidden, loss=loss, learning_rate=learning_rate,
                                  steps=steps, batch_size=batch_size, reg=reg, num_classes=data.num_classes,
                                  rng=arguments.seed)
    except descent.TrainingDiverged as error:
        raise UsageError(f"{error} (--learning-rate {learning_rate:g})") from None
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None
    print(f"{history.strategy}, H = {hidden}, {loss_name(arguments)} loss: {len(history.losses)} steps, "
          f"final loss {history.losses[-1]:.4f}")
    for split, X, y in (("train", data.X_train, data.y_train), ("validation", data.X_val, data.y_val),
                        ("test", data.X_test, data.y_test)):
        print(f"{split} accuracy: {two_layer_accuracy(history.W, X, y):.3f}")
    return EXIT_OK


def writable_folder(folder: str):
    """``folder`` created if needed and probed with a temporary file: UsageError naming --output otherwise."""
    import tempfile
    from pathlib import Path

    if not folder.strip():
        raise UsageError("--output: expected a folder, got an empty name")
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except FileExistsError:
        raise UsageError(f"--output: cannot write to {path}: a file stands where the folder should be") from None
    except OSError as error:
        raise UsageError(f"--output: cannot write to {path}: {error.strerror or error}") from None
    return path


def command_landscape(arguments) -> int:
    import numpy as np

    from symgrad import validation
    from symgrad.training import landscape, plotting

    validation.optional_module("matplotlib.figure", "plot", "the figures")
    data = load_dataset(arguments)
    if arguments.examples > len(data.X_train):
        raise UsageError(f"--examples: {arguments.examples} exceeds the {len(data.X_train)} training examples "
                         f"of {arguments.dataset}")
    output = writable_folder(arguments.output)
    loss = loss_function(arguments)
    rng = np.random.default_rng(arguments.seed)
    W = rng.normal(scale=arguments.scale, size=(data.num_classes, data.num_features)).astype(data.X_train.dtype)
    if not np.all(np.isfinite(W)):
        raise UsageError(f"--scale: {arguments.scale:g} is too large, the random W overflows {W.dtype}")
    W1, W2 = landscape.random_directions(W.shape, 2, rng)
    subsets = {
        "one example": (data.X_train[:1], data.y_train[:1]),
        f"{arguments.examples} examples": (data.X_train[: arguments.examples], data.y_train[: arguments.examples]),
    }
    alphas = np.linspace(-1, 1, 401)
    grid = np.linspace(-1, 1, arguments.resolution)
    try:
        curves = {name: landscape.loss_slice_1d(loss, W, W1, alphas, X, y) for name, (X, y) in subsets.items()}
        grids = {name: landscape.loss_slice_2d(loss, W, W1, W2, grid, grid, X, y) for name, (X, y) in subsets.items()}
    except ValueError as error:
        raise UsageError(f"cannot compute the slices at --scale {arguments.scale:g}: {error}") from None
    try:
        written = [
            plotting.plot_slice_1d(
                output / f"landscape_1d_{loss_name(arguments)}.png",
                alphas,
                curves,
                loss=loss_name(arguments),
                data=f"{arguments.dataset}; W random ({arguments.scale:g} N(0, 1))",
            ),
            plotting.plot_slice_2d(
                output / f"landscape_2d_{loss_name(arguments)}.png",
                grid,
                grid,
                grids,
                loss=loss_name(arguments),
                data=f"{arguments.dataset}; W random ({arguments.scale:g} N(0, 1))",
            ),
        ]
    except OSError as error:
        raise UsageError(f"--output: {error}") from None
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=("digits", "cifar"), default="digits", help="default digits (offline)")
    parser.add_argument("--cifar-dir", metavar="PATH", help="the CIFAR-10 python-version folder (cifar-10-batches-py)")
    from symgrad.runtime.catalog import loss_names

    parser.add_argument(
        "--loss", choices=loss_names(), default="svm",
        help="a compiled loss (default svm); a regression loss (huber, logistic, squared) is trained one vs rest",
    )
    add_loss_formula_arguments(parser)
    parser.add_argument("--seed", type=seed_option, default=0, help="random seed >= 0 (default 0)")


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """NAME | --all | --expr FORMULA --wrt NAMES [--expect GRADIENT] | --loss-formula F, shared by derive and check."""
    parser.add_argument("name", nargs="?", help="a registered derivation (see `symgrad list`)")
    parser.add_argument("--all", action="store_true", help="every registered derivation")
    parser.add_argument("--expr", metavar="FORMULA", help='your own objective, e.g. "w1**2 + 3*w1*w2"')
    parser.add_argument("--wrt", metavar="NAMES", help="with --expr: the variables, comma-separated (e.g. w1,w2)")
    parser.add_argument(
        "--expect", metavar="GRADIENT", help='with --expr: a closed form to prove, e.g. "2*w1 + 3*w2, 3*w1"'
    )
    add_loss_formula_arguments(parser)


def add_loss_formula_arguments(parser: argparse.ArgumentParser) -> None:
    """--loss-formula F [--kind K] [--param NAME=VALUE ...]: your own loss of the scores (README, "Your own loss")."""
    parser.add_argument(
        "--loss-formula", metavar="F",
        help='your own per-example loss, e.g. "sum_other(max(0, s[j] - s[y] + delta)**2)" or "log(1 + exp(u)) - y*u"',
    )
    parser.add_argument("--kind", choices=("classifier", "regression"), default="classifier",
                        help="with --loss-formula: a loss of the scores s (default) or of a prediction u")
    parser.add_argument("--param", metavar="NAME=VALUE", action="append", default=[],
                        help="with --loss-formula: a parameter's default value (repeat for each)")


def formula_loss(arguments):
    """The loss of ``--loss-formula``, compiled and registered as ``formula``; UsageError for bad input."""
    from symgrad.codegen.user_losses import define_loss
    from symgrad.symbolic.expressions import ExpressionError
    from symgrad.symbolic.time_budget import TimeBudgetExceeded

    parameters = {}
    for assignment in arguments.param:
        name, equals, value = assignment.partition("=")
        try:
            parameters[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"param: expected NAME=VALUE with a number, got {assignment!r}") from None
        if not equals:
            raise UsageError(f"param: expected NAME=VALUE, got {assignment!r}")
    try:
        return define_loss("formula", arguments.loss_formula, kind=arguments.kind, parameters=parameters)
    except (ExpressionError, ValueError, TypeError, TimeBudgetExceeded) as error:
        raise UsageError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="symgrad",
        description="Derive gradients with SymPy, prove them against the lecture, compile, check and train.",
    )
    parser.add_argument("--version", action="version", version=f"symgrad {installed_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="the registered derivations, one line each")
    listing.set_defaults(run=command_list)

    derive = commands.add_parser(
        "derive",
        help="print a derivation: objective, derived gradient, lecture form, proof verdict",
        description="Print a registered derivation, all of them, or one of your own formula (--expr).",
    )
    add_selection_arguments(derive)
    style = derive.add_mutually_exclusive_group()
    style.add_argument("--latex", action="store_true", help="expressions as LaTeX")
    style.add_argument("--markdown", action="store_true", help="a Markdown document (as in DERIVATIONS.md)")
    derive.set_defaults(run=command_derive)

    check = commands.add_parser(
        "check",
        help="check the compiled gradient against finite differences, at smooth points and at kinks",
        description="Run the verification engine on a derivation's compiled gradient: at random points away "
        "from kinks (relative error against centered differences) and exactly at kinks (subgradient conditions).",
    )
    add_selection_arguments(check)
    check.add_argument("--points", type=integer_option(1), default=3, help="random points of each kind (default 3)")
    check.add_argument("--mode", choices=("full", "sparse", "directional"), default="full", help="default full")
    check.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="default float64")
    check.add_argument("--seed", type=seed_option, default=0, help="random seed >= 0 (default 0)")
    check.set_defaults(run=command_check)

    train = commands.add_parser(
        "train",
        help="train a linear classifier or a two-layer network with the compiled gradients and report its accuracy",
        description="Train a linear SVM or softmax classifier with one of the lecture's strategies. Defaults: "
        + "; ".join(f"{name}: learning rate {lr:g}, {steps} steps, reg {reg:g}" for name, (lr, steps, reg, _) in TRAINING_DEFAULTS.items())
        + ". The search strategies run on the dev split, with --steps draws or tries. --model two-layer trains "
        "s = W2 relu(W1 x + b1) + b2 by mini-batch descent; defaults "
        + "; ".join(f"{name}: learning rate {lr:g}, {steps} steps, reg {reg:g}, batch {batch}"
                    for name, (lr, steps, reg, batch) in TWO_LAYER_DEFAULTS.items()) + ".",
    )
    add_dataset_arguments(train)
    train.add_argument("--model", choices=MODELS, default="linear",
                       help="linear (scores W x) or two-layer (W2 relu(W1 x + b1) + b2); default linear")
    train.add_argument("--hidden", type=integer_option(1),
                       help=f"hidden width H >= 1, for --model two-layer (default {DEFAULT_HIDDEN})")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                       help="default minibatch (the only one for --model two-layer)")
    train.add_argument(
        "--learning-rate", type=positive_number, help="alpha > 0, for gd, minibatch, sgd (default per dataset)"
    )
    train.add_argument("--steps", type=integer_option(1), help="steps, draws or tries (default per dataset)")
    train.add_argument("--reg", type=nonnegative_number, help="L2 strength lambda >= 0 (default per dataset)")
    train.add_argument(
        "--batch-size", type=integer_option(1), help=f"mini-batch size, for minibatch (default {DEFAULT_BATCH_SIZE})"
    )
    train.add_argument("--backend", choices=TRAINING_BACKENDS, default="numpy",
                       help="where the loss runs: numpy, jax (extra jax) or dask (extra dask); default numpy")
    train.set_defaults(run=command_train)

    draw = commands.add_parser(
        "landscape",
        help="write the lecture's 1-D and 2-D loss slices as PNG files",
        description="Loss along W + a W1 and on W + a W1 + b W2 for random W, W1, W2, for one example and for "
        "several (needs matplotlib: pip install 'symgrad[plot]').",
    )
    add_dataset_arguments(draw)
    draw.add_argument(
        "--examples", type=integer_option(1), default=100,
        help="examples in the averaged slice, at most the training split (default 100)",
    )
    draw.add_argument(
        "--resolution", type=integer_option(2, LANDSCAPE_MAX_RESOLUTION), default=81,
        help=f"grid points per axis of the 2-D slice, 2 ... {LANDSCAPE_MAX_RESOLUTION} (default 81)",
    )
    draw.add_argument(
        "--scale", type=positive_number, default=1e-3, help="standard deviation > 0 of the random W (default 1e-3)"
    )
    draw.add_argument("--output", default="figures", help="folder for the PNG files (default figures)")
    draw.set_defaults(run=command_landscape)
    return parser


def formula_options_joined(argv: list[str]) -> list[str]:
    """``--expr -log(w)`` as ``--expr=-log(w)``: argparse would read a formula starting with ``-`` as an option."""
    joined, position = [], 0
    while position < len(argv):
        if argv[position] in FORMULA_OPTIONS and position + 1 < len(argv) and argv[position + 1].startswith("-"):
            joined.append(f"{argv[position]}={argv[position + 1]}")
            position += 2
        else:
            joined.append(argv[position])
            position += 1
    return joined


def installed_version() -> str:
    """The installed distribution's version, for ``--version``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("symgrad")
    except PackageNotFoundError:
        return "(version unknown: run from a source tree that is not installed)"


def main(argv=None) -> int:
    """Run one command; every failure it can name is one line on stderr (see the module docstring)."""
    from symgrad.validation import MissingExtraError

    command = "symgrad"
    try:
        arguments = build_parser().parse_args(formula_options_joined(sys.argv[1:] if argv is None else list(argv)))
        command = f"symgrad {arguments.command}"
        status = arguments.run(arguments)
        sys.stdout.flush()  # a closed pipe surfaces here, not at interpreter exit
        return status
    except (UsageError, MissingExtraError) as error:
        print(f"{command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader of our output went away (`symgrad list | head -1`): stop writing to it, say so once.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"{command}: standard output was closed before the output was complete", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
