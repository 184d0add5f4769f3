"""``tc.save`` / ``tc.load`` without pickle: tensors in safetensors, structure in JSON.

A saved object is any nesting of dicts, lists and tuples holding tensors, NumPy arrays, numbers,
strings, booleans and None (a ``state_dict``, an optimizer's or scheduler's ``state_dict``, a whole
checkpoint), plus ``tc.Size``, dtypes and devices; an ``OrderedDict`` (a ``state_dict``) loads back
as one, a tensor that required grad still does, and a namedtuple loads as a plain tuple.
Each tensor is stored under its dotted path (``model.0.weight``), so the file is a normal
safetensors file that PyTorch users can read with ``safetensors.torch.load_file``; the
nesting is JSON in the file's metadata. Files are written atomically (temp file, fsync, rename):
a crash never leaves a half-written file where a good one was. Nothing is ever unpickled.

Example:
    >>> import trainctl as tc
    >>> tc.save({"w": tc.ones(2), "step": 3}, "/tmp/x.safetensors")
    >>> tc.load("/tmp/x.safetensors")
    {'w': tensor([1., 1.]), 'step': 3}
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy

from .._version import __version__
from ..core import backend, dtypes
from ..core.errors import CheckpointError
from .tensor import Size, Tensor

FORMAT = "trainctl"
FORMAT_VERSION = 1


# ---------------------------------------------------------------------------- encoding


def _json():
    import json  # here, not at the top: `import trainctl` saves ~3 ms

    return json


def _encode(obj, path: str, tensors: dict):
    """JSON-able structure of ``obj``; tensors go into ``tensors`` under their dotted path."""
    if isinstance(obj, (Tensor, numpy.ndarray)) or type(obj).__module__.startswith("cupy"):
        data = obj.data if isinstance(obj, Tensor) else obj
        if not isinstance(data, numpy.ndarray):
            data = data.get()
        key = path or "tensor"
        while key in tensors:
            key += "_"
        # (not ascontiguousarray: it turns 0-d arrays into 1-d ones)
        tensors[key] = data if data.flags.c_contiguous else data.copy(order="C")
        if isinstance(obj, Tensor) and obj.requires_grad:
            return {"__tensor__": key, "requires_grad": True}
        return {"__tensor__" if isinstance(obj, Tensor) else "__ndarray__": key}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, numpy.generic):
        return obj.item()
    if isinstance(obj, backend.device):
        return {"__device__": str(obj)}
    if isinstance(obj, dtypes.dtype):
        return {"__dtype__": obj.name}
    if isinstance(obj, OrderedDict):  # a state_dict loads back as the OrderedDict it was
        return {"__odict__": _encode(dict(obj), path, tensors)}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj) and not any(k.startswith("__") for k in obj):
            return {k: _encode(v, _join(path, k), tensors) for k, v in obj.items()}
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise TypeError(f"save: cannot store a dict key of type {type(k).__name__}")
            items.append([k, _encode(v, _join(path, str(k)), tensors)])
        return {"__dict__": items}
    if isinstance(obj, Size):
        return {"__size__": list(obj)}
    if isinstance(obj, tuple):  # namedtuples too: they load back as plain tuples
        return {"__tuple__": [_encode(v, _join(path, str(i)), tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, _join(path, str(i)), tensors) for i, v in enumerate(obj)]
    if hasattr(obj, "state_dict"):
        raise TypeError(
            f"save: cannot store a whole {type(obj).__name__} at {path or 'the top'} (that "
            f"would need pickle); save its state_dict() instead and load it with "
            "load_state_dict(tc.load(path))"
        )
    raise TypeError(
        f"save: cannot store an object of type {type(obj).__name__} at {path or 'the top'}; "
        "trainctl saves tensors, arrays, numbers, strings, None and dicts/lists/tuples of them"
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _decode(obj, arrays: dict, device):
    if isinstance(obj, list):
        return [_decode(v, arrays, device) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj or "__ndarray__" in obj:
        key = obj.get("__tensor__", obj.get("__ndarray__"))
        if key not in arrays:
            raise CheckpointError(f"the file names tensor {key!r} but does not contain it")
        array = arrays[key]
        if "__ndarray__" in obj:
            return array
        array = array if device is None else backend.to_device(array, device)
        return Tensor._wrap(array, requires_grad=bool(obj.get("requires_grad", False)))
    if "__odict__" in obj:
        return OrderedDict(_decode(obj["__odict__"], arrays, device))
    if "__size__" in obj:
        return Size(obj["__size__"])
    if "__dtype__" in obj:
        return dtypes.as_dtype(obj["__dtype__"])
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays, device) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {k: _decode(v, arrays, device) for k, v in obj["__dict__"]}
    if "__device__" in obj:
        return backend.device(obj["__device__"])
    return {k: _decode(v, arrays, device) for k, v in obj.items()}


# ---------------------------------------------------------------------------- files


def atomic_write(path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a temp file in the same folder, are flushed to disk, then renamed over
    ``path`` (an atomic step on POSIX); the folder is fsynced so the rename itself survives.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def to_bytes(obj, metadata: dict | None = None) -> bytes:
    """The safetensors bytes of ``obj`` (see the module docstring)."""
    from safetensors.numpy import save

    tensors: dict = {}
    structure = _encode(obj, "", tensors)
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION),
            "trainctl_version": __version__, "structure": _json().dumps(structure)}
    for key, value in (metadata or {}).items():
        meta[key] = value if isinstance(value, str) else _json().dumps(value)
    return save(tensors, metadata=meta)


def save(obj, f) -> None:
    """Save ``obj`` (tensors and plain data, nested) to the file ``f`` as safetensors + JSON.

    ``f`` is a path or a binary file object (e.g. ``io.BytesIO``); a path is written atomically.
    """
    if hasattr(f, "write"):
        f.write(to_bytes(obj))
        return
    atomic_write(f, to_bytes(obj))


def _looks_pickled(data: bytes) -> bool:
    """A raw pickle (protocol 2+ starts with 0x80, then the protocol number) or a zip (torch)."""
    return (data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")) or \
        data[:4] == b"PK\x03\x04"


def read_file(path) -> tuple[dict, dict]:
    """(arrays, metadata) of a safetensors file, with clear errors for anything else."""
    if hasattr(path, "read"):  # a binary file object
        data, path = path.read(), getattr(path, "name", "<file object>")
        return _parse(data, path)
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a directory, expected a .safetensors file") from None
    return _parse(data, path)


def _parse(data: bytes, path) -> tuple[dict, dict]:
    from safetensors import SafetensorError
    from safetensors.numpy import load

    # A safetensors file is an 8-byte header length, then a JSON header starting with "{".
    is_safetensors = len(data) >= 9 and data[8:9] == b"{"
    if not is_safetensors and _looks_pickled(data):
        raise CheckpointError(
            f"{path} is a pickle-based file (e.g. from torch.save); trainctl never unpickles. "
            "Convert it in PyTorch: from safetensors.torch import save_file; "
            "save_file(torch.load(PATH), 'weights.safetensors')"
        )
    if len(data) < 8:
        raise CheckpointError(f"{path}: file is truncated or empty ({len(data)} bytes)")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > len(data) - 8:
        raise CheckpointError(f"{path}: file is truncated (the header says {header_len} bytes of "
                              f"metadata, the file has {len(data) - 8})")
    if not is_safetensors:
        raise CheckpointError(f"{path}: not a safetensors file")
    try:
        header = _json().loads(data[8:8 + header_len])
        arrays = load(data)
    except (SafetensorError, ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not a valid safetensors file ({e})") from None
    metadata = header.get("__metadata__") or {}
    return arrays, metadata


def load(f, map_location=None, weights_only: bool = True):
    """Load what :func:`save` wrote. A plain safetensors file loads as a dict of tensors.

    ``map_location`` moves every tensor to that device (e.g. ``"cpu"``).
    """
    arrays, metadata = read_file(f)
    device = None if map_location is None else backend.as_device(map_location)
    if metadata.get("format") != FORMAT or "structure" not in metadata:
        return {k: Tensor._wrap(v if device is None else backend.to_device(v, device))
                for k, v in arrays.items()}
    try:
        structure = _json().loads(metadata["structure"])
    except ValueError as e:
        raise CheckpointError(f"{f}: corrupted structure metadata ({e})") from None
    try:
        return _decode(structure, arrays, device)
    except CheckpointError as e:
        raise CheckpointError(f"{f}: {e}") from None
