"""Validation of the fixed sections: every mistake names file, line and key."""

import pytest

from trainctl.config import load_config
from trainctl.core.errors import ConfigError

from .test_loader import MINIMAL, write


def check_error(tmp_path, text, pattern, overrides=()):
    path = write(tmp_path, "cfg.yaml", text)
    with pytest.raises(ConfigError, match=pattern):
        load_config(path, overrides)


def test_unknown_section_with_suggestion(tmp_path):
    check_error(tmp_path, MINIMAL + "optimiser: {}\n",
                r"cfg.yaml:6: optimiser: unknown section 'optimiser'; did you mean 'optimizer'\?")


def test_unknown_train_key(tmp_path):
    check_error(tmp_path, MINIMAL + "train:\n  epoch: 5\n",
                r"cfg.yaml:7: train.epoch: unknown key 'epoch'; did you mean 'epochs'")


def test_wrong_type(tmp_path):
    check_error(tmp_path, MINIMAL + "train: {epochs: five}\n",
                r"cfg.yaml:6: train.epochs: expected an integer, got str 'five'")
    check_error(tmp_path, MINIMAL + "data_x: 1\n", r"unknown section 'data_x'")
    check_error(tmp_path, MINIMAL + "train: {epochs: true}\n", r"expected an integer, got true")


def test_out_of_range(tmp_path):
    check_error(tmp_path, MINIMAL + "train: {epochs: 0}\n",
                r"train.epochs: expected a value >= 1, got 0")
    check_error(tmp_path, MINIMAL.replace("n_samples: 8}", "n_samples: 8}\n  val_split: 1.5"),
                r"data.val_split: expected a value > 0 and < 1, got 1.5")


def test_choices(tmp_path):
    check_error(tmp_path, MINIMAL + "train: {on_nan: ignore}\n",
                r"train.on_nan: expected one of stop, skip_batch, got 'ignore'")
    check_error(tmp_path, MINIMAL + "scheduler: {type: StepLR, step_size: 1, interval: batch}\n",
                r"scheduler.interval: expected one of epoch, step")


def test_missing_required_section(tmp_path):
    check_error(tmp_path, MINIMAL.replace("loss: {type: MSELoss}\n", ""),
                r"missing required key 'loss'")


def test_component_needs_type(tmp_path):
    check_error(tmp_path, MINIMAL.replace("loss: {type: MSELoss}", "loss: {reduction: sum}"),
                r"cfg.yaml:4: loss: expected a component like \{type: Name")


def test_grad_clip_needs_exactly_one(tmp_path):
    check_error(tmp_path, MINIMAL + "train: {grad_clip: {max_norm: 1.0, value: 0.5}}\n",
                r"train.grad_clip: give exactly one of max_norm")


def test_val_and_val_split_conflict(tmp_path):
    text = MINIMAL.replace("n_samples: 8}", "n_samples: 8}\n  val: {type: SyntheticRegression}"
                                            "\n  val_split: 0.2")
    check_error(tmp_path, text, "either data.val or data.val_split")


def test_device_values(tmp_path):
    path = write(tmp_path, "cfg.yaml", MINIMAL + "device: cuda:1\n")
    assert load_config(path)["device"] == "cuda:1"
    check_error(tmp_path, MINIMAL + "device: tpu\n", r"cfg.yaml:6: device: expected cpu, cuda")


def test_override_location_in_error(tmp_path):
    check_error(tmp_path, MINIMAL, r"--set train.epochs=-1: train.epochs: expected a value >= 1",
                overrides=["train.epochs=-1"])
