"""A sweep's search space: the ``SPACE.yaml`` file ``trainctl sweep`` reads.

Keys are config keys in the ``--set`` syntax, values their domains; ``objective`` names the
metric to optimise (its direction comes from the metric, or ``direction:``); a key
``when KEY == VALUE`` (also ``!=`` and ``in [A, B]``) holds a sub-space sampled only when the
condition holds for a value sampled above it::

    objective: val/accuracy
    optimizer.lr: {log_uniform: [1.0e-4, 1.0e-1]}
    model.sizes.1: {int: [16, 256], step: 16}
    optimizer.type: {choice: [SGD, Adam]}
    when optimizer.type == SGD:
      optimizer.momentum: {uniform: [0.0, 0.99]}
    pruner: {n_startup_trials: 2}     # optional: keyword arguments of Optuna's pruner
    sampler: {n_startup_trials: 4}    # ... and of its sampler

Domains: ``uniform: [lo, hi]`` (``step:`` optional), ``log_uniform: [lo, hi]``,
``int: [lo, hi]`` (``step:``, ``log: true`` optional) and ``choice: [...]`` (any YAML values;
lists and mappings too). Nothing here imports Optuna: :meth:`Space.sample` takes any object
with Optuna's ``suggest_*`` methods.

Example:
    >>> space = Space.from_dict({"objective": "val/loss",
    ...                          "optimizer.lr": {"log_uniform": [1e-4, 1e-1]}})
    >>> [p.key for p in space.params], space.objective
    (['optimizer.lr'], 'val/loss')
    >>> space.overrides({"optimizer.lr": 0.01})
    ['optimizer.lr=0.01']
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..config import load_config
from ..config.changes import value_at
from ..config.loader import Sources, config_error, load_yaml, parse_override, safe_load
from ..config.registry import KINDS, registry
from ..core.errors import ConfigError
from .check import check

DOMAINS = ("uniform", "log_uniform", "int", "choice")
OPTIONS = {"uniform": {"step"}, "log_uniform": set(), "int": {"step", "log"}, "choice": set()}
RESERVED = ("objective", "direction", "pruner", "sampler")
DIRECTIONS = ("maximize", "minimize")
_WHEN = re.compile(r"when\s+(?P<key>[^\s=!]+)\s*(?P<op>==|!=|\bin\b)\s*(?P<value>.+)$")


@dataclass
class Param:
    """One sampled config key: its domain and, for ``when`` sub-spaces, its condition."""

    key: str
    domain: str
    low: float | int | None = None
    high: float | int | None = None
    step: float | int | None = None
    log: bool = False
    choices: list = field(default_factory=list)
    condition: Condition | None = None

    def encoded_choices(self) -> list:
        """The choices as Optuna stores them: scalars as they are, lists and mappings as their
        compact JSON text (Optuna's categorical values are None, bool, int, float or str)."""
        return [encode(c) for c in self.choices]

    def suggest(self, trial):
        """Ask ``trial`` (an ``optuna.Trial``) for a value of this key."""
        if self.domain == "choice":
            return decode(trial.suggest_categorical(self.key, self.encoded_choices()))
        if self.domain == "int":
            return trial.suggest_int(self.key, self.low, self.high, step=self.step or 1,
                                     log=self.log)
        return trial.suggest_float(self.key, self.low, self.high, step=self.step,
                                   log=self.domain == "log_uniform")

    def grid(self) -> list:
        """Every value of a finite domain (the grid sampler's axis)."""
        if self.domain == "choice":
            return self.encoded_choices()
        if self.domain == "int" and not self.log:
            return list(range(self.low, self.high + 1, self.step or 1))
        if self.domain == "uniform" and self.step:
            n = int(math.floor((self.high - self.low) / self.step + 1e-9))
            return [round(self.low + i * self.step, 12) for i in range(n + 1)]
        raise ConfigError(f"{self.key}: the grid sampler needs a finite domain: a choice, an int "
                          "range, or a uniform range with a step")

    def examples(self) -> list:
        """Values that show whether the config takes this key: the bounds, or each choice."""
        return list(self.choices) if self.domain == "choice" else [self.low, self.high]


@dataclass
class Condition:
    """``when KEY == VALUE`` (or ``!=``, ``in [..]``) on a key sampled above it."""

    key: str
    op: str
    value: object

    def holds(self, sampled: dict) -> bool:
        if self.key not in sampled:  # its own condition failed: nothing below it is sampled
            return False
        got = sampled[self.key]
        if self.op == "in":
            return got in self.value
        return (got == self.value) == (self.op == "==")

    def example(self, parent: Param):
        """A value of ``parent`` for which this condition holds (to check keys below it)."""
        candidates = parent.examples()
        for value in candidates:
            if self.holds({self.key: value}):
                return value
        return candidates[0]

    def __str__(self) -> str:
        return f"{self.key} {self.op} {json.dumps(self.value)}"


@dataclass
class Space:
    """The parsed ``SPACE.yaml``: params in sampling order, the objective and options."""

    params: list[Param]
    objective: str
    direction: str | None = None
    pruner: dict = field(default_factory=dict)
    sampler: dict = field(default_factory=dict)
    text: str = ""
    path: Path | None = None

    @classmethod
    def load(cls, path) -> Space:
        """Read and check a space file; a ConfigError names its line and key."""
        path = Path(path)
        data, sources = load_yaml(path)
        space = cls.from_dict(data, sources)
        space.text, space.path = path.read_text(), path
        return space

    @classmethod
    def from_dict(cls, data: dict, sources: Sources | None = None) -> Space:
        sources = sources or Sources()
        objective = data.get("objective")
        if not isinstance(objective, str) or "/" not in objective:
            raise config_error(sources, ("objective",) if "objective" in data else (),
                               "name the metric to optimise, e.g. objective: val/accuracy "
                               "(split/metric, as in metrics.csv)")
        direction = data.get("direction")
        if direction is not None and direction not in DIRECTIONS:
            raise config_error(sources, ("direction",), "expected maximize or minimize")
        options = {}
        for name in ("pruner", "sampler"):
            value = data.get(name, {})
            if not isinstance(value, dict):
                raise config_error(sources, (name,), "expected a mapping of keyword arguments "
                                   f"for Optuna's {name}")
            options[name] = value
        params = _params(data, sources, (), None, [])
        if not params:
            raise config_error(sources, (), "the space has no parameters: add keys such as "
                               "optimizer.lr: {log_uniform: [1.0e-4, 1.0e-1]}")
        return cls(params, objective, direction, options["pruner"], options["sampler"])

    def digest(self) -> str:
        """What identifies this space in a study (changing it needs a new study)."""
        described = [(p.key, p.domain, p.low, p.high, p.step, p.log, p.encoded_choices(),
                      str(p.condition)) for p in self.params]
        return hashlib.sha256(json.dumps(described, default=str).encode()).hexdigest()[:16]

    def sample(self, trial) -> dict:
        """Suggest every key whose condition holds, in file order: ``{key: value}``."""
        sampled = {}
        for param in self.params:
            if param.condition is None or param.condition.holds(sampled):
                sampled[param.key] = param.suggest(trial)
        return sampled

    def grid(self) -> dict:
        """``{key: [values]}`` for Optuna's GridSampler."""
        if any(p.condition is not None for p in self.params):
            raise ConfigError("the grid sampler cannot sample conditional keys (when ...): use "
                              "--sampler tpe or random")
        return {p.key: p.grid() for p in self.params}

    def overrides(self, sampled: dict, config: dict | None = None) -> list[str]:
        """``--set`` texts for sampled values. A new ``type`` of a component (``optimizer.type:
        SGD``) replaces the whole mapping, keeping the arguments the new type also takes
        (Adam's ``lr`` stays, its ``betas`` go): ``config`` is the resolved base config."""
        out = []
        for key, value in sampled.items():
            parent, _, last = key.rpartition(".")
            if last == "type" and parent and config is not None:
                current = value_at(config, parse_override(f"{parent}=0")[0])
                if isinstance(current, dict):
                    kept = {k: v for k, v in current.items()
                            if k != "type" and takes_argument(value, k)}
                    out.append(f"{parent}={json.dumps({'type': value, **kept})}")
                    continue
            out.append(f"{key}={json.dumps(value)}")
        return out

    def check(self, config, overrides=(), trust_code: bool = False) -> dict:
        """Load ``config`` with each param at its bounds (or each choice), and ``trainctl
        check`` it (components built, model dry-run) with each param at its first value, so a
        key the config does not take fails now, naming the space file, not in the middle of
        the sweep. Returns the base config."""
        base = load_config(config, overrides, trust_code=trust_code)
        by_key = {p.key: p for p in self.params}
        for param in self.params:
            context = {}
            cond = param.condition
            while cond is not None:  # satisfy the conditions above it
                parent = by_key[cond.key]
                context[parent.key] = cond.example(parent)
                cond = parent.condition
            for i, value in enumerate(param.examples()):
                sampled = {**context, param.key: value}
                try:
                    load = check if i == 0 else load_config
                    load(config, [*overrides, *self.overrides(sampled, base)],
                         trust_code=trust_code)
                except ConfigError as e:
                    where = f"{self.path}: " if self.path else ""
                    raise ConfigError(f"{where}{param.key} = {json.dumps(value)}: {e}") from None
        return base


def _params(data: dict, sources: Sources, path: tuple, condition: Condition | None,
            seen: list) -> list[Param]:
    params = []
    for key, value in data.items():
        where = (*path, key)
        if not path and key in RESERVED:
            continue
        if not isinstance(key, str):
            raise config_error(sources, where, "keys are config keys such as optimizer.lr")
        if key.startswith("when "):
            cond = _condition(key, sources, where, seen + params)
            if not isinstance(value, dict) or not value:
                raise config_error(sources, where, "expected a mapping of keys sampled when "
                                   "the condition holds")
            params += _params(value, sources, where, cond, seen + params)
            continue
        if any(p.key == key for p in seen + params):
            raise config_error(sources, where, "this key is already in the space (a key is "
                               "sampled in one place; use one when-block per condition)")
        try:
            parse_override(f"{key}=0")
        except ConfigError as e:
            raise config_error(sources, where, str(e)) from None
        params.append(_param(key, value, sources, where, condition))
    return params


def _condition(text: str, sources: Sources, where: tuple, seen: list) -> Condition:
    match = _WHEN.match(text)
    if match is None:
        raise config_error(sources, where, "expected 'when KEY == VALUE' (or !=, or 'in [A, B]')")
    key, op = match["key"], match["op"]
    try:
        value = safe_load(match["value"])
    except Exception:  # noqa: BLE001  (any YAML error: one message)
        raise config_error(sources, where, f"cannot read the value {match['value']!r}") from None
    if op == "in" and not isinstance(value, list):
        raise config_error(sources, where, "'in' needs a list: when KEY in [A, B]")
    if not any(p.key == key for p in seen):
        raise config_error(sources, where, f"{key} is not sampled above this condition (a "
                           "condition reads a key the space samples before it)")
    return Condition(key, op, value)


def _param(key: str, spec, sources: Sources, where: tuple, condition) -> Param:
    if not isinstance(spec, dict):
        raise config_error(sources, where, "expected a domain such as {uniform: [0, 1]}, "
                           "{log_uniform: [1.0e-4, 1.0e-1]}, {int: [16, 256]} or "
                           "{choice: [SGD, Adam]}")
    domains = [d for d in DOMAINS if d in spec]
    if len(domains) != 1:
        raise config_error(sources, where, f"give exactly one of {', '.join(DOMAINS)}")
    domain = domains[0]
    extra = set(spec) - {domain} - OPTIONS[domain]
    if extra:
        raise config_error(sources, (*where, sorted(map(str, extra))[0]),
                           f"unknown option for {domain} (allowed: "
                           f"{', '.join(sorted(OPTIONS[domain])) or 'none'})")
    bounds = spec[domain]
    if domain == "choice":
        if not isinstance(bounds, list) or not bounds:
            raise config_error(sources, (*where, domain), "expected a non-empty list")
        if len({encode(c) for c in bounds}) != len(bounds):
            raise config_error(sources, (*where, domain), "the choices repeat a value")
        return Param(key, domain, choices=list(bounds), condition=condition)
    if not (isinstance(bounds, list) and len(bounds) == 2
            and all(_is_number(b) for b in bounds)):
        raise config_error(sources, (*where, domain), "expected [low, high]")
    low, high = bounds
    step, log = spec.get("step"), spec.get("log", False)
    if domain == "int":
        if not all(isinstance(b, int) and not isinstance(b, bool) for b in (low, high)):
            raise config_error(sources, (*where, domain), "int bounds must be whole numbers")
        if step is not None and not (isinstance(step, int) and step >= 1):
            raise config_error(sources, (*where, "step"), "expected a whole number >= 1")
        if log and step not in (None, 1):
            raise config_error(sources, (*where, "log"), "Optuna cannot take a step with log")
    elif step is not None and not (_is_number(step) and step > 0):
        raise config_error(sources, (*where, "step"), "expected a number > 0")
    if not isinstance(log, bool):
        raise config_error(sources, (*where, "log"), "expected true or false")
    if not low < high:
        raise config_error(sources, (*where, domain), f"low ({low}) must be below high ({high})")
    if (domain == "log_uniform" or log) and low <= 0:
        raise config_error(sources, (*where, domain), "a log scale needs low > 0")
    if domain != "int":
        low, high = float(low), float(high)
    return Param(key, domain, low, high, step, bool(log), condition=condition)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def encode(value):
    """A choice as an Optuna categorical value (see :meth:`Param.encoded_choices`)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, separators=(", ", ": "))


def decode(value):
    """The choice an :func:`encode` value stands for."""
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def short_names(keys: list[str]) -> dict:
    """``optimizer.lr`` -> ``lr``, unless two keys end alike (then the whole key)."""
    lasts = [k.rpartition(".")[2] for k in keys]
    return {k: (last if lasts.count(last) == 1 and not last.isdigit() else k)
            for k, last in zip(keys, lasts)}


def takes_argument(type_name, argument: str) -> bool:
    """Whether the registered component ``type_name`` takes ``argument`` (True when unknown:
    the config check then names the problem)."""
    for kind in KINDS:
        if type_name in registry(kind):
            obj = registry(kind).get(type_name)
            try:
                params = inspect.signature(obj).parameters
            except (TypeError, ValueError):
                return True
            return argument in params or any(
                p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return True
