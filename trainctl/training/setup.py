"""Everything a run needs, built from its config: model, loss, optimizer, schedule, loaders,
metrics and the callbacks the config names.

This is the one place where config keys meet the :class:`Trainer`'s keyword arguments
(:func:`trainer_arguments`); the Trainer itself never sees a config.

Example:
    >>> from trainctl.config import load_config
    >>> cfg = load_config("configs/spirals_mlp.yaml")  # doctest: +SKIP
    >>> parts = build_run(cfg)  # doctest: +SKIP
    >>> Trainer(**trainer_arguments(cfg, parts)).fit()  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from ..config import Config
from ..config.build import (
    Schedule,
    build_component,
    build_dataset,
    build_loss,
    build_model,
    build_optimizer,
    build_scheduler,
    resolve_type,
    steps_per_epoch,
    validation_size,
)
from ..core import backend
from ..core import random as tc_random
from .metrics import FunctionMetric, default_monitor


@dataclass
class RunParts:
    """The objects of one run, built by :func:`build_run`."""

    model: object
    loss_fn: object
    optimizer: object
    schedule: Schedule | None
    train_loader: object
    val_loader: object
    test_loader: object
    device: backend.device
    classes: list | None
    metrics: dict = field(default_factory=dict)
    callbacks: list = field(default_factory=list)

    @property
    def scheduler(self):
        return self.schedule.scheduler if self.schedule is not None else None

    def to_device(self, t):
        return t if self.device.type == "cpu" else t.to(self.device)


def resolve_device(spec: str) -> backend.device:
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (a GPU when one is usable, else the CPU)."""
    if spec == "auto":
        return backend.device("cuda") if backend.cuda_is_available() else backend.CPU
    dev = backend.device(spec)
    backend.array_module_for(dev)  # a clear DeviceError now, not at the first batch
    return dev


def build_datasets(cfg: Config, download: bool = True):
    """(train, val, test) datasets; ``data.val_split`` holds out a seeded part of train."""
    from ..data import random_split

    train = build_dataset(cfg, "train", download)
    val = build_dataset(cfg, "val", download)
    test = build_dataset(cfg, "test", download)
    n_val = validation_size(cfg, len(train))
    if n_val:
        generator = tc_random.Generator().manual_seed(cfg["seed"])
        train, val = random_split(train, [len(train) - n_val, n_val], generator=generator)
    return train, val, test


def build_metrics(cfg: Config) -> dict:
    """``train.metrics`` as name -> metric object. A registered :class:`Metric` class is built
    with the entry's arguments; a registered plain function ``f(pred, target) -> float`` becomes
    the batch-size-weighted mean of its values over the epoch."""
    metrics = {}
    for i, spec in enumerate(cfg["train"]["metrics"]):
        path = ("train", "metrics", i)
        name = spec if isinstance(spec, str) else spec["type"]
        factory = resolve_type(name, "metric", cfg, path, bare=isinstance(spec, str))
        if inspect.isclass(factory):
            metric = build_component(spec, "metric", cfg, path)
        elif isinstance(spec, dict) and len(spec) > 1:
            raise cfg.error(path, f"metric {name!r} is a function and takes no arguments")
        else:
            metric = FunctionMetric(factory)
        metrics[name.rpartition(":")[2]] = metric
    return metrics


def build_callbacks(cfg: Config) -> list:
    """The callbacks ``train.callbacks`` names, then the one ``train.early_stopping`` asks for."""
    callbacks = [build_component(spec, "callback", cfg, ("train", "callbacks", i))
                 for i, spec in enumerate(cfg["train"]["callbacks"])]
    es = cfg["train"]["early_stopping"]
    if es is not None:
        from .callbacks import EarlyStopping

        has_val = cfg["data"]["val"] is not None or cfg["data"]["val_split"] is not None
        callbacks.append(EarlyStopping(es["monitor"] or default_monitor(has_val), es["mode"],
                                       es["patience"], es["min_delta"]))
    return callbacks


def _loader(dataset, cfg: Config, train: bool):
    from ..data import DataLoader

    if dataset is None:
        return None
    data = cfg["data"]
    return DataLoader(
        dataset,
        batch_size=data["batch_size"] if train else data["eval_batch_size"],
        shuffle=data["shuffle"] if train else False,
        drop_last=data["drop_last"] if train else False,
        num_workers=data["num_workers"],
        seed=cfg["seed"],
    )


def dataset_classes(dataset):
    """Class names a dataset declares (CSV class mapping, image labels), or None."""
    while dataset is not None:
        classes = getattr(dataset, "classes", None)
        if classes is not None:
            return list(classes)
        dataset = getattr(dataset, "dataset", None)  # Subset from val_split
    return None


def build_run(cfg: Config, download: bool = True) -> RunParts:
    """Seed, then build every part of the run in a fixed order (so seeds give equal runs)."""
    metrics = build_metrics(cfg)
    callbacks = build_callbacks(cfg)
    device = resolve_device(cfg["device"])
    tc_random.manual_seed(cfg["seed"])
    model = build_model(cfg)
    if device.type != "cpu":
        model.to(device)
    loss_fn = build_loss(cfg)
    optimizer = build_optimizer(cfg, model.named_parameters())
    train_set, val_set, test_set = build_datasets(cfg, download)
    train_loader = _loader(train_set, cfg, train=True)
    schedule = build_scheduler(cfg, optimizer, steps_per_epoch(cfg, len(train_set)),
                               default_monitor(val_set is not None))
    return RunParts(model, loss_fn, optimizer, schedule, train_loader,
                    _loader(val_set, cfg, False), _loader(test_set, cfg, False), device,
                    dataset_classes(train_set), metrics, callbacks)


def trainer_arguments(cfg: Config, parts: RunParts, callbacks=()) -> dict:
    """The :class:`~trainctl.training.trainer.Trainer` keyword arguments for a built run:
    ``Trainer(**trainer_arguments(cfg, parts, callbacks))``. The config's own callbacks come
    first, then ``callbacks``."""
    train = cfg["train"]
    clip = train["grad_clip"] or {}
    schedule = parts.schedule
    return dict(
        model=parts.model, loss_fn=parts.loss_fn, optimizer=parts.optimizer,
        train_loader=parts.train_loader, val_loader=parts.val_loader,
        scheduler=parts.scheduler,
        scheduler_interval=schedule.interval if schedule else "epoch",
        scheduler_monitor=schedule.monitor if schedule else None,
        epochs=train["epochs"], max_steps=train["max_steps"], metrics=parts.metrics,
        accumulate_grad_batches=train["accumulate_grad_batches"],
        grad_clip_norm=clip.get("max_norm"), grad_norm_type=clip.get("norm_type", 2.0),
        grad_clip_value=clip.get("value"), eval_every=train["eval_every"],
        on_nan=train["on_nan"], device=parts.device,
        callbacks=[*parts.callbacks, *callbacks],
    )
