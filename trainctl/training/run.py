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

import copy
import json
import os
import platform
import shutil
import sys
from pathlib import Path

from .._version import __version__
from ..autograd import serialization
from ..config import Config, load_config, resolve
from ..config.loader import Sources, apply_override
from ..core.errors import ConfigError
from .callbacks import CheckpointSaver, MetricsLogger
from .check import check_cross_references
from .checkpoint import check_state_fits, load_checkpoint, load_model_weights
from .distributed_run import follow, join, quiet_echo, resume_ranks
from .html_report import write_html_report
from .loggers import Logger, build_loggers
from .metrics import default_monitor
from .metrics_log import read_metrics
from .report import report
from .resume import apply_hyperparameters, optimizer_keys, resume_changes
from .run_dir import RunLock, choose_run_dir, naming, point_latest, resume_checkpoint, run_dir_of
from .setup import RunParts, build_run, loss_weights, trainer_arguments
from .signals import StopOnSignal
from .trainer import Interrupted, NonFiniteLoss, Trainer


def echo_to_console(message: str, err: bool = False) -> None:
    """The default ``echo``: one line to stdout (or stderr)."""
    print(message, file=sys.stderr if err else sys.stdout, flush=True)


def train(config=None, overrides=(), run_dir=None, resume=None, device=None, trust_code=False,
          quiet=False, runs_root="runs", echo=None, callbacks=()) -> dict:
    """Train the run a config file describes, or continue one; returns its summary.

    Args:
        config: path of the YAML config. May be left out when ``resume`` names a run directory
            or checkpoint: the run continues with the config saved in it.
        overrides: ``"key.path=value"`` strings, applied in order (the CLI's ``--set``). On
            resume, only changes that can take effect are accepted (see
            :mod:`trainctl.training.resume`); the others are refused with the reason.
        run_dir: write the run here (must be empty unless resuming into it); default
            ``<runs_root>/<name>/<timestamp>/``.
        resume: ``"auto"`` (the newest run of this config's name), a run directory or a
            checkpoint file to continue from.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``, overriding the config.
        trust_code: allow components named by import path (``type: "pkg.mod:Name"``).
        quiet: plain one-line-per-epoch logs instead of live bars (also when stdout is not a
            terminal).
        echo: ``echo(message, err=False)`` prints messages (default: stdout/stderr).
        callbacks: more :class:`~trainctl.training.Callback` objects, after the config's own
            (a sweep's pruning callback); one may end the run with ``trainer.stop(reason,
            status="pruned")``.

    Returns:
        The summary dict (also in ``summary.json``): ``status`` (``completed``, ``pruned`` or
        ``interrupted``; ``stop_reason`` says why a run stopped early), epochs, steps,
        time, final metrics, best metric and checkpoint, the newest checkpoint, versions,
        ``run_dir``, ``world_size`` and ``global_batch_size``.

    Started by ``mpiexec -n N`` (or ``srun``), each of the N processes trains its share of a
    data-parallel run (:mod:`trainctl.training.distributed_run`): rank 0 writes the run and
    returns its summary; the other ranks write nothing and return ``status``, ``rank`` and
    the trainer's epochs, steps and final metrics.

    Raises:
        TrainctlError: a bad config, data or checkpoint, or training that went non-finite;
            ``summary.json`` then says ``failed`` with the message, and files saved before the
            error are kept. KeyboardInterrupt on a second Ctrl-C (``summary.json``:
            ``interrupted``).
    """
    echo = echo or echo_to_console
    dp = join()  # a DataParallelRun when mpiexec started this process as one of several
    if dp is not None and not dp.is_main:
        echo = quiet_echo  # rank 0 alone prints and writes
    runs_root = Path(runs_root)
    extra = [*overrides, *([f"device={device}"] if device else [])]
    state = ckpt_path = None
    changed = []
    if resume is None:
        if config is None:
            raise ConfigError("give a config file to train, or --resume RUN to continue a run")
        cfg = load_config(config, extra, trust_code=trust_code)
    else:
        name = load_config(config, trust_code=trust_code)["name"] if config else None
        ckpt_path = resume_checkpoint(resume, runs_root, name)
        state = load_checkpoint(ckpt_path)
        cfg, changed = _resume_config(state, ckpt_path, config, extra, trust_code)
        echo(f"resuming from {ckpt_path} (epoch {state['trainer']['epoch']}, "
             f"step {state['trainer']['global_step']})"
             + (f" with changed {', '.join(changed)}" if changed else ""))
    if dp is not None:
        dp.check_config(cfg)
        if not dp.is_main:
            return follow(cfg, state, ckpt_path, changed, dp, callbacks)
    resume_dir = run_dir_of(ckpt_path) if ckpt_path is not None else None
    fresh_dir = run_dir is None and resume_dir is None
    target = choose_run_dir(run_dir, resume_dir, runs_root, cfg["name"])
    resume_line = f"trainctl train --resume {target}" + (" --trust-code" if trust_code else "")
    with RunLock(target):
        try:
            parts = build_run(cfg, world_size=dp.world if dp else 1)
            check_cross_references(cfg, parts.metrics, parts.callbacks, parts.loss_fn,
                                   parts.optimizer)
            loggers = build_loggers(cfg, target, runs_root)
            if state is not None:
                load_model_weights(parts.model, state["model"], ckpt_path)
            if dp is not None:
                dp.prepare(cfg, parts)
        except BaseException:
            if fresh_dir:  # nothing ran: leave no empty run behind
                shutil.rmtree(target, ignore_errors=True)
            raise
        saver = _checkpoint_saver(cfg, parts, target)
        run_callbacks = [*([dp.state_callback(echo)] if dp else []),
                         _metrics_logger(cfg, parts, target), saver, *loggers, *callbacks,
                         _progress(cfg, parts, saver, quiet, echo, dp)]
        arguments = trainer_arguments(cfg, parts, run_callbacks)
        trainer = Trainer(**(dp.trainer_arguments(arguments) if dp else arguments))
        if state is not None:
            fresh_groups = [dict(g) for g in parts.optimizer.param_groups]
            # Types and sizes first; a callback added on resume (a logger) starts fresh.
            check_state_fits(state, _saved_part(trainer.state_dict(), state), ckpt_path)
            trainer.load_state_dict(state)
            apply_hyperparameters(parts.optimizer, parts.scheduler, fresh_groups,
                                  optimizer_keys(changed))
            resume_ranks(trainer, state, dp, ckpt_path, echo)
        with naming(target / "config.yaml"):
            serialization.atomic_write(target / "config.yaml", cfg.to_yaml().encode())
        _write_summary(target, _summary(trainer, saver, cfg, target, "running"))
        point_latest(target)
        status, error = "failed", None
        try:
            with StopOnSignal(dp.stop_flag if dp else trainer, echo):
                trainer.fit()
            status = trainer.end_status
        except Interrupted:
            status = "interrupted"
            echo(f"interrupted: saved {saver.saved} (epoch {trainer.epoch}, step "
                 f"{trainer.global_step})\nresume with: {resume_line}", err=True)
        except KeyboardInterrupt:
            status, error = "interrupted", _stopped_at_once(saver)
            echo(error + (f"\nresume with: {resume_line}" if saver.saved else ""), err=True)
            raise
        except NonFiniteLoss as e:
            error = f"{e}; {_newest(saver)}"
            raise NonFiniteLoss(error) from None
        except BaseException as e:
            error = str(e) or type(e).__name__
            raise
        finally:
            for cb in trainer.callbacks:
                if hasattr(cb, "close"):
                    cb.close()
            summary = _summary(trainer, saver, cfg, target, status, error)
            _finish(target, summary, cfg["plots"]["format"])
            _end_loggers(loggers, target, summary)
        report(summary, parts, echo)
    return summary


def _resume_config(state: dict, ckpt_path: Path, config, overrides, trust_code: bool):
    """The config a resumed run continues with: the saved one, changed by ``config`` (if given)
    and ``overrides`` where a change can take effect; ``(cfg, changed keys)``."""
    saved = resolve(state["config"], Sources({(): f"{ckpt_path} (saved config)"}),
                    trust_code=trust_code)
    if config is not None:
        requested = load_config(config, overrides, trust_code=trust_code)
    else:
        data = copy.deepcopy(dict(saved))
        sources = Sources({(): f"{ckpt_path} (saved config)"})
        for text in overrides:
            apply_override(data, sources, text)
        requested = resolve(data, sources, saved.path, trust_code=trust_code)
    allowed, refused = resume_changes(saved, requested)
    if refused:
        raise ConfigError(
            f"cannot change {', '.join(refused)} when resuming {ckpt_path}: the checkpoint was "
            "made with the old value. Start a new run without --resume to use it")
    return (requested if allowed else saved), allowed


def _stopped_at_once(saver: CheckpointSaver) -> str:
    return f"stopped at once by a second interrupt; {_newest(saver)}"


def _newest(saver: CheckpointSaver) -> str:
    if saver.saved is None:
        return "no checkpoint was written by this run"
    return f"the newest good checkpoint is {saver.saved} (step {saver.saved_step})"


def _checkpoint_saver(cfg: Config, parts: RunParts, target: Path) -> CheckpointSaver:
    ck = cfg["checkpoint"]
    return CheckpointSaver(
        target, ck["monitor"] or default_monitor(parts.val_loader is not None), ck["mode"],
        last=ck["last"], best=ck["best"], every=ck["every"], keep_last=ck["keep_last"],
        last_every_s=ck["last_every_s"], last_every=ck["last_every"],
        extra={"config": dict(cfg),
               "data": {"classes": parts.classes, "preprocessing": parts.preprocessing,
                        "input_shape": _input_shape(parts.train_loader.dataset),
                        "loss_weights": loss_weights(parts.loss_fn)}})


def _saved_part(live: dict, state: dict) -> dict:
    """``live`` without the callbacks the checkpoint has no state of: one added on resume (a
    logger: ``logging`` may change) starts fresh, as :meth:`Trainer.load_state_dict` does."""
    saved = state["trainer"]["callbacks"]
    callbacks = {k: v for k, v in live["trainer"]["callbacks"].items() if k in saved}
    return {**live, "trainer": {**live["trainer"], "callbacks": callbacks}}


def _end_loggers(loggers: list, target: Path, summary: dict) -> None:
    """Tell the loggers the run's files are final (MLflow then stores them as artifacts)."""
    for logger in loggers:
        if isinstance(logger, Logger):
            logger.on_run_end(target, summary)


def _input_shape(dataset) -> list | None:
    """The shape of one training input (what ``predict`` resizes images to)."""
    if len(dataset) == 0:
        return None
    sample = dataset[0]
    x = sample[0] if isinstance(sample, (list, tuple)) else sample
    return list(getattr(x, "shape", ())) or None


def _metrics_logger(cfg: Config, parts: RunParts, target: Path) -> MetricsLogger:
    groups = len(parts.optimizer.param_groups)
    columns = ["lr"] if groups == 1 else [f"lr/{i}" for i in range(groups)]
    for split in ("train", "val") if parts.val_loader is not None else ("train",):
        columns += [f"{split}/loss"] + [f"{split}/{m}" for m in parts.metrics]
    return MetricsLogger(target, columns, cfg["train"]["log_every"])


def _progress(cfg: Config, parts: RunParts, saver: CheckpointSaver, quiet: bool, echo,
              dp=None):
    """The live display on a terminal, else plain lines: one per epoch, and one every
    ``train.log_every`` steps when that is set below the steps of an epoch (the default, 50,
    is more than a small run's epoch has, so such runs print epochs only)."""
    from .display_text import RunHeader
    from .progress import PlainProgress, RichProgress

    steps = -(-len(parts.train_loader) // cfg["train"]["accumulate_grad_batches"])  # ceil
    header = RunHeader(cfg["name"], str(cfg.path) if cfg.path else None, str(parts.device),
                       sum(p.numel() for p in parts.model.parameters()),
                       dp.describe(cfg["data"]["batch_size"]) if dp else None)
    if not quiet and sys.stdout.isatty():
        return RichProgress(header=header, monitor=saver.monitor, mode=saver.mode)
    log_every = cfg["train"]["log_every"]
    return PlainProgress(cfg["name"], echo, header=header, monitor=saver.monitor,
                         mode=saver.mode, log_every=log_every if log_every < steps else None)


def _summary(trainer: Trainer, saver: CheckpointSaver, cfg: Config, target: Path,
             status: str, error: str | None = None) -> dict:
    import numpy

    best = target / "checkpoints" / "best.safetensors"
    world = getattr(trainer.reducer, "world", 1)  # ranks of a data-parallel run
    return {
        "name": cfg["name"], "status": status, "error": error, "pid": os.getpid(),
        **trainer.summary(),
        "monitor": saver.monitor, "best_value": saver.best_value, "best_epoch": saver.best_epoch,
        "best_checkpoint": str(best) if best.exists() else None,
        "newest_checkpoint": str(saver.saved) if saver.saved else None,
        "run_dir": str(target),
        "world_size": world, "global_batch_size": world * cfg["data"]["batch_size"],
        "versions": {"trainctl": __version__, "numpy": numpy.__version__,
                     "python": platform.python_version()},
    }


def _write_summary(target: Path, summary: dict) -> None:
    with naming(target / "summary.json"):
        serialization.atomic_write(target / "summary.json",
                                   json.dumps(summary, indent=2, default=str).encode())


def _finish(target: Path, summary: dict, plot_format: str = "png") -> None:
    """Write the final ``summary.json``, then the plots (in ``plot_format``, the config's
    ``plots.format``), then ``report.html``. On a full disk even that can fail: the file then
    still says ``running`` with the ``pid`` of a process that is gone, which readers take as a
    run that died (see :func:`trainctl.training.run_dir.run_status`)."""
    try:
        _write_summary(target, summary)
        rows = read_metrics(target / "metrics.jsonl")
        if rows:
            from .plots import plot_run

            plot_run(target, rows, fmt=plot_format, summary=summary)
        write_html_report(target, summary)
    except OSError:
        if summary["status"] != "failed":
            raise
