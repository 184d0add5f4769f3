"""Classification metrics from counts: accuracy, top-k accuracy, precision, recall, F1,
balanced accuracy, and the per-class report of ``trainctl eval``.

Each keeps per-class counts over the epoch (true positives, predictions and targets per class), so
the value does not depend on how the data was batched, and equals scikit-learn's on the same
predictions: classes that appear in neither the targets nor the predictions are left out of a
macro average (scikit-learn's ``unique_labels``), and a ratio with a zero denominator is 0
(its ``zero_division`` default).

A model with one output column is a binary classifier whose output is a logit: it predicts class
1 when ``sigmoid(logit) > threshold``. A model with C >= 2 columns predicts its arg-max.

Example:
    >>> import trainctl as tc
    >>> f1 = F1(average="macro")
    >>> f1.update(tc.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0]]), tc.tensor([0, 0, 1]))
    >>> round(f1.compute(), 4)
    0.6667
"""

from __future__ import annotations

import numpy

from ...config.registry import register
from .base import Metric, check_threshold, class_inputs, host, predicted_labels, refuse

AVERAGES = ("auto", "macro", "micro", "weighted", "binary")


def _grow(counts: list, more: numpy.ndarray) -> list:
    counts = counts + [0] * (len(more) - len(counts))
    return [c + int(m) for c, m in zip(counts, numpy.pad(more, (0, len(counts) - len(more))))]


def class_counts(labels: numpy.ndarray, predicted: numpy.ndarray, n_classes: int):
    """Per class: (true positives, predictions, targets), as int arrays of ``n_classes``."""
    n = max(n_classes, int(labels.max(initial=-1)) + 1, int(predicted.max(initial=-1)) + 1)
    hits = labels[labels == predicted]
    return (numpy.bincount(hits, minlength=n), numpy.bincount(predicted, minlength=n),
            numpy.bincount(labels, minlength=n))


def _ratio(num, den) -> numpy.ndarray:
    num, den = numpy.asarray(num, dtype=numpy.float64), numpy.asarray(den, dtype=numpy.float64)
    return numpy.divide(num, den, out=numpy.zeros_like(num), where=den > 0)


def per_class_scores(tp, predicted, actual) -> dict:
    """Precision, recall and F1 per class (0 where undefined, as scikit-learn's default)."""
    tp, predicted, actual = (numpy.asarray(a, dtype=numpy.float64) for a in (tp, predicted,
                                                                           actual))
    return {"precision": _ratio(tp, predicted), "recall": _ratio(tp, actual),
            "f1": _ratio(2 * tp, predicted + actual)}


class _Fraction(Metric):
    """A metric that counts hits: ``correct / total`` over the epoch."""

    def reset(self):
        self.correct = 0
        self.total = 0

    def compute(self):
        return self.correct / self.total if self.total else float("nan")


@register("metric", "accuracy")
class Accuracy(_Fraction):
    """Fraction of samples whose predicted class is the target (one-logit models: sigmoid >
    ``threshold``)."""

    def __init__(self, threshold: float = 0.5):
        self.threshold = check_threshold(threshold)
        super().__init__()

    def update(self, pred, target):
        scores, labels = class_inputs(pred, target, "accuracy")
        self.correct += int((predicted_labels(scores, self.threshold) == labels).sum())
        self.total += int(labels.size)


@register("metric", "topk_accuracy")
class TopKAccuracy(_Fraction):
    """Fraction of samples whose target is among the ``k`` highest scores (k <= classes)."""

    def __init__(self, k: int = 5):
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.k = k
        super().__init__()

    def update(self, pred, target):
        p, t = host(pred), host(target)
        if p.ndim != 2 or p.shape[1] < 2:
            raise refuse("topk_accuracy", f"needs one score per class, (N, C) with C >= 2; the "
                                          f"model gives {tuple(p.shape)}")
        if self.k > p.shape[1]:  # torchmetrics refuses too; k >= C would score 1.0 for nothing
            raise refuse("topk_accuracy", f"k={self.k} but the model scores {p.shape[1]} "
                                          f"classes; set k to at most {p.shape[1]}")
        scores, labels = class_inputs(p, t, "topk_accuracy")
        own = scores[numpy.arange(len(labels)), labels][:, None]
        # The target's rank, ties broken towards the higher class index (scikit-learn's order).
        higher = numpy.arange(scores.shape[1])[None, :] > labels[:, None]
        rank = (scores > own).sum(axis=1) + ((scores == own) & higher).sum(axis=1)
        self.correct += int((rank < self.k).sum())
        self.total += int(labels.size)


class _ClassCounts(Metric):
    """Per-class counts over the epoch; subclasses turn them into one number.

    ``average``: ``macro`` (mean over classes), ``micro`` (from the summed counts), ``weighted``
    (mean weighted by each class's number of targets), ``binary`` (class ``pos_label`` only;
    binary models), or ``auto``: binary for a one-output model, macro otherwise.
    """

    def __init__(self, average: str = "auto", threshold: float = 0.5, pos_label: int = 1):
        if average not in AVERAGES:
            raise ValueError(f"average must be one of {', '.join(AVERAGES)}, got {average!r}")
        if pos_label < 0:
            raise ValueError(f"pos_label must be a class index, got {pos_label}")
        self.average = average
        self.threshold = check_threshold(threshold)
        self.pos_label = pos_label
        super().__init__()

    def reset(self):
        self.tp: list = []
        self.predicted: list = []
        self.actual: list = []
        self.binary = None  # a one-output model, known from the first batch

    def update(self, pred, target):
        scores, labels = class_inputs(pred, target, self.name)
        guess = predicted_labels(scores, self.threshold)
        n_classes = 2 if scores.ndim == 1 else scores.shape[1]
        if self.average == "binary" and n_classes > 2:
            raise refuse(self.name, f"average 'binary' needs a binary model (one output, or two "
                                    f"classes); this one scores {n_classes} classes: use macro, "
                                    "micro or weighted")
        self.binary = scores.ndim == 1
        tp, predicted, actual = class_counts(labels, guess, n_classes)
        self.tp = _grow(self.tp, tp)
        self.predicted = _grow(self.predicted, predicted)
        self.actual = _grow(self.actual, actual)

    def compute(self):
        if not sum(self.actual):
            return float("nan")
        tp, predicted, actual = (numpy.asarray(a, dtype=numpy.float64)
                                 for a in (self.tp, self.predicted, self.actual))
        average = self.average
        if average == "auto":
            average = "binary" if self.binary else "macro"
        if average == "binary":
            if self.pos_label >= len(tp):
                return 0.0
            keep = numpy.arange(len(tp)) == self.pos_label
        else:  # the classes that occur, as targets or as predictions
            keep = (actual > 0) | (predicted > 0)
        tp, predicted, actual = tp[keep], predicted[keep], actual[keep]
        if average == "micro":
            return float(self.score(*(numpy.array([a.sum()]) for a in (tp, predicted,
                                                                          actual)))[0])
        values = self.score(tp, predicted, actual)
        if average == "weighted":
            return float((values * actual).sum() / actual.sum()) if actual.sum() else 0.0
        return float(values.mean())

    def score(self, tp, predicted, actual) -> numpy.ndarray:
        raise NotImplementedError


@register("metric", "precision")
class Precision(_ClassCounts):
    """Of the samples predicted as a class, the fraction that are (average: auto, macro,
    micro, weighted, binary)."""

    name = "precision"

    def score(self, tp, predicted, actual):
        return per_class_scores(tp, predicted, actual)["precision"]


@register("metric", "recall")
class Recall(_ClassCounts):
    """Of the samples of a class, the fraction predicted as it (average: auto, macro, micro,
    weighted, binary)."""

    name = "recall"

    def score(self, tp, predicted, actual):
        return per_class_scores(tp, predicted, actual)["recall"]


@register("metric", "f1")
class F1(_ClassCounts):
    """Harmonic mean of precision and recall (average: auto, macro, micro, weighted,
    binary)."""

    name = "f1"

    def score(self, tp, predicted, actual):
        return per_class_scores(tp, predicted, actual)["f1"]


@register("metric", "balanced_accuracy")
class BalancedAccuracy(_ClassCounts):
    """Mean recall over the classes that occur in the targets (robust to class imbalance)."""

    name = "balanced_accuracy"

    def __init__(self, threshold: float = 0.5):
        super().__init__("macro", threshold)

    def compute(self):
        actual = numpy.asarray(self.actual, dtype=numpy.float64)
        if not actual.sum():
            return float("nan")
        recall = _ratio(self.tp, actual)
        return float(recall[actual > 0].mean())


def classification_report(labels, predicted, names: list[str]) -> dict:
    """Per-class precision, recall, F1 and support over every class of ``names``, with accuracy
    and the macro and support-weighted averages: scikit-learn's ``classification_report(...,
    labels=range(len(names)), output_dict=True, zero_division=0)``, in a nested form.

    Example:
        >>> import numpy
        >>> r = classification_report(numpy.array([0, 1, 1]), numpy.array([0, 1, 0]), ["a", "b"])
        >>> r["per_class"]["b"]["recall"], r["per_class"]["b"]["support"], r["accuracy"]
        (0.5, 2, 0.6666666666666666)
    """
    labels, predicted = numpy.asarray(labels), numpy.asarray(predicted)
    tp, n_pred, actual = class_counts(labels, predicted, len(names))
    scores = per_class_scores(tp, n_pred, actual)
    keys = ("precision", "recall", "f1")
    per_class = {name: {**{k: float(scores[k][i]) for k in keys}, "support": int(actual[i])}
                 for i, name in enumerate(names)}
    total = int(actual.sum())
    weights = actual / total if total else numpy.zeros(len(actual))
    return {
        "per_class": per_class,
        "accuracy": float(tp.sum() / total) if total else 0.0,
        "macro_avg": {**{k: float(scores[k][:len(names)].mean()) for k in keys},
                      "support": total},
        "weighted_avg": {**{k: float((scores[k] * weights).sum()) for k in keys},
                         "support": total},
    }
