"""``CSVDataset``: a table of numbers (plus a label column) read with the standard ``csv`` module.

Parsing is strict: a file that cannot be read (missing, a folder, no permission, not UTF-8, empty),
a row with the wrong number of fields, an empty cell, a feature that is not a number, or a NaN/inf
(``nan``, ``inf``, or a value beyond float32's range such as ``1e39``) raises a :class:`DataError`
naming the file, the line and the column; ``allow_nonfinite=True`` keeps NaN/inf values.
Conversion to float32 is one NumPy call over the whole table; only on failure are cells
inspected one by one to say which was wrong.
"""

from __future__ import annotations

import os

import numpy

from ...core.errors import DataError
from .base import ArrayDataset
from .checks import NONFINITE_HINT, first_bad, os_error


def _read_rows(path: str, delimiter: str):
    """All non-blank rows with the line each one starts on."""
    import csv
    import io

    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise os_error(path, e, "CSV") from None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(f"{path}:{line}: not UTF-8 text (byte {raw[e.start]:#04x} at offset "
                        f"{e.start}); save the file as UTF-8") from None
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


def _column_index(spec, names: list[str] | None, width: int, path: str) -> int:
    if isinstance(spec, bool):
        raise DataError(f"{path}: column {spec!r} must be a name or an index")
    if isinstance(spec, int):
        if not -width <= spec < width:
            raise DataError(f"{path}: column index {spec} out of range (the file has {width} "
                            f"columns)")
        return spec % width
    if names is None:
        raise DataError(f"{path}: column {spec!r} is a name, but header=False; use an index")
    if spec not in names:
        import difflib

        close = difflib.get_close_matches(str(spec), names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; columns: {_few(names)}"
        raise DataError(f"{path}: no column named {spec!r}{hint}")
    return names.index(spec)


def _to_float(rows, cols: list[int], names, lines, path: str,
              allow_nonfinite: bool) -> numpy.ndarray:
    """The ``cols`` of ``rows`` (strings) as float32, or a DataError at the first bad cell."""
    try:  # one call (Python's float() per cell) without a fixed-width string array in between
        x = numpy.array([[row[c] for c in cols] for row in rows], dtype=numpy.float64)
    except ValueError:
        x = None
    if x is None:  # only to find the culprit
        for r, row in enumerate(rows):
            for c in cols:
                if row[c] == "":
                    raise DataError(f"{path}:{lines[r]}: missing value in column "
                                    f"{_label(c, names)}")
                try:
                    float(row[c])
                except ValueError:
                    raise DataError(f"{path}:{lines[r]}: column {_label(c, names)}: "
                                    f"{_short(row[c])} is not a number") from None
        raise DataError(f"{path}: could not convert the table to numbers")  # pragma: no cover
    with numpy.errstate(over="ignore"):
        x = x.astype(numpy.float32)
    if not allow_nonfinite:
        finite = numpy.isfinite(x)
        if not finite.all():
            r, c = first_bad(~finite)
            raise DataError(f"{path}:{lines[r]}: column {_label(cols[c], names)}: "
                            f"{_short(rows[r][cols[c]])} is not a finite float32 number "
                            f"({NONFINITE_HINT})")
    return x


def _short(cell: str) -> str:
    return repr(cell) if len(cell) <= 40 else repr(cell[:37] + "...")


def _label(col: int, names) -> str:
    return f"{_short(names[col])} ({col + 1})" if names else str(col + 1)


class CSVDataset(ArrayDataset):
    """Rows of a CSV file: feature columns -> float32 ``x``, target column(s) -> ``y``.

    Args:
        path: the CSV file.
        target: target column by name (needs a header) or 0-based index; a list for several
            regression targets.
        features: feature columns (names or indices); default: every column but the target(s).
        header: whether the first row holds column names.
        delimiter: field separator.
        task: ``classification`` (one target column; labels mapped to class indices 0..K-1, in
            sorted order: numerically when all labels are numbers) or ``regression`` (float32
            targets shaped ``(N, n_targets)`` to match a model output).
        standardize: scale features to zero mean, unit variance.
        classes: the label list of the training split, so val/test use the same indices.
        stats: ``{"mean": [...], "std": [...]}`` of the training split for standardising.
        reference: the training split (a ``CSVDataset`` or the path of its file, read with the same
            options) whose ``classes`` and ``stats`` this split reuses.
        transform, target_transform: applied to each ``x`` / ``y`` (or batch).
        allow_nonfinite: keep NaN/inf features and targets (and numeric ``nan``/``inf`` class
            labels); by default the first one is a :class:`DataError` naming its line and column.

    Attributes:
        classes, class_to_idx: the label mapping (classification); keep it with the model.
        stats: the standardisation statistics used (None when not standardising).
        feature_names: the feature columns' names (or their indices without a header).

    Example:
        >>> train = CSVDataset("train.csv", target="species",  # doctest: +SKIP
        ...                    standardize=True)
        >>> val = CSVDataset("val.csv", target="species",  # doctest: +SKIP
        ...                  standardize=True, reference=train)
    """

    def __init__(self, path, target, features=None, header: bool = True, delimiter: str = ",",
                 task: str = "classification", standardize: bool = False, classes=None,
                 stats=None, reference=None, transform=None, target_transform=None,
                 allow_nonfinite: bool = False):
        path = os.fspath(path)
        if task not in ("classification", "regression"):
            raise DataError(f"CSVDataset: task must be 'classification' or 'regression', got "
                            f"{task!r}")
        if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
            raise DataError(f"CSVDataset: delimiter must be one character (not a quote or a "
                            f"newline), got {delimiter!r}")
        self.path, self.task = path, task
        if reference is not None:
            if not isinstance(reference, CSVDataset):
                reference = CSVDataset(reference, target, features, header, delimiter, task,
                                       standardize, allow_nonfinite=allow_nonfinite)
            classes = reference.classes if classes is None else classes
            stats = reference.stats if stats is None else stats
        rows, lines = _read_rows(path, delimiter)
        names = None
        if header:
            names, rows, lines = rows[0], rows[1:], lines[1:]
        if not rows:
            raise DataError(f"{path}: no data rows")
        width = len(names) if names else len(rows[0])
        for row, line in zip(rows, lines):
            if len(row) != width:
                raise DataError(f"{path}:{line}: malformed row: {len(row)} fields, expected "
                                f"{width}")
        targets = target if isinstance(target, (list, tuple)) else [target]
        t_cols = [_column_index(t, names, width, path) for t in targets]
        if task == "classification" and len(t_cols) != 1:
            raise DataError(f"{path}: classification takes one target column, got {targets}")
        f_cols = ([c for c in range(width) if c not in t_cols] if features is None else
                  [_column_index(f, names, width, path) for f in features])
        if not f_cols:
            raise DataError(f"{path}: no feature columns left besides the target")
        x = _to_float(rows, f_cols, names, lines, path, allow_nonfinite)
        self.feature_names = [names[c] for c in f_cols] if names else f_cols
        self.stats = None
        if standardize:
            x = self._standardize(x, stats)
        if task == "regression":
            y = _to_float(rows, t_cols, names, lines, path, allow_nonfinite)
            self.classes, self.class_to_idx = None, None
        else:
            y = self._encode(rows, classes, t_cols[0], names, lines, allow_nonfinite)
        super().__init__(x, y, transform, target_transform)

    def _standardize(self, x: numpy.ndarray, stats) -> numpy.ndarray:
        if stats is None:
            with numpy.errstate(all="ignore"):  # NaN/inf data (allowed) give NaN stats: refused
                mean = x.mean(axis=0, dtype=numpy.float64)
                std = x.std(axis=0, dtype=numpy.float64)
            stats = {"mean": mean.tolist(), "std": numpy.where(std > 0, std, 1.0).tolist()}
        try:
            mean = numpy.asarray(stats["mean"], dtype=numpy.float32)
            std = numpy.asarray(stats["std"], dtype=numpy.float32)
        except (TypeError, KeyError, ValueError):
            raise DataError(f"{self.path}: standardisation stats must be {{'mean': [...], "
                            f"'std': [...]}} of numbers, got {stats!r:.80}") from None
        if mean.shape != (x.shape[1],) or std.shape != (x.shape[1],):
            raise DataError(f"{self.path}: standardisation stats have {mean.size} values, the "
                            f"file has {x.shape[1]} features")
        if not (numpy.isfinite(mean).all() and numpy.isfinite(std).all() and (std > 0).all()):
            raise DataError(f"{self.path}: standardisation stats must be finite with std > 0 "
                            "(a NaN/inf feature value makes them so; see allow_nonfinite)")
        self.stats = {"mean": mean.tolist(), "std": std.tolist()}
        # float64 in between: (x - mean) of two large float32 values can overflow float32
        return ((x - mean.astype(numpy.float64)) / std).astype(numpy.float32)

    def _encode(self, rows, classes, col: int, names, lines,
                allow_nonfinite: bool) -> numpy.ndarray:
        labels = [row[col] for row in rows]
        numeric = False
        if classes is None:
            found = set(labels) - {""}
            try:
                classes, numeric = sorted(found, key=float), True
            except ValueError:
                classes = sorted(found)
        classes = [str(c) for c in classes]
        if len(set(classes)) != len(classes):
            raise DataError(f"{self.path}: the classes list has duplicates: {_few(classes)}")
        index = {c: i for i, c in enumerate(classes)}
        y = numpy.fromiter((index.get(label, -1) for label in labels), numpy.int64, len(labels))
        unknown = numpy.flatnonzero(y < 0)
        if unknown.size:
            r = int(unknown[0])
            if labels[r] == "":
                raise DataError(f"{self.path}:{lines[r]}: missing value in column "
                                f"{_label(col, names)}")
            raise DataError(f"{self.path}:{lines[r]}: column {_label(col, names)}: label "
                            f"{_short(labels[r])} is not one of the classes {_few(classes)}")
        if numeric and not allow_nonfinite:
            bad = [c for c in classes if not numpy.isfinite(float(c))]
            if bad:
                r = labels.index(bad[0])
                raise DataError(f"{self.path}:{lines[r]}: column {_label(col, names)}: label "
                                f"{_short(bad[0])} is not a finite number ({NONFINITE_HINT})")
        self.classes = classes
        self.class_to_idx = dict(index)
        self.num_classes = len(classes)
        return y


def _few(items: list, n: int = 10) -> str:
    """``items`` for a message: all of them, or the first ``n`` and how many more."""
    return str(items) if len(items) <= n else f"{items[:n]} (and {len(items) - n} more)"
