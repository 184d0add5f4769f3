"""The metric protocol, function metrics, and how a model's outputs are read as classes.

A metric accumulates over an epoch (``update`` per batch) and gives one number at the end
(``compute``). Its running state lives in plain attributes (ints, floats, strings, None, lists of
them) so the Trainer can save it in a checkpoint and resume mid-epoch: never in NumPy arrays.
"""

from __future__ import annotations

import math

import numpy

from ...autograd.tensor import Tensor
from ...core import backend
from ...core.errors import ConfigError, ShapeError


class Metric:
    """Base class: ``update(pred, target)`` per batch, ``compute()`` per epoch, ``reset()``."""

    #: "max" when larger is better (accuracy), "min" when smaller is better (errors).
    mode = "max"

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, pred, target) -> None:
        raise NotImplementedError

    def compute(self) -> float:
        raise NotImplementedError

    def merge(self, other: Metric) -> None:
        """Add ``other``'s epoch state (the same metric, updated on other samples) into this
        one, so ``compute()`` gives the value over both sets of samples: how a data-parallel
        run combines its ranks' metrics before logging them.

        The state is what :meth:`reset` sets (settings given to ``__init__``, such as a
        threshold, are left alone). The default sums its ints and floats and adds its lists
        element by element (counts per class, padded with zeros to the longer one); other
        values (flags, None) take whichever side has been set. A metric whose state is not a
        set of sums (means, kept values) overrides this.

        Example:
            >>> from trainctl.training.metrics import Accuracy
            >>> a, b = Accuracy(), Accuracy()
            >>> a.correct, a.total, b.correct, b.total = 3, 4, 1, 4
            >>> a.merge(b); a.compute()
            0.5
        """
        for name in state_names(self):
            theirs, mine = getattr(other, name, None), getattr(self, name, None)
            if isinstance(theirs, bool) or not isinstance(theirs, (int, float, list)):
                if mine is None:
                    setattr(self, name, theirs)
            elif isinstance(theirs, list):
                mine = list(mine or [])
                longer = max(len(mine), len(theirs))
                mine += [0] * (longer - len(mine))
                setattr(self, name, [a + b for a, b in
                                     zip(mine, theirs + [0] * (longer - len(theirs)))])
            else:
                setattr(self, name, (mine or 0) + theirs)


def state_names(metric: Metric) -> list[str]:
    """The attributes ``metric.reset()`` sets: its epoch state, as opposed to its settings.

    Found by resetting a blank instance of the class; a ``reset`` that reads a setting cannot
    run blank, and then every attribute counts as state."""
    blank = object.__new__(type(metric))
    try:
        blank.reset()
    except AttributeError:
        return list(vars(metric))
    return list(vars(blank))


class FunctionMetric(Metric):
    """A plain function ``f(pred, target) -> float`` as a metric: the mean of its batch values,
    weighted by batch size (larger is better unless ``f.mode == "min"``)."""

    def __init__(self, fn):
        self.fn = fn
        self.mode = getattr(fn, "mode", "max")
        super().__init__()

    def reset(self):
        self.total = 0.0
        self.count = 0

    def update(self, pred, target):
        n = len(target)
        self.total += float(self.fn(pred, target)) * n
        self.count += n

    def compute(self):
        return self.total / self.count if self.count else float("nan")


def default_monitor(has_val: bool) -> str:
    """What checkpoints, early stopping and ReduceLROnPlateau watch unless told otherwise."""
    return "val/loss" if has_val else "train/loss"


def metric_mode(name: str, metrics: dict) -> str:
    """"min" or "max": which way ``name`` (``val/accuracy``, ``train/loss``) improves, given the
    run's metric objects by name (losses and unknown names improve downwards)."""
    metric = metrics.get(name.split("/")[-1])
    return getattr(metric, "mode", "min")


IGNORE_INDEX = -100


def host(x) -> numpy.ndarray:
    """A tensor's or array's values as a NumPy array on the CPU."""
    if isinstance(x, Tensor):
        x = x.array
    return numpy.asarray(backend.to_device(x, backend.CPU))


def check_threshold(threshold: float) -> float:
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be a probability strictly between 0 and 1, got "
                         f"{threshold}")
    return float(threshold)


def logit_cut(threshold: float) -> float:
    """The logit a one-output model must exceed for probability ``> threshold``: the sigmoid is
    monotonic, so ``sigmoid(z) > t`` exactly when ``z > log(t / (1 - t))``."""
    return math.log(threshold / (1.0 - threshold))


def class_inputs(pred, target, owner: str):
    """``(scores, labels)`` of a classification batch, on the CPU.

    A model with one output column (or a 1-D output) is a binary classifier: ``scores`` is its
    logit per sample, shape (N,), and float targets (0/1, any shape with N values) are read as
    ``target >= 0.5``. A model with C >= 2 columns gives ``scores`` (N, C); its targets are class
    indices, or one-hot/probability rows of the same shape (their arg-max is the class). Outputs
    with more dimensions (N, C, d1, ...) are read per position, as ``CrossEntropyLoss`` does;
    positions whose class target is -100 (its default ``ignore_index``) are left out.
    """
    p, t = host(pred), host(target)
    if p.ndim == 0:
        raise ShapeError(f"{owner}: expected model outputs of shape (N, C) or (N,), got a scalar")
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        scores = p.reshape(-1)
        if t.size != scores.size:
            raise ShapeError(f"{owner}: {scores.size} binary outputs but {t.size} targets")
        labels = t.reshape(-1)
        if labels.dtype.kind == "f":
            labels = labels >= 0.5
        elif labels.size and (labels.min() < 0 or labels.max() > 1):
            raise ShapeError(f"{owner}: a one-output (binary) model needs targets 0 or 1, got "
                             f"{labels.min()}..{labels.max()}")
        return scores, labels.astype(numpy.int64)
    if p.ndim > 2:  # (N, C, d1, ...) -> one row of C scores per position
        if t.shape == p.shape and t.dtype.kind == "f":
            t = numpy.moveaxis(t, 1, -1).reshape(-1, p.shape[1])
        p = numpy.moveaxis(p, 1, -1).reshape(-1, p.shape[1])
    if t.shape == p.shape and t.dtype.kind == "f":
        t = t.argmax(axis=1)  # one-hot or probability targets
    labels = t.reshape(-1)
    if labels.size != p.shape[0]:
        raise ShapeError(f"{owner}: {p.shape[0]} rows of class scores but {labels.size} targets")
    if labels.dtype.kind == "f":
        if labels.size and not numpy.array_equal(labels, numpy.round(labels)):
            raise ShapeError(f"{owner}: class targets must be class indices, got fractional "
                             "values")
    labels = labels.astype(numpy.int64)
    kept = labels != IGNORE_INDEX
    if not kept.all():
        p, labels = p[kept], labels[kept]
    if labels.size and (labels.min() < 0 or labels.max() >= p.shape[1]):
        raise ShapeError(f"{owner}: targets must be class indices 0..{p.shape[1] - 1} for a "
                         f"model with {p.shape[1]} outputs, got {labels.min()}..{labels.max()}")
    return p, labels


def predicted_labels(scores: numpy.ndarray, threshold: float) -> numpy.ndarray:
    """Class predictions: logit above the threshold's logit (one output), else the arg-max."""
    if scores.ndim == 1:
        return (scores > logit_cut(threshold)).astype(numpy.int64)
    return scores.argmax(axis=1)


def softmax(scores: numpy.ndarray) -> numpy.ndarray:
    """Row-wise softmax in float64 (the probabilities ROC/PR curves rank for C classes)."""
    z = scores.astype(numpy.float64)
    e = numpy.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def refuse(owner: str, message: str) -> ConfigError:
    """The error of a metric that does not fit the model it is given (raised at its first
    batch: the metric learns the model's output width only then)."""
    return ConfigError(f"{owner}: {message}")
