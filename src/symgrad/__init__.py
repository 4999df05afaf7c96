"""symgrad: derive gradients of machine-learning losses with SymPy, compile them to NumPy, run gradient
descent with them, and prove them right.

Names load on first use (PEP 562), so ``import symgrad`` stays light: SymPy is imported only when a
derivation is asked for.
"""

from importlib import import_module

_PUBLIC_NAMES = {
    # derivation core (symbolic; imports SymPy)
    "Derivation": "symgrad.derivation",
    "register": "symgrad.registry",
    "get_derivation": "symgrad.registry",
    "all_derivations": "symgrad.registry",
    "critical_points": "symgrad.critical",
    "derive": "symgrad.expressions",
    # numerics (NumPy only)
    "numerical_gradient": "symgrad.numerical",
    "relative_error": "symgrad.numerical",
    "complex_step_gradient": "symgrad.numerical",
    "gradient_descent": "symgrad.optimize",
    "LineSearch": "symgrad.optimize",
    # compiled losses of the linear classifier and of linear regression (NumPy)
    "svm_loss_and_grad": "symgrad.losses",
    "softmax_loss_and_grad": "symgrad.losses",
    "squared_loss_and_grad": "symgrad.losses",
    # backends: JAX (jitted) and Dask (chunked data, clusters)
    "loss_and_grad_function": "symgrad.backends",
    "jax_loss_and_grad": "symgrad.jax_backend",
    "read_npy_in_chunks": "symgrad.dask_backend",
    # verification engine
    "check_gradient": "symgrad.checking",
    "assert_gradient": "symgrad.checking",
    "check_subgradient": "symgrad.checking",
    "check_derivation": "symgrad.checking",
    "check_taylor_remainder": "symgrad.taylor",
    "GradientReport": "symgrad.checking",
    "TOLERANCES": "symgrad.checking",
    # data, the lecture's training strategies, loss landscapes and figures
    "Dataset": "symgrad.datasets",
    "load_cifar10": "symgrad.datasets",
    "load_digits_dataset": "symgrad.datasets",
    "TrainingHistory": "symgrad.training",
    "random_search": "symgrad.training",
    "random_local_search": "symgrad.training",
    "full_batch_gradient_descent": "symgrad.training",
    "minibatch_gradient_descent": "symgrad.training",
    "stochastic_gradient_descent": "symgrad.training",
    "predict": "symgrad.training",
    "accuracy": "symgrad.training",
    "step_size_sweep": "symgrad.landscape",
    "loss_slice_1d": "symgrad.landscape",
    "loss_slice_2d": "symgrad.landscape",
    "hinge_demo": "symgrad.landscape",
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
