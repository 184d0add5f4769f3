"""``state_dict`` / ``load_state_dict`` for :class:`~trainctl.nn.Module`, with PyTorch's keys.

Keys are dotted paths (``"0.weight"``, ``"encoder.layers.1.bias"``) in PyTorch's order: each
module's own parameters, then its persistent buffers, then its children, depth first. Loading
checks every key and shape before it copies anything, so a failed load leaves the model unchanged.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..core.errors import StateDictError


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and the keys it did not use.

    Example:
        >>> IncompatibleKeys(["fc.weight"], [])
        _IncompatibleKeys(missing_keys=['fc.weight'], unexpected_keys=[])
    """

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        # PyTorch's class name, so `print(model.load_state_dict(sd, strict=False))` reads the same
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")


# PyTorch's warning, word for word: loading real weights into a meta model copies nothing.
_META_NO_OP = (
    "for {key}: copying from a non-meta parameter in the checkpoint to a meta parameter in the "
    "current model, which is a no-op. (Did you mean to pass `assign=True` to assign items in the "
    "state dictionary to their corresponding key in the module instead of copying them in place?)"
)


def _local_state(module):
    """The module's own ``(name, tensor)`` entries that belong in a state dict, in order."""
    for name, p in module._parameters.items():
        if p is not None:
            yield name, p
    for name, b in module._buffers.items():
        if b is not None and name not in module._non_persistent_buffers_set:
            yield name, b


def state_dict_of(module, destination=None, prefix: str = "", keep_vars: bool = False):
    """Fill ``destination`` (a new OrderedDict by default) with ``module``'s state."""
    if destination is None:
        destination = OrderedDict()
    for name, t in _local_state(module):
        destination[prefix + name] = t if keep_vars else t.detach()
    for name, child in module._modules.items():
        if child is not None:
            state_dict_of(child, destination, prefix + name + ".", keep_vars)
    return destination


def _fmt(shape) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def _entries(module, prefix=""):
    """``(key, module, name, tensor, is_parameter)`` for every state entry, shared ones included."""
    for name, t in _local_state(module):
        yield prefix + name, module, name, t, name in module._parameters
    for name, child in module._modules.items():
        if child is not None:
            yield from _entries(child, prefix + name + ".")


def load_state_dict_into(module, state_dict, strict: bool = True, assign: bool = False):
    """Check, then copy ``state_dict`` into ``module``; see ``Module.load_state_dict``."""
    from .parameter import Parameter

    if not hasattr(state_dict, "keys"):
        raise TypeError(f"expected a mapping for state_dict, got {type(state_dict).__name__}")
    entries = list(_entries(module))
    expected = {key for key, *_ in entries}
    missing = [key for key, *_ in entries if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    errors = []
    if strict and unexpected:
        errors.append("unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
    if strict and missing:
        errors.append("missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
    values = {}
    for key, _, _, t, _ in entries:
        if key not in state_dict:
            continue
        value = state_dict[key]
        if not isinstance(value, Tensor):
            if not hasattr(value, "shape"):
                errors.append(f"value for {key!r} is a {type(value).__name__}, not a tensor")
                continue
            value = Tensor._wrap(value)
        if tuple(value.shape) != tuple(t.shape):
            errors.append(
                f"size mismatch for {key!r}: copying a tensor of shape {_fmt(value.shape)} from "
                f"the checkpoint, the shape in the current model is {_fmt(t.shape)}"
            )
            continue
        values[key] = value
    if errors:
        raise StateDictError(
            f"error(s) in loading state_dict for {module._get_name()}:\n\t" + "\n\t".join(errors)
        )
    with no_grad():
        for key, owner, name, t, is_param in entries:
            if key not in values:
                continue
            if not assign:
                if t.is_meta and not values[key].is_meta:
                    warnings.warn(_META_NO_OP.format(key=key), stacklevel=3)
                t.copy_(values[key])
            elif is_param:
                owner._parameters[name] = Parameter(values[key], requires_grad=t.requires_grad)
            else:
                owner._buffers[name] = values[key]
    return IncompatibleKeys(missing, unexpected)
