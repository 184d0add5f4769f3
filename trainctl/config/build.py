"""From a validated config to objects: model, loss, optimizer, scheduler, datasets.

One builder for every component: ``{type: Name, ...arguments}`` is looked up in the registry of
its kind, its keys are checked against the constructor's signature (unknown argument with a
did-you-mean, missing required argument, wrong type) BEFORE the constructor runs, nested components
are built recursively, and anything the constructor rejects (``lr < 0``) comes back as a
ConfigError naming file, line and key.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import inspect

from ..core.errors import ConfigError, DataError, TrainctlError
from . import Config
from .registry import registry

# Arguments whose values are themselves components, and of which kind.
NESTED = {
    ("scheduler", "schedulers"): "scheduler",
    ("model", "layers"): "model",
    ("dataset", "transform"): "transform",
    ("dataset", "target_transform"): "transform",
    ("transform", "transforms"): "transform",
}


def resolve_type(name, kind: str, cfg: Config, path, trust_code: bool = True):
    """The class or function a ``type:`` names: a registered name or ``"pkg.module:Name"``."""
    if not isinstance(name, str):
        raise cfg.error((*path, "type"), f"expected a {kind} name, got {name!r}")
    if ":" not in name:
        try:
            return registry(kind).get(name)
        except ConfigError as e:
            raise cfg.error((*path, "type"), str(e)) from None
    if not trust_code:
        raise cfg.error((*path, "type"),
                        f"{name!r} imports user code; rebuilding it from a checkpoint needs "
                        "--trust-code")
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)
    except ImportError as e:
        raise cfg.error((*path, "type"), f"cannot import {module_name!r}: {e}") from None
    except AttributeError:
        raise cfg.error((*path, "type"), f"module {module_name!r} has no {attr!r}") from None


def _signature(obj):
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


_SIMPLE = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}


def _from_annotation(annotation):
    if isinstance(annotation, str):
        names = {part.strip() for part in annotation.split("|")} - {"None"}
        return _SIMPLE.get(next(iter(names))) if len(names) == 1 else None
    if annotation in (int, float, bool, str):
        return _SIMPLE[annotation.__name__]
    return None


def _expected_type(param):
    """The Python type(s) an argument should have: from its annotation when it is a plain type,
    else from its default value (an int default accepts any number: PyTorch writes
    ``momentum=0`` for a float)."""
    from_annotation = _from_annotation(param.annotation)
    if from_annotation is not None:
        return from_annotation
    default = param.default
    if default is param.empty or default is None:
        return None
    if isinstance(default, bool):
        return (bool,)
    if isinstance(default, (int, float)):
        return (int, float)
    if isinstance(default, str):
        return (str,)
    if isinstance(default, (tuple, list)):
        return (list, tuple)
    return None


def _check_value(value, param, cfg: Config, path):
    expected = _expected_type(param)
    if expected is None or value is None:
        return value
    ok = isinstance(value, expected) and not (isinstance(value, bool) and bool not in expected)
    if not ok:
        names = " or ".join({int: "an integer", float: "a number", bool: "true or false",
                             str: "a string", list: "a list", tuple: "a list"}[t]
                            for t in expected if t is not tuple)
        if (int, float) == expected:
            names = "a number"
        raise cfg.error(path, f"expected {names}, got {type(value).__name__} {value!r}")
    if isinstance(param.default, tuple) and isinstance(value, list):
        return tuple(value)
    return value


def build_component(spec, kind: str, cfg: Config, path, inject: dict | None = None,
                    trust_code: bool = True):
    """Build ``{type: Name, ...}`` of registry ``kind``; ``inject`` adds runtime arguments."""
    path = tuple(path)
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict) or "type" not in spec:
        raise cfg.error(path, f"expected a {kind} like {{type: Name, ...arguments}}")
    factory = resolve_type(spec["type"], kind, cfg, path, trust_code)
    name = spec["type"]
    args = {k: v for k, v in spec.items() if k != "type"}
    inject = dict(inject or {})
    sig = _signature(factory)
    params = dict(sig.parameters) if sig else {}
    takes_var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    var_positional = next((p for p in params.values() if p.kind == p.VAR_POSITIONAL), None)
    inject = {k: v for k, v in inject.items() if k in params or takes_var_kw}

    kwargs, positional = {}, []
    for key, value in args.items():
        sub = (*path, key)
        nested_kind = NESTED.get((kind, key))
        if nested_kind is not None:
            value = _build_nested(value, nested_kind, cfg, sub, inject, trust_code)
        if key == "layers" and var_positional is not None and "layers" not in params:
            positional = list(value) if isinstance(value, list) else [value]
            continue
        if key not in params and not takes_var_kw:
            allowed = [p for p, v in params.items()
                       if v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD) and p not in inject]
            close = difflib.get_close_matches(key, allowed, n=2, cutoff=0.6)
            hint = (f"; did you mean {' or '.join(repr(c) for c in close)}?" if close
                    else f"; {name} takes: {', '.join(allowed) or 'no arguments'}")
            raise cfg.error(sub, f"unknown argument {key!r} for {name}{hint}")
        kwargs[key] = _check_value(value, params[key], cfg, sub) if key in params else value
    for pname, p in params.items():
        if (p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                and pname not in kwargs and pname not in inject):
            raise cfg.error(path, f"{name} needs the argument {pname!r}")
    try:
        return factory(*positional, **kwargs, **inject)
    except TrainctlError as e:
        raise type(e)(str(cfg.error(path, _named(name, str(e))))) from None
    except (ValueError, TypeError, KeyError, IndexError) as e:
        message = e.args[0] if e.args and isinstance(e.args[0], str) else str(e)
        raise cfg.error(_blamed_key(message, args, path), _named(name, message)) from None


def _named(name: str, message: str) -> str:
    return message if message.startswith(name) else f"{name}: {message}"


_ALIASES = {"learning rate": "lr", "epsilon": "eps", "beta parameter": "betas",
            "dropout probability": "p", "weight_decay": "weight_decay"}


def _blamed_key(message: str, args: dict, path):
    """Point the error at the argument the constructor's message names (by name, a usual
    phrase such as "learning rate", or its value), if it names one."""
    import re

    lowered = message.lower()
    for key in args:
        if re.search(rf"\b{re.escape(key.lower())}\b", lowered) or \
                key.replace("_", " ").lower() in lowered:
            return (*path, key)
    for phrase, key in _ALIASES.items():
        if phrase in lowered and key in args:
            return (*path, key)
    by_value = [k for k, v in args.items() if isinstance(v, (int, float, str)) and
                not isinstance(v, bool) and re.search(rf"(?<![\w.]){re.escape(str(v))}(?![\w.])",
                                                      message)]
    return (*path, by_value[0]) if len(by_value) == 1 else path


def _build_nested(value, kind, cfg, path, inject, trust_code):
    if isinstance(value, list):
        return [_build_nested(v, kind, cfg, (*path, i), inject, trust_code)
                for i, v in enumerate(value)]
    if isinstance(value, (dict, str)):
        return build_component(value, kind, cfg, path, inject, trust_code)
    return value


# ---------------------------------------------------------------------------- sections


def build_model(cfg: Config, trust_code: bool = True):
    """The model of ``cfg['model']``."""
    return build_component(cfg["model"], "model", cfg, ("model",), trust_code=trust_code)


def build_loss(cfg: Config):
    return build_component(cfg["loss"], "loss", cfg, ("loss",))


def parameter_groups(model, rules, cfg: Config):
    """Split the model's parameters by ``optimizer.param_groups`` rules (first match wins).

    Each rule is ``{params: PATTERN or [PATTERNS], ...hyperparameters}``, matched against the
    parameter names of ``model.named_parameters()`` with shell wildcards; parameters no rule
    matches form the first group, with the optimizer's own settings.
    """
    named = list(model.named_parameters())
    if not rules:
        return [p for _, p in named]
    assigned = [[] for _ in rules]
    rest = []
    for pname, param in named:
        for i, rule in enumerate(rules):
            patterns = rule["params"]
            patterns = [patterns] if isinstance(patterns, str) else patterns
            if any(fnmatch.fnmatchcase(pname, pat) for pat in patterns):
                assigned[i].append(param)
                break
        else:
            rest.append(param)
    groups = [{"params": rest}] if rest else []
    for i, (rule, params) in enumerate(zip(rules, assigned)):
        if not params:
            names = ", ".join(n for n, _ in named[:6]) + (", ..." if len(named) > 6 else "")
            raise cfg.error(("optimizer", "param_groups", i, "params"),
                            f"pattern {rule['params']!r} matches no parameter (names: {names})")
        groups.append({**{k: v for k, v in rule.items() if k != "params"}, "params": params})
    return groups


def build_optimizer(cfg: Config, model):
    spec = dict(cfg["optimizer"])
    rules = spec.pop("param_groups", None) or []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or "params" not in rule:
            raise cfg.error(("optimizer", "param_groups", i),
                            "expected {params: 'pattern', ...hyperparameters}")
    groups = parameter_groups(model, rules, cfg)
    return build_component(spec, "optimizer", cfg, ("optimizer",), inject={"params": groups})


def build_scheduler(cfg: Config, optimizer, steps_per_epoch: int | None = None):
    """The LR scheduler, or None. ``interval``/``monitor`` stay in the config for the trainer."""
    spec = cfg["scheduler"]
    if spec is None:
        return None
    spec = {k: v for k, v in spec.items() if k not in ("interval", "monitor")}
    inject = {"optimizer": optimizer}
    if steps_per_epoch is not None and spec.get("type") == "OneCycleLR" and "epochs" in spec:
        spec.setdefault("steps_per_epoch", steps_per_epoch)
    return build_component(spec, "scheduler", cfg, ("scheduler",), inject=inject)


def build_dataset(cfg: Config, split: str, download: bool | None = None):
    """The dataset of ``data.<split>`` (None when not configured)."""
    spec = cfg["data"][split]
    if spec is None:
        return None
    spec = dict(spec)
    if download is not None and "download" in spec:
        spec["download"] = spec["download"] and download
    return build_component(spec, "dataset", cfg, ("data", split))


def example_batch(cfg: Config, size: int = 2):
    """``(x, y, note)``: a small training batch for dry runs, never downloading anything.

    When the dataset's files are not there yet (e.g. ``download: true`` and no run so far), a
    dataset class that declares ``sample_shape`` (and ``num_classes``) stands in with zeros, and
    ``note`` says so.
    """
    from ..autograd import creation
    from ..core import dtypes

    try:
        dataset = build_dataset(cfg, "train", download=False)
    except DataError as e:
        factory = resolve_type(cfg["data"]["train"]["type"], "dataset", cfg, ("data", "train"))
        shape = getattr(factory, "sample_shape", None)
        if shape is None:
            raise
        x = creation.zeros((size, *shape))
        y = creation.zeros(size, dtype=dtypes.int64)
        return x, y, f"data files are not there yet, so zeros of the dataset's sample shape " \
                     f"{list(shape)} stood in ({e})"
    if len(dataset) == 0:
        raise cfg.error(("data", "train"), "the training dataset is empty")
    from ..data import default_collate

    batch = default_collate([dataset[i] for i in range(min(size, len(dataset)))])
    if isinstance(batch, (list, tuple)):
        return batch[0], (batch[1] if len(batch) > 1 else None), None
    return batch, None, None


def example_dataset_size(cfg: Config) -> int | None:
    """Number of training samples (after ``val_split``) if the data can be read without
    downloading, else None."""
    try:
        dataset = build_dataset(cfg, "train", download=False)
    except DataError:
        return None
    split = cfg["data"]["val_split"]
    n = len(dataset)
    return n - int(round(n * split)) if split else n
