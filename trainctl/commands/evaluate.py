"""``trainctl eval CHECKPOINT``: :func:`trainctl.training.evaluate`, printed as tables or JSON."""

from __future__ import annotations

import json

import click

from . import EXIT_OK

#: Tables fit an 80-column terminal: long class names wrap inside their column.
WIDTH = 80


def run_eval(checkpoint, split=None, overrides=(), as_json=False, trust_code=False,
             predictions=None, data=None) -> int:
    from ..training import evaluate

    result = evaluate(checkpoint, split, overrides, trust_code=trust_code,
                      predictions=predictions, data=data)
    if as_json:
        click.echo(json.dumps(result))
        return EXIT_OK
    print_result(result)
    written = [result["json"]] + [result[k] for k in ("confusion_png", "roc_png", "pr_png",
                                                      "residuals_png", "predictions")
                                  if result.get(k)]
    click.echo("wrote " + ", ".join(written))
    return EXIT_OK


def print_result(result: dict, console=None) -> None:
    """The metrics table, then the task's report: per-class table (classification), ROC AUC
    and average precision (binary), errors in the target's units (regression)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=f"{result['split']} ({result['samples']} samples)", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in result["metrics"].items():
        table.add_row(k, f"{v:.6g}")
    console.print(table, width=WIDTH)
    if "report" in result:
        console.print(report_table(result["report"]), width=WIDTH)
    if result.get("roc_auc") is not None:
        console.print(f"ROC AUC {result['roc_auc']:.4f}, average precision "
                      f"{result['average_precision']:.4f} (positive class: "
                      f"{result['classes'][1]})", width=WIDTH)
    elif result.get("task") == "binary":
        console.print("no ROC or precision-recall curve: the split holds one class only",
                      width=WIDTH)
    if "regression" in result:
        units = "target units" if result.get("inverse_target_applied") else "as trained"
        reg = Table(title=f"errors over the split ({units})", title_justify="left")
        for name in result["regression"]:
            reg.add_column(name, justify="right")
        reg.add_row(*(f"{v:.6g}" for v in result["regression"].values()))
        console.print(reg, width=WIDTH)


def report_table(report: dict):
    """scikit-learn's classification report as a rich table: one row per class, then accuracy
    and the macro and support-weighted averages."""
    from rich.table import Table

    table = Table(title="per-class report (recall = per-class accuracy)",
                  title_justify="left")
    table.add_column("class", overflow="fold", max_width=30)
    for name in ("precision", "recall", "f1", "support"):
        table.add_column(name, justify="right", no_wrap=True)

    def row(name, scores, style=None):
        table.add_row(name, *(f"{scores[k]:.4f}" for k in ("precision", "recall", "f1")),
                      str(scores["support"]), style=style)

    for name, scores in report["per_class"].items():
        row(name, scores)
    total = report["macro_avg"]["support"]
    table.add_section()
    table.add_row("accuracy", "", "", f"{report['accuracy']:.4f}", str(total), style="bold")
    row("macro avg", report["macro_avg"])
    row("weighted avg", report["weighted_avg"])
    return table
