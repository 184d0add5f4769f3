"""The training loop.

One :class:`Trainer` runs epochs (or ``max_steps``) of: forward, loss, backward, optional
gradient clipping and accumulation, optimizer step, scheduler step (per ``step`` or per
``epoch``; ``ReduceLROnPlateau`` is fed its monitored metric), evaluation every ``eval_every``
epochs, and calls its callbacks (progress, logging, checkpoints, early stopping) at each stage.

Everything that makes a run repeatable lives in :meth:`Trainer.checkpoint_state`: weights,
optimizer and scheduler state, RNG state, the data loader's position inside the epoch and the
epoch's running sums, so a run stopped at any step and resumed ends bit-identical to one that
never stopped.
"""

from __future__ import annotations

import math
import time

import numpy

from ..autograd.grad_mode import no_grad
from ..core import random as tc_random
from ..core.errors import TrainctlError
from .metrics import METRICS


class NonFiniteLoss(TrainctlError):
    """The loss became NaN or infinite (``train.on_nan: stop``)."""


class Interrupted(Exception):
    """Training stopped on Ctrl-C / SIGTERM after saving a ``last`` checkpoint."""


class EpochSums:
    """Running sums of one epoch's loss and metrics (kept in checkpoints for mid-epoch resume)."""

    def __init__(self, metric_names):
        self.loss_sum = 0.0
        self.count = 0
        self.metrics = {name: METRICS[name]() for name in metric_names}

    def update(self, loss: float, out, target, n: int) -> None:
        self.loss_sum += loss * n
        self.count += n
        for metric in self.metrics.values():
            metric.update(out, target)

    def compute(self, prefix: str) -> dict:
        out = {f"{prefix}/loss": self.loss_sum / self.count if self.count else float("nan")}
        for name, metric in self.metrics.items():
            out[f"{prefix}/{name}"] = metric.compute()
        return out

    def state_dict(self) -> dict:
        return {"loss_sum": self.loss_sum, "count": self.count,
                "metrics": {k: dict(vars(m)) for k, m in self.metrics.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.loss_sum, self.count = state["loss_sum"], state["count"]
        for name, values in state["metrics"].items():
            vars(self.metrics[name]).update(values)


class Trainer:
    """Trains ``parts`` (see ``setup.RunParts``) as the config's ``train`` section says."""

    def __init__(self, cfg, parts, callbacks=()):
        self.cfg = cfg
        self.parts = parts
        self.callbacks = list(callbacks)
        train = cfg["train"]
        self.epochs = train["epochs"]
        self.max_steps = train["max_steps"]
        self.accumulate = train["accumulate_grad_batches"]
        self.grad_clip = train["grad_clip"]
        self.eval_every = train["eval_every"]
        self.on_nan = train["on_nan"]
        self.metric_names = list(train["metrics"])
        sched = cfg["scheduler"] or {}
        self.interval = sched.get("interval", "epoch")
        self.plateau_monitor = sched.get("monitor") or (
            "val/loss" if parts.val_loader is not None else "train/loss")
        self.epoch = 0  # epochs completed
        self.global_step = 0  # optimizer steps taken
        self.best_value = None
        self.best_epoch = None
        self.history: list[dict] = []
        self.sums = EpochSums(self.metric_names)
        self.interrupt_requested = False
        self.stop_reason = None
        self._started = None
        self._elapsed_before = 0.0
        self._lrs_used = None

    # ------------------------------------------------------------------ helpers for callbacks
    def elapsed(self) -> float:
        return self._elapsed_before + (time.perf_counter() - self._started if self._started else 0)

    def current_lrs(self) -> list[float]:
        return [float(g["lr"]) for g in self.parts.optimizer.param_groups]

    def lrs_used(self) -> list[float]:
        """The LR of each param group as used by the latest optimizer step."""
        return self._lrs_used or self.current_lrs()

    def lr_columns(self) -> dict:
        lrs = self.lrs_used()
        return {"lr" if len(lrs) == 1 else f"lr/{i}": lr for i, lr in enumerate(lrs)}

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.parts.train_loader) / self.accumulate)

    @staticmethod
    def is_better(value, best, mode: str, min_delta: float = 0.0) -> bool:
        if best is None:
            return True
        return value < best - min_delta if mode == "min" else value > best + min_delta

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after the current epoch (early stopping, max_steps)."""
        self.stop_reason = reason

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    # ------------------------------------------------------------------ state
    def checkpoint_state(self) -> dict:
        p = self.parts
        callbacks = {type(cb).__name__: cb.state_dict() for cb in self.callbacks
                     if hasattr(cb, "state_dict")}
        return {
            "model": p.model.state_dict(),
            "optimizer": p.optimizer.state_dict(),
            "scheduler": p.scheduler.state_dict() if p.scheduler is not None else None,
            "trainer": {
                "epoch": self.epoch, "global_step": self.global_step,
                "best_value": self.best_value, "best_epoch": self.best_epoch,
                "elapsed": self.elapsed(), "sums": self.sums.state_dict(),
                "loader": p.train_loader.state_dict(), "rng": tc_random.get_rng_state(),
                "callbacks": callbacks, "history": self.history,
            },
            "config": dict(self.cfg),
            "data": {"classes": p.classes},
        }

    def load_state(self, state: dict) -> None:
        """Continue from a checkpoint made by :meth:`checkpoint_state`."""
        p = self.parts
        p.optimizer.load_state_dict(state["optimizer"])
        if p.scheduler is not None and state.get("scheduler") is not None:
            p.scheduler.load_state_dict(state["scheduler"])
        t = state["trainer"]
        self.epoch, self.global_step = t["epoch"], t["global_step"]
        self.best_value, self.best_epoch = t["best_value"], t["best_epoch"]
        self._elapsed_before = t["elapsed"]
        self.history = list(t["history"])
        self.sums.load_state_dict(t["sums"])
        p.train_loader.load_state_dict(t["loader"])
        tc_random.set_rng_state(t["rng"])
        for cb in self.callbacks:
            saved = t["callbacks"].get(type(cb).__name__)
            if saved is not None and hasattr(cb, "load_state_dict"):
                cb.load_state_dict(saved)

    # ------------------------------------------------------------------ the loop
    def fit(self) -> dict:
        self._started = time.perf_counter()
        self._call("on_fit_start")
        # Overflow to inf/nan is caught below as a non-finite loss (train.on_nan), with a clear
        # message; NumPy's own warnings about it would only be noise.
        errstate = numpy.errstate(over="ignore", invalid="ignore", divide="ignore")
        try:
            errstate.__enter__()
            while self.epoch < self.epochs and self.stop_reason is None:
                self._call("on_epoch_start")
                finished = self._train_epoch()
                if self.interrupt_requested and not finished:
                    raise Interrupted()  # mid-epoch: the checkpoint keeps the loader's position
                self._end_epoch()
                if self.interrupt_requested:
                    raise Interrupted()
        except Interrupted:
            self._call("on_interrupt")
            raise
        finally:
            errstate.__exit__(None, None, None)
            self._elapsed_before = self.elapsed()
            self._started = None
        self._call("on_fit_end")
        return self.summary()

    def _train_epoch(self) -> bool:
        """One pass over the training data; False when it stopped early (interrupt, max_steps)."""
        p = self.parts
        p.model.train()
        micro = 0
        batches = len(p.train_loader)
        done_before = p.train_loader.state_dict().get("batches_done", 0)
        for i, (x, y) in enumerate(p.train_loader, start=done_before):
            x, y = p.to_device(x), p.to_device(y)
            out = p.model(x)
            loss = p.loss_fn(out, y)
            value = float(loss.item())
            if not math.isfinite(value):
                if self.on_nan == "stop":
                    raise NonFiniteLoss(
                        f"the loss became {value} at epoch {self.epoch + 1}, step "
                        f"{self.global_step + 1} (batch {i + 1}); the last good checkpoint is "
                        "kept. Lower the learning rate, clip gradients (train.grad_clip) or set "
                        "train.on_nan: skip_batch")
                p.optimizer.zero_grad()
                micro = 0
                continue
            (loss / self.accumulate if self.accumulate > 1 else loss).backward()
            micro += 1
            with no_grad():
                self.sums.update(value, out.detach(), y, len(y))
            self._call("on_batch_end", value, len(y))
            if micro == self.accumulate or i + 1 == batches:
                micro = 0
                self._optimizer_step()
                if i + 1 < batches and (self.interrupt_requested or self._max_steps_reached()):
                    return False
        self._max_steps_reached()
        return True

    def _optimizer_step(self) -> None:
        p = self.parts
        if self.grad_clip is not None:
            from ..nn.utils import clip_grad_norm_, clip_grad_value_

            if self.grad_clip["max_norm"] is not None:
                clip_grad_norm_(p.model.parameters(), self.grad_clip["max_norm"],
                                self.grad_clip["norm_type"])
            else:
                clip_grad_value_(p.model.parameters(), self.grad_clip["value"])
        self._lrs_used = self.current_lrs()
        p.optimizer.step()
        p.optimizer.zero_grad()
        self.global_step += 1
        if p.scheduler is not None and self.interval == "step" and not self._plateau():
            p.scheduler.step()
        self._call("on_step_end")

    def _max_steps_reached(self) -> bool:
        if self.max_steps is not None and self.global_step >= self.max_steps:
            self.stop(f"reached max_steps ({self.max_steps})")
            return True
        return False

    def _plateau(self) -> bool:
        return type(self.parts.scheduler).__name__ == "ReduceLROnPlateau"

    def _end_epoch(self) -> None:
        p = self.parts
        self.epoch += 1
        metrics = self.sums.compute("train")
        self.sums = EpochSums(self.metric_names)
        if p.val_loader is not None and (self.epoch % self.eval_every == 0
                                         or self.epoch == self.epochs):
            metrics.update(self.evaluate(p.val_loader, "val"))
            self._call("on_validation_end", metrics)
        if p.scheduler is not None:
            if self._plateau():
                value = metrics.get(self.plateau_monitor)
                if value is not None:
                    p.scheduler.step(value)
            elif self.interval == "epoch":
                p.scheduler.step()
        self.history.append({"epoch": self.epoch, "step": self.global_step, **metrics})
        self._call("on_epoch_end", metrics)

    def evaluate(self, loader, prefix: str) -> dict:
        """Loss and metrics of the model over ``loader`` (eval mode, no graph)."""
        p = self.parts
        sums = EpochSums(self.metric_names)
        was_training = p.model.training
        p.model.eval()
        with no_grad():
            for x, y in loader:
                x, y = p.to_device(x), p.to_device(y)
                out = p.model(x)
                sums.update(float(p.loss_fn(out, y).item()), out, y, len(y))
        p.model.train(was_training)
        return sums.compute(prefix)

    def summary(self) -> dict:
        last = self.history[-1] if self.history else {}
        return {"epochs": self.epoch, "steps": self.global_step,
                "time_s": round(self._elapsed_before, 3), "best_value": self.best_value,
                "best_epoch": self.best_epoch, "final": last, "stop_reason": self.stop_reason}
