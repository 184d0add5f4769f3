"""Checking a config without training: what ``trainctl check`` does, as a library function.

Builds everything a run would (model, loss, optimizer, schedule, metrics, callbacks) through the
same builder as :func:`~trainctl.training.train`, then dry-runs one small batch through the model
and the loss, so a mistake surfaces here, with its file, line and key, not at step 1.

Example:
    >>> from trainctl.training import check
    >>> report = check("configs/linreg.yaml")  # doctest: +SKIP
    >>> report.total_parameters  # doctest: +SKIP
    3
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Config, load_config
from ..config.build import build_loss, build_model, build_optimizer
from ..config.lr_preview import schedule_curves
from ..config.preview import dry_run, example_batch
from ..core import random as tc_random
from .setup import build_callbacks, build_metrics


@dataclass
class CheckReport:
    """What :func:`check` found: the resolved config, one row per layer (path, type, output
    shape, parameters), parameter counts, and a note when stand-in data was used."""

    config: Config
    layers: list
    total_parameters: int
    trainable_parameters: int
    note: str | None


def check(config, overrides=(), trust_code: bool = False) -> CheckReport:
    """Validate a config file and dry-run its model; a TrainctlError names what does not fit."""
    cfg = load_config(config, overrides, trust_code=trust_code)
    build_metrics(cfg)
    build_callbacks(cfg)
    tc_random.manual_seed(cfg["seed"])
    model = build_model(cfg)
    loss_fn = build_loss(cfg)
    build_optimizer(cfg, model.named_parameters())
    schedule_curves(cfg)  # builds the schedule and steps it through the whole run
    x, y, note = example_batch(cfg)
    rows, out = dry_run(model, x, cfg)
    if y is not None:
        try:
            loss_fn(out, y)
        except Exception as e:  # any failure here is a loss/target mismatch to report
            raise cfg.error(("loss",), f"{type(loss_fn).__name__} cannot score the model's "
                                       f"output {tuple(out.shape)} against targets "
                                       f"{tuple(y.shape)}: {e}") from None
    params = list(model.parameters())
    return CheckReport(cfg, rows, sum(p.numel() for p in params),
                       sum(p.numel() for p in params if p.requires_grad), note)
