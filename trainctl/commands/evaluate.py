"""``trainctl eval CHECKPOINT``: score a saved model on a split of its own config's data."""

from __future__ import annotations

import json
from pathlib import Path

from ..autograd import serialization
from ..config import resolve
from ..config.loader import Sources, apply_override
from ..core.errors import ConfigError
from ..training.checkpoint import find_checkpoint, load_checkpoint, load_model_weights
from ..training.setup import build_run
from ..training.trainer import Trainer

CLASSIFICATION_LOSSES = ("CrossEntropyLoss", "NLLLoss")


def _split_loader(parts, cfg, split: str | None):
    if split is None:
        split = "test" if parts.test_loader is not None else "val"
    loader = {"train": parts.train_loader, "val": parts.val_loader,
              "test": parts.test_loader}[split]
    if loader is None:
        raise ConfigError(f"the checkpoint's config has no data.{split}; choose another --split "
                          "or add it with --set data." + split + "={type: ...}")
    return split, loader


def _confusion(parts, loader, n_classes: int):
    """Confusion matrix (rows: true class, columns: predicted) over ``loader``."""
    import numpy

    from ..autograd.grad_mode import no_grad

    matrix = numpy.zeros((n_classes, n_classes), dtype=numpy.int64)
    parts.model.eval()
    with no_grad():
        for x, y in loader:
            out = parts.model(parts.to_device(x))
            pred = numpy.asarray(out.argmax(1).cpu().data).reshape(-1)
            true = numpy.asarray(y.cpu().data).reshape(-1)
            numpy.add.at(matrix, (true, pred), 1)
    return matrix


def run_eval(checkpoint, split=None, overrides=(), as_json=False, trust_code=False, echo=None):
    import click

    echo = echo or click.echo
    path = find_checkpoint(checkpoint)
    state = load_checkpoint(path)
    data = state["config"]
    sources = Sources({(): f"{path} (saved config)"})
    for text in overrides:
        apply_override(data, sources, text)
    cfg = resolve(data, sources)
    parts = build_run(cfg, trust_code=trust_code)
    load_model_weights(parts.model, state["model"], path)
    split, loader = _split_loader(parts, cfg, split)
    trainer = Trainer(cfg, parts)
    metrics = trainer.evaluate(loader, split)
    result = {"checkpoint": str(path), "split": split, "samples": len(loader.dataset),
              "metrics": metrics}

    classes = (state.get("data") or {}).get("classes") or parts.classes
    is_classification = type(parts.loss_fn).__name__ in CLASSIFICATION_LOSSES
    confusion_png = None
    if is_classification:
        n_classes = len(classes) if classes else _n_outputs(parts, loader)
        matrix = _confusion(parts, loader, n_classes)
        names = [str(c) for c in classes] if classes else [str(i) for i in range(n_classes)]
        per_class = {name: (float(matrix[i, i] / matrix[i].sum()) if matrix[i].sum() else None)
                     for i, name in enumerate(names)}
        result["per_class_accuracy"] = per_class
        result["confusion_matrix"] = matrix.tolist()
        result["classes"] = names
        confusion_png = path.parent / f"confusion-{split}.png"
        _plot_confusion(matrix, names, confusion_png)
        result["confusion_png"] = str(confusion_png)

    out_json = path.parent / f"eval-{split}.json"
    serialization.atomic_write(out_json, json.dumps(result, indent=2).encode())
    if as_json:
        echo(json.dumps(result))
        return 0
    _print_table(result, echo)
    echo(f"wrote {out_json}" + (f" and {confusion_png}" if confusion_png else ""))
    return 0


def _n_outputs(parts, loader) -> int:
    from ..autograd.grad_mode import no_grad

    x, _ = next(iter(loader))
    with no_grad():
        return int(parts.model(parts.to_device(x[:1])).shape[1])


def _print_table(result: dict, echo) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{result['split']} ({result['samples']} samples)", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in result["metrics"].items():
        table.add_row(k, f"{v:.6g}")
    console.print(table)
    if "per_class_accuracy" in result:
        per = Table(title="per-class accuracy", title_justify="left")
        per.add_column("class")
        per.add_column("accuracy", justify="right")
        for name, acc in result["per_class_accuracy"].items():
            per.add_row(name, "-" if acc is None else f"{acc:.4f}")
        console.print(per)


def _plot_confusion(matrix, names, out: Path) -> None:
    from ..training.plots import _pyplot, _save

    plt = _pyplot()
    n = len(names)
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * n + 2), max(3.5, 0.5 * n + 1.5)))
    im = ax.imshow(matrix, cmap="Blues")
    ax.set(xticks=range(n), yticks=range(n), xticklabels=names, yticklabels=names,
           xlabel="predicted", ylabel="true", title="Confusion matrix")
    if n <= 20:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    fig.colorbar(im, ax=ax)
    _save(fig, out, plt)
