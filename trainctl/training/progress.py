"""What the user sees while training: live rich bars on a terminal, plain lines elsewhere.

Both start with a header (run name, config, device, parameters, epochs and steps per epoch) and
mark the epochs where the checkpoint's monitored metric improved with a ``*`` after its value.

``RichProgress`` prints one row per finished epoch above a live region that holds only an epoch
bar and a batch bar, so the whole history stays in the terminal's scrollback; a new best row is
bold green. The rows fit the console: every column keeps its width for the whole run, numbers are
never cut (:func:`number` writes at most 8 characters, 9 with a sign), and when the columns do
not fit on one line the ``step`` column goes first, then the metrics wrap onto a second line, one
split per line (``va`` values under their ``tr`` twins), then into as many lines as it takes.
``PlainProgress`` prints exactly one line per epoch (for logs, pipes and ``--quiet``), plus a
line every ``log_every`` optimizer steps when it is given one.

Names and numbers are written by :mod:`.display_text` (abbreviations, widths).

Cost: rich redraws from a thread of its own, holding the GIL while it renders, so every redraw is
time the training loop waits. The live region is two lines of text built when it is drawn, 4
times a second (~0.4 ms each), and a batch only adds to three counters (~0.2 µs), so the display
costs ~0.2% of an MLP epoch; the rows are printed once each (``bench/end_to_end.py`` measures it).
"""

from __future__ import annotations

import math
import textwrap
import time
from typing import NamedTuple

from .callbacks import Callback, is_better
from .display_text import (
    NUMBER_WIDTH,
    SEP,
    RunHeader,
    abbreviate,
    clock,
    duration,
    grouped,
    labels,
    lr_text,
    number,
)
from .metrics import default_monitor, metric_mode


class _Display(Callback):
    """What both displays share: the header, the columns, and which epoch is the best."""

    def __init__(self, header: RunHeader | None, monitor: str | None, mode: str | None):
        self.header = header
        self.monitor, self.mode = monitor, mode
        self.best = self.best_epoch = None

    def start(self, trainer) -> str:
        """Set up for ``trainer``; returns the header text."""
        has_val = getattr(trainer, "val_loader", None) is not None
        self.monitor = self.monitor or default_monitor(has_val)
        metrics = getattr(trainer, "metrics", {})
        self.mode = self.mode or metric_mode(self.monitor, metrics)
        self.names = [f"{split}/{m}" for split in (("train", "val") if has_val else ("train",))
                      for m in ("loss", *metrics)]
        for row in getattr(trainer, "history", []):  # a resumed run: its best so far
            self.improved(row, row.get("epoch"))
        accumulate = getattr(trainer, "accumulate", 1)
        self.steps = -(-len(trainer.train_loader) // accumulate)  # ceil
        header = self.header or RunHeader("run")
        return (f"{header.text(trainer.epochs, self.steps)}; * marks a new best "
                f"{self.monitor} ({self.mode})")

    def improved(self, metrics: dict, epoch: int) -> bool:
        """Whether ``metrics`` holds a new best monitored value (the checkpoint's rule)."""
        value = metrics.get(self.monitor)
        if value is None or not math.isfinite(value) or not is_better(value, self.best,
                                                                       self.mode):
            return False
        self.best, self.best_epoch = value, epoch
        return True


class Column(NamedTuple):
    key: str  # a metric's name, or epoch, step, lr, time
    label: str
    width: int


def _layout(lead, groups, tail, width=None):
    """Columns placed on lines: ``[[(column, end position), ...], ...]``, or None when a line
    would be wider than ``width``. ``lead`` (epoch, step) and ``tail`` (lr, time) go on the first
    line around ``groups[0]``; the metric columns of every group share slot positions, so values
    of one metric in two splits stand one above the other."""
    slots = max(len(g) for g in groups)
    slot_width = [max(g[i].width for g in groups if i < len(g)) for i in range(slots)]
    lines, end = [[]], 0
    for column in lead:
        end += column.width + (SEP if end else 0)
        lines[0].append((column, end))
    slot_end = []
    for w in slot_width:
        end += SEP + w
        slot_end.append(end)
    for k, group in enumerate(groups):
        if k:
            lines.append([])
        lines[k] += [(column, slot_end[i]) for i, column in enumerate(group)]
    end = slot_end[len(groups[0]) - 1] if groups[0] else lines[0][-1][1]
    for column in tail:
        end += SEP + column.width
        lines[0].append((column, end))
    # One column is kept free for the "*" that may follow the last value of a line.
    if width is not None and any(line and line[-1][1] >= width for line in lines):
        return None
    return lines


class EpochTable:
    """The rows of :class:`RichProgress`: fixed columns laid out for a console ``width``."""

    def __init__(self, names: list[str], epochs: int, total_steps: int, lr_groups: int,
                 width: int):
        short = labels(names)
        metrics = [Column(name, short[name], max(len(short[name]), NUMBER_WIDTH))
                   for name in names]
        epoch = Column("epoch", "ep", max(2, len(str(epochs))))
        step = Column("step", "step", max(4, len(str(total_steps))))
        tail = [Column("lr", "lr", lr_groups * NUMBER_WIDTH - 1), Column("time", "time", 6)]
        by_split = {}
        for column in metrics:
            by_split.setdefault(column.key.rpartition("/")[0], []).append(column)
        tries = [([epoch, step], [metrics]), ([epoch], [metrics])]
        if len(by_split) > 1:
            tries += [([epoch, step], list(by_split.values())),
                      ([epoch], list(by_split.values()))]
        for lines in range(2, len(metrics) + 1):
            size = -(-len(metrics) // lines)
            tries.append(([epoch], [metrics[i:i + size] for i in range(0, len(metrics), size)]))
        for lead, groups in tries:
            self.lines = _layout(lead, groups, tail, width)
            if self.lines is not None:
                break
        else:  # too narrow for any: one metric a line, wider than the console
            self.lines = _layout([epoch], [[m] for m in metrics], tail)
        self.width = width

    def _render(self, cells: dict, marked: str | None = None) -> list[str]:
        out = []
        for line in self.lines:
            text = ""
            for column, end in line:
                cell = cells.get(column.key, "")
                text += " " * max(end - len(text) - len(cell), 1 if text else 0) + cell
                if column.key == marked:
                    text += "*"
            out.append(text.rstrip())
        return out

    def header(self) -> list[str]:
        return self._render({c.key: c.label for line in self.lines for c, _ in line})

    def row(self, values: dict, marked: str | None = None) -> list[str]:
        return self._render(values, marked)


class RichProgress(_Display):
    """Epoch rows above two live bars (for terminals).

    Args:
        console: the rich console to draw on (default: a new one on stdout).
        header: the run's :class:`RunHeader`.
        monitor, mode: the checkpoint's monitored metric and its direction, for the ``*``
            marks (default: ``val/loss`` or ``train/loss``, in the metric's own direction).
    """

    HEADER_EVERY = 30  # rows between repeats of the column names

    def __init__(self, console=None, header: RunHeader | None = None, monitor: str | None = None,
                 mode: str | None = None):
        from rich.console import Console

        super().__init__(header, monitor, mode)
        self.console = console or Console()
        self.live = None

    def on_fit_start(self, trainer):
        from rich.live import Live
        from rich.text import Text

        self.trainer = trainer
        self.console.print(Text(self.start(trainer), style="bold"))
        self.rows = 0
        self.table = self._new_table(trainer)
        self.on_epoch_start(trainer)
        self.session_start = self.epoch_start
        self.units_before = trainer.epoch + self.batch / max(self.batches, 1)
        self.live = Live(_Bars(self), console=self.console, refresh_per_second=4,
                         transient=False)
        self.live.start()

    def _new_table(self, trainer) -> EpochTable:
        from rich.text import Text

        table = EpochTable(self.names, trainer.epochs, trainer.epochs * self.steps,
                           len(trainer.lrs_used()), self.console.width)
        for line in table.header():
            self.console.print(Text(line, style="bold"))
        return table

    def on_epoch_start(self, trainer):
        self.epoch_running = trainer.epoch  # epochs done before the one that starts
        self.batch = self.first_batch = trainer.train_loader.state_dict().get("batches_done", 0)
        self.batches = len(trainer.train_loader)
        self.epoch_start = time.perf_counter()
        self.samples, self.loss = 0, None

    def on_batch_end(self, trainer, loss, batch_size):
        self.batch += 1
        self.samples += batch_size
        self.loss = loss if self.loss is None else 0.9 * self.loss + 0.1 * loss

    def on_epoch_end(self, trainer, metrics):
        from rich.text import Text

        if self.table.width != self.console.width:  # the terminal was resized
            self.table = self._new_table(trainer)
        elif self.rows and self.rows % self.HEADER_EVERY == 0:
            for line in self.table.header():
                self.console.print(Text(line, style="bold"))
        best = self.improved(metrics, trainer.epoch)
        cells = {name: number(metrics.get(name)) for name in self.names}
        cells.update(epoch=str(trainer.epoch), step=str(trainer.global_step),
                     lr=lr_text(trainer), time=duration(trainer.elapsed()))
        marked = (self.monitor if self.monitor in cells else "epoch") if best else None
        for line in self.table.row(cells, marked):
            self.console.print(Text(line, style="bold green" if best else ""))
        self.rows += 1

    def bar_lines(self) -> list[tuple]:
        """The live region's two lines as ``(label, done, total, info parts, times)``."""
        trainer = self.trainer
        now = time.perf_counter()
        spent = now - self.epoch_start
        seen = self.batch - self.first_batch
        if trainer.epoch > self.epoch_running:  # between the end of an epoch and the next
            units = trainer.epoch
        else:
            units = trainer.epoch + min(self.batch / max(self.batches, 1), 1.0)
        done = units - self.units_before
        run_eta = (now - self.session_start) / done * (trainer.epochs - units) if done else None
        epoch_eta = spent / seen * (self.batches - self.batch) if seen else None
        best = []
        if self.best is not None:  # the long form, or a short one where it does not fit
            value = number(self.best)
            best = [(f"best {abbreviate(self.monitor)} {value} (epoch {self.best_epoch})",
                     f"best {value} (ep {self.best_epoch})")]
        info = []
        if self.loss is not None:
            info = [f"loss {number(self.loss)}",
                    f"{_si(self.samples / max(spent, 1e-9))} samples/s",
                    f"lr {lr_text(trainer)}"]
        return [("epoch", trainer.epoch, trainer.epochs, best,
                 f"{clock(trainer.elapsed())} eta {clock(run_eta)}"),
                ("batch", self.batch, self.batches, info,
                 f"{clock(spent)} eta {clock(epoch_eta)}")]

    def close(self):
        if self.live is not None:
            self.live.stop()
            self.live = None

    def on_interrupt(self, trainer):
        self.close()

    def on_exception(self, trainer, exception):
        self.close()

    def on_fit_end(self, trainer):
        self.close()


def _si(rate: float) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if rate >= size:
            return f"{rate / size:.3g}{unit}"
    return f"{rate:.0f}"


class _Bars:
    """The live region: both bars, laid out for the console's width at every redraw, the
    counts, info and times of the two lines in columns. An info part is a string or a tuple of
    forms, longest first; a part none of whose forms fits is left out, so the times never wrap
    and no number is cut."""

    def __init__(self, display: RichProgress):
        self.display = display

    def __rich_console__(self, console, options):
        from rich.text import Text

        width = options.max_width - 1  # a line as wide as the terminal may wrap on some
        lines = self.display.bar_lines()
        count_w = max(len(f"{total}") * 2 + 1 for _, _, total, _, _ in lines)
        times_w = max(len(times) for *_, times in lines)
        bar_w = max(4, min(30, width // 5, width - 5 - count_w - times_w - 4))
        room = width - (5 + 1 + bar_w + 1 + count_w + SEP + times_w) - SEP
        chosen = []
        for *_, parts, _ in lines:
            kept = []
            for part in parts:
                for form in (part,) if isinstance(part, str) else part:
                    if len("  ".join([*kept, form])) <= room:
                        kept.append(form)
                        break
            chosen.append("  ".join(kept))
        info_w = max(len(c) for c in chosen)
        for (label, done, total, _, times), info in zip(lines, chosen):
            line = Text()
            line.append(f"{label:<5} ", style="bold")
            line.append_text(_bar(done, total, bar_w))
            line.append(f" {f'{done}/{total}':>{count_w}}", style="progress.download")
            if info_w:
                line.append(f"  {info:<{info_w}}")
            line.append(f"  {times}", style="progress.elapsed")
            yield line


def _bar(done: int, total: int, width: int):
    from rich.text import Text

    filled = width * min(done / total, 1.0) if total else width
    full, half = int(filled), filled - int(filled) >= 0.5
    style = "bar.finished" if total and done >= total else "bar.complete"
    bar = Text("━" * full + "╸" * half, style=style)
    bar.append("━" * (width - full - half), style="bar.back")
    return bar


class PlainProgress(_Display):
    """One line per epoch through ``echo`` (and one every ``log_every`` steps, when given).

    An epoch line groups the metrics by split, with the abbreviations of :func:`abbreviate`,
    so that four metrics and the LR fit in 80 columns; a step line adds the elapsed time::

        epoch 7/40  tr loss 0.01833 acc 1  va loss 0.01361 acc 1*  lr 0.00946
          step 300/1520  tr loss 0.0191  lr 0.00946  0.2s

    An epoch wider than ``width`` (more metrics) puts each split on a line of its own::

        epoch 2/8  tr loss 0.1434 sequ acc 0.6866 acc 0.9516  lr 0.00297
                   va loss 0.06732 sequ acc 0.83* acc 0.9772

    Args:
        name: the run's name (used when there is no ``header``).
        echo: prints one line.
        header, monitor, mode: as for :class:`RichProgress`.
        log_every: also print a line (mean training loss since the last one, lr, time) every
            this many optimizer steps.
        width: the width the header is wrapped to.
    """

    def __init__(self, name: str = "run", echo=print, header: RunHeader | None = None,
                 monitor: str | None = None, mode: str | None = None,
                 log_every: int | None = None, width: int = 80):
        super().__init__(header or RunHeader(name), monitor, mode)
        self.echo = echo
        self.log_every = log_every
        self.width = width
        self.window_loss, self.window_count = 0.0, 0

    def on_fit_start(self, trainer):
        for line in textwrap.wrap(self.start(trainer), self.width, subsequent_indent="  ",
                                  break_long_words=False, break_on_hyphens=False):
            self.echo(line)
        self.total_steps = trainer.epochs * self.steps
        if getattr(trainer, "max_steps", None):
            self.total_steps = min(self.total_steps, trainer.max_steps)

    def on_batch_end(self, trainer, loss, batch_size):
        if self.log_every and loss == loss:
            self.window_loss += loss
            self.window_count += 1

    def on_step_end(self, trainer):
        if self.log_every and trainer.global_step % self.log_every == 0 and self.window_count:
            self.echo(f"  step {trainer.global_step}/{self.total_steps}  tr loss "
                      f"{number(self.window_loss / self.window_count)}  lr {lr_text(trainer)}  "
                      f"{duration(trainer.elapsed())}")
            self.window_loss, self.window_count = 0.0, 0

    def on_epoch_end(self, trainer, metrics):
        marked = self.monitor if self.improved(metrics, trainer.epoch) else None
        head, groups = f"epoch {trainer.epoch}/{trainer.epochs}", grouped(metrics, marked)
        lr = f"lr {lr_text(trainer)}"
        line = "  ".join([head, *groups, lr])
        if len(line) <= self.width or not groups:
            self.echo(line)
            return
        # Too wide (several metrics): a split (train, val) a line, aligned under the first;
        # the LR ends the first line when it fits there, else it has a line of its own.
        pad = " " * (len(head) + 2)
        first = f"{head}  {groups[0]}"
        fits = len(first) + 2 + len(lr) <= self.width
        self.echo(f"{first}  {lr}" if fits else first)
        for group in groups[1:]:
            self.echo(pad + group)
        if not fits:
            self.echo(pad + lr)
