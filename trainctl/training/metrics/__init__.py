"""Metrics a config can ask for (``train: {metrics: [accuracy, {type: f1, average: macro}]}``),
computed over an epoch.

Each is registered under its config name (``@register("metric", "f1")``), so a metric a user
registers the same way is built, checked, logged (``val/f1``) and monitored exactly like these.
Each accumulates over the epoch (``update`` per batch) and gives the epoch's value at the end
(``compute``), so the number does not depend on how the data was batched: accuracy over an epoch
is correct / total, not a mean of batch accuracies. Every value equals scikit-learn's on the same
predictions (``tests/golden/metrics.json``).

- ``accuracy`` (``threshold=0.5``), ``balanced_accuracy`` (``threshold=0.5``);
- ``topk_accuracy`` (``k=5``, at most the model's number of classes: torchmetrics refuses more
  too, where scikit-learn would report a meaningless 1.0);
- ``precision``, ``recall``, ``f1`` (``average="auto"``: binary for a one-output model, macro
  otherwise; or ``macro``, ``micro``, ``weighted``, ``binary``; ``threshold=0.5``,
  ``pos_label=1``);
- ``auroc``, ``average_precision`` (binary; one-vs-rest macro average for C classes);
- ``mae``, ``mse``, ``rmse``, ``r2`` (per output column, averaged over the columns);
- ``sequence_accuracy``, ``perplexity`` (per-position outputs (N, C, T), see ``sequence.py``).

Classification inputs: a one-output model, (N, 1) or (N,), is binary and its output a logit
(class 1 when ``sigmoid(logit) > threshold``), with 0/1 targets (int or float); a model with C
outputs predicts its arg-max, with class-index targets (N,). Regression: (N, k) outputs and
targets.

Example:
    >>> import trainctl as tc
    >>> m = Accuracy()
    >>> m.update(tc.tensor([[0.1, 0.9], [0.8, 0.2]]), tc.tensor([1, 1]))
    >>> m.compute()
    0.5
"""

from .base import FunctionMetric, Metric, default_monitor, metric_mode
from .classification import (
    F1,
    Accuracy,
    BalancedAccuracy,
    Precision,
    Recall,
    TopKAccuracy,
    classification_report,
)
from .ranking import (
    AUROC,
    AveragePrecision,
    average_precision,
    precision_recall_curve,
    roc_auc,
    roc_curve,
)
from .regression import MAE, MSE, R2, RMSE
from .sequence import Perplexity, SequenceAccuracy

__all__ = [
    "AUROC", "F1", "MAE", "MSE", "R2", "RMSE", "Accuracy", "AveragePrecision", "BalancedAccuracy",
    "FunctionMetric", "Metric", "Perplexity", "Precision", "Recall", "SequenceAccuracy",
    "TopKAccuracy", "average_precision",
    "classification_report", "default_monitor", "metric_mode", "precision_recall_curve",
    "roc_auc", "roc_curve",
]
