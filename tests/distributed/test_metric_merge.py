"""``Metric.merge``: a metric updated on two shares of the samples (as two ranks update it),
merged, gives the value of one metric updated on all of them: how ``trainctl train`` under
``mpiexec`` logs the single-process numbers. No MPI needed: the shares are made here."""

import copy

import numpy
import pytest

import trainctl as tc
from trainctl.training.distributed_run import merge_sums
from trainctl.training.metrics import (
    AUROC,
    F1,
    MAE,
    MSE,
    R2,
    RMSE,
    Accuracy,
    AveragePrecision,
    BalancedAccuracy,
    FunctionMetric,
    Precision,
    Recall,
    TopKAccuracy,
)
from trainctl.training.trainer import EpochSums

CLASSIFICATION = [Accuracy(), TopKAccuracy(k=2), Precision(), Recall(average="micro"),
                  F1(average="weighted"), BalancedAccuracy(), AUROC(), AveragePrecision()]
BINARY = [Accuracy(threshold=0.3), F1(), Precision(average="binary"), AUROC()]
REGRESSION = [MAE(), MSE(), RMSE(), R2()]


def _batches(pred, target, size):
    return [(pred[i:i + size], target[i:i + size]) for i in range(0, len(target), size)]


def _check(metric, pred, target):
    whole = copy.deepcopy(metric)
    whole.reset()
    for p, t in _batches(pred, target, 16):
        whole.update(p, t)
    shares = []
    for rank in range(2):  # rank r gets every second batch of 8, as a sharded loader gives
        share = copy.deepcopy(metric)
        share.reset()
        for k, (p, t) in enumerate(_batches(pred, target, 8)):
            if k % 2 == rank:
                share.update(p, t)
        shares.append(share)
    shares[0].merge(shares[1])
    assert shares[0].compute() == pytest.approx(whole.compute(), rel=1e-12, abs=1e-12)
    return whole.compute()


@pytest.mark.parametrize("metric", CLASSIFICATION, ids=lambda m: type(m).__name__)
def test_classification_metrics_merge_to_the_whole(metric):
    gen = tc.Generator().manual_seed(1)
    pred = tc.randn(70, 4, generator=gen)
    target = tc.randint(0, 4, (70,), generator=gen)
    _check(metric, pred, target)


@pytest.mark.parametrize("metric", BINARY, ids=lambda m: type(m).__name__)
def test_binary_metrics_merge_to_the_whole(metric):
    gen = tc.Generator().manual_seed(2)
    _check(metric, tc.randn(50, generator=gen), tc.randint(0, 2, (50,), generator=gen))


@pytest.mark.parametrize("metric", REGRESSION, ids=lambda m: type(m).__name__)
def test_regression_metrics_merge_to_the_whole(metric):
    gen = tc.Generator().manual_seed(3)
    target = tc.randn(45, 2, generator=gen) * 3 + 5
    _check(metric, target + tc.randn(45, 2, generator=gen), target)


def test_settings_are_not_summed_and_an_empty_share_merges():
    merged = F1(average="macro", threshold=0.7)
    other = F1(average="macro", threshold=0.7)
    other.update(tc.tensor([[0.1, 0.9], [0.8, 0.2]]), tc.tensor([1, 1]))
    merged.merge(other)
    assert (merged.threshold, merged.average, merged.tp) == (0.7, "macro", [0, 1])
    assert merged.compute() == other.compute()
    regression = R2()
    regression.merge(R2())
    assert numpy.isnan(regression.compute())


def test_epoch_sums_merge_loss_and_metrics_like_one_process():
    mean_abs = FunctionMetric(lambda p, t: float((p.argmax(1) == t).float().mean()))
    prototype = EpochSums({"accuracy": Accuracy(), "mean_abs": mean_abs})
    gen = tc.Generator().manual_seed(4)
    pred, target = tc.randn(32, 3, generator=gen), tc.randint(0, 3, (32,), generator=gen)
    whole = copy.deepcopy(prototype)
    shares = [copy.deepcopy(prototype), copy.deepcopy(prototype)]
    for k, (p, t) in enumerate(_batches(pred, target, 8)):
        whole.update(0.5 + k, p, t, len(t))
        shares[k % 2].update(0.5 + k, p, t, len(t))
    merged = merge_sums(prototype, [s.state_dict() for s in shares])
    assert merged.compute("val") == pytest.approx(whole.compute("val"))
