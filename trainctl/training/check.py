"""Checking a config without training: what ``trainctl check`` does, as a library function.

Builds everything a run would (model, loss, optimizer, schedule, metrics, callbacks) through the
same builder as :func:`~trainctl.training.train`, checks the cross-references between them
(:func:`check_cross_references`: monitored names, metrics for the task, optimizers that need a
closure), then dry-runs one small batch through the model and the loss, so a mistake surfaces
here, with its file, line and key, not at step 1 or silently never.

Example:
    >>> from trainctl.training import check
    >>> report = check("configs/linreg.yaml")  # doctest: +SKIP
    >>> report.total_parameters  # doctest: +SKIP
    3
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..config import Config, load_config
from ..config.build import build_loss, build_optimizer, resolve_type
from ..config.lr_preview import schedule_curves
from ..config.preview import (
    build_model_for_dry_run,
    dry_run,
    example_batch,
    loss_problem,
    number_of_classes,
    to_meta,
)
from ..core.errors import DataError
from .callbacks import EarlyStopping
from .loggers import build_loggers
from .setup import build_callbacks, build_datasets, build_metrics, dataset_labels
from .trainer import needs_closure


@dataclass
class CheckReport:
    """What :func:`check` found: the resolved config, one row per layer (path, type, output
    shape, parameters), parameter counts, a note when stand-in data was used, and
    ``meta_bytes`` when the model was too big to allocate and was dry-run on the meta device
    (the bytes its parameters and buffers would need; None otherwise)."""

    config: Config
    layers: list
    total_parameters: int
    trainable_parameters: int
    note: str | None
    meta_bytes: int | None = None


def check(config, overrides=(), trust_code: bool = False) -> CheckReport:
    """Validate a config file and dry-run its model; a TrainctlError names what does not fit."""
    cfg = load_config(config, overrides, trust_code=trust_code)
    metrics = build_metrics(cfg)
    callbacks = build_callbacks(cfg)
    build_loggers(cfg)  # a misspelt or missing logger fails here, not at train
    train_set = _training_part(cfg)
    model, meta_bytes = build_model_for_dry_run(cfg)  # seeded with cfg["seed"]
    labels = dataset_labels(train_set) if train_set is not None else None
    loss_fn = build_loss(cfg, labels, number_of_classes(train_set))  # weight: balanced
    optimizer = build_optimizer(cfg, model.named_parameters())
    check_cross_references(cfg, metrics, callbacks, loss_fn, optimizer)
    schedule_curves(cfg)  # builds the schedule and steps it through the whole run
    batch = example_batch(cfg, dataset=train_set)
    x, y = batch.x, batch.y
    if meta_bytes is not None:  # shapes only: the batch and the loss's weights go to meta too
        x, y = to_meta(x), to_meta(y)
        if hasattr(loss_fn, "to"):
            loss_fn.to("meta")
    rows, out = dry_run(model, x, cfg)
    check_output_width(cfg, loss_fn, out, batch.num_classes)
    if y is not None:
        problem = loss_problem(loss_fn, out, y)
        if problem is not None:
            raise cfg.error(("loss",), problem)
    params = list(model.parameters())
    return CheckReport(cfg, rows, sum(p.numel() for p in params),
                       sum(p.numel() for p in params if p.requires_grad), note=batch.note,
                       meta_bytes=meta_bytes)


def _training_part(cfg: Config):
    """The training part of the data, as a run splits it (``val_split``), or None when some
    file is not there yet (:func:`~trainctl.config.preview.example_batch` then stands in)."""
    try:
        return build_datasets(cfg, download=False)[0]
    except DataError:
        return None


def check_cross_references(cfg: Config, metrics: dict, callbacks: list, loss_fn,
                           optimizer) -> None:
    """The checks between a run's built parts that no single component can make: every
    monitored name is logged by the run, every metric fits the loss's task, and an optimizer
    that re-evaluates the loss through a closure (LBFGS) is not asked to accumulate gradients.

    ``metrics`` and ``callbacks`` are what :func:`~trainctl.training.setup.build_metrics` and
    :func:`~trainctl.training.setup.build_callbacks` built from ``cfg``.
    """
    check_monitors(cfg, metrics, callbacks)
    check_metric_tasks(cfg, loss_fn)
    accumulate = cfg["train"]["accumulate_grad_batches"]
    if needs_closure(optimizer) and accumulate > 1:
        raise cfg.error(("train", "accumulate_grad_batches"),
                        f"{type(optimizer).__name__} re-evaluates the loss on one batch several "
                        f"times per step (through a closure), so it cannot accumulate gradients "
                        f"over {accumulate} batches; set accumulate_grad_batches: 1 (a larger "
                        f"data.batch_size gives the same larger batch)")


# ---------------------------------------------------------------------------- monitored names


def has_validation(cfg: Config) -> bool:
    """Whether the run validates (``data.val`` or ``data.val_split``), i.e. logs ``val/...``."""
    return cfg["data"]["val"] is not None or cfg["data"]["val_split"] is not None


def logged_metric_names(cfg: Config, metrics: dict | None = None) -> list[str]:
    """Every name a run of ``cfg`` logs that a checkpoint, early stopping or ReduceLROnPlateau
    can monitor: ``train/loss``, ``val/loss`` (with validation data), then ``train/<name>`` and
    ``val/<name>`` for each metric of ``train.metrics``, by its key in ``metrics`` (built from
    the config when not given). The ``lr`` columns are logged but not monitorable.

    Example:
        >>> from trainctl.config import load_config
        >>> logged_metric_names(load_config("configs/spirals_mlp.yaml"))  # doctest: +SKIP
        ['train/loss', 'val/loss', 'train/accuracy', 'val/accuracy']
    """
    if metrics is None:
        metrics = build_metrics(cfg)
    prefixes = ("train", "val") if has_validation(cfg) else ("train",)
    return ([f"{p}/loss" for p in prefixes]
            + [f"{p}/{name}" for name in metrics for p in prefixes])


def check_monitors(cfg: Config, metrics: dict, callbacks: list) -> None:
    """Refuse a monitored name the run never logs (``checkpoint.monitor``,
    ``train.early_stopping.monitor``, ReduceLROnPlateau's ``scheduler.monitor`` and the
    EarlyStopping callbacks of ``train.callbacks``), with a did-you-mean: unchecked, a typo means
    no best checkpoint, or early stopping and the plateau schedule silently never acting."""
    names = logged_metric_names(cfg, metrics)
    watched = [(("checkpoint", "monitor"), cfg["checkpoint"]["monitor"])]
    es = cfg["train"]["early_stopping"]
    if es is not None:
        watched.append((("train", "early_stopping", "monitor"), es["monitor"]))
    scheduler = cfg["scheduler"]
    if scheduler is not None and _is_plateau(cfg):
        watched.append((("scheduler", "monitor"), scheduler["monitor"]))
    for i, (spec, callback) in enumerate(zip(cfg["train"]["callbacks"], callbacks)):
        if isinstance(callback, EarlyStopping):
            given = isinstance(spec, dict) and "monitor" in spec
            path = ("train", "callbacks", i, "monitor") if given else ("train", "callbacks", i)
            watched.append((path, callback.monitor))
    for path, name in watched:
        if name is not None and name not in names:
            raise cfg.error(path, _not_logged(name, names, has_validation(cfg),
                                              default=path[-1] != "monitor"))


def _is_plateau(cfg: Config) -> bool:
    from ..optim.lr_scheduler import ReduceLROnPlateau

    factory = resolve_type(cfg["scheduler"]["type"], "scheduler", cfg, ("scheduler",))
    return isinstance(factory, type) and issubclass(factory, ReduceLROnPlateau)


def _not_logged(name, names: list[str], has_val: bool, default: bool = False) -> str:
    logs = f"(the run logs: {', '.join(names)})"
    what = f"monitors {name} by default, which" if default else f"{name}"
    if name == "lr" or str(name).startswith("lr/"):
        return f"{what} is the learning rate column of the log, not a metric to monitor {logs}"
    if str(name).startswith("val/") and not has_val and f"train/{name[4:]}" in names:
        return (f"{what} is not a metric of this run: there is no validation data (give "
                f"data.val or data.val_split, or monitor train/{name[4:]}) {logs}")
    close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{what} is not a metric of this run{hint} {logs}"


# ---------------------------------------------------------------------------- metrics vs task

# Which task each built-in metric measures; a metric not listed (a user's) is not judged.
METRIC_TASKS = {
    **dict.fromkeys(("accuracy", "topk_accuracy", "balanced_accuracy", "precision", "recall",
                     "f1", "auroc", "average_precision"), "classification"),
    **dict.fromkeys(("mae", "mse", "rmse", "r2"), "regression"),
}


def loss_task(loss_fn) -> str | None:
    """``"classification"`` or ``"regression"`` for the library's usual losses, else None."""
    from .. import nn

    if isinstance(loss_fn, (nn.CrossEntropyLoss, nn.NLLLoss, nn.BCEWithLogitsLoss, nn.BCELoss)):
        return "classification"
    if isinstance(loss_fn, (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss)):
        return "regression"
    return None


def check_metric_tasks(cfg: Config, loss_fn) -> None:
    """Refuse a built-in metric of the other task than the loss's (``accuracy`` with MSELoss,
    ``r2`` with CrossEntropyLoss): it would log a number that means nothing."""
    task = loss_task(loss_fn)
    if task is None:
        return
    for i, spec in enumerate(cfg["train"]["metrics"]):
        name = spec if isinstance(spec, str) else spec["type"]
        metric_task = METRIC_TASKS.get(name)
        if metric_task is None or metric_task == task:
            continue
        fitting = [m for m, t in METRIC_TASKS.items() if t == task and m in _registered()]
        why = ("the model predicts values, not classes" if task == "regression"
               else "the model predicts classes, not values")
        raise cfg.error(("train", "metrics", i),
                        f"{name} measures {metric_task}, but {type(loss_fn).__name__} is a "
                        f"{task} loss ({why}); use {', '.join(fitting)}")


def _registered() -> list[str]:
    from ..config.registry import registry

    return registry("metric").names()


# ---------------------------------------------------------------------------- output width


def check_output_width(cfg: Config, loss_fn, out, num_classes: int | None) -> None:
    """Refuse a model with fewer outputs than the training data has classes, for a loss that
    scores one output per class (CrossEntropyLoss, NLLLoss): otherwise training fails on the
    first batch holding a higher class, mid-epoch. A one-logit model with BCEWithLogitsLoss on
    two classes is fine."""
    from .. import nn

    if (num_classes is None or len(out.shape) < 2
            or not isinstance(loss_fn, (nn.CrossEntropyLoss, nn.NLLLoss))):
        return
    width = int(out.shape[1])
    if width >= num_classes:
        return
    spec = cfg["model"]
    layers = spec.get("layers") if spec.get("type") == "Sequential" else None
    path = ("model", "layers", len(layers) - 1) if isinstance(layers, list) and layers \
        else ("model",)
    last = layers[-1] if path != ("model",) else spec
    last = last if isinstance(last, dict) else {}
    fix = next((f"{key}: {num_classes}" for key in ("out_features", "num_classes", "out_channels")
                if key in last), None)
    if fix is None:
        fix = (f"the last of sizes: {num_classes}" if "sizes" in last
               else f"make the model output {num_classes} scores")
    raise cfg.error(path, f"the model gives {width} output{'s' if width != 1 else ''} per "
                          f"sample but the training data has {num_classes} classes; "
                          f"{type(loss_fn).__name__} needs one score per class ({fix})")
