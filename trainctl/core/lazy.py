"""Packages whose names load on first use (PEP 562), so ``import trainctl.nn`` costs a table.

Example (a package's ``__init__.py``)::

    _WHERE = {"Linear": ".modules.linear", "ReLU": ".modules.activation"}
    _MODULES = {"functional": ".functional"}
    __getattr__, __dir__ = lazy_names(__name__, globals(), _WHERE, _MODULES)

``tc.nn.Linear`` then imports ``trainctl.nn.modules.linear`` once and stores ``Linear`` as a plain
global of the package, so every later lookup is an ordinary attribute read.
"""

from __future__ import annotations

from importlib import import_module


def lazy_names(package: str, namespace: dict, where: dict, modules: dict | None = None):
    """``(__getattr__, __dir__)`` for ``package``: ``where`` maps a name to the (relative) module
    that defines it, ``modules`` a name to a submodule; ``namespace`` is the package's
    ``globals()``."""
    modules = modules or {}

    def __getattr__(name: str):
        if name in where:
            value = getattr(import_module(where[name], package), name)
        elif name in modules:
            value = import_module(modules[name], package)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value  # later lookups find a plain global: no call, no import
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where, *modules})

    return __getattr__, __dir__
