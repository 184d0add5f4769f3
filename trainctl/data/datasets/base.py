"""``ArrayDataset``: samples are rows of in-memory arrays; the base of the file-backed datasets.

Data stays in its stored dtype (images as uint8) and is converted per sample or per batch by the
transforms. ``get_batch(indices)`` is the DataLoader's fast path: one fancy index per array and the
transforms applied once to the whole batch; it returns exactly what ``default_collate`` would
make of ``[ds[i] for i in indices]``.
"""

from __future__ import annotations

import numpy

from ...autograd.tensor import Tensor
from ..collate import default_collate
from ..dataset import Dataset, take
from ..transforms import apply_batch, as_transform


def _tensor(array) -> Tensor:
    return Tensor._wrap(array)


class ArrayDataset(Dataset):
    """Rows of ``data`` (and ``targets``) with optional per-sample/per-batch transforms.

    Args:
        data: array of samples, first axis = sample.
        targets: array of targets with the same length, or None (samples are then ``(x,)``).
        transform: applied to each ``data`` row (``transform.batch`` on the fast path).
        target_transform: applied to each target.

    Example:
        >>> ds = ArrayDataset(numpy.zeros((4, 2), numpy.float32), numpy.arange(4))
        >>> [tuple(t.shape) for t in ds.get_batch(numpy.array([0, 3]))]
        [(2, 2), (2,)]
    """

    int_targets = False  # image datasets hand out targets as Python ints, like torchvision

    def __init__(self, data, targets=None, transform=None, target_transform=None):
        self.data = data
        self.targets = targets
        self.transform = as_transform(transform)
        self.target_transform = as_transform(target_transform)
        if targets is not None and len(targets) != len(data):
            from ...core.errors import DataError

            raise DataError(f"{type(self).__name__}: {len(data)} samples but {len(targets)} "
                            "targets")

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        index = int(index)
        if self.transform is not None:
            x = self.transform(self.data[index])
        else:
            x = _tensor(take(self.data, index))
        if self.targets is None:
            return (x,)
        if self.int_targets:
            y = int(self.targets[index])
        else:
            y = _tensor(take(self.targets, index))
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def get_batch(self, indices) -> list:
        """The collated batch of ``indices`` (an int array): one gather, batch transforms."""
        indices = numpy.asarray(indices, dtype=numpy.int64)
        x = take(self.data, indices)
        x = apply_batch(self.transform, x) if self.transform is not None else _tensor(x)
        if self.targets is None:
            return [x]
        y = _tensor(take(self.targets, indices))
        if self.target_transform is not None:
            if self.int_targets and not hasattr(self.target_transform, "batch"):
                # the per-sample path gives the function Python ints; so does this one
                y = default_collate([self.target_transform(v) for v in y.array.tolist()])
            else:
                y = apply_batch(self.target_transform, y)
        return [x, y]
