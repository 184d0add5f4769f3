"""Helpers for end-to-end tests through the real CLI."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SPIRALS = """\
name: tiny_spirals
seed: 3
data:
  train: {type: SyntheticClassification, kind: spirals, n_samples: 120, n_classes: 3,
          noise: 0.1, seed: 1}
  val_split: 0.25
  batch_size: 16
model:
  type: Sequential
  layers:
    - {type: Linear, in_features: 2, out_features: 16}
    - {type: ReLU}
    - {type: Dropout, p: 0.1}
    - {type: Linear, in_features: 16, out_features: 3}
loss: {type: CrossEntropyLoss}
optimizer: {type: Adam, lr: 0.01}
scheduler: {type: StepLR, step_size: 2, gamma: 0.5}
train: {epochs: 4, metrics: [accuracy], log_every: 2}
"""


@pytest.fixture
def write_config(tmp_path):
    def write(text=SPIRALS, name="cfg.yaml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def invoke(tmp_path, monkeypatch, cli):
    """``cli`` run with tmp_path as the current folder."""
    monkeypatch.chdir(tmp_path)
    return cli


def run_cli(*args, cwd, env=None, timeout=120):
    """Run ``python -m trainctl.cli ARGS`` as a subprocess (the real entry point)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "trainctl.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=full_env, timeout=timeout)
