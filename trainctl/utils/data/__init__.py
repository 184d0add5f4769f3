"""``tc.utils.data``: the names of ``torch.utils.data`` (see :mod:`trainctl.data`), with
``tc.utils.data.distributed.DistributedSampler``.

Example:
    >>> import trainctl as tc
    >>> ds = tc.utils.data.TensorDataset(tc.arange(6.0).reshape(3, 2), tc.tensor([0, 1, 0]))
    >>> len(tc.utils.data.DataLoader(ds, batch_size=2))
    2
"""

from ...core.lazy import lazy_names

# Resolved by __getattr__ below, which ruff cannot see (hence the noqa).
__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",  # noqa: F822
    "IterableDataset",  # noqa: F822
    "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",  # noqa: F822
    "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert",  # noqa: F822
    "random_split",  # noqa: F822
]


# Each name is trainctl.data's, which loads the module defining it on first use: importing
# this module costs nothing more than the table above.
__getattr__, __dir__ = lazy_names(__name__, globals(), dict.fromkeys(__all__, "trainctl.data"),
                                  {"distributed": ".distributed"})
