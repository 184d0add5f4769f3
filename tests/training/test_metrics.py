"""Every registered metric against scikit-learn's numbers (tests/golden/metrics.json, written by
tests/golden/gen_metrics.py), fed in uneven batches; their state through a checkpoint; refusals."""

import doctest
import math

import numpy
import pytest

import trainctl as tc
from tests.golden.fixtures import load_json
from trainctl.config import load_config
from trainctl.config.describe import describe, signature_text
from trainctl.config.registry import registry
from trainctl.core.errors import ConfigError, ShapeError
from trainctl.training import metrics as M
from trainctl.training.metrics import classification, ranking, regression
from trainctl.training.setup import build_metrics
from trainctl.training.trainer import EpochSums

GOLDEN = load_json("metrics.json")
CASES = {c["name"]: c for c in GOLDEN["cases"]}
NAMES = ("accuracy", "topk_accuracy", "precision", "recall", "f1", "balanced_accuracy", "auroc",
         "average_precision", "mae", "mse", "rmse", "r2")


def arrays(case):
    pred = numpy.asarray(case["pred"], dtype=numpy.float32)
    target = numpy.asarray(case["target"])
    return pred, target.astype(numpy.float32 if target.dtype.kind == "f" else numpy.int64)


def batches(case):
    pred, target = arrays(case)
    start = 0
    for size in case["batches"]:
        yield tc.tensor(pred[start:start + size]), tc.tensor(target[start:start + size])
        start += size


def build(name, args):
    return registry("metric").get(name)(**args)


def expected_values():
    for case in GOLDEN["cases"]:
        for e in case["expected"]:
            args = ",".join(f"{k}={v}" for k, v in e["args"].items())
            yield pytest.param(case["name"], e, id=f"{case['name']}-{e['metric']}-{args}")


def test_the_fixture_covers_every_metric_and_average():
    seen = {(e["metric"], e["args"].get("average")) for c in GOLDEN["cases"]
            for e in c["expected"]}
    assert {m for m, _ in seen} == set(NAMES)
    for name in ("precision", "recall", "f1"):
        assert {a for m, a in seen if m == name} == {None, "macro", "micro", "weighted",
                                                      "binary"}
    assert sum(len(c["expected"]) for c in GOLDEN["cases"]) > 200
    assert all(e["value"] == e["value"] for c in GOLDEN["cases"] for e in c["expected"])


@pytest.mark.parametrize("case_name, expected", list(expected_values()))
def test_metric_equals_scikit_learn(case_name, expected):
    metric = build(expected["metric"], expected["args"])
    for pred, target in batches(CASES[case_name]):
        metric.update(pred, target)
    assert metric.compute() == pytest.approx(expected["value"], abs=1e-6, rel=1e-6)


@pytest.mark.parametrize("case_name", sorted(GOLDEN["reports"]))
def test_classification_report_equals_scikit_learn(case_name):
    pred, target = arrays(CASES[case_name])
    names = [f"class {i}" for i in range(pred.shape[1])]
    ours = M.classification_report(target, pred.argmax(axis=1), names)
    theirs = GOLDEN["reports"][case_name]
    rename = {"f1": "f1-score"}
    for i, name in enumerate(names):
        for key, value in ours["per_class"][name].items():
            assert value == pytest.approx(theirs[str(i)][rename.get(key, key)], abs=1e-9)
    assert ours["accuracy"] == pytest.approx(theirs["accuracy"], abs=1e-9)
    for ours_key, their_key in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
        for key, value in ours[ours_key].items():
            assert value == pytest.approx(theirs[their_key][rename.get(key, key)], abs=1e-9)


def test_the_batching_does_not_change_the_value():
    case = CASES["bin_ties"]
    pred, target = arrays(case)
    for name in NAMES[2:8]:
        whole, one_by_one = build(name, {}), build(name, {})
        whole.update(tc.tensor(pred), tc.tensor(target))
        for i in range(len(pred)):
            one_by_one.update(tc.tensor(pred[i:i + 1]), tc.tensor(target[i:i + 1]))
        assert whole.compute() == pytest.approx(one_by_one.compute(), abs=1e-12), name


@pytest.mark.parametrize("case_name", ["mc_imbalanced", "bin_imbalanced", "reg_three_outputs"])
def test_state_survives_a_checkpoint_mid_epoch(case_name, tmp_path):
    """The Trainer saves a metric's plain attributes (JSON-like) and resumes from them: the
    result equals an epoch that never stopped."""
    case = CASES[case_name]
    kind = case["kind"]
    names = ["mae", "mse", "rmse", "r2"] if kind == "regression" else [
        n for n in NAMES[:8] if not (n == "topk_accuracy" and kind == "binary")]
    prototypes = {n: build(n, {"k": 2} if n == "topk_accuracy" else {}) for n in names}
    straight, first = EpochSums(prototypes), EpochSums(prototypes)
    parts = list(batches(case))
    for i, (pred, target) in enumerate(parts):
        straight.update(0.0, pred, target, len(target))
        if i < 2:
            first.update(0.0, pred, target, len(target))
    state = first.state_dict()
    for name, metric in first.metrics.items():  # nothing is lost to the plain-values filter
        assert set(state["metrics"][name]) == set(vars(metric)), name
    tc.save(state, tmp_path / "sums.safetensors")  # as a checkpoint stores it
    resumed = EpochSums(prototypes)
    resumed.load_state_dict(tc.load(tmp_path / "sums.safetensors"))
    for pred, target in parts[2:]:
        resumed.update(0.0, pred, target, len(target))
    assert resumed.compute("val") == straight.compute("val")


def test_one_logit_models_and_their_targets():
    logits = tc.tensor([[2.0], [-1.0], [0.5], [-3.0]])
    for target in (tc.tensor([1, 0, 0, 0]), tc.tensor([[1.0], [0.0], [0.0], [0.0]]),
                   tc.tensor([1.0, 0.0, 0.0, 0.0])):
        acc = M.Accuracy()
        acc.update(logits, target)
        assert acc.compute() == 0.75
    strict = M.Accuracy(threshold=0.7)  # sigmoid(0.5) = 0.62 is below 0.7
    strict.update(logits, tc.tensor([1, 0, 0, 0]))
    assert strict.compute() == 1.0
    f1 = M.F1()  # auto: the positive class of a binary model
    f1.update(tc.tensor([2.0, -1.0, 0.5, -3.0]), tc.tensor([1, 0, 1, 1]))
    assert f1.compute() == pytest.approx(2 * 2 / (2 * 2 + 0 + 1))


def test_refusals_name_the_metric_and_the_fix():
    top = M.TopKAccuracy()  # k=5 on 3 classes would always be 1.0
    with pytest.raises(ConfigError, match="topk_accuracy: k=5 but the model scores 3 classes; "
                                          "set k to at most 3"):
        top.update(tc.randn(4, 3), tc.tensor([0, 1, 2, 0]))
    with pytest.raises(ConfigError, match="topk_accuracy: needs one score per class"):
        M.TopKAccuracy(k=1).update(tc.randn(4, 1), tc.tensor([0, 1, 1, 0]))
    with pytest.raises(ConfigError, match="precision: average 'binary' needs a binary model"):
        M.Precision(average="binary").update(tc.randn(4, 3), tc.tensor([0, 1, 2, 0]))
    with pytest.raises(ShapeError, match="binary.*targets 0 or 1"):
        M.Recall().update(tc.randn(3, 1), tc.tensor([0, 2, 1]))
    with pytest.raises(ShapeError, match="4 rows of class scores but 3 targets"):
        M.F1().update(tc.randn(4, 3), tc.tensor([0, 1, 2]))
    with pytest.raises(ShapeError, match="mae: the model gives 4 values but the targets have 2"):
        M.MAE().update(tc.randn(4, 1), tc.randn(2))
    with pytest.raises(ValueError, match="average must be one of"):
        M.F1(average="samples")
    with pytest.raises(ValueError, match="threshold must be a probability"):
        M.Accuracy(threshold=1.5)


def test_a_bad_argument_in_a_config_names_file_line_and_key(tmp_path, write_config):
    from tests.runs import SPIRALS

    path = write_config(SPIRALS.replace("metrics: [accuracy]",
                                        "metrics: [accuracy, {type: f1, average: macr}]"))
    with pytest.raises(ConfigError, match=r"cfg.yaml:\d+: train\.metrics\.1\.average.*macr"):
        build_metrics(load_config(path))
    path = write_config(SPIRALS.replace("metrics: [accuracy]",
                                        "metrics: [{type: topk_accuracy, k: 2}, auroc, f1]"))
    built = build_metrics(load_config(path))
    assert list(built) == ["topk_accuracy", "auroc", "f1"] and built["topk_accuracy"].k == 2


def test_empty_epochs_and_ignored_targets():
    for name in NAMES:
        assert math.isnan(build(name, {}).compute()), name
    acc = M.Accuracy()  # -100 (CrossEntropyLoss's ignore_index) is left out
    acc.update(tc.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), tc.tensor([0, -100, 1]))
    assert (acc.correct, acc.total) == (1, 2)
    auroc = M.AUROC()  # one class only: no ROC curve
    auroc.update(tc.tensor([0.3, 0.9]), tc.tensor([1, 1]))
    assert math.isnan(auroc.compute())
    r2 = M.R2()  # a constant target predicted exactly scores 1, else 0 (scikit-learn's rule)
    r2.update(tc.tensor([2.0, 2.0]), tc.tensor([2.0, 2.0]))
    assert r2.compute() == 1.0
    r2.update(tc.tensor([2.5]), tc.tensor([2.0]))
    assert r2.compute() == 0.0


def test_curves_for_the_eval_plots():
    labels = numpy.array([0, 0, 1, 1, 1])
    scores = numpy.array([0.1, 0.6, 0.6, 0.8, 0.9])  # one tie across the classes
    fpr, tpr, _ = M.roc_curve(labels, scores)
    assert fpr.tolist() == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert tpr.tolist() == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0, 1.0])
    precision, recall, thresholds = M.precision_recall_curve(labels, scores)
    assert thresholds.tolist() == [0.9, 0.8, 0.6]  # stops at full recall
    assert precision.tolist() == pytest.approx([1.0, 1.0, 0.75])
    assert recall.tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert M.roc_auc(labels, scores) == pytest.approx(1 - 0.5 / 6)  # the tie counts half


def test_listed_with_their_arguments(cli):
    assert set(NAMES) <= set(registry("metric").names())
    f1 = describe("metric", "f1")
    assert signature_text(f1) == "average=auto, threshold=0.5, pos_label=1"
    assert f1.summary == ("Harmonic mean of precision and recall (average: auto, macro, micro, "
                          "weighted, binary).")
    assert signature_text(describe("metric", "topk_accuracy")) == "k=5"
    assert signature_text(describe("metric", "auroc")) == ""
    code, out, _ = cli("list", "metric")
    assert code == 0 and all(name in out for name in NAMES)


@pytest.mark.parametrize("module", [M, classification, ranking, regression],
                         ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed
