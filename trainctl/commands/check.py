"""``trainctl check CONFIG``: :func:`trainctl.training.check`, printed: the resolved config, the
model's layers with output shapes and parameter counts (for a model too big to allocate, from a
dry run on the meta device, which says so)."""

from __future__ import annotations

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table


def shape_text(shape) -> str:
    """``[2, 16]``; a layer that returns a tuple (a recurrent layer's output and final
    states) shows each part: ``[2, 4, 16], ([1, 2, 16], [1, 2, 16])``."""
    if shape and all(isinstance(s, tuple) for s in shape):
        parts = [shape_text(s) if not s or not isinstance(s[0], tuple) else
                 f"({shape_text(s)})" for s in shape]
        return ", ".join(parts)
    return str(list(shape))


def run_check(path: str, overrides=(), trust_code: bool = False) -> None:
    from ..training import check

    console = Console()
    report = check(path, overrides, trust_code=trust_code)
    console.print(f"[bold]{path}[/bold] (resolved)")
    console.print(Syntax(report.config.to_yaml(), "yaml"))
    table = Table(title="model", title_justify="left")
    table.add_column("layer")
    table.add_column("type")
    table.add_column("output shape")
    table.add_column("parameters", justify="right")
    for layer_path, kind, shape, params in report.layers:
        table.add_row(layer_path, kind, "-" if shape is None else shape_text(shape),
                      f"{params:,}")
    console.print(table)
    console.print(f"total parameters: {report.total_parameters:,} "
                  f"(trainable {report.trainable_parameters:,})")
    if report.meta_bytes is not None:
        console.print(f"[yellow]note:[/yellow] the weights would need "
                      f"{report.meta_bytes / 1e9:,.1f} GB, so the dry run ran on the meta "
                      f"device: shapes and parameter counts, nothing allocated")
    if report.note:
        console.print(f"[yellow]note:[/yellow] {report.note}")
    console.print(f"[green]config OK[/green]: {path}")
