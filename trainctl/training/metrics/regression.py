"""Regression metrics: MAE, MSE, RMSE and R², per output column, averaged over the columns.

Each keeps the sums of absolute and squared errors, and per output column the squared errors and
the targets' running mean and sum of squared deviations (merged batch by batch with Chan et al.'s
update, which does not lose precision when targets have a large mean), so the epoch's value
equals scikit-learn's ``mean_absolute_error``, ``mean_squared_error``,
``root_mean_squared_error`` and ``r2_score`` (``multioutput="uniform_average"``) on all its
rows, however it was batched.

Example:
    >>> import trainctl as tc
    >>> m = MAE()
    >>> m.update(tc.tensor([[1.0], [2.0]]), tc.tensor([1.5, 2.0]))
    >>> m.compute()
    0.25
"""

from __future__ import annotations

import numpy

from ...config.registry import register
from ...core.errors import ShapeError
from .base import Metric, host


def regression_inputs(pred, target, owner: str):
    """``(pred, target)`` as float64 arrays of shape (N, outputs)."""
    p = host(pred).astype(numpy.float64)
    t = host(target).astype(numpy.float64)
    if p.size != t.size:
        raise ShapeError(f"{owner}: the model gives {p.size} values but the targets have "
                         f"{t.size} ({tuple(p.shape)} vs {tuple(t.shape)})")
    p = p.reshape(len(p), -1) if p.ndim else p.reshape(1, 1)
    return p, t.reshape(p.shape)


class _Residuals(Metric):
    """The sums all four metrics are computed from: totals over every value (numbers), and
    per output column the squared errors and the targets' mean and squared deviations."""

    mode = "min"
    name = ""

    def reset(self):
        self.count = 0  # values: rows x output columns
        self.abs_sum = 0.0
        self.sq_sum = 0.0
        self.column_sq_sum: list = []
        self.target_mean: list = []
        self.target_m2: list = []

    def update(self, pred, target):
        p, t = regression_inputs(pred, target, self.name)
        n, k = t.shape
        if not n:
            return
        if not self.column_sq_sum:
            self.column_sq_sum, self.target_mean, self.target_m2 = ([0.0] * k for _ in range(3))
        if k != len(self.column_sq_sum):
            raise ShapeError(f"{self.name}: the model gave {len(self.column_sq_sum)} outputs, "
                             f"then {k}")
        rows = self.count // k
        err = p - t
        mean_b = t.mean(axis=0)
        m2_b = ((t - mean_b) ** 2).sum(axis=0)
        mean = numpy.asarray(self.target_mean)
        delta = mean_b - mean
        self.target_m2 = (numpy.asarray(self.target_m2) + m2_b
                          + delta * delta * rows * n / (rows + n)).tolist()
        self.target_mean = (mean + delta * n / (rows + n)).tolist()
        column_sq = (err * err).sum(axis=0)
        self.column_sq_sum = (numpy.asarray(self.column_sq_sum) + column_sq).tolist()
        self.abs_sum += float(numpy.abs(err).sum())
        self.sq_sum += float(column_sq.sum())
        self.count += n * k

    def merge(self, other):
        """Combine two sets of rows: sums add; the targets' means and squared deviations
        combine as in Chan et al.'s parallel variance."""
        if not other.count:
            return
        if not self.count:
            vars(self).update({k: (list(v) if isinstance(v, list) else v)
                               for k, v in vars(other).items()})
            return
        a, b = self.rows(), other.rows()
        mean_a, mean_b = numpy.asarray(self.target_mean), numpy.asarray(other.target_mean)
        delta = mean_b - mean_a
        self.target_m2 = (numpy.asarray(self.target_m2) + numpy.asarray(other.target_m2)
                          + delta * delta * a * b / (a + b)).tolist()
        self.target_mean = (mean_a + delta * b / (a + b)).tolist()
        self.column_sq_sum = (numpy.asarray(self.column_sq_sum)
                              + numpy.asarray(other.column_sq_sum)).tolist()
        self.abs_sum += other.abs_sum
        self.sq_sum += other.sq_sum
        self.count += other.count

    def rows(self) -> int:
        return self.count // len(self.column_sq_sum) if self.column_sq_sum else 0

    def compute(self):
        return self.value() if self.count else float("nan")

    def value(self) -> float:
        raise NotImplementedError


@register("metric", "mae")
class MAE(_Residuals):
    """Mean absolute error (over every output column: their uniform average)."""

    name = "mae"

    def value(self):
        return self.abs_sum / self.count


@register("metric", "mse")
class MSE(_Residuals):
    """Mean squared error (over every output column: their uniform average)."""

    name = "mse"

    def value(self):
        return self.sq_sum / self.count


@register("metric", "rmse")
class RMSE(_Residuals):
    """Root mean squared error of each output column, averaged over the columns."""

    name = "rmse"

    def value(self):
        return float(numpy.mean(numpy.sqrt(numpy.asarray(self.column_sq_sum) / self.rows())))


@register("metric", "r2")
class R2(_Residuals):
    """Coefficient of determination, 1 - SSE / SST per output column, averaged (a constant
    target column scores 1 if predicted exactly, else 0, as in scikit-learn)."""

    mode = "max"
    name = "r2"

    def value(self):
        if self.rows() < 2:  # one sample has no variance to explain
            return float("nan")
        sse, sst = numpy.asarray(self.column_sq_sum), numpy.asarray(self.target_m2)
        safe = numpy.where(sst > 0, sst, 1.0)
        per_column = numpy.where(sst > 0, 1.0 - sse / safe, numpy.where(sse > 0, 0.0, 1.0))
        return float(per_column.mean())
