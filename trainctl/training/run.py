"""A whole training run from a config file: what ``trainctl train`` does, as a library function.

:func:`train` loads the config, finds the checkpoint to resume, chooses and locks the run
directory, builds the run, trains it with Ctrl-C handled, and writes ``config.yaml``,
``metrics.csv``/``.jsonl``, checkpoints, ``summary.json`` and the plots. It returns the summary
(what ``summary.json`` holds); the CLI only turns its status into an exit code.

Example:
    >>> from trainctl.training import train
    >>> summary = train("configs/linreg.yaml", overrides=["train.epochs=5"], quiet=True)
    ... # doctest: +SKIP
    >>> summary["status"]  # doctest: +SKIP
    'completed'
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

from .._version import __version__
from ..autograd import serialization
from ..config import Config, config_changes, load_config, resolve
from .callbacks import CheckpointSaver, MetricsLogger
from .checkpoint import load_checkpoint, load_model_weights
from .metrics import default_monitor
from .metrics_log import read_metrics
from .run_dir import RunLock, choose_run_dir, point_latest, resume_checkpoint, run_dir_of
from .setup import RunParts, build_run, trainer_arguments
from .signals import StopOnSignal
from .trainer import Interrupted, NonFiniteLoss, Trainer


def echo_to_console(message: str, err: bool = False) -> None:
    """The default ``echo``: one line to stdout (or stderr)."""
    print(message, file=sys.stderr if err else sys.stdout, flush=True)


def train(config, overrides=(), run_dir=None, resume=None, device=None, trust_code=False,
          quiet=False, runs_root="runs", echo=None) -> dict:
    """Train the run a config file describes; returns its summary.

    Args:
        config: path of the YAML config.
        overrides: ``"key.path=value"`` strings, applied in order (the CLI's ``--set``).
        run_dir: write the run here (must be empty unless resuming into it); default
            ``<runs_root>/<name>/<timestamp>/``.
        resume: ``"auto"`` (the newest run of this config's name), a run directory or a
            checkpoint file to continue from.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``, overriding the config.
        trust_code: allow components named by import path (``type: "pkg.mod:Name"``).
        quiet: plain one-line-per-epoch logs instead of live bars (also when stdout is not a
            terminal).
        echo: ``echo(message, err=False)`` prints messages (default: stdout/stderr).

    Returns:
        The summary dict: ``status`` (``completed``, ``interrupted``, or why training stopped
        early), epochs, steps, time, final metrics, best metric and checkpoint, versions, and
        ``run_dir``.

    Raises:
        TrainctlError: a bad config, data or checkpoint, or a non-finite loss; files saved
            before the error are kept.
    """
    echo = echo or echo_to_console
    runs_root = Path(runs_root)
    cfg = load_config(config, [*overrides, *([f"device={device}"] if device else [])],
                      trust_code=trust_code)
    state = ckpt_path = resume_dir = None
    if resume is not None:
        ckpt_path = resume_checkpoint(resume, runs_root, cfg["name"])
        state = load_checkpoint(ckpt_path)
        changed = config_changes(resolve(state["config"]), cfg)
        if changed:
            echo(f"warning: the config differs from the checkpoint's in: {', '.join(changed)}; "
                 "continuing with the new values", err=True)
        resume_dir = run_dir_of(ckpt_path)
        echo(f"resuming from {ckpt_path} (epoch {state['trainer']['epoch']}, "
             f"step {state['trainer']['global_step']})")
    target = choose_run_dir(run_dir, resume_dir, runs_root, cfg["name"])
    with RunLock(target):
        parts = build_run(cfg)
        if state is not None:
            load_model_weights(parts.model, state["model"], ckpt_path)
        serialization.atomic_write(target / "config.yaml", cfg.to_yaml().encode())
        point_latest(target)
        saver = _checkpoint_saver(cfg, parts, target)
        callbacks = [_metrics_logger(cfg, parts, target), saver, _progress(cfg, quiet, echo)]
        trainer = Trainer(**trainer_arguments(cfg, parts, callbacks))
        if state is not None:
            trainer.load_state_dict(state)
        status = "completed"
        try:
            with StopOnSignal(trainer, echo):
                trainer.fit()
            status = trainer.stop_reason or status
        except Interrupted:
            status = "interrupted"
            echo(f"interrupted: saved {target / 'checkpoints' / 'last.safetensors'}\n"
                 f"resume with: trainctl train {config} --resume {target}", err=True)
        except NonFiniteLoss:
            status = "stopped: non-finite loss"
            raise
        finally:
            for cb in trainer.callbacks:
                if hasattr(cb, "close"):
                    cb.close()
            summary = _finish(target, trainer, saver, cfg, status)
        report(summary, parts, echo)
    return summary


def _checkpoint_saver(cfg: Config, parts: RunParts, target: Path) -> CheckpointSaver:
    ck = cfg["checkpoint"]
    return CheckpointSaver(
        target, ck["monitor"] or default_monitor(parts.val_loader is not None), ck["mode"],
        last=ck["last"], best=ck["best"], every=ck["every"], keep_last=ck["keep_last"],
        extra={"config": dict(cfg), "data": {"classes": parts.classes}})


def _metrics_logger(cfg: Config, parts: RunParts, target: Path) -> MetricsLogger:
    groups = len(parts.optimizer.param_groups)
    columns = ["lr"] if groups == 1 else [f"lr/{i}" for i in range(groups)]
    for split in ("train", "val") if parts.val_loader is not None else ("train",):
        columns += [f"{split}/loss"] + [f"{split}/{m}" for m in parts.metrics]
    return MetricsLogger(target, columns, cfg["train"]["log_every"])


def _progress(cfg: Config, quiet: bool, echo):
    from .progress import PlainProgress, RichProgress

    if not quiet and sys.stdout.isatty():
        return RichProgress()
    return PlainProgress(cfg["name"], echo)


def _finish(target: Path, trainer: Trainer, saver: CheckpointSaver, cfg: Config,
            status: str) -> dict:
    """Write ``summary.json`` and the plots; returns the summary."""
    import numpy

    best = target / "checkpoints" / "best.safetensors"
    summary = {
        "name": cfg["name"], "status": status, **trainer.summary(),
        "monitor": saver.monitor, "best_value": saver.best_value, "best_epoch": saver.best_epoch,
        "best_checkpoint": str(best) if best.exists() else None,
        "run_dir": str(target),
        "versions": {"trainctl": __version__, "numpy": numpy.__version__,
                     "python": platform.python_version()},
    }
    serialization.atomic_write(target / "summary.json",
                               json.dumps(summary, indent=2, default=str).encode())
    rows = read_metrics(target / "metrics.jsonl")
    if rows:
        from .plots import plot_run

        plot_run(target, rows)
    return summary


def report(summary: dict, parts: RunParts, echo) -> None:
    """The closing lines of a run: status, final metrics, best checkpoint, run directory."""
    shown = "  ".join(f"{k} {v:.4g}" for k, v in summary["final"].items()
                      if isinstance(v, float) and "/" in k)
    echo(f"{summary['status']}: {summary['epochs']} epochs, {summary['steps']} steps, "
         f"{summary['time_s']:.1f}s")
    if shown:
        echo(f"final: {shown}")
    if summary["best_value"] is not None:
        echo(f"best: {summary['best_value']:.6g} at epoch {summary['best_epoch']} -> "
             f"{Path(summary['run_dir']) / 'checkpoints' / 'best.safetensors'}")
    model = parts.model
    if sum(p.numel() for p in model.parameters()) <= 16:  # tiny models: show what was learned
        for name, param in model.named_parameters():
            values = [round(v, 4) for v in param.detach().reshape(-1).tolist()]
            echo(f"learned {name}: {values}")
    echo(f"run directory: {summary['run_dir']}")
