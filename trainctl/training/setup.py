"""Everything a run needs, built from its config: model, loss, optimizer, scheduler, loaders."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Config
from ..config.build import (
    build_component,
    build_dataset,
    build_loss,
    build_model,
    build_optimizer,
    build_scheduler,
)
from ..config.registry import registry
from ..core import backend
from ..core import random as tc_random
from ..core.errors import ConfigError


@dataclass
class RunParts:
    model: object
    loss_fn: object
    optimizer: object
    scheduler: object
    train_loader: object
    val_loader: object
    test_loader: object
    device: backend.device
    classes: list | None

    def to_device(self, t):
        if self.device.type == "cpu":
            return t
        return t.to(self.device)


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
    split = cfg["data"]["val_split"]
    if split is not None:
        n_val = int(round(len(train) * split))
        if n_val < 1 or n_val >= len(train):
            raise cfg.error(("data", "val_split"),
                            f"holds out {n_val} of {len(train)} samples; choose a fraction that "
                            "leaves both parts non-empty")
        generator = tc_random.Generator().manual_seed(cfg["seed"])
        train, val = random_split(train, [len(train) - n_val, n_val], generator=generator)
    return train, val, test


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


def build_run(cfg: Config, trust_code: bool = True, download: bool = True) -> RunParts:
    """Seed, then build every part of the run in a fixed order (so seeds give equal runs)."""
    for i, name in enumerate(cfg["train"]["metrics"]):
        try:
            registry("metric").get(name)
        except ConfigError as e:
            raise cfg.error(("train", "metrics", i), str(e)) from None
    device = resolve_device(cfg["device"])
    tc_random.manual_seed(cfg["seed"])
    model = build_model(cfg, trust_code=trust_code)
    if device.type != "cpu":
        model.to(device)
    loss_fn = build_loss(cfg)
    optimizer = build_optimizer(cfg, model)
    train_set, val_set, test_set = build_datasets(cfg, download)
    train_loader = _loader(train_set, cfg, train=True)
    scheduler = build_scheduler(cfg, optimizer, steps_per_epoch=_steps(train_loader, cfg))
    return RunParts(model, loss_fn, optimizer, scheduler, train_loader,
                    _loader(val_set, cfg, False), _loader(test_set, cfg, False), device,
                    dataset_classes(train_set))


def _steps(loader, cfg: Config) -> int:
    import math

    return math.ceil(len(loader) / cfg["train"]["accumulate_grad_batches"])


__all__ = ["RunParts", "build_run", "build_datasets", "resolve_device", "build_component"]
