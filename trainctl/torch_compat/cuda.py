"""``tc.cuda``: the ``torch.cuda`` functions tutorials call, backed by :mod:`trainctl.core.backend`.

GPU support comes from CuPy (``pip install 'trainctl[cuda12]'``). Without CuPy or a GPU,
``is_available()`` is False and ``device_count()`` is 0, as in a CPU-only PyTorch.

trainctl draws every random number, for CPU and GPU tensors alike, from the one generator that
``tc.manual_seed`` seeds; so ``manual_seed``/``manual_seed_all`` here are accepted and do nothing.
Streams, events, CUDA graphs and ``cuda.amp`` are out of scope: touching them raises
:class:`~trainctl.torch_compat.unsupported.UnsupportedFeatureError` naming the feature.

Example:
    >>> import trainctl as tc
    >>> device = "cuda" if tc.cuda.is_available() else "cpu"
    >>> tc.zeros(2, device=device).device.type == device
    True
"""

from __future__ import annotations

from ..core import backend
from .unsupported import CUDA, lookup


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    return backend.cuda_is_available()


def device_count() -> int:
    """The number of CUDA GPUs CuPy sees (0 without CuPy or a driver)."""
    return backend.cuda_device_count()


def is_initialized() -> bool:
    """True once a CUDA device has been used (CuPy is loaded)."""
    return backend.cupy is not None


def _index(device) -> int:
    if device is None:
        dev = backend.device("cuda")
    elif isinstance(device, int):
        dev = backend.device("cuda", device)
    else:
        dev = backend.as_device(device)
    backend.array_module_for(dev)  # raises DeviceError when there is no such GPU
    return dev.index


def current_device() -> int:
    """The index of the GPU that ``"cuda"`` means (always 0 in trainctl)."""
    return _index(None)


def get_device_name(device=None) -> str:
    """The GPU's name, e.g. ``'NVIDIA H100 80GB HBM3'``."""
    index = _index(device)
    name = backend.cupy.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None) -> None:
    """Wait until all work queued on the GPU is done (for timing)."""
    index = _index(device)
    backend.cupy.cuda.Device(index).synchronize()


def manual_seed(seed: int) -> None:
    """Accepted for compatibility; seed all randomness with ``tc.manual_seed``."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    """Accepted for compatibility; seed all randomness with ``tc.manual_seed``."""
    int(seed)


def empty_cache() -> None:
    """Return CuPy's cached, unused GPU memory to the driver (no-op before any GPU use)."""
    if backend.cupy is not None:
        backend.cupy.get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory held by tensors (CuPy's memory pool); 0 before any GPU use."""
    if backend.cupy is None:
        return 0
    return int(backend.cupy.get_default_memory_pool().used_bytes())


def __getattr__(name: str):
    lookup(CUDA, __name__, name)
