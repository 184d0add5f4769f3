"""Shared pieces of end-to-end tests: a small config, the repo root, the CLI as a subprocess."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

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
