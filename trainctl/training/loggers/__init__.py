"""Loggers: callbacks that send a run to the tools practitioners watch, named in a config's
``logging`` list (``logging: [csv, tensorboard, mlflow]``).

``csv`` is the ``metrics.csv``/``metrics.jsonl`` log every run writes
(:class:`~trainctl.training.callbacks.MetricsLogger`); ``tensorboard``
(:class:`TensorBoardLogger`) and ``mlflow`` (:class:`MLflowLogger`) are registered callbacks
whose libraries are optional extras (``pip install 'trainctl[tensorboard]'``,
``'trainctl[mlflow]'``). A registered callback of your own can be listed there too.

Example:
    >>> from trainctl.training.loggers import build_loggers
    >>> loggers = build_loggers(cfg, run_dir="runs/x/1")  # doctest: +SKIP
"""

from .base import Logger, build_loggers, flatten_config, require
from .mlflow import MLflowLogger
from .tensorboard import TensorBoardLogger

__all__ = ["Logger", "MLflowLogger", "TensorBoardLogger", "build_loggers", "flatten_config",
           "require"]
