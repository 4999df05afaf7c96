"""The one registry of derivations that the scripts, the test suite and the command line iterate over.

Every module of :mod:`symgrad.objectives` is imported on first use, so a derivation registered in any of
them appears everywhere.
"""

from __future__ import annotations

import importlib
import pkgutil

from symgrad.derivation import Derivation

_REGISTRY: dict[str, Derivation] = {}
_builtins_loaded = False


def register(derivation: Derivation) -> Derivation:
    """Add ``derivation`` under its name and return it; a name can be registered once."""
    if not isinstance(derivation, Derivation):
        raise TypeError(f"derivation: expected a symgrad.Derivation, got {type(derivation).__name__}")
    if derivation.name in _REGISTRY:
        raise ValueError(f"derivation: the name {derivation.name!r} is already registered")
    _REGISTRY[derivation.name] = derivation
    return derivation


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    import symgrad.objectives as objectives

    for module in sorted(pkgutil.iter_modules(objectives.__path__), key=lambda m: m.name):
        importlib.import_module(f"{objectives.__name__}.{module.name}")


def get_derivation(name: str) -> Derivation:
    """The registered derivation called ``name`` (e.g. ``"polynomial"``, ``"bowl_1d"``, ``"bowl_2d"``)."""
    _load_builtins()
    if not isinstance(name, str):
        raise TypeError(f"name: expected a derivation name (str), got {type(name).__name__}")
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"name: no derivation called {name!r}; registered: {known}") from None


def all_derivations() -> tuple[Derivation, ...]:
    """Every registered derivation, in the order the modules of :mod:`symgrad.objectives` register them."""
    _load_builtins()
    return tuple(_REGISTRY.values())
