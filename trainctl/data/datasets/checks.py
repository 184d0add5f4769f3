"""Checks shared by the file readers: OS errors, non-finite numbers, class labels, sizes.

Each turns a problem with a user's file into a one-line :class:`DataError` that names the file and,
where it applies, the record and the index, so every reader says it the same way.

Example:
    >>> import numpy
    >>> check_labels(numpy.array([0, 3, 1]), 3, "labels.bin")
    Traceback (most recent call last):
    ...
    trainctl.core.errors.DataError: labels.bin: record 1: label 3 is out of range for 3 ...
"""

from __future__ import annotations

import numpy

from ...core.errors import DataError

# deflate (gzip, zip) never inflates by more than 1032:1 (a 258-byte match in two bits), so a
# header declaring more than this is refused before anything is allocated
DEFLATE_RATIO = 1032

NONFINITE_HINT = "pass allow_nonfinite=True to keep NaN/inf values"


def os_error(path: str, e: OSError, kind: str = "") -> DataError:
    """The :class:`DataError` for an ``OSError`` met while opening or reading ``path``.

    Example:
        >>> str(os_error("a.csv", FileNotFoundError(2, "No such file"), "CSV"))
        'CSV file not found: a.csv'
    """
    if isinstance(e, FileNotFoundError):
        return DataError(f"{kind + ' ' if kind else ''}file not found: {path}")
    if isinstance(e, IsADirectoryError):
        return DataError(f"{path}: is a folder, expected a {kind + ' ' if kind else ''}file")
    if isinstance(e, PermissionError):
        return DataError(f"{path}: permission denied (check the file's read permission)")
    return DataError(f"{path}: cannot read ({e.strerror or e})")


def first_bad(mask: numpy.ndarray) -> tuple[int, ...]:
    """The index (a tuple) of the first true element of a non-empty ``mask``."""
    return tuple(int(i) for i in numpy.unravel_index(int(mask.argmax()), mask.shape))


def check_finite(array: numpy.ndarray, where: str, allow: bool = False) -> None:
    """Raise a :class:`DataError` naming the first NaN/inf of a floating ``array``.

    ``where`` names the file (and array); nothing is checked when ``allow`` is true.

    Example:
        >>> check_finite(numpy.array([[1.0, 2.0], [numpy.inf, 0.0]]), "d.npz: 'x'")
        Traceback (most recent call last):
        ...
        trainctl.core.errors.DataError: d.npz: 'x': non-finite value inf at index (1, 0) (pass ...)
    """
    if allow or array.dtype.kind != "f" or array.size == 0:
        return
    finite = numpy.isfinite(array)
    if not finite.all():
        index = first_bad(~finite)
        raise DataError(f"{where}: non-finite value {array[index]} at index {index} "
                        f"({NONFINITE_HINT})")


def check_labels(labels: numpy.ndarray, num_classes: int, where: str,
                 unit: str = "record") -> None:
    """Raise a :class:`DataError` naming the first label outside ``0..num_classes-1``."""
    if labels.size == 0:
        return
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        index = first_bad(bad)
        at = index[0] if len(index) == 1 else index
        raise DataError(f"{where}: {unit} {at}: label {labels[index]} is out of range for "
                        f"{num_classes} classes (0..{num_classes - 1})")


def decode_utf8(raw: bytes, path) -> str:
    """``raw`` as text (a byte-order mark dropped); a DataError naming the line and offset of
    the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(f"{path}:{line}: not UTF-8 text (byte {raw[e.start]:#04x} at offset "
                        f"{e.start}); save the file as UTF-8") from None
