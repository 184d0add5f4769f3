"""Switching graph recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Each works as a context manager and as a decorator, like PyTorch's.

Example:
    >>> import trainctl as tc
    >>> w = tc.ones(2, requires_grad=True)
    >>> with tc.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    """Grad mode is per thread, as in PyTorch: a new thread starts with recording on."""

    enabled = True
    # The graph-mode recorder (``trace.Tracer``) while a step is traced in this thread, else
    # None. Ops, backward and the value reads check it; see ``trace.py``.
    tracer = None


STATE = _State()


def is_grad_enabled() -> bool:
    """True when operations are being recorded for backward."""
    return STATE.enabled


class _GradMode:
    """Sets grad mode to ``self.mode`` inside a ``with`` block or a decorated function."""

    mode = True

    def __new__(cls, *args, **kwargs):
        # `@tc.no_grad` without parentheses decorates at once, as PyTorch 2 allows.
        if len(args) == 1 and not kwargs and callable(args[0]):
            return super().__new__(cls)(args[0])
        return super().__new__(cls)

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False

    def __call__(self, func):
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = STATE.enabled
            STATE.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                STATE.enabled = prev

        return wrapper


class no_grad(_GradMode):
    """Do not record operations for backward (inference, optimizer updates, init)."""

    mode = False


class enable_grad(_GradMode):
    """Record operations even inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """Turn recording on or off. Takes effect at once; as a context manager it restores after.

    Example:
        >>> with set_grad_enabled(False):
        ...     pass
    """

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def __enter__(self):
        pass  # already switched in __init__, as PyTorch does

    def __call__(self, func):
        STATE.enabled = self._prev  # used as a decorator: undo the switch made by __init__
        return super().__call__(func)


class inference_mode(_GradMode):
    """``no_grad`` under PyTorch's newer name (trainctl has no separate inference tensors).

    Example:
        >>> import trainctl as tc
        >>> with tc.inference_mode():
        ...     y = tc.ones(2, requires_grad=True) * 2
        >>> y.requires_grad
        False
    """

    mode = False  # for the bare decorator form, `@tc.inference_mode`

    def __init__(self, mode: bool = True):
        self.mode = not mode
