"""Learning-rate charts: what ``trainctl plot-lr`` does, as a library function.

A target is a config file (its schedule previewed without training, see
:func:`trainctl.config.lr_preview.schedule_curves`) or a run directory (the LR it recorded in
``metrics.jsonl``). Several targets are overlaid on one chart, x in epochs.

Example:
    >>> from trainctl.training import plot_lr
    >>> curves, notes, png = plot_lr(["configs/schedulers/warmup_cosine.yaml"])  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from ..config import load_config
from ..config.lr_preview import schedule_curves
from ..core.errors import ConfigError
from .metrics_log import read_metrics
from .run_dir import latest_run


def recorded_lr_curves(run_dir: Path) -> list[dict]:
    """Curves of the LR a run recorded (one per param group, x in epochs)."""
    run_dir = Path(run_dir)
    if not (run_dir / "metrics.jsonl").exists():
        raise ConfigError(f"{run_dir}: no metrics.jsonl here; is this a run directory?")
    rows = read_metrics(run_dir / "metrics.jsonl")
    epochs = [r for r in rows if r.get("kind") == "epoch"]
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


def plot_lr(targets=(), epochs=None, steps_per_epoch=None, out=None, log_scale=False,
            runs_root="runs", trust_code=False):
    """Draw the LR of each target into one PNG; returns ``(curves, notes, png_path)``.

    With no target, the newest run under ``runs_root``. ``out`` defaults to ``lr-<name>.png`` in
    the current folder (never a run's own ``lr.png``: nothing a run saved is overwritten).
    """
    from .plots import plot_lr_curves

    curves, notes = [], []
    targets = list(targets)
    if not targets:
        newest = latest_run(Path(runs_root))
        if newest is None:
            raise ConfigError(f"no runs under {runs_root}/ yet; give a config or a run directory")
        targets = [str(newest)]
    for target in targets:
        if Path(target).is_dir():
            curves += recorded_lr_curves(Path(target))
        else:
            cfg = load_config(target, trust_code=trust_code)
            found, note = schedule_curves(cfg, epochs, steps_per_epoch)
            curves += found
            if note:
                notes.append(note)
    if out is None:
        first = Path(targets[0]).resolve()
        out = Path(f"lr-{first.parent.name if first.is_dir() else first.stem}.png")
    return curves, notes, plot_lr_curves(curves, Path(out), log_scale=log_scale, xlabel="epoch")
