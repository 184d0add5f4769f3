"""Data-parallel ``trainctl train``: one run over the ranks that ``mpiexec -n N`` started.

``train()`` calls :func:`join` first. Started by an MPI launcher (``mpiexec``, ``srun``) as one
of N processes, every process joins the group and gets a :class:`DataParallelRun`; started
alone it gets None and nothing here runs. What changes for N ranks:

- **Data**: ``data.batch_size`` is per rank (global batch = N x batch size). The training
  loader takes a :class:`~trainctl.data.distributed.DistributedSampler` (padded to equal
  shards, reshuffled each epoch from the permutation one process would visit), so 2 ranks of 32
  see, step for step, the samples one process of 64 sees. Validation is sharded *without*
  padding (rank r scores samples r, r + N, ...): every sample is scored once, so the validation
  numbers are the single-process numbers, not those of a padded set with duplicates.
- **Model**: batch norms become ``SyncBatchNorm`` and the model is wrapped in
  ``DistributedDataParallel`` (gradients averaged over the ranks in backward); checkpoints hold
  the bare model's weights, loadable by ``eval``/``predict`` in one process.
- **Numbers**: each batch's loss is combined over the ranks (one small Allreduce per batch, also
  carrying "a rank was asked to stop"); the epoch's loss sums and every metric's state are
  gathered and merged (``Metric.merge``) before anything is logged, so each logged number is
  the single-process number over the same samples, and every rank sees it (early stopping and
  ``ReduceLROnPlateau`` decide alike everywhere).
- **Files**: rank 0 alone takes the run directory's lock and writes config, metrics, logs,
  checkpoints, plots, summary and the live display; the other ranks write nothing.
- **Checkpoints**: every rank's random state and running sums, gathered at each epoch's end and
  at an interrupt, are stored (:class:`RankStates`), so a resume on as many ranks is
  bit-identical to a run that never stopped. A resume on another number of ranks continues from
  an epoch boundary (with a warning) and is refused mid-epoch.
- **Faults**: a rank that fails ends the job (``MPI_Abort``) after saying which rank and why
  (:func:`abort_job`); a signal to any rank stops every rank at the same step.

Example (the command line does all of this; see ``docs/distributed.md``)::

    mpiexec -n 2 trainctl train configs/spirals_mlp.yaml
    trainctl train configs/spirals_mlp.yaml --nproc 2
"""

from __future__ import annotations

import copy
import time

import numpy

from ..autograd.creation import from_numpy
from ..core import random as tc_random
from ..core.errors import CheckpointError, TrainctlError
from ..data import DataLoader
from ..data.distributed import DistributedSampler
from ..data.sampler import Sampler
from ..distributed import collectives
from ..distributed import process_group as group
from ..distributed.threads import rank_seed, set_threads_per_rank
from ..nn.modules.sync_batchnorm import SyncBatchNorm
from ..nn.parallel import DistributedDataParallel
from .callbacks import Callback
from .checkpoint import load_model_weights
from .resume import apply_hyperparameters, optimizer_keys
from .setup import build_run, trainer_arguments
from .signals import StopOnSignal
from .trainer import Interrupted, Trainer, needs_closure

STATE_KEY = "RankStates"
ABORT_GRACE_S = 1.0  # how long a failing rank other than 0 waits before ending the job


class ValidationShard(Sampler):
    """Rank ``rank``'s share of ``n`` samples without padding: ``rank, rank + world, ...``.

    Example:
        >>> list(ValidationShard(5, world=2, rank=1))
        [1, 3]
    """

    def __init__(self, n: int, world: int, rank: int):
        self.n, self.world, self.rank = n, world, rank

    def __iter__(self):
        return iter(range(self.rank, self.n, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world))


class _Replica(DistributedDataParallel):
    """DDP whose ``state_dict`` is the bare model's, so checkpoints load into one process."""

    def state_dict(self, *args, **kwargs):
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        return self.module.load_state_dict(state_dict, strict=strict, assign=assign)


class _StopFlag:
    """What the signal handler sets on this rank; the ranks agree on it at the next batch."""

    interrupt_requested = False


class DataParallelRun:
    """This process's place in a data-parallel run: ``rank`` of ``world``, with ``threads``
    BLAS threads. Made by :func:`join`."""

    def __init__(self, rank: int, world: int, threads: int):
        self.rank, self.world, self.threads = rank, world, threads
        self.is_main = rank == 0
        self.stop_flag = _StopFlag()
        self.train_sampler = None
        self.echo = quiet_echo  # rank 0's echo once the run has one (state_callback)

    # ------------------------------------------------------------------ set-up
    def check_config(self, cfg) -> None:
        """Refuse what a data-parallel run cannot do, naming the key."""
        if cfg["train"].get("graph"):
            raise cfg.error(("train", "graph"), f"graph mode does not run data-parallel "
                            f"({self.world} ranks): leave train.graph off under mpiexec")
        if cfg["data"]["sampler"] is not None:
            raise cfg.error(("data", "sampler"), "a custom sampler cannot be split over "
                            f"{self.world} ranks: remove data.sampler to train data-parallel")

    def describe(self, batch_size: int) -> str:
        """``"2 ranks x batch 32 = global batch 64"``, for the run header."""
        return (f"{self.world} ranks x batch {batch_size} = global batch "
                f"{self.world * batch_size}, {self.threads} thread{'s' * (self.threads != 1)} "
                "per rank")

    def prepare(self, cfg, parts) -> None:
        """Turn a built run into this rank's part of it (in place): per-rank random streams,
        sharded loaders, synchronised batch norms."""
        if parts.device.type != "cpu":
            raise cfg.error(("device",), f"data-parallel training runs on the CPU, not "
                            f"{parts.device}: set device: cpu under mpiexec")
        if needs_closure(parts.optimizer):  # its line search would run apart on each rank
            raise cfg.error(("optimizer", "type"), f"{type(parts.optimizer).__name__} "
                            "re-evaluates the loss inside its step, which cannot run "
                            "data-parallel: choose another optimizer under mpiexec")
        if self.rank > 0:  # rank 0 keeps the run's own stream, as one process would draw
            tc_random.manual_seed(rank_seed(cfg["seed"], self.rank))
        data = cfg["data"]
        train_set = parts.train_loader.dataset
        self.train_sampler = DistributedSampler(train_set, self.world, self.rank,
                                                shuffle=data["shuffle"], seed=cfg["seed"])
        parts.train_loader = DataLoader(train_set, batch_size=data["batch_size"],
                                        sampler=self.train_sampler, drop_last=data["drop_last"],
                                        num_workers=data["num_workers"], seed=cfg["seed"])
        for name in ("val_loader", "test_loader"):
            loader = getattr(parts, name)
            if loader is not None:
                shard = ValidationShard(len(loader.dataset), self.world, self.rank)
                setattr(parts, name, DataLoader(loader.dataset,
                                                batch_size=data["eval_batch_size"],
                                                sampler=shard, num_workers=data["num_workers"],
                                                seed=cfg["seed"]))
        parts.model = SyncBatchNorm.convert_sync_batchnorm(parts.model)

    def trainer_arguments(self, arguments: dict) -> dict:
        """The Trainer's arguments with the model replicated and the numbers reduced here."""
        # The trainer keeps no .grad across steps: the reduced gradients can stay in the buckets
        # (one copy less of every gradient per step).
        replica = _Replica(arguments["model"], gradient_as_bucket_view=True)
        return {**arguments, "model": replica, "reducer": self}

    def state_callback(self, echo=None) -> RankStates:
        self.echo = echo or quiet_echo
        return RankStates(self)

    # ------------------------------------------------------------------ the Trainer's reducer
    def before_batch(self, trainer, steps: bool) -> None:
        """Gradient accumulation: only the micro-batch that ends in an optimizer step averages
        gradients over the ranks (DDP's ``no_sync`` for the others)."""
        trainer.model.require_backward_grad_sync = steps

    def batch(self, trainer, loss: float, n: int) -> tuple[float, int]:
        """The batch's loss and size over every rank; also where the ranks agree to stop (bit
        ``r`` of the third number: rank ``r`` was asked to)."""
        asked = 2.0 ** min(self.rank, 52) if self.stop_flag.interrupt_requested else 0.0
        numbers = numpy.array([loss * n, n, asked])
        collectives.all_reduce(from_numpy(numbers))  # a non-finite loss stays non-finite
        if numbers[2] > 0 and not trainer.interrupt_requested:
            trainer.interrupt_requested = True
            ranks = [r for r in range(min(self.world, 52)) if int(numbers[2]) >> r & 1]
            who = f"rank{'s' * (len(ranks) > 1)} {', '.join(map(str, ranks))}" if ranks else \
                "a rank"
            self.echo(f"{who} of {self.world} asked to stop: every rank stops after this step",
                      err=True)
        total = int(numbers[1])
        return (float(numbers[0] / total) if total else float("nan")), total

    def sums(self, sums):
        """``sums`` (an EpochSums of this rank) merged with every other rank's, in rank order,
        so each rank computes the same numbers."""
        states = [None] * self.world
        collectives.all_gather_object(states, sums.state_dict())
        return merge_sums(sums, states)


def merge_sums(prototype, states: list):
    """One EpochSums holding the loss sums and merged metric state of ``states`` (the
    ``state_dict()`` of several EpochSums), built from copies of ``prototype``."""
    merged = copy.deepcopy(prototype)
    merged.load_state_dict(states[0])
    for state in states[1:]:
        other = copy.deepcopy(prototype)
        other.load_state_dict(state)
        merged.loss_sum += other.loss_sum
        merged.count += other.count
        for name, metric in merged.metrics.items():
            metric.merge(other.metrics[name])
    return merged


class RankStates(Callback):
    """Keeps what differs between ranks in rank 0's checkpoints: each rank's random state and
    running sums, gathered at every epoch's end and at an interrupt (the moments a checkpoint
    is written), with the world size and the sampler's state. Runs on every rank, before the
    checkpoint saver."""

    def __init__(self, run: DataParallelRun):
        self.run = run
        self.gathered: dict = {}

    @property
    def state_key(self) -> str:
        return STATE_KEY

    def state_dict(self) -> dict:
        return self.gathered

    def _gather(self, trainer) -> None:
        mine = {"rng": tc_random.get_rng_state(), "sums": trainer.sums.state_dict()}
        ranks = [None] * self.run.world
        collectives.all_gather_object(ranks, mine)
        sampler = self.run.train_sampler
        self.gathered = {"world_size": self.run.world, "ranks": ranks,
                         "sampler": sampler.state_dict() if sampler is not None else None}

    def on_epoch_end(self, trainer, metrics):
        self._gather(trainer)

    def on_interrupt(self, trainer):
        self._gather(trainer)


def saved_world_size(state: dict) -> int:
    """The number of ranks a checkpoint's run had (1 for a one-process run)."""
    saved = state["trainer"]["callbacks"].get(STATE_KEY) or {}
    return int(saved.get("world_size", 1))


def resume_ranks(trainer, state: dict, run: DataParallelRun | None, path, echo) -> None:
    """After ``trainer.load_state_dict(state)``: give this rank its own saved random state and
    sums, or check and announce a resume on another number of ranks.

    Same world size: bit-identical continuation. Another world size: allowed at an epoch
    boundary (the weights, optimizer, schedule and epoch carry over; each rank's random
    stream is derived anew), refused mid-epoch, where the samples left in the epoch were dealt
    out over the old ranks.
    """
    world = run.world if run is not None else 1
    rank = run.rank if run is not None else 0
    before = saved_world_size(state)
    saved = state["trainer"]["callbacks"].get(STATE_KEY) or {}
    if before == world:
        if saved.get("ranks"):
            mine = saved["ranks"][rank]
            tc_random.set_rng_state(mine["rng"])
            trainer.sums.load_state_dict(mine["sums"])
        return
    done = trainer.train_loader.state_dict().get("batches_done", 0)
    if done or trainer.sums.count:
        raise CheckpointError(
            f"{path}: this checkpoint was made mid-epoch by a run on {before} rank"
            f"{'s' * (before != 1)}, and this run has {world}: the rest of that epoch was dealt "
            f"out over {before} ranks and cannot be split over {world}. Resume on {before} "
            f"rank{'s' * (before != 1)}, or from a checkpoint written at an epoch's end")
    if rank > 0:
        tc_random.manual_seed(rank_seed(state["config"]["seed"] + trainer.epoch, rank))
    echo(f"warning: resuming a run of {before} rank{'s' * (before != 1)} on {world}: it "
         f"continues from the end of epoch {trainer.epoch} with the same weights, optimizer and "
         f"schedule; the global batch changes from {before} x to {world} x data.batch_size",
         err=True)


def follow(cfg, state, ckpt_path, changed: list, run: DataParallelRun, callbacks=()) -> dict:
    """What a rank other than 0 does for ``train()``: the same run, built and trained in step
    with rank 0 (every collective in the same order), writing nothing. Returns the trainer's
    summary with its ``status``."""
    parts = build_run(cfg, world_size=run.world)
    if state is not None:
        load_model_weights(parts.model, state["model"], ckpt_path)
    run.prepare(cfg, parts)
    arguments = trainer_arguments(cfg, parts, [run.state_callback(), *callbacks])
    trainer = Trainer(**run.trainer_arguments(arguments))
    if state is not None:
        fresh_groups = [dict(g) for g in parts.optimizer.param_groups]
        trainer.load_state_dict(state)
        apply_hyperparameters(parts.optimizer, parts.scheduler, fresh_groups,
                              optimizer_keys(changed))
        resume_ranks(trainer, state, run, ckpt_path, quiet_echo)
    status = "failed"
    try:
        with StopOnSignal(run.stop_flag):
            trainer.fit()
        status = trainer.end_status
    except Interrupted:
        status = "interrupted"
    return {"status": status, "rank": run.rank, **trainer.summary()}


def join() -> DataParallelRun | None:
    """Join the MPI group when an MPI launcher started this process as one of several, and give
    each rank ``cores // local ranks`` BLAS threads; None for a plain one-process run."""
    if group.launched_world_size() <= 1:
        return None
    if not group.is_initialized():
        group.init_process_group("mpi")
    if group.get_world_size() <= 1:
        return None
    threads = set_threads_per_rank()
    return DataParallelRun(group.get_rank(), group.get_world_size(), threads)


def quiet_echo(message: str, err: bool = False) -> None:
    """The echo of ranks other than 0: they print nothing."""


def abort_job(exc: BaseException, code: int) -> None:
    """End every rank of the job after ``exc`` on this one (when this process is one of
    several): say which rank failed and why on stderr, then ``MPI_Abort(code)``, which the
    launcher turns into the job's exit code. Without it the other ranks would wait forever in
    their next collective. Does nothing in a one-process run."""
    if not group.is_initialized() or group.get_world_size() <= 1:
        return
    rank, world = group.get_rank(), group.get_world_size()
    if isinstance(exc, KeyboardInterrupt):
        why = "stopped at once by a second interrupt"
    elif isinstance(exc, TrainctlError):
        why = f"error: {exc}"
    else:
        why = f"{type(exc).__name__}: {exc}"
    if rank != 0:
        # An error every rank meets (a bad config, a missing file) is best told, and cleaned
        # up after (the run directory it made, its lock), by rank 0: give it a moment first.
        time.sleep(ABORT_GRACE_S)
    group.abort_job(f"[rank {rank}/{world}] failed, ending every rank (exit code {code}): "
                    f"{why}\n", code)


__all__ = ["DataParallelRun", "RankStates", "ValidationShard", "abort_job", "follow",
           "join", "merge_sums", "quiet_echo", "resume_ranks", "saved_world_size"]
