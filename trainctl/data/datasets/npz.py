"""``NPZDataset`` and the ``.npy``/``.npz`` readers: never unpickled, checked before allocating.

The readers do not call ``numpy.load``: they parse each array's ``.npy`` header themselves (a
Python literal: no code, no pickle), refuse anything but booleans, integers and floats (an object
array would need pickle), and compare the declared shape times the item size with the bytes that
actually follow before any memory is allocated. In an ``.npz`` the
member's sizes in the zip directory are checked too: a stored member holds as many bytes as it
declares, a deflated one at most 1032 times its compressed size (deflate's limit), and nothing
else (other compression, encryption) is read. So a small hostile file ends in a one-line
:class:`DataError`, never in a huge allocation.
"""

from __future__ import annotations

import math
import os
import warnings
import zlib

import numpy

from ...core.errors import DataError
from .base import ArrayDataset
from .checks import DEFLATE_RATIO, check_finite, check_labels, os_error

_MAGIC = b"\x93NUMPY"
_CHUNK = 1 << 20
_MAX_HEADER = 10_000
# what reading a damaged zip member or .npy header can raise besides OSError
_READ_ERRORS = (OSError, EOFError, ValueError, zlib.error)


def _read(f, n: int, where: str) -> bytes:
    """Up to ``n`` bytes of ``f``; a read error (a damaged zip member) is a DataError."""
    try:
        return f.read(n)
    except _READ_ERRORS as e:
        raise DataError(f"{where}: cannot read ({e})") from None


def _read_header(f, where: str):
    """``(shape, fortran_order, dtype, header_bytes)`` of the ``.npy`` stream ``f``.

    Parsed here rather than by ``numpy.lib.format``, whose errors for hostile headers vary: the
    header is a Python literal (``ast.literal_eval``, no code runs) of at most 10,000 bytes, as
    numpy's own ``max_header_size``.
    """
    import ast

    magic = _read(f, 8, where)
    if len(magic) < 8 or magic[:6] != _MAGIC:
        raise DataError(f"{where}: not a .npy array (bad magic {magic[:6].hex() or 'empty'})")
    version = (magic[6], magic[7])
    if version not in ((1, 0), (2, 0)):
        raise DataError(f"{where}: .npy format version {version[0]}.{version[1]} is not "
                        "supported (1.0 and 2.0 are; numpy writes 3.0 only for structured arrays)")
    length = int.from_bytes(_read(f, 2 if version == (1, 0) else 4, where), "little")
    if length > _MAX_HEADER:
        raise DataError(f"{where}: .npy header of {length} bytes (at most {_MAX_HEADER})")
    text = _read(f, length, where)
    if len(text) < length:
        raise DataError(f"{where}: truncated .npy header")
    try:
        header = ast.literal_eval(text.decode("latin1"))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        header = None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise DataError(f"{where}: not a valid .npy header (expected a dict of descr, "
                        "fortran_order and shape)")
    shape, fortran_order, descr = header["shape"], header["fortran_order"], header["descr"]
    if not (isinstance(shape, tuple) and all(type(d) is int and d >= 0 for d in shape)):
        raise DataError(f"{where}: not a valid .npy header (shape {shape!r:.80})")
    if not isinstance(fortran_order, bool):
        raise DataError(f"{where}: not a valid .npy header (fortran_order {fortran_order!r:.20})")
    try:
        with warnings.catch_warnings():  # a deprecated alias ('a5') is just refused below
            warnings.simplefilter("ignore")
            dtype = numpy.dtype(descr) if isinstance(descr, str) else None
    except (TypeError, ValueError, SyntaxError, OverflowError):
        dtype = None
    if dtype is None:  # a list descr is a structured dtype: not numbers either
        raise DataError(f"{where}: not a valid .npy header (dtype {descr!r:.80})")
    return shape, fortran_order, dtype, len(magic) + length + (2 if version == (1, 0) else 4)


def _read_array(f, size: int, where: str) -> numpy.ndarray:
    """The array in the ``size``-byte ``.npy`` stream ``f``, its header checked against ``size``."""
    shape, fortran_order, dtype, have = _read_header(f, where)
    have = size - have
    if dtype.hasobject:
        raise DataError(f"{where} is an object array, which needs pickle to load; trainctl never "
                        "unpickles (save numbers only, e.g. with a numeric dtype)")
    if dtype.kind not in "biuf" or dtype.subdtype is not None:
        raise DataError(f"{where}: dtype {dtype} is not supported; expected booleans, integers "
                        "or floats")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes != have:
        raise DataError(f"{where}: the header declares shape {shape} of {dtype} ({nbytes} bytes) "
                        f"but {have} bytes of data follow")
    buf = numpy.empty(nbytes, numpy.uint8)
    view, done = memoryview(buf), 0
    while done < nbytes:
        block = _read(f, min(_CHUNK, nbytes - done), where)
        if not block:
            raise DataError(f"{where}: truncated data ({done} of {nbytes} bytes)")
        view[done:done + len(block)] = block
        done += len(block)
    array = buf.view(dtype)
    try:  # an empty array may still declare dimensions numpy cannot index
        array = array.reshape(shape[::-1]).transpose() if fortran_order else array.reshape(shape)
    except ValueError:
        raise DataError(f"{where}: shape {shape} is beyond numpy's limits") from None
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def read_npy(path) -> numpy.ndarray:
    """A ``.npy`` file as an array, checked as the module docstring says (never unpickled).

    Example:
        >>> read_npy("features.npy").shape  # doctest: +SKIP
        (100, 4)
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            return _read_array(f, os.fstat(f.fileno()).st_size, path)
    except OSError as e:
        raise os_error(path, e, ".npy") from None


def _member_size(info, where: str) -> int:
    """The member's declared size, refused when its zip entry cannot be read safely."""
    import zipfile

    if info.flag_bits & 0x1:
        raise DataError(f"{where}: the member is encrypted")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise DataError(f"{where}: stored member declares {info.file_size} bytes but holds "
                            f"{info.compress_size}")
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        if info.file_size > DEFLATE_RATIO * info.compress_size + 64:
            raise DataError(f"{where}: declares {info.file_size} bytes, more than its "
                            f"{info.compress_size} compressed bytes can hold")
    else:
        raise DataError(f"{where}: compression method {info.compress_type} is not supported "
                        "(numpy writes stored or deflated members)")
    return info.file_size


def read_npz(path, keys=None) -> dict[str, numpy.ndarray]:
    """The arrays of an ``.npz`` file by name (all, or those in ``keys``), never unpickled.

    Example:
        >>> sorted(read_npz("data.npz"))  # doctest: +SKIP
        ['x', 'y']
    """
    import zipfile

    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            if f.read(len(_MAGIC)) == _MAGIC:
                raise DataError(f"{path}: expected an .npz archive of named arrays, got a single "
                                ".npy array")
            f.seek(0)
            try:
                archive = zipfile.ZipFile(f)
            except (zipfile.BadZipFile, NotImplementedError, *_READ_ERRORS) as e:
                raise DataError(f"{path}: not a readable .npz file ({e})") from None
            with archive:
                members = {i.filename.removesuffix(".npy"): i for i in archive.infolist()
                           if i.filename.endswith(".npy")}
                names = list(members) if keys is None else list(dict.fromkeys(keys))
                arrays = {}
                for key in names:
                    if key not in members:
                        raise DataError(f"{path}: no array named {key!r}; the file holds "
                                        f"{', '.join(members) or 'no .npy arrays'}")
                    where = f"{path}: array {key!r}"
                    size = _member_size(members[key], where)
                    try:
                        member = archive.open(members[key])
                    except (zipfile.BadZipFile, RuntimeError, NotImplementedError,
                            *_READ_ERRORS) as e:
                        raise DataError(f"{where}: cannot open the member ({e})") from None
                    try:
                        with member:
                            arrays[key] = _read_array(member, size, where)
                    except zipfile.BadZipFile as e:  # a CRC mismatch, found at the end
                        raise DataError(f"{where}: corrupt member ({e})") from None
                return arrays
    except OSError as e:
        raise os_error(path, e, "NPZ") from None


class NPZDataset(ArrayDataset):
    """Samples from two arrays of an ``.npz`` file, read without pickle (see the module docstring).

    Floating arrays become float32; integer targets int64 (class labels); integer features keep
    their dtype (uint8 images stay uint8 in memory: give a ``transform`` such as ``ToTensor``).
    NaN/inf values (or float64 values beyond float32's range) are a :class:`DataError` naming the
    array and the index, unless ``allow_nonfinite=True``.

    Args:
        path: the ``.npz`` file.
        x_key: name of the feature array.
        y_key: name of the target array, or None for features only.
        transform, target_transform: applied to each ``x`` / ``y`` (or batch).
        num_classes: when given, the targets are class labels that must lie in
            ``0..num_classes-1`` (a label outside is a :class:`DataError` naming its row).
        allow_nonfinite: keep NaN/inf values in ``x`` and ``y``.

    Example:
        >>> ds = NPZDataset("data.npz", x_key="x", y_key="y", num_classes=10)  # doctest: +SKIP
    """

    def __init__(self, path, x_key: str = "x", y_key: str | None = "y", transform=None,
                 target_transform=None, num_classes: int | None = None,
                 allow_nonfinite: bool = False):
        path = os.fspath(path)
        self.path = path
        if num_classes is not None and (isinstance(num_classes, bool)
                                        or not isinstance(num_classes, int) or num_classes < 1):
            raise DataError(f"NPZDataset: num_classes must be a positive integer, got "
                            f"{num_classes!r}")
        arrays = read_npz(path, [x_key] if y_key is None else [x_key, y_key])
        x, y = arrays[x_key], None if y_key is None else arrays[y_key]
        if x.ndim == 0 or (y is not None and (y.ndim == 0 or len(y) != len(x))):
            raise DataError(f"{path}: {x_key!r} {tuple(x.shape)} and {y_key!r} "
                            f"{None if y is None else tuple(y.shape)} must have the same first "
                            "dimension")
        x = self._float32(x, x_key, allow_nonfinite)
        if y is not None:
            y = self._float32(y, y_key, allow_nonfinite)
            if y.dtype.kind != "f":
                y = y.astype(numpy.int64, copy=False)
        if num_classes is not None:
            if y is None or y.dtype.kind == "f":
                raise DataError(f"{path}: num_classes={num_classes} needs integer class labels "
                                f"in {y_key!r}, got {None if y is None else y.dtype}")
            check_labels(y, num_classes, f"{path}: array {y_key!r}", unit="row")
            self.num_classes, self.classes = num_classes, list(range(num_classes))
        super().__init__(x, y, transform, target_transform)

    def _float32(self, a: numpy.ndarray, key: str, allow_nonfinite: bool) -> numpy.ndarray:
        """Floating ``a`` as float32, checked finite before and after the cast (overflow)."""
        if a.dtype.kind != "f":
            return a
        where = f"{self.path}: array {key!r}"
        check_finite(a, where, allow_nonfinite)
        with numpy.errstate(over="ignore"):
            a32 = a.astype(numpy.float32, copy=False)
        if a32 is not a:
            check_finite(a32, where + " (beyond float32's range)", allow_nonfinite)
        return a32
