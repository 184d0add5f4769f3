"""``trainctl eval CHECKPOINT``: :func:`trainctl.training.evaluate`, printed as tables or JSON."""

from __future__ import annotations

import json

import click

from . import EXIT_OK


def run_eval(checkpoint, split=None, overrides=(), as_json=False, trust_code=False) -> int:
    from ..training import evaluate

    result = evaluate(checkpoint, split, overrides, trust_code=trust_code)
    if as_json:
        click.echo(json.dumps(result))
        return EXIT_OK
    _print_tables(result)
    png = result.get("confusion_png")
    click.echo(f"wrote {result['json']}" + (f" and {png}" if png else ""))
    return EXIT_OK


def _print_tables(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{result['split']} ({result['samples']} samples)", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in result["metrics"].items():
        table.add_row(k, f"{v:.6g}")
    console.print(table)
    if "per_class_accuracy" in result:
        per = Table(title="per-class accuracy", title_justify="left")
        per.add_column("class")
        per.add_column("accuracy", justify="right")
        for name, acc in result["per_class_accuracy"].items():
            per.add_row(name, "-" if acc is None else f"{acc:.4f}")
        console.print(per)
