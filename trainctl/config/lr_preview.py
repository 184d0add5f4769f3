"""Learning-rate schedules without a model or data (what ``trainctl plot-lr`` draws for a config).

Both :func:`simulate_lr` (plain specs) and :func:`schedule_curves` (a config) build the real
optimizer over one dummy parameter per param group and the real scheduler, through the same
builder and registry as training, and step them as a training loop would. So the rates are exactly
those of a run, and a scheduler a user registered previews like a built-in one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.errors import ConfigError
from . import Config
from .build import build_component, build_scheduler, param_group_rules, steps_per_epoch
from .loader import Sources
from .preview import example_dataset_size


def simulate_lr(
    optimizer: dict[str, Any] | str,
    scheduler: dict[str, Any] | None,
    steps: int,
    metrics: Sequence[float] | str | None = None,
) -> dict[str, list[list[float]] | None]:
    """The learning rate (and cycled momentum) of every param group at each of ``steps`` steps.

    Step ``i`` reports the rate the optimizer uses for its ``i``-th update; the scheduler is
    stepped after each one, as in a training loop.

    Args:
        optimizer: ``{"type": "SGD", "lr": 0.1, ...}`` (or just the name). An optional
            ``"param_groups": [{"lr": 0.1}, {"lr": 0.01}]`` makes several groups, each with its
            own hyperparameters.
        scheduler: ``{"type": "StepLR", "step_size": 30, ...}``, or None for a constant rate.
            ``SequentialLR`` and ``ChainedScheduler`` take ``"schedulers": [spec, ...]``.
        steps: number of steps to report.
        metrics: for ``ReduceLROnPlateau``: the metric after each step (at least ``steps - 1``
            values), or an expression in ``epoch`` (e.g. ``"1 / (epoch + 1)"``).

    Returns:
        ``{"lr": [[lr per step] per group], "momentum": [[...] per group] or None}``;
        ``momentum`` is given when a scheduler cycles it (Adam's beta1 for Adam-like optimizers).

    Raises:
        ConfigError: an unknown optimizer or scheduler name, bad arguments, missing metrics.

    Example:
        >>> simulate_lr({"type": "SGD", "lr": 1.0}, {"type": "StepLR", "step_size": 2,
        ...              "gamma": 0.5}, steps=5)["lr"]
        [[1.0, 1.0, 0.5, 0.5, 0.25]]
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ConfigError(f"simulate_lr: steps must be a non-negative integer, got {steps!r}")
    spec = {"type": optimizer} if isinstance(optimizer, str) else dict(optimizer)
    groups = spec.pop("param_groups", None) or [{}]
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
        raise ConfigError(f"param_groups must be a list of dicts of hyperparameters, got "
                          f"{groups!r}")
    cfg = Config({"optimizer": spec, "scheduler": scheduler}, Sources({(): "simulate_lr"}), None)
    opt = _dummy_optimizer(cfg, spec, groups)
    sched = None
    if scheduler is not None:
        if not isinstance(scheduler, dict):
            raise ConfigError(f"a scheduler spec must be a dict with a 'type', got {scheduler!r}")
        sched = build_component(scheduler, "scheduler", cfg, ("scheduler",),
                                inject={"optimizer": opt})
    return record_lr(opt, sched, steps, metrics)


def record_lr(optimizer, scheduler, steps: int, metrics=None) -> dict:
    """Step ``scheduler`` ``steps - 1`` times, recording each group's LR (and cycled momentum)
    before every step; ``metrics`` feeds a scheduler that needs one (see :func:`simulate_lr`)."""
    from ..optim.lr_scheduler import ReduceLROnPlateau

    plateau = isinstance(scheduler, ReduceLROnPlateau)
    metric_at = _metric_source(metrics, steps) if plateau else None
    cycles = _cycles_momentum(scheduler)
    use_beta1 = "betas" in optimizer.defaults
    lrs: list[list[float]] = [[] for _ in optimizer.param_groups]
    momenta: list[list[float]] = [[] for _ in optimizer.param_groups]
    for i in range(steps):
        for group, lr_out, m_out in zip(optimizer.param_groups, lrs, momenta):
            lr_out.append(float(group["lr"]))
            if cycles:
                m_out.append(float(group["betas"][0] if use_beta1 else group["momentum"]))
        if scheduler is None or i == steps - 1:
            continue
        if plateau:
            scheduler.step(metric_at(i))
        else:
            scheduler.step()
    return {"lr": lrs, "momentum": momenta if cycles else None}


def schedule_curves(cfg: Config, epochs: int | None = None, steps_per_epoch_: int | None = None):
    """``(curves, note)``: the LR of every param group over a config's run, x in epochs.

    Steps per epoch come from the training data's size when its files can be read, else 1 (and
    ``note`` says so). ``ReduceLROnPlateau`` is previewed with a metric that never improves.
    """
    epochs = epochs or cfg["train"]["epochs"]
    where = cfg.path or cfg["name"]
    note = None
    if steps_per_epoch_ is None:
        size = example_dataset_size(cfg)
        if size is None:
            steps_per_epoch_, note = 1, (f"{where}: dataset size unknown without its files; "
                                         "assumed 1 step per epoch (use --steps-per-epoch)")
        else:
            steps_per_epoch_ = steps_per_epoch(cfg, size)
    rules = param_group_rules(cfg)
    spec = {k: v for k, v in cfg["optimizer"].items() if k != "param_groups"}
    groups = [{}] + [{k: v for k, v in r.items() if k != "params"} for r in rules]
    labels = ["lr"] if not rules else ["default group"] + [f"params {r['params']}" for r in rules]
    opt = _dummy_optimizer(cfg, spec, groups)
    schedule = build_scheduler(cfg, opt, steps_per_epoch_)
    per_step = schedule is not None and schedule.interval == "step" and schedule.monitor is None
    steps = epochs * steps_per_epoch_ if per_step else epochs
    metrics = None
    if schedule is not None and schedule.monitor is not None:
        metrics = [1.0] * steps
        note = f"{where}: {cfg['scheduler']['type']} previewed with a metric that never improves"
    try:
        result = record_lr(opt, schedule.scheduler if schedule else None, steps, metrics)
    except ConfigError as e:  # e.g. an LR expression that turns negative at epoch 101
        raise cfg.error(("scheduler",), str(e)) from None
    scale = 1 / steps_per_epoch_ if per_step else 1.0
    xs = [i * scale for i in range(steps)]
    marks = _milestones(cfg["scheduler"], scale, steps)
    curves = []
    for label, lrs in zip(labels, result["lr"]):
        name = cfg["name"] if len(labels) == 1 else f"{cfg['name']}: {label}"
        curves.append({"label": name, "steps": xs, "lrs": lrs, "milestones": marks,
                       # a per-epoch LR holds for the whole epoch
                       "drawstyle": "default" if per_step else "steps-post"})
    return curves, note


def _dummy_optimizer(cfg: Config, spec: dict, groups: list[dict]):
    from ..autograd.creation import zeros

    params = [dict(g, params=[zeros(1, requires_grad=True)]) for g in groups]
    opt = build_component(spec, "optimizer", cfg, ("optimizer",), inject={"params": params})
    opt._opt_called = True  # the dummy optimizer never updates anything: no step-order warning
    return opt


def _milestones(spec: dict | None, scale: float, total: int) -> list[float]:
    """Where a StepLR/MultiStepLR (also inside a composite) changes the rate, in epochs."""
    if not spec:
        return []
    marks = []
    if spec.get("type") == "StepLR":
        size = spec.get("step_size") or 0
        marks = list(range(size, total, size)) if isinstance(size, int) and size > 0 else []
    elif isinstance(spec.get("milestones"), list):
        marks = list(spec["milestones"])
    for child in spec.get("schedulers") or []:
        if isinstance(child, dict) and child.get("type") in ("StepLR", "MultiStepLR"):
            marks += _milestones(child, 1.0, total)
    return [m * scale for m in marks if isinstance(m, (int, float)) and 0 < m < total]


def _metric_source(metrics, steps: int):
    if metrics is None:
        raise ConfigError("ReduceLROnPlateau needs metrics: a list of values or an expression")
    if isinstance(metrics, str):
        from ..optim.expr import compile_expression

        return compile_expression(metrics)
    values = list(metrics)
    if len(values) < steps - 1:
        raise ConfigError(
            f"ReduceLROnPlateau needs a metric after each step: got {len(values)} values for "
            f"{steps} steps (at least {steps - 1} needed)"
        )
    return values.__getitem__


def _cycles_momentum(sched) -> bool:
    if sched is None:
        return False
    if getattr(sched, "cycle_momentum", False):
        return True
    return any(_cycles_momentum(s) for s in getattr(sched, "_schedulers", ()))
