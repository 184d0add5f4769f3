"""``trainctl plot-lr [TARGET...]``: :func:`trainctl.training.plot_lr`, with one summary line per
curve (initial, min, max and final LR) and the chart's path."""

from __future__ import annotations

import click

from . import EXIT_OK


def run_plot_lr(targets, epochs=None, steps_per_epoch=None, out=None, log_scale=False,
                runs_root="runs", trust_code=False, fmt=None) -> int:
    from ..training import plot_lr

    curves, notes, path = plot_lr(targets, epochs, steps_per_epoch, out, log_scale, runs_root,
                                  trust_code=trust_code, fmt=fmt)
    for curve in curves:
        lrs = curve["lrs"]
        click.echo(f"{curve['label']}: initial {lrs[0]:.6g}, min {min(lrs):.6g}, "
                   f"max {max(lrs):.6g}, final {lrs[-1]:.6g} ({len(lrs)} points)")
    for note in notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {path}")
    return EXIT_OK
