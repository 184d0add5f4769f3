"""Learning-rate charts: what ``trainctl plot-lr`` does, as a library function.

A target is a config file (its schedule previewed without training, see
:func:`trainctl.config.lr_preview.schedule_curves`) or a run directory (the LR it recorded in
``metrics.jsonl``, as a step function: each logged value held back to the previous one).
Several targets are overlaid on one chart, x in epochs.

The chart goes to ``<runs_root>/<config name>/lr-preview.<fmt>`` for one config,
``<run dir>/lr-plot.<fmt>`` for one run (never over the run's own ``lr.<fmt>``), and
``<runs_root>/lr-preview-<name>+<name>....<fmt>`` for several targets, unless ``out`` is given.

Example:
    >>> from trainctl.training import plot_lr
    >>> curves, notes, path = plot_lr(["configs/schedulers/warmup_cosine.yaml"])  # doctest: +SKIP
    >>> path  # doctest: +SKIP
    PosixPath('runs/sched_warmup_cosine/lr-preview.png')
"""

from __future__ import annotations

import json
from pathlib import Path

from ..config import load_config
from ..config.lr_preview import schedule_curves
from ..core.errors import ConfigError
from .metrics_log import read_metrics
from .plot_style import check_format
from .plots import lr_keys, lr_samples, plot_lr_curves
from .plots import steps_per_epoch as logged_steps_per_epoch
from .run_dir import latest_run


def recorded_lr_curves(run_dir: Path) -> list[dict]:
    """Curves of the LR a run recorded (one per param group, x in epochs, drawn as steps)."""
    run_dir = Path(run_dir)
    if not (run_dir / "metrics.jsonl").exists():
        raise ConfigError(f"{run_dir}: no metrics.jsonl here; is this a run directory?")
    rows = read_metrics(run_dir / "metrics.jsonl")
    per_epoch = logged_steps_per_epoch(rows) or 1
    curves = []
    for key in lr_keys(rows):
        steps, lrs = lr_samples(rows, key)
        if not steps:
            continue
        label = run_dir.name if key == "lr" else f"{run_dir.name}: group {key[3:]}"
        curves.append({"label": f"{run_dir.parent.name}/{label}",
                       "steps": [s / per_epoch for s in steps], "lrs": lrs,
                       # each logged LR was used since the previous log: drawn back to it
                       "start": 0.0, "drawstyle": "steps-pre"})
    if not curves:
        raise ConfigError(f"{run_dir}: the run has not logged any learning rate yet")
    return curves


def plot_lr(targets=(), epochs=None, steps_per_epoch=None, out=None, log_scale=False,
            runs_root="runs", trust_code=False, fmt=None):
    """Draw the LR of each target into one chart; returns ``(curves, notes, path)``.

    With no target, the newest run under ``runs_root``. ``fmt`` is png (default), svg or pdf;
    with ``out``, the format follows its suffix. The default path is named after the config's
    ``name`` (see the module's docstring); nothing a run saved is overwritten.
    """
    curves, notes, names = [], [], []
    targets = list(targets)
    if out is not None and fmt is not None and Path(out).suffix.lower() not in ("", f".{fmt}"):
        raise ConfigError(f"--out {out} does not end in .{fmt} (--format {fmt}); give one of "
                          "them, or make them agree")
    fmt = check_format(fmt or (Path(out).suffix if out is not None and Path(out).suffix
                               else "png"))
    if not targets:
        newest = latest_run(Path(runs_root))
        if newest is None:
            raise ConfigError(f"no runs under {runs_root}/ yet; give a config or a run directory")
        targets = [str(newest)]
    for target in targets:
        if Path(target).is_dir():
            curves += recorded_lr_curves(Path(target))
            names.append(_run_name(Path(target)))
        else:
            cfg = load_config(target, trust_code=trust_code)
            found, note = schedule_curves(cfg, epochs, steps_per_epoch)
            curves += found
            names.append(cfg["name"])
            if note:
                notes.append(note)
    if out is None:
        out = _default_out(targets, names, Path(runs_root), fmt)
    path = plot_lr_curves(curves, Path(out), log_scale=log_scale, xlabel="epoch",
                          title=_title(targets, names))
    return curves, notes, path


def _run_name(run_dir: Path) -> str:
    """The config's ``name`` a run recorded in ``summary.json``, else its parent folder's."""
    try:
        name = json.loads((run_dir / "summary.json").read_text()).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and name else run_dir.resolve().parent.name


def _default_out(targets: list, names: list[str], runs_root: Path, fmt: str) -> Path:
    if len(targets) == 1 and Path(targets[0]).is_dir():
        return Path(targets[0]) / f"lr-plot.{fmt}"
    if len(targets) == 1:
        return runs_root / names[0] / f"lr-preview.{fmt}"
    unique = list(dict.fromkeys(names))
    shown = "+".join(unique[:4]) + (f"+{len(unique) - 4}more" if len(unique) > 4 else "")
    return runs_root / f"lr-preview-{shown}.{fmt}"


def _title(targets: list, names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    runs = [Path(t).is_dir() for t in targets]
    if len(unique) == 1:
        what = "learning rate (as recorded)" if all(runs) else "learning-rate schedule (preview)"
        return f"{unique[0]}: {what}"
    if len(unique) == 2:  # a longer list would not fit: the legend names every curve
        return f"learning-rate schedules: {unique[0]} vs {unique[1]}"
    kind = "runs" if all(runs) else ("configs" if not any(runs) else "configs and runs")
    return f"learning-rate schedules of {len(unique)} {kind}"
