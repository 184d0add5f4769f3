"""Ready-made datasets: synthetic toys, CSV and NPZ files, MNIST-style IDX files, CIFAR-10 and
image folders."""

from .base import ArrayDataset
from .cifar import CIFAR10, read_cifar_batch
from .csv import CSVDataset
from .images import ImageFolder, list_images, load_image
from .mnist import KMNIST, MNIST, FashionMNIST, read_idx
from .npz import NPZDataset, read_npy, read_npz
from .synthetic import SyntheticClassification, SyntheticRegression

__all__ = ["ArrayDataset", "CIFAR10", "CSVDataset", "FashionMNIST", "ImageFolder", "KMNIST",
           "MNIST", "NPZDataset", "SyntheticClassification", "SyntheticRegression", "list_images",
           "load_image", "read_cifar_batch", "read_idx", "read_npy", "read_npz"]
