"""Simulate a learning-rate schedule without a model or data (what ``plot-lr`` draws).

:func:`simulate_lr` builds the real optimizer over one dummy parameter per param group and steps
the real scheduler, so the rates are exactly those of a training run. Specs are plain dicts
(``{"type": "StepLR", "step_size": 30}``), independent of the config layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.errors import ConfigError
from . import lr_scheduler as _schedulers
from .optimizer import Optimizer

_COMPOSITES = ("SequentialLR", "ChainedScheduler")


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
    opt = _build_optimizer(optimizer)
    opt._opt_called = True  # the dummy optimizer never updates anything: no step-order warning
    sched = _build_scheduler(opt, scheduler) if scheduler is not None else None
    plateau = isinstance(sched, _schedulers.ReduceLROnPlateau)
    metric_at = _metric_source(metrics, steps) if plateau else None
    cycles = _cycles_momentum(sched)
    use_beta1 = "betas" in opt.defaults
    lrs: list[list[float]] = [[] for _ in opt.param_groups]
    momenta: list[list[float]] = [[] for _ in opt.param_groups]
    for i in range(steps):
        for group, lr_out, m_out in zip(opt.param_groups, lrs, momenta):
            lr_out.append(float(group["lr"]))
            if cycles:
                m_out.append(float(group["betas"][0] if use_beta1 else group["momentum"]))
        if sched is None or i == steps - 1:
            continue
        if plateau:
            sched.step(metric_at(i))
        else:
            sched.step()
    return {"lr": lrs, "momentum": momenta if cycles else None}


def _build_optimizer(spec) -> Optimizer:
    from .. import optim
    from ..autograd.creation import zeros

    if isinstance(spec, str):
        spec = {"type": spec}
    spec = dict(spec)
    name = spec.pop("type", None)
    cls = getattr(optim, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)) or cls is Optimizer:
        names = [n for n in optim.__all__ if n[0].isupper() and n != "Optimizer"]
        raise ConfigError(f"unknown optimizer {name!r}{_did_you_mean(name, names)}")
    groups = spec.pop("param_groups", None) or [{}]
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
        raise ConfigError(f"param_groups must be a list of dicts of hyperparameters, got "
                          f"{groups!r}")
    params = [dict(g, params=[zeros(1, requires_grad=True)]) for g in groups]
    try:
        return cls(params, **spec)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"optimizer {name}: {exc}") from None


def _build_scheduler(opt: Optimizer, spec):
    if not isinstance(spec, dict):
        raise ConfigError(f"a scheduler spec must be a dict with a 'type', got {spec!r}")
    spec = dict(spec)
    name = spec.pop("type", None)
    cls = getattr(_schedulers, name, None) if isinstance(name, str) else None
    if not isinstance(cls, type) or name.startswith("_") or name == "LRScheduler":
        names = [n for n in _schedulers.__all__ if not n.startswith("_") and n != "LRScheduler"]
        raise ConfigError(f"unknown scheduler {name!r}{_did_you_mean(name, names)}")
    try:
        if name in _COMPOSITES:
            children = [_build_scheduler(opt, child) for child in spec.pop("schedulers", [])]
            if name == "ChainedScheduler":
                return cls(children, optimizer=opt, **spec)
            return cls(opt, schedulers=children, **spec)
        return cls(opt, **spec)
    except (TypeError, ValueError, KeyError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"scheduler {name}: {exc}") from None


def _metric_source(metrics, steps: int):
    if metrics is None:
        raise ConfigError("ReduceLROnPlateau needs metrics: a list of values or an expression")
    if isinstance(metrics, str):
        from .expr import compile_expression

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


def _did_you_mean(name, names) -> str:
    import difflib

    close = difflib.get_close_matches(str(name), names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} (known: {', '.join(names)})"
