"""``trainctl plot-lr [TARGET...]``: draw learning-rate schedules.

A TARGET is a config file (the schedule is previewed by stepping the real optimizer and scheduler
on dummy parameters, no model or data), or a run directory (the LR it recorded). With no target,
the newest run under ``runs/``. Several targets are overlaid on one chart, x in epochs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..config import load_config
from ..config.build import example_dataset_size
from ..core.errors import ConfigError
from ..training.run_dir import latest_run


def _group_specs(cfg) -> tuple[dict, list[str]]:
    """The optimizer spec for ``simulate_lr`` with one group per ``param_groups`` rule."""
    spec = {k: v for k, v in cfg["optimizer"].items() if k != "param_groups"}
    rules = cfg["optimizer"].get("param_groups") or []
    if not rules:
        return spec, ["lr"]
    spec["param_groups"] = [{}] + [{k: v for k, v in r.items() if k != "params"} for r in rules]
    labels = ["default group"] + [f"params {r['params']}" for r in rules]
    return spec, labels


def _milestones(spec: dict | None, scale: float, total: int) -> list[float]:
    if not spec:
        return []
    marks = []
    if spec.get("type") == "StepLR":
        size = spec.get("step_size") or 0
        marks = list(range(size, total, size)) if size > 0 else []
    elif spec.get("milestones"):
        marks = list(spec["milestones"])
    for child in spec.get("schedulers") or []:
        if isinstance(child, dict) and child.get("type") in ("StepLR", "MultiStepLR"):
            marks += _milestones(child, 1.0, total)
    return [m * scale for m in marks if 0 < m < total]


def preview_config(path: str, epochs: int | None, steps_per_epoch: int | None):
    """Curves of one config's schedule (one per param group) and a note, if any."""
    from ..optim.simulate import simulate_lr

    cfg = load_config(path)
    epochs = epochs or cfg["train"]["epochs"]
    note = None
    if steps_per_epoch is None:
        size = example_dataset_size(cfg)
        if size is None:
            steps_per_epoch, note = 1, (f"{path}: dataset size unknown without its files; "
                                        "assumed 1 step per epoch (use --steps-per-epoch)")
        else:
            batches = size // cfg["data"]["batch_size"] if cfg["data"]["drop_last"] else \
                math.ceil(size / cfg["data"]["batch_size"])
            steps_per_epoch = max(1, math.ceil(batches / cfg["train"]["accumulate_grad_batches"]))
    sched = cfg["scheduler"]
    per_step = sched is not None and sched["interval"] == "step"
    spec = None
    if sched is not None:
        spec = {k: v for k, v in sched.items() if k not in ("interval", "monitor")}
        if spec["type"] == "OneCycleLR" and "epochs" in spec:
            spec.setdefault("steps_per_epoch", steps_per_epoch)
    steps = epochs * steps_per_epoch if per_step else epochs
    metrics = None
    if spec is not None and spec["type"] == "ReduceLROnPlateau":
        metrics = [1.0] * steps
        note = f"{path}: ReduceLROnPlateau previewed with a metric that never improves"
    opt_spec, labels = _group_specs(cfg)
    try:
        result = simulate_lr(opt_spec, spec, steps, metrics=metrics)
    except ConfigError as e:
        raise cfg.error(("scheduler",), str(e)) from None
    scale = 1 / steps_per_epoch if per_step else 1.0
    xs = [i * scale for i in range(steps)]
    curves = []
    for label, lrs in zip(labels, result["lr"]):
        name = cfg["name"] if len(labels) == 1 else f"{cfg['name']}: {label}"
        curves.append({"label": name, "steps": xs, "lrs": lrs,
                       "milestones": _milestones(spec, scale, steps),
                       # a per-epoch LR holds for the whole epoch
                       "drawstyle": "default" if per_step else "steps-post"})
    return curves, note


def recorded_run(run_dir: Path):
    """Curves of the LR a run recorded in metrics.jsonl (x in epochs)."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        raise ConfigError(f"{run_dir}: no metrics.jsonl here; is this a run directory?")
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            break
    epochs = [r for r in rows if r["kind"] == "epoch"]
    per_epoch = epochs[0]["step"] / epochs[0]["epoch"] if epochs and epochs[0]["epoch"] else 1
    keys = sorted({k for r in rows for k in r if k == "lr" or k.startswith("lr/")})
    curves = []
    for key in keys:
        points = sorted({(r["step"], r[key]) for r in rows if r.get(key) is not None})
        label = run_dir.name if key == "lr" else f"{run_dir.name}: group {key[3:]}"
        curves.append({"label": f"{run_dir.parent.name}/{label}",
                       "steps": [s / per_epoch for s, _ in points],
                       "lrs": [v for _, v in points]})
    if not curves:
        raise ConfigError(f"{run_dir}: the run has not logged any learning rate yet")
    return curves


def run_plot_lr(targets, epochs=None, steps_per_epoch=None, out=None, log_scale=False,
                runs_root="runs", echo=None):
    import click

    from ..training.plots import plot_lr_curves

    echo = echo or click.echo
    curves, notes = [], []
    if not targets:
        newest = latest_run(Path(runs_root))
        if newest is None:
            raise ConfigError(f"no runs under {runs_root}/ yet; give a config or a run directory")
        targets = [str(newest)]
    for target in targets:
        path = Path(target)
        if path.is_dir():
            curves += recorded_run(path)
        else:
            found, note = preview_config(target, epochs, steps_per_epoch)
            curves += found
            if note:
                notes.append(note)
    if out is None:  # never a run's own lr.png: nothing a run saved is overwritten
        first = Path(targets[0]).resolve()
        name = first.parent.name if first.is_dir() else first.stem
        out = Path(f"lr-{name}.png")
    for curve in curves:
        lrs = curve["lrs"]
        echo(f"{curve['label']}: initial {lrs[0]:.6g}, min {min(lrs):.6g}, "
             f"max {max(lrs):.6g}, final {lrs[-1]:.6g} ({len(lrs)} points)")
    for note in notes:
        echo(f"note: {note}", err=True)
    path = plot_lr_curves(curves, Path(out), log_scale=log_scale, xlabel="epoch")
    echo(f"wrote {path}")
    return 0
