"""`check` catches the cross-references no single component can: monitored names the run never
logs, a model narrower than the data's classes, targets the loss cannot score, metrics of the
other task, and gradient accumulation with an optimizer that needs a closure."""

import re
import textwrap

import pytest

import trainctl as tc
from trainctl.config import load_config
from trainctl.config.preview import loss_problem
from trainctl.core.errors import ConfigError
from trainctl.training.check import (
    METRIC_TASKS,
    check,
    check_output_width,
    logged_metric_names,
)

# Line numbers matter: the tests below name them.
BLOBS = """\
name: blobs
data:
  train: {type: SyntheticClassification, kind: blobs, n_samples: 40, n_classes: 3, seed: 0}
  val_split: 0.25
  batch_size: 8
model:
  type: Sequential
  layers:
    - {type: Linear, in_features: 2, out_features: 16}
    - {type: ReLU}
    - {type: Linear, in_features: 16, out_features: 3}
loss: {type: CrossEntropyLoss}
optimizer: {type: SGD, lr: 0.1}
train: {epochs: 2, metrics: [accuracy]}
checkpoint: {monitor: val/accuracy}
"""

REGRESSION = """\
name: reg
data:
  train: {type: TensorDataset, x: [[1, 2], [2, 3], [4, 6], [3, 1]], y: [[8], [13], [26], [9]]}
  batch_size: 4
model: {type: Linear, in_features: 2, out_features: 1}
loss: {type: MSELoss}
optimizer: {type: SGD, lr: 0.01}
train: {epochs: 2, metrics: [rmse]}
"""


@pytest.fixture
def run_check(tmp_path):
    def run(text, *overrides, trust_code=False):
        path = tmp_path / "cfg.yaml"
        path.write_text(textwrap.dedent(text))
        return check(path, overrides, trust_code=trust_code)

    return run


def refused(run_check, text, *overrides) -> str:
    with pytest.raises(ConfigError) as info:
        run_check(text, *overrides)
    return str(info.value)


# ---------------------------------------------------------------------------- monitored names


def test_logged_metric_names_follow_the_validation_data_and_the_metric_keys(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text(BLOBS.replace("[accuracy]", "[accuracy, {type: topk_accuracy, k: 2}]"))
    assert logged_metric_names(load_config(path)) == [
        "train/loss", "val/loss", "train/accuracy", "val/accuracy", "train/topk_accuracy",
        "val/topk_accuracy"]
    no_val = load_config(path, ["data.val_split=null", "checkpoint.monitor=null"])
    assert logged_metric_names(no_val) == ["train/loss", "train/accuracy", "train/topk_accuracy"]


def test_checkpoint_monitor_typo_names_line_key_and_the_logged_names(run_check):
    message = refused(run_check, BLOBS.replace("monitor: val/accuracy", "monitor: val/acuracy"))
    assert message == (
        f"{message.split(':')[0]}:15: checkpoint.monitor: val/acuracy is not a metric of this "
        "run; did you mean 'val/accuracy'? (the run logs: train/loss, val/loss, train/accuracy, "
        "val/accuracy)")
    assert message.split(":")[0].endswith("cfg.yaml")


@pytest.mark.parametrize("section, path, line", [
    ("train: {epochs: 2, metrics: [accuracy], early_stopping: {monitor: val/los}}",
     "train.early_stopping.monitor", 14),
    ("train: {epochs: 2, metrics: [accuracy], callbacks: [{type: EarlyStopping, "
     "monitor: val/los}]}", "train.callbacks.0.monitor", 14),
    ("scheduler: {type: ReduceLROnPlateau, monitor: val/los}\n"
     "train: {epochs: 2, metrics: [accuracy]}", "scheduler.monitor", 14),
])
def test_every_monitor_is_checked(run_check, section, path, line):
    text = BLOBS.replace("train: {epochs: 2, metrics: [accuracy]}", section)
    message = refused(run_check, text)
    assert re.search(rf"cfg.yaml:{line}: {re.escape(path)}: val/los is not a metric of this "
                     r"run; did you mean 'val/loss'\?", message), message


def test_a_plateau_monitor_that_exists_passes_and_other_schedulers_ignore_monitor(run_check):
    plateau = "\nscheduler: {type: ReduceLROnPlateau, mode: max, monitor: val/accuracy}\ntrain:"
    run_check(BLOBS.replace("\ntrain:", plateau))
    run_check(BLOBS.replace("\ntrain:", "\nscheduler: {type: StepLR, step_size: 1, monitor: x}"
                                        "\ntrain:"))


def test_validation_names_without_validation_data_say_why(run_check):
    message = refused(run_check, BLOBS, "data.val_split=null")
    assert "checkpoint.monitor: val/accuracy is not a metric of this run: there is no " \
           "validation data (give data.val or data.val_split, or monitor train/accuracy)" \
           in message


def test_an_early_stopping_callback_watching_its_default_without_validation_data(run_check):
    text = BLOBS.replace("metrics: [accuracy]}", "metrics: [accuracy], "
                                                 "callbacks: [EarlyStopping]}")
    message = refused(run_check, text, "data.val_split=null", "checkpoint.monitor=null")
    assert re.search(r"cfg.yaml:14: train.callbacks.0: monitors val/loss by default, which is "
                     r"not a metric of this run: there is no validation data", message), message


def test_the_learning_rate_is_logged_but_not_monitorable(run_check):
    message = refused(run_check, BLOBS.replace("monitor: val/accuracy", "monitor: lr"))
    assert "checkpoint.monitor: lr is the learning rate column of the log, not a metric to " \
           "monitor" in message


def test_train_metric_names_and_defaults_pass(run_check):
    run_check(BLOBS.replace("monitor: val/accuracy", "monitor: train/accuracy"))
    run_check(BLOBS, "checkpoint.monitor=null", "data.val_split=null")


# ---------------------------------------------------------------------------- output width


def test_fewer_outputs_than_classes_is_refused_at_the_last_layer(run_check):
    text = BLOBS.replace("in_features: 16, out_features: 3", "in_features: 16, out_features: 2")
    message = refused(run_check, text)
    assert re.search(r"cfg.yaml:11: model.layers.2: the model gives 2 outputs per sample but the "
                     r"training data has 3 classes; CrossEntropyLoss needs one score per class "
                     r"\(out_features: 3\)", message), message


def test_a_preset_model_too_narrow_is_refused_at_model(run_check):
    text = BLOBS.split("model:")[0] + "model: {type: MLP, sizes: [2, 8, 2]}\nloss:" + \
        BLOBS.split("loss:")[1]
    message = refused(run_check, text)
    assert re.search(r"cfg.yaml:6: model: the model gives 2 outputs per sample but the training "
                     r"data has 3 classes; .*\(the last of sizes: 3\)", message), message


def test_output_width_rule_is_for_class_losses_only(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text(BLOBS)
    cfg = load_config(path)
    one_logit = tc.zeros(4, 1)
    check_output_width(cfg, tc.nn.BCEWithLogitsLoss(), one_logit, 2)  # one logit, 2 classes
    check_output_width(cfg, tc.nn.CrossEntropyLoss(), tc.zeros(4, 3), 3)
    check_output_width(cfg, tc.nn.CrossEntropyLoss(), tc.zeros(4, 5), None)  # no classes known
    with pytest.raises(ConfigError, match=r"gives 1 output per sample .* 2 classes; NLLLoss"):
        check_output_width(cfg, tc.nn.NLLLoss(), one_logit, 2)


# ---------------------------------------------------------------------------- loss vs targets


def test_binary_loss_with_integer_labels_names_shapes_dtypes_and_fix(run_check):
    text = BLOBS.replace("n_classes: 3", "n_classes: 2").replace(
        "out_features: 3", "out_features: 1").replace("CrossEntropyLoss", "BCEWithLogitsLoss")
    message = refused(run_check, text)
    assert re.search(r"cfg.yaml:12: loss: BCEWithLogitsLoss needs float targets of the output's "
                     r"shape \(N, 1\); the data gives int64 targets of shape \(N,\) \(use task: "
                     r"binary for a 0/1 label column\)", message), message


def test_regression_output_against_flat_targets_is_refused_with_the_fix(run_check):
    text = REGRESSION.replace("y: [[8], [13], [26], [9]]", "y: [8.5, 13.0, 26.0, 9.0]")
    message = refused(run_check, text)
    assert re.search(r"cfg.yaml:6: loss: MSELoss needs float targets of the output's shape "
                     r"\(N, 1\); the data gives float32 targets of shape \(N,\) \(give \(N, 1\) "
                     r"targets, or end the model with \{type: Flatten, start_dim: 0\}\)",
                     message), message


def test_cross_entropy_with_float_targets_of_the_wrong_shape(run_check):
    text = BLOBS.replace(
        "{type: SyntheticClassification, kind: blobs, n_samples: 40, n_classes: 3, seed: 0}",
        "{type: TensorDataset, x: [[0, 1], [1, 0], [1, 1], [0, 0]], y: [0.0, 1.0, 2.0, 1.0]}")
    message = refused(run_check, text, "data.val_split=null", "checkpoint.monitor=null")
    assert re.search(r"cfg.yaml:12: loss: CrossEntropyLoss needs int64 class indices of shape "
                     r"\(N,\) or float class probabilities of the output's shape \(N, 3\); the "
                     r"data gives float32 targets of shape \(N,\) \(class labels read as "
                     r"numbers", message), message


@pytest.mark.parametrize("loss, out, y, expected", [
    (tc.nn.MSELoss(), (4, 1), ((4, 1), "float32"), None),
    (tc.nn.L1Loss(), (4, 1), ((4,), "float32"), "give (N, 1) targets"),
    (tc.nn.SmoothL1Loss(), (4, 2), ((4, 3), "float32"), "same shape"),
    (tc.nn.MSELoss(), (4,), ((4,), "int64"), "regression targets are float"),
    (tc.nn.HuberLoss(), (4, 1), ((4, 1), "int64"), "regression targets are float"),
    (tc.nn.BCEWithLogitsLoss(), (4, 1), ((4, 1), "float32"), None),
    (tc.nn.BCEWithLogitsLoss(), (4,), ((4,), "int64"), "task: binary"),
    (tc.nn.BCEWithLogitsLoss(), (4, 3), ((4,), "int64"), "use CrossEntropyLoss"),
    (tc.nn.CrossEntropyLoss(), (4, 3), ((4,), "int64"), None),
    (tc.nn.CrossEntropyLoss(), (4, 3), ((4, 3), "float32"), None),
    (tc.nn.CrossEntropyLoss(), (4, 3, 5), ((4, 5), "int64"), None),
    (tc.nn.CrossEntropyLoss(), (4, 3), ((4, 1), "int64"), "not (N, 1)"),
    (tc.nn.CrossEntropyLoss(), (4, 3), ((4, 2), "float32"), "use MSELoss"),
    (tc.nn.NLLLoss(), (4, 3), ((4, 3), "float32"), "int64 class indices of shape (N,);"),
    (tc.nn.KLDivLoss(reduction="batchmean"), (4, 3), ((4, 2), "float32"),
     "KLDivLoss cannot score the model's float32 output of shape (N, 3) against float32 "
     "targets of shape (N, 2)"),
])
def test_loss_problem_rules(loss, out, y, expected):
    shape, dtype = y
    problem = loss_problem(loss, tc.zeros(*out), tc.zeros(*shape, dtype=getattr(tc, dtype)))
    if expected is None:
        assert problem is None
    else:
        assert expected in problem, problem


# ---------------------------------------------------------------------------- metrics vs task


def test_a_classification_metric_with_a_regression_loss_is_refused(run_check):
    message = refused(run_check, REGRESSION.replace("metrics: [rmse]", "metrics: [rmse, accuracy]"))
    assert re.search(r"cfg.yaml:8: train.metrics.1: accuracy measures classification, but "
                     r"MSELoss is a regression loss \(the model predicts values, not classes\); "
                     r"use .*mae", message), message


def test_a_regression_metric_with_a_classification_loss_is_refused(run_check):
    message = refused(run_check, BLOBS.replace("metrics: [accuracy]", "metrics: [accuracy, r2]"))
    assert re.search(r"cfg.yaml:14: train.metrics.1: r2 measures regression, but "
                     r"CrossEntropyLoss is a classification loss .*; use accuracy", message)


def test_metrics_the_table_does_not_know_are_not_judged(run_check, tmp_path, monkeypatch):
    (tmp_path / "xref_metrics.py").write_text("def hits(pred, target):\n    return 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "hits" not in METRIC_TASKS
    text = REGRESSION.replace("metrics: [rmse]", "metrics: [rmse, 'xref_metrics:hits']")
    run_check(text, trust_code=True)


# ---------------------------------------------------------------------------- closures


def test_lbfgs_refuses_gradient_accumulation_with_the_reason(run_check):
    text = REGRESSION.replace("optimizer: {type: SGD, lr: 0.01}", "optimizer: {type: LBFGS}")
    run_check(text)
    message = refused(run_check, text, "train.accumulate_grad_batches=2")
    assert re.search(r"train.accumulate_grad_batches: LBFGS re-evaluates the loss on one batch "
                     r"several times per step \(through a closure\), so it cannot accumulate "
                     r"gradients over 2 batches; set accumulate_grad_batches: 1", message), message
