"""Scoring a saved model: what ``trainctl eval`` does, as a library function.

Example:
    >>> from trainctl.training import evaluate
    >>> result = evaluate("runs/spirals_mlp/latest")  # doctest: +SKIP
    >>> result["metrics"]["val/accuracy"]  # doctest: +SKIP
    1.0
"""

from __future__ import annotations

import json

from ..autograd import serialization
from ..autograd.grad_mode import no_grad
from ..config import resolve
from ..config.loader import Sources, apply_override
from ..core.errors import ConfigError
from .checkpoint import find_checkpoint, load_checkpoint, load_model_weights
from .setup import build_run, trainer_arguments
from .trainer import Trainer


def evaluate(checkpoint, split: str | None = None, overrides=(), trust_code: bool = False) -> dict:
    """Score the model of ``checkpoint`` on a split of the data its own config names.

    Args:
        checkpoint: a ``.safetensors`` checkpoint, or a run directory (its best, else its last).
        split: ``"test"``, ``"val"`` or ``"train"``; default test when configured, else val.
        overrides: ``"key.path=value"`` changes to the stored config (e.g. another data path).
        trust_code: allow the stored config to import code (``type: "pkg.mod:Name"``).

    Returns:
        ``{"checkpoint", "split", "samples", "metrics"}``, plus for classification
        ``per_class_accuracy``, ``confusion_matrix``, ``classes`` and ``confusion_png``, and
        ``json``: the ``eval-<split>.json`` written beside the checkpoint.
    """
    path = find_checkpoint(checkpoint)
    state = load_checkpoint(path, resume=False)  # weights and config are all eval needs
    data = state["config"]
    sources = Sources({(): f"{path} (saved config)"})
    for text in overrides:
        apply_override(data, sources, text)
    cfg = resolve(data, sources, trust_code=trust_code)
    parts = build_run(cfg)
    load_model_weights(parts.model, state["model"], path)
    split, loader = _split_loader(parts, split)
    trainer = Trainer(**trainer_arguments(cfg, parts))
    result = {"checkpoint": str(path), "split": split, "samples": len(loader.dataset),
              "metrics": trainer.evaluate(loader, split)}
    if _is_classification(parts.loss_fn):
        classes = (state.get("data") or {}).get("classes") or parts.classes
        n_classes = len(classes) if classes else _n_outputs(parts, loader)
        matrix = confusion_matrix(parts, loader, n_classes)
        names = [str(c) for c in classes] if classes else [str(i) for i in range(n_classes)]
        result["per_class_accuracy"] = {
            name: (float(matrix[i, i] / matrix[i].sum()) if matrix[i].sum() else None)
            for i, name in enumerate(names)}
        result["confusion_matrix"] = matrix.tolist()
        result["classes"] = names
        from .plots import plot_confusion

        result["confusion_png"] = str(plot_confusion(matrix, names,
                                                     path.parent / f"confusion-{split}.png"))
    out_json = path.parent / f"eval-{split}.json"
    result["json"] = str(out_json)
    serialization.atomic_write(out_json, json.dumps(result, indent=2).encode())
    return result


def _is_classification(loss_fn) -> bool:
    from ..nn import CrossEntropyLoss, NLLLoss

    return isinstance(loss_fn, (CrossEntropyLoss, NLLLoss))


def _split_loader(parts, split: str | None):
    if split is None:
        split = "test" if parts.test_loader is not None else "val"
    loader = {"train": parts.train_loader, "val": parts.val_loader,
              "test": parts.test_loader}[split]
    if loader is None:
        raise ConfigError(f"the checkpoint's config has no data.{split}; choose another --split "
                          "or add it with --set data." + split + "={type: ...}")
    return split, loader


def confusion_matrix(parts, loader, n_classes: int):
    """Confusion matrix (rows: true class, columns: predicted) of the model over ``loader``."""
    import numpy

    matrix = numpy.zeros((n_classes, n_classes), dtype=numpy.int64)
    parts.model.eval()
    with no_grad():
        for x, y in loader:
            out = parts.model(parts.to_device(x))
            pred = numpy.asarray(out.argmax(1).cpu().data).reshape(-1)
            true = numpy.asarray(y.cpu().data).reshape(-1)
            numpy.add.at(matrix, (true, pred), 1)
    return matrix


def _n_outputs(parts, loader) -> int:
    x, _ = next(iter(loader))
    with no_grad():
        return int(parts.model(parts.to_device(x[:1])).shape[1])

