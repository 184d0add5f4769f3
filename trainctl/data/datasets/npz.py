"""``NPZDataset``: arrays from a NumPy ``.npz`` (or ``.npy``-in-zip) file, never unpickled."""

from __future__ import annotations

import os

import numpy

from ...core.errors import DataError
from .base import ArrayDataset


def _load(path: str, key: str, files: list[str], archive) -> numpy.ndarray:
    if key not in files:
        raise DataError(f"{path}: no array named {key!r}; the file holds {', '.join(files)}")
    try:
        array = archive[key]
    except ValueError as e:  # object arrays need pickle, which is refused
        raise DataError(f"{path}: array {key!r} is an object array, which needs pickle to load; "
                        f"trainctl loads .npz files with allow_pickle=False ({e})") from None
    if array.dtype.kind not in "biuf":
        raise DataError(f"{path}: array {key!r} has dtype {array.dtype}; expected numbers")
    return array


class NPZDataset(ArrayDataset):
    """Samples from two arrays of an ``.npz`` file, loaded with ``allow_pickle=False``.

    Floating arrays become float32; integer targets int64 (class labels); integer features keep
    their dtype (uint8 images stay uint8 in memory: give a ``transform`` such as ``ToTensor``).

    Args:
        path: the ``.npz`` file.
        x_key: name of the feature array.
        y_key: name of the target array, or None for features only.
        transform, target_transform: applied to each ``x`` / ``y`` (or batch).

    Example:
        >>> ds = NPZDataset("data.npz", x_key="x", y_key="y")  # doctest: +SKIP
    """

    def __init__(self, path, x_key: str = "x", y_key: str | None = "y", transform=None,
                 target_transform=None):
        path = os.fspath(path)
        self.path = path
        try:
            archive = numpy.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise DataError(f"NPZ file not found: {path}") from None
        except (OSError, ValueError) as e:
            raise DataError(f"{path}: not a readable .npz file ({e})") from None
        if not isinstance(archive, numpy.lib.npyio.NpzFile):
            raise DataError(f"{path}: expected an .npz archive of named arrays, got a single array")
        with archive:
            files = list(archive.files)
            x = _load(path, x_key, files, archive)
            y = None if y_key is None else _load(path, y_key, files, archive)
        if x.ndim == 0 or (y is not None and (y.ndim == 0 or len(y) != len(x))):
            raise DataError(f"{path}: {x_key!r} {tuple(x.shape)} and {y_key!r} "
                            f"{None if y is None else tuple(y.shape)} must have the same first "
                            "dimension")
        if x.dtype.kind == "f":
            x = x.astype(numpy.float32, copy=False)
        if y is not None:
            y = y.astype(numpy.float32 if y.dtype.kind == "f" else numpy.int64, copy=False)
        super().__init__(x, y, transform, target_transform)
