"""Reading config files: YAML with line numbers, ``base:`` inheritance and ``--set`` overrides.

Every value keeps where it came from (``file:line``, or the ``--set`` that changed it) in a
:class:`Sources` table keyed by the value's path, so any later error can name file, line and key.
Only ``yaml.SafeLoader`` constructs values: no Python objects are ever created from YAML. Any
text, a file's or a ``--set`` value's, ends in plain data (string keys; mappings, lists and
scalars) or one ConfigError line naming file and line, within the limits below.
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
    """``("model", "layers", 3, "in_features")`` -> ``"model.layers.3.in_features"`` (a key
    with a line break or other unprintable character is quoted, so messages stay one line)."""
    return ".".join(str(p) if str(p).isprintable() else repr(p) for p in path)


def config_error(sources: Sources, path, message: str) -> ConfigError:
    """A ConfigError that starts with ``file:line: key.path:``."""
    where = sources.where(path)
    key = key_path(path)
    prefix = ": ".join(p for p in (where, key) if p)
    return ConfigError(f"{prefix}: {message}" if prefix else message)


# ---------------------------------------------------------------------------- YAML with lines

# What one YAML text (a file or a --set value) may make the loader do, so any bytes end in a
# result or a ConfigError in bounded time and memory. Real configs are a few KiB with a few
# hundred values nested 4-6 deep; the limits are far above that, and the worst text they let
# through still loads in about 1.5 s (PyYAML's pure-Python parser reads about 1 MiB/s).
# MAX_VALUES counts the values after aliases are expanded (a 500-byte "billion laughs" alias
# bomb expands to 10**9 of them) and, while parsing, the nodes of the text (two per key).
MAX_BYTES = 1 << 20  # 1 MiB of text
MAX_DEPTH = 50  # mappings and lists nested in each other
MAX_VALUES = 10_000  # values of one document
MAX_BASES = 20  # files in one chain of `base:`


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float (YAML 1.1 would keep it a string)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def safe_load(text: str):
    """``yaml.safe_load`` with the float fix above (for trusted text; configs use load_yaml)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506  (a SafeLoader subclass)


class _LineLoader(_Loader):
    """The loader above, remembering the line of every mapping key and sequence item, and
    refusing documents past the limits above while it parses them."""

    def __init__(self, text: str, name: str):
        super().__init__(text)
        self.name = name
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent, index):
        self.depth += 1
        self.nodes += 1
        if self.depth > MAX_DEPTH or self.nodes > 2 * MAX_VALUES:
            line = self.peek_event().start_mark.line + 1
            raise ConfigError(f"{self.name}:{line}: {_too_big(self.depth > MAX_DEPTH)}")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except ConfigError:
            raise
        except (ValueError, OverflowError) as e:  # !!int x, 2001-13-45, a 5000-digit integer
            detail = _one_line(str(e).split(";")[0])
            shown = node.value[:40] if isinstance(node.value, str) else node.id
            raise ConfigError(f"{self.name}:{node.start_mark.line + 1}: cannot read the value "
                              f"{shown!r}: {detail}") from None

    def flatten_mapping(self, node):
        super().flatten_mapping(node)
        if len(node.value) > MAX_VALUES:  # merge keys (<<: *a) copying each other
            raise ConfigError(f"{self.name}:{node.start_mark.line + 1}: {_too_big(False)}")


def _too_big(deep: bool) -> str:
    if deep:
        return f"nested more than {MAX_DEPTH} levels deep"
    return f"more than {MAX_VALUES} values (with aliases expanded); a config is much smaller"


def _mapping(loader, node):
    own = {id(key_node) for key_node, _ in node.value}
    loader.flatten_mapping(node)  # merged keys (<<: *base) come first; the mapping's own win
    value, lines, own_lines = {}, {}, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):  # keys become argument names and --set paths
            what = "a mapping or list" if isinstance(key, _Located) else repr(key)
            raise ConfigError(f"{loader.name}:{line}: a key must be a name, got {what}; "
                              f"quote it to use it as text")
        if id(key_node) in own:
            if key in own_lines:
                raise ConfigError(f"{loader.name}:{line}: duplicate key {key!r} "
                                  f"(first at line {own_lines[key]})")
            own_lines[key] = line
        value[key] = loader.construct_object(value_node, deep=True)
        lines[key] = line
    return _Located(value, lines)


def _sequence(loader, node):
    items = [loader.construct_object(child, deep=True) for child in node.value]
    return _Located(items, [child.start_mark.line + 1 for child in node.value])


def _refused_tag(loader, node):
    # Sets and pairs would hide lines (and _Located wrappers) inside tuples and sets; bytes
    # cannot be saved with a run's config.
    raise ConfigError(f"{loader.name}:{node.start_mark.line + 1}: the YAML tag {node.tag!r} "
                      "is not supported in a config; use a plain mapping or list")


def _int(loader, node):
    value = yaml.SafeLoader.construct_yaml_int(loader, node)
    if value.bit_length() > 128:  # hex and binary digits have no length limit in Python
        raise ConfigError(f"{loader.name}:{node.start_mark.line + 1}: the integer "
                          f"{str(node.value)[:20]!r}... is too large for a config value")
    return value


class _Located:
    """A mapping or list still carrying the lines of its entries (unwrapped after loading)."""

    __slots__ = ("value", "lines")

    def __init__(self, value, lines):
        self.value, self.lines = value, lines


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
for _tag in ("set", "omap", "pairs", "binary"):
    _LineLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refused_tag)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _int)
# A date stays the text it was (YAML 1.2 has no timestamps): a config holds no date objects.
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


def _unwrap(root, file: str, sources: Sources):
    """Plain data from the loader's result, every value's line recorded in ``sources``.

    Values reached through an alias are copied here, so this is where an alias bomb would
    explode: the walk counts what it copies and stops at MAX_VALUES and MAX_DEPTH.
    """
    count = 0

    def walk(obj, path):
        nonlocal count
        count += 1
        if count > MAX_VALUES or len(path) > MAX_DEPTH:
            raise ConfigError(f"{sources.where(path)}: {_too_big(len(path) > MAX_DEPTH)}")
        if not isinstance(obj, _Located):
            return obj
        if isinstance(obj.value, dict):
            out = {}
            for key, value in obj.value.items():
                sources.set(path + (key,), f"{file}:{obj.lines[key]}")
                out[key] = walk(value, path + (key,))
            return out
        out = []
        for i, (value, line) in enumerate(zip(obj.value, obj.lines)):
            sources.set(path + (i,), f"{file}:{line}")
            out.append(walk(value, path + (i,)))
        return out

    return walk(root, ())


def _one_line(text) -> str:
    return " ".join(str(text).split())


def parse_yaml(text: str, name: str, sources: Sources | None = None):
    """One YAML document as plain data, within the limits above; ``name`` starts each error
    (a file name, or ``--set '...'``) and ``sources`` receives every value's location."""
    sources = sources if sources is not None else Sources({(): name})
    if len(text) > MAX_BYTES:
        raise ConfigError(f"{name}: {len(text)} characters; a config may have at most "
                          f"{MAX_BYTES} (1 MiB)")
    loader = None
    try:
        loader = _LineLoader(text, name)
        raw = loader.get_single_data()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        what = ", ".join(_one_line(p) for p in (e.context, e.problem) if p)
        raise ConfigError(f"{name}{line}: invalid YAML: {what}") from None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        raise ConfigError(f"{name}:{line}: invalid YAML: character #x{e.character:04x} is "
                          "not allowed (is this a binary file?)") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{name}: invalid YAML: {_one_line(e)}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return _unwrap(raw, name, sources)


def _read_text(path: Path) -> str:
    """The UTF-8 text of a config file, read no further than the size limit."""
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, expected a YAML config file")
    if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
        raise ConfigError(f"{path}: not a regular file, expected a YAML config file")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config file: {e.strerror or e}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES} bytes (1 MiB); a config file is "
                          "a few KiB of YAML")
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ConfigError(f"{path}:{line}: a NUL byte; this is a binary file, not a YAML config")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte 0x{data[e.start]:02x}); a "
                          "config file must be UTF-8 YAML") from None


def load_yaml(path: Path) -> tuple[dict, Sources]:
    """One YAML file as plain data plus the location of every value."""
    path = Path(path)
    sources = Sources({(): str(path)})
    data = parse_yaml(_read_text(path), str(path), sources)
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
    if len(_chain) >= MAX_BASES:
        raise ConfigError(f"{path}: more than {MAX_BASES} base files in one chain")
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
    value = parse_yaml(raw, f"--set {text!r}") if raw.strip() else None
    path = [int(p) if re.fullmatch(r"-?[0-9]{1,18}", p) else p for p in key.split(".")]
    if any(p == "" for p in path):
        raise ConfigError(f"--set {text!r}: empty part in key {key!r}")
    if len(path) > MAX_DEPTH:
        raise ConfigError(f"--set {text[:60]!r}...: the key has more than {MAX_DEPTH} parts")
    return path, value


def apply_override(config: dict, sources: Sources, text: str) -> dict:
    """Apply one ``--set KEY=VALUE`` in place (mappings deep-merge, see :func:`merge`)."""
    path, value = parse_override(text)
    where = f"--set {text}" if text.isprintable() else f"--set {text!r}"
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
