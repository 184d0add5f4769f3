"""Registers every built-in component under its PyTorch name (run on first registry lookup).

Layers and models, losses, optimizers, schedulers, datasets, transforms and metrics are found by
walking their packages, so a new layer written in ``trainctl/nn/modules`` is nameable in a config
without touching this file.
"""

from __future__ import annotations

import inspect

from .registry import REGISTRIES


def _classes(namespace, base):
    for name in dir(namespace):
        obj = getattr(namespace, name)
        if inspect.isclass(obj) and issubclass(obj, base) and obj is not base:
            if not name.startswith("_"):
                yield name, obj


def _register_nn():
    from .. import nn
    from ..nn import models

    for name, cls in _classes(nn, nn.Module):
        kind = "loss" if name.endswith("Loss") else "model"
        REGISTRIES[kind].add(name, cls)
    for name, cls in _classes(models, nn.Module):
        REGISTRIES["model"].add(name, cls)


def _register_optim():
    from .. import optim

    base = getattr(optim, "Optimizer", None)
    if base is not None:
        for name, cls in _classes(optim, base):
            REGISTRIES["optimizer"].add(name, cls)
    sched = getattr(optim, "lr_scheduler", None)
    if sched is not None:
        bases = tuple(b for b in (getattr(sched, "LRScheduler", None),
                                  getattr(sched, "ReduceLROnPlateau", None)) if b is not None)
        for name in dir(sched):
            obj = getattr(sched, name)
            if (inspect.isclass(obj) and bases and issubclass(obj, bases)
                    and name not in ("LRScheduler", "_LRScheduler") and not name.startswith("_")):
                REGISTRIES["scheduler"].add(name, obj)


def _register_data():
    from .. import data

    base = getattr(data, "Dataset", None)
    if base is not None:
        for name, cls in _classes(data, base):
            REGISTRIES["dataset"].add(name, cls)
    transforms = getattr(data, "transforms", None)
    if transforms is not None:
        for name in getattr(transforms, "__all__", dir(transforms)):
            obj = getattr(transforms, name)
            if inspect.isclass(obj) and not name.startswith("_"):
                REGISTRIES["transform"].add(name, obj)


def _register_metrics():
    try:
        from ..training import metrics
    except ImportError:
        return
    for name, fn in metrics.METRICS.items():
        REGISTRIES["metric"].add(name, fn)


_register_nn()
_register_optim()
_register_data()
_register_metrics()
