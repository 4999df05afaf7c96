"""The one registry of derivations and of compiled losses, which the scripts, the test suite, code generation and
the command line iterate over.

Every module of :mod:`symgrad.symbolic.objectives` is imported on first use, so a derivation registered in any of
them appears everywhere. Every module of :mod:`symgrad.symbolic.losses` declares one compiled loss, ``LOSS``,
named after the module; its derivation (written out for C = 3) is registered under the same name.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from symgrad.symbolic.derivation import Derivation
from symgrad.symbolic.linear_model_loss import LinearModelLoss

_DERIVATIONS: dict[str, Derivation | LinearModelLoss] = {}
"""Name -> derivation; a compiled loss's derivation is written out when it is first asked for (it takes ~0.5 s)."""
_REGISTERING_MODULES: dict[str, str] = {}
_LOSSES: dict[str, LinearModelLoss] = {}
_BUILTIN_PACKAGES = ("symgrad.symbolic.objectives", "symgrad.symbolic.losses")
_builtins_loaded = False


def register(derivation: Derivation) -> Derivation:
    """Add ``derivation`` under its name and return it; a name can be registered once."""
    _load_builtins()
    return _register(derivation, sys._getframe(1).f_globals.get("__name__", ""))


def _register(derivation: Derivation | LinearModelLoss, module: str) -> Derivation | LinearModelLoss:
    if not isinstance(derivation, (Derivation, LinearModelLoss)):
        raise TypeError(f"derivation: expected a symgrad.Derivation, got {type(derivation).__name__}")
    if derivation.name in _DERIVATIONS:
        raise ValueError(f"derivation: the name {derivation.name!r} is already registered")
    _DERIVATIONS[derivation.name] = derivation
    _REGISTERING_MODULES[derivation.name] = module
    return derivation


def register_loss(loss: LinearModelLoss, module: str = "", *, replace: bool = False) -> LinearModelLoss:
    """Add a compiled loss's declaration, and its derivation under the same name; a name can be registered once,
    unless ``replace`` (a loss defined at run time, defined again) and the name is not a built-in one's."""
    _load_builtins()
    if not isinstance(loss, LinearModelLoss):
        raise TypeError(f"loss: expected a LinearModelLoss, got {type(loss).__name__}")
    builtin = _REGISTERING_MODULES.get(loss.name, "").startswith(_BUILTIN_PACKAGES)
    if replace and loss.name in _LOSSES and not builtin:
        del _LOSSES[loss.name], _DERIVATIONS[loss.name], _REGISTERING_MODULES[loss.name]
    if loss.name in _LOSSES or loss.name in _DERIVATIONS:
        raise ValueError(f"loss: the name {loss.name!r} is already registered")
    _register(loss, module or sys._getframe(1).f_globals.get("__name__", ""))
    _LOSSES[loss.name] = loss
    return loss


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    for package_name in _BUILTIN_PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{package_name}.{module_info.name}")
            if package_name.endswith(".losses"):
                loss = getattr(module, "LOSS", None)
                if not isinstance(loss, LinearModelLoss) or loss.name != module_info.name:
                    raise ImportError(f"{module.__name__} must define LOSS, a LinearModelLoss named {module_info.name!r}")
                register_loss(loss, module.__name__)


def get_derivation(name: str) -> Derivation:
    """The registered derivation called ``name`` (e.g. ``"polynomial"``, ``"bowl_1d"``, ``"svm"``)."""
    _load_builtins()
    if not isinstance(name, str):
        raise TypeError(f"name: expected a derivation name (str), got {type(name).__name__}")
    if name not in _DERIVATIONS:
        known = ", ".join(sorted(_DERIVATIONS))
        raise ValueError(f"name: no derivation called {name!r}; registered: {known}")
    return _written_out(name)


def _written_out(name: str) -> Derivation:
    """The derivation called ``name``, a compiled loss's written out now if this is the first time."""
    if isinstance(_DERIVATIONS[name], LinearModelLoss):
        _DERIVATIONS[name] = _DERIVATIONS[name].derivation()
    return _DERIVATIONS[name]


def all_derivations() -> tuple[Derivation, ...]:
    """Every registered derivation: the built-in ones by module (objectives, then losses, each alphabetical) and
    in registration order within a module, then the user's in registration order. The order does not depend
    on which module happened to be imported first."""
    _load_builtins()

    return tuple(_written_out(name) for name in sorted(_DERIVATIONS, key=_order))


def derivation_titles() -> tuple[tuple[str, str], ...]:
    """(name, title) of every registered derivation, in the order of :func:`all_derivations`, without writing out
    the compiled losses' derivations."""
    _load_builtins()
    entries = {name: _DERIVATIONS[name] for name in sorted(_DERIVATIONS, key=_order)}
    return tuple(
        (name, entry.derivation_title() if isinstance(entry, LinearModelLoss) else entry.title)
        for name, entry in entries.items()
    )


def _order(name: str):
    """Sort key: built-in first (objectives, then losses), by module, then registration order."""
    module = _REGISTERING_MODULES[name]
    package = next((p for p, prefix in enumerate(_BUILTIN_PACKAGES) if module.startswith(prefix + ".")), None)
    builtin = package is not None
    return (not builtin, package or 0, module if builtin else "", list(_DERIVATIONS).index(name))


def get_loss(name: str) -> LinearModelLoss:
    """The declaration of the compiled loss called ``name`` (``"svm"``, ``"softmax"``, ``"squared"``, ...)."""
    _load_builtins()
    try:
        return _LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"loss: no compiled loss called {name!r}; declared: {', '.join(sorted(_LOSSES))}") from None


def all_losses() -> tuple[LinearModelLoss, ...]:
    """Every declared compiled loss, built-in ones in alphabetical order, then the user's in registration order."""
    _load_builtins()
    return tuple(_LOSSES.values())
