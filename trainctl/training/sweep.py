"""Hyperparameter sweeps on Optuna: what ``trainctl sweep`` does, as a library function.

A sweep is an Optuna study. Each trial samples the keys of a space file (see
:mod:`trainctl.training.sweep_space`), trains the config with them as ``--set`` overrides (a
normal run, in ``<runs_root>/<name>/sweep-<study>/trial-<n>/``) and reports the objective after
every epoch, so Optuna's pruner can stop a trial that will not win (its ``summary.json`` then
says ``pruned``). A trial's value is the objective's best epoch value: the run's checkpoint
monitor is set to it, so the trial's ``best`` checkpoint is the model that scored it.

The study lives in Optuna's own storage: a SQLite file (``<runs_root>/<name>/sweep.db``) by
default, or any database URL Optuna takes, so processes on several machines can work on one
study. ``trials`` is the study's total: a study stops starting trials once it holds that many
finished or running ones, so running the same command again continues an interrupted sweep
(a trial stopped by Ctrl-C runs again, from the start) and never repeats finished trials.
Processes on one machine take trials under a file lock, so they run exactly ``trials``; across
machines each may start one trial more at the very end.

Example:
    >>> from trainctl.training import sweep
    >>> result = sweep("configs/spirals_mlp.yaml", "space.yaml", trials=8)  # doctest: +SKIP
    >>> result["best"]["value"], result["best_config"]  # doctest: +SKIP
    (0.9867, PosixPath('runs/spirals_mlp/sweep-spirals_mlp/best.yaml'))
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import load_config
from ..core.errors import ConfigError, TrainctlError
from .callbacks import Callback
from .metrics import metric_mode
from .run import echo_to_console, train
from .setup import build_metrics
from .sweep_report import sweep_report
from .sweep_space import Space, short_names
from .sweep_study import (
    counts,
    open_study,
    requeue_interrupted,
    require_optuna,
    storage_for,
    storage_text,
)

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "threshold", "none")


@dataclass
class SweepPlan:
    """Everything a worker process needs to run trials (plain data: it is pickled to them)."""

    config: str
    space: str
    overrides: list
    study: str
    storage: str
    sweep_dir: str
    trials: int
    sampler: str
    pruner: str
    objective: str
    direction: str
    epochs: int
    runs_root: str
    trust_code: bool
    jobs: int = 1
    seed: int | None = None
    deadline: float | None = None
    fixed: list = field(default_factory=list)  # overrides every trial gets (the monitor)


def sweep(config, space, trials=None, jobs=1, storage=None, study=None, sampler="tpe",
          pruner="median", timeout=None, seed=None, overrides=(), runs_root="runs",
          trust_code=False, echo=None) -> dict:
    """Run (or continue) a sweep of ``config`` over the keys of the space file ``space``.

    Args:
        trials: the study's total number of trials (default 20; for the grid sampler, the
            grid's size).
        jobs: worker processes on this machine, each training one trial at a time.
        storage: an Optuna storage URL (``postgresql://user:pw@host/db``); default
            ``sqlite:///<runs_root>/<name>/sweep.db``.
        study: the study's name (default: the config's ``name``); the same name continues it.
        sampler: ``tpe``, ``random`` or ``grid``; pruner: ``median``, ``hyperband``,
            ``threshold`` (prunes past ``pruner: {lower: X}`` or ``upper:``) or ``none`` (the
            space file's ``sampler:``/``pruner:`` give their keyword arguments).
        timeout: seconds after which no new trial starts (running ones finish).
        seed: the sampler's seed (each worker process adds its index).
        overrides: ``--set`` texts applied to every trial.

    Returns:
        :func:`~trainctl.training.sweep_report.sweep_report`'s dict (trials, best trial, the
        best config file, plots) plus ``interrupted``: whether Ctrl-C stopped the sweep.
    """
    echo = echo or echo_to_console
    require_optuna()
    if sampler not in SAMPLERS:
        raise ConfigError(f"--sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if pruner not in PRUNERS:
        raise ConfigError(f"--pruner must be one of {', '.join(PRUNERS)}, got {pruner!r}")
    if jobs < 1:
        raise ConfigError(f"--jobs must be 1 or more, got {jobs}")
    space_file = Space.load(space)
    base = space_file.check(config, overrides, trust_code)
    plan = _plan(config, space_file, base, trials, storage, study, sampler, pruner, timeout,
                 seed, overrides, runs_root, trust_code)
    plan.jobs = jobs
    optuna_study = open_study(plan, space_file, base)
    requeued = requeue_interrupted(optuna_study)
    done = len([t for t in optuna_study.get_trials(deepcopy=False) if counts(t)])
    echo(f"sweep {Path(config).name}: study {plan.study!r} in {storage_text(plan.storage)}\n"
         f"  {plan.direction} {plan.objective}, {plan.trials} trials ({done} done"
         + (f", {requeued} interrupted to run again" if requeued else "")
         + f"), {jobs} job{'s' if jobs > 1 else ''}")
    if jobs == 1:
        interrupted = run_worker(plan, 0, echo)
    else:
        interrupted = _run_processes(plan, jobs, echo)
    result = sweep_report(plan.config, plan.study, plan.storage, plan.sweep_dir,
                          plan.objective, plan.direction, echo)
    result["interrupted"] = interrupted
    return result


def sweep_results(config, study=None, storage=None, runs_root="runs", trust_code=False) -> dict:
    """The report of an existing sweep (``trainctl sweep CONFIG --report``): rewrites its
    ``trials.csv``, ``best.yaml`` and charts from the study, and returns them as
    :func:`sweep` does (``interrupted`` False)."""
    require_optuna()
    name = load_config(config, trust_code=trust_code)["name"]
    study = study or name
    root = Path(runs_root) / name
    if storage is None:
        db = root / "sweep.db"
        if not db.exists():
            raise ConfigError(f"{db}: no sweep database here (run trainctl sweep {config} "
                              "--space SPACE.yaml first, or give --storage)")
        storage = f"sqlite:///{db.resolve()}"
    result = sweep_report(config, study, storage, root / f"sweep-{study}")
    result["interrupted"] = False
    return result


def _plan(config, space: Space, base, trials, storage, study, sampler, pruner, timeout, seed,
          overrides, runs_root, trust_code) -> SweepPlan:
    name = base["name"]
    study = study or name
    if not study or "/" in study or study.startswith("."):
        raise ConfigError(f"--study {study!r}: give a plain name (it names a folder)")
    root = Path(runs_root) / name
    sweep_dir = root / f"sweep-{study}"
    if storage is None:
        root.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{(root / 'sweep.db').resolve()}"
    direction = space.direction or _direction(space.objective, base)
    if sampler == "grid":
        size = math.prod(len(axis) for axis in space.grid().values())
        trials = size if trials is None else min(trials, size)
    trials = 20 if trials is None else trials
    if trials < 1:
        raise ConfigError(f"--trials must be 1 or more, got {trials}")
    mode = "max" if direction == "maximize" else "min"
    return SweepPlan(
        config=str(config), space=str(space.path), overrides=list(overrides), study=study,
        storage=storage, sweep_dir=str(sweep_dir), trials=trials, sampler=sampler,
        pruner=pruner, objective=space.objective, direction=direction,
        epochs=base["train"]["epochs"], runs_root=str(runs_root), trust_code=trust_code,
        seed=seed, deadline=None if timeout is None else time.time() + timeout,
        fixed=[f"checkpoint.monitor={space.objective}", f"checkpoint.mode={mode}"])


def _direction(objective: str, base) -> str:
    """``maximize`` or ``minimize`` from the metric (``val/accuracy``: max), checking that runs
    of this config log it."""
    split, _, metric = objective.partition("/")
    metrics = build_metrics(base)
    splits = ("train", "val") if _has_val(base) else ("train",)
    logged = [f"{s}/{m}" for s in splits for m in ("loss", *metrics)]
    if objective not in logged:
        raise ConfigError(f"objective {objective!r} is not a metric this config logs (it logs "
                          f"{', '.join(logged)})")
    return "maximize" if metric_mode(objective, metrics) == "max" else "minimize"


def _has_val(base) -> bool:
    data = base["data"]
    return data.get("val") is not None or bool(data.get("val_split"))


class ReportToOptuna(Callback):
    """Reports the objective to the trial after each epoch that logs it, and stops the run as
    ``pruned`` when the study's pruner says so."""

    def __init__(self, trial, objective: str):
        self.trial, self.objective = trial, objective

    def on_epoch_end(self, trainer, metrics):
        value = metrics.get(self.objective)
        if value is None or not math.isfinite(value):
            return
        self.trial.report(value, step=trainer.epoch)
        if self.trial.should_prune():
            trainer.stop(f"pruned by the sweep at epoch {trainer.epoch} ({self.objective} "
                         f"{value:.4g})", status="pruned")


class TrialFailed(Exception):
    """A trial ended without a value (its error is in its user attributes)."""


def run_worker(plan: SweepPlan, index: int, echo) -> bool:
    """Take and train trials until the study holds ``plan.trials``, the deadline passes or
    Ctrl-C; returns whether Ctrl-C stopped it."""
    optuna = require_optuna()
    storage = storage_for(plan.storage)
    # A continued sweep must not draw the same random points again: the seed moves on with
    # the trials the study already has.
    offset = len(storage.get_all_trials(storage.get_study_id_from_name(plan.study),
                                        deepcopy=False))
    study = optuna.load_study(study_name=plan.study, storage=storage,
                              sampler=_sampler(plan, index, offset), pruner=_pruner(plan))
    space = Space.load(plan.space)
    base = space.check(plan.config, plan.overrides, plan.trust_code)
    lock_path = Path(plan.sweep_dir) / ".claim.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    outcome = {}

    def objective(trial):
        try:
            sampled = space.sample(trial)
        finally:  # the trial exists with its values: another process may take the next one
            claim.release()
        return _run_trial(trial, sampled, plan, space, base, echo, outcome)

    while plan.deadline is None or time.time() < plan.deadline:
        claim = ClaimLock(lock_path)
        with claim:
            taken = [t for t in study.get_trials(deepcopy=False) if counts(t)]
            if len(taken) >= plan.trials:
                break
            outcome.clear()
            study.optimize(objective, n_trials=1, catch=(TrialFailed,))
        if outcome.get("interrupted"):
            return True
    return False


def _run_trial(trial, sampled: dict, plan: SweepPlan, space: Space, base, echo,
               outcome: dict) -> float:
    overrides = [*plan.overrides, *space.overrides(sampled, base), *plan.fixed]
    run_dir = Path(plan.sweep_dir) / f"trial-{trial.number}"
    trial.set_user_attr("run_dir", str(run_dir))
    trial.set_user_attr("overrides", overrides)
    trial.set_user_attr("host", socket.gethostname())
    started = time.perf_counter()
    names = short_names(list(sampled))
    shown = " ".join(f"{names[k]}={_short(v)}" for k, v in sampled.items())
    try:
        summary = train(plan.config, overrides, run_dir=run_dir, trust_code=plan.trust_code,
                        quiet=True, runs_root=plan.runs_root, echo=_trial_echo(plan, echo),
                        callbacks=[ReportToOptuna(trial, plan.objective)])
    except ConfigError:
        raise  # the space or config is wrong for every trial: stop the sweep
    except TrainctlError as e:  # diverged, bad weights: this trial failed, the sweep goes on
        trial.set_user_attr("error", str(e))
        echo(f"trial {trial.number:>3}  failed     {_elapsed(started)}  {shown}\n"
             f"  {str(e).splitlines()[0]}")
        raise TrialFailed(str(e)) from None
    except KeyboardInterrupt:  # a second Ctrl-C stopped the run at once
        trial.set_user_attr("interrupted", True)
        outcome["interrupted"] = True
        raise TrialFailed("interrupted") from None
    status = summary["status"]
    value = summary.get("best_value")
    if status == "interrupted":
        trial.set_user_attr("interrupted", True)
        outcome["interrupted"] = True
        echo(f"trial {trial.number:>3}  interrupted (runs again when the sweep continues)")
        raise TrialFailed("interrupted")
    text = "-" if value is None else f"{value:.4g}"
    echo(f"trial {trial.number:>3}  {status:<9}  {plan.objective} {text:<7} "
         f"{_elapsed(started)}  {shown}")
    if status == "pruned":
        raise require_optuna().TrialPruned(summary.get("stop_reason"))
    if value is None or not math.isfinite(value):
        trial.set_user_attr("error", f"{plan.objective} was never logged")
        raise TrialFailed(f"{plan.objective} was never logged")
    return value


def _trial_echo(plan: SweepPlan, echo):
    """What a trial's run prints: only its notices on stderr (its epochs and final report stay
    in its run directory; the sweep prints one line per trial). Not its advice to resume the
    run (the sweep runs an interrupted trial again), nor, with several workers, the Ctrl-C
    notice (the sweep's own process prints it once)."""

    def trial_echo(message: str, err: bool = False) -> None:
        if not err or (plan.jobs > 1 and "press Ctrl-C again" in message):
            return
        lines = [line for line in message.splitlines() if not line.startswith("resume with:")]
        if lines:
            echo("\n".join(lines), err=True)

    return trial_echo


def _elapsed(started: float) -> str:
    return f"{time.perf_counter() - started:6.1f}s"


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value).replace(" ", "")


def _sampler(plan: SweepPlan, index: int, offset: int = 0):
    optuna = require_optuna()
    space = Space.load(plan.space)
    seed = None if plan.seed is None else plan.seed + 7919 * index + offset
    options = dict(space.sampler)
    try:
        if plan.sampler == "grid":
            # The seed shuffles the grid, and a trial takes the point its number names: every
            # process of the study must shuffle alike (no worker or resume offset).
            return optuna.samplers.GridSampler(space.grid(), seed=plan.seed or 0, **options)
        if plan.sampler == "random":
            return optuna.samplers.RandomSampler(seed=seed, **options)
        # constant_liar: parallel workers do not all propose the same point
        options.setdefault("constant_liar", True)
        return optuna.samplers.TPESampler(seed=seed, **options)
    except TypeError as e:
        raise ConfigError(f"{plan.space}: sampler: {e}") from None


def _pruner(plan: SweepPlan):
    optuna = require_optuna()
    options = dict(Space.load(plan.space).pruner)
    try:
        if plan.pruner == "median":
            return optuna.pruners.MedianPruner(**options)
        if plan.pruner == "hyperband":
            options.setdefault("max_resource", plan.epochs)
            return optuna.pruners.HyperbandPruner(**options)
        if plan.pruner == "threshold":
            if "lower" not in options and "upper" not in options:
                raise ConfigError(f"{plan.space}: --pruner threshold needs pruner: {{lower: X}} "
                                  "(or upper:) in the space file")
            return optuna.pruners.ThresholdPruner(**options)
        if options:
            raise ConfigError(f"{plan.space}: pruner: options given, but --pruner none")
        return optuna.pruners.NopPruner()
    except TypeError as e:
        raise ConfigError(f"{plan.space}: pruner: {e}") from None


class ClaimLock:
    """An exclusive file lock held from "is the study full?" until the new trial exists, so
    processes on this machine never start more trials than asked. Released early by
    :meth:`release` (from inside the trial), or at the end of the ``with`` block."""

    def __init__(self, path: Path):
        self.path = path
        self.file = None

    def __enter__(self):
        import fcntl

        self.file = open(self.path, "a")  # noqa: SIM115  (closed by release)
        fcntl.flock(self.file, fcntl.LOCK_EX)
        return self

    def release(self) -> None:
        if self.file is not None:
            self.file.close()  # closing drops the flock
            self.file = None

    def __exit__(self, *exc):
        self.release()
        return False


def _run_processes(plan: SweepPlan, jobs: int, echo) -> bool:
    """``jobs`` worker processes; Ctrl-C here is passed on to each of them once per press (they
    run in their own process group, so a terminal's Ctrl-C reaches them only this way)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_worker_main, args=(plan, i), daemon=False)
               for i in range(jobs)]
    for w in workers:
        w.start()
    interrupted = False

    def forward(signum, frame):
        nonlocal interrupted
        echo("\nstopping: each running trial saves a checkpoint after its current step (press "
             "Ctrl-C again to stop at once)" if not interrupted else "\nstopping at once", err=True)
        interrupted = True
        for w in workers:
            if w.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(w.pid, signal.SIGINT)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for w in workers:
            w.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    failed = [w.exitcode for w in workers if w.exitcode not in (0, 130)]
    if failed and not interrupted:
        raise ConfigError(f"{len(failed)} of {jobs} sweep workers stopped with an error (see "
                          "above)")
    return interrupted or any(w.exitcode == 130 for w in workers)


def _worker_main(plan: SweepPlan, index: int) -> None:
    """A worker process: run trials, print one line per trial, exit 0, 130 (Ctrl-C) or 2."""
    os.setpgrp()  # Ctrl-C comes from the parent only, once per press

    def echo(message, err=False):
        print(message, file=sys.stderr if err else sys.stdout, flush=True)

    try:
        stopped = run_worker(plan, index, echo)
    except KeyboardInterrupt:
        sys.exit(130)
    except TrainctlError as e:
        echo(f"error: {e}", err=True)
        sys.exit(2)
    sys.exit(130 if stopped else 0)
