"""Array backends and devices: NumPy always, CuPy when installed and a CUDA device is asked for,
and the shape-only ``meta`` device (``core/meta.py``).

The rest of the library never names ``numpy`` for maths on tensor data; it asks
:func:`get_array_module` for the module that owns an array, so the same code runs on CuPy.
CuPy is imported lazily, the first time a ``cuda`` device is requested, and the meta module is
switched on the first time a ``meta`` device is: until then no CuPy or meta array can exist, so
:func:`get_array_module` answers NumPy without looking.

The default device of the creation functions (``tc.set_default_device``, ``with
tc.device(...)``) is kept here too.
"""

from __future__ import annotations

import numpy

from . import meta as _meta_module
from .errors import DeviceError
from .meta_array import NO_DATA, MetaArray

# The cupy module once a CUDA device has been asked for, else None. Read it as `backend.cupy`
# (a `from backend import cupy` would keep the None it saw at import time).
cupy = None
# The meta array module once a meta device has been asked for, else None (read as above).
meta = None


class device:
    """Where a tensor's data lives: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``,
    or ``device("meta")`` (shapes and dtypes only, no elements).

    Used as a context manager it is the default device of the tensors created inside (as
    :func:`set_default_device`), nn layers' parameters included.

    Example:
        >>> import trainctl as tc
        >>> tc.device("cuda:1")
        device(type='cuda', index=1)
        >>> with tc.device("meta"):
        ...     tc.nn.Linear(10**5, 10**5).weight.device
        device(type='meta')
    """

    __slots__ = ("type", "index")

    def __init__(self, spec: str | device = "cpu", index: int | None = None):
        if isinstance(spec, device):
            spec, index = spec.type, spec.index if index is None else index
        if not isinstance(spec, str):
            raise DeviceError(f"device must be a string like 'cpu' or 'cuda:0', got {spec!r}")
        kind, _, num = spec.strip().lower().partition(":")
        if kind not in ("cpu", "cuda", "meta"):
            raise DeviceError(
                f"unknown device {spec!r}: expected 'cpu', 'cuda', 'cuda:N' or 'meta'"
            )
        if num:
            if not num.isdigit():
                raise DeviceError(f"bad device index in {spec!r}: expected 'cuda:N' with N >= 0")
            index = int(num)
        if kind != "cuda":
            index = None
        elif index is None:
            index = 0
        self.type = kind
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except DeviceError:
                return False
        return (
            isinstance(other, device) and self.type == other.type and self.index == other.index
        )

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> device:
        _DEFAULT_STACK.append(_default[0])
        set_default_device(self)
        return self

    def __exit__(self, *exc) -> None:
        _default[0] = _DEFAULT_STACK.pop()


CPU = device("cpu")
# The default device of the creation functions (None: the CPU), and the ones that `with
# device(...)` blocks replaced, innermost last.
_default = [None]
_DEFAULT_STACK = []


def set_default_device(dev) -> None:
    """Make ``dev`` the device of tensors created without ``device=`` (None: the CPU again).

    Example:
        >>> import trainctl as tc
        >>> tc.set_default_device("meta")
        >>> tc.zeros(2, 3)
        tensor(..., device='meta', size=(2, 3))
        >>> tc.set_default_device(None)
    """
    dev = None if dev is None else as_device(dev)
    if dev is not None:
        array_module_for(dev)  # a missing GPU fails here, not at the first tensor
    _default[0] = dev


def get_default_device() -> device:
    """The device of tensors created without ``device=`` (the CPU unless set).

    Example:
        >>> import trainctl as tc
        >>> tc.get_default_device()
        device(type='cpu')
    """
    return _default[0] or CPU


def creation_device(spec) -> device | None:
    """The device a creation function puts its tensor on: ``spec``, else the default device;
    None for the CPU when no default is set (the common case, which needs no move)."""
    if spec is None:
        return _default[0]
    return as_device(spec)


def _load_cupy():
    """Import CuPy or say clearly why a CUDA device cannot be used."""
    global cupy
    if cupy is None:
        try:
            import cupy as module
        except ImportError:
            raise DeviceError(
                "device 'cuda' needs CuPy, which is not installed: "
                "pip install 'trainctl[cuda12]' (or [cuda13] for CUDA 13)"
            ) from None
        cupy = module
    return cupy


def cuda_device_count() -> int:
    """Number of visible CUDA GPUs; 0 when CuPy or a driver is missing."""
    try:
        return int(_load_cupy().cuda.runtime.getDeviceCount())
    except Exception:
        return 0


def cuda_is_available() -> bool:
    return cuda_device_count() > 0


def _check_cuda(dev: device):
    module = _load_cupy()
    count = cuda_device_count()
    if count == 0:
        raise DeviceError(f"device '{dev}' requested but no CUDA GPU is visible to CuPy")
    if dev.index >= count:
        raise DeviceError(f"device '{dev}' requested but only {count} CUDA GPU(s) exist")
    return module


def get_array_module(*arrays):
    """The array module (numpy, cupy or the meta module) that owns ``arrays``.

    Example:
        >>> xp = get_array_module(numpy.zeros(2))
        >>> xp is numpy
        True
    """
    if cupy is None and meta is None:
        return numpy
    if meta is not None:
        for a in arrays:
            if type(a) is MetaArray:
                return meta
    if cupy is None:
        return numpy
    return cupy.get_array_module(*arrays)


def array_module_for(dev: device):
    """The array module that creates arrays on ``dev`` (checks that the device exists)."""
    if dev.type == "cpu":
        return numpy
    if dev.type == "meta":
        return _use_meta()
    return _check_cuda(dev)


def _use_meta():
    global meta
    meta = _meta_module
    return meta


META = device("meta")


def is_meta(array) -> bool:
    """Whether ``array`` is a meta array (a shape and dtype, no values to check or read)."""
    return meta is not None and type(array) is MetaArray


def device_of(array) -> device:
    """The device an array lives on."""
    if meta is not None and type(array) is MetaArray:
        return META
    if cupy is not None and isinstance(array, cupy.ndarray):
        return device("cuda", int(array.device.id))
    return CPU


def to_device(array, dev: device):
    """Move an array to ``dev`` (returns it unchanged when it is already there).

    To ``meta`` only the shape and dtype go; from ``meta`` nothing can (there is no data).
    """
    if type(array) is MetaArray:
        if dev.type != "meta":
            raise NotImplementedError(NO_DATA)
        return array
    if dev.type == "cpu":
        if cupy is not None and isinstance(array, cupy.ndarray):
            return array.get()
        return array
    if dev.type == "meta":
        return _use_meta().asarray(array)
    module = _check_cuda(dev)
    if isinstance(array, module.ndarray) and array.device.id == dev.index:
        return array
    with module.cuda.Device(dev.index):
        return module.asarray(array)


def as_device(spec) -> device:
    """Accept a ``device``, a string or ``None`` (meaning CPU)."""
    if spec is None:
        return CPU
    if isinstance(spec, device):
        return spec
    if isinstance(spec, int):
        return device("cuda", spec)
    return device(spec)


def check_same_device(arrays, op_name: str):
    """Raise a clear error when the arrays of one op live on different devices."""
    devices = {device_of(a) for a in arrays if hasattr(a, "shape")}
    if len(devices) > 1:
        names = ", ".join(sorted(str(d) for d in devices))
        raise DeviceError(
            f"{op_name}: expected all tensors on one device, got tensors on {names}; "
            "move them with .to(device)"
        )
