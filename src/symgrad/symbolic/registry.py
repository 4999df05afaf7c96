"""The one registry of derivations that the scripts, the test suite and the command line iterate over.

Every module of :mod:`symgrad.symbolic.objectives` is imported on first use, so a derivation registered in any of
them appears everywhere.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from symgrad.symbolic.derivation import Derivation

_REGISTRY: dict[str, Derivation] = {}
_REGISTERING_MODULES: dict[str, str] = {}
_BUILTIN_PREFIX = "symgrad.symbolic.objectives."
_builtins_loaded = False


def register(derivation: Derivation) -> Derivation:
    """Add ``derivation`` under its name and return it; a name can be registered once."""
    if not isinstance(derivation, Derivation):
        raise TypeError(f"derivation: expected a symgrad.Derivation, got {type(derivation).__name__}")
    if derivation.name in _REGISTRY:
        raise ValueError(f"derivation: the name {derivation.name!r} is already registered")
    _REGISTRY[derivation.name] = derivation
    _REGISTERING_MODULES[derivation.name] = sys._getframe(1).f_globals.get("__name__", "")
    return derivation


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    import symgrad.symbolic.objectives as objectives

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
    """Every registered derivation: the built-in ones by module of :mod:`symgrad.symbolic.objectives` (alphabetical) and
    in registration order within a module, then the user's in registration order. The order does not depend
    on which module happened to be imported first."""
    _load_builtins()
    position = {name: index for index, name in enumerate(_REGISTRY)}

    def order(name: str):
        module = _REGISTERING_MODULES[name]
        builtin = module.startswith(_BUILTIN_PREFIX)
        return (not builtin, module if builtin else "", position[name])

    return tuple(_REGISTRY[name] for name in sorted(_REGISTRY, key=order))
