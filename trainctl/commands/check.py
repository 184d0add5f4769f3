"""``trainctl check CONFIG``: :func:`trainctl.training.check`, printed: the resolved config, the
model's layers with output shapes and parameter counts."""

from __future__ import annotations

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table


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
        table.add_row(layer_path, kind, "-" if shape is None else str(list(shape)), f"{params:,}")
    console.print(table)
    console.print(f"total parameters: {report.total_parameters:,} "
                  f"(trainable {report.trainable_parameters:,})")
    if report.note:
        console.print(f"[yellow]note:[/yellow] {report.note}")
    console.print(f"[green]config OK[/green]: {path}")
