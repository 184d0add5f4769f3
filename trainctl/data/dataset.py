"""Datasets with PyTorch's semantics: ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
``random_split``, plus ``val_split`` for datasets that ship without a validation split.

The batch fast path: a dataset backed by arrays may define ``get_batch(indices)``, which returns
the *collated* batch (what ``default_collate([ds[i] for i in indices])`` would give) from one fancy
index per array. The DataLoader calls it when the collate function is the default one. ``Subset``
and ``ConcatDataset`` pass it through when the datasets they wrap have it. ``__getitems__`` keeps
PyTorch's meaning (a list of samples, collated afterwards).

Example:
    >>> import trainctl as tc
    >>> ds = TensorDataset(tc.arange(6.).reshape(3, 2), tc.tensor([0, 1, 0]))
    >>> x, y = ds[1]
    >>> x, y
    (tensor([2., 3.]), tensor(1))
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right
from itertools import accumulate

import numpy

from ..autograd.tensor import Tensor
from ..core.backend import get_array_module
from ..core.errors import DataError


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (and may define ``__len__``)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        raise TypeError("IterableDataset does not support + (there is no ChainDataset yet)")


def take(array, index):
    """``array[index]`` as an array (a NumPy scalar becomes a 0-d array), on the array's device.

    Example:
        >>> take(numpy.arange(4), 2)
        array(2)
    """
    xp = get_array_module(array)
    if xp is not numpy and isinstance(index, numpy.ndarray):
        index = xp.asarray(index)
    out = array[index]
    return out if isinstance(out, xp.ndarray) else xp.asarray(out)


def _inline(x, y, y_dtype):
    """Tensors from inline lists: x as float32; y as int64 labels or float32 targets."""
    from ..autograd.creation import tensor

    xs = tensor(x, dtype="float32")
    if y is None:
        return (xs,)
    y_array = numpy.asarray(y)
    if y_dtype is None:
        y_dtype = "int64" if y_array.ndim == 1 and y_array.dtype.kind in "iub" else "float32"
    return xs, tensor(y_array, dtype=y_dtype)


class TensorDataset(Dataset):
    """Samples are the rows of equally long tensors: ``ds[i] == (t[i] for t in tensors)``.

    Besides PyTorch's ``TensorDataset(*tensors)`` it takes inline lists, for configs:
    ``TensorDataset(x=[[1, 2], [2, 3]], y=[[8], [13]])``. ``x`` becomes float32; ``y`` becomes
    int64 class labels when it is a flat list of integers, otherwise float32 targets (e.g. shaped
    ``(N, 1)`` for regression); ``y_dtype`` overrides that guess.

    Example:
        >>> ds = TensorDataset(x=[[1, 2], [2, 3]], y=[[8], [13]])
        >>> ds.tensors[1].dtype, len(ds)
        (trainctl.float32, 2)
    """

    def __init__(self, *tensors, x=None, y=None, y_dtype: str | None = None):
        if x is not None or y is not None:
            if tensors:
                raise DataError("TensorDataset: give tensors positionally or as x=/y=, not both")
            if x is None:
                raise DataError("TensorDataset: y= was given without x=")
            tensors = _inline(x, y, y_dtype)
        if not tensors:
            raise DataError("TensorDataset needs at least one tensor")
        from ..autograd.creation import as_tensor

        tensors = tuple(t if isinstance(t, Tensor) else as_tensor(t) for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in tensors]
        if None in sizes or len(set(sizes)) != 1:
            raise DataError(
                f"Size mismatch between tensors: TensorDataset needs tensors with the same first "
                f"dimension, got shapes {[tuple(t.shape) for t in tensors]}"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(Tensor._wrap(take(t.array, index)) for t in self.tensors)

    def get_batch(self, indices) -> list:
        """The collated batch of ``indices``: one fancy index per tensor."""
        return [Tensor._wrap(take(t.array, indices)) for t in self.tensors]

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (in that order).

    Example:
        >>> s = Subset(TensorDataset(x=[[0.], [1.], [2.]]), [2, 0])
        >>> s[0]
        (tensor([2.]),)
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        if callable(getattr(dataset, "get_batch", None)):
            self._index = numpy.asarray(indices, dtype=numpy.int64).reshape(-1)
            self.get_batch = self._get_batch

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def _get_batch(self, indices):
        return self.dataset.get_batch(self._index[indices])

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other.

    Example:
        >>> a, b = TensorDataset(x=[[0.], [1.]]), TensorDataset(x=[[5.]])
        >>> len(a + b), (a + b)[2]
        (3, (tensor([5.]),))
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(accumulate(len(d) for d in self.datasets))
        if all(callable(getattr(d, "get_batch", None)) for d in self.datasets):
            self.get_batch = self._get_batch

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect_right(self.cumulative_sizes, idx)
        offset = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - offset]

    def _get_batch(self, indices):
        indices = numpy.asarray(indices, dtype=numpy.int64)
        cum = numpy.asarray(self.cumulative_sizes)
        which = numpy.searchsorted(cum, indices, side="right")
        parts, where = [], []
        for d in numpy.unique(which).tolist():  # a loop over datasets, not samples
            mask = which == d
            offset = cum[d - 1] if d else 0
            parts.append(self.datasets[d].get_batch(indices[mask] - offset))
            where.append(numpy.flatnonzero(mask))
        if len(parts) == 1:
            return parts[0]
        return _merge(parts, numpy.argsort(numpy.concatenate(where), kind="stable"))


def _merge(parts: list, order: numpy.ndarray):
    """Concatenate collated batches and put their rows back in sample order."""
    first = parts[0]
    if isinstance(first, Tensor):
        xp = get_array_module(first.array)
        return Tensor._wrap(take(xp.concatenate([p.array for p in parts]), order))
    if isinstance(first, dict):
        return {k: _merge([p[k] for p in parts], order) for k in first}
    if isinstance(first, (list, tuple)):
        merged = [_merge(list(f), order) for f in zip(*parts)]
        return merged if isinstance(first, list) else type(first)(merged)
    flat = [x for p in parts for x in p]  # strings and the like: plain lists
    return [flat[i] for i in order.tolist()]


def split_lengths(n: int, lengths) -> list[int]:
    """Lengths (or fractions summing to 1) of a split of ``n`` samples as counts (PyTorch's rule).

    Fractions are floored and the remainder handed out one by one from the first split on.

    Example:
        >>> split_lengths(10, [0.33, 0.33, 0.34])
        [4, 3, 3]
    """
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                              "dataset.", stacklevel=3)
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input "
            f"dataset ({n})!"
        )
    return lengths


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths or fractions.

    Fractions that sum to 1 are turned into lengths by flooring, and the remainder is handed out
    one by one from the first subset on (PyTorch's rule). The permutation comes from
    ``generator`` (default: trainctl's default generator, seeded by ``tc.manual_seed``). For
    subsets with the class proportions of the whole, see
    :func:`trainctl.data.stratified_split`.

    Example:
        >>> import trainctl as tc
        >>> [len(s) for s in random_split(range(10), [0.33, 0.33, 0.34], tc.Generator())]
        [4, 3, 3]
    """
    from ..core.random import generator_for

    n = len(dataset)
    lengths = split_lengths(n, lengths)
    perm = generator_for(generator).permutation(n).tolist()
    ends = accumulate(lengths)
    return [Subset(dataset, perm[end - size:end]) for end, size in zip(ends, lengths)]


def val_split(dataset, fraction: float = 0.1, seed: int | None = 0, generator=None,
              val_dataset=None) -> tuple[Subset, Subset]:
    """Hold out a seeded random ``fraction`` of ``dataset`` as validation: ``(train, val)``.

    Args:
        dataset: the training data.
        fraction: share of the samples that go to validation, in (0, 1).
        seed: seeds the split (same seed, same split); ``None`` uses ``generator`` instead.
        generator: used when ``seed`` is None (default: trainctl's default generator).
        val_dataset: optionally the same samples without training augmentation (e.g. the same
            files with a plain transform); the validation indices are taken from it.

    Example:
        >>> train, val = val_split(TensorDataset(x=[[float(i)] for i in range(10)]), 0.2)
        >>> len(train), len(val)
        (8, 2)
    """
    from ..core.random import Generator

    n = len(dataset)
    if not 0 < fraction < 1:
        raise DataError(f"val_split: fraction must be between 0 and 1, got {fraction}")
    n_val = int(n * fraction + 0.5)
    if not 0 < n_val < n:
        raise DataError(f"val_split: fraction {fraction} of {n} samples leaves an empty split")
    if val_dataset is not None and len(val_dataset) != n:
        raise DataError(f"val_split: val_dataset has {len(val_dataset)} samples, expected {n}")
    gen = Generator().manual_seed(seed) if seed is not None else generator
    train, val = random_split(dataset, [n - n_val, n_val], generator=gen)
    if val_dataset is not None:
        val = Subset(val_dataset, val.indices)
    return train, val
