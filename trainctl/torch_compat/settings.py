"""The process-wide switches that reproducibility and speed recipes set at the top of a script:
``use_deterministic_algorithms``, ``set_float32_matmul_precision``, ``set_warn_always`` and their
getters.

They are accepted and remembered, and change nothing: trainctl's ops are deterministic already
and its float32 matrix products are full float32 (PyTorch's ``"highest"``).

Example:
    >>> import trainctl as tc
    >>> tc.use_deterministic_algorithms(True)
    >>> tc.are_deterministic_algorithms_enabled()
    True
"""

from __future__ import annotations

import os

_STATE = {"deterministic": False, "warn_only": False, "precision": "highest", "warn_always": False}
_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted: every trainctl op is deterministic."""
    _STATE["deterministic"], _STATE["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """What :func:`use_deterministic_algorithms` was last given."""
    return _STATE["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """The ``warn_only`` that :func:`use_deterministic_algorithms` was last given."""
    return _STATE["warn_only"]


def set_deterministic_debug_mode(debug_mode) -> None:
    """``0``/``"default"``, ``1``/``"warn"`` or ``2``/``"error"``, as PyTorch's."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of "
                               f"{list(_DEBUG_MODES)}, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(
            f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """0 (off), 1 (warn) or 2 (error), from :func:`use_deterministic_algorithms`."""
    if not _STATE["deterministic"]:
        return 0
    return 1 if _STATE["warn_only"] else 2


def set_float32_matmul_precision(precision: str) -> None:
    """``"highest"``, ``"high"`` or ``"medium"``: accepted; products stay full float32."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"invalid precision {precision!r}: expected 'highest', 'high' or "
                           "'medium'")
    _STATE["precision"] = precision


def get_float32_matmul_precision() -> str:
    """What :func:`set_float32_matmul_precision` was last given (``"highest"`` at first)."""
    return _STATE["precision"]


def set_warn_always(b: bool) -> None:
    """Accepted and remembered (trainctl warns through Python's ``warnings`` filters)."""
    _STATE["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _STATE["warn_always"]


def get_num_threads() -> int:
    """The CPUs this process may run on (NumPy's BLAS sizes its thread pool from them)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def get_num_interop_threads() -> int:
    """1: trainctl runs one op at a time."""
    return 1
