"""Reading a run's ``metrics.jsonl`` (written by :class:`.callbacks.MetricsLogger`).

One reader for every consumer (resume, plots, ``plot-lr`` of a run), so they agree on what a row
is and on what a crash, or a foreign file under that name, may have left behind.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..core.errors import TrainctlError


def read_metrics(path) -> list[dict]:
    """The well-formed rows of a ``metrics.jsonl`` file, oldest first ([] when there is none).

    A row is kept when its line is a JSON object with ``kind`` ``"step"`` or ``"epoch"``,
    integers ``step`` and ``epoch`` (0 or more), and numbers or nulls as every other value. Any
    other line (one cut short by a crash, text that is not JSON or not UTF-8, a list, a row
    without those keys or with non-numeric values) is skipped, so a caller may index
    ``row["step"]`` and do arithmetic on the values without checking them again.
    """
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    row = json.loads(line)
                except (ValueError, RecursionError):
                    continue
                if is_metrics_row(row):
                    rows.append(row)
    except OSError as e:
        raise TrainctlError(f"{path}: cannot read the metrics: {e.strerror or e}") from None
    return rows


def is_metrics_row(row) -> bool:
    """True when ``row`` is a row of ``metrics.jsonl`` as :func:`read_metrics` keeps it.

    Example:
        >>> is_metrics_row({"kind": "epoch", "epoch": 1, "step": 10, "lr": 0.1})
        True
        >>> is_metrics_row({"kind": "epoch", "epoch": 1, "step": 10, "lr": [0.1]})
        False
    """
    if not isinstance(row, dict) or row.get("kind") not in ("step", "epoch"):
        return False
    for key in ("step", "epoch"):
        value = row.get(key)
        if type(value) is not int or value < 0:
            return False
    return all(value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
               for key, value in row.items() if key != "kind")
