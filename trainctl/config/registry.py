"""Named components: one registry per kind, so a config can say ``{type: Linear, ...}``.

Kinds: ``model`` (layers and whole models), ``loss``, ``optimizer``, ``scheduler``, ``dataset``,
``transform``, ``sampler``, ``metric`` and ``callback``. The library's layers, losses, optimizers,
schedulers, datasets, transforms and samplers are registered under their PyTorch names the first
time a registry is read (see ``builtins.py``); metrics and callbacks belong to the layer above,
``trainctl.training``,
which registers its own with the same decorator when it is imported (MMEngine's way: the registry
sits below the code that fills it). Users add theirs the same way::

    from trainctl.config.registry import register

    @register("model")
    class TinyNet(tc.nn.Module):
        ...

A registered component works everywhere a built-in does: ``train``, ``check``, ``plot-lr`` and
``eval`` all build through :func:`trainctl.config.build.build_component`. Lookups of unknown names
fail with a did-you-mean.
"""

from __future__ import annotations

import difflib

from ..core.errors import ConfigError

KINDS = ("model", "loss", "optimizer", "scheduler", "dataset", "transform", "sampler", "metric",
         "callback")


class Registry:
    """A name -> component table for one kind."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, object] = {}

    def add(self, name: str, obj, overwrite: bool = False) -> None:
        if name in self._items and self._items[name] is not obj and not overwrite:
            raise ValueError(f"a {self.kind} named {name!r} is already registered")
        self._items[name] = obj

    def get(self, name: str, where: str = ""):
        """The component called ``name``; a ConfigError with suggestions when there is none."""
        _ensure_builtins()
        try:
            return self._items[name]
        except (KeyError, TypeError):
            pass
        prefix = f"{where}: " if where else ""
        close = difflib.get_close_matches(str(name), self._items, n=3, cutoff=0.6)
        lower = {n.lower(): n for n in self._items}
        if str(name).lower() in lower and lower[str(name).lower()] not in close:
            close.insert(0, lower[str(name).lower()])
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else (
            f"; see `trainctl list {self.kind}`"
        )
        raise ConfigError(f"{prefix}unknown {self.kind} {name!r}{hint}")

    def __contains__(self, name) -> bool:
        _ensure_builtins()
        return name in self._items

    def names(self) -> list[str]:
        _ensure_builtins()
        return sorted(self._items)

    def items(self):
        _ensure_builtins()
        return sorted(self._items.items())


REGISTRIES = {kind: Registry(kind) for kind in KINDS}


def registry(kind: str) -> Registry:
    """The registry of one kind (``model``, ``loss``, ...)."""
    if kind not in REGISTRIES:
        raise ConfigError(f"unknown component kind {kind!r}; expected one of {', '.join(KINDS)}")
    return REGISTRIES[kind]


def register(kind: str, name: str | None = None):
    """Decorator: register a class or function as a ``kind`` component, by default by its name.

    Example:
        >>> @register("metric", "always_one")
        ... def always_one(pred, target):
        ...     return 1.0
    """

    def decorator(obj):
        registry(kind).add(name or obj.__name__, obj)
        return obj

    return decorator


_loaded = False


def _ensure_builtins() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from .builtins import register_library

        register_library(REGISTRIES)
