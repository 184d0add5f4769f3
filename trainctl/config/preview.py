"""Previews of a config without training: a dry run of the model on one small batch (output
shapes, parameter counts, shape errors) and the size of the training data.

``trainctl check`` calls :func:`dry_run` so a model that does not fit its data fails before
training starts, naming the first layer whose input does not fit, e.g.
``model.layers.3 (Linear): expected input features 512, got 256``, and :func:`loss_problem` so
a loss that cannot score the data's targets says both shapes and dtypes and the fix. A model too
big to allocate here is dry-run on the ``meta`` device (:func:`build_model_for_dry_run`):
shapes and parameter counts, no weights. The learning-rate schedule's preview is in
``lr_preview.py``.
"""

from __future__ import annotations

import os
import warnings
from typing import NamedTuple

from ..autograd.grad_mode import no_grad
from ..core import backend
from ..core import random as tc_random
from ..core.errors import ConfigError, DataError
from . import Config
from .build import build_dataset, build_model, resolve_type, validation_size

# A model whose parameters and buffers need more than this (or more than half the free memory)
# is dry-run on the meta device: allocating it would only serve to print its shapes.
META_DRY_RUN_BYTES = 2 * 1024**3


def count_parameters(module) -> int:
    return sum(p.numel() for p in module.parameters())


def tensor_bytes(module) -> int:
    """Bytes of the parameters and buffers of ``module`` (also of a model on the meta device)."""
    tensors = list(module.parameters()) + [b for b in module.buffers() if b is not None]
    return sum(t.numel() * t.element_size() for t in tensors)


def dry_run_limit() -> int:
    """The most bytes of weights a dry run allocates (see :data:`META_DRY_RUN_BYTES`)."""
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this platform
        return META_DRY_RUN_BYTES
    return min(META_DRY_RUN_BYTES, free // 2)


def build_model_for_dry_run(cfg: Config):
    """``(model, meta_bytes)``: the model of ``cfg`` for a dry run, seeded with ``cfg["seed"]``.

    It is built on the meta device first (milliseconds, no memory, whatever its size). When its
    weights need more than :func:`dry_run_limit` it stays there and ``meta_bytes`` says how
    many bytes they would take; else it is built again for real and ``meta_bytes`` is None.
    A model that cannot be built on meta (user code reading values in its constructor) is
    built for real.
    """
    try:
        # Quietly: the real build below repeats any warning worth seeing, and a model that loads
        # weights in its constructor would warn here that a copy into meta does nothing.
        with backend.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta_model = build_model(cfg)
        nbytes = tensor_bytes(meta_model)
    except Exception:  # the real build below reports a config mistake with its file and line
        meta_model, nbytes = None, 0
    tc_random.manual_seed(cfg["seed"])
    if meta_model is not None and nbytes > dry_run_limit():
        return meta_model, nbytes
    return build_model(cfg), None


def to_meta(obj):
    """A tensor (or the tensors of a tuple, list or dict) moved to the meta device."""
    from ..autograd.tensor import Tensor

    if isinstance(obj, Tensor):
        return obj.to("meta")
    if isinstance(obj, (tuple, list)):
        return type(obj)(to_meta(o) for o in obj)
    if isinstance(obj, dict):
        return {k: to_meta(v) for k, v in obj.items()}
    return obj


def shape_of(x):
    """``x``'s shape, or a tuple of shapes for a layer that returns a tuple (a recurrent
    layer's ``(output, h_n)``)."""
    if isinstance(x, tuple):
        return tuple(shape_of(v) for v in x)
    return tuple(getattr(x, "shape", ()))


def _expectation(layer, x) -> str | None:
    """A plain sentence when ``x`` obviously cannot enter ``layer``."""
    if not hasattr(x, "shape"):  # a tuple from a recurrent layer: its adapter knows the rest
        return None
    shape = tuple(x.shape)
    in_features = getattr(layer, "in_features", None)
    if isinstance(in_features, int) and shape and shape[-1] != in_features:
        return f"expected input features {in_features}, got {shape[-1]} (input shape {shape})"
    for attr, what in (("in_channels", "input channels"), ("num_features", "features")):
        expected = getattr(layer, attr, None)
        if isinstance(expected, int) and len(shape) >= 2 and shape[1] != expected:
            return f"expected {expected} {what}, got {shape[1]} (input shape {shape})"
    return None


def _run_layer(layer, x, label: str):
    problem = _expectation(layer, x)
    if problem is not None:
        raise ConfigError(f"{label}: {problem}")
    try:
        return layer(x)
    except Exception as e:  # any failure here is a model/data mismatch to report, not a crash
        raise ConfigError(f"{label}: {e} (input shape {shape_of(x)})") from None


def dry_run(model, example, cfg: Config | None = None):
    """Run ``example`` through ``model`` in eval mode; returns (rows, output).

    Each row is (path, layer type, output shape, parameter count). Errors are ConfigErrors that
    name the layer by its config path.
    """
    from .. import nn

    rows = []
    spec = cfg["model"] if cfg is not None else {}
    prefix = "model.layers" if spec.get("type") == "Sequential" else "model"
    where = cfg.where(("model",)) + ": " if cfg is not None and cfg.where(("model",)) else ""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            if isinstance(model, nn.Sequential):
                x = example
                for name, layer in model.named_children():
                    path = (("model", "layers", int(name)) if prefix == "model.layers"
                            else ("model",))
                    where = cfg.where(path) + ": " if cfg is not None and cfg.where(path) else ""
                    label = f"{where}{prefix}.{name} ({type(layer).__name__})"
                    x = _run_layer(layer, x, label)
                    rows.append((f"{prefix}.{name}", type(layer).__name__, shape_of(x),
                             count_parameters(layer)))
                out = x
            else:
                out = _run_layer(model, example, f"{where}model ({type(model).__name__})")
                for name, child in model.named_children():
                    rows.append((f"model.{name}", type(child).__name__, None,
                                 count_parameters(child)))
                rows.append(("model", type(model).__name__, tuple(out.shape),
                             count_parameters(model)))
    finally:
        model.train(was_training)
    return rows, out


class ExampleBatch(NamedTuple):
    """A small training batch for dry runs: inputs ``x``, targets ``y`` (None when the dataset
    gives none), a ``note`` when stand-in data was used, and the number of classes the training
    data declares (None for regression or when it declares none)."""

    x: object
    y: object
    note: str | None
    num_classes: int | None


def example_batch(cfg: Config, size: int = 2, dataset=None) -> ExampleBatch:
    """A small training batch for dry runs (:class:`ExampleBatch`), never downloading anything:
    the first samples of ``dataset`` (the training part of the data, built from ``cfg`` when not
    given).

    When the dataset's files are not there yet (e.g. ``download: true`` and no run so far), a
    dataset class that declares ``sample_shape`` (and ``num_classes``) stands in with zeros, and
    ``note`` says so.
    """
    from ..autograd import creation
    from ..core import dtypes

    try:
        if dataset is None:
            dataset = build_dataset(cfg, "train", download=False)
    except DataError as e:
        factory = resolve_type(cfg["data"]["train"]["type"], "dataset", cfg, ("data", "train"))
        shape = getattr(factory, "sample_shape", None)
        if shape is None:
            raise
        x = creation.zeros((size, *shape))
        y = creation.zeros(size, dtype=dtypes.int64)
        return ExampleBatch(x, y, f"data files are not there yet, so zeros of the dataset's "
                                  f"sample shape {list(shape)} stood in ({e})",
                            number_of_classes(factory))
    if len(dataset) == 0:
        raise cfg.error(("data", "train"), "the training dataset is empty")
    from ..data import default_collate

    batch = default_collate([dataset[i] for i in range(min(size, len(dataset)))])
    classes = number_of_classes(dataset)
    if isinstance(batch, (list, tuple)):
        return ExampleBatch(batch[0], batch[1] if len(batch) > 1 else None, None, classes)
    return ExampleBatch(batch, None, None, classes)


def number_of_classes(dataset) -> int | None:
    """How many classes a dataset (or dataset class) declares: its ``num_classes``, else the
    length of its ``classes``, looking through Subsets (``val_split``); None when it declares
    neither (regression data, plain tensors)."""
    while dataset is not None:
        count = getattr(dataset, "num_classes", None)
        if isinstance(count, int) and not isinstance(count, bool):
            return count
        classes = getattr(dataset, "classes", None)
        if isinstance(classes, (list, tuple)):
            return len(classes)
        dataset = getattr(dataset, "dataset", None)
    return None


def _shape(shape) -> str:
    """A batch shape with its batch size written N: ``(N, 1)``, ``(N,)``."""
    rest = ", ".join(map(str, shape[1:]))
    return "()" if not shape else f"(N, {rest})" if rest else "(N,)"


def _is_float(t) -> bool:
    return t.array.dtype.kind == "f"


def _dtype(t) -> str:
    return t.array.dtype.name  # "int64", as a config writes it (not "trainctl.int64")


def loss_problem(loss_fn, out, y) -> str | None:
    """Why ``loss_fn`` cannot score the model's output ``out`` against the data's targets ``y``
    (both shapes and dtypes, and the fix), or None when it can.

    The loss is called once. The losses users meet most also have PyTorch's rules here, which
    name the fix: the binary and regression losses need float targets of the output's shape
    (an integer target is refused even when the call works, as PyTorch's backward refuses it),
    the class losses need integer class indices without the class dimension, or for
    cross-entropy float probabilities of the output's shape. A shape the loss itself accepts is
    not second-guessed.

    Example:
        >>> import trainctl as tc
        >>> problem = loss_problem(tc.nn.MSELoss(), tc.zeros(4, 1), tc.zeros(4))
        >>> for part in problem.split("; "):  # doctest: +ELLIPSIS
        ...     print(part)
        MSELoss needs float targets of the output's shape (N, 1)
        the data gives float32 targets of shape (N,) (give (N, 1) targets, or end the model ...
    """
    try:
        loss_fn(out, y)
        error = None
    except Exception as e:  # any failure here is a loss/target mismatch to report
        error = e
    rule = _target_rule(loss_fn, out, y)
    if rule is not None and (error is not None or rule[1]):
        return rule[0]
    if error is not None:
        return (f"{type(loss_fn).__name__} cannot score the model's {_dtype(out)} output of shape "
                f"{_shape(tuple(out.shape))} against {_dtype(y)} targets of shape "
                f"{_shape(tuple(y.shape))}: {error}")
    return None


def _target_rule(loss_fn, out, y):
    """``(message, dtype_only)`` when ``y`` breaks PyTorch's target rules for ``loss_fn``."""
    from .. import nn

    name = type(loss_fn).__name__
    out_shape, y_shape = tuple(out.shape), tuple(y.shape)
    gives = f"the data gives {_dtype(y)} targets of shape {_shape(y_shape)}"
    binary = (nn.BCEWithLogitsLoss, nn.BCELoss)
    if isinstance(loss_fn, (*binary, nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss)):
        if y_shape == out_shape and _is_float(y):
            return None
        if _is_float(y):
            fix = ("give (N, 1) targets, or end the model with {type: Flatten, start_dim: 0}"
                   if out_shape == (*y_shape, 1) else
                   "make the model's output and the targets the same shape")
        elif isinstance(loss_fn, binary):
            fix = ("use task: binary for a 0/1 label column" if out_shape[1:] in ((), (1,))
                   else "for one class index per sample use CrossEntropyLoss")
        else:
            fix = ("regression targets are float: task: regression for a CSV column, "
                   "y_dtype: float32 for a TensorDataset")
        return (f"{name} needs float targets of the output's shape {_shape(out_shape)}; {gives} "
                f"({fix})", not _is_float(y))
    if isinstance(loss_fn, (nn.CrossEntropyLoss, nn.NLLLoss)):
        index_shape = out_shape[:1] + out_shape[2:]
        soft = isinstance(loss_fn, nn.CrossEntropyLoss)
        if (y_shape == index_shape and y.array.dtype.kind in "iu") or \
                (soft and y_shape == out_shape and _is_float(y)):
            return None
        wanted = f"int64 class indices of shape {_shape(index_shape)}"
        if soft:
            wanted += f" or float class probabilities of the output's shape {_shape(out_shape)}"
        if y_shape == index_shape:
            fix = ("class labels read as numbers: task: classification for a CSV column, "
                   "y_dtype: int64 for a TensorDataset")
        elif y_shape == (*index_shape, 1):
            fix = "one label per sample: targets of shape (N,), not (N, 1)"
        else:
            fix = "for regression targets use MSELoss"
        return f"{name} needs {wanted}; {gives} ({fix})", False
    return None


def example_dataset_size(cfg: Config) -> int | None:
    """Number of training samples (after ``val_split``) if the data can be read without
    downloading, else None."""
    try:
        dataset = build_dataset(cfg, "train", download=False)
    except DataError:
        return None
    return len(dataset) - validation_size(cfg, len(dataset))
