"""Writing per-row tables (predictions) as CSV, NPZ or JSONL, chosen by the file's extension.

``eval --predictions`` and ``predict`` both write through :func:`write_columns`, so their files
read the same way.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy

from ..autograd import serialization

FORMATS = (".csv", ".npz", ".jsonl")


def write_columns(out, columns: dict, arrays: dict | None = None) -> Path:
    """Write ``columns`` (name -> one value per row) to ``out`` atomically: CSV (any extension
    but ``.npz``/``.jsonl``), JSON lines, or NPZ (``arrays`` when given: whole arrays such as
    an (N, C) probability matrix, else the columns)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    columns = {k: numpy.asarray(v) for k, v in columns.items()}
    n = len(next(iter(columns.values()))) if columns else 0
    suffix = out.suffix.lower()
    if suffix == ".npz":
        buffer = io.BytesIO()
        numpy.savez(buffer, **(arrays if arrays is not None else columns))
        data = buffer.getvalue()
    elif suffix == ".jsonl":
        data = "".join(json.dumps({k: _json_value(v[i]) for k, v in columns.items()}) + "\n"
                       for i in range(n)).encode()
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for i in range(n):
            # str() of a NumPy number is its shortest exact text: float32 stays short
            writer.writerow([str(v[i]) for v in columns.values()])
        data = buffer.getvalue().encode()
    serialization.atomic_write(out, data)
    return out


def _json_value(value):
    if isinstance(value, numpy.generic):
        if value.dtype.kind in "iub":
            return value.item()
        if value.dtype.kind in "US":
            return str(value)
        return float(str(value))
    if isinstance(value, numpy.ndarray):
        return value.tolist()
    return value
