"""Training runs: the Trainer loop, callbacks, metrics, checkpoints, run directories, plots, and
the run lifecycle as library functions (what the CLI commands call).

Example:
    >>> from trainctl.training import train, evaluate
    >>> summary = train("configs/spirals_mlp.yaml", quiet=True)  # doctest: +SKIP
    >>> evaluate(summary["run_dir"])["metrics"]  # doctest: +SKIP
"""

from .callbacks import Callback, CheckpointSaver, EarlyStopping, MetricsLogger
from .check import CheckReport, check
from .evaluate import evaluate
from .generate import generate
from .lr_find import lr_find
from .lr_plot import plot_lr
from .metrics import FunctionMetric, Metric
from .predict import predict
from .run import train
from .runs import runs_diff, runs_table
from .setup import RunParts, build_run, trainer_arguments
from .sweep import sweep, sweep_results
from .trainer import Interrupted, NonFiniteLoss, Trainer

__all__ = [
    "Callback", "CheckReport", "CheckpointSaver", "EarlyStopping", "FunctionMetric",
    "Interrupted", "Metric", "MetricsLogger", "NonFiniteLoss", "RunParts", "Trainer",
    "build_run", "check", "evaluate", "generate", "plot_lr", "predict", "train",
    "trainer_arguments",
    "runs_diff", "runs_table",
    "lr_find", "sweep", "sweep_results",
]
