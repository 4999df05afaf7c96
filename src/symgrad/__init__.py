"""symgrad: derive gradients of machine-learning losses with SymPy, compile them to NumPy, run gradient
descent with them, and prove them right.

Names load on first use (PEP 562), so ``import symgrad`` stays light: SymPy is imported only when a
derivation is asked for.
"""

from importlib import import_module

_PUBLIC_NAMES = {
    # derivation core (symbolic; imports SymPy)
    "Derivation": "symgrad.symbolic.derivation",
    "register": "symgrad.symbolic.registry",
    "get_derivation": "symgrad.symbolic.registry",
    "all_derivations": "symgrad.symbolic.registry",
    "critical_points": "symgrad.symbolic.critical",
    "derive": "symgrad.symbolic.expressions",
    # numerics (NumPy only)
    "numerical_gradient": "symgrad.verification.numerical",
    "relative_error": "symgrad.verification.numerical",
    "complex_step_gradient": "symgrad.verification.numerical",
    "gradient_descent": "symgrad.training.descent",
    "LineSearch": "symgrad.training.descent",
    # compiled losses of the linear classifier and of linear regression (NumPy)
    "svm_loss_and_grad": "symgrad.runtime.losses",
    "softmax_loss_and_grad": "symgrad.runtime.losses",
    "squared_loss_and_grad": "symgrad.runtime.losses",
    # backends: JAX (jitted) and Dask (chunked data, clusters)
    "loss_and_grad_function": "symgrad.backends",
    "jax_loss_and_grad": "symgrad.backends.jax_backend",
    "read_npy_in_chunks": "symgrad.runtime.dask_evaluation",
    # verification engine
    "check_gradient": "symgrad.verification.checker",
    "assert_gradient": "symgrad.verification.checker",
    "check_subgradient": "symgrad.verification.checker",
    "check_derivation": "symgrad.verification.checker",
    "check_taylor_remainder": "symgrad.verification.taylor",
    "GradientReport": "symgrad.verification.checker",
    "TOLERANCES": "symgrad.verification.checker",
    # data, the lecture's training strategies, loss landscapes and figures
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

__all__ = sorted(_PUBLIC_NAMES)


def __getattr__(name):
    try:
        module = _PUBLIC_NAMES[name]
    except KeyError:
        raise AttributeError(f"module 'symgrad' has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
