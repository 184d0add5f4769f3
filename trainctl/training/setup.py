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
    build_sampler,
    build_scheduler,
    resolve_type,
    steps_per_epoch,
    validation_size,
)
from ..core import backend
from ..core import random as tc_random
from ..core.errors import TrainctlError
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
    preprocessing: dict | None = None

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
    """(train, val, test) datasets.

    ``data.val_split`` holds out a part of train, drawn with ``data.split_seed`` (independent of
    ``seed``) and stratified by class when the dataset knows its labels (``labels()``). A dataset
    that fits statistics (``fit(indices)``: standardisation) fits them on the training part only,
    and a val/test split of the same kind (``from_state``) is given those statistics, so nothing
    is learned from held-out rows.
    """
    from ..data import Subset, random_split, stratified_split

    train = build_dataset(cfg, "train", download)
    fitted = preprocessing_state(train)
    val = build_dataset(cfg, "val", download, inherited_options(cfg, "val", fitted))
    test = build_dataset(cfg, "test", download, inherited_options(cfg, "test", fitted))
    base = train
    n_val = validation_size(cfg, len(train))
    if n_val:
        generator = tc_random.Generator().manual_seed(cfg["data"]["split_seed"])
        lengths = [len(train) - n_val, n_val]
        labels = dataset_labels(train)
        if labels is not None:
            train, val = stratified_split(train, lengths, labels, generator=generator)
        else:
            train, val = random_split(train, lengths, generator=generator)
    if hasattr(base, "fit") and isinstance(train, Subset):
        base.fit(train.indices)
        val = val if isinstance(val, Subset) else _same_statistics(val, base, cfg, "val")
        test = _same_statistics(test, base, cfg, "test")
    return train, val, test


def _same_statistics(dataset, fitted, cfg: Config, split: str):
    """``dataset`` rebuilt with the statistics ``fitted`` learned from the training part."""
    if dataset is None or not hasattr(type(dataset), "from_state"):
        return dataset
    rebuilt = type(dataset).from_state(cfg["data"][split]["path"], fitted.preprocessing_state(),
                                       require_target=True)
    rebuilt.transform, rebuilt.target_transform = dataset.transform, dataset.target_transform
    return rebuilt


def inherited_options(cfg: Config, split: str, fitted: dict | None,
                      stored: bool = False) -> dict:
    """What a held-out split takes from the training split's preprocessing state ``fitted``:
    the entries its dataset class names in ``inherits`` (a TextFile's ``vocab``), when the split
    has the training split's type and does not give them itself (or a ``reference``).
    ``stored``: ``fitted`` comes from a checkpoint, and wins over a ``reference``, so that
    scoring a run never depends on the training file being unchanged."""
    spec = cfg["data"][split]
    if spec is None or not fitted:
        return {}
    factory = resolve_type(spec["type"], "dataset", cfg, ("data", split))
    names = getattr(factory, "inherits", ())
    if not names or fitted.get("type") != factory.__name__:
        return {}
    if "reference" in spec and not stored:
        return {}
    extra = {name: fitted[name] for name in names if name not in spec and name in fitted}
    if extra and "reference" in spec:
        extra["reference"] = None
    return extra


def dataset_labels(dataset):
    """Class indices (int64 array) of a dataset's samples, or None when it does not know them
    without reading every sample (only datasets with ``labels()``, and Subsets of them)."""
    indices = None
    while hasattr(dataset, "indices") and hasattr(dataset, "dataset"):  # a Subset
        indices = dataset.indices if indices is None else [dataset.indices[i] for i in indices]
        dataset = dataset.dataset
    if not hasattr(dataset, "labels"):
        return None
    try:
        labels = dataset.labels()
    except TrainctlError:  # regression or multilabel: no classes
        return None
    return labels if indices is None else labels[indices]


def preprocessing_state(dataset) -> dict | None:
    """What turns raw rows into model inputs (``preprocessing_state()`` of the training data,
    through Subsets), for self-contained checkpoints; None when the dataset has none."""
    while not hasattr(dataset, "preprocessing_state") and hasattr(dataset, "dataset"):
        dataset = dataset.dataset
    return dataset.preprocessing_state() if hasattr(dataset, "preprocessing_state") else None


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


def _loader(dataset, cfg: Config, train: bool, sampler=None):
    from ..data import DataLoader

    if dataset is None:
        return None
    data = cfg["data"]
    return DataLoader(
        dataset,
        batch_size=data["batch_size"] if train else data["eval_batch_size"],
        shuffle=data["shuffle"] if train and sampler is None else False,
        sampler=sampler,
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


def build_run(cfg: Config, download: bool = True, world_size: int = 1) -> RunParts:
    """Seed, then build every part of the run in a fixed order (so seeds give equal runs).

    ``world_size``: the ranks of a data-parallel run, each taking ``1 / world_size`` of the
    training data per epoch (a schedule counted in steps needs the steps of one rank)."""
    metrics = build_metrics(cfg)
    callbacks = build_callbacks(cfg)
    device = resolve_device(cfg["device"])
    tc_random.manual_seed(cfg["seed"])
    model = build_model(cfg)
    if device.type != "cpu":
        model.to(device)
    train_set, val_set, test_set = build_datasets(cfg, download)
    labels = dataset_labels(train_set)
    classes = dataset_classes(train_set)
    loss_fn = build_loss(cfg, labels, len(classes) if classes else None)
    optimizer = build_optimizer(cfg, model.named_parameters())
    sampler = build_sampler(cfg, train_set, labels,
                            tc_random.Generator().manual_seed(cfg["seed"]))
    train_loader = _loader(train_set, cfg, train=True, sampler=sampler)
    per_rank = -(-len(train_set) // world_size)  # DistributedSampler pads to equal shares
    schedule = build_scheduler(cfg, optimizer, steps_per_epoch(cfg, per_rank),
                               default_monitor(val_set is not None))
    return RunParts(model, loss_fn, optimizer, schedule, train_loader,
                    _loader(val_set, cfg, False), _loader(test_set, cfg, False), device,
                    classes, metrics, callbacks, preprocessing_state(train_set))


def build_eval_run(cfg: Config, split: str, saved: dict) -> RunParts | None:
    """The parts that score ``split`` of a checkpoint without reading the training data: the
    model, the loss (with the class weights the run computed), the metrics and that split's own
    dataset, read with the training data's stored preprocessing (``from_state``). ``saved`` is
    the checkpoint's ``data`` section. None when the split is held out of the training file
    (``val_split``), which then has to be read."""
    spec = cfg["data"][split]
    if spec is None or (split == "val" and cfg["data"]["val_split"] is not None):
        return None
    tc_random.manual_seed(cfg["seed"])
    device = resolve_device(cfg["device"])
    model = build_model(cfg)
    if device.type != "cpu":
        model.to(device)
    if _stored_preprocessing(cfg, split, saved):
        dataset = _from_saved(cfg, split, saved["preprocessing"])
    else:
        dataset = build_dataset(cfg, split, extra=inherited_options(
            cfg, split, saved.get("preprocessing"), stored=True))
    loss_fn = build_loss(cfg, weights=saved.get("loss_weights"))
    loader = _loader(dataset, cfg, train=False)
    classes = saved.get("classes") or dataset_classes(dataset)
    return RunParts(model, loss_fn, None, None, None, loader if split == "val" else None,
                    loader if split == "test" else None, device, classes, build_metrics(cfg),
                    [], saved.get("preprocessing"))


def _stored_preprocessing(cfg: Config, split: str, saved: dict) -> bool:
    prep = saved.get("preprocessing")
    if not prep:
        return False
    factory = resolve_type(cfg["data"][split]["type"], "dataset", cfg, ("data", split))
    return hasattr(factory, "from_state") and prep.get("type") == factory.__name__


def _from_saved(cfg: Config, split: str, prep: dict):
    """``data.<split>`` read with the stored preprocessing instead of its ``reference``."""
    spec = cfg["data"][split]
    factory = resolve_type(spec["type"], "dataset", cfg, ("data", split))
    if "path" not in spec:
        raise cfg.error(("data", split), "needs a path to read")
    return factory.from_state(spec["path"], prep, require_target=True)


def loss_weights(loss_fn) -> dict:
    """The class weights a loss was built with (``weight``, ``pos_weight``) as lists, so a
    checkpoint keeps what ``balanced`` computed from the training data."""
    return {name: buffer.detach().reshape(-1).tolist()
            for name, buffer in getattr(loss_fn, "named_buffers", lambda: [])()
            if name in ("weight", "pos_weight") and buffer is not None}


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
        on_nan=train["on_nan"], device=parts.device, graph=train["graph"],
        callbacks=[*parts.callbacks, *callbacks],
        metric_transform=target_units(parts.train_loader.dataset),
    )


def target_units(dataset):
    """``f(output, target)`` giving both back in the target's own units when the training data
    standardised its target (``inverse_target``), else None: metrics then speak those units."""
    while not hasattr(dataset, "inverse_target") and hasattr(dataset, "dataset"):
        dataset = dataset.dataset
    if getattr(dataset, "target_stats", None) is None:
        return None
    inverse = dataset.inverse_target
    return lambda output, target: (inverse(output), inverse(target))
