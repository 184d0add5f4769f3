"""Forward hooks of :class:`~trainctl.nn.Module`: the handle that removes one, and the hooked call.

A module keeps its hooks in two ordered dicts (``_forward_pre_hooks``, ``_forward_hooks``) keyed
by a fresh object per registration, so removing one hook never disturbs the others' order.
``Module.__call__`` comes here only when some hook is registered: the usual call stays one
``forward``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable


class RemovableHandle:
    """Returned by ``register_forward_hook`` and ``register_forward_pre_hook`` (PyTorch's name).

    Example:
        >>> import trainctl as tc
        >>> layer = tc.nn.Identity()
        >>> handle = layer.register_forward_hook(lambda module, args, out: out * 0)
        >>> layer(tc.ones(2)).tolist()
        [0.0, 0.0]
        >>> handle.remove()
        >>> layer(tc.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, hooks: OrderedDict, key: object):
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        """Unregister the hook; a second call does nothing."""
        self._hooks.pop(self._key, None)


def add_hook(hooks: OrderedDict, hook: Callable) -> RemovableHandle:
    """Append ``hook`` to ``hooks`` and return the handle that removes it."""
    key = object()
    hooks[key] = hook
    return RemovableHandle(hooks, key)


def call_with_hooks(module, args: tuple, kwargs: dict):
    """``module.forward(*args, **kwargs)`` wrapped in its pre-hooks and hooks.

    A pre-hook's non-None return replaces the positional arguments (a single value is wrapped
    in a tuple); a forward hook's non-None return replaces the output. Each list is copied
    first, so a hook may remove itself while it runs.
    """
    for hook in list(module._forward_pre_hooks.values()):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    out = module.forward(*args, **kwargs)
    for hook in list(module._forward_hooks.values()):
        result = hook(module, args, out)
        if result is not None:
            out = result
    return out
