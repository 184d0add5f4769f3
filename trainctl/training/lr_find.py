"""The learning-rate range test: what ``trainctl lr-find`` does, as a library function.

From the config's initial weights, train for ``steps`` optimizer steps while the LR grows from
``min_lr`` to ``max_lr`` (geometrically, or linearly), and record the loss of every step and
its exponentially smoothed, bias-corrected value. The test stops early once the smoothed loss
passes 4x the best one (it diverged). Two suggestions are read off the smoothed curve: the LR
of its steepest descent (against log LR) and the LR of its minimum divided by 10.

Nothing is written into a run directory of the config: the results go to
``<runs_root>/<name>/lr-find-<timestamp>/`` (``lr_find.json`` and ``lr-find.png``), and no
checkpoint is saved. With ``apply=True`` the suggestion is written back as a new config file
next to the original, ``<stem>.lr-<value>.yaml``, which names the original in ``base:``.

Example:
    >>> from trainctl.training import lr_find
    >>> result = lr_find("configs/spirals_mlp.yaml", steps=100)  # doctest: +SKIP
    >>> result["suggested"], result["out_dir"]  # doctest: +SKIP
    (0.00316, PosixPath('runs/spirals_mlp/lr-find-20260102-101500'))
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

import numpy

from ..config import load_config
from ..config.changes import override_mapping
from ..core.errors import ConfigError
from ..nn.utils import clip_grad_norm_, clip_grad_value_
from . import plot_style as style
from .setup import build_run
from .trainer import needs_closure

BETA = 0.98          # smoothing of the loss (fastai's and Lightning's value)
DIVERGE = 4.0        # stop once the smoothed loss exceeds this many times its best
SKIP_START = 10      # the steepest descent ignores the first points (smoothing still warming)
SKIP_END = 5         # ... and the last ones (where the loss turns up)
MODES = ("exp", "linear")


def lr_schedule(min_lr: float, max_lr: float, steps: int, mode: str = "exp") -> list[float]:
    """The LR of each step, from ``min_lr`` to ``max_lr`` inclusive.

    >>> lr_schedule(1e-3, 1e-1, 3)
    [0.001, 0.01, 0.1]
    >>> lr_schedule(0.1, 0.3, 3, "linear")
    [0.1, 0.2, 0.3]
    """
    t = numpy.linspace(0.0, 1.0, steps)
    if mode == "exp":
        lrs = min_lr * (max_lr / min_lr) ** t
    else:
        lrs = min_lr + (max_lr - min_lr) * t
    return [float(f"{lr:.12g}") for lr in lrs]  # no 0.010000000000000002 in the json


def smooth(losses: list[float], beta: float = BETA) -> list[float]:
    """Exponential moving average of ``losses``, bias-corrected (so the first value is the
    first loss, not ``(1 - beta)`` times it).

    >>> [round(v, 9) for v in smooth([1.0, 1.0, 1.0])]
    [1.0, 1.0, 1.0]
    """
    avg, out = 0.0, []
    for i, loss in enumerate(losses, start=1):
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta ** i))
    return out


def suggestions(lrs: list[float], smoothed: list[float]) -> dict:
    """``{"steepest": lr, "min_div_10": lr}`` of a finished test (None where there are too few
    finite points). Steepest: the most negative slope of the smoothed loss against log10 LR,
    leaving out the first and last few points when enough remain; min / 10: the LR of the lowest
    smoothed loss, divided by 10 (a safe distance before the loss blows up).

    >>> lrs = [10 ** (k / 10 - 4) for k in range(40)]
    >>> losses = [1 / (1 + math.exp(4 * (math.log10(lr) + 2))) for lr in lrs]  # a drop at 1e-2
    >>> s = suggestions(lrs, losses)
    >>> round(math.log10(s["steepest"]), 1), round(math.log10(s["min_div_10"]), 1)
    (-2.0, -1.1)
    """
    points = [(lr, loss) for lr, loss in zip(lrs, smoothed) if math.isfinite(loss)]
    if len(points) < 3:
        return {"steepest": None, "min_div_10": None}
    x = numpy.log10([lr for lr, _ in points])
    y = numpy.array([loss for _, loss in points])
    slope = numpy.gradient(y, x)
    lo, hi = (SKIP_START, len(points) - SKIP_END) if len(points) > SKIP_START + SKIP_END + 2 \
        else (0, len(points))
    steepest = lo + int(numpy.argmin(slope[lo:hi]))
    lowest = int(numpy.argmin(y))
    return {"steepest": _round(points[steepest][0]), "min_div_10": _round(points[lowest][0] / 10)}


def _round(lr: float) -> float:
    """Three significant digits: the test cannot tell more, and a config reads better."""
    return float(f"{lr:.3g}")


def lr_find(config, overrides=(), min_lr=1e-7, max_lr=10.0, steps=100, mode="exp", apply=False,
            trust_code=False, runs_root="runs") -> dict:
    """Run the LR range test on ``config``; returns what it found.

    Every param group ``i`` runs at ``lr * base_i / base_0`` while group 0 runs at ``lr``, so
    the groups keep the ratios the config gives them. The keys of the result: ``lrs``
    (group 0's LR per step), ``losses``, ``smoothed``, ``steps_run``, ``diverged_at`` (the LR of
    the step that stopped the test, or None), ``suggestion`` (``steepest``, ``min_div_10``),
    ``suggested`` (the steepest), ``group_ratios``, ``out_dir``, ``json``, ``plot`` and
    ``applied`` (the new config file, or None).
    """
    _check_arguments(min_lr, max_lr, steps, mode)
    cfg = load_config(config, overrides, trust_code=trust_code)
    parts = build_run(cfg)  # seeded: the same initial weights and batches as `train`
    model, loss_fn, optimizer = parts.model, parts.loss_fn, parts.optimizer
    # a scheduler may have moved the LR at construction (warm-up): the configured one is kept
    base_lrs = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
    if not base_lrs[0] > 0:
        raise ConfigError(f"{config}: optimizer.lr must be positive to scale the param groups")
    ratios = [lr / base_lrs[0] for lr in base_lrs]
    clip = cfg["train"]["grad_clip"] or {}
    closure_needed = needs_closure(optimizer)

    lrs, losses = [], []
    diverged_at = None
    batches = _cycle(parts.train_loader)
    model.train()
    for lr in lr_schedule(min_lr, max_lr, steps, mode):
        for group, ratio in zip(optimizer.param_groups, ratios):
            group["lr"] = lr * ratio
        x, y = next(batches)
        x, y = parts.to_device(x), parts.to_device(y)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        value = float(loss.item())
        lrs.append(lr)
        losses.append(value)
        smoothed = smooth(losses)
        if not math.isfinite(value) or smoothed[-1] > DIVERGE * min(smoothed):
            diverged_at = lr  # no step on a diverged loss: the test is over
            break
        loss.backward()
        _clip(model, clip)
        if closure_needed:  # LBFGS: re-evaluates on the same batch
            optimizer.step(_closure(model, loss_fn, optimizer, x, y, loss, clip))
        else:
            optimizer.step()

    smoothed = smooth(losses)
    found = suggestions(lrs, smoothed)
    out_dir = _new_out_dir(Path(runs_root) / cfg["name"])
    result = {
        "config": str(config), "overrides": list(overrides), "mode": mode,
        "min_lr": min_lr, "max_lr": max_lr, "steps": steps, "steps_run": len(lrs),
        "diverged_at": diverged_at, "group_ratios": ratios,
        "suggestion": found, "suggested": found["steepest"],
        "lrs": lrs, "losses": losses, "smoothed": smoothed,
    }
    json_path = out_dir / "lr_find.json"
    # json has no NaN/inf: a loss that overflowed is written as null
    json_path.write_text(json.dumps(_finite_or_none(result), indent=1) + "\n")
    plot_path = plot_lr_find(lrs, smoothed, found, out_dir / "lr-find.png", cfg["name"])
    applied = None
    if apply:
        if found["steepest"] is None:
            raise ConfigError(f"{config}: too few finite losses to suggest an LR; nothing applied")
        applied = apply_suggestion(config, cfg, found["steepest"], base_lrs[0], overrides,
                                   trust_code)
    return {**result, "out_dir": out_dir, "json": json_path, "plot": plot_path,
            "applied": applied}


def _check_arguments(min_lr, max_lr, steps, mode) -> None:
    if not min_lr > 0:
        raise ConfigError(f"lr-find: --min must be positive, got {min_lr}")
    if not min_lr < max_lr:
        raise ConfigError(f"lr-find: --min ({min_lr}) must be below --max ({max_lr})")
    if steps < 10:
        raise ConfigError(f"lr-find: --steps must be at least 10, got {steps}")
    if mode not in MODES:
        raise ConfigError(f"lr-find: --mode must be one of {', '.join(MODES)}, got {mode!r}")


def _cycle(loader):
    """Batches of ``loader`` without end: a test longer than an epoch starts another one."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ConfigError("lr-find: the training loader gives no batch")


def _clip(model, clip: dict) -> None:
    """The config's ``train.grad_clip``, as in training: it changes where the loss diverges."""
    if clip.get("max_norm") is not None:
        clip_grad_norm_(model.parameters(), clip["max_norm"], clip.get("norm_type", 2.0))
    elif clip.get("value") is not None:
        clip_grad_value_(model.parameters(), clip["value"])


def _closure(model, loss_fn, optimizer, x, y, loss, clip):
    """The closure LBFGS calls: first the loss just computed, then fresh evaluations."""
    first = [loss]

    def closure():
        if first:
            return first.pop()
        optimizer.zero_grad()
        again = loss_fn(model(x), y)
        again.backward()
        _clip(model, clip)
        return again

    return closure


def _new_out_dir(base: Path) -> Path:
    """A fresh ``base/lr-find-<timestamp>`` (``-1``, ``-2``... when run twice in a second)."""
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for i in range(1000):
        candidate = base / (f"lr-find-{stamp}" if i == 0 else f"lr-find-{stamp}-{i}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise ConfigError(f"{base}: could not create a new lr-find directory")


def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value


def plot_lr_find(lrs, smoothed, found: dict, out: Path, name: str | None = None) -> Path:
    """Smoothed loss against LR (log x) with both suggestions marked; returns the path."""
    fig, ax = style.figure()
    points = [(lr, loss) for lr, loss in zip(lrs, smoothed) if math.isfinite(loss)]
    ax.plot([p[0] for p in points], [p[1] for p in points], color=style.SPLIT_COLORS["train"],
            linewidth=1.6, label="smoothed loss")
    marks = (("steepest", "steepest descent", style.SPLIT_COLORS["val"], "o"),
             ("min_div_10", "min loss / 10", style.MARK_COLOR, "s"))
    for key, label, color, marker in marks:
        lr = found.get(key)
        if lr is None:
            continue
        # the curve's value at the suggestion: the nearest recorded LR (log distance)
        nearest = min(points, key=lambda p: abs(math.log(p[0] / lr)))
        ax.axvline(lr, color=color, alpha=0.5, linestyle="--", linewidth=0.9)
        ax.plot([lr], [nearest[1]], marker=marker, color=color, linestyle="none",
                label=f"{label}: {lr:.3g}")
    ax.set_xscale("log")
    if points:  # the divergence can reach far above the curve's interesting part
        ys = [p[1] for p in points]
        low, first = min(ys), ys[0]
        ax.set_ylim(low - 0.05 * (first - low + 1e-12), max(first, low) + 0.6 * (first - low)
                    + 1e-12)
    ax.set(xlabel="learning rate (group 0)", ylabel="loss (smoothed)",
           title=style.title(name, "LR range test"))
    style.grid(ax)
    style.legend_outside(ax)
    return style.save(fig, out)


def apply_suggestion(config, cfg, lr: float, base_lr: float, overrides=(),
                     trust_code=False) -> Path:
    """Write ``<stem>.lr-<lr>.yaml`` next to ``config`` (``-2``, ``-3``... when taken): the
    original as ``base:``, the ``--set`` overrides the test ran with, and the new
    ``optimizer.lr``. A param-group rule with its own ``lr`` is scaled by the same factor, so
    the groups keep their ratios. Checked by loading it."""
    import yaml

    source = Path(config)
    # the --set the test ran with first (the base file does not have them), then the new LR
    changed = override_mapping(source, overrides)
    optimizer = changed.setdefault("optimizer", {})
    optimizer["lr"] = lr
    scale = lr / base_lr
    rules = cfg["optimizer"].get("param_groups") or []
    if any("lr" in rule for rule in rules):
        optimizer["param_groups"] = [
            {**rule, "lr": _round(rule["lr"] * scale)} if "lr" in rule else rule
            for rule in rules]
        # group 0 may be a rule (every parameter matched one): optimizer.lr then scales too
        optimizer["lr"] = _round(cfg["optimizer"]["lr"] * scale)
    header = f"# trainctl lr-find: the steepest-descent LR of {source.name}\n"
    if overrides:
        header += f"# found with --set {' --set '.join(overrides)} (included below)\n"
    text = yaml.safe_dump(changed, sort_keys=False)
    body = f"{header}base: {source.name}\n{text}"
    for i in range(1, 1000):
        path = source.with_name(f"{source.stem}.lr-{lr:g}{'' if i == 1 else f'-{i}'}.yaml")
        try:
            with open(path, "x") as f:  # "x": never over an existing file
                f.write(body)
            break
        except FileExistsError:
            continue
    else:
        raise ConfigError(f"{source}: no free name for the applied config")
    load_config(path, trust_code=trust_code)  # a ConfigError now, not at the next `train`
    return path
