"""What the loggers share: the step rows they send, the config as flat key/value pairs, the check
for an optional package, and :func:`build_loggers`, which builds a config's ``logging`` list.

A logger is a :class:`~trainctl.training.callbacks.Callback` that sends the run to an outside tool.
It sees the same rows as ``metrics.csv``: every ``log_every`` steps the mean training loss of those
steps and the LR of each param group (:meth:`Logger.log_step`), and every epoch all metrics
(:meth:`Logger.log_epoch`), each at the run's global step. :meth:`Logger.bind` gives it what only a
run knows (its folder and resolved config); :meth:`Logger.on_run_end` comes last, once
``summary.json``, the plots and ``report.html`` are written.

Example:
    >>> from trainctl.training.loggers import flatten_config
    >>> flatten_config({"optimizer": {"type": "SGD", "lr": 0.1}, "train": {"metrics": ["mse"]}})
    {'optimizer.type': 'SGD', 'optimizer.lr': 0.1, 'train.metrics': '["mse"]'}
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from ...config.build import build_component
from ...core.errors import ConfigError
from ..callbacks import StepLossWindow

# Names `logging` accepts for the CSV/JSONL log every run writes anyway.
BUILT_IN = ("csv",)
# Longest text kept for one config value (MLflow limits a param to 6000 characters; a value this
# long is inline data, not a hyperparameter).
MAX_VALUE_CHARS = 500


def require(module: str, logger: str, package: str, extra: str) -> None:
    """Raise a one-line ConfigError when ``module`` cannot be imported, naming the extra that
    brings it; looks the module up without importing it (``trainctl check`` stays fast)."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ConfigError(f"{logger} needs {package}, which is not installed: "
                          f"pip install 'trainctl[{extra}]'")


def flatten_config(config, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` as ``{"a.b": 1}``: numbers, booleans and strings as they are, None as
    ``"null"``, a list of mappings by index (``train.callbacks.0.type``), any other list as
    compact JSON; text past :data:`MAX_VALUE_CHARS` is cut."""
    out = {}
    if isinstance(config, dict):
        items = [(str(k), v) for k, v in config.items()]
    elif isinstance(config, list) and config and all(isinstance(v, dict) for v in config):
        items = [(str(i), v) for i, v in enumerate(config)]
    else:
        return {prefix: _scalar(config)}
    for key, value in items:
        out.update(flatten_config(value, f"{prefix}.{key}" if prefix else key))
    return out


def _scalar(value):
    if isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else (
        "null" if value is None else json.dumps(value, default=str, separators=(",", ":")))
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 1] + "…"


def numbers(values: dict) -> dict:
    """The entries of a metrics row that are finite-or-not floats (ints included), as floats."""
    return {k: float(v) for k, v in values.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


class Logger(StepLossWindow):
    """Base of the loggers. Subclasses implement :meth:`log_step` and :meth:`log_epoch` (and
    whatever else their tool keeps); this class computes the rows.

    Args:
        log_every: send a step row every this many optimizer steps (a run passes its
            ``train.log_every`` through :meth:`bind`).
    """

    def __init__(self, log_every: int = 50):
        super().__init__(log_every)
        self.run_dir: Path | None = None
        self.config: dict = {}
        self.config_yaml = ""
        self.runs_root: Path | None = None

    def bind(self, run_dir, config: dict, config_yaml: str = "", log_every: int | None = None,
             runs_root=None) -> Logger:
        """Give the logger what a run knows: its folder, resolved config (and its YAML text),
        ``train.log_every`` and the runs root. Returns the logger."""
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.config, self.config_yaml = dict(config), config_yaml
        self.log_every = log_every or self.log_every
        self.runs_root = Path(runs_root) if runs_root is not None else None
        return self

    def log_step(self, step: int, values: dict) -> None:
        """``train/loss`` (mean over the steps since the previous row) and ``lr``/``lr/i``."""

    def log_epoch(self, trainer, metrics: dict) -> None:
        """Every metric of the epoch just ended (``train/loss``, ``val/...``) and ``epoch``."""

    def on_run_end(self, run_dir: Path, summary: dict) -> None:
        """After the run's files are final (``summary.json``, plots, ``report.html``)."""

    def close(self) -> None:
        """Flush and release what the logger holds open (a run calls it in any case)."""

    def on_step_end(self, trainer):
        loss = self.take_step_loss(trainer)
        if loss is not None:
            self.log_step(trainer.global_step, {"train/loss": loss, **trainer.lr_columns()})

    def on_epoch_end(self, trainer, metrics):
        self.log_epoch(trainer, {**numbers(metrics), "epoch": float(trainer.epoch)})


def build_loggers(cfg, run_dir=None, runs_root=None) -> list:
    """The loggers a config's ``logging`` list names, built through the registry's ``callback``
    kind (``tensorboard``, ``mlflow`` or a registered one; ``csv`` is the log every run writes
    and adds nothing). With ``run_dir`` they are bound to that run; without, they are only
    checked (``trainctl check``): a missing optional package is a ConfigError naming the key.

    Example:
        >>> build_loggers(load_config("cfg.yaml"))  # doctest: +SKIP
        [<trainctl.training.loggers.tensorboard.TensorBoardLogger object at ...>]
    """
    loggers, seen = [], {}
    for i, spec in enumerate(cfg["logging"]):
        path = ("logging", i)
        name = spec if isinstance(spec, str) else spec.get("type")
        if name in BUILT_IN:
            if isinstance(spec, dict) and len(spec) > 1:
                raise cfg.error(path, f"{name} takes no arguments: metrics.csv and "
                                "metrics.jsonl are written by every run")
            continue
        if isinstance(name, str) and name in seen:
            raise cfg.error(path, f"{name} is already listed at logging.{seen[name]}")
        seen[str(name)] = i
        logger = build_component(spec, "callback", cfg, path)
        if isinstance(logger, Logger) and run_dir is not None:
            logger.bind(run_dir, dict(cfg), cfg.to_yaml(), cfg["train"]["log_every"], runs_root)
        loggers.append(logger)
    return loggers
