"""Metrics for per-position classifiers (sequence tasks, language models).

Outputs are (N, C, T) class scores (``CrossEntropyLoss``'s layout) with (N, T) class-index
targets; positions whose target is -100 (the loss's ``ignore_index``) count for nothing.

- ``sequence_accuracy``: the fraction of sequences with every counted position right;
- ``perplexity``: ``exp`` of the mean cross-entropy per counted token (lower is better).

Example:
    >>> import trainctl as tc
    >>> m = SequenceAccuracy()
    >>> scores = tc.tensor([[[5., 0.], [0., 5.]], [[5., 5.], [0., 0.]]])  # (N=2, C=2, T=2)
    >>> m.update(scores, tc.tensor([[0, 1], [0, 1]]))
    >>> m.compute()
    0.5
"""

from __future__ import annotations

import math

import numpy

from ...config.registry import register
from ...core.errors import ShapeError
from .base import IGNORE_INDEX, Metric, host


def _sequence_inputs(pred, target, owner: str):
    """(scores (N, C, T), targets (N, T) int64) of a batch, checked."""
    p, t = host(pred), host(target).astype(numpy.int64)
    if p.ndim == 2:  # one position per sample: (N, C) and (N,)
        p, t = p[:, :, None], t.reshape(-1, 1)
    if p.ndim != 3 or t.shape != (p.shape[0], p.shape[2]):
        raise ShapeError(f"{owner}: expected (N, C, T) scores and (N, T) targets, got "
                         f"{tuple(p.shape)} and {tuple(t.shape)} (end a model whose output is "
                         "(N, T, C) with Permute([0, 2, 1]))")
    kept = t != IGNORE_INDEX
    if kept.any() and (t[kept].min() < 0 or t[kept].max() >= p.shape[1]):
        raise ShapeError(f"{owner}: targets must be class indices 0..{p.shape[1] - 1}, got "
                         f"{t[kept].min()}..{t[kept].max()}")
    return p, t, kept


@register("metric", "sequence_accuracy")
class SequenceAccuracy(Metric):
    """The fraction of sequences whose every position (targets of -100 left out) is the
    arg-max class."""

    def reset(self):
        self.correct = 0
        self.total = 0

    def update(self, pred, target):
        p, t, kept = _sequence_inputs(pred, target, "sequence_accuracy")
        right = (p.argmax(axis=1) == t) | ~kept
        self.correct += int(right.all(axis=1).sum())
        self.total += int(t.shape[0])

    def compute(self):
        return self.correct / self.total if self.total else float("nan")


@register("metric", "perplexity")
class Perplexity(Metric):
    """``exp(mean cross-entropy)`` over every counted token of the epoch: a language model's
    usual score (the vocabulary size for a uniform guess, 1 for a perfect one)."""

    mode = "min"

    def reset(self):
        self.nll = 0.0
        self.tokens = 0

    def update(self, pred, target):
        p, t, kept = _sequence_inputs(pred, target, "perplexity")
        z = p.astype(numpy.float64)
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - numpy.log(numpy.exp(z).sum(axis=1, keepdims=True))
        picked = numpy.take_along_axis(log_p, numpy.where(kept, t, 0)[:, None, :], axis=1)[:, 0]
        self.nll -= float(picked[kept].sum())
        self.tokens += int(kept.sum())

    def compute(self):
        return math.exp(self.nll / self.tokens) if self.tokens else float("nan")
