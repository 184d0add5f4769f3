"""Configs: load a YAML file (with ``base:`` and ``--set``), validate it, and resolve defaults.

Example:
    >>> from trainctl.config import load_config
    >>> cfg = load_config("configs/linreg.yaml", overrides=["optimizer.lr=0.02"])  # doctest: +SKIP
    >>> cfg["optimizer"]["lr"]  # doctest: +SKIP
    0.02
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import ConfigError
from . import schema
from .loader import Sources, apply_override, config_error, key_path, load_with_bases

__all__ = ["Config", "config_changes", "config_error", "key_path", "load_config", "resolve"]


class Config(dict):
    """A validated config: a plain dict of sections plus ``.sources`` (where each value came from),
    ``.path`` (the file it was loaded from) and ``.trust_code`` (whether components named by
    import path, ``type: "pkg.mod:Name"``, may be imported)."""

    def __init__(self, data: dict, sources: Sources, path: Path | None, trust_code: bool = False):
        super().__init__(data)
        self.sources = sources
        self.path = path
        self.trust_code = trust_code

    def error(self, path, message: str) -> ConfigError:
        """A ConfigError naming file, line and key for the value at ``path``."""
        return config_error(self.sources, path, message)

    def where(self, path) -> str:
        return self.sources.where(path)

    def to_yaml(self) -> str:
        """The resolved config as YAML: a valid config file itself (what a run saves)."""
        import yaml

        return yaml.safe_dump(dict(self), sort_keys=False)


def load_config(path, overrides=(), trust_code: bool = False) -> Config:
    """Load, merge (``base:``), override (``--set``), validate and resolve one config file."""
    path = Path(path)
    data, sources = load_with_bases(path)
    for text in overrides:
        apply_override(data, sources, text)
    data.setdefault("name", path.stem)
    return resolve(data, sources, path, trust_code)


def resolve(data: dict, sources: Sources | None = None, path: Path | None = None,
            trust_code: bool = False) -> Config:
    """Validate a config held as plain data and fill in defaults."""
    sources = sources or Sources({(): str(path or "<config>")})
    if not isinstance(data, dict):
        raise ConfigError(f"{sources.where(())}: a config must be a mapping of sections")
    data = dict(data)
    data.pop("base", None)
    out = schema.check_fields(data, schema.TOP_LEVEL, sources, ())
    if out["name"] is None:
        out["name"] = path.stem if path else "run"
    out["device"] = _check_device(out["device"], sources)
    out["data"] = schema.check_fields(out["data"], schema.DATA, sources, ("data",))
    if out["data"]["val"] is not None and out["data"]["val_split"] is not None:
        raise config_error(sources, ("data", "val_split"),
                           "give either data.val or data.val_split, not both")
    if out["data"]["eval_batch_size"] is None:
        out["data"]["eval_batch_size"] = out["data"]["batch_size"]
    out["train"] = _check_train(out["train"], sources)
    out["checkpoint"] = schema.check_fields(out["checkpoint"], schema.CHECKPOINT, sources,
                                            ("checkpoint",))
    out["plots"] = schema.check_fields(out["plots"], schema.PLOTS, sources, ("plots",))
    for i, item in enumerate(out["logging"]):
        if not isinstance(item, str) and not (isinstance(item, dict) and "type" in item):
            raise config_error(sources, ("logging", i),
                               "expected a logger name or {type: NAME, ...arguments}")
    for section, extras in (("optimizer", schema.OPTIMIZER_EXTRAS),
                            ("scheduler", schema.SCHEDULER_EXTRAS)):
        spec = out[section]
        if spec is None:
            continue
        spec = dict(spec)
        for key, field in extras.items():
            value = field.check(spec.get(key), sources, (section, key))
            spec[key] = field.default if value is None else value
        out[section] = spec
    _check_group_numbers(out["optimizer"]["param_groups"] or [], sources)
    if path is not None:
        _resolve_data_paths(out["data"], sources)
    return Config(out, sources, path, trust_code)


# Dataset arguments that name files or folders.
PATH_KEYS = ("path", "root", "reference")


def _resolve_data_paths(data: dict, sources: Sources) -> None:
    """Make the datasets' relative paths absolute, relative to the folder of the YAML file that
    wrote them (a ``base:`` file's paths to its own folder; ``--set`` values to the current
    folder), so a config works from any folder and the run's config.yaml says where the data
    was."""
    for split in ("train", "val", "test"):
        spec = data.get(split)
        if not isinstance(spec, dict):
            continue
        for key in PATH_KEYS:
            value = spec.get(key)
            if isinstance(value, str) and value and not os.path.isabs(value):
                spec[key] = os.path.abspath(os.path.join(_folder_of(
                    sources.where(("data", split, key))), os.path.expanduser(value)))


def _folder_of(location: str) -> str:
    """The folder of the file in a ``file:line`` location ('' for --set and unknown ones)."""
    file, _, line = location.rpartition(":")
    if not line.isdigit() or not file or location.startswith("--set"):
        return ""
    return os.path.dirname(file)


def _check_group_numbers(rules: list, sources: Sources) -> None:
    """Hyperparameters of ``optimizer.param_groups`` (``lr: .nan``) must be finite numbers: the
    builder checks the optimizer's own arguments, these go straight into its groups."""
    for i, rule in enumerate(rules):
        for key, value in (rule.items() if isinstance(rule, dict) else ()):
            _check_finite(value, sources, ("optimizer", "param_groups", i, key))


def _check_finite(value, sources: Sources, path) -> None:
    if isinstance(value, float):
        schema.finite_float(value, sources, path)
    elif isinstance(value, list):
        for j, item in enumerate(value):
            _check_finite(item, sources, (*path, j))


def _check_device(value: str, sources: Sources) -> str:
    text = value.strip().lower()
    kind, _, index = text.partition(":")
    if text == "auto" or (kind in ("cpu", "cuda") and (not index or index.isdigit())):
        if kind == "cpu" and index:
            raise config_error(sources, ("device",), "cpu takes no index; use 'cpu'")
        return text
    raise config_error(sources, ("device",), f"expected cpu, cuda, cuda:N or auto, got {value!r}")


def _check_train(values: dict, sources: Sources) -> dict:
    train = schema.check_fields(values, schema.TRAIN, sources, ("train",))
    for key, what in (("metrics", "metric"), ("callbacks", "callback")):
        for i, item in enumerate(train[key]):
            if not isinstance(item, str) and not (isinstance(item, dict) and "type" in item):
                raise config_error(sources, ("train", key, i),
                                   f"expected a {what} name or {{type: NAME, ...arguments}}")
    clip = train["grad_clip"]
    if clip is not None:
        clip = schema.check_fields(clip, schema.GRAD_CLIP, sources, ("train", "grad_clip"))
        if (clip["max_norm"] is None) == (clip["value"] is None):
            raise config_error(sources, ("train", "grad_clip"),
                               "give exactly one of max_norm (clip by norm) or value "
                               "(clip each element)")
        train["grad_clip"] = clip
    if train["early_stopping"] is not None:
        train["early_stopping"] = schema.check_fields(
            train["early_stopping"], schema.EARLY_STOPPING, sources, ("train", "early_stopping"))
    return train


def _flatten(obj, prefix=""):
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, list):
        items = enumerate(obj)
    else:
        return {prefix: obj}
    out = {}
    for k, v in items:
        out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def config_changes(old: dict, new: dict) -> list[str]:
    """Dotted keys whose values differ between two resolved configs (the run name excluded).

    Example:
        >>> config_changes({"optimizer": {"lr": 0.1}}, {"optimizer": {"lr": 0.2}})
        ['optimizer.lr']
    """
    a, b = _flatten(old), _flatten(new)
    return sorted(k for k in set(a) | set(b)
                  if k != "name" and a.get(k, "<unset>") != b.get(k, "<unset>"))
