"""``tc.utils.data``: the names of ``torch.utils.data`` (see :mod:`trainctl.data`)."""

from ..data import (  # noqa: F401
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)
