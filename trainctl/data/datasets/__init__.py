"""Ready-made datasets: synthetic toys, CSV and NPZ files, MNIST-style IDX files, CIFAR-10,
image folders, text files and sequence tasks."""

from .base import ArrayDataset
from .cifar import CIFAR10, read_cifar_batch
from .csv import CSVDataset
from .images import ImageFolder, list_images, load_image
from .mnist import KMNIST, MNIST, FashionMNIST, read_idx
from .npz import NPZDataset, read_npy, read_npz
from .sequences import SyntheticSequences
from .synthetic import SyntheticClassification, SyntheticRegression
from .text import TextFile, Vocabulary, read_text

__all__ = ["ArrayDataset", "CIFAR10", "CSVDataset", "FashionMNIST", "ImageFolder", "KMNIST",
           "MNIST", "NPZDataset", "SyntheticClassification", "SyntheticRegression",
           "SyntheticSequences", "TextFile", "Vocabulary", "list_images", "load_image",
           "read_cifar_batch", "read_idx", "read_npy", "read_npz", "read_text"]
