"""Every compiled loss by its one name: the built-in ones from their shipped generated modules, and losses defined
at run time. NumPy only.

The built-in names are the files of ``symgrad/symbolic/losses/`` (read as file names, without importing SymPy);
each loads from ``_generated/numpy/<name>.py`` on first use (see :mod:`symgrad.runtime.generated`).

>>> loss_names("classifier")[:5]       # the built-in classifier losses come first
('crammer_singer', 'smoothed_softmax', 'softmax', 'squared_hinge', 'svm')
>>> compiled_loss("svm").parameters[0].name
'delta'
"""

from __future__ import annotations

import functools

from symgrad.runtime.generated import declared_loss_names, shipped_module
from symgrad.runtime.losses import CompiledLoss

_DEFINED_AT_RUN_TIME: dict[str, CompiledLoss] = {}


def loss_names(kind: str | None = None) -> tuple[str, ...]:
    """The names of the compiled losses: built-in ones (alphabetical), then those defined at run time; only
    ``"classifier"`` or ``"regression"`` ones when ``kind`` is given."""
    names = declared_loss_names() + tuple(_DEFINED_AT_RUN_TIME)
    return names if kind is None else tuple(name for name in names if compiled_loss(name).kind == kind)


def compiled_loss(name: str) -> CompiledLoss:
    """The compiled loss called ``name``.

    Raises:
        ValueError: no loss has that name (the message lists them).
        GeneratedModuleError: its shipped module is missing or stale.
    """
    if name in _DEFINED_AT_RUN_TIME:
        return _DEFINED_AT_RUN_TIME[name]
    if not isinstance(name, str) or name not in declared_loss_names():
        raise ValueError(f"loss: no compiled loss called {name!r}; available: {', '.join(loss_names())}")
    return _shipped_loss(name)


@functools.lru_cache(maxsize=None)
def _shipped_loss(name: str) -> CompiledLoss:
    return CompiledLoss.from_module(shipped_module(name, "numpy"))


def add_compiled_loss(loss: CompiledLoss, *, replace: bool = False) -> CompiledLoss:
    """Make a loss defined at run time available by name (to the backends, the training strategies, ...); with
    ``replace``, a loss defined at run time under that name before is replaced (a built-in one never is)."""
    if loss.name in declared_loss_names() or (loss.name in _DEFINED_AT_RUN_TIME and not replace):
        raise ValueError(f"name: a compiled loss called {loss.name!r} exists already")
    _DEFINED_AT_RUN_TIME[loss.name] = loss
    return loss


def loss_function(name: str):
    """``<name>_loss_and_grad``: the compiled loss as a plain function with its signature and docstring."""
    return compiled_loss(name).public_function
