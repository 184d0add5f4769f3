"""Keep freed array memory in the process: glibc ``malloc`` settings for training loops.

A training step allocates and frees the same multi-megabyte arrays every step (activations,
im2col columns, gradients). glibc's defaults hand such blocks back to the kernel as soon as they
are freed (its mmap threshold adapts only up to the largest block freed so far, and the top of
the heap is trimmed once 2x that much is free), so the next step gets fresh pages that the
kernel must fault in and zero again. Measured on 2 cores (bench/run.py): a NumPy LeNet-5 step at
batch 64 spent ~7 of ~18 ms in the kernel doing exactly that, ~2,400 page faults per step;
PyTorch's step lost ~2 ms the same way.

:func:`tune_allocator` (called once when ``trainctl.autograd`` loads) sets two fixed thresholds
with ``mallopt``: blocks under 32 MiB come from the heap, and up to 64 MiB of free memory may
stay at its top before it is trimmed. After that the LeNet step makes no page faults. The cost
is that up to 64 MiB of freed memory stays mapped in the process. It is skipped outside
glibc-based Linux, when the user already tunes malloc through its environment variables
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``,
``GLIBC_TUNABLES``), and when ``TRAINCTL_MALLOC=default`` asks for glibc's own behaviour.
The settings apply to the whole process (NumPy, and PyTorch when loaded alongside, too).
"""

from __future__ import annotations

import os
import sys

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # the largest value glibc accepts on 64-bit systems
TRIM_THRESHOLD = 64 << 20
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                  "GLIBC_TUNABLES")

tuned = False  # whether tune_allocator changed the settings


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds once; True when they are (or were) set here."""
    global tuned
    if tuned:
        return True
    if (not sys.platform.startswith("linux") or os.environ.get("TRAINCTL_MALLOC") == "default"
            or any(name in os.environ for name in _USER_SETTINGS)):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):  # musl and others have no such mallopt
            return False
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):
        return False
    tuned = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return tuned
