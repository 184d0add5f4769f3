"""Merging samples into a batch: ``default_collate`` and ``default_convert`` (PyTorch's rules).

``default_collate`` stacks along a new first dimension and recurses into containers:

=============================  ==============================================
sample element                 batch
=============================  ==============================================
Tensor                         ``stack`` of the tensors
NumPy array / NumPy scalar     a tensor of the stacked arrays (dtype kept)
Python ``int`` / ``bool``      int64 / bool tensor
Python ``float``               **float64** tensor (as PyTorch; cast with ``.float()``)
``str`` / ``bytes``            the list of them, unchanged
dict                           dict of collated values, key by key
namedtuple                     the same namedtuple of collated fields
tuple / list                   a **list** of collated fields (a tuple becomes a list, as PyTorch)
=============================  ==============================================

Example:
    >>> import trainctl as tc
    >>> x, y = default_collate([(tc.tensor([1., 2.]), 0), (tc.tensor([3., 4.]), 1)])
    >>> x.shape, y.dtype
    (trainctl.Size([2, 2]), trainctl.int64)
"""

from __future__ import annotations

import collections.abc
import numbers

import numpy

from ..autograd.tensor import Tensor
from ..core.backend import get_array_module

_ERR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _stack(tensors: list) -> Tensor:
    if any(t.requires_grad for t in tensors):
        from ..autograd.ops.shape import stack

        return stack(tensors)
    shapes = {t.array.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(
            f"default_collate: stack expects each tensor to be equal size, got shapes "
            f"{sorted(shapes)}"
        )
    xp = get_array_module(tensors[0].array)
    return Tensor._wrap(xp.stack([t.array for t in tensors]))


def default_collate(batch):
    """Merge a list of samples into a batch (see the module docstring for the rules).

    Example:
        >>> default_collate([{"a": 1.5}, {"a": 2.5}])["a"].dtype
        trainctl.float64
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, (numpy.ndarray, numpy.generic)) and not isinstance(elem, (numpy.str_,
                                                                                   numpy.bytes_)):
        if elem.dtype.kind in "OSUV":
            raise TypeError(_ERR.format(elem.dtype))
        return Tensor._wrap(numpy.stack([numpy.asarray(b) for b in batch]))
    if type(elem).__module__.startswith("cupy"):
        return Tensor._wrap(get_array_module(elem).stack(batch))
    if isinstance(elem, bool):
        return Tensor._wrap(numpy.asarray(batch, dtype=numpy.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor._wrap(numpy.asarray(batch, dtype=numpy.int64))
    if isinstance(elem, numbers.Real):
        return Tensor._wrap(numpy.asarray(batch, dtype=numpy.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        out = {k: default_collate([d[k] for d in batch]) for k in elem}
        try:
            return type(elem)(out)
        except TypeError:  # a mapping type that cannot be built from a dict
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if len({len(b) for b in batch}) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """Turn NumPy arrays (also inside dicts, lists, tuples) into tensors; leave the rest.

    What the DataLoader applies to each sample when ``batch_size=None`` (no batching).

    Example:
        >>> default_convert((numpy.zeros(2), 3))
        (tensor([0., 0.], dtype=trainctl.float64), 3)
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (numpy.ndarray, numpy.generic)) and data.dtype.kind not in "OSUV":
        return Tensor._wrap(numpy.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return tuple(default_convert(d) for d in data)
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return data
