"""Moving and casting a :class:`~trainctl.nn.Module`'s tensors in place (``Module.to`` and kin).

Every parameter, gradient and buffer keeps its Python object and only gets new ``.data``, so an
optimizer built before ``model.to("cuda")`` or ``model.double()`` still holds the module's
parameters afterwards (as in PyTorch).
"""

from __future__ import annotations

from collections.abc import Callable

from ..autograd.grad_mode import no_grad
from ..autograd.methods import parse_to
from ..core import backend
from ..core.dtypes import as_dtype


def apply_to_tensors(module, fn: Callable, floating_only: bool = False):
    """Replace the data of every parameter, gradient and buffer under ``module`` by
    ``fn(data)``, in place; with ``floating_only`` integer and bool tensors are left alone.

    Example:
        >>> import trainctl as tc
        >>> layer = tc.nn.Linear(2, 1)
        >>> weight = layer.weight
        >>> _ = apply_to_tensors(layer, lambda a: a.astype("float64"))
        >>> layer.weight is weight, layer.weight.dtype, layer.bias.dtype
        (True, trainctl.float64, trainctl.float64)
    """
    for sub in module.modules():
        for tensors in (sub._parameters, sub._buffers):
            for t in tensors.values():
                if t is None or (floating_only and t.array.dtype.kind != "f"):
                    continue
                with no_grad():
                    t.array = fn(t.array)
                    if t.grad is not None:
                        t.grad.array = fn(t.grad.array)
    return module


def module_to(module, args: tuple, kwargs: dict):
    """``module.to(*args, **kwargs)``: cast floating-point tensors, then move all to a device.

    Takes what ``Tensor.to`` takes (a device, a dtype, or both, positionally or as keywords);
    a non-floating dtype raises ``TypeError``, as in PyTorch.

    Example:
        >>> import trainctl as tc
        >>> module_to(tc.nn.Linear(2, 2), ("cpu", tc.float64), {}).weight.dtype
        trainctl.float64
    """
    device, dtype = parse_to(args, dict(kwargs))
    if dtype is not None:
        np_dtype = as_dtype(dtype).numpy
        if np_dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, got {dtype}")
        # Through the method, not apply_to_tensors: a subclass that overrides _apply (to move
        # tensors it keeps outside its parameters and buffers) is honoured, as in PyTorch.
        module._apply(lambda a: a.astype(np_dtype, copy=False), floating_only=True)
    if device is not None:
        dev = backend.as_device(device)
        module._apply(lambda a: backend.to_device(a, dev))
    return module
