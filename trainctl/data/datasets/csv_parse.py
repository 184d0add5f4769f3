"""Reading a CSV table strictly: rows with their line numbers, columns by name or index, numbers.

Every problem with the file is a one-line :class:`DataError` naming the file, the line and the
column. Conversion to float32 is one NumPy call over the whole table; only on failure are cells
inspected one by one to say which was wrong.

Example:
    >>> column_index("petal", ["sepal", "petal"], 2, "iris.csv")
    1
    >>> column_index("petl", ["sepal", "petal"], 2, "iris.csv", line=1)
    Traceback (most recent call last):
    ...
    trainctl.core.errors.DataError: iris.csv:1: no column named 'petl'; did you mean 'petal'?
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy

from ...core.errors import DataError
from .checks import NONFINITE_HINT, decode_utf8, first_bad, os_error


@dataclass
class Table:
    """The cells of a CSV file (stripped strings), the line each row starts on, the header."""

    rows: list[list[str]]
    lines: list[int]
    names: list[str] | None  # the header, or None without one
    header_line: int  # the header's line (0 without a header)
    width: int


def read_table(path: str, delimiter: str, header: bool) -> Table:
    """All non-blank rows of ``path``; a DataError for an unreadable file or a ragged row."""
    rows, lines = _read_rows(path, delimiter)
    names, header_line = None, 0
    if header:
        names, header_line, rows, lines = rows[0], lines[0], rows[1:], lines[1:]
    if not rows:
        raise DataError(f"{path}: no data rows")
    width = len(names) if names else len(rows[0])
    for row, line in zip(rows, lines):
        if len(row) != width:
            raise DataError(f"{path}:{line}: malformed row: {len(row)} fields, expected {width}")
    return Table(rows, lines, names, header_line, width)


def _read_rows(path: str, delimiter: str):
    """All non-blank rows with the line each one starts on."""
    import csv
    import io

    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise os_error(path, e, "CSV") from None
    text = decode_utf8(raw, path)
    rows, lines = [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                rows.append([cell.strip() for cell in row])
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as e:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV: {e}") from None
    if not rows:
        raise DataError(f"{path}: the file is empty (no row with a value)")
    return rows, lines


def column_index(spec, names: list[str] | None, width: int, path: str, line: int = 0,
                 role: str = "") -> int:
    """The 0-based index of column ``spec`` (a header name or an index, negative from the end).

    ``line`` (the header's) and ``role`` (e.g. ``"feature"``) only make the message precise.
    """
    where = f"{path}:{line}" if line else path
    what = f"{role} column" if role else "column"
    if isinstance(spec, bool) or not isinstance(spec, (int, str)):
        raise DataError(f"{path}: {what} {spec!r} must be a name or an index")
    if isinstance(spec, int):
        if not -width <= spec < width:
            raise DataError(f"{path}: {what} index {spec} out of range (the file has {width} "
                            f"columns)")
        return spec % width
    if names is None:
        raise DataError(f"{path}: {what} {spec!r} is a name, but header=False; use an index")
    if spec not in names:
        import difflib

        close = difflib.get_close_matches(spec, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; columns: {few(names)}"
        raise DataError(f"{where}: no {what} named {spec!r}{hint}")
    return names.index(spec)


def to_float(table: Table, cols: list[int], path: str, allow_nonfinite: bool) -> numpy.ndarray:
    """The ``cols`` of the table as float32 ``(rows, len(cols))``, or a DataError at the first
    bad cell (empty, not a number, NaN/inf unless ``allow_nonfinite``)."""
    rows, names, lines = table.rows, table.names, table.lines
    try:  # one call (Python's float() per cell) without a fixed-width string array in between
        x = numpy.array([[row[c] for c in cols] for row in rows], dtype=numpy.float64)
    except ValueError:
        x = None
    if x is None:  # only to find the culprit
        for r, row in enumerate(rows):
            for c in cols:
                if row[c] == "":
                    raise DataError(f"{path}:{lines[r]}: missing value in column "
                                    f"{label(c, names)}")
                try:
                    float(row[c])
                except ValueError:
                    raise DataError(f"{path}:{lines[r]}: column {label(c, names)}: "
                                    f"{short(row[c])} is not a number") from None
        raise DataError(f"{path}: could not convert the table to numbers")  # pragma: no cover
    x = x.reshape(len(rows), len(cols))
    with numpy.errstate(over="ignore"):
        x = x.astype(numpy.float32)
    if not allow_nonfinite:
        finite = numpy.isfinite(x)
        if not finite.all():
            r, c = first_bad(~finite)
            raise DataError(f"{path}:{lines[r]}: column {label(cols[c], names)}: "
                            f"{short(rows[r][cols[c]])} is not a finite float32 number "
                            f"({NONFINITE_HINT})")
    return x


def short(cell: str) -> str:
    """A cell for a message: quoted, cut at 40 characters."""
    return repr(cell) if len(cell) <= 40 else repr(cell[:37] + "...")


def label(col: int, names) -> str:
    """A column for a message: ``'name' (3)`` with a header, ``3`` without (1-based)."""
    return f"{short(names[col])} ({col + 1})" if names else str(col + 1)


def few(items: list, n: int = 10) -> str:
    """``items`` for a message: all of them, or the first ``n`` and how many more."""
    return str(items) if len(items) <= n else f"{items[:n]} (and {len(items) - n} more)"
