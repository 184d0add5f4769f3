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
import reprlib
from collections import OrderedDict
from pathlib import Path

import numpy

from .._version import __version__
from ..core import backend, dtypes
from ..core.errors import CheckpointError, DeviceError, UnsupportedFeatureError
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
        data = obj.array if isinstance(obj, Tensor) else obj
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
        where = f" (at {path})" if path else ""
        raise WholeObjectError(
            f"tc.save of a whole {type(obj).__name__}{where} is not supported by trainctl: it "
            "would need pickle; save its state_dict() instead: tc.save(obj.state_dict(), path), "
            "later obj.load_state_dict(tc.load(path))"
        )
    raise TypeError(
        f"save: cannot store an object of type {type(obj).__name__} at {path or 'the top'}; "
        "trainctl saves tensors, arrays, numbers, strings, None and dicts/lists/tuples of them"
    )


class WholeObjectError(UnsupportedFeatureError, TypeError):
    """``tc.save(model)``: a module or optimizer saved whole, which needs pickle (PyTorch 2.6+
    refuses to load such files by default too). A ``TypeError`` as well, like every other
    object ``tc.save`` cannot store."""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# How deep a saved structure may nest: a checkpoint is 6 levels deep; a hostile file could nest
# thousands deep to exhaust the recursion below.
MAX_NESTING = 100
# The safetensors dtypes NumPy has (what ``safetensors.numpy`` can load); BF16 and F8 are not.
NUMPY_DTYPES = ("F64", "F32", "F16", "I64", "U64", "I32", "U32", "I16", "U16", "I8", "U8",
                "BOOL", "C64")
_TENSOR_DTYPES = {numpy.dtype(d.numpy) for d in dtypes.ALL}


def _malformed(what: str, value) -> CheckpointError:
    return CheckpointError(f"malformed structure metadata: {what}, got {reprlib.repr(value)}")


def _tensor_data(array, name: str):
    """``array`` as a Tensor's data, or a CheckpointError when trainctl has no such dtype."""
    if array.dtype not in _TENSOR_DTYPES:
        names = ", ".join(d.name for d in dtypes.ALL)
        raise CheckpointError(f"tensor {name!r} has dtype {array.dtype}, which trainctl tensors "
                              f"do not support ({names})")
    return array


def _decode(obj, arrays: dict, device, depth: int = 0):
    """The object ``_encode`` described; anything not of that shape is a CheckpointError."""
    if depth > MAX_NESTING:
        raise CheckpointError(f"malformed structure metadata: nested more than {MAX_NESTING} "
                              "levels deep")
    depth += 1
    if isinstance(obj, list):
        return [_decode(v, arrays, device, depth) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj or "__ndarray__" in obj:
        key = obj.get("__tensor__", obj.get("__ndarray__"))
        if not isinstance(key, str) or key not in arrays:
            raise CheckpointError(f"the structure names tensor {reprlib.repr(key)} but the file "
                                  "does not contain it")
        array = arrays[key]
        if "__tensor__" not in obj:
            return array
        array = _tensor_data(array, key)
        if callable(device):  # PyTorch's map_location(storage, location), given the tensor
            array = device(Tensor._wrap(array), "cpu").array
        elif device is not None:
            array = backend.to_device(array, device)
        return Tensor._wrap(array, requires_grad=obj.get("requires_grad") is True)
    if "__odict__" in obj:
        inner = _decode(obj["__odict__"], arrays, device, depth)
        if not isinstance(inner, dict):
            raise _malformed("__odict__ must hold a mapping", inner)
        return OrderedDict(inner)
    if "__size__" in obj:
        size = obj["__size__"]
        if not isinstance(size, list) or not all(type(n) is int and n >= 0 for n in size):
            raise _malformed("__size__ must hold a list of sizes", size)
        return Size(size)
    if "__dtype__" in obj:
        name = obj["__dtype__"]
        if not isinstance(name, str) or not dtypes.is_dtype_name(name):
            raise _malformed("__dtype__ must hold a dtype name", name)
        return dtypes.as_dtype(name)
    if "__tuple__" in obj:
        if not isinstance(obj["__tuple__"], list):
            raise _malformed("__tuple__ must hold a list", obj["__tuple__"])
        return tuple(_decode(v, arrays, device, depth) for v in obj["__tuple__"])
    if "__dict__" in obj:
        items = obj["__dict__"]
        if not isinstance(items, list) or not all(
                isinstance(kv, list) and len(kv) == 2 and not isinstance(kv[0], (list, dict))
                for kv in items):
            raise _malformed("__dict__ must hold a list of [key, value] pairs", items)
        return {k: _decode(v, arrays, device, depth) for k, v in items}
    if "__device__" in obj:
        try:
            return backend.device(obj["__device__"])
        except DeviceError as e:
            raise CheckpointError(f"malformed structure metadata: {e}") from None
    return {k: _decode(v, arrays, device, depth) for k, v in obj.items()}


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


def _name(f) -> str:
    return str(getattr(f, "name", "<file object>")) if hasattr(f, "read") else str(f)


def read_file(path) -> tuple[dict, dict]:
    """(arrays, metadata) of a safetensors file, with clear errors for anything else."""
    if hasattr(path, "read"):  # a binary file object
        return _parse(path.read(), _name(path))
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory, expected a .safetensors file")
    if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
        raise CheckpointError(f"{path}: not a regular file, expected a .safetensors file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: file not found") from None
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read the file: {e.strerror or e}") from None
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
        header = _json().loads(data[8:8 + header_len])  # a mapping: its first byte is "{"
    except (ValueError, RecursionError) as e:
        raise CheckpointError(f"{path}: not a valid safetensors file (header: {e})") from None
    for name, entry in header.items():
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        if name != "__metadata__" and isinstance(dtype, str) and dtype not in NUMPY_DTYPES:
            raise CheckpointError(f"{path}: tensor {name[:60]!r} has dtype {dtype[:20]}, which "
                                  "trainctl cannot load (convert it to float32 first)")
    try:
        arrays = load(data)
    except SafetensorError as e:
        raise CheckpointError(f"{path}: not a valid safetensors file ({e})") from None
    return arrays, header.get("__metadata__") or {}


def load(f, map_location=None, weights_only: bool = True):
    """Load what :func:`save` wrote. A plain safetensors file loads as a dict of tensors.

    ``map_location`` moves every tensor to that device (``"cpu"``, ``tc.device("cuda:0")``),
    as PyTorch's does: a dict maps the location tensors load to (always ``"cpu"`` here: the
    file keeps values, not devices) to another (``{"cuda:0": "cuda:1"}`` leaves them on the
    CPU), and a function ``f(tensor, "cpu")`` returns each tensor where it should be.
    """
    arrays, metadata = read_file(f)
    return decode(arrays, metadata, _name(f), map_location)


def _map_location(map_location):
    """A device, a function, or None (stay on the CPU) for ``load``'s ``map_location``."""
    if isinstance(map_location, dict):
        map_location = map_location.get("cpu")
    if map_location is None or callable(map_location) and \
            not isinstance(map_location, (str, backend.device)):
        return map_location
    return backend.as_device(map_location)


def decode(arrays: dict, metadata: dict, name, map_location=None):
    """The object that :func:`read_file`'s ``(arrays, metadata)`` hold (what :func:`load`
    returns); ``name`` (the file's) starts every error."""
    device = _map_location(map_location)
    try:
        if metadata.get("format") != FORMAT or "structure" not in metadata:
            return {k: _decode({"__tensor__": k}, arrays, device) for k in arrays}
        try:
            structure = _json().loads(metadata["structure"])
        except (ValueError, RecursionError) as e:
            raise CheckpointError(f"corrupted structure metadata ({e})") from None
        return _decode(structure, arrays, device)
    except CheckpointError as e:
        raise CheckpointError(f"{name}: {e}") from None
