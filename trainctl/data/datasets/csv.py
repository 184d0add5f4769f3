"""``CSVDataset``: a table of numbers (plus a label column) read with the standard ``csv`` module.

Parsing is strict: a row with the wrong number of fields, an empty cell, or a feature that is not
a number raises a :class:`DataError` naming the file, the line and the column. Conversion to
float32 is one NumPy call over the whole table; only on failure are cells inspected one by one to
say which was wrong.
"""

from __future__ import annotations

import os

import numpy

from ...core.errors import DataError
from .base import ArrayDataset


def _read_rows(path: str, delimiter: str):
    """All non-blank rows with the line each one starts on."""
    import csv

    rows, lines = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter, strict=True)
            start = 1
            try:
                for row in reader:
                    if row and any(cell.strip() for cell in row):
                        rows.append([cell.strip() for cell in row])
                        lines.append(start)
                    start = reader.line_num + 1
            except csv.Error as e:
                raise DataError(f"{path}:{reader.line_num}: malformed CSV: {e}") from None
    except FileNotFoundError:
        raise DataError(f"CSV file not found: {path}") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not a UTF-8 text file ({e})") from None
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
        hint = f"; did you mean {close[0]!r}?" if close else f"; columns: {', '.join(names)}"
        raise DataError(f"{path}: no column named {spec!r}{hint}")
    return names.index(spec)


def _to_float(cells: numpy.ndarray, cols: list[int], names, lines, path: str) -> numpy.ndarray:
    """String cells -> float32, or a DataError at the first bad cell."""
    empty = cells == ""
    if empty.any():
        r, c = numpy.argwhere(empty)[0]
        raise DataError(f"{path}:{lines[r]}: missing value in column {_label(cols[c], names)}")
    try:
        return cells.astype(numpy.float64).astype(numpy.float32)
    except ValueError:
        pass
    for r, row in enumerate(cells.tolist()):  # only to find the culprit
        for c, cell in enumerate(row):
            try:
                float(cell)
            except ValueError:
                raise DataError(f"{path}:{lines[r]}: column {_label(cols[c], names)}: {cell!r} is "
                                "not a number") from None
    raise DataError(f"{path}: could not convert the table to numbers")  # pragma: no cover


def _label(col: int, names) -> str:
    return f"{names[col]!r} ({col + 1})" if names else str(col + 1)


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
                 stats=None, reference=None, transform=None, target_transform=None):
        path = os.fspath(path)
        if task not in ("classification", "regression"):
            raise DataError(f"CSVDataset: task must be 'classification' or 'regression', got "
                            f"{task!r}")
        self.path, self.task = path, task
        if reference is not None:
            if not isinstance(reference, CSVDataset):
                reference = CSVDataset(reference, target, features, header, delimiter, task,
                                       standardize)
            classes = reference.classes if classes is None else classes
            stats = reference.stats if stats is None else stats
        rows, lines = _read_rows(path, delimiter)
        names = None
        if header:
            if not rows:
                raise DataError(f"{path}: the file is empty (expected a header row)")
            names, rows, lines = rows[0], rows[1:], lines[1:]
        if not rows:
            raise DataError(f"{path}: no data rows")
        width = len(names) if names else len(rows[0])
        for row, line in zip(rows, lines):
            if len(row) != width:
                raise DataError(f"{path}:{line}: malformed row: {len(row)} fields, expected "
                                f"{width}")
        cells = numpy.array(rows, dtype=str)
        targets = target if isinstance(target, (list, tuple)) else [target]
        t_cols = [_column_index(t, names, width, path) for t in targets]
        if task == "classification" and len(t_cols) != 1:
            raise DataError(f"{path}: classification takes one target column, got {targets}")
        f_cols = ([c for c in range(width) if c not in t_cols] if features is None else
                  [_column_index(f, names, width, path) for f in features])
        if not f_cols:
            raise DataError(f"{path}: no feature columns left besides the target")
        x = _to_float(cells[:, f_cols], f_cols, names, lines, path)
        self.feature_names = [names[c] for c in f_cols] if names else f_cols
        self.stats = None
        if standardize:
            x = self._standardize(x, stats)
        if task == "regression":
            y = _to_float(cells[:, t_cols], t_cols, names, lines, path)
            self.classes, self.class_to_idx = None, None
        else:
            y = self._encode(cells[:, t_cols[0]], classes, t_cols[0], names, lines)
        super().__init__(x, y, transform, target_transform)

    def _standardize(self, x: numpy.ndarray, stats) -> numpy.ndarray:
        if stats is None:
            mean = x.mean(axis=0, dtype=numpy.float64)
            std = x.std(axis=0, dtype=numpy.float64)
            stats = {"mean": mean.tolist(), "std": numpy.where(std > 0, std, 1.0).tolist()}
        mean = numpy.asarray(stats["mean"], dtype=numpy.float32)
        std = numpy.asarray(stats["std"], dtype=numpy.float32)
        if mean.shape != (x.shape[1],) or std.shape != (x.shape[1],):
            raise DataError(f"{self.path}: standardisation stats have {mean.size} values, the "
                            f"file has {x.shape[1]} features")
        self.stats = {"mean": mean.tolist(), "std": std.tolist()}
        return (x - mean) / std

    def _encode(self, labels: numpy.ndarray, classes, col: int, names, lines) -> numpy.ndarray:
        if (labels == "").any():
            r = int(numpy.flatnonzero(labels == "")[0])
            raise DataError(f"{self.path}:{lines[r]}: missing value in column "
                            f"{_label(col, names)}")
        if classes is None:
            found = numpy.unique(labels).tolist()
            try:
                classes = sorted(found, key=float)
            except ValueError:
                classes = sorted(found)
        classes = [str(c) for c in classes]
        lookup = numpy.asarray(classes, dtype=str)
        order = numpy.argsort(lookup)
        pos = numpy.searchsorted(lookup[order], labels)
        pos = numpy.minimum(pos, len(classes) - 1)
        known = lookup[order][pos] == labels
        if not known.all():
            r = int(numpy.flatnonzero(~known)[0])
            raise DataError(f"{self.path}:{lines[r]}: column {_label(col, names)}: label "
                            f"{str(labels[r])!r} is not one of the classes {classes}")
        self.classes = classes
        self.class_to_idx = {c: i for i, c in enumerate(classes)}
        self.num_classes = len(classes)
        return order[pos].astype(numpy.int64)
