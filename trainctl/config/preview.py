"""Previews of a config without training: a dry run of the model on one small batch (output
shapes, parameter counts, shape errors) and the size of the training data.

``trainctl check`` calls :func:`dry_run` so a model that does not fit its data fails before
training starts, naming the first layer whose input does not fit, e.g.
``model.layers.3 (Linear): expected input features 512, got 256``. The learning-rate schedule's
preview is in ``lr_preview.py``.
"""

from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..core.errors import ConfigError, DataError
from . import Config
from .build import build_dataset, resolve_type, validation_size


def count_parameters(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _expectation(layer, x) -> str | None:
    """A plain sentence when ``x`` obviously cannot enter ``layer``."""
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
        raise ConfigError(f"{label}: {e} (input shape {tuple(x.shape)})") from None


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
                    rows.append((f"{prefix}.{name}", type(layer).__name__,
                                 tuple(getattr(x, "shape", ())), count_parameters(layer)))
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
    return len(dataset) - validation_size(cfg, len(dataset))
