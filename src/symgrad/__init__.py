"""symgrad: derive gradients of machine-learning losses with SymPy, compile them to NumPy, run gradient descent
with them, and prove them right.

The names below are the public API; every other module is internal. Names load on first use (PEP 562), so
``import symgrad`` stays light: SymPy is imported only when a derivation is asked for, never by the compiled
losses, the checker or the training strategies. Every compiled loss ``NAME`` (``loss_names()``) is also here as
``NAME_loss_and_grad``.
"""

from __future__ import annotations

from importlib import import_module

_PUBLIC_NAMES = {
    # derivations (symbolic; import SymPy)
    "Derivation": "symgrad.symbolic.derivation",
    "register": "symgrad.symbolic.registry",
    "get_derivation": "symgrad.symbolic.registry",
    "all_derivations": "symgrad.symbolic.registry",
    "critical_points": "symgrad.symbolic.critical",
    "derive": "symgrad.symbolic.expressions",
    "compile_derivation": "symgrad.codegen.compile",
    # your own compiled loss (index notation: symgrad.notation)
    "define_loss": "symgrad.codegen.user_losses",
    "LossParameter": "symgrad.symbolic.linear_model_loss",
    # compiled losses of a linear model (NumPy) and where they run
    "loss_names": "symgrad.runtime.catalog",
    "loss_and_grad_function": "symgrad.backends",
    "read_npy_in_chunks": "symgrad.runtime.dask_evaluation",
    # numerical gradients and gradient descent
    "numerical_gradient": "symgrad.verification.numerical",
    "relative_error": "symgrad.verification.numerical",
    "complex_step_gradient": "symgrad.verification.numerical",
    "gradient_descent": "symgrad.training.descent",
    "LineSearch": "symgrad.training.descent",
    # verification engine
    "check_gradient": "symgrad.verification.checker",
    "assert_gradient": "symgrad.verification.checker",
    "check_subgradient": "symgrad.verification.checker",
    "GradientReport": "symgrad.verification.checker",
    "TOLERANCES": "symgrad.verification.checker",
    "check_taylor_remainder": "symgrad.verification.taylor",
    "check_derivation": "symgrad.verification.derivation_checks",
    # data, the lecture's training strategies, loss landscapes
    "Dataset": "symgrad.training.datasets",
    "load_cifar10": "symgrad.training.datasets",
    "load_digits_dataset": "symgrad.training.datasets",
    "TrainingHistory": "symgrad.training.strategies",
    "random_search": "symgrad.training.strategies",
    "random_local_search": "symgrad.training.strategies",
    "full_batch_gradient_descent": "symgrad.training.strategies",
    "minibatch_gradient_descent": "symgrad.training.strategies",
    "stochastic_gradient_descent": "symgrad.training.strategies",
    "predict": "symgrad.training.strategies",
    "accuracy": "symgrad.training.strategies",
    "step_size_sweep": "symgrad.training.landscape",
    "loss_slice_1d": "symgrad.training.landscape",
    "loss_slice_2d": "symgrad.training.landscape",
    "hinge_demo": "symgrad.training.landscape",
}

LOSS_FUNCTION_SUFFIX = "_loss_and_grad"


def _loss_function_names() -> list[str]:
    from symgrad.runtime.generated import declared_loss_names

    return [name + LOSS_FUNCTION_SUFFIX for name in declared_loss_names()]


__all__ = sorted([*_PUBLIC_NAMES, *_loss_function_names(), "__version__"])


def __getattr__(name: str):
    if name in _PUBLIC_NAMES:
        value = getattr(import_module(_PUBLIC_NAMES[name]), name)
    elif name.endswith(LOSS_FUNCTION_SUFFIX) and name in _loss_function_names():
        value = import_module("symgrad.runtime.catalog").loss_function(name[: -len(LOSS_FUNCTION_SUFFIX)])
    elif name == "__version__":
        value = import_module("importlib.metadata").version("symgrad")
    else:
        raise AttributeError(f"module 'symgrad' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
