"""Compare runs: the run directories under a folder as rows of plain data, and two runs side by
side (what ``trainctl runs`` and ``trainctl runs diff`` print).

A run directory is ``<root>/<name>/<timestamp>/`` with ``config.yaml``, ``summary.json`` and
``metrics.jsonl``. Reading one never fails: a folder with a damaged ``summary.json`` or
``config.yaml`` is a row with status ``unreadable`` and the reason; a folder with neither is
not a run and is skipped.

Example:
    >>> rows = runs_table("runs", sort="-val/accuracy",
    ...                   filters=["status=completed"])  # doctest: +SKIP
    >>> [(r["run"], r["final"]["val/accuracy"], r["changes"]) for r in rows]  # doctest: +SKIP
    [('spirals/20260102-101500', 0.97, {'optimizer.lr': 0.05}), ...]
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import math
import operator
import re
from collections import Counter
from pathlib import Path

from ..config import config_changes
from ..config.registry import registry
from ..core.errors import ConfigError
from .run_dir import run_status

# A damaged file this large is not read (a summary or config is a few kilobytes).
MAX_FILE_BYTES = 16 * 1024 * 1024
# Columns of a row that --sort and --filter name directly; other keys are metrics (final
# values, e.g. val/accuracy) or dotted config keys (optimizer.lr).
COLUMNS = ("run", "name", "date", "status", "epochs", "steps", "best", "best_epoch", "monitor",
           "time_s")
UNSET = "<unset>"


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` looks like a run directory (it has a config or a summary)."""
    return path.is_dir() and ((path / "config.yaml").exists() or (path / "summary.json").exists())


def find_runs(root) -> list[Path]:
    """The run directories under ``root``: ``root`` itself, ``root/<run>`` or
    ``root/<name>/<run>``; ``latest`` links and hidden folders are skipped."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"{root}: no such folder (train a config first, or give the folder "
                          "that holds runs/<name>/<timestamp>/)")
    if is_run_dir(root):
        return [root]
    found = []
    for child in _subfolders(root):
        if is_run_dir(child):
            found.append(child)
        else:
            found += [g for g in _subfolders(child) if is_run_dir(g)]
    return found


def _subfolders(folder: Path) -> list[Path]:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    return [p for p in entries
            if not p.name.startswith(".") and not p.is_symlink() and p.is_dir()]


def read_run(path, root=None) -> dict:
    """One run as a row: ``run`` (its path under ``root``), ``name``, ``date`` (ISO),
    ``status``, ``epochs``, ``steps``, ``monitor``, ``best``, ``best_epoch``, ``final`` (the
    last epoch's metrics), ``time_s``, ``config`` (the saved config, or None), ``error``."""
    path = Path(path)
    row = {"run": _relative(path, root), "path": str(path), "name": path.parent.name,
           "date": _date(path), "status": "unreadable", "epochs": None, "steps": None,
           "monitor": None, "best": None, "best_epoch": None, "final": {}, "time_s": None,
           "changes": {}, "config": None, "error": None}
    problems = []
    summary = _read_json(path / "summary.json", problems)
    config = _read_yaml(path / "config.yaml", problems)
    if isinstance(config, dict):
        row["config"] = config
        if isinstance(config.get("name"), str):
            row["name"] = config["name"]
    if isinstance(summary, dict):
        if isinstance(summary.get("name"), str):
            row["name"] = summary["name"]
        row["status"] = run_status(path) or "unreadable"
        for key in ("epochs", "steps", "best_epoch"):
            row[key] = summary[key] if _is_int(summary.get(key)) else None
        monitor = summary.get("monitor")
        row["monitor"] = monitor if isinstance(monitor, str) else None
        row["best"] = _number(summary.get("best_value"))
        row["time_s"] = _number(summary.get("time_s"))
        final = summary.get("final")
        if isinstance(final, dict):
            row["final"] = {k: _number(v) for k, v in final.items()
                            if isinstance(k, str) and k not in ("epoch", "step")
                            and _number(v) is not None}
        if not row["final"]:  # still running, or killed: the metrics log has the last epoch
            last = _last_epoch_row(path / "metrics.jsonl")
            row["final"] = {k: _number(v) for k, v in last.items()
                            if "/" in k and not k.startswith("lr") and _number(v) is not None}
            if row["epochs"] in (None, 0) and _is_int(last.get("epoch")):
                row["epochs"] = last["epoch"]
        if summary.get("status") == "failed" and isinstance(summary.get("error"), str):
            problems.insert(0, summary["error"])
    elif summary is not None:
        problems.append("summary.json: not a JSON object")
    elif not problems:
        problems.append("no summary.json")
    if problems:
        row["error"] = "; ".join(problems)
    return row


def _relative(path: Path, root) -> str:
    """The run's path under ``root`` (``name/timestamp``), else its last two parts."""
    if root is not None:
        try:
            relative = path.relative_to(root).as_posix()
        except ValueError:
            relative = "."
        if relative != ".":
            return relative
    path = path.resolve()
    return f"{path.parent.name}/{path.name}"


def _date(path: Path) -> str | None:
    """When the run started: from its folder name (``YYYYmmdd-HHMMSS``), else the folder's
    modification time."""
    match = re.match(r"(\d{8}-\d{6})", path.name)
    if match:
        try:
            return datetime.datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").isoformat()
        except ValueError:
            pass
    try:
        return datetime.datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")
    except (OSError, ValueError, OverflowError):
        return None


def _read_text(path: Path, problems: list) -> str | None:
    try:
        if not path.exists():
            return None
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.append(f"{path.name}: too large to be a run's file")
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        problems.append(f"{path.name}: {type(e).__name__}")
        return None


def _last_epoch_row(path: Path, tail_bytes: int = 1 << 20) -> dict:
    """The last ``"kind": "epoch"`` row of a ``metrics.jsonl`` (read from its last megabyte;
    {} when there is none)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - tail_bytes))
            lines = f.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return {}
    for line in reversed(lines):
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(row, dict) and row.get("kind") == "epoch":
            return {k: v for k, v in row.items() if isinstance(k, str)}
    return {}


def _read_json(path: Path, problems: list):
    text = _read_text(path, problems)
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        problems.append(f"{path.name}: not valid JSON")
        return None


def _read_yaml(path: Path, problems: list):
    import yaml

    text = _read_text(path, problems)
    if text is None:
        return None
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError):
        problems.append(f"{path.name}: not valid YAML")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path.name}: not a mapping")
        return None
    return data


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


# ---------------------------------------------------------------------------- the table


def collect_runs(root="runs") -> list[dict]:
    """Every run under ``root`` as a row (see :func:`read_run`), oldest first, each with
    ``changes``: the config keys where it differs from the other runs of its name."""
    rows = [read_run(p, root) for p in find_runs(root)]
    rows.sort(key=lambda r: (r["date"] or "", r["run"]))
    by_name: dict[str, list[dict]] = {}
    for row in rows:
        if row["config"] is not None:
            by_name.setdefault(row["name"], []).append(row)
    for group in by_name.values():
        _mark_changes(group)
    return rows


def _mark_changes(group: list[dict]) -> None:
    """Each run's ``changes``: for every config key on which the runs disagree, the run's value,
    unless most of the runs (more than half) hold the same one, which is then the baseline."""
    if len(group) < 2:
        return
    first = group[0]["config"]
    keys = sorted({k for row in group[1:] for k in config_changes(first, row["config"])})
    for key in keys:
        values = [config_value(row["config"], key) for row in group]
        counts = Counter(_hashable(v) for v in values)
        common, count = counts.most_common(1)[0]
        baseline = common if count * 2 > len(group) else None
        for row, value in zip(group, values):
            if baseline is None or _hashable(value) != baseline:
                row["changes"][key] = value


def _hashable(value):
    return json.dumps(value, sort_keys=True, default=str)


def config_value(config, dotted: str):
    """The value at a dotted key (``optimizer.lr``, ``model.layers.0.out_features``) of a
    config, or ``"<unset>"``."""
    node = config
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return UNSET
    return node


def lookup(row: dict, key: str):
    """A row's value for a --sort/--filter key: a column, a final metric (``val/accuracy``)
    or a config key (``optimizer.lr``); None when the row has none."""
    if key in COLUMNS:
        return row.get(key)
    if key in row["final"]:
        return row["final"][key]
    if "/" not in key and row["config"] is not None:
        value = config_value(row["config"], key)
        return None if value == UNSET else value
    return None


_FILTER = re.compile(r"^\s*([^\s=!<>~]+)\s*(==|!=|>=|<=|=|>|<)\s*(.*?)\s*$")
_OPS = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le}


def parse_filter(expr: str):
    """A ``KEY OP VALUE`` filter as a predicate on rows. OP is one of ``= != > < >= <=``; with
    ``=``/``!=`` the value may hold shell wildcards (``name=spirals*``). Numbers compare as
    numbers; nothing is evaluated as code.

    Example:
        >>> keep = parse_filter("val/accuracy>0.9")
        >>> keep({"final": {"val/accuracy": 0.95}, "config": None})
        True
    """
    match = _FILTER.match(expr)
    if not match or not match.group(3) or match.group(3)[0] in "=<>!":
        raise ConfigError(f"--filter {expr!r}: expected KEY OP VALUE with OP one of "
                          "= != > < >= <=, e.g. status=completed, name=spirals*, "
                          "val/accuracy>0.9")
    key, op, text = match.groups()
    number = _as_number(text)
    if op in _OPS:
        if number is None:
            raise ConfigError(f"--filter {expr!r}: {op} compares numbers; {text!r} is not one")
        compare = _OPS[op]
        return lambda row: _compare(lookup(row, key), number, compare)
    negate = op == "!="

    def equal(row) -> bool:
        value = lookup(row, key)
        if number is not None and _as_number(value) is not None:
            same = _as_number(value) == number
        else:
            shown = "" if value is None else format_value(value)
            same = fnmatch.fnmatchcase(shown, text)
        return same != negate

    return equal


def _compare(value, number, compare) -> bool:
    value = _as_number(value)
    return value is not None and compare(value, number)


def _as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def sort_rows(rows: list[dict], key: str) -> list[dict]:
    """Rows sorted by ``key`` (see :func:`lookup`), ascending; ``-key`` for descending. Rows
    without the key come last either way."""
    descending = key.startswith("-")
    key = key.lstrip("-+")
    if not key:
        raise ConfigError("--sort: give a column or metric, e.g. --sort -val/accuracy")
    present = [r for r in rows if lookup(r, key) is not None]
    missing = [r for r in rows if lookup(r, key) is None]

    def order(row):
        value = lookup(row, key)
        number = _as_number(value)
        return (0, number, "") if number is not None else (1, 0.0, format_value(value))

    return sorted(present, key=order, reverse=descending) + missing


def runs_table(root="runs", sort: str | None = None, filters=()) -> list[dict]:
    """The runs under ``root`` (see :func:`collect_runs`), filtered (all of ``filters`` hold)
    and sorted (default: oldest first)."""
    rows = collect_runs(root)
    for expr in filters:
        keep = parse_filter(expr)
        _check_key(rows, _FILTER.match(expr).group(1), f"--filter {expr!r}")
        rows = [r for r in rows if keep(r)]
    if sort:
        _check_key(rows, sort.lstrip("-+"), f"--sort {sort!r}")
        rows = sort_rows(rows, sort)
    return rows


def _check_key(rows: list[dict], key: str, where: str) -> None:
    """Refuse a key no run has (a typo would otherwise filter out everything, or sort
    nothing), with a did-you-mean."""
    if not rows or key in COLUMNS or any(lookup(r, key) is not None for r in rows):
        return
    import difflib

    known = [*COLUMNS, *dict.fromkeys(m for r in rows for m in r["final"])]
    close = difflib.get_close_matches(key, known, n=2, cutoff=0.6)
    hint = (f"did you mean {' or '.join(repr(c) for c in close)}?" if close
            else f"columns: {', '.join(COLUMNS)}; metrics: {', '.join(known[len(COLUMNS):])}; "
                 "or a config key such as optimizer.lr")
    raise ConfigError(f"{where}: no run has {key!r}; {hint}")


def format_value(value) -> str:
    """A config value as short text: ``0.05``, ``true``, ``[2, 16]``, ``{type: Adam}``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def metric_mode(metric: str) -> str:
    """``"max"`` or ``"min"``: which way ``metric`` (``val/accuracy``) improves (losses and
    unknown names downwards)."""
    try:
        return getattr(registry("metric").get(metric.rsplit("/", 1)[-1]), "mode", "min")
    except ConfigError:
        return "min"


# ---------------------------------------------------------------------------- two runs


def resolve_run(text: str, root="runs") -> Path:
    """The run a ``runs diff`` argument names: a run directory, a path under ``root``
    (``name/timestamp``), or a run name (its newest run)."""
    root = Path(root)
    for candidate in (Path(text), root / text):
        if is_run_dir(candidate):
            return candidate.resolve() if candidate.is_symlink() else candidate
        latest = candidate / "latest"
        if candidate.is_dir() and is_run_dir(latest):
            return latest.resolve()
    raise ConfigError(f"{text}: not a run directory (give runs/<name>/<timestamp>, "
                      f"<name>/<timestamp> under {root}/, or a run name)")


def runs_diff(a, b, root="runs") -> dict:
    """Two runs side by side: ``a`` and ``b`` (their rows), ``config`` (``[key, value in a,
    value in b]`` for each config key that differs) and ``metrics`` (``[metric, a, b]`` for the
    final metrics of either run, then ``best``, ``best_epoch``, ``epochs`` and ``time_s``)."""
    rows = [read_run(resolve_run(str(x), root), root) for x in (a, b)]
    first, second = rows
    config = []
    if first["config"] is not None and second["config"] is not None:
        keys = config_changes(first["config"], second["config"])
        config = [[k, config_value(first["config"], k), config_value(second["config"], k)]
                  for k in keys]
    names = list(dict.fromkeys([*first["final"], *second["final"]]))
    metrics = [[m, first["final"].get(m), second["final"].get(m)] for m in names]
    for key in ("best", "best_epoch", "epochs", "time_s"):
        metrics.append([key, first[key], second[key]])
    return {"a": first, "b": second, "config": config, "metrics": metrics}
