"""``tc.utils.data``: the names of ``torch.utils.data`` (see :mod:`trainctl.data`).

Example:
    >>> import trainctl as tc
    >>> ds = tc.utils.data.TensorDataset(tc.arange(6.0).reshape(3, 2), tc.tensor([0, 1, 0]))
    >>> len(tc.utils.data.DataLoader(ds, batch_size=2))
    2
"""

from importlib import import_module as _import_module

# Resolved by __getattr__ below, which ruff cannot see (hence the noqa).
__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",  # noqa: F822
    "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",  # noqa: F822
    "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert",  # noqa: F822
    "random_split",  # noqa: F822
]


def __getattr__(name: str):
    # Each name is trainctl.data's, which loads the module defining it on first use: importing
    # this module costs nothing more than the table above.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_import_module("..data", __package__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
