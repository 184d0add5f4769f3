"""``--set`` overrides written down as a config file: the mapping that, under ``base:``, loads to
the same config (what ``lr-find --apply`` and a sweep's ``best.yaml`` write).

A list item (``model.sizes.1=48``) becomes the whole list, since a file's values replace lists
rather than merge into them; a mapping merges key by key, as ``--set`` does.

Example:
    >>> override_mapping("configs/spirals_mlp.yaml",
    ...                  ["optimizer.lr=0.05", "model.sizes.1=32"])  # doctest: +SKIP
    {'optimizer': {'lr': 0.05}, 'model': {'sizes': [2, 32, 64, 3]}}
"""

from __future__ import annotations

from pathlib import Path

from .loader import Sources, apply_override, load_with_bases, parse_override


def override_mapping(config, overrides) -> dict:
    """The nested mapping of what ``overrides`` change in the file ``config``."""
    data, _ = load_with_bases(Path(config))
    for text in overrides:
        apply_override(data, Sources(), text)
    changed: dict = {}
    for text in overrides:
        keys, _ = parse_override(text)
        head = []
        for part in keys:
            if isinstance(part, int):
                break
            head.append(part)
        node = changed
        for key in head[:-1]:
            node = node.setdefault(key, {})
        node[head[-1]] = value_at(data, head)
    return changed


def value_at(data, keys):
    """The value at a path of keys (mapping keys and list indices), or None."""
    node = data
    for key in keys:
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
            node = node[key]
        else:
            return None
    return node
