"""The closing lines of a run: how it ended, its final metrics, its best checkpoint and where the
run directory is.

Example (what ``trainctl train configs/spirals_mlp.yaml`` ends with)::

    completed: 40 epochs, 1520 steps, 1.5s
    final: tr loss 0.0007683 acc 1  va loss 0.0004705 acc 1
    best val/accuracy 1 at epoch 7 ->
      runs/spirals_mlp/20261201-150102/checkpoints/best.safetensors
    run directory: runs/spirals_mlp/20261201-150102
"""

from __future__ import annotations

import shutil
import textwrap

from .display_text import grouped, number


def report(summary: dict, parts, echo, width: int | None = None) -> None:
    """Print the closing lines of a run through ``echo``, wrapped to ``width`` (default: the
    terminal's, 80 off a terminal) at spaces only, so a path or number is never split.

    Args:
        summary: what :func:`trainctl.training.train` returns (``summary.json``).
        parts: the run's :class:`~trainctl.training.setup.RunParts` (a model of at most 16
            parameters has its learned values printed).
        echo: prints one line.
        width: the width to wrap to.
    """
    width = width or shutil.get_terminal_size((80, 24)).columns

    def say(text: str) -> None:
        for line in textwrap.wrap(text, max(width, 20), subsequent_indent="  ",
                                  break_long_words=False, break_on_hyphens=False):
            echo(line)

    why = f" ({summary['stop_reason']})" if summary["stop_reason"] else ""
    say(f"{summary['status']}{why}: {summary['epochs']} epochs, {summary['steps']} steps, "
        f"{summary['time_s']:.1f}s")
    final = grouped({k: v for k, v in summary["final"].items()
                     if isinstance(v, float) and "/" in k})
    if final:
        line = "final: " + "  ".join(final)
        if len(line) > width:  # one split a line, aligned
            line = "final: " + "\n       ".join(final)
        for text in line.split("\n"):
            echo(text)
    if summary["best_value"] is not None:
        where = f" -> {summary['best_checkpoint']}" if summary.get("best_checkpoint") else ""
        say(f"best {summary['monitor']} {number(summary['best_value'])} at epoch "
            f"{summary['best_epoch']}{where}")
    model = parts.model
    if sum(p.numel() for p in model.parameters()) <= 16:  # tiny models: show what was learned
        for name, param in model.named_parameters():
            values = [round(v, 4) for v in param.detach().reshape(-1).tolist()]
            echo(f"learned {name}: {values}")
    echo(f"run directory: {summary['run_dir']}")
