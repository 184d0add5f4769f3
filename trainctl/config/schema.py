"""The fixed part of a config: its sections and their keys, types, defaults and ranges.

Components (``{type: Name, ...}``) are checked against their constructor signatures by the builder;
this file covers everything else, so a typo like ``train: {epoch: 5}`` is an error, not a no-op.
"""

from __future__ import annotations

import difflib
import math

from .loader import Sources, config_error

REQUIRED = object()


class Field:
    """One key of a section: its kind, default and allowed range or choices."""

    def __init__(self, kind: str, default=REQUIRED, *, choices=None, min=None, max=None,
                 open_min: bool = False, open_max: bool = False, allow_inf: bool = False,
                 doc: str = ""):
        self.kind, self.default, self.choices = kind, default, choices
        self.min, self.max, self.open_min, self.open_max = min, max, open_min, open_max
        self.allow_inf = allow_inf  # NaN never is: every comparison with it is false
        self.doc = doc

    def check(self, value, sources: Sources, path):
        """The value, checked (and ints widened to float where a float is expected)."""
        if value is None:
            if self.default is REQUIRED:
                raise config_error(sources, path, "a value is required here")
            return None
        kind = self.kind
        if kind == "component":
            if isinstance(value, str):
                return {"type": value}
            if not isinstance(value, dict) or "type" not in value:
                raise config_error(sources, path,
                                   "expected a component like {type: Name, ...arguments}")
            return value
        expected = {"int": int, "float": (int, float), "bool": bool, "str": str, "list": list,
                    "mapping": dict}[kind]
        is_bool = isinstance(value, bool)
        if not isinstance(value, expected) or (kind in ("int", "float") and is_bool):
            raise config_error(sources, path,
                               f"expected {_KIND_NAMES[kind]}, got {_describe(value)}")
        if kind == "float":
            value = finite_float(value, sources, path, self.allow_inf)
        if self.choices is not None and value not in self.choices:
            choices = ", ".join(map(str, self.choices))
            raise config_error(sources, path, f"expected one of {choices}, got {value!r}")
        low, high = self.min, self.max
        low_bad = low is not None and (value <= low if self.open_min else value < low)
        high_bad = high is not None and (value >= high if self.open_max else value > high)
        if low_bad or high_bad:
            lo = "" if self.min is None else f"{'>' if self.open_min else '>='} {self.min}"
            hi = "" if self.max is None else f"{'<' if self.open_max else '<='} {self.max}"
            raise config_error(sources, path,
                               f"expected a value {' and '.join(p for p in (lo, hi) if p)}, "
                               f"got {value!r}")
        return value


def finite_float(value, sources: Sources, path, allow_inf: bool = False) -> float:
    """``value`` (an int or float) as a float, refused when NaN, or infinite unless allowed."""
    try:
        number = float(value)
    except OverflowError:
        raise config_error(sources, path,
                           "must be a finite number, got a too large integer") from None
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise config_error(sources, path, f"must be a finite number, got {number!r}")
    return number


_KIND_NAMES = {"int": "an integer", "float": "a number", "bool": "true or false",
               "str": "a string", "list": "a list", "mapping": "a mapping"}


def _describe(value) -> str:
    if value is True or value is False:
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    return f"{type(value).__name__} {value!r}"


DATA = {
    "train": Field("component", doc="the training dataset"),
    "val": Field("component", None, doc="validation dataset"),
    "test": Field("component", None, doc="test dataset (eval uses test, else val)"),
    "val_split": Field("float", None, min=0, max=1, open_min=True, open_max=True,
                       doc="fraction of train held out for validation (seeded)"),
    "split_seed": Field("int", 0, doc="seed of val_split's draw, independent of `seed`"),
    "sampler": Field("component", None, doc="e.g. {type: WeightedRandomSampler, weights: "
                     "balanced}; replaces shuffle"),
    "batch_size": Field("int", 32, min=1),
    "eval_batch_size": Field("int", None, min=1, doc="default: batch_size"),
    "shuffle": Field("bool", True),
    "drop_last": Field("bool", False),
    "num_workers": Field("int", 0, min=0),
}

TRAIN = {
    "epochs": Field("int", 1, min=1),
    "max_steps": Field("int", None, min=1, doc="stop after this many optimizer steps"),
    "metrics": Field("list", [], doc="e.g. [accuracy]; see `trainctl list metric`"),
    "callbacks": Field("list", [], doc="e.g. [{type: EarlyStopping, monitor: val/accuracy}]; "
                       "see `trainctl list callback`"),
    "grad_clip": Field("mapping", None, doc="{max_norm: 1.0, norm_type: 2} or {value: 0.5}"),
    "accumulate_grad_batches": Field("int", 1, min=1),
    "eval_every": Field("int", 1, min=1, doc="evaluate on val every N epochs"),
    "log_every": Field("int", 50, min=1, doc="log training metrics every N steps"),
    "early_stopping": Field("mapping", None, doc="{monitor, mode, patience, min_delta}"),
    "on_nan": Field("str", "stop", choices=("stop", "skip_batch")),
    "graph": Field("bool", False, doc="run the train and eval steps as traced graphs, replayed "
                   "with eager's numbers (docs/graph.md); also `trainctl train --graph`"),
}

CHECKPOINT = {
    "last": Field("bool", True, doc="always keep checkpoints/last.safetensors"),
    "best": Field("bool", True, doc="keep checkpoints/best.safetensors by `monitor`"),
    "monitor": Field("str", None, doc="default: val/loss when there is val data, else train/loss"),
    "mode": Field("str", None, choices=("min", "max"), doc="default: from the metric"),
    "every": Field("int", None, min=1, doc="also save epoch-N checkpoints every N epochs"),
    "keep_last": Field("int", None, min=1, doc="keep only the K newest epoch-N checkpoints"),
    "last_every_s": Field("float", 30.0, min=0, doc="write `last` at most every N seconds "
                          "(0: every epoch); always at the end and on Ctrl-C"),
    "last_every": Field("int", None, min=1, doc="or every N epochs, if that comes first"),
}
PLOTS = {
    "format": Field("str", "png", choices=("png", "svg", "pdf"), doc="file format of the "
                    "run's charts"),
}

GRAD_CLIP = {
    "max_norm": Field("float", None, min=0, open_min=True),
    "norm_type": Field("float", 2.0, min=0, open_min=True, allow_inf=True,
                       doc=".inf clips by the largest absolute gradient"),
    "value": Field("float", None, min=0, open_min=True),
}

EARLY_STOPPING = {
    "monitor": Field("str", None, doc="default: val/loss with val data, else train/loss"),
    "mode": Field("str", None, choices=("min", "max"), doc="default: from the metric"),
    "patience": Field("int", 3, min=0),
    "min_delta": Field("float", 0.0, min=0),
}

# Keys a section holds besides its component's own constructor arguments.
SCHEDULER_EXTRAS = {
    "interval": Field("str", "epoch", choices=("epoch", "step")),
    "monitor": Field("str", None, doc="metric fed to ReduceLROnPlateau, e.g. val/loss"),
}
OPTIMIZER_EXTRAS = {
    "param_groups": Field("list", None, doc="[{params: '*.bias', weight_decay: 0.0}, ...]"),
}

TOP_LEVEL = {
    "name": Field("str", None),
    "seed": Field("int", 0),
    "device": Field("str", "cpu"),
    "data": Field("mapping"),
    "model": Field("component"),
    "loss": Field("component"),
    "optimizer": Field("component"),
    "scheduler": Field("component", None),
    "train": Field("mapping", {}),
    "checkpoint": Field("mapping", {}),
    "logging": Field("list", ["csv"], doc="where metrics go: csv (always), tensorboard, mlflow, "
                     "or {type: NAME, ...arguments}; see `trainctl list callback`"),
    "plots": Field("mapping", {}, doc="{format: png|svg|pdf}"),
}


def unknown_key_error(sources: Sources, path, key, allowed):
    close = difflib.get_close_matches(str(key), list(allowed), n=2, cutoff=0.6)
    hint = (f"; did you mean {' or '.join(repr(c) for c in close)}?" if close
            else f"; expected one of: {', '.join(sorted(map(str, allowed)))}")
    what = "section" if len(path) == 1 else "key"
    return config_error(sources, path, f"unknown {what} {key!r}{hint}")


def check_fields(values: dict, fields: dict, sources: Sources, path) -> dict:
    """Validate a mapping against ``fields``: unknown keys, types, ranges; fill defaults."""
    if not isinstance(values, dict):
        raise config_error(sources, path, f"expected a mapping, got {_describe(values)}")
    for key in values:
        if key not in fields:
            raise unknown_key_error(sources, (*path, key), key, fields)
    out = {}
    for key, field in fields.items():
        if key in values:
            out[key] = field.check(values[key], sources, (*path, key))
        elif field.default is REQUIRED:
            raise config_error(sources, (*path,), f"missing required key {key!r}")
        else:
            default = field.default
            out[key] = list(default) if isinstance(default, list) else (
                dict(default) if isinstance(default, dict) else default)
    return out
