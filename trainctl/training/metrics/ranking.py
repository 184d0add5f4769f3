"""Ranking metrics: area under the ROC curve and average precision, and their curves.

They rank every score of the epoch, so the metric keeps them all (as lists of floats: a
checkpoint can hold them, and the result is exact, equal to scikit-learn's ``roc_auc_score`` and
``average_precision_score``, ties included). A one-output model is ranked by its logit (the
sigmoid is monotonic, so the order is the same); a model with C >= 2 outputs is scored one class
against the rest on its softmax probabilities, and the classes are averaged (macro).

Example:
    >>> import numpy
    >>> roc_auc(numpy.array([0, 0, 1, 1]), numpy.array([0.1, 0.4, 0.35, 0.8]))
    0.75
"""

from __future__ import annotations

import numpy

from ...config.registry import register
from .base import Metric, class_inputs, refuse, softmax


def _counts_at_thresholds(labels: numpy.ndarray, scores: numpy.ndarray):
    """(false positives, true positives, threshold) at each distinct score, highest first."""
    order = numpy.argsort(scores, kind="mergesort")[::-1]
    scores, labels = scores[order], labels[order]
    ends = numpy.r_[numpy.flatnonzero(numpy.diff(scores)), scores.size - 1]
    tps = numpy.cumsum(labels, dtype=numpy.float64)[ends]
    return ends + 1 - tps, tps, scores[ends]


def roc_curve(labels, scores):
    """``(fpr, tpr, thresholds)`` of binary ``labels`` (0/1) ranked by ``scores``, from (0, 0)
    to (1, 1); needs both classes among the labels."""
    fps, tps, thresholds = _counts_at_thresholds(numpy.asarray(labels), numpy.asarray(scores))
    fpr = numpy.r_[0.0, fps / fps[-1]]
    tpr = numpy.r_[0.0, tps / tps[-1]]
    return fpr, tpr, numpy.r_[numpy.inf, thresholds]


def precision_recall_curve(labels, scores):
    """``(precision, recall, thresholds)``, one point per distinct score from the highest
    (recall rising) until every positive is found (lower thresholds only add false
    positives, as in scikit-learn); needs at least one positive label."""
    fps, tps, thresholds = _counts_at_thresholds(numpy.asarray(labels), numpy.asarray(scores))
    end = int(numpy.searchsorted(tps, tps[-1])) + 1
    fps, tps = fps[:end], tps[:end]
    return tps / (tps + fps), tps / tps[-1], thresholds[:end]


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve (ties count half); NaN unless both classes occur."""
    if not 0 < int(numpy.sum(labels)) < len(labels):
        return float("nan")
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(numpy.sum(numpy.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def average_precision(labels, scores) -> float:
    """Sum over thresholds of precision times the rise in recall; NaN without a positive
    (scikit-learn warns and gives 0 there)."""
    if not int(numpy.sum(labels)):
        return float("nan")
    precision, recall, _ = precision_recall_curve(labels, scores)
    return float(numpy.sum(numpy.diff(numpy.r_[0.0, recall]) * precision))


class _Ranking(Metric):
    """Keeps every score and target of the epoch; a subclass names the binary score."""

    name = ""

    def reset(self):
        self.scores: list = []  # flat: N logits, or N rows of C probabilities
        self.labels: list = []
        self.n_classes = None  # 1 for a one-output model

    def update(self, pred, target):
        scores, labels = class_inputs(pred, target, self.name)
        n = 1 if scores.ndim == 1 else scores.shape[1]
        if self.n_classes is not None and n != self.n_classes:
            raise refuse(self.name, f"the model gave {self.n_classes} outputs, then {n}")
        self.n_classes = n
        values = scores if n == 1 else softmax(scores)
        self.scores.extend(values.astype(numpy.float64).reshape(-1).tolist())
        self.labels.extend(labels.tolist())

    def merge(self, other):
        """Keep both sets of scores (the curves need every one)."""
        self.scores = self.scores + other.scores
        self.labels = self.labels + other.labels
        if self.n_classes is None:
            self.n_classes = other.n_classes

    def compute(self):
        if not self.labels:
            return float("nan")
        labels = numpy.asarray(self.labels, dtype=numpy.int64)
        scores = numpy.asarray(self.scores, dtype=numpy.float64)
        if self.n_classes == 1:
            return self.binary(labels, scores)
        scores = scores.reshape(len(labels), self.n_classes)
        per_class = [self.binary((labels == c).astype(numpy.int64), scores[:, c])
                     for c in range(self.n_classes)]
        defined = [v for v in per_class if v == v]  # a class without targets has no curve
        return float(numpy.mean(defined)) if defined else float("nan")

    @staticmethod
    def binary(labels, scores) -> float:
        raise NotImplementedError


@register("metric", "auroc")
class AUROC(_Ranking):
    """Area under the ROC curve (binary; one-vs-rest macro average over C classes)."""

    name = "auroc"
    binary = staticmethod(roc_auc)


@register("metric", "average_precision")
class AveragePrecision(_Ranking):
    """Area under the precision-recall curve as a step sum (binary; one-vs-rest macro over C
    classes)."""

    name = "average_precision"
    binary = staticmethod(average_precision)
