"""``trainctl runs [ROOT]`` (a table of runs) and ``trainctl runs diff RUN RUN`` (two runs side
by side). The rows come from :mod:`trainctl.training.runs`; this module only prints them."""

from __future__ import annotations

import datetime
import json

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..training.runs import format_value, metric_mode, runs_diff, runs_table

STATUS_STYLE = {"completed": "green", "pruned": "magenta", "running": "cyan",
                "interrupted": "yellow", "failed": "red", "unreadable": "dim red"}
# Row keys left out of --json (the saved config is in each run's config.yaml).
JSON_SKIP = ("config",)


def run_runs(root, sort=None, filters=(), as_json=False, console: Console | None = None) -> int:
    """Print the runs under ``root``: one table per run name (or all rows as JSON)."""
    rows = runs_table(root, sort, filters)
    if as_json:
        print(json.dumps([{k: v for k, v in r.items() if k not in JSON_SKIP} for r in rows],
                         indent=2, default=str))
        return 0
    console = console or Console(highlight=False)
    if not rows:
        console.print(f"no runs under {root}" + (" match the filters" if filters else ""))
        return 0
    groups: dict[str, list[dict]] = {}
    for row in rows:  # in the sorted order, within each name
        groups.setdefault(row["name"], []).append(row)
    pair = []
    for name in sorted(groups):
        group = groups[name]
        console.print(Text.assemble((name, "bold"), f"  ({_count(len(group))})"))
        console.print(runs_view(group, sort, console.width))
        console.print()
        readable = [r["run"] for r in group if r["status"] != "unreadable"]
        if len(readable) >= 2 and not pair:
            pair = readable[:2] if sort else readable[-2:]  # the top two, or the newest two
    where = "" if str(root) == "runs" else f" --root {root}"
    tail = f"; compare two: trainctl runs diff {' '.join(pair)}{where}" if pair else ""
    console.print(Text(f"{_count(len(rows))} under {root}{tail}", style="dim"))
    return 0


def _count(n: int) -> str:
    return f"{n} run{'s' if n != 1 else ''}"


def runs_view(rows: list[dict], sort: str | None = None, width: int = 80) -> Table:
    """The table of one run name's runs: folder (its start time), date (from 100 columns),
    status, epochs, best value of the monitored metric and its epoch, final metrics, time, and
    the config keys where a run differs from the others (by their shortest unambiguous
    ending: ``lr=0.05`` for ``optimizer.lr``; ``runs diff`` and ``--json`` give them whole)."""
    monitors = {r["monitor"] for r in rows if r["monitor"]}
    one_monitor = next(iter(monitors)) if len(monitors) == 1 else None
    wide = width >= 100
    # At 80 columns one final metric fits beside the best one (the monitored metric's final
    # value then goes unshown); from 100 columns, three.
    metrics = final_columns(rows, sort, 3 if wide else 1, () if wide else (one_monitor,))
    short = short_keys({k for r in rows for k in r["changes"]})
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0), expand=False)
    table.add_column("run", no_wrap=True)
    if wide:
        table.add_column("date", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("ep", justify="right", no_wrap=True)
    table.add_column("best\n" + _header(one_monitor) if one_monitor else "best",
                     justify="right", no_wrap=True)
    for m in metrics:
        table.add_column(_header(m), justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("changes", overflow="fold")
    best_of = {m: _best(rows, m) for m in metrics}
    for r in rows:
        best = Text("" if r["best"] is None else f"{r['best']:.4g}")
        if r["best"] is not None and r["monitor"] and not one_monitor:
            best = Text(f"{r['monitor']} {r['best']:.4g}")
        if r["best"] is not None and r["best_epoch"] is not None:
            best.append(f" @{r['best_epoch']}", style="dim")
        cells = []
        for m in metrics:
            value = r["final"].get(m)
            top = value is not None and value == best_of[m] and len(rows) > 1
            cells.append(Text("" if value is None else f"{value:.4g}",
                              style="bold green" if top else ""))
        if r["status"] == "unreadable" or (r["status"] == "failed" and r["error"]):
            changes = Text(r["error"] or "", style=STATUS_STYLE[r["status"]])
        else:
            changes = Text("\n".join(f"{short[k]}={_short(v)}" for k, v in r["changes"].items()))
        date = [_date(r["date"])] if wide else []
        table.add_row(r["run"].rsplit("/", 1)[-1], *date,
                      Text(r["status"], STATUS_STYLE.get(r["status"], "")),
                      "" if r["epochs"] is None else str(r["epochs"]), best, *cells,
                      duration(r["time_s"]), changes)
    return table


def short_keys(keys) -> dict[str, str]:
    """Each dotted key's shortest ending that no other key shares (``optimizer.lr`` -> ``lr``,
    ``model.sizes.1`` -> ``sizes.1``: a list index keeps its parent).

    Example:
        >>> short_keys({"optimizer.lr", "scheduler.lr", "model.sizes.1"})["model.sizes.1"]
        'sizes.1'
    """
    keys = sorted(keys)
    out = {}
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            if n == 1 and parts[-1].isdigit() and len(parts) > 1:
                continue
            ending = ".".join(parts[-n:])
            if not any(o != key and (o == ending or o.endswith("." + ending)) for o in keys):
                break
        out[key] = ending
    return out


def _header(name: str) -> str:
    """``val/accuracy`` as two lines (``val/`` over ``accuracy``), so the column stays narrow."""
    head, sep, tail = name.rpartition("/")
    return f"{head}{sep}\n{tail}" if sep else name


def final_columns(rows: list[dict], sort: str | None, limit: int, skip=()) -> list[str]:
    """The final metrics to show: the sorted-by one, the monitored ones, val/loss, then the
    other validation metrics, then training ones; at most ``limit``, none of ``skip``."""
    present = list(dict.fromkeys(m for r in rows for m in r["final"]))
    wanted = [sort.lstrip("-+")] if sort else []
    wanted += sorted({r["monitor"] for r in rows if r["monitor"]} - set(skip))
    wanted += ["val/loss", *sorted(m for m in present if m.startswith("val/")),
               "train/loss", *sorted(present)]
    return [m for m in dict.fromkeys(wanted) if m in present and m not in skip][:limit]


def _best(rows: list[dict], metric: str):
    values = [r["final"][metric] for r in rows if r["final"].get(metric) is not None]
    if not values:
        return None
    return max(values) if metric_mode(metric) == "max" else min(values)


def _date(text: str | None) -> str:
    if not text:
        return ""
    try:
        return datetime.datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return text


def duration(seconds) -> str:
    """``0.4s``, ``12s``, ``4m03s``, ``2h05m``."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _short(value, limit: int = 24) -> str:
    text = format_value(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def run_runs_diff(a, b, root="runs", as_json=False, console: Console | None = None) -> int:
    """Print the config and metric differences of two runs."""
    diff = runs_diff(a, b, root)
    if as_json:
        out = {**diff, "a": {k: v for k, v in diff["a"].items() if k not in JSON_SKIP},
               "b": {k: v for k, v in diff["b"].items() if k not in JSON_SKIP}}
        print(json.dumps(out, indent=2, default=str))
        return 0
    console = console or Console(highlight=False)
    first, second = diff["a"], diff["b"]
    for label, r in (("a", first), ("b", second)):
        line = Text(f"{label}: ", style="bold")
        line.append(r["run"], style="bold")
        line.append(f"  {_date(r['date'])}  ")
        line.append(r["status"], style=STATUS_STYLE.get(r["status"], ""))
        if r["monitor"] and first["monitor"] != second["monitor"]:
            line.append(f"  monitor {r['monitor']}")
        console.print(line)
    console.print()
    if diff["config"]:
        console.print(Text("config", style="bold"))
        table = _table("key", "a", "b")
        for key, va, vb in diff["config"]:
            table.add_row(key, Text(format_value(va)), Text(format_value(vb)))
        console.print(table)
    elif first["config"] is None or second["config"] is None:
        console.print(Text("config: cannot compare (a config.yaml is missing or unreadable)",
                           style="red"))
    else:
        console.print("config: the same (apart from the name)")
    console.print()
    console.print(Text("metrics (final epoch; best of the monitored one)", style="bold"))
    table = _table("metric", "a", "b", "b - a", numbers=True)
    monitor = first["monitor"] if first["monitor"] == second["monitor"] else None
    for key, va, vb in diff["metrics"]:
        label = f"best {monitor}" if key == "best" and monitor else key
        if key == "time_s":
            table.add_row("time", duration(va), duration(vb), "")
            continue
        table.add_row(label, _number(va), _number(vb), _change(key, va, vb, monitor))
    console.print(table)
    return 0


def _table(*headers: str, numbers: bool = False) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0), expand=False)
    for i, header in enumerate(headers):
        table.add_column(header, no_wrap=i == 0,
                         justify="right" if numbers and i else "left")
    return table


def _change(key: str, va, vb, monitor: str | None) -> Text:
    """``b - a``, green where b is better, red where it is worse."""
    if not isinstance(va, (int, float)) or not isinstance(vb, (int, float)):
        return Text("")
    if key in ("best_epoch", "epochs"):
        return Text(f"{vb - va:+d}")
    if key == "best" and monitor is None:
        return Text("")  # the two runs watched different metrics
    mode = metric_mode(monitor if key == "best" else key)
    better = vb > va if mode == "max" else vb < va
    return Text(f"{vb - va:+.4g}", style="" if vb == va else ("green" if better else "red"))


def _number(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


