"""Callbacks: how the parts of a run (progress, logging, checkpoints, early stopping) hook into the
training loop, and how users add their own.

A callback overrides any of the ``on_*`` methods; each gets the :class:`Trainer`. A callback owns
its state: :meth:`Callback.state_dict` goes into checkpoints under :attr:`Callback.state_key` and
comes back through :meth:`Callback.load_state_dict` on resume, so two instances of one class
(two early stoppings on different metrics) never collide. Callbacks read the trainer and may ask
it to stop (``trainer.stop(reason)``); they never write its attributes.

Register one to name it in a config (``train: {callbacks: [{type: PrintLR, every: 5}]}``)::

    from trainctl.config.registry import register

    @register("callback")
    class PrintLR(Callback):
        def __init__(self, every: int = 1):
            self.every = every

        def on_epoch_end(self, trainer, metrics):
            if trainer.epoch % self.every == 0:
                print(trainer.epoch, trainer.current_lrs())
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path

from ..config.registry import register
from ..core.backend import get_array_module
from ..core.errors import TrainctlError
from .metrics import metric_mode
from .metrics_log import read_metrics
from .run_dir import naming


class Callback:
    """Base class; every hook does nothing by default."""

    @property
    def state_key(self) -> str:
        """The key of this callback's state in a checkpoint: the class name, plus whatever
        tells two instances apart (see :class:`EarlyStopping`)."""
        return type(self).__qualname__

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def on_fit_start(self, trainer) -> None: ...

    def on_epoch_start(self, trainer) -> None: ...

    def on_batch_end(self, trainer, loss: float, batch_size: int) -> None: ...

    def on_step_end(self, trainer) -> None: ...

    def on_validation_end(self, trainer, metrics: dict) -> None: ...

    def on_epoch_end(self, trainer, metrics: dict) -> None: ...

    def on_interrupt(self, trainer) -> None: ...

    def on_exception(self, trainer, exception: BaseException) -> None: ...

    def on_fit_end(self, trainer) -> None: ...


class StepLossWindow(Callback):
    """Base of the callbacks that log a row every ``log_every`` optimizer steps: it averages the
    finite batch losses since the previous row (:meth:`take_step_loss`). The window is part of
    the callback's state, so a resumed run logs the same rows as one that never stopped."""

    def __init__(self, log_every: int):
        self.log_every = log_every
        self.window_loss = 0.0
        self.window_count = 0

    def state_dict(self) -> dict:
        return {"window_loss": self.window_loss, "window_count": self.window_count}

    def load_state_dict(self, state: dict) -> None:
        self.window_loss = state.get("window_loss", 0.0)
        self.window_count = state.get("window_count", 0)

    def on_batch_end(self, trainer, loss, batch_size):
        if math.isfinite(loss):
            self.window_loss += loss
            self.window_count += 1

    def take_step_loss(self, trainer) -> float | None:
        """The mean loss of the window when a row is due at this step (and empty the window),
        else None."""
        if trainer.global_step % self.log_every or not self.window_count:
            return None
        mean = self.window_loss / self.window_count
        self.window_loss, self.window_count = 0.0, 0
        return mean


class MetricsLogger(StepLossWindow):
    """Writes ``metrics.jsonl`` and ``metrics.csv``: a row every ``log_every`` steps (kind
    ``step``) and one per epoch (kind ``epoch``), with epoch, step, LR per group, losses, metrics
    and wall time."""

    def __init__(self, run_dir: Path, columns: list[str], log_every: int):
        super().__init__(log_every)
        self.jsonl = Path(run_dir) / "metrics.jsonl"
        self.csv = Path(run_dir) / "metrics.csv"
        self.columns = ["kind", "epoch", "step", "time", *columns]

    def on_fit_start(self, trainer):
        # On resume, drop whatever was logged after the checkpoint we continue from.
        keep = [r for r in read_metrics(self.jsonl) if r["step"] <= trainer.global_step
                and (r["kind"] == "step" or r["epoch"] <= trainer.epoch)]
        with naming(self.jsonl):
            self.jsonl.write_text("".join(json.dumps(r) + "\n" for r in keep))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(keep)
        with naming(self.csv):
            self.csv.write_text(buffer.getvalue())

    def write(self, row: dict) -> None:
        with naming(self.jsonl), open(self.jsonl, "a") as f:
            f.write(json.dumps(row) + "\n")
        with naming(self.csv), open(self.csv, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.columns, extrasaction="ignore").writerow(
                {k: "" if v is None else v for k, v in row.items()})

    def on_step_end(self, trainer):
        loss = self.take_step_loss(trainer)
        if loss is not None:
            row = {"kind": "step", "epoch": trainer.epoch, "step": trainer.global_step,
                   "time": round(trainer.elapsed(), 4), "train/loss": loss}
            row.update(trainer.lr_columns())
            self.write(row)

    def on_epoch_end(self, trainer, metrics):
        row = {"kind": "epoch", "epoch": trainer.epoch, "step": trainer.global_step,
               "time": round(trainer.elapsed(), 4)}
        row.update(trainer.lr_columns())
        row.update(metrics)
        self.write(row)


class NonFiniteWeights(TrainctlError):
    """The model's weights stopped being finite numbers; no checkpoint was written over."""


class CheckpointSaver(Callback):
    """Saves ``checkpoints/last.safetensors``, ``best`` when ``monitor`` improves, and
    ``epoch-N`` every ``every`` epochs keeping the newest ``keep_last``.

    ``last`` is written at the end of an epoch once ``last_every_s`` seconds have passed since
    the previous one (0: every epoch) or, when ``last_every`` is set, ``last_every`` epochs,
    whichever comes first, and always at the end of training: a tiny run is not dominated by
    file writes, and a crash (kill -9) loses at most that window. On an interrupt it always
    leaves a resumable checkpoint: ``last``, or ``interrupted`` when ``last`` is off. Weights
    are checked finite before anything is written, so a step that overflowed never replaces a
    good checkpoint (:class:`NonFiniteWeights` is raised instead).
    ``saved`` is the newest checkpoint written (None before the first), ``best_value`` and
    ``best_epoch`` the best monitored value. ``extra`` is stored in every checkpoint beside the
    trainer's state (the run's config and class names, so ``eval`` needs nothing else).
    ``mode=None`` takes the monitored metric's own direction.
    """

    def __init__(self, run_dir: Path, monitor: str, mode: str | None = None, *,
                 last: bool = True, best: bool = True, every: int | None = None,
                 keep_last: int | None = None, extra: dict | None = None,
                 last_every_s: float = 30.0, last_every: int | None = None):
        self.dir = Path(run_dir) / "checkpoints"
        self.monitor, self.mode = monitor, mode
        self.last, self.best, self.every, self.keep_last = last, best, every, keep_last
        self.last_every_s, self.last_every = last_every_s, last_every
        self.last_time = 0.0  # time.monotonic() of the newest `last` (or of the fit's start)
        self.last_epoch = 0  # the epoch it holds
        self.last_step: int | None = None  # the step of the newest `last` this run wrote
        self.extra = dict(extra or {})
        self.best_value = None
        self.best_epoch = None
        self.saved: Path | None = None
        self.saved_step: int | None = None

    def state_dict(self) -> dict:
        return {"best_value": self.best_value, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.best_value, self.best_epoch = state["best_value"], state["best_epoch"]

    def save(self, trainer, name: str) -> Path:
        from .checkpoint import save_checkpoint

        bad = non_finite_weights(trainer.model)
        if bad:
            kept = (f"the newest good checkpoint is {self.saved} (step {self.saved_step})"
                    if self.saved else "no checkpoint was written by this run")
            raise NonFiniteWeights(
                f"the weights became non-finite ({bad}) at epoch {trainer.epoch}, step "
                f"{trainer.global_step}; {name}.safetensors was not written and {kept}. Lower "
                "the learning rate or clip gradients (train.grad_clip)")
        with naming(self.dir / f"{name}.safetensors"):
            path = save_checkpoint(self.dir / f"{name}.safetensors",
                                   {**trainer.state_dict(), **self.extra})
        self.saved, self.saved_step = path, trainer.global_step
        return path

    def save_last(self, trainer) -> Path:
        path = self.save(trainer, "last")
        self.last_time, self.last_epoch = time.monotonic(), trainer.epoch
        self.last_step = trainer.global_step
        return path

    def last_due(self, trainer) -> bool:
        """Whether ``last`` is to be written at this epoch's end."""
        if self.last_every is not None and trainer.epoch - self.last_epoch >= self.last_every:
            return True
        return time.monotonic() - self.last_time >= self.last_every_s

    def on_fit_start(self, trainer):
        if self.mode is None:
            self.mode = metric_mode(self.monitor, trainer.metrics)
        # A resumed run counts from where it continues: its checkpoint is the newest `last`.
        self.last_time, self.last_epoch = time.monotonic(), trainer.epoch

    def on_epoch_end(self, trainer, metrics):
        value = metrics.get(self.monitor)
        improved = value is not None and math.isfinite(value) and is_better(
            value, self.best_value, self.mode)
        if improved:
            self.best_value, self.best_epoch = value, trainer.epoch
        if self.last and self.last_due(trainer):
            self.save_last(trainer)
        if improved and self.best:
            self.save(trainer, "best")
        if self.every and trainer.epoch % self.every == 0:
            self.save(trainer, f"epoch-{trainer.epoch}")
            if self.keep_last:
                numbered = sorted(self.dir.glob("epoch-*.safetensors"),
                                  key=lambda p: int(p.stem.split("-")[1]))
                for old in numbered[:-self.keep_last]:
                    old.unlink(missing_ok=True)

    def on_interrupt(self, trainer):
        if self.last:
            self.save_last(trainer)
        else:
            self.save(trainer, "interrupted")

    def on_fit_end(self, trainer):
        if self.last and self.last_step != trainer.global_step:
            self.save_last(trainer)


def non_finite_weights(model) -> str | None:
    """The name of the first parameter or buffer holding NaN or inf, else None."""
    for name, tensor in model.state_dict().items():
        data = tensor.array
        if data.dtype.kind in "fc" and not get_array_module(data).isfinite(data).all():
            return name
    return None


@register("callback")
class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved by ``min_delta`` for ``patience``
    evaluations (``mode=None``: the metric's own direction).

    Example:
        >>> EarlyStopping("val/accuracy", patience=5).state_key
        'EarlyStopping{monitor=val/accuracy, mode=None}'
    """

    def __init__(self, monitor: str = "val/loss", mode: str | None = None, patience: int = 3,
                 min_delta: float = 0.0):
        if mode not in (None, "min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.mode = monitor, mode
        self.patience, self.min_delta = patience, min_delta
        self._key = f"EarlyStopping{{monitor={monitor}, mode={mode}}}"
        self.best = None
        self.bad_epochs = 0

    @property
    def state_key(self) -> str:
        return self._key

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.bad_epochs = state["best"], state["bad_epochs"]

    def on_fit_start(self, trainer):
        if self.mode is None:
            self.mode = metric_mode(self.monitor, trainer.metrics)

    def on_epoch_end(self, trainer, metrics):
        value = metrics.get(self.monitor)
        if value is None:
            return
        if self.best is None or is_better(value, self.best, self.mode, self.min_delta):
            self.best, self.bad_epochs = value, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            trainer.stop(f"early stopping: {self.monitor} did not improve for "
                         f"{self.bad_epochs} epochs (best {self.best:.6g})")


def is_better(value, best, mode: str, min_delta: float = 0.0) -> bool:
    """Whether ``value`` improves on ``best`` (None: anything does) by more than ``min_delta``."""
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta
