"""A real checkpoint of a tiny run, made as ``trainctl train`` makes one (for hostile-input tests).
"""

from pathlib import Path

from trainctl.config import resolve
from trainctl.training.callbacks import CheckpointSaver
from trainctl.training.setup import build_run, trainer_arguments
from trainctl.training.trainer import Trainer

CONFIG = {
    "name": "tiny",
    "data": {"train": {"type": "TensorDataset", "x": [[1, 2], [2, 3], [4, 6], [3, 1]],
                       "y": [[8], [13], [26], [9]]},
             "batch_size": 2, "shuffle": True},
    "model": {"type": "Linear", "in_features": 2, "out_features": 1},
    "loss": {"type": "MSELoss"},
    "optimizer": {"type": "SGD", "lr": 0.01, "momentum": 0.9},
    "scheduler": {"type": "LambdaLR", "lr_lambda": "0.9 ** epoch"},
    "train": {"epochs": 2, "metrics": ["mae"]},
}


def tiny_trainer(folder) -> Trainer:
    """A fresh Trainer of the tiny run, saving checkpoints into ``folder``."""
    cfg = resolve(CONFIG)
    parts = build_run(cfg)
    saver = CheckpointSaver(Path(folder), "train/loss", "min", extra={"config": dict(cfg),
                                                                       "data": {"classes": None}})
    return Trainer(**trainer_arguments(cfg, parts, [saver]))


def tiny_checkpoint(folder) -> Path:
    """Train the tiny run for 2 epochs into ``folder``; returns its ``last.safetensors``."""
    tiny_trainer(folder).fit()
    return Path(folder) / "checkpoints" / "last.safetensors"
