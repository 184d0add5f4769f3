"""`trainctl check` and `trainctl list`: messages, exit codes, and every shipped config."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every config under configs/ (configs/sweeps/ holds sweep space files, not configs).
CONFIGS = sorted(p.relative_to(ROOT) for p in (ROOT / "configs").rglob("*.yaml")
                 if "sweeps" not in p.parts)

GOOD = """\
name: tiny
data:
  train: {type: SyntheticClassification, kind: blobs, n_samples: 40, n_classes: 3, seed: 0}
  batch_size: 8
model:
  type: Sequential
  layers:
    - {type: Linear, in_features: 2, out_features: 16}
    - {type: ReLU}
    - {type: Linear, in_features: 16, out_features: 3}
loss: {type: CrossEntropyLoss}
optimizer: {type: SGD, lr: 0.1, momentum: 0.9}
scheduler: {type: StepLR, step_size: 2}
train: {epochs: 2, metrics: [accuracy]}
"""


@pytest.fixture
def cfg_file(tmp_path):
    def write(text):
        path = tmp_path / "cfg.yaml"
        path.write_text(text)
        return path

    return write


def test_check_prints_resolved_config_and_summary(cfg_file, cli):
    code, out, err = cli("check", cfg_file(GOOD))
    assert code == 0, err
    assert "momentum: 0.9" in out and "eval_batch_size: 8" in out
    assert "model.layers.0" in out and "[2, 16]" in out and "[2, 3]" in out
    assert "total parameters: 99" in out  # (2*16+16) + (16*3+3)
    assert "config OK" in out


@pytest.mark.parametrize("change, message", [
    (("lr: 0.1", "lr: -0.1"), r"cfg.yaml:12: optimizer.lr: SGD: .*-0.1"),
    (("lr: 0.1, momentum: 0.9", "lr: 0.1, momentun: 0.9"),
     r"cfg.yaml:12: optimizer.momentun: unknown argument 'momentun' for SGD; did you mean "
     r"'momentum'\?"),
    (("type: CrossEntropyLoss", "type: CrossEntropyLos"),
     r"cfg.yaml:11: loss.type: unknown loss 'CrossEntropyLos'; did you mean 'CrossEntropyLoss'"),
    (("{type: Linear, in_features: 2, out_features: 16}", "{type: Linear, in_features: 2}"),
     r"cfg.yaml:8: model.layers.0: Linear needs the argument 'out_features'"),
    (("in_features: 16, out_features: 3", "in_features: 15, out_features: 3"),
     r"cfg.yaml:10: model.layers.2 \(Linear\): expected input features 15, got 16"),
    (("momentum: 0.9", "momentum: fast"),
     r"cfg.yaml:12: optimizer.momentum: expected a number, got str 'fast'"),
    (("metrics: [accuracy]", "metrics: [acuracy]"),
     r"train.metrics.0: unknown metric 'acuracy'; did you mean 'accuracy'"),
    (("type: StepLR", "type: StepLr"), r"did you mean 'StepLR'"),
    (("kind: blobs", "kind: circles"),
     r"cfg.yaml:3: data.train: SyntheticClassification: kind must be one of"),
    # cross-references between the parts (tests/training/test_check_cross_refs.py has them all)
    (("metrics: [accuracy]}", "metrics: [accuracy]}\ncheckpoint: {monitor: train/acuracy}"),
     r"cfg.yaml:15: checkpoint.monitor: train/acuracy is not a metric of this run; did you mean "
     r"'train/accuracy'\? \(the run logs: train/loss, train/accuracy\)$"),
    (("in_features: 16, out_features: 3", "in_features: 16, out_features: 2"),
     r"cfg.yaml:10: model.layers.2: the model gives 2 outputs per sample but the training data "
     r"has 3 classes; CrossEntropyLoss needs one score per class \(out_features: 3\)$"),
    (("metrics: [accuracy]", "metrics: [accuracy, r2]"),
     r"cfg.yaml:14: train.metrics.1: r2 measures regression, but CrossEntropyLoss is a "
     r"classification loss"),
    (("{type: SGD, lr: 0.1, momentum: 0.9}\nscheduler: {type: StepLR, step_size: 2}\ntrain: {",
      "{type: LBFGS}\nscheduler: {type: StepLR, step_size: 2}\ntrain: {"
      "accumulate_grad_batches: 2, "),
     r"cfg.yaml:14: train.accumulate_grad_batches: LBFGS re-evaluates the loss on one batch"),
])
def test_check_errors_name_file_line_and_key(cfg_file, cli, change, message):
    import re

    code, out, err = cli("check", cfg_file(GOOD.replace(*change)))
    assert code == 2
    assert re.search(message, err), err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_check_with_overrides(cfg_file, cli):
    code, out, err = cli("check", cfg_file(GOOD), "--set", "model.layers.0.out_features=8",
                         "--set", "model.layers.2.in_features=8", "--set", "scheduler=null")
    assert code == 0, err
    assert "scheduler: null" in out and "[2, 8]" in out


def test_loss_shape_mismatch_found_before_training(cfg_file, cli):
    text = GOOD.replace("out_features: 3}", "out_features: 1}").replace(
        "CrossEntropyLoss", "MSELoss").replace("metrics: [accuracy]", "metrics: [mae]")
    code, _, err = cli("check", cfg_file(text))
    assert code == 2
    assert err.strip().endswith(
        "cfg.yaml:11: loss: MSELoss needs float targets of the output's shape (N, 1); the data "
        "gives int64 targets of shape (N,) (regression targets are float: task: regression for "
        "a CSV column, y_dtype: float32 for a TensorDataset)"), err


def test_user_code_by_import_path(tmp_path, cfg_file, cli, monkeypatch):
    (tmp_path / "mymodels.py").write_text(
        "import trainctl as tc\n"
        "class Net(tc.nn.Module):\n"
        "    def __init__(self, hidden: int = 4):\n"
        "        super().__init__()\n"
        "        self.fc = tc.nn.Linear(2, hidden)\n"
        "        self.out = tc.nn.Linear(hidden, 3)\n"
        "    def forward(self, x):\n"
        "        return self.out(self.fc(x).relu())\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    text = GOOD.split("model:")[0] + "model: {type: 'mymodels:Net', hidden: 5}\n" + \
        "loss:" + GOOD.split("loss:")[1]
    code, out, err = cli("check", cfg_file(text))
    assert code == 2
    assert "model.type: 'mymodels:Net' would import and run code from module 'mymodels'; " \
           "pass --trust-code" in err
    code, out, err = cli("check", cfg_file(text), "--trust-code")
    assert code == 0, err
    assert "Net" in out


def test_list_shows_every_kind(cli):
    code, out, _ = cli("list")
    assert code == 0
    for name in ("Linear", "Conv2d", "CrossEntropyLoss", "SGD", "AdamW", "Lion", "StepLR",
                 "OneCycleLR", "SequentialLR", "FashionMNIST", "CSVDataset", "Normalize",
                 "accuracy", "MLP", "LeNet5"):
        assert name in out, name


def test_list_one_kind_with_signature(cli):
    code, out, _ = cli("list", "optimizer")
    assert code == 0 and "SGD" in out and "momentum=0" in out and "param_groups=null" in out
    assert "params," not in out and "foreach" not in out
    code, _, err = cli("list", "optimizers")
    assert code == 2 and "unknown kind" in err


def test_help_has_examples():
    for command in ("train", "eval", "plot-lr", "check", "list"):
        out = subprocess.run([sys.executable, "-m", "trainctl.cli", command, "--help"],
                             capture_output=True, text=True, check=True).stdout
        assert "Example" in out, command


def test_help_does_not_import_numpy_or_matplotlib():
    code = ("import sys; from trainctl.cli import cli; "
            "import click.testing as t; t.CliRunner().invoke(cli, ['--help']); "
            "print('numpy' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False False"


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_every_shipped_config_passes_check(config, cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, err = cli("check", config)
    assert code == 0, err
    assert "config OK" in out


HUGE = GOOD.replace(
    "    - {type: Linear, in_features: 2, out_features: 16}\n"
    "    - {type: ReLU}\n"
    "    - {type: Linear, in_features: 16, out_features: 3}\n",
    "    - {type: Linear, in_features: 2, out_features: 160000}\n"
    "    - {type: ReLU}\n"
    "    - {type: Linear, in_features: 160000, out_features: 160000}\n"
    "    - {type: LayerNorm, normalized_shape: 160000}\n"
    "    - {type: Linear, in_features: 160000, out_features: 3}\n",
)


def test_a_model_too_big_to_allocate_is_dry_run_on_meta(cfg_file, cli):
    # 25.6 billion float32 parameters: 102 GB that check must not allocate.
    import tracemalloc

    tracemalloc.start()
    code, out, err = cli("check", cfg_file(HUGE))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 0, err
    assert peak < 200_000_000
    assert "[2, 160000]" in out and "25,600,160,000" in out and "[2, 3]" in out
    assert "total parameters: 25,601,440,003" in out
    assert "102.4 GB" in out and "meta device" in out
    assert "config OK" in out


def test_a_huge_model_that_does_not_fit_its_data_still_names_the_layer(cfg_file, cli):
    code, out, err = cli("check", cfg_file(HUGE.replace("in_features: 160000, out_features: 3",
                                                        "in_features: 16000, out_features: 3")))
    assert code == 2
    assert "model.layers.4 (Linear): expected input features 16000, got 160000" in err


def test_a_normal_model_is_dry_run_for_real(cfg_file, cli):
    code, out, err = cli("check", cfg_file(GOOD))
    assert code == 0, err
    assert "meta" not in out


def test_a_recurrent_layer_in_a_sequential_shows_its_tuple_output(tmp_path):
    path = tmp_path / "lstm.yaml"
    path.write_text("""\
name: lstm_check
data:
  train: {type: SyntheticClassification, kind: blobs, n_samples: 40, n_features: 12,
          n_classes: 3, seed: 0}
  batch_size: 8
model:
  type: Sequential
  layers:
    - {type: Unflatten, dim: 1, unflattened_size: [4, 3]}
    - {type: LSTM, input_size: 3, hidden_size: 16, batch_first: true}
    - {type: LastTimeStep}
    - {type: Linear, in_features: 16, out_features: 3}
loss: {type: CrossEntropyLoss}
optimizer: {type: Adam, lr: 0.01}
""")
    from trainctl.commands.check import shape_text
    from trainctl.training import check

    rows = {row[0]: row for row in check(path).layers}
    assert shape_text(rows["model.layers.1"][2]) == "[2, 4, 16], ([1, 2, 16], [1, 2, 16])"
    assert rows["model.layers.1"][3] == 4 * 16 * (3 + 16) + 2 * 4 * 16  # PyTorch's LSTM count
    assert shape_text(rows["model.layers.2"][2]) == "[2, 16]"
