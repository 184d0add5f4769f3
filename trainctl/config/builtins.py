"""Registers the library's components under their PyTorch names (run on first registry lookup).

Layers and models, losses, optimizers, schedulers, datasets and transforms are found by walking
their packages, so a new layer written in ``trainctl/nn/modules`` is nameable in a config without
touching this file. Metrics and callbacks live above this layer and register themselves (see
``registry.py``).
"""

from __future__ import annotations

import inspect


def _subclasses(namespace, bases, names=None):
    """(name, class) for every public class of ``namespace`` derived from one of ``bases``."""
    for name in names if names is not None else dir(namespace):
        obj = getattr(namespace, name)
        if (not name.startswith("_") and inspect.isclass(obj) and issubclass(obj, bases)
                and obj not in bases):
            yield name, obj


def _nn():
    from .. import nn
    from ..nn import models

    for name, cls in _subclasses(nn, (nn.Module,)):
        yield ("loss" if name.endswith("Loss") else "model"), name, cls
    for name, cls in _subclasses(models, (nn.Module,)):
        yield "model", name, cls


def _optim():
    from .. import optim
    from ..optim import lr_scheduler

    for name, cls in _subclasses(optim, (optim.Optimizer,)):
        yield "optimizer", name, cls
    bases = (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)
    for name, cls in _subclasses(lr_scheduler, bases):
        yield "scheduler", name, cls
    yield "scheduler", "ReduceLROnPlateau", lr_scheduler.ReduceLROnPlateau


def _data():
    from .. import data
    from ..data import transforms

    for name, cls in _subclasses(data, (data.Dataset,)):
        yield "dataset", name, cls
    for name, cls in _subclasses(data, (data.Sampler,)):
        if name != "BatchSampler":  # a config's sampler draws indices; batching is the loader's
            yield "sampler", name, cls
    for name, cls in _subclasses(transforms, (object,), transforms.__all__):
        yield "transform", name, cls


def register_library(registries: dict) -> None:
    """Fill ``registries`` (kind -> Registry) with every component of nn, optim and data."""
    for walk in (_nn, _optim, _data):
        for kind, name, obj in walk():
            registries[kind].add(name, obj)
