"""What turns a table's columns into model inputs and targets: standardisation and class labels.

Statistics are ``{"mean": [...], "std": [...]}`` of plain floats (JSON-able, stored with a model);
a constant column gets ``std = 1`` so it is only centred. Class labels are the cells' strings,
sorted numerically when every label is a number (``2 < 9 < 10``), else as text.

Example:
    >>> import numpy
    >>> stats = fit_stats(numpy.array([[1.0, 5.0], [3.0, 5.0]], numpy.float32))
    >>> stats
    {'mean': [2.0, 5.0], 'std': [1.0, 1.0]}
    >>> apply_stats(numpy.array([[3.0, 7.0]], numpy.float32), *stats_arrays(stats, 2, "t.csv"))
    array([[1., 2.]], dtype=float32)
"""

from __future__ import annotations

import numpy

from ...core.errors import DataError
from .checks import NONFINITE_HINT
from .csv_parse import Table, few, label, short


def fit_stats(x: numpy.ndarray) -> dict:
    """Per-column mean and (population) standard deviation of ``x``, in float64; std 0 -> 1."""
    with numpy.errstate(all="ignore"):  # NaN/inf data (allowed) give NaN stats: refused later
        mean = x.mean(axis=0, dtype=numpy.float64)
        std = x.std(axis=0, dtype=numpy.float64)
    return {"mean": mean.tolist(), "std": numpy.where(std > 0, std, 1.0).tolist()}


def stats_arrays(stats, width: int, path: str, what: str = "standardisation"):
    """``(mean, std)`` as float32 arrays of ``width`` values, checked (finite, std > 0)."""
    try:
        mean = numpy.asarray(stats["mean"], dtype=numpy.float32)
        std = numpy.asarray(stats["std"], dtype=numpy.float32)
    except (TypeError, KeyError, ValueError, IndexError):
        raise DataError(f"{path}: {what} stats must be {{'mean': [...], 'std': [...]}} of "
                        f"numbers, got {stats!r:.80}") from None
    if mean.shape != (width,) or std.shape != (width,):
        raise DataError(f"{path}: {what} stats have {mean.size} values, the file has {width} "
                        f"{'targets' if 'target' in what else 'features'}")
    if not (numpy.isfinite(mean).all() and numpy.isfinite(std).all() and (std > 0).all()):
        raise DataError(f"{path}: {what} stats must be finite with std > 0 (a NaN/inf value "
                        "makes them so; see allow_nonfinite)")
    return mean, std


def as_stats(mean: numpy.ndarray, std: numpy.ndarray) -> dict:
    """The JSON-able form of checked float32 statistics."""
    return {"mean": mean.tolist(), "std": std.tolist()}


def apply_stats(x: numpy.ndarray, mean: numpy.ndarray, std: numpy.ndarray) -> numpy.ndarray:
    """``(x - mean) / std`` as float32 (computed in float64: ``x - mean`` may overflow float32)."""
    return ((x - mean.astype(numpy.float64)) / std).astype(numpy.float32)


def encode_labels(table: Table, col: int, classes, path: str,
                  allow_nonfinite: bool) -> tuple[list[str], numpy.ndarray]:
    """``(classes, indices)``: the class list (given, or found and sorted) and each row's index.

    A label outside a given ``classes`` list, an empty cell or a duplicate class is a DataError
    naming the line and the column.
    """
    labels = [row[col] for row in table.rows]
    numeric = False
    if classes is None:
        found = set(labels) - {""}
        try:
            classes, numeric = sorted(found, key=float), True
        except ValueError:
            classes = sorted(found)
    elif isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise DataError(f"{path}: classes must be a list of labels, got {classes!r:.80}")
    classes = [str(c) for c in classes]
    if len(set(classes)) != len(classes):
        raise DataError(f"{path}: the classes list has duplicates: {few(classes)}")
    index = {c: i for i, c in enumerate(classes)}
    y = numpy.fromiter((index.get(v, -1) for v in labels), numpy.int64, len(labels))
    unknown = numpy.flatnonzero(y < 0)
    where = label(col, table.names)
    if unknown.size:
        r = int(unknown[0])
        line = table.lines[r]
        if labels[r] == "":
            raise DataError(f"{path}:{line}: missing value in column {where}")
        raise DataError(f"{path}:{line}: column {where}: label {short(labels[r])} is not one of "
                        f"the classes {few(classes)}")
    if numeric and not allow_nonfinite:
        bad = [c for c in classes if not numpy.isfinite(float(c))]
        if bad:
            r = labels.index(bad[0])
            raise DataError(f"{path}:{table.lines[r]}: column {where}: label {short(bad[0])} is "
                            f"not a finite number ({NONFINITE_HINT})")
    return classes, y


def check_binary_classes(classes: list[str], col: int, table: Table, path: str) -> None:
    """A DataError unless the label column holds exactly two classes (``task: binary``)."""
    if len(classes) != 2:
        raise DataError(f"{path}: task 'binary' needs exactly 2 classes in column "
                        f"{label(col, table.names)}, found {len(classes)}: {few(classes)} "
                        "(use task 'classification' for more)")


def check_zero_one(y: numpy.ndarray, cols: list[int], table: Table, path: str) -> None:
    """A DataError at the first multilabel target that is not 0 or 1 (line and column)."""
    bad = (y != 0) & (y != 1)
    if bad.any():
        r, c = (int(i) for i in numpy.unravel_index(int(bad.argmax()), bad.shape))
        raise DataError(f"{path}:{table.lines[r]}: column {label(cols[c], table.names)}: "
                        f"{short(table.rows[r][cols[c]])} is not 0 or 1 (task 'multilabel' "
                        "takes one 0/1 column per label)")
