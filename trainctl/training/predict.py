"""Answers from a trained model: what ``trainctl predict`` does, as a library function.

Everything needed comes from the checkpoint (self-contained): the model and its config, and the
training data's preprocessing (feature columns and their order, standardisation statistics,
target scaling, class names, the input shape). The training data itself is never read.

Example:
    >>> from trainctl.training import predict
    >>> result = predict("runs/iris/latest", "new_rows.csv", proba=True)  # doctest: +SKIP
    >>> result["prediction"][:3], result["classes"]  # doctest: +SKIP
    (['setosa', 'virginica', 'setosa'], ['setosa', 'versicolor', 'virginica'])
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy

from ..autograd.grad_mode import no_grad
from ..config import resolve
from ..config.build import build_component, build_model
from ..config.loader import Sources
from ..core import random as tc_random
from ..core.errors import DataError
from .checkpoint import find_checkpoint, load_checkpoint, load_model_weights

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def predict(checkpoint, input, batch_size: int = 256, proba: bool = False,
            trust_code: bool = False) -> dict:
    """Run the model of ``checkpoint`` on ``input`` and interpret its outputs.

    Args:
        checkpoint: a ``.safetensors`` checkpoint or a run directory (its best, else last).
        input: a CSV file (the training features, or text column, by name; a target column
            is ignored), an ``.npz`` file (the array the training config reads, ``x`` by
            default), an IDX file (plain or ``.gz``), a CIFAR-10 binary batch (``.bin``) or a
            folder of PNG/JPEG images.
        batch_size: rows per forward pass.
        proba: also return class probabilities.
        trust_code: allow the stored config to import code (``type: "pkg.mod:Name"``).

    Returns:
        ``{"task", "rows", "ids", "prediction", "probabilities", "classes", "outputs"}``:
        ``prediction`` holds class names (classification, binary), per-label 0/1 lists
        (multilabel) or values in the target's own units (regression); ``probabilities`` is an
        (N, classes) array when ``proba`` (else None); ``ids`` are row numbers or file names.
    """
    path = find_checkpoint(checkpoint)
    state = load_checkpoint(path, resume=False)
    cfg = resolve(state["config"], Sources({(): f"{path} (saved config)"}),
                  trust_code=trust_code)
    data = state.get("data") or {}
    prep = data.get("preprocessing") or {}
    tc_random.manual_seed(cfg["seed"])
    model = build_model(cfg)
    load_model_weights(model, state["model"], path)
    ids, dataset = _input_dataset(Path(input), cfg, prep, data.get("input_shape"))
    outputs = _forward(model, dataset, batch_size)
    task = prep.get("task") or _task_of_loss(cfg, outputs)
    classes = prep.get("classes") or data.get("classes")
    result = _interpret(outputs, task, classes, prep, dataset)
    result.update(rows=len(outputs), ids=ids, outputs=outputs)
    if not proba:
        result["probabilities"] = None
    return result


def _input_dataset(source: Path, cfg, prep: dict, input_shape=None):
    """``(ids, dataset)`` for an input file or folder, preprocessed as in training."""
    from ..data import ArrayDataset

    if not source.exists():
        raise DataError(f"{source}: no such file or folder to predict on")
    if source.is_dir():
        return _image_folder(source, cfg, input_shape)
    name = source.name.lower()
    if name.endswith(".csv"):
        if prep.get("type") != "CSVDataset":
            raise DataError(f"{source}: this model was not trained on CSV data; give it the kind "
                            "of input it was trained on")
        from ..data import CSVDataset

        dataset = CSVDataset.from_state(source, prep)
        return list(range(len(dataset))), dataset
    if name.endswith(".npz"):
        from ..data.datasets import read_npz

        key = (cfg["data"]["train"] or {}).get("x_key", "x")
        arrays = read_npz(source)
        if key not in arrays:
            raise DataError(f"{source}: no array {key!r} (the training config's x_key); it "
                            f"has: {', '.join(arrays) or 'none'}")
        x = arrays[key]
        x = x.astype(numpy.float32) if x.dtype.kind == "f" else x
        return list(range(len(x))), ArrayDataset(x, transform=_transform(cfg))
    if "ubyte" in name or name.endswith((".idx", ".idx.gz")):
        from ..data.datasets import read_idx

        x = read_idx(source)
        return list(range(len(x))), ArrayDataset(x, transform=_transform(cfg))
    if name.endswith(".bin"):  # a CIFAR-10 binary batch (data_batch_1.bin, test_batch.bin)
        from ..data.datasets import read_cifar_batch

        x, _ = read_cifar_batch(source)
        return list(range(len(x))), ArrayDataset(x, transform=_transform(cfg))
    raise DataError(f"{source}: cannot predict on this kind of file; give a .csv, .npz, IDX "
                    "(-ubyte, .gz), CIFAR-10 .bin file or a folder of images")


def _transform(cfg):
    """The evaluation transform of the training config (test's, else val's, else train's; the
    datasets' default ToTensor when none is named)."""
    for split in ("test", "val", "train"):
        spec = cfg["data"][split]
        if isinstance(spec, dict) and spec.get("transform") is not None:
            return build_component({"type": "Compose", "transforms": spec["transform"]}
                                   if isinstance(spec["transform"], list) else spec["transform"],
                                   "transform", cfg, ("data", split, "transform"))
    from ..data.transforms import ToTensor

    return ToTensor()


def _image_folder(folder: Path, cfg, input_shape):
    """The images of ``folder``, resized to the training input's (C, H, W) and transformed as in
    evaluation."""
    from ..data import ArrayDataset, list_images, load_image

    files = list_images(folder)
    size = tuple(input_shape) if input_shape and len(input_shape) == 3 else None
    images = numpy.stack([load_image(f, size=size) for f in files])
    return [os.path.relpath(f, folder) for f in files], ArrayDataset(images,
                                                                     transform=_transform(cfg))


def _forward(model, dataset, batch_size: int) -> numpy.ndarray:
    from ..data import DataLoader

    model.eval()
    outs = []
    with no_grad():
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            outs.append(numpy.asarray(model(x).cpu().array, dtype=numpy.float64))
    if not outs:
        raise DataError("no rows to predict on")
    return numpy.concatenate(outs)


def _task_of_loss(cfg, outputs: numpy.ndarray) -> str:
    """The task, for data without a stored one (images): from the loss the model trained with."""
    from .. import nn
    from ..config.build import resolve_type

    spec = cfg["loss"]
    loss = resolve_type(spec["type"] if isinstance(spec, dict) else spec, "loss", cfg, ("loss",),
                        bare=not isinstance(spec, dict))
    if issubclass(loss, (nn.CrossEntropyLoss, nn.NLLLoss)):
        return "classification"
    if issubclass(loss, (nn.BCEWithLogitsLoss, nn.BCELoss)):
        return "binary" if outputs.ndim == 1 or outputs.shape[1] == 1 else "multilabel"
    return "regression"


def _softmax(z: numpy.ndarray) -> numpy.ndarray:
    e = numpy.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _interpret(outputs: numpy.ndarray, task: str, classes, prep: dict, dataset) -> dict:
    if task == "classification":
        p = _softmax(outputs.reshape(len(outputs), -1))
        names = classes or [str(i) for i in range(p.shape[1])]
        return {"task": task, "classes": names, "probabilities": p,
                "prediction": [names[i] for i in p.argmax(axis=1)]}
    if task == "binary":
        positive = 1 / (1 + numpy.exp(-outputs.reshape(len(outputs))))
        names = classes or ["0", "1"]
        return {"task": task, "classes": names,
                "probabilities": numpy.stack([1 - positive, positive], axis=1),
                "prediction": [names[int(v > 0.5)] for v in positive]}
    if task == "multilabel":
        p = 1 / (1 + numpy.exp(-outputs))
        return {"task": task, "classes": prep.get("target"), "probabilities": p,
                "prediction": (p >= 0.5).astype(int).tolist()}
    values = outputs.reshape(len(outputs), -1)
    if hasattr(dataset, "inverse_target"):
        values = numpy.asarray(dataset.inverse_target(values), dtype=numpy.float64)
    return {"task": "regression", "classes": None, "probabilities": None,
            "prediction": values[:, 0].tolist() if values.shape[1] == 1 else values.tolist()}


def write_predictions(result: dict, out: Path) -> Path:
    """Write ``result`` to ``out``: CSV (default), ``.npz`` or ``.jsonl`` by extension: ``id``,
    ``prediction`` and, when asked for, ``p_<class>`` per class."""
    from .tables import write_columns

    ids, probs = result["ids"], result["probabilities"]
    prediction = numpy.empty(len(ids), dtype=object)
    prediction[:] = [p if isinstance(p, (str, float)) else str(p) for p in result["prediction"]]
    columns = {"id": numpy.asarray([str(i) for i in ids]), "prediction": prediction}
    arrays = {"id": columns["id"], "prediction": numpy.asarray(result["prediction"])}
    if probs is not None:
        columns.update({f"p_{c}": probs[:, j] for j, c in enumerate(result["classes"] or [])})
        arrays["probabilities"] = probs
    return write_columns(out, columns, arrays)
