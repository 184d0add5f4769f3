"""Tensor element types, named like PyTorch's (``tc.float32``, ``tc.long``, ...).

A :class:`dtype` wraps a NumPy dtype. float32 is the default floating type: Python floats and
float lists become float32, and a Python scalar in an op never upcasts a float32 tensor.
"""

from __future__ import annotations

import numpy


class dtype:
    """An element type. ``tc.float32.is_floating_point`` is True; ``.itemsize`` is in bytes."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_signed", "itemsize", "category")

    def __init__(self, name: str, np_type):
        self.name = name
        self.numpy = numpy.dtype(np_type)
        kind = self.numpy.kind
        self.is_floating_point = kind == "f"
        self.is_signed = kind in "fi"
        self.itemsize = self.numpy.itemsize
        # Promotion category: bool < integer < floating.
        self.category = {"b": 0, "u": 1, "i": 1, "f": 2}[kind]

    def __repr__(self) -> str:
        return f"trainctl.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float32 = dtype("float32", numpy.float32)
float64 = dtype("float64", numpy.float64)
float16 = dtype("float16", numpy.float16)
int8 = dtype("int8", numpy.int8)
int16 = dtype("int16", numpy.int16)
int32 = dtype("int32", numpy.int32)
int64 = dtype("int64", numpy.int64)
uint8 = dtype("uint8", numpy.uint8)
bool_ = dtype("bool", numpy.bool_)

# PyTorch's aliases.
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16

ALL = (float32, float64, float16, int8, int16, int32, int64, uint8, bool_)
_FROM_NUMPY = {d.numpy: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(float=float32, double=float64, half=float16, long=int64, int=int32, short=int16)

_default_float = float32


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


def get_default_dtype() -> dtype:
    """The floating dtype that Python floats become (float32 unless changed)."""
    return _default_float


def set_default_dtype(d) -> None:
    """Set the default floating dtype (float32 or float64)."""
    global _default_float
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"default dtype must be floating point, got {d}")
    _default_float = d


def from_numpy_dtype(np_dtype) -> dtype:
    """The trainctl dtype of a NumPy dtype; unsupported kinds raise ``TypeError``."""
    try:
        return _FROM_NUMPY[numpy.dtype(np_dtype)]
    except KeyError:
        raise TypeError(f"unsupported array dtype {numpy.dtype(np_dtype)}") from None


def as_dtype(d) -> dtype:
    """Accept a trainctl dtype, a NumPy dtype/type, a Python type or a name like ``'float32'``."""
    if isinstance(d, dtype):
        return d
    if d is builtins_float:
        return _default_float
    if d is builtins_int:
        return int64
    if d is builtins_bool:
        return bool_
    if isinstance(d, str):
        key = _bare_name(d)
        if key in _BY_NAME:
            return _BY_NAME[key]
        raise TypeError(f"unknown dtype {d!r}; expected one of {sorted(_BY_NAME)}")
    return from_numpy_dtype(d)


def is_dtype_name(name: str) -> bool:
    """True when ``name`` names a dtype, as :func:`as_dtype` reads it (``x.to(name)`` asks this
    to tell a dtype from a device).

    Example:
        >>> is_dtype_name("torch.float64"), is_dtype_name("long"), is_dtype_name("cuda")
        (True, True, False)
    """
    return _bare_name(name) in _BY_NAME


def _bare_name(name: str) -> str:
    return name.removeprefix("trainctl.").removeprefix("torch.")


# type(...) because this module's own `float` and `int` are the dtype aliases above.
builtins_float, builtins_int, builtins_bool = (type(0.0), type(0), type(True))  # noqa: UP003


class finfo:
    """Limits of a floating dtype as Python floats (``eps``, ``max``, ``min``, ``tiny``...).

    Example:
        >>> finfo(float32).eps
        1.1920928955078125e-07
    """

    def __init__(self, type=None):  # noqa: A002
        self.dtype = as_dtype(type or get_default_dtype())
        info = numpy.finfo(self.dtype.numpy)
        self.bits = builtins_int(info.bits)
        self.eps, self.max = builtins_float(info.eps), builtins_float(info.max)
        self.min = builtins_float(info.min)
        self.tiny = self.smallest_normal = builtins_float(info.tiny)
        self.resolution = builtins_float(info.resolution)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype.name})")


class iinfo:
    """Limits of an integer dtype (``min``, ``max``, ``bits``) as Python ints."""

    def __init__(self, type):  # noqa: A002
        self.dtype = as_dtype(type)
        info = numpy.iinfo(self.dtype.numpy)
        self.bits = builtins_int(info.bits)
        self.min, self.max = builtins_int(info.min), builtins_int(info.max)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype.name})"
