"""``tc.backends``: the ``torch.backends`` flags seed-setting code touches.

``tc.backends.cudnn.deterministic = True`` and ``.benchmark = False`` are accepted (trainctl's
ops are deterministic already); ``tc.backends.mps.is_available()`` is False (no Apple GPU support).

Example:
    >>> import trainctl as tc
    >>> tc.backends.cudnn.deterministic = True
    >>> tc.backends.mps.is_available()
    False
"""

from __future__ import annotations

from types import SimpleNamespace


def _false() -> bool:
    return False


# Attributes a program may set; trainctl reads none of them.
cudnn = SimpleNamespace(deterministic=False, benchmark=False, enabled=True,
                        allow_tf32=True, is_available=_false)
mps = SimpleNamespace(is_available=_false, is_built=_false)
