"""From a validated config to objects: model, loss, optimizer, scheduler, datasets, metrics.

One builder for every component: ``{type: Name, ...arguments}`` is looked up in the registry of
its kind, its keys are checked against the constructor's signature (unknown argument with a
did-you-mean, missing required argument, wrong type) BEFORE the constructor runs, nested components
are built recursively, and anything the constructor rejects (``lr < 0``) comes back as a
ConfigError naming file, line and key. Code named by import path (``type: "pkg.mod:Name"``) is
imported only when the config was loaded with ``trust_code=True``.

What differs between kinds lives in this file's per-kind functions, and nowhere else: the
optimizer gets its parameter groups, the scheduler its optimizer, steps per epoch (for schedulers
that take ``steps_per_epoch``, like ``OneCycleLR``) and its config-only keys ``interval`` and
``monitor`` (see :class:`Schedule`).
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import inspect
import math
from dataclasses import dataclass

from ..core.errors import ConfigError, TrainctlError
from . import Config
from .registry import registry

# Arguments whose values are themselves components, and of which kind.
NESTED = {
    ("scheduler", "schedulers"): "scheduler",
    ("model", "layers"): "model",
    ("model", "encoder_layer"): "model",  # TransformerEncoder's layer, copied num_layers times
    ("model", "decoder_layer"): "model",
    ("model", "norm"): "model",
    ("dataset", "transform"): "transform",
    ("dataset", "target_transform"): "transform",
    ("transform", "transforms"): "transform",
}


def resolve_type(name, kind: str, cfg: Config, path, bare: bool = False):
    """The class or function a ``type:`` names: a registered name or ``"pkg.module:Name"``.

    Errors point at ``path.type``, or at ``path`` itself for a ``bare`` name (``- accuracy``).
    """
    where = tuple(path) if bare else (*path, "type")
    if not isinstance(name, str):
        raise cfg.error(where, f"expected a {kind} name, got {name!r}")
    if ":" not in name:
        try:
            return registry(kind).get(name)
        except ConfigError as e:
            raise cfg.error(where, str(e)) from None
    if not cfg.trust_code:
        raise cfg.error(where,
                        f"{name!r} would import and run code from module "
                        f"{name.partition(':')[0]!r}; pass --trust-code if you trust it")
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)
    except ImportError as e:
        raise cfg.error(where, f"cannot import {module_name!r}: {e}") from None
    except AttributeError:
        raise cfg.error(where, f"module {module_name!r} has no {attr!r}") from None


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
    if param.annotation is not param.empty:
        return None  # a union or container annotation says more than the default's type
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


# Arguments for which infinity is a real choice, as in PyTorch (an infinity norm).
INF_ALLOWED = {"norm_type"}


def _check_finite(value, param, cfg: Config, path) -> None:
    """Refuse NaN (and inf, unless ``param`` allows it) anywhere in a number or list of them."""
    if isinstance(value, float):
        if math.isnan(value) or (math.isinf(value) and param.name not in INF_ALLOWED):
            raise cfg.error(path, f"must be a finite number, got {value!r}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_finite(item, param, cfg, (*path, i))


def _check_value(value, param, cfg: Config, path):
    _check_finite(value, param, cfg, path)
    if isinstance(param.default, tuple) and isinstance(value, list):
        value = tuple(value)  # YAML has no tuples: betas: [0.9, 0.99]
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
    return value


def build_component(spec, kind: str, cfg: Config, path, inject: dict | None = None,
                    defaults: dict | None = None):
    """Build ``{type: Name, ...}`` (or just ``Name``) of registry ``kind``.

    ``inject`` adds runtime arguments the config cannot give (the optimizer of a scheduler),
    passed only when the constructor takes them and inherited by nested components; ``defaults``
    are used for arguments the constructor takes and the config leaves out.
    """
    path = tuple(path)
    bare = isinstance(spec, str)
    if bare:
        spec = {"type": spec}
    if not isinstance(spec, dict) or "type" not in spec:
        raise cfg.error(path, f"expected a {kind} like {{type: Name, ...arguments}}")
    factory = resolve_type(spec["type"], kind, cfg, path, bare)
    name = spec["type"]
    args = {k: v for k, v in spec.items() if k != "type"}
    inject = dict(inject or {})
    sig = _signature(factory)
    params = dict(sig.parameters) if sig else {}
    takes_var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    var_positional = next((p for p in params.values() if p.kind == p.VAR_POSITIONAL), None)
    nested_inject = inject
    inject = {k: v for k, v in inject.items() if k in params or takes_var_kw}
    for key, value in (defaults or {}).items():
        if key in params and key not in args:
            args[key] = value

    kwargs, positional = {}, []
    for key, value in args.items():
        sub = (*path, key)
        nested_kind = NESTED.get((kind, key))
        if nested_kind is not None:
            value = _build_nested(value, nested_kind, cfg, sub, nested_inject)
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


def _build_nested(value, kind, cfg, path, inject):
    if isinstance(value, list):
        return [_build_nested(v, kind, cfg, (*path, i), inject) for i, v in enumerate(value)]
    if isinstance(value, (dict, str)):
        return build_component(value, kind, cfg, path, inject)
    return value


# ---------------------------------------------------------------------------- sections


def build_model(cfg: Config):
    """The model of ``cfg['model']``."""
    return build_component(cfg["model"], "model", cfg, ("model",))


def build_loss(cfg: Config, labels=None, num_classes: int | None = None,
               weights: dict | None = None):
    """The loss of ``cfg['loss']``. ``weight: balanced`` (class weights ``n / (k * count)``,
    scikit-learn's "balanced") and ``pos_weight: balanced`` (``negatives / positives``) are
    computed from ``labels``, the training part's class indices, or taken from ``weights``
    (what a checkpoint saved of them)."""
    spec = cfg["loss"]
    if isinstance(spec, dict) and "balanced" in (spec.get("weight"), spec.get("pos_weight")):
        spec = dict(spec)
        for key in ("weight", "pos_weight"):
            if spec.get(key) == "balanced":
                spec[key] = (weights or {}).get(key) or _balanced(
                    cfg, ("loss", key), labels, num_classes, key)
    return build_component(spec, "loss", cfg, ("loss",))


def _balanced(cfg: Config, path, labels, num_classes, key: str) -> list[float]:
    from ..data import class_weights

    if labels is None:
        raise cfg.error(path, "'balanced' needs classification data whose labels are known "
                              "(a dataset with labels(), e.g. CSVDataset with task: "
                              "classification or binary)")
    k = num_classes or (int(labels.max()) + 1 if len(labels) else 0)
    weights = class_weights(labels, k)
    if key == "pos_weight":  # one logit: negatives / positives
        negatives, positives = int((labels == 0).sum()), int((labels == 1).sum())
        return [negatives / positives if positives else 0.0]
    return weights


def build_sampler(cfg: Config, dataset, labels, generator):
    """The ``data.sampler`` of the training part, or None. ``weights: balanced`` gives each sample
    the weight of its class (``n / (k * count)``), so batches see classes equally often."""
    spec = cfg["data"]["sampler"]
    if spec is None:
        return None
    spec = {"type": spec} if isinstance(spec, str) else dict(spec)
    if spec.get("weights") == "balanced":
        weights = _balanced(cfg, ("data", "sampler", "weights"), labels, None, "weight")
        spec["weights"] = [weights[int(c)] for c in labels]
    return build_component(spec, "sampler", cfg, ("data", "sampler"),
                           inject={"generator": generator, "data_source": dataset},
                           defaults={"num_samples": len(dataset)})


def parameter_groups(named_parameters, rules, cfg: Config):
    """Split ``(name, parameter)`` pairs by ``optimizer.param_groups`` rules (first match wins).

    Each rule is ``{params: PATTERN or [PATTERNS], ...hyperparameters}``, matched against the
    parameter names with shell wildcards; parameters no rule matches form the first group, with
    the optimizer's own settings.
    """
    named = list(named_parameters)
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


def param_group_rules(cfg: Config) -> list[dict]:
    """The checked ``optimizer.param_groups`` rules ([] when there are none)."""
    rules = cfg["optimizer"].get("param_groups") or []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or "params" not in rule:
            raise cfg.error(("optimizer", "param_groups", i),
                            "expected {params: 'pattern', ...hyperparameters}")
    return rules


def build_optimizer(cfg: Config, named_parameters):
    """The optimizer of ``cfg['optimizer']`` over ``(name, parameter)`` pairs, with the
    ``param_groups`` rules applied."""
    groups = parameter_groups(named_parameters, param_group_rules(cfg), cfg)
    spec = {k: v for k, v in cfg["optimizer"].items() if k != "param_groups"}
    return build_component(spec, "optimizer", cfg, ("optimizer",), inject={"params": groups})


@dataclass
class Schedule:
    """A built LR scheduler and how a training loop steps it.

    ``interval`` is ``"epoch"`` or ``"step"``; ``monitor`` is the metric fed to a scheduler that
    needs one (``ReduceLROnPlateau``, stepped once per epoch with its value), else None.
    """

    scheduler: object
    interval: str = "epoch"
    monitor: str | None = None


def build_scheduler(cfg: Config, optimizer, steps_per_epoch: int,
                    default_monitor: str = "val/loss") -> Schedule | None:
    """The ``scheduler`` section as a :class:`Schedule`, or None when there is none.

    Schedulers that take ``steps_per_epoch`` (``OneCycleLR``) get it unless the config gives it.
    """
    spec = cfg["scheduler"]
    if spec is None:
        return None
    args = {k: v for k, v in spec.items() if k not in ("interval", "monitor")}
    scheduler = build_component(args, "scheduler", cfg, ("scheduler",),
                                inject={"optimizer": optimizer},
                                defaults={"steps_per_epoch": steps_per_epoch})
    needs_metric = isinstance(scheduler, _plateau_class())
    return Schedule(scheduler, spec["interval"],
                    (spec["monitor"] or default_monitor) if needs_metric else None)


def _plateau_class():
    from ..optim.lr_scheduler import ReduceLROnPlateau

    return ReduceLROnPlateau


def build_dataset(cfg: Config, split: str, download: bool | None = None,
                  extra: dict | None = None):
    """The dataset of ``data.<split>`` (None when not configured), with ``extra`` arguments
    added to the config's (a held-out split's inherited vocabulary)."""
    spec = cfg["data"][split]
    if spec is None:
        return None
    spec = {**spec, **(extra or {})}
    if download is not None and "download" in spec:
        spec["download"] = spec["download"] and download
    return build_component(spec, "dataset", cfg, ("data", split))


def validation_size(cfg: Config, n_samples: int) -> int:
    """How many of ``n_samples`` training samples ``data.val_split`` holds out (0 without it)."""
    fraction = cfg["data"]["val_split"]
    if fraction is None:
        return 0
    n_val = int(round(n_samples * fraction))
    if n_val < 1 or n_val >= n_samples:
        raise cfg.error(("data", "val_split"),
                        f"holds out {n_val} of {n_samples} samples; choose a fraction that "
                        "leaves both parts non-empty")
    return n_val


def steps_per_epoch(cfg: Config, n_train: int) -> int:
    """Optimizer steps in one epoch over ``n_train`` samples (batches, then accumulation)."""
    data = cfg["data"]
    batches = (n_train // data["batch_size"] if data["drop_last"]
               else math.ceil(n_train / data["batch_size"]))
    return max(1, math.ceil(batches / cfg["train"]["accumulate_grad_batches"]))
