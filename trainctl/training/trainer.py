"""The training loop.

One :class:`Trainer` runs epochs (or ``max_steps``) of: forward, loss, backward, optional
gradient clipping and accumulation, optimizer step, scheduler step (per ``step`` or per
``epoch``; a scheduler built with a ``scheduler_monitor``, such as ``ReduceLROnPlateau``, is fed
that metric), evaluation every ``eval_every`` epochs, and calls its callbacks (progress, logging,
checkpoints, early stopping) at each stage. An optimizer that re-evaluates the loss several times
per step (``LBFGS``) gets a closure over the current batch (:func:`needs_closure`).

The Trainer takes objects and plain keyword arguments, never a config: ``trainctl.training.train``
builds them from a config file, and a Python user can build them by hand. Everything that makes a
run repeatable is in :meth:`Trainer.state_dict`: weights, optimizer and scheduler state, RNG
state, the data loader's position inside the epoch, the epoch's running sums and each callback's
own state, so a run stopped at any step and resumed ends bit-identical to one that never stopped.

Example:
    >>> import trainctl as tc
    >>> from trainctl.utils.data import DataLoader, TensorDataset
    >>> x = tc.randn(64, 2); y = x @ tc.tensor([[2.0], [3.0]])
    >>> model = tc.nn.Linear(2, 1)
    >>> trainer = Trainer(model, tc.nn.MSELoss(), tc.optim.SGD(model.parameters(), lr=0.1),
    ...                   DataLoader(TensorDataset(x, y), batch_size=16), epochs=20)
    >>> trainer.fit()["final"]["train/loss"] < 1e-3
    True
"""

from __future__ import annotations

import copy
import math
import time

import numpy

from ..autograd.grad_mode import no_grad
from ..core import random as tc_random
from ..core.errors import TrainctlError
from ..nn.graph import compile
from ..nn.utils import clip_grad_norm_, clip_grad_value_
from ..optim import LBFGS


class NonFiniteLoss(TrainctlError):
    """The loss became NaN or infinite (``on_nan="stop"``)."""


class Interrupted(Exception):
    """Training stopped on request (Ctrl-C / SIGTERM) at a step boundary."""


_PLAIN = (int, float, str, list, type(None))


def needs_closure(optimizer) -> bool:
    """Whether ``optimizer.step`` must be given a closure that re-evaluates the loss: LBFGS, or
    any optimizer whose class says ``needs_closure = True``."""
    return bool(getattr(optimizer, "needs_closure", isinstance(optimizer, LBFGS)))


class EpochSums:
    """Running sums of one epoch's loss and metrics (kept in checkpoints for mid-epoch resume).

    ``metrics`` maps names to metric objects used as prototypes: each EpochSums works on fresh
    copies, so training and validation sums never share state.
    """

    def __init__(self, metrics: dict, transform=None):
        self.loss_sum = 0.0
        self.count = 0
        self.transform = transform
        self.metrics = {name: copy.deepcopy(m) for name, m in metrics.items()}
        for metric in self.metrics.values():
            metric.reset()

    def update(self, loss: float, out, target, n: int) -> None:
        self.loss_sum += loss * n
        self.count += n
        if self.metrics and self.transform is not None:
            out, target = self.transform(out, target)
        for metric in self.metrics.values():
            metric.update(out, target)

    def compute(self, prefix: str) -> dict:
        out = {f"{prefix}/loss": self.loss_sum / self.count if self.count else float("nan")}
        for name, metric in self.metrics.items():
            out[f"{prefix}/{name}"] = metric.compute()
        return out

    def state_dict(self) -> dict:
        # A metric's running sums are its plain-valued attributes (counts, sums, lists of them).
        return {"loss_sum": self.loss_sum, "count": self.count,
                "metrics": {k: {a: v for a, v in vars(m).items() if isinstance(v, _PLAIN)}
                            for k, m in self.metrics.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.loss_sum, self.count = state["loss_sum"], state["count"]
        for name, values in state["metrics"].items():
            vars(self.metrics[name]).update(values)


class Trainer:
    """Trains ``model`` on ``train_loader`` with ``loss_fn`` and ``optimizer``.

    Args:
        model, loss_fn, optimizer: the module, the loss (a callable ``loss_fn(out, y)``) and an
            optimizer over the model's parameters.
        train_loader, val_loader: data loaders yielding ``(x, y)``; validation is optional.
        scheduler: an LR scheduler, stepped every ``scheduler_interval`` (``"epoch"`` or
            ``"step"``); with ``scheduler_monitor`` (e.g. ``"val/loss"``) it is stepped once per
            epoch with that metric's value (``ReduceLROnPlateau``).
        epochs, max_steps: stop after this many epochs, or optimizer steps if sooner.
        metrics: name -> metric object (``update(pred, target)``, ``compute()``, ``reset()``),
            logged as ``train/<name>`` and ``val/<name>``.
        accumulate_grad_batches: batches whose gradients are summed before one optimizer step
            (1 for an optimizer that needs a closure: it re-evaluates one batch).
        grad_clip_norm, grad_norm_type, grad_clip_value: clip gradients by total norm or by value
            before each step.
        eval_every: validate every N epochs (and after the last one).
        graph: run the forward-loss-backward step and the evaluation step as traced graphs
            (``tc.compile``): same numbers as eager mode, less Python per op. The optimizer,
            clipping, scheduler, metrics and callbacks run as in eager mode.
        on_nan: ``"stop"`` raises :class:`NonFiniteLoss`; ``"skip_batch"`` skips such batches.
        device: where batches are moved (the model must already be there).
        callbacks: :class:`~trainctl.training.callbacks.Callback` objects, called in order.
        metric_transform: ``f(output, target) -> (output, target)`` applied before the metrics
            (not the loss): e.g. undoing a standardised target, so metrics are in its units.
        reducer: for data-parallel training, an object combining numbers over the ranks:
            ``before_batch(trainer, steps)`` before each forward (``steps``: this batch ends
            with an optimizer step), ``batch(trainer, loss, n) -> (loss, n)`` every batch
            (before backward: the batch's loss and size over all ranks; it may set
            ``interrupt_requested``) and ``sums(epoch_sums) -> epoch_sums`` before an
            epoch's or evaluation's metrics are
            computed (see :mod:`trainctl.training.distributed_run`). None: one process.
    """

    def __init__(self, model, loss_fn, optimizer, train_loader, *, val_loader=None,
                 scheduler=None, scheduler_interval: str = "epoch",
                 scheduler_monitor: str | None = None, epochs: int = 1,
                 max_steps: int | None = None, metrics: dict | None = None,
                 accumulate_grad_batches: int = 1, grad_clip_norm: float | None = None,
                 grad_norm_type: float = 2.0, grad_clip_value: float | None = None,
                 eval_every: int = 1, on_nan: str = "stop", device=None, callbacks=(),
                 metric_transform=None, graph: bool = False, reducer=None):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got "
                             f"{scheduler_interval!r}")
        if on_nan not in ("stop", "skip_batch"):
            raise ValueError(f"on_nan must be 'stop' or 'skip_batch', got {on_nan!r}")
        if needs_closure(optimizer) and accumulate_grad_batches > 1:
            raise ValueError(f"{type(optimizer).__name__} re-evaluates the loss on one batch "
                             "through a closure, so it cannot accumulate gradients over "
                             f"{accumulate_grad_batches} batches; use accumulate_grad_batches=1")
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.train_loader, self.val_loader = train_loader, val_loader
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.scheduler_monitor = scheduler_monitor
        self.epochs, self.max_steps = epochs, max_steps
        self.metrics = dict(metrics or {})
        self.metric_transform = metric_transform
        self.accumulate = accumulate_grad_batches
        self.grad_clip_norm, self.grad_norm_type = grad_clip_norm, grad_norm_type
        self.grad_clip_value = grad_clip_value
        self.eval_every = eval_every
        self.on_nan = on_nan
        self.device = device
        self.needs_closure = needs_closure(optimizer)
        self.graph = graph
        self.reducer = reducer
        # Graph mode's two steps (tc.compile of the methods below), made at first use.
        self._train_step = self._forward_backward
        self._eval_step = self._forward_loss
        if graph:
            self._train_step = compile(self._forward_backward)
            self._eval_step = compile(self._forward_loss)
            # what a fallback warning calls them (a config's user never wrote these methods)
            self._train_step.label = "graph mode: the training step"
            self._eval_step.label = "graph mode: the evaluation step"
        self._step_closure = None  # the closure of the coming step, when the optimizer needs one
        self.callbacks = list(callbacks)
        keys = [cb.state_key for cb in self.callbacks]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"two callbacks share the state key {twice[0]!r}; give them "
                             "different arguments or override state_key")
        self.epoch = 0  # epochs completed
        self.global_step = 0  # optimizer steps taken
        self.history: list[dict] = []
        self.sums = EpochSums(self.metrics, self.metric_transform)
        self.interrupt_requested = False
        self.stop_reason = None
        self.end_status = "completed"  # what the run's summary says once fit returns
        self._started = None
        self._elapsed_before = 0.0
        self._lrs_used = None

    # ------------------------------------------------------------------ helpers for callbacks
    def elapsed(self) -> float:
        return self._elapsed_before + (time.perf_counter() - self._started if self._started else 0)

    def current_lrs(self) -> list[float]:
        return [float(g["lr"]) for g in self.optimizer.param_groups]

    def lrs_used(self) -> list[float]:
        """The LR of each param group as used by the latest optimizer step."""
        return self._lrs_used or self.current_lrs()

    def lr_columns(self) -> dict:
        lrs = self.lrs_used()
        return {"lr" if len(lrs) == 1 else f"lr/{i}": lr for i, lr in enumerate(lrs)}

    def stop(self, reason: str, status: str = "completed") -> None:
        """Ask the loop to stop after the current epoch (early stopping, max_steps).

        ``status`` is what the run's summary then says: ``completed``, or ``pruned`` when a
        sweep's pruner ended a trial that would not win."""
        self.stop_reason = reason
        self.end_status = status

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    def _to_device(self, t):
        return t if self.device is None or self.device.type == "cpu" else t.to(self.device)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """Everything needed to continue this run exactly (see :meth:`load_state_dict`)."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "trainer": {
                "epoch": self.epoch, "global_step": self.global_step,
                "elapsed": self.elapsed(), "sums": self.sums.state_dict(),
                "loader": self.train_loader.state_dict(), "rng": tc_random.get_rng_state(),
                "callbacks": {cb.state_key: cb.state_dict() for cb in self.callbacks},
                "history": self.history,
            },
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from :meth:`state_dict` (the model's weights are loaded by the caller, who
        knows which file they came from and reports a mismatch against it)."""
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        t = state["trainer"]
        self.epoch, self.global_step = t["epoch"], t["global_step"]
        self._elapsed_before = t["elapsed"]
        self.history = list(t["history"])
        self.sums.load_state_dict(t["sums"])
        self.train_loader.load_state_dict(t["loader"])
        tc_random.set_rng_state(t["rng"])
        for cb in self.callbacks:
            saved = t["callbacks"].get(cb.state_key)
            if saved is not None:
                cb.load_state_dict(saved)

    # ------------------------------------------------------------------ the loop
    def fit(self) -> dict:
        """Train until ``epochs``/``max_steps`` or a stop; returns :meth:`summary`.

        Raises :class:`Interrupted` when ``interrupt_requested`` was set (after the
        ``on_interrupt`` callbacks ran), and calls ``on_exception`` on every callback for any
        other error before re-raising it.
        """
        self._started = time.perf_counter()
        # Overflow to inf/nan is caught below as a non-finite loss (on_nan), with a clear
        # message; NumPy's own warnings about it would only be noise.
        errstate = numpy.errstate(over="ignore", invalid="ignore", divide="ignore")
        try:
            errstate.__enter__()
            self._call("on_fit_start")
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
        except BaseException as exc:
            self._call("on_exception", exc)
            raise
        finally:
            errstate.__exit__(None, None, None)
            self._elapsed_before = self.elapsed()
            self._started = None
        self._call("on_fit_end")
        return self.summary()

    def _train_epoch(self) -> bool:
        """One pass over the training data; False when it stopped early (interrupt, max_steps)."""
        self.model.train()
        micro = 0
        batches = len(self.train_loader)
        done_before = self.train_loader.state_dict().get("batches_done", 0)
        for i, (x, y) in enumerate(self.train_loader, start=done_before):
            x, y = self._to_device(x), self._to_device(y)
            if self.reducer is not None:  # gradients travel only on the micro-step that steps
                self.reducer.before_batch(self, micro + 1 == self.accumulate or i + 1 == batches)
            if self.graph:  # backward inside the graph; a skipped batch's gradients are cleared
                out, loss = self._train_step(x, y)
            else:
                out = self.model(x)
                loss = self.loss_fn(out, y)
            value = shown = float(loss.item())
            n = len(y)
            if self.reducer is not None:  # every rank sees the whole batch's loss, and skips alike
                shown, n = self.reducer.batch(self, value, n)
            if not math.isfinite(shown):
                if self.on_nan == "stop":
                    raise NonFiniteLoss(
                        f"the loss became {shown} at epoch {self.epoch + 1}, step "
                        f"{self.global_step + 1} (batch {i + 1}). Lower the learning rate, clip "
                        "gradients (train.grad_clip) or set train.on_nan: skip_batch")
                self.optimizer.zero_grad()
                micro = 0
                continue
            if not self.graph:
                (loss / self.accumulate if self.accumulate > 1 else loss).backward()
            micro += 1
            with no_grad():
                self.sums.update(value, out.detach(), y, len(y))
            self._call("on_batch_end", shown, n)
            if micro == self.accumulate or i + 1 == batches:
                micro = 0
                if self.needs_closure:
                    self._step_closure = self._closure(x, y, loss)
                self._optimizer_step()
                if i + 1 < batches and (self.interrupt_requested or self._max_steps_reached()):
                    return False
        self._max_steps_reached()
        return True

    def _forward_backward(self, x, y):
        """Forward, loss and backward of one batch: graph mode's training step."""
        out = self.model(x)
        loss = self.loss_fn(out, y)
        (loss / self.accumulate if self.accumulate > 1 else loss).backward()
        return out, loss

    def _forward_loss(self, x, y):
        """Forward and loss of one batch: the evaluation step."""
        out = self.model(x)
        return out, self.loss_fn(out, y)

    def _clip_gradients(self) -> None:
        if self.grad_clip_norm is not None:
            clip_grad_norm_(self.model.parameters(), self.grad_clip_norm, self.grad_norm_type)
        elif self.grad_clip_value is not None:
            clip_grad_value_(self.model.parameters(), self.grad_clip_value)

    def _closure(self, x, y, loss):
        """The closure an optimizer such as LBFGS calls to re-evaluate the loss on this batch.

        Its first call returns ``loss``, the evaluation the loop has just done (gradients already
        computed and clipped; it is also the loss logged for the step, as LBFGS returns its
        first evaluation), so a step costs one forward and backward less. Every later call
        clears the gradients and re-runs forward, loss, backward and clipping on ``(x, y)``.
        """
        first = [loss]

        def closure():
            if first:
                return first.pop()
            self.optimizer.zero_grad()
            again = self.loss_fn(self.model(x), y)
            again.backward()
            self._clip_gradients()
            return again

        return closure

    def _optimizer_step(self) -> None:
        self._clip_gradients()
        self._lrs_used = self.current_lrs()
        closure, self._step_closure = self._step_closure, None
        if closure is None:
            self.optimizer.step()
        else:
            self.optimizer.step(closure)
        self.optimizer.zero_grad()
        self.global_step += 1
        if (self.scheduler is not None and self.scheduler_interval == "step"
                and self.scheduler_monitor is None):
            self.scheduler.step()
        self._call("on_step_end")

    def _max_steps_reached(self) -> bool:
        if self.max_steps is not None and self.global_step >= self.max_steps:
            self.stop(f"reached max_steps ({self.max_steps})")
            return True
        return False

    def _end_epoch(self) -> None:
        self.epoch += 1
        metrics = self._reduced(self.sums).compute("train")
        self.sums = EpochSums(self.metrics, self.metric_transform)
        if self.val_loader is not None and (self.epoch % self.eval_every == 0
                                            or self.epoch == self.epochs):
            metrics.update(self.evaluate(self.val_loader, "val"))
            self._call("on_validation_end", metrics)
        if self.scheduler is not None:
            if self.scheduler_monitor is not None:
                value = metrics.get(self.scheduler_monitor)
                if value is not None:
                    self.scheduler.step(value)
            elif self.scheduler_interval == "epoch":
                self.scheduler.step()
        self.history.append({"epoch": self.epoch, "step": self.global_step, **metrics})
        self._call("on_epoch_end", metrics)

    def evaluate(self, loader, prefix: str) -> dict:
        """Loss and metrics of the model over ``loader`` (eval mode, no graph)."""
        sums = EpochSums(self.metrics, self.metric_transform)
        was_training = self.model.training
        self.model.eval()
        with no_grad():
            for x, y in loader:
                x, y = self._to_device(x), self._to_device(y)
                out, loss = self._eval_step(x, y)
                sums.update(float(loss.item()), out, y, len(y))
        self.model.train(was_training)
        return self._reduced(sums).compute(prefix)

    def _reduced(self, sums: EpochSums) -> EpochSums:
        """``sums`` over every rank of a data-parallel run (as they are in one process)."""
        return sums if self.reducer is None else self.reducer.sums(sums)

    def summary(self) -> dict:
        last = self.history[-1] if self.history else {}
        return {"epochs": self.epoch, "steps": self.global_step,
                "time_s": round(self._elapsed_before, 3), "final": last,
                "stop_reason": self.stop_reason}
