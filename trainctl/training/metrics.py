"""Metrics a config can ask for (``train: {metrics: [accuracy, rmse]}``), computed over an epoch.

Each is registered under its config name (``@register("metric", "accuracy")``), so a metric a user
registers the same way is built, checked, logged and monitored exactly like these.

Each metric accumulates sums batch by batch (``update``) and gives the epoch's value at the end
(``compute``), so the number does not depend on how the data was batched: accuracy over an epoch is
correct / total, not a mean of batch accuracies.

Example:
    >>> import trainctl as tc
    >>> m = Accuracy()
    >>> m.update(tc.tensor([[0.1, 0.9], [0.8, 0.2]]), tc.tensor([1, 1]))
    >>> m.compute()
    0.5
"""

from __future__ import annotations

import math

from ..config.registry import register
from ..core.backend import get_array_module


def _arrays(pred, target):
    p = pred.data if hasattr(pred, "data") else pred
    t = target.data if hasattr(target, "data") else target
    return p, t


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


class _Fraction(Metric):
    """A metric that counts hits: ``correct / total`` over the epoch."""

    def reset(self):
        self.correct = 0
        self.total = 0

    def compute(self):
        return self.correct / self.total if self.total else float("nan")


@register("metric", "accuracy")
class Accuracy(_Fraction):
    """Fraction of samples whose arg-max class equals the target (class indices, or one-hot /
    probability targets; a single logit column is read as binary with threshold 0)."""

    def update(self, pred, target):
        p, t = _arrays(pred, target)
        xp = get_array_module(p)
        if p.ndim >= 2 and p.shape[1] == 1 and t.ndim < p.ndim:
            guess = (p[:, 0] > 0).astype(xp.int64)
        elif p.ndim >= 2:
            guess = p.argmax(axis=1)
        else:
            guess = (p > 0).astype(xp.int64)
        if t.ndim == p.ndim and p.ndim >= 2 and t.shape == p.shape and t.dtype.kind == "f":
            t = t.argmax(axis=1)  # probability / one-hot targets
        t = t.reshape(guess.shape)
        self.correct += int((guess == t).sum())
        self.total += int(guess.size)


@register("metric", "topk_accuracy")
class TopKAccuracy(_Fraction):
    """Fraction of samples whose target is among the ``k`` highest scores (default 5)."""

    def __init__(self, k: int = 5):
        self.k = k
        super().__init__()

    def update(self, pred, target):
        p, t = _arrays(pred, target)
        xp = get_array_module(p)
        k = min(self.k, p.shape[1])
        top = xp.argpartition(-p, k - 1, axis=1)[:, :k]
        self.correct += int((top == t.reshape(-1, 1)).any(axis=1).sum())
        self.total += int(t.size)


class _ErrorSums(Metric):
    mode = "min"

    def reset(self):
        self.abs_sum = 0.0
        self.sq_sum = 0.0
        self.count = 0
        self.target_sum = 0.0
        self.target_sq_sum = 0.0

    def update(self, pred, target):
        p, t = _arrays(pred, target)
        t = t.reshape(p.shape) if t.size == p.size else t
        err = (p - t).astype("float64")
        self.abs_sum += float(abs(err).sum())
        self.sq_sum += float((err * err).sum())
        self.count += int(err.size)
        t64 = t.astype("float64")
        self.target_sum += float(t64.sum())
        self.target_sq_sum += float((t64 * t64).sum())


@register("metric", "mae")
class MAE(_ErrorSums):
    """Mean absolute error over all elements."""

    def compute(self):
        return self.abs_sum / self.count if self.count else float("nan")


@register("metric", "rmse")
class RMSE(_ErrorSums):
    """Root mean squared error over all elements."""

    def compute(self):
        return math.sqrt(self.sq_sum / self.count) if self.count else float("nan")


@register("metric", "r2")
class R2(_ErrorSums):
    """Coefficient of determination: 1 - SSE / total sum of squares of the targets."""

    mode = "max"

    def compute(self):
        if not self.count:
            return float("nan")
        mean = self.target_sum / self.count
        total = self.target_sq_sum - self.count * mean * mean
        return 1.0 - self.sq_sum / total if total > 0 else float("nan")


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
