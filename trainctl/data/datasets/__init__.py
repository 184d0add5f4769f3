"""Ready-made datasets: synthetic toys, CSV and NPZ files, MNIST-style IDX files and CIFAR-10."""

from .base import ArrayDataset
from .cifar import CIFAR10
from .csv import CSVDataset
from .mnist import KMNIST, MNIST, FashionMNIST, read_idx
from .npz import NPZDataset, read_npy, read_npz
from .synthetic import SyntheticClassification, SyntheticRegression

__all__ = ["ArrayDataset", "CIFAR10", "CSVDataset", "FashionMNIST", "KMNIST", "MNIST",
           "NPZDataset", "SyntheticClassification", "SyntheticRegression", "read_idx", "read_npy",
           "read_npz"]
