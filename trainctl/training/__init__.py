"""Training runs: the Trainer loop, callbacks, metrics, checkpoints, run directories and plots.

Example:
    >>> from trainctl.config import load_config
    >>> from trainctl.engine import Trainer, build_run
    >>> cfg = load_config("configs/spirals_mlp.yaml")  # doctest: +SKIP
    >>> Trainer(cfg, build_run(cfg)).fit()  # doctest: +SKIP
"""

from .callbacks import Callback, CheckpointSaver, EarlyStopping, MetricsLogger
from .metrics import METRICS, Metric
from .setup import RunParts, build_run
from .trainer import Interrupted, NonFiniteLoss, Trainer

__all__ = [
    "METRICS", "Callback", "CheckpointSaver", "EarlyStopping", "Interrupted", "Metric",
    "MetricsLogger", "NonFiniteLoss", "RunParts", "Trainer", "build_run",
]
