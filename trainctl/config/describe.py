"""What ``trainctl list`` says about a component: the arguments a config can set, its docstring
as plain text, and an example of where it goes in a config.

The arguments are the constructor's, less those a config does not set: the ones the builder
passes itself (an optimizer's ``params``, a scheduler's ``optimizer``), the ones PyTorch keeps
for compatibility and trainctl ignores (``foreach``, ``fused``, a loss's ``size_average``) —
both in :data:`HIDDEN`, one table for every kind — and ``*args``/``**kwargs``. Keys a section
holds besides the constructor's (a scheduler's ``interval``, ``Sequential``'s ``layers``) are
added where they apply.

Example:
    >>> info = describe("optimizer", "SGD")
    >>> info.summary
    "Stochastic gradient descent (PyTorch's torch.optim.SGD)."
    >>> [a.name for a in info.arguments][:3]
    ['lr', 'momentum', 'dampening']
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

from .registry import registry

REQUIRED = inspect.Parameter.empty

_COMPAT = "accepted for PyTorch compatibility; no effect here"
_DEPRECATED = "deprecated in PyTorch (use reduction)"

# Constructor arguments a config does not set, per kind: name -> why (shown by `list KIND NAME`).
HIDDEN = {
    "model": {"device": "the config's top-level `device` places the whole model",
              "inplace": _COMPAT, "sparse": "sparse gradients are not supported"},
    "loss": {"size_average": _DEPRECATED, "reduce": _DEPRECATED},
    "optimizer": {"params": "the model's parameters (split them with param_groups)",
                  "foreach": _COMPAT, "capturable": _COMPAT, "differentiable": _COMPAT,
                  "fused": _COMPAT},
    "scheduler": {"optimizer": "the run's optimizer",
                  "last_epoch": "resume state: a resumed run restores it from its checkpoint"},
    "sampler": {"data_source": "the training set",
                "generator": "seeded from the config's `seed`"},
    "transform": {"generator": "trainctl's default stream, seeded from the config's `seed`"},
    "dataset": {}, "metric": {}, "callback": {},
}

# Arguments the builder fills in when the config leaves them out: (kind, name) -> the default.
FILLED = {
    ("scheduler", "steps_per_epoch"): "from the data (batches per epoch)",
    ("sampler", "num_samples"): "the training set's size",
}

# Components a config cannot build (their arguments are Python objects): name -> why.
PYTHON_ONLY = {
    ("model", "ModuleList"): "its modules are Python objects; in a config use Sequential",
    ("model", "ModuleDict"): "its modules are Python objects; in a config use Sequential",
    ("transform", "Lambda"): "it takes a Python function",
    ("dataset", "IterableDataset"): "a base class for datasets written in Python",
    ("dataset", "Subset"): "it takes a dataset object; in a config use data.val_split",
    ("dataset", "ConcatDataset"): "it takes dataset objects",
}


@dataclass(frozen=True)
class Argument:
    """One key a config may give a component."""

    name: str
    default: object = REQUIRED
    type: str = ""
    note: str = ""  # e.g. "config key: epoch or step"

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass
class ComponentInfo:
    """Everything ``trainctl list`` shows about one registered component."""

    kind: str
    name: str
    arguments: list[Argument]
    summary: str
    doc: str
    hidden: dict[str, str] = field(default_factory=dict)
    python_only: str | None = None
    section: str = ""  # where it goes in a config: a key of PLACES


def describe(kind: str, name: str) -> ComponentInfo:
    """The component ``name`` of ``kind``; a ConfigError with a did-you-mean when unknown."""
    return describe_component(kind, name, registry(kind).get(name))


def describe_component(kind: str, name: str, obj) -> ComponentInfo:
    """:class:`ComponentInfo` of a registered object (class or function)."""
    hidden_table = HIDDEN.get(kind, {})
    arguments, hidden = [], {}
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        params = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in hidden_table:
            hidden[p.name] = hidden_table[p.name]
            continue
        if p.name.startswith("_"):
            hidden[p.name] = "private"
            continue
        note = FILLED.get((kind, p.name), "")
        arguments.append(Argument(p.name, p.default, _type_name(p), note))
    takes_layers = kind == "model" and inspect.isclass(obj) and \
        issubclass(obj, _sequential()) and any(p.kind == p.VAR_POSITIONAL for p in params)
    if takes_layers:  # the builder passes a `layers` list as Sequential's *args
        arguments.insert(0, Argument("layers", REQUIRED, "list",
                                     "config key: the layers, in order"))
    arguments += _section_keys(kind, obj)
    doc = plain_text(_own_doc(obj))
    return ComponentInfo(kind, name, arguments, first_sentence(doc), doc, hidden,
                         PYTHON_ONLY.get((kind, name)), _section(kind, obj))


def _section(kind: str, obj) -> str:
    """A key of :data:`PLACES`: the kind, except that a layer goes in Sequential's ``layers``
    (whole models, from ``nn.models`` or a container, are the ``model`` section) and a logger
    (a callback with ``log_epoch``) in the ``logging`` list."""
    if kind == "model":
        whole = ".models" in getattr(obj, "__module__", "") or (
            inspect.isclass(obj) and issubclass(obj, _sequential()))
        return "model" if whole else "layer"
    if kind == "callback" and hasattr(obj, "log_epoch"):
        return "logging"
    return kind


def _own_doc(obj) -> str:
    """The object's own docstring: not a base class's (``Tanh`` is not "Base class of ...")."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def _type_name(p: inspect.Parameter) -> str:
    if p.annotation is not p.empty:
        annotation = p.annotation
        return annotation if isinstance(annotation, str) else getattr(
            annotation, "__name__", str(annotation))
    default = p.default
    if default is p.empty or default is None:
        return ""
    if isinstance(default, (bool, int, float, str)):
        return type(default).__name__
    return "list" if isinstance(default, (list, tuple)) else ""


def _section_keys(kind: str, obj) -> list[Argument]:
    """Keys of the config section, after the constructor's (schema.OPTIMIZER/SCHEDULER_EXTRAS)."""
    if kind == "optimizer":
        return [Argument("param_groups", None, "list",
                         "config key: [{params: '*.bias', weight_decay: 0.0}, ...]")]
    if kind != "scheduler":
        return []
    if inspect.isclass(obj) and issubclass(obj, _plateau()):
        return [Argument("monitor", None, "str",
                         "config key: the metric it watches (default val/loss, or train/loss "
                         "without val data); stepped once per epoch")]
    return [Argument("interval", "epoch", "str", "config key: step it every epoch or step")]


def _sequential():
    from ..nn import Sequential

    return Sequential


def _plateau():
    from ..optim.lr_scheduler import ReduceLROnPlateau

    return ReduceLROnPlateau


# ---------------------------------------------------------------------------- docstrings

_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`([^`]+)`")
_LITERAL = re.compile(r"``(.+?)``", re.S)
_DEFAULT_ROLE = re.compile(r"(?<![\w`])`([^`\n]+)`(?![\w`])")


def _role_text(match: re.Match) -> str:
    text = match.group(1)
    titled = re.fullmatch(r"(.*?)\s*<[^>]+>", text, re.S)  # :ref:`title <target>`
    if titled:
        return titled.group(1)
    if text.startswith("~"):
        return text[1:].rsplit(".", 1)[-1]
    return text


def plain_text(doc: str) -> str:
    """A docstring without reST markup: ````x```` -> x, :class:`~a.b.C` -> C, :func:`f` -> f,
    a trailing ``::`` (literal block) -> ``:``.

    Example:
        >>> plain_text("See :class:`~trainctl.nn.Linear` and ``lr``::")
        'See Linear and lr:'
    """
    text = _ROLE.sub(_role_text, doc)
    text = _LITERAL.sub(r"\1", text)
    text = _DEFAULT_ROLE.sub(r"\1", text)
    text = re.sub(r"\s+::$", "", text, flags=re.M)  # "text ::" -> "text"
    return re.sub(r"::$", ":", text, flags=re.M)


_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.")


def first_sentence(text: str) -> str:
    """The first sentence of the first paragraph, whole: ended by a period outside brackets.

    Example:
        >>> first_sentence("Adagrad (torch.optim.Adagrad). State is created early.")
        'Adagrad (torch.optim.Adagrad).'
    """
    paragraph = " ".join(text.strip().split("\n\n", 1)[0].split())
    depth = 0
    for i, char in enumerate(paragraph):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char == "." and depth == 0 and (i + 1 == len(paragraph) or paragraph[i + 1] == " "):
            if not paragraph[:i + 1].lower().endswith(_ABBREVIATIONS):
                return paragraph[:i + 1]
    if paragraph.endswith(":"):
        paragraph = paragraph[:-1] + "."
    return paragraph


# ---------------------------------------------------------------------------- display


def format_value(value) -> str:
    """A default as a config would write it (YAML: true, null, [0.9, 0.999])."""
    import yaml

    if isinstance(value, tuple):
        value = list(value)
    try:
        text = yaml.safe_dump(value, default_flow_style=True, width=10_000)
    except yaml.YAMLError:
        return repr(value)
    text = text.strip()
    return text[:-4].rstrip() if text.endswith("\n...") else text


def _representable(value) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_representable(v) for v in value)
    return False


def signature_text(info: ComponentInfo) -> str:
    """``lr=0.001, momentum=0, ...``: required arguments bare, the others with defaults."""
    parts = []
    for arg in info.arguments:
        if arg.required:
            parts.append(arg.name)
        elif (info.kind, arg.name) in FILLED:
            parts.append(f"{arg.name}=auto")
        else:
            shown = format_value(arg.default)
            if isinstance(arg.default, float) and len(shown) > 10:
                shown = f"{arg.default:.6g}"
            parts.append(f"{arg.name}={shown}")
    return ", ".join(parts)


# Where each section goes in a config: the lines above the component, the indentation of its
# keys (a block) or of its "- " (an item of a list), and which of the two it is.
PLACES = {
    "model": (["model:"], 2, "block"),
    "layer": (["model:", "  type: Sequential", "  layers:"], 4, "item"),
    "loss": (["loss:"], 2, "block"),
    "optimizer": (["optimizer:"], 2, "block"),
    "scheduler": (["scheduler:"], 2, "block"),
    "dataset": (["data:", "  train:"], 4, "block"),
    "sampler": (["data:", "  sampler:"], 4, "block"),
    "transform": (["data:", "  train:", "    type: MNIST  # any dataset with a transform",
                   "    root: data", "    transform:"], 6, "item"),
    "metric": (["train:", "  metrics:"], 4, "item"),
    "callback": (["train:", "  callbacks:"], 4, "item"),
    "logging": (["logging:", "  - csv"], 2, "item"),
}
_EXAMPLE_LAYERS = ["- {type: Linear, in_features: 2, out_features: 16}", "- {type: ReLU}"]


def example_yaml(info: ComponentInfo, width: int = 78) -> str:
    """A config snippet that uses the component with its defaults, in the right section.

    Required arguments appear as ``<type>`` placeholders, to be replaced; arguments whose
    default is None, those the builder fills in (``steps_per_epoch``) and defaults YAML cannot
    write (objects) are left out.
    """
    values = {"type": info.name}
    for arg in info.arguments:
        if (info.kind, arg.name) in FILLED or arg.name == "layers":
            continue
        if arg.required:
            simple = arg.type if re.fullmatch(r"\w+", arg.type or "") else "required"
            values[arg.name] = _Placeholder(f"<{simple}>")
        elif arg.default is not None and _representable(arg.default):
            values[arg.name] = arg.default
    above, depth, style = PLACES[info.section or info.kind]
    lines, indent = list(above), " " * depth
    if style == "block":
        for key, value in values.items():
            lines.append(f"{indent}{key}: {_flow(value)}")
        if any(a.name == "layers" for a in info.arguments):
            lines.append(f"{indent}layers:")
            lines += [f"{indent}  {layer}" for layer in _EXAMPLE_LAYERS]
    elif len(values) == 1:
        lines.append(f"{indent}- {info.name}")
    else:
        lines += _wrap(f"{indent}- {_flow(values)}", width, len(indent) + 4)
    return "\n".join(lines) + "\n"


class _Placeholder(str):
    """A ``<type>`` stand-in for a required value, written as is."""


def _flow(value) -> str:
    if isinstance(value, _Placeholder):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    return format_value(value)


def _wrap(line: str, width: int, indent: int) -> list[str]:
    """Break a long flow mapping after its commas (valid YAML: the continuation is indented)."""
    out, current = [], ""
    for piece in re.split(r"(?<=,) ", line):
        candidate = f"{current} {piece}" if current else piece
        if current and len(candidate) > width:
            out.append(current)
            current = " " * indent + piece
        else:
            current = candidate
    return out + [current]
