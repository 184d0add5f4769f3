"""Callbacks: how the built-in parts of a run (progress, logging, checkpoints, early stopping)
hook into the training loop, and how users add their own.

A callback overrides any of the ``on_*`` methods; each gets the :class:`Trainer`. Example::

    class PrintLR(Callback):
        def on_epoch_end(self, trainer, metrics):
            print(trainer.epoch, trainer.current_lrs())

    Trainer(..., callbacks=[PrintLR()]).fit()
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path


class Callback:
    """Base class; every hook does nothing by default."""

    def on_fit_start(self, trainer) -> None: ...

    def on_epoch_start(self, trainer) -> None: ...

    def on_batch_end(self, trainer, loss: float, batch_size: int) -> None: ...

    def on_step_end(self, trainer) -> None: ...

    def on_validation_end(self, trainer, metrics: dict) -> None: ...

    def on_epoch_end(self, trainer, metrics: dict) -> None: ...

    def on_interrupt(self, trainer) -> None: ...

    def on_fit_end(self, trainer) -> None: ...


class MetricsLogger(Callback):
    """Writes ``metrics.jsonl`` and ``metrics.csv``: a row every ``log_every`` steps (kind
    ``step``) and one per epoch (kind ``epoch``), with epoch, step, LR per group, losses, metrics
    and wall time."""

    def __init__(self, run_dir: Path, columns: list[str], log_every: int):
        self.jsonl = Path(run_dir) / "metrics.jsonl"
        self.csv = Path(run_dir) / "metrics.csv"
        self.columns = ["kind", "epoch", "step", "time", *columns]
        self.log_every = log_every
        self.window_loss = 0.0
        self.window_count = 0

    def on_fit_start(self, trainer):
        rows = self.read_rows(self.jsonl)
        # On resume, drop whatever was logged after the checkpoint we continue from.
        keep = [r for r in rows if r["step"] <= trainer.global_step
                and (r["kind"] == "step" or r["epoch"] <= trainer.epoch)]
        self.jsonl.write_text("".join(json.dumps(r) + "\n" for r in keep))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(keep)
        self.csv.write_text(buffer.getvalue())

    @staticmethod
    def read_rows(path: Path) -> list[dict]:
        if not path.exists():
            return []
        rows = []
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                break  # a line cut short by a crash: everything before it is good
        return rows

    def write(self, row: dict) -> None:
        with open(self.jsonl, "a") as f:
            f.write(json.dumps(row) + "\n")
        with open(self.csv, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.columns, extrasaction="ignore").writerow(
                {k: _csv_value(v) for k, v in row.items()})

    def on_batch_end(self, trainer, loss, batch_size):
        if math.isfinite(loss):
            self.window_loss += loss
            self.window_count += 1

    def on_step_end(self, trainer):
        if trainer.global_step % self.log_every == 0 and self.window_count:
            row = {"kind": "step", "epoch": trainer.epoch, "step": trainer.global_step,
                   "time": round(trainer.elapsed(), 4),
                   "train/loss": self.window_loss / self.window_count}
            row.update(trainer.lr_columns())
            self.write(row)
            self.window_loss, self.window_count = 0.0, 0

    def on_epoch_end(self, trainer, metrics):
        row = {"kind": "epoch", "epoch": trainer.epoch, "step": trainer.global_step,
               "time": round(trainer.elapsed(), 4)}
        row.update(trainer.lr_columns())
        row.update(metrics)
        self.write(row)


def _csv_value(v):
    return "" if v is None else v


class CheckpointSaver(Callback):
    """Saves ``checkpoints/last.safetensors`` every epoch (and on interrupt), ``best`` when the
    monitored metric improves, and ``epoch-N`` every N epochs keeping the newest K."""

    def __init__(self, run_dir: Path, options: dict, monitor: str, mode: str):
        self.dir = Path(run_dir) / "checkpoints"
        self.options = options
        self.monitor = monitor
        self.mode = mode

    def save(self, trainer, name: str) -> Path:
        from .checkpoint import save_checkpoint

        return save_checkpoint(self.dir / f"{name}.safetensors", trainer.checkpoint_state())

    def on_epoch_end(self, trainer, metrics):
        value = metrics.get(self.monitor)
        improved = value is not None and math.isfinite(value) and trainer.is_better(
            value, trainer.best_value, self.mode)
        if improved:
            trainer.best_value, trainer.best_epoch = value, trainer.epoch
        if self.options["last"]:
            self.save(trainer, "last")
        if improved and self.options["best"]:
            self.save(trainer, "best")
        every = self.options["every"]
        if every and trainer.epoch % every == 0:
            self.save(trainer, f"epoch-{trainer.epoch}")
            keep = self.options["keep_last"]
            if keep:
                numbered = sorted(self.dir.glob("epoch-*.safetensors"),
                                  key=lambda p: int(p.stem.split("-")[1]))
                for old in numbered[:-keep]:
                    old.unlink(missing_ok=True)

    def on_interrupt(self, trainer):
        if self.options["last"]:
            self.save(trainer, "last")


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved by ``min_delta`` for ``patience``
    evaluations."""

    def __init__(self, monitor: str, mode: str, patience: int, min_delta: float):
        self.monitor, self.mode = monitor, mode
        self.patience, self.min_delta = patience, min_delta
        self.best = None
        self.bad_epochs = 0

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.bad_epochs = state["best"], state["bad_epochs"]

    def on_epoch_end(self, trainer, metrics):
        value = metrics.get(self.monitor)
        if value is None:
            return
        if self.best is None or trainer.is_better(value, self.best, self.mode, self.min_delta):
            self.best, self.bad_epochs = value, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            trainer.stop(f"early stopping: {self.monitor} did not improve for "
                         f"{self.bad_epochs} epochs (best {self.best:.6g})")
