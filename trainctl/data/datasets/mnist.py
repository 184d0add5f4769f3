"""MNIST, FashionMNIST and KMNIST from their standard IDX files (plain or ``.gz``).

Layout: the four files keep their standard names (``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each plain or
with ``.gz``) and are looked for in ``<root>/<Name>/raw/`` (torchvision's layout, where downloads
go) and then directly in ``<root>``. Images stay uint8 ``(N, 28, 28)`` in memory; the default
``ToTensor`` transform makes float32 ``(1, 28, 28)`` in [0, 1] per sample or per batch.

Both files must hold unsigned bytes (as torchvision requires), so no NaN can reach the data; a
label outside the dataset's classes (MNIST's ``200``), image and label counts that differ, or a
file whose size does not match its header is a :class:`DataError` naming the file (and record).
"""

from __future__ import annotations

import math
import os
import struct
import zlib

import numpy

from ...core.errors import DataError
from ..download import download_file, mirror_list
from ..transforms import TO_TENSOR
from .base import ArrayDataset
from .checks import DEFLATE_RATIO, check_labels, os_error

_CHUNK = 1 << 20

_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_idx_stream(f, path: str, size: int, gz: bool) -> numpy.ndarray:
    """The array in the IDX stream ``f`` of a ``size``-byte file: header, then its data."""
    magic = f.read(4)
    if len(magic) < 4 or magic[:2] != b"\x00\x00" or magic[2] not in _IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {magic.hex() or 'empty'})")
    ndim = magic[3]
    raw_dims = f.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DataError(f"{path}: truncated IDX header ({ndim} dimensions declared)")
    dims = struct.unpack(f">{ndim}I", raw_dims)
    dtype = numpy.dtype(_IDX_TYPES[magic[2]])
    nbytes = math.prod(dims) * dtype.itemsize
    if not gz and nbytes != size - 4 - 4 * ndim:
        raise DataError(f"{path}: IDX size mismatch: shape {dims} needs {nbytes} bytes of data, "
                        f"the file has {size - 4 - 4 * ndim}")
    if gz and nbytes > DEFLATE_RATIO * size:  # cannot inflate that far: refuse, allocate nothing
        raise DataError(f"{path}: IDX size mismatch: shape {dims} needs {nbytes} bytes of data, "
                        f"more than a {size}-byte gzip file can hold")
    buf = numpy.empty(nbytes, numpy.uint8)
    view, done = memoryview(buf), 0
    while done < nbytes:
        block = f.read(min(_CHUNK, nbytes - done))
        if not block:
            break
        view[done:done + len(block)] = block
        done += len(block)
    if done < nbytes or f.read(1):  # one byte more is enough to know there is trailing data
        have = done if done < nbytes else "more"
        raise DataError(f"{path}: IDX size mismatch: shape {dims} needs {nbytes} bytes of data, "
                        f"the file has {have}")
    try:  # an empty array may still declare dimensions numpy cannot index
        data = buf.view(dtype).reshape(dims)
    except ValueError:
        raise DataError(f"{path}: IDX shape {dims} is beyond numpy's limits") from None
    return data if dtype.isnative else data.astype(dtype.newbyteorder("="))


def read_idx(path) -> numpy.ndarray:
    """An IDX file (plain, or gzip when the name ends in ``.gz``) as a NumPy array.

    The header is read first and only the bytes it declares are then read (one more to detect
    trailing data), so a file whose size does not match its header is a :class:`DataError`. A
    ``.gz`` file is decompressed as a stream, and a header declaring more than the compressed size
    can hold (deflate inflates by 1032:1 at most) is refused before anything is allocated: a small
    gzip bomb costs neither memory nor time.

    Example:
        >>> read_idx("data/MNIST/raw/t10k-labels-idx1-ubyte.gz").shape  # doctest: +SKIP
        (10000,)
    """
    import gzip

    path = os.fspath(path)
    try:
        if path.endswith(".gz"):
            with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw) as f:
                return _read_idx_stream(f, path, os.fstat(raw.fileno()).st_size, gz=True)
        with open(path, "rb") as f:
            return _read_idx_stream(f, path, os.fstat(f.fileno()).st_size, gz=False)
    except (EOFError, zlib.error) as e:
        raise DataError(f"{path}: truncated or corrupt gzip data ({e})") from None
    except gzip.BadGzipFile as e:
        raise DataError(f"{path}: not a valid gzip file ({e})") from None
    except OSError as e:
        raise os_error(path, e, "IDX") from None


class MNIST(ArrayDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey.

    Args:
        root: data folder (see the module docstring for the layout).
        train: the training split (True) or the test split (False).
        transform: applied to each uint8 ``(28, 28)`` image (``batch`` on the fast path);
            default ``ToTensor()`` (float32 ``(1, 28, 28)`` in [0, 1]); None gives uint8 tensors.
        target_transform: applied to each label (a Python int).
        download: fetch missing files from ``mirrors`` (MD5-checked) into ``<root>/<Name>/raw/``.
        mirrors: base URLs tried in order (default: the class's ``mirrors``).
        connect_timeout, stall_timeout, deadline: limits of a download in seconds: the wait for a
            connection, for the next bytes, and for each file's whole download (None: no limit); see
            :func:`trainctl.data.download.download_file`.

    Example:
        >>> ds = FashionMNIST("data/fashion", train=True, download=True)  # doctest: +SKIP
        >>> x, y = ds[0]; x.shape, y  # doctest: +SKIP
        (trainctl.Size([1, 28, 28]), 9)
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]
    sample_shape = (1, 28, 28)
    num_classes = 10
    int_targets = True

    def __init__(self, root, train: bool = True, transform=TO_TENSOR, target_transform=None,
                 download: bool = False, mirrors=None, connect_timeout: float = 30.0,
                 stall_timeout: float = 60.0, deadline: float | None = None):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        names = self._split_files()
        if download:
            self.download(mirrors, connect_timeout=connect_timeout,
                          stall_timeout=stall_timeout, deadline=deadline)
        paths = [self._find(n) for n in names]
        missing = [n for n, p in zip(names, paths) if p is None]
        if missing:
            raise DataError(
                f"{type(self).__name__}: missing {' and '.join(n + '[.gz]' for n in missing)} for "
                f"the {'train' if train else 'test'} split. Put the files (plain or .gz) in "
                f"{self.raw_folder}{os.sep} (or directly in {self.root}{os.sep}), or pass "
                f"download=True (download: true in a config) to fetch them from "
                f"{mirror_list(mirrors, self.mirrors)[0]}"
            )
        labels = read_idx(paths[1])
        if labels.dtype != numpy.uint8 or labels.ndim != 1:
            raise DataError(f"{paths[1]}: expected a 1-D IDX file of unsigned bytes (labels), got "
                            f"{labels.dtype} of shape {tuple(labels.shape)}")
        check_labels(labels, len(type(self).classes), paths[1])
        images = read_idx(paths[0])
        if images.dtype != numpy.uint8 or images.ndim != 3:
            raise DataError(f"{paths[0]}: expected a 3-D IDX file of unsigned bytes (N images), "
                            f"got {images.dtype} of shape {tuple(images.shape)}")
        if len(images) != len(labels):
            raise DataError(f"{paths[0]} holds {len(images)} images but {paths[1]} holds "
                            f"{len(labels)} labels")
        self.classes = list(type(self).classes)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        super().__init__(images, labels.astype(numpy.int64), transform, target_transform)

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    def _split_files(self) -> list[str]:
        prefix = "train" if self.train else "t10k"
        return [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]

    def _find(self, name: str) -> str | None:
        for folder in (self.raw_folder, self.root):
            for candidate in (name, name + ".gz"):
                path = os.path.join(folder, candidate)
                if os.path.isfile(path):
                    return path
        return None

    def download(self, mirrors=None, **limits) -> None:
        """Fetch this split's files that are not there yet (an existing .gz is MD5-checked).

        ``limits``: ``connect_timeout``, ``stall_timeout``, ``deadline`` of ``download_file``.
        """
        mirrors = mirror_list(mirrors, self.mirrors)
        for name in self._split_files():
            gz = name + ".gz"
            found = self._find(name)
            if found is not None and found != os.path.join(self.raw_folder, gz):
                continue  # the user's own copy (plain, or in root): nothing to check it against
            urls = [m.rstrip("/") + "/" + gz for m in mirrors]
            download_file(urls, os.path.join(self.raw_folder, gz), md5=self.resources.get(gz),
                          **limits)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: clothing images in MNIST's format (same layout and arguments)."""

    mirrors = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ]
    resources = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: cursive Japanese characters in MNIST's format (same layout, arguments)."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = {
        "train-images-idx3-ubyte.gz": "bdb82020997e1d708af4cf47b453dcf7",
        "train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
        "t10k-images-idx3-ubyte.gz": "5c965bf0a639b31b8f53240b1b52f4d7",
        "t10k-labels-idx1-ubyte.gz": "7320c461ea6c1c855c0b718fb2a4b134",
    }
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
