"""``trainctl.data``: datasets, samplers, the DataLoader and transforms (``tc.utils.data``).

Everything a config can name as a dataset (``{type: FashionMNIST, ...}``) is a :class:`Dataset`
subclass exported here; transforms live in :mod:`trainctl.data.transforms`. Nothing heavy is
imported until used: ``urllib``, ``tarfile``, ``gzip`` and ``csv`` load inside the functions that
read or fetch files.

Example:
    >>> import trainctl as tc
    >>> x = [[1, 2], [2, 3], [4, 6], [3, 1]]
    >>> ds = tc.utils.data.TensorDataset(x=x, y=[[8], [13], [26], [9]])
    >>> x, y = next(iter(tc.utils.data.DataLoader(ds, batch_size=4)))
    >>> x.shape, y.shape
    (trainctl.Size([4, 2]), trainctl.Size([4, 1]))
"""

from . import transforms
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
    val_split,
)
from .datasets import (
    CIFAR10,
    KMNIST,
    MNIST,
    ArrayDataset,
    CSVDataset,
    FashionMNIST,
    NPZDataset,
    SyntheticClassification,
    SyntheticRegression,
)
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "ArrayDataset", "BatchSampler", "CIFAR10", "CSVDataset", "ConcatDataset", "DataLoader",
    "Dataset", "FashionMNIST", "IterableDataset", "KMNIST", "MNIST", "NPZDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
    "SyntheticClassification", "SyntheticRegression", "TensorDataset", "WeightedRandomSampler",
    "default_collate", "default_convert", "random_split", "transforms", "val_split",
]
