"""Reading config files: YAML with line numbers, ``base:`` inheritance and ``--set`` overrides.

Every value keeps where it came from (``file:line``, or the ``--set`` that changed it) in a
:class:`Sources` table keyed by the value's path, so any later error can name file, line and key.
Only ``yaml.SafeLoader`` constructs values: no Python objects are ever created from YAML.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from ..core.errors import ConfigError


class Sources:
    """Where each value of a config came from: path tuple -> ``"file:line"``."""

    def __init__(self, table: dict | None = None):
        self.table = dict(table or {})

    def where(self, path) -> str:
        """The best location for ``path``: its own line, else its nearest located parent's."""
        path = tuple(path)
        while path:
            if path in self.table:
                return self.table[path]
            path = path[:-1]
        return self.table.get((), "")

    def set(self, path, location: str) -> None:
        self.table[tuple(path)] = location

    def drop_below(self, path) -> None:
        """Forget the locations of everything under ``path`` (its value was replaced)."""
        path = tuple(path)
        n = len(path)
        for key in [k for k in self.table if len(k) > n and k[:n] == path]:
            del self.table[key]

    def update(self, other: Sources) -> None:
        self.table.update(other.table)


def key_path(path) -> str:
    """``("model", "layers", 3, "in_features")`` -> ``"model.layers.3.in_features"``."""
    return ".".join(str(p) for p in path)


def config_error(sources: Sources, path, message: str) -> ConfigError:
    """A ConfigError that starts with ``file:line: key.path:``."""
    where = sources.where(path)
    key = key_path(path)
    prefix = ": ".join(p for p in (where, key) if p)
    return ConfigError(f"{prefix}: {message}" if prefix else message)


# ---------------------------------------------------------------------------- YAML with lines


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float (YAML 1.1 would keep it a string)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def safe_load(text: str):
    """``yaml.safe_load`` with the float fix above."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506  (a SafeLoader subclass)


class _LineLoader(_Loader):
    """The loader above, remembering the line of every mapping key and sequence item."""


def _mapping(loader, node):
    loader.flatten_mapping(node)
    value, lines = {}, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in value:
            raise ConfigError(
                f"{loader.name}:{line}: duplicate key {key!r} (first at line {lines[key]})"
            )
        value[key] = loader.construct_object(value_node, deep=True)
        lines[key] = line
    return _Located(value, lines)


def _sequence(loader, node):
    items = [loader.construct_object(child, deep=True) for child in node.value]
    return _Located(items, [child.start_mark.line + 1 for child in node.value])


class _Located:
    """A mapping or list still carrying the lines of its entries (unwrapped after loading)."""

    __slots__ = ("value", "lines")

    def __init__(self, value, lines):
        self.value, self.lines = value, lines


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def _unwrap(obj, path, file, sources):
    if not isinstance(obj, _Located):
        return obj
    if isinstance(obj.value, dict):
        out = {}
        for key, value in obj.value.items():
            sub = path + (key,)
            sources.set(sub, f"{file}:{obj.lines[key]}")
            out[key] = _unwrap(value, sub, file, sources)
        return out
    out = []
    for i, (value, line) in enumerate(zip(obj.value, obj.lines)):
        sub = path + (i,)
        sources.set(sub, f"{file}:{line}")
        out.append(_unwrap(value, sub, file, sources))
    return out


def load_yaml(path: Path) -> tuple[dict, Sources]:
    """One YAML file as plain data plus the location of every value."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config file: {e.strerror}") from None
    loader = _LineLoader(text)
    loader.name = str(path)
    try:
        raw = loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: invalid YAML: {e.problem}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: invalid YAML: {e}") from None
    finally:
        loader.dispose()
    sources = Sources({(): str(path)})
    data = _unwrap(raw, (), str(path), sources)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: a config file must be a mapping of sections, "
                          f"got {type(data).__name__}")
    return data, sources


# ---------------------------------------------------------------------------- merging


def merge(base, override, path=(), sources: Sources | None = None):
    """Deep-merge ``override`` into ``base`` (returns a new value).

    Mappings merge key by key; anything else replaces. A mapping that changes a component's
    ``type`` replaces the old component whole, so no stale arguments of the old type survive.
    """
    if isinstance(base, dict) and isinstance(override, dict):
        if "type" in override and "type" in base and override["type"] != base["type"]:
            if sources is not None:
                sources.drop_below(path)
            return dict(override)
        out = dict(base)
        for key, value in override.items():
            out[key] = merge(base.get(key), value, path + (key,), sources) if key in base else value
        return out
    if sources is not None:
        sources.drop_below(path)
    return override


def load_with_bases(path: Path, _chain=()) -> tuple[dict, Sources]:
    """Load a config and the chain of files it names in ``base:``, merged base-first."""
    path = Path(path)
    resolved = path.resolve()
    if resolved in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, resolved))
        raise ConfigError(f"{path}: base files form a cycle: {cycle}")
    data, sources = load_yaml(path)
    base_name = data.pop("base", None)
    if base_name is None:
        return data, sources
    if not isinstance(base_name, str):
        raise config_error(sources, ("base",), "expected a file name (relative to this file)")
    base_path = Path(os.path.normpath(path.parent / base_name))
    if not base_path.exists():
        raise config_error(sources, ("base",), f"base file {str(base_path)!r} not found")
    base, base_sources = load_with_bases(base_path, (*_chain, resolved))
    merged_sources = Sources(base_sources.table)
    merged = merge(base, data, (), merged_sources)
    own = Sources(sources.table)
    own.table.pop((), None)
    merged_sources.update(own)
    merged_sources.set((), str(path))
    return merged, merged_sources


# ---------------------------------------------------------------------------- --set overrides


def parse_override(text: str) -> tuple[list, object]:
    """``"model.layers.1.out_features=256"`` -> (['model', 'layers', 1, 'out_features'], 256)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. --set optimizer.lr=0.1")
    try:
        value = safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as e:
        raise ConfigError(f"--set {text!r}: the value is not valid YAML: {e}") from None
    path = [int(p) if p.lstrip("-").isdigit() else p for p in key.split(".")]
    if any(p == "" for p in path):
        raise ConfigError(f"--set {text!r}: empty part in key {key!r}")
    return path, value


def apply_override(config: dict, sources: Sources, text: str) -> dict:
    """Apply one ``--set KEY=VALUE`` in place (mappings deep-merge, see :func:`merge`)."""
    path, value = parse_override(text)
    where = f"--set {text}"
    node = config
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(node, list):
            if not isinstance(part, int) or not -len(node) <= part < len(node):
                raise ConfigError(f"{where}: {key_path(path[:i + 1])}: no list item {part} "
                                  f"(the list has {len(node)} items)")
            child = node[part]
        elif isinstance(node, dict):
            child = node.get(part)
            if child is None:
                child = node[part] = [] if isinstance(nxt, int) else {}
        else:
            raise ConfigError(f"{where}: {key_path(path[:i])} is a {type(node).__name__}, "
                              f"not a mapping or list")
        node = child
    last = path[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or not -len(node) <= last <= len(node):
            raise ConfigError(f"{where}: {key_path(path)}: no list item {last} "
                              f"(the list has {len(node)} items)")
        if last == len(node):
            node.append(value)
        else:
            node[last] = merge(node[last], value, tuple(path), sources)
    elif isinstance(node, dict):
        node[last] = merge(node[last], value, tuple(path), sources) if last in node else value
    else:
        raise ConfigError(f"{where}: {key_path(path[:-1])} is a {type(node).__name__}, "
                          f"not a mapping or list")
    sources.set(path, where)
    return config
