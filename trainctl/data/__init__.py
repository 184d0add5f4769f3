"""``trainctl.data``: datasets, samplers, the DataLoader and transforms (``tc.utils.data``).

Everything a config can name as a dataset (``{type: FashionMNIST, ...}``) is a :class:`Dataset`
subclass exported here; transforms live in :mod:`trainctl.data.transforms`. Splitting by class
and class weights are :func:`stratified_split` and :func:`class_weights`; images are read by
:class:`ImageFolder` and :func:`list_images` with Pillow (the optional ``images`` extra).
Nothing heavy is imported until used: ``urllib``, ``tarfile``, ``gzip``, ``csv`` and ``PIL``
load inside the functions that read or fetch files.

Example:
    >>> import trainctl as tc
    >>> x = [[1, 2], [2, 3], [4, 6], [3, 1]]
    >>> ds = tc.utils.data.TensorDataset(x=x, y=[[8], [13], [26], [9]])
    >>> x, y = next(iter(tc.utils.data.DataLoader(ds, batch_size=4)))
    >>> x.shape, y.shape
    (trainctl.Size([4, 2]), trainctl.Size([4, 1]))
"""

from ..core.lazy import lazy_names

# Every public name and the module that defines it, imported on first use (PEP 562
# ``__getattr__`` below): the datasets, samplers, loader and transforms are ~30 ms of a cold
# ``import trainctl.utils.data`` otherwise. ``tc.utils.data.DataLoader``, ``from trainctl.data
# import MNIST`` and ``dir()`` work as with eager imports.
_DEFINED_IN = {
    ".collate": ("default_collate", "default_convert"),
    ".dataloader": ("DataLoader",),
    ".distributed": ("DistributedSampler",),
    ".dataset": ("ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset",
                 "random_split", "val_split"),
    ".datasets": ("ArrayDataset", "CIFAR10", "CSVDataset", "FashionMNIST", "ImageFolder",
                  "KMNIST", "MNIST", "NPZDataset", "SyntheticClassification",
                  "SyntheticRegression", "SyntheticSequences", "TextFile", "Vocabulary",
                  "list_images", "load_image", "read_cifar_batch", "read_idx", "read_npy",
                  "read_npz", "read_text"),
    ".labels": ("class_weights", "stratified_split"),
    ".sampler": ("BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
                 "SubsetRandomSampler", "WeightedRandomSampler"),
}
# Submodules reachable as attributes, as they were once the former eager imports had run.
_MODULES = {
    name: "." + name
    for name in ("collate", "dataloader", "dataset", "datasets", "distributed", "download",
                 "imaging", "labels", "sampler", "transforms")
}
_WHERE = {name: module for module, names in _DEFINED_IN.items() for name in names}

__all__ = [
    "ArrayDataset", "BatchSampler", "CIFAR10", "CSVDataset", "ConcatDataset", "DataLoader",
    "Dataset", "DistributedSampler", "FashionMNIST", "ImageFolder", "IterableDataset", "KMNIST",
    "MNIST", "NPZDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
    "SyntheticClassification", "SyntheticRegression", "SyntheticSequences", "TensorDataset",
    "TextFile", "Vocabulary", "WeightedRandomSampler",
    "class_weights", "default_collate", "default_convert", "list_images", "load_image",
    "random_split", "read_cifar_batch", "read_idx", "read_npy", "read_npz", "read_text",
    "stratified_split",
    "transforms", "val_split",
]


__getattr__, __dir__ = lazy_names(__name__, globals(), _WHERE, _MODULES)
