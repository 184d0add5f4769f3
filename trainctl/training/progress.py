"""What the user sees while training: live rich bars on a terminal, plain lines elsewhere.

``RichProgress`` shows an epoch bar and a batch bar (loss, lr, samples/s, ETA) under a table of
epoch metrics that grows as epochs finish. ``PlainProgress`` prints one line per epoch, for logs
and pipes (and ``--quiet``). Both print the final summary.

Cost: rich redraws from a thread of its own, holding the GIL while it renders, so every redraw is
time the training loop waits. Rendering the bars took ~3 ms and the metrics table ~2 ms (more as
rows are added), which at 8 redraws/s cost ~4% of an MLP epoch. So the display redraws 4 times a
second, the table, which changes only when an epoch ends, is rendered then, once, and shown as
ready-made lines (:meth:`RichProgress._table_lines`), and the times share one column: ~1% in
all (``bench/end_to_end.py`` measures it).
"""

from __future__ import annotations

import time

from .callbacks import Callback


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"
    return str(value)


def _lr_text(trainer) -> str:
    return ", ".join(f"{lr:.3g}" for lr in trainer.lrs_used())


class PlainProgress(Callback):
    """One line per epoch on stdout."""

    def __init__(self, name: str = "run", echo=print):
        self.name = name
        self.echo = echo

    def on_fit_start(self, trainer):
        self.echo(f"training {self.name}: {trainer.epochs} epochs, "
                  f"{len(trainer.train_loader)} batches per epoch")

    def on_epoch_end(self, trainer, metrics):
        # Long runs of tiny epochs (linreg: 500 epochs of one step) print about 50 lines.
        every = 1 if trainer.epochs <= 100 else trainer.epochs // 50
        if trainer.epoch % every and trainer.epoch not in (1, trainer.epochs):
            return
        parts = [f"epoch {trainer.epoch}/{trainer.epochs}", f"step {trainer.global_step}"]
        parts += [f"{k} {_fmt(v)}" for k, v in metrics.items()]
        parts += [f"lr {_lr_text(trainer)}", f"{trainer.elapsed():.1f}s"]
        self.echo("  ".join(parts))


def _clock(seconds) -> str:
    if seconds is None:
        return "-:--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _times_column():
    """"elapsed eta remaining" in one column: every column is a table cell to lay out on each
    redraw, and rich's separate elapsed, "eta" and remaining columns cost a third of it."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Times(ProgressColumn):
        def render(self, task):
            elapsed = task.finished_time if task.finished else task.elapsed
            return Text(f"{_clock(elapsed)} eta {_clock(task.time_remaining)}",
                        style="progress.elapsed")

    return Times()


class RichProgress(Callback):
    """Live bars and an epoch table (for terminals)."""

    MAX_ROWS = 15

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console()
        self.live = None

    def on_fit_start(self, trainer):
        from rich.console import Group
        from rich.live import Live
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"), _times_column(), console=self.console,
        )
        self.epoch_task = self.progress.add_task("epoch", total=trainer.epochs,
                                                 completed=trainer.epoch, info="")
        self.batch_task = self.progress.add_task("batch", total=len(trainer.train_loader),
                                                 info="")
        self.rows = []
        self.columns = None
        self.group = Group(self._table_lines(), self.progress)
        self.live = Live(self.group, console=self.console, refresh_per_second=4,
                         transient=False)
        self.live.start()

    def _table_lines(self):
        """The metrics table rendered once, as fixed lines (redrawing it is not free)."""
        from rich.segment import Segment, Segments

        lines = self.console.render_lines(self._table(), self.console.options, pad=False)
        return Segments([seg for line in lines for seg in (*line, Segment.line())])

    def _table(self):
        from rich.table import Table

        table = Table(box=None, header_style="bold", pad_edge=False)
        if self.columns is None:
            return table
        for col in self.columns:
            table.add_column(col, justify="right")
        for row in self.rows[-self.MAX_ROWS:]:
            table.add_row(*row)
        return table

    def on_epoch_start(self, trainer):
        done = trainer.train_loader.state_dict().get("batches_done", 0)
        self.progress.reset(self.batch_task, total=len(trainer.train_loader),
                            completed=done, info="")
        self.epoch_start = time.perf_counter()
        self.samples = 0
        self.loss = None

    def on_batch_end(self, trainer, loss, batch_size):
        self.samples += batch_size
        self.loss = loss if self.loss is None else 0.9 * self.loss + 0.1 * loss
        rate = self.samples / max(time.perf_counter() - self.epoch_start, 1e-9)
        self.progress.update(self.batch_task, advance=1,
                             info=f"loss {self.loss:.4g}  lr {_lr_text(trainer)}  "
                                  f"{rate:,.0f} samples/s")

    def on_epoch_end(self, trainer, metrics):
        if self.columns is None:
            self.columns = ["epoch", "step", *metrics.keys(), "lr", "time"]
        self.rows.append([str(trainer.epoch), str(trainer.global_step),
                          *[_fmt(metrics.get(k)) for k in self.columns[2:-2]],
                          _lr_text(trainer), f"{trainer.elapsed():.1f}s"])
        self.progress.update(self.epoch_task, completed=trainer.epoch)
        self.group.renderables[0] = self._table_lines()

    def close(self):
        if self.live is not None:
            self.live.stop()
            self.live = None

    def on_interrupt(self, trainer):
        self.close()

    def on_fit_end(self, trainer):
        self.close()
