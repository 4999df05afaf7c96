"""symgrad: derive gradients of machine-learning losses with SymPy, compile them to NumPy, run gradient descent
with them, and prove them right.

The names below are the public API; every other module is internal. Names load on first use (PEP 562), so
``import symgrad`` stays light: SymPy is imported only when a derivation is asked for, never by the compiled
losses, the checker or the training strategies. Every compiled loss ``NAME`` (``loss_names()``) is also here as
``NAME_loss_and_grad``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers see through the lazy loader; tests/test_packaging.py keeps it in step
    from symgrad.backends import loss_and_grad_function as loss_and_grad_function
    from symgrad.codegen.compile import compile_derivation as compile_derivation
    from symgrad.codegen.user_losses import define_loss as define_loss
    from symgrad.runtime.catalog import loss_names as loss_names
    from symgrad.runtime.dask_evaluation import read_npy_in_chunks as read_npy_in_chunks
    from symgrad.runtime.losses import ClassifierLossFunction, RegressionLossFunction
    from symgrad.runtime.two_layer import TwoLayerParameters as TwoLayerParameters
    from symgrad.runtime.two_layer import two_layer_loss_and_grad as two_layer_loss_and_grad
    from symgrad.symbolic.critical import critical_points as critical_points
    from symgrad.symbolic.derivation import Derivation as Derivation
    from symgrad.symbolic.expressions import derive as derive
    from symgrad.symbolic.linear_model_loss import LossParameter as LossParameter
    from symgrad.symbolic.registry import all_derivations as all_derivations
    from symgrad.symbolic.registry import get_derivation as get_derivation
    from symgrad.symbolic.registry import register as register
    from symgrad.training.datasets import Dataset as Dataset
    from symgrad.training.datasets import load_cifar10 as load_cifar10
    from symgrad.training.datasets import load_digits_dataset as load_digits_dataset
    from symgrad.training.descent import LineSearch as LineSearch
    from symgrad.training.descent import TrainingDiverged as TrainingDiverged
    from symgrad.training.descent import gradient_descent as gradient_descent
    from symgrad.training.landscape import hinge_demo as hinge_demo
    from symgrad.training.landscape import loss_slice_1d as loss_slice_1d
    from symgrad.training.landscape import loss_slice_2d as loss_slice_2d
    from symgrad.training.landscape import step_size_sweep as step_size_sweep
    from symgrad.training.strategies import TrainingHistory as TrainingHistory
    from symgrad.training.strategies import accuracy as accuracy
    from symgrad.training.strategies import full_batch_gradient_descent as full_batch_gradient_descent
    from symgrad.training.strategies import minibatch_gradient_descent as minibatch_gradient_descent
    from symgrad.training.strategies import predict as predict
    from symgrad.training.strategies import random_local_search as random_local_search
    from symgrad.training.strategies import random_search as random_search
    from symgrad.training.strategies import stochastic_gradient_descent as stochastic_gradient_descent
    from symgrad.training.two_layer import train_two_layer as train_two_layer
    from symgrad.training.two_layer import two_layer_accuracy as two_layer_accuracy
    from symgrad.training.two_layer import two_layer_predict as two_layer_predict
    from symgrad.verification.checker import TOLERANCES as TOLERANCES
    from symgrad.verification.checker import GradientReport as GradientReport
    from symgrad.verification.checker import assert_gradient as assert_gradient
    from symgrad.verification.checker import check_gradient as check_gradient
    from symgrad.verification.checker import check_subgradient as check_subgradient
    from symgrad.verification.derivation_checks import check_derivation as check_derivation
    from symgrad.verification.numerical import complex_step_gradient as complex_step_gradient
    from symgrad.verification.numerical import numerical_gradient as numerical_gradient
    from symgrad.verification.numerical import relative_error as relative_error
    from symgrad.verification.taylor import check_taylor_remainder as check_taylor_remainder

    __version__: str
    crammer_singer_loss_and_grad: ClassifierLossFunction
    huber_loss_and_grad: RegressionLossFunction
    logistic_loss_and_grad: RegressionLossFunction
    smoothed_softmax_loss_and_grad: ClassifierLossFunction
    softmax_loss_and_grad: ClassifierLossFunction
    squared_hinge_loss_and_grad: ClassifierLossFunction
    squared_loss_and_grad: RegressionLossFunction
    svm_loss_and_grad: ClassifierLossFunction

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
    # the two-layer ReLU network (NumPy)
    "two_layer_loss_and_grad": "symgrad.runtime.two_layer",
    "TwoLayerParameters": "symgrad.runtime.two_layer",
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
    "TrainingDiverged": "symgrad.training.descent",
    "random_search": "symgrad.training.strategies",
    "random_local_search": "symgrad.training.strategies",
    "full_batch_gradient_descent": "symgrad.training.strategies",
    "minibatch_gradient_descent": "symgrad.training.strategies",
    "stochastic_gradient_descent": "symgrad.training.strategies",
    "predict": "symgrad.training.strategies",
    "accuracy": "symgrad.training.strategies",
    "train_two_layer": "symgrad.training.two_layer",
    "two_layer_predict": "symgrad.training.two_layer",
    "two_layer_accuracy": "symgrad.training.two_layer",
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


if not TYPE_CHECKING:  # hidden from type checkers, so that a misspelt name is an error there too

    def __getattr__(name: str) -> Any:
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


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
