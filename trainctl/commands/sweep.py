"""``trainctl sweep CONFIG --space SPACE.yaml``: :func:`trainctl.training.sweep` (one line per
trial as they end), then the best trials as a table and where the report files are."""

from __future__ import annotations

import shlex
import sys

import click

from ..core.errors import ConfigError
from ..training.sweep_space import short_names
from . import EXIT_INTERRUPTED, EXIT_OK

TOP = 10  # trials shown in the table; trials.csv has them all


def run_sweep(config, space, trials=None, jobs=1, storage=None, study=None, sampler="tpe",
              pruner="median", timeout=None, seed=None, overrides=(), report=False,
              runs_root="runs", trust_code=False) -> int:
    from ..training.sweep import sweep, sweep_results

    if report:
        result = sweep_results(config, study, storage, runs_root, trust_code)
    else:
        if space is None:
            raise ConfigError("give --space SPACE.yaml (the keys to sample), or --report to "
                              "show an existing sweep")
        result = sweep(config, space, trials, jobs, storage, study, sampler, pruner, timeout,
                       seed, overrides, runs_root, trust_code, echo=click.echo)
    print_result(result)
    if result["interrupted"]:
        again = " ".join(shlex.quote(a) for a in sys.argv[1:]) or f"sweep {config}"
        click.echo(f"interrupted: run the same command to continue the study\n"
                   f"  trainctl {again}", err=True)
        return EXIT_INTERRUPTED
    return EXIT_OK


def print_result(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..training.sweep_report import best_line

    rows = result["trials"]
    states = {}
    for r in rows:
        states[r["state"]] = states.get(r["state"], 0) + 1
    click.echo(f"\n{len(rows)} trials: " + ", ".join(f"{n} {s}" for s, n in states.items()))
    scored = [r for r in rows if r["state"] in ("completed", "pruned") and r["value"] is not None]
    maximize = result["direction"] == "maximize"
    # completed before pruned: a pruned trial's value is its last report, not a finished run
    scored.sort(key=lambda r: (r["state"] != "completed", -r["value"] if maximize
                               else r["value"]))
    if scored:
        keys = sorted({k for r in scored for k in r["params"]})
        short = short_names(keys)
        table = Table(box=None, header_style="bold", pad_edge=False)
        for title in ("trial", "state", result["objective"], "time", *(short[k] for k in keys)):
            table.add_column(title, justify="left" if title == "state" else "right")
        for r in scored[:TOP]:
            table.add_row(str(r["number"]), r["state"], f"{r['value']:.4g}",
                          "" if r["duration_s"] is None else f"{r['duration_s']:.1f}s",
                          *(_value(r["params"].get(k)) for k in keys))
        Console(width=max(80, Console().width), soft_wrap=False).print(table)
        if len(scored) > TOP:
            click.echo(f"({len(scored) - TOP} more in {result['trials_csv']})")
    click.echo(best_line(result))
    if result["best_config"] is not None:
        click.echo(f"train the best: trainctl train {result['best_config']}")
    files = [result["trials_csv"], *([result["best_config"]] if result["best_config"] else []),
             *result["plots"]]
    click.echo(f"files in {result['sweep_dir']}/:\n  " + ", ".join(p.name for p in files))
    click.echo(f"compare the trials: trainctl runs {result['sweep_dir']}")


def _value(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
