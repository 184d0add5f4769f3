"""Scoring a saved model: what ``trainctl eval`` does, as a library function.

One pass over the split gives the loss and the run's own metrics (as logged in training) and
keeps every output, from which the report for the task is drawn: for classification a per-class
table (precision, recall, F1, support, like scikit-learn's ``classification_report``) and a
confusion matrix PNG; for a binary model (one output column) also ROC and precision-recall PNGs;
for regression a residual PNG. ``predictions=`` exports one row per sample.

Example:
    >>> from trainctl.training import evaluate
    >>> result = evaluate("runs/spirals_mlp/latest")  # doctest: +SKIP
    >>> result["metrics"]["val/accuracy"], result["report"]["macro_avg"]["f1"]  # doctest: +SKIP
    (1.0, 1.0)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy

from ..autograd import serialization
from ..autograd.creation import from_numpy
from ..autograd.grad_mode import no_grad
from ..config import resolve
from ..config.loader import Sources, apply_override
from ..core import backend
from ..core.errors import ConfigError
from .checkpoint import find_checkpoint, load_checkpoint, load_model_weights
from .metrics import (
    MAE,
    MSE,
    R2,
    RMSE,
    average_precision,
    classification_report,
    precision_recall_curve,
    roc_auc,
    roc_curve,
)
from .metrics.base import softmax
from .setup import build_eval_run, build_run
from .tables import FORMATS, write_columns
from .trainer import EpochSums


def evaluate(checkpoint, split: str | None = None, overrides=(), trust_code: bool = False, *,
             predictions=None, data=None) -> dict:
    """Score the model of ``checkpoint`` on a split of the data its own config names.

    Args:
        checkpoint: a ``.safetensors`` checkpoint, or a run directory (its best, else its last).
        split: ``"test"``, ``"val"`` or ``"train"``; default test when configured, else val.
        overrides: ``"key.path=value"`` changes to the stored config (e.g. another data path).
        trust_code: allow the stored config to import code (``type: "pkg.mod:Name"``).
        predictions: a file to write one row per sample to (row, target, prediction, and class
            probabilities ``p_<class>``): CSV, or ``.npz`` / ``.jsonl`` by its extension.
        data: a file of labelled rows to score instead of a configured split (the ``test``
            split becomes the training dataset's spec reading this file, with the stored
            preprocessing; the training data is not read).

    Returns:
        ``{"checkpoint", "split", "samples", "task", "metrics", "json"}`` (``json``: the
        ``eval-<split>.json`` written beside the checkpoint), and by task:

        - classification and binary: ``classes``, ``confusion_matrix`` (rows: true class),
          ``per_class_accuracy``, ``report`` (``per_class`` precision/recall/f1/support,
          ``accuracy``, ``macro_avg``, ``weighted_avg``) and ``confusion_png``;
        - binary (one output): ``roc_auc``, ``average_precision``, ``roc_png``, ``pr_png``;
        - regression: ``regression`` (mae, mse, rmse, r2 over the split) and
          ``residuals_png``; values in the target's own units when the training data scaled
          them (its ``inverse_target``), which ``inverse_target_applied`` says;
        - ``predictions``: the file written, when asked for.
    """
    data_file = data
    if predictions is not None:
        predictions = _prediction_path(predictions)
    path = find_checkpoint(checkpoint)
    state = load_checkpoint(path, resume=False)  # weights and config are all eval needs
    config = state["config"]
    sources = Sources({(): f"{path} (saved config)"})
    for text in overrides:
        apply_override(config, sources, text)
    if data_file is not None:
        if split not in (None, "test"):
            raise ConfigError("--data scores a file of its own: leave out --split")
        config["data"]["test"] = {**config["data"]["train"],
                                  "path": os.path.abspath(data_file)}
        config["data"]["test"].pop("reference", None)
        split = "test"
    cfg = resolve(config, sources, trust_code=trust_code)
    if split is None:
        split = "test" if cfg["data"]["test"] is not None else "val"
    # A split with its own file is read with the stored preprocessing: the training data is
    # not needed. A split held out of the training file (val_split) has to read that file.
    parts = (build_eval_run(cfg, split, state.get("data") or {}) if split != "train" else None) \
        or build_run(cfg)
    load_model_weights(parts.model, state["model"], path)
    split, loader = _split_loader(parts, cfg, split)
    kind = _loss_kind(parts.loss_fn)
    inverse = _inverse_target(parts) if kind == "regression" else None
    metrics, outputs, targets = _score(parts, loader, split, inverse)
    result = {"checkpoint": str(path), "split": split, "samples": len(outputs),
              "task": _task(kind, outputs), "metrics": metrics}
    title = f"{split} split · {_checkpoint_name(path)}"
    rows = source_rows(loader.dataset, len(outputs))
    if result["task"] in ("classification", "binary"):
        classes = (state.get("data") or {}).get("classes") or parts.classes
        names = _class_names(classes, 2 if result["task"] == "binary" else outputs.shape[1])
        probs, labels = _classify(outputs, targets, kind, result["task"])
        result.update(_classification(probs, labels, names, path, split, title))
        if predictions is not None:
            write_predictions(predictions, rows, _named(labels, names),
                              _named(probs.argmax(axis=1), names), probs, names)
    elif result["task"] == "regression":
        pred = outputs.reshape(len(outputs), -1)
        true = targets.reshape(pred.shape)
        if inverse is not None:
            pred, true = (numpy.asarray(inverse(a)).reshape(pred.shape) for a in (pred, true))
        result["inverse_target_applied"] = inverse is not None
        result.update(_regression(pred, true, _target_names(parts, pred.shape[1]), path, split,
                                  title))
        if predictions is not None:
            write_predictions(predictions, rows, true, pred, None, result["targets"])
    elif predictions is not None:
        flat = outputs.reshape(len(outputs), -1)
        write_predictions(predictions, rows, targets.reshape(len(flat), -1), flat, None, None)
    if predictions is not None:
        result["predictions"] = str(predictions)
    out_json = path.parent / f"eval-{split}.json"
    result["json"] = str(out_json)
    serialization.atomic_write(out_json, json.dumps(result, indent=2).encode())
    return result


def _prediction_path(path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ConfigError(f"{path}: predictions are written as CSV, NPZ or JSONL; give the file "
                          f"one of the extensions {', '.join(FORMATS)}")
    return path


def _split_loader(parts, cfg, split: str):
    from ..data import DataLoader

    loader = {"train": parts.train_loader, "val": parts.val_loader,
              "test": parts.test_loader}[split]
    if loader is None:
        raise ConfigError(f"the checkpoint's config has no data.{split}; choose another --split "
                          "or add it with --set data." + split + "={type: ...}")
    if split == "train":  # in order, every row: not the training loader's shuffle or sampler
        loader = DataLoader(loader.dataset, batch_size=cfg["data"]["eval_batch_size"],
                            shuffle=False, num_workers=cfg["data"]["num_workers"])
    return split, loader


def _loss_kind(loss_fn) -> str | None:
    """How the model's outputs are read, from its loss: ``classification`` (logits or
    log-probabilities of C classes), ``logits`` and ``probabilities`` (binary or multilabel),
    ``regression``; None for others."""
    from .. import nn

    if isinstance(loss_fn, (nn.CrossEntropyLoss, nn.NLLLoss)):
        return "classification"
    if isinstance(loss_fn, nn.BCEWithLogitsLoss):
        return "logits"
    if isinstance(loss_fn, nn.BCELoss):
        return "probabilities"
    if isinstance(loss_fn, (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss)):
        return "regression"
    return None


def _task(kind: str | None, outputs: numpy.ndarray) -> str | None:
    one_column = outputs.ndim == 1 or (outputs.ndim == 2 and outputs.shape[1] == 1)
    if kind == "classification" and outputs.ndim == 2:
        return "binary" if one_column else "classification"
    if kind in ("logits", "probabilities"):
        return "binary" if one_column else "multilabel"
    return kind if kind == "regression" else None


def _inverse_target(parts):
    """The training data's ``inverse_target`` (undoing target scaling), or None."""
    loader = parts.train_loader or parts.test_loader or parts.val_loader
    dataset = loader.dataset
    for candidate in (dataset, getattr(dataset, "dataset", None)):
        if callable(getattr(candidate, "inverse_target", None)):
            return candidate.inverse_target
    return None


def _host(t) -> numpy.ndarray:
    return numpy.asarray(backend.to_device(t.array, backend.CPU))


def _score(parts, loader, split: str, inverse):
    """One pass: the loss and the run's metrics (as the Trainer's validation computes them; for
    regression on unscaled values when ``inverse`` is given), and every output and target."""
    sums = EpochSums(parts.metrics)
    outputs, targets = [], []
    model = parts.model
    was_training = model.training
    model.eval()
    with no_grad():
        for x, y in loader:
            x, y = parts.to_device(x), parts.to_device(y)
            out = model(x)
            loss = float(parts.loss_fn(out, y).item())
            o, t = _host(out), _host(y)
            outputs.append(o)
            targets.append(t)
            if inverse is not None:
                shape = o.reshape(len(o), -1).shape
                out, y = (from_numpy(numpy.asarray(inverse(a.reshape(shape))).reshape(a.shape))
                          for a in (o, t))
            sums.update(loss, out, y, len(y))
    model.train(was_training)
    if not outputs:
        raise ConfigError(f"the {split} split has no samples to score")
    return sums.compute(split), numpy.concatenate(outputs), numpy.concatenate(targets)


def source_rows(dataset, n: int) -> numpy.ndarray:
    """Each sample's index in the file it came from: a ``val_split`` part (a Subset) maps its
    positions to the rows of the training file."""
    rows = numpy.arange(n)
    while hasattr(dataset, "indices") and hasattr(dataset, "dataset"):
        rows = numpy.asarray(dataset.indices, dtype=numpy.int64)[rows]
        dataset = dataset.dataset
    return rows


def _checkpoint_name(path: Path) -> str:
    run = path.parent.parent if path.parent.name == "checkpoints" else path.parent
    return f"{run.name}/{path.name}"


def _class_names(classes, n: int) -> list[str]:
    names = [str(c) for c in classes] if classes and len(classes) == n else []
    return names or [str(i) for i in range(n)]


def _classify(outputs, targets, kind: str, task: str):
    """``(probabilities (N, C), labels (N,))``; a binary model's C is 2 (negative, positive)."""
    if task == "binary":
        scores = outputs.reshape(-1).astype(numpy.float64)
        positive = scores if kind == "probabilities" else 1 / (1 + numpy.exp(-scores))
        labels = targets.reshape(-1)
        labels = (labels >= 0.5) if labels.dtype.kind == "f" else labels
        return numpy.stack([1 - positive, positive], axis=1), labels.astype(numpy.int64)
    probs = softmax(outputs)  # of logits, or of log-probabilities (NLLLoss): the same
    if targets.shape == outputs.shape and targets.dtype.kind == "f":
        targets = targets.argmax(axis=1)  # one-hot or probability targets
    return probs, targets.reshape(-1).astype(numpy.int64)


def _named(indices, names: list[str]) -> list:
    return [names[i] if 0 <= i < len(names) else int(i) for i in indices]


def _classification(probs, labels, names, path: Path, split: str, title: str) -> dict:
    from .plots import plot_confusion, plot_precision_recall, plot_roc

    n = len(names)
    predicted = probs.argmax(axis=1)
    known = (labels >= 0) & (labels < n)  # leaves out ignore_index (-100) targets
    labels, predicted, probs = labels[known], predicted[known], probs[known]
    matrix = numpy.zeros((n, n), dtype=numpy.int64)
    numpy.add.at(matrix, (labels, predicted), 1)
    report = classification_report(labels, predicted, names)
    result = {
        "classes": names,
        "confusion_matrix": matrix.tolist(),
        "per_class_accuracy": {name: (report["per_class"][name]["recall"]
                                      if report["per_class"][name]["support"] else None)
                               for name in names},
        "report": report,
        "confusion_png": str(plot_confusion(matrix, names, path.parent / f"confusion-{split}.png",
                                            f"Confusion matrix\n{title}")),
    }
    if n == 2 and probs.shape[1] == 2:
        positive = probs[:, 1]
        result["roc_auc"] = _finite(roc_auc(labels, positive))
        result["average_precision"] = _finite(average_precision(labels, positive))
        if result["roc_auc"] is not None:
            fpr, tpr, _ = roc_curve(labels, positive)
            result["roc_png"] = str(plot_roc(fpr, tpr, result["roc_auc"],
                                             path.parent / f"roc-{split}.png",
                                             f"ROC curve (positive class: {names[1]})\n{title}",
                                             split=split))
            precision, recall, _ = precision_recall_curve(labels, positive)
            result["pr_png"] = str(plot_precision_recall(
                precision, recall, result["average_precision"], float(labels.mean()),
                path.parent / f"pr-{split}.png",
                f"Precision-recall curve (positive class: {names[1]})\n{title}", split=split))
    return result


def _finite(value: float):
    return value if value == value else None


def _target_names(parts, k: int) -> list[str]:
    dataset = parts.train_loader.dataset
    for candidate in (dataset, getattr(dataset, "dataset", None)):
        names = getattr(candidate, "target_names", None)
        if names is not None and len(names) == k:
            return [str(n) for n in names]
    return ["target"] if k == 1 else [str(j) for j in range(k)]


def _regression(pred, true, names: list[str], path: Path, split: str, title: str) -> dict:
    from .plots import plot_residuals

    scores = {}
    for name, metric in (("mae", MAE()), ("mse", MSE()), ("rmse", RMSE()), ("r2", R2())):
        metric.update(pred, true)
        scores[name] = metric.compute()
    png = plot_residuals(pred, true, path.parent / f"residuals-{split}.png",
                         f"Residuals\n{title}", names, split=split)
    return {"targets": names, "regression": scores, "residuals_png": str(png)}


def write_predictions(out: Path, rows, target, prediction, probabilities, names) -> Path:
    """One row per sample: ``row`` (index in its file), ``target``, ``prediction``, and
    ``p_<class>`` per class (classification) or ``target_<name>``/``prediction_<name>`` per
    output (regression). CSV, or ``.npz``/``.jsonl`` by extension; written atomically."""
    out = Path(out)
    columns = {"row": numpy.asarray(rows)}
    if probabilities is not None:  # classification: names in, probabilities per class
        columns["target"], columns["prediction"] = target, prediction
        probabilities = numpy.asarray(probabilities, dtype=numpy.float32)
        for j, name in enumerate(names):
            columns[f"p_{name}"] = probabilities[:, j]
    else:
        target, prediction = numpy.asarray(target), numpy.asarray(prediction)
        for key, values in (("target", target), ("prediction", prediction)):
            for j in range(values.shape[1]):
                name = names[j] if names and len(names) == values.shape[1] else j
                columns[key if values.shape[1] == 1 else f"{key}_{name}"] = values[:, j]
    arrays = None
    if out.suffix.lower() == ".npz":  # whole arrays: (N,) names or values, (N, C) probabilities
        arrays = {"row": columns["row"]}
        if probabilities is not None:
            arrays.update(target=numpy.asarray(target, dtype=str),
                          prediction=numpy.asarray(prediction, dtype=str),
                          probabilities=probabilities, classes=numpy.asarray(names, dtype=str))
        else:
            arrays.update((key, values[:, 0] if values.shape[1] == 1 else values)
                          for key, values in (("target", target), ("prediction", prediction)))
            if names:
                arrays["targets"] = numpy.asarray(names, dtype=str)
    return write_columns(out, columns, arrays)


