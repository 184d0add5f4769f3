"""Reading a run's ``metrics.jsonl`` (written by :class:`.callbacks.MetricsLogger`).

One reader for every consumer (resume, plots, ``plot-lr`` of a run), so they agree on what a row
is and on what a crash may have left behind.
"""

from __future__ import annotations

import json
from pathlib import Path


def read_metrics(path) -> list[dict]:
    """The rows of a ``metrics.jsonl`` file, oldest first ([] when there is none yet).

    A line cut short by a crash ends the file: every row before it is good.
    """
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            break
        if not isinstance(row, dict):
            break
        rows.append(row)
    return rows
