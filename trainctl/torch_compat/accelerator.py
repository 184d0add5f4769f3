"""``tc.accelerator``: the device-neutral ``torch.accelerator`` API (CUDA is the only one).

Example:
    >>> import trainctl as tc
    >>> acc = tc.accelerator
    >>> device = acc.current_accelerator().type if acc.is_available() else "cpu"
"""

from __future__ import annotations

from ..core import backend


def is_available() -> bool:
    """True when a CUDA GPU can be used (see :func:`trainctl.torch_compat.cuda.is_available`)."""
    return backend.cuda_is_available()


def device_count() -> int:
    return backend.cuda_device_count()


def current_accelerator(check_available: bool = False) -> backend.device | None:
    """``device('cuda')`` when a CUDA GPU can be used, else None (as on a CPU-only PyTorch)."""
    return backend.device("cuda") if is_available() else None


def current_device_index() -> int:
    return 0


def synchronize(device=None) -> None:
    """Wait for queued GPU work (no-op without a GPU)."""
    if is_available():
        from . import cuda

        cuda.synchronize(device)
