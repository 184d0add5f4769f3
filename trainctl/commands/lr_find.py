"""``trainctl lr-find CONFIG``: :func:`trainctl.training.lr_find`, printing the steps run (and
where the loss diverged), both suggestions, the chart's path and the applied config's path."""

from __future__ import annotations

import click

from . import EXIT_OK


def run_lr_find(config, overrides=(), min_lr=1e-7, max_lr=10.0, steps=100, mode="exp",
                apply=False, runs_root="runs", trust_code=False) -> int:
    from ..training import lr_find

    result = lr_find(config, overrides, min_lr, max_lr, steps, mode, apply=apply,
                     trust_code=trust_code, runs_root=runs_root)
    click.echo(f"ran {result['steps_run']} of {steps} steps, lr {min_lr:g} -> {max_lr:g} "
               f"({mode})")
    if result["diverged_at"] is not None:
        click.echo(f"stopped early: loss diverged at lr {result['diverged_at']:.3g}")
    found = result["suggestion"]
    click.echo(f"suggested lr: {_lr(found['steepest'])} (steepest descent of the smoothed loss)")
    click.echo(f"min loss / 10: {_lr(found['min_div_10'])}")
    if len(result["group_ratios"]) > 1:
        ratios = ", ".join(f"{r:g}" for r in result["group_ratios"])
        click.echo(f"param groups scaled together (LR ratios to group 0: {ratios})")
    click.echo(f"wrote {result['plot']}")
    if result["applied"] is not None:
        click.echo(f"applied: {result['applied']}")
    return EXIT_OK


def _lr(value) -> str:
    return "none (too few finite losses)" if value is None else f"{value:.3g}"
