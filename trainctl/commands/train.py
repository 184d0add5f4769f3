"""``trainctl train CONFIG``: build the run, train it, and keep everything it produced safe."""

from __future__ import annotations

import json
import platform
import signal
import sys
from pathlib import Path

import yaml

from .._version import __version__
from ..autograd import serialization
from ..config import Config, load_config, resolve
from ..core.errors import ConfigError
from ..training.callbacks import CheckpointSaver, EarlyStopping, MetricsLogger
from ..training.checkpoint import find_checkpoint, load_checkpoint, load_model_weights
from ..training.metrics import metric_mode
from ..training.run_dir import RunLock, latest_run, new_run_dir, point_latest
from ..training.setup import build_run
from ..training.trainer import Interrupted, NonFiniteLoss, Trainer

EXIT_INTERRUPTED = 130


def _flatten(obj, prefix=""):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj):
            out.update(_flatten(v, f"{prefix}.{i}"))
        return out
    return {prefix: obj}


def config_changes(old: dict, new: dict) -> list[str]:
    """Dotted keys whose values differ between two resolved configs (the run name excluded)."""
    a, b = _flatten(old), _flatten(new)
    return sorted(k for k in set(a) | set(b) if k != "name" and a.get(k, "<unset>") !=
                  b.get(k, "<unset>"))


def _resume_checkpoint(resume: str, cfg: Config, runs_root: Path) -> Path:
    if resume == "auto":
        run = latest_run(runs_root, cfg["name"])
        if run is None:
            raise ConfigError(f"--resume auto: no earlier run named {cfg['name']!r} under "
                              f"{runs_root}/ to resume")
        target = run / "checkpoints" / "last.safetensors"
        if not target.exists():
            raise ConfigError(f"--resume auto: {run} has no checkpoints/last.safetensors")
        return target
    path = Path(resume)
    if path.is_dir() and (path / "checkpoints" / "last.safetensors").exists():
        return path / "checkpoints" / "last.safetensors"
    return find_checkpoint(path)


def _run_dir_of(checkpoint: Path) -> Path | None:
    candidate = checkpoint.parent.parent
    return candidate if (candidate / "config.yaml").exists() else None


def _choose_run_dir(run_dir, resume_dir, cfg: Config, runs_root: Path) -> Path:
    if run_dir is not None:
        target = Path(run_dir)
        busy = target.exists() and any(target.iterdir())
        if busy and resume_dir is None:
            raise ConfigError(f"--run-dir {target}: the directory is not empty; trainctl never "
                              "writes over an earlier run (use --resume to continue it)")
        target.mkdir(parents=True, exist_ok=True)
        return target
    if resume_dir is not None:
        return resume_dir
    return new_run_dir(runs_root, cfg["name"])


def _callbacks(cfg: Config, parts, target: Path, quiet: bool, echo):
    from ..training.progress import PlainProgress, RichProgress

    has_val = parts.val_loader is not None
    default_monitor = "val/loss" if has_val else "train/loss"
    ck = dict(cfg["checkpoint"])
    monitor = ck["monitor"] or default_monitor
    columns = [f"lr/{i}" if len(parts.optimizer.param_groups) > 1 else "lr"
               for i in range(len(parts.optimizer.param_groups))]
    for split in ("train", "val") if has_val else ("train",):
        columns += [f"{split}/loss"] + [f"{split}/{m}" for m in cfg["train"]["metrics"]]
    callbacks = [
        MetricsLogger(target, columns, cfg["train"]["log_every"]),
        CheckpointSaver(target, ck, monitor, ck["mode"] or metric_mode(monitor)),
    ]
    es = cfg["train"]["early_stopping"]
    if es is not None:
        es_monitor = es["monitor"] or default_monitor
        callbacks.append(EarlyStopping(es_monitor, es["mode"] or metric_mode(es_monitor),
                                       es["patience"], es["min_delta"]))
    live = not quiet and sys.stdout.isatty()
    callbacks.append(RichProgress() if live else PlainProgress(echo))
    return callbacks


class _SignalGuard:
    """First Ctrl-C/SIGTERM: finish the step, save, stop. Second: stop at once."""

    def __init__(self, trainer, echo):
        self.trainer, self.echo = trainer, echo
        self.previous = {}

    def handle(self, signum, frame):
        if self.trainer.interrupt_requested:
            raise KeyboardInterrupt
        self.trainer.interrupt_requested = True
        self.echo("\nstopping after this step and saving a checkpoint "
                  "(press Ctrl-C again to stop at once)", err=True)

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self.handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        return False


def run_train(config, overrides, run_dir=None, resume=None, device=None, quiet=False,
              runs_root="runs", echo=None) -> int:
    import click

    echo = echo or click.echo
    runs_root = Path(runs_root)
    cfg = load_config(config, list(overrides) + ([f"device={device}"] if device else []))
    state = None
    resume_dir = None
    if resume is not None:
        ckpt_path = _resume_checkpoint(resume, cfg, runs_root)
        state = load_checkpoint(ckpt_path)
        changed = config_changes(resolve(state["config"]), cfg)
        if changed:
            echo(f"warning: the config differs from the checkpoint's in: {', '.join(changed)}; "
                 "continuing with the new values", err=True)
        resume_dir = _run_dir_of(ckpt_path)
        echo(f"resuming from {ckpt_path} (epoch {state['trainer']['epoch']}, "
             f"step {state['trainer']['global_step']})")
    target = _choose_run_dir(run_dir, resume_dir, cfg, runs_root)
    with RunLock(target):
        parts = build_run(cfg)
        if state is not None:
            load_model_weights(parts.model, state["model"], ckpt_path)
        serialization.atomic_write(target / "config.yaml",
                                   yaml.safe_dump(dict(cfg), sort_keys=False).encode())
        point_latest(target)
        callbacks = _callbacks(cfg, parts, target, quiet, echo)
        trainer = Trainer(cfg, parts, callbacks)
        if state is not None:
            trainer.load_state(state)
        status, rc = "completed", 0
        try:
            with _SignalGuard(trainer, echo):
                trainer.fit()
            if trainer.stop_reason:
                status = trainer.stop_reason
        except Interrupted:
            status, rc = "interrupted", EXIT_INTERRUPTED
            echo(f"interrupted: saved {target / 'checkpoints' / 'last.safetensors'}\n"
                 f"resume with: trainctl train {config} --resume {target}", err=True)
        except NonFiniteLoss:
            status = "stopped: non-finite loss"
            raise
        finally:
            for cb in callbacks:
                if hasattr(cb, "close"):
                    cb.close()
            _finish(target, trainer, cfg, status)
        _print_summary(trainer, target, echo, status)
    return rc


def _finish(target: Path, trainer, cfg: Config, status: str) -> None:
    import numpy

    from ..training.callbacks import MetricsLogger
    from ..training.plots import plot_run

    rows = MetricsLogger.read_rows(target / "metrics.jsonl")
    summary = {
        "name": cfg["name"], "status": status, **trainer.summary(),
        "best_checkpoint": str(target / "checkpoints" / "best.safetensors")
        if (target / "checkpoints" / "best.safetensors").exists() else None,
        "versions": {"trainctl": __version__, "numpy": numpy.__version__,
                     "python": platform.python_version()},
    }
    serialization.atomic_write(target / "summary.json",
                               json.dumps(summary, indent=2, default=str).encode())
    if rows:
        plot_run(target, rows)


def _print_summary(trainer, target: Path, echo, status: str) -> None:
    final = trainer.history[-1] if trainer.history else {}
    shown = "  ".join(f"{k} {v:.4g}" for k, v in final.items()
                      if isinstance(v, float) and "/" in k)
    echo(f"{status}: {trainer.epoch} epochs, {trainer.global_step} steps, "
         f"{trainer.summary()['time_s']:.1f}s")
    if shown:
        echo(f"final: {shown}")
    if trainer.best_value is not None:
        echo(f"best: {trainer.best_value:.6g} at epoch {trainer.best_epoch} -> "
             f"{target / 'checkpoints' / 'best.safetensors'}")
    model = trainer.parts.model
    if sum(p.numel() for p in model.parameters()) <= 16:  # tiny models: show what was learned
        for name, param in model.named_parameters():
            values = [round(v, 4) for v in param.detach().reshape(-1).tolist()]
            echo(f"learned {name}: {values}")
    echo(f"run directory: {target}")
