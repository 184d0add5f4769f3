"""CIFAR-10 from its binary version (``cifar-10-binary.tar.gz``; no pickle involved).

Layout: ``<root>/cifar-10-binary.tar.gz`` (where downloads go) extracts to
``<root>/cifar-10-batches-bin/`` holding ``data_batch_1.bin`` .. ``data_batch_5.bin`` and
``test_batch.bin``. Each record is one label byte and 3072 pixel bytes (1024 red, 1024 green,
1024 blue, row by row). Images are kept uint8 ``(N, 32, 32, 3)`` (HWC, as torchvision's
``.data``); the default ``ToTensor`` gives float32 ``(3, 32, 32)`` in [0, 1].
"""

from __future__ import annotations

import os

import numpy

from ...core.errors import DataError
from ..download import download_file, extract_tar, mirror_list
from ..transforms import TO_TENSOR
from .base import ArrayDataset
from .checks import check_labels, os_error

_RECORD = 1 + 3 * 32 * 32


def read_cifar_batch(path, num_classes: int = 10):
    """``(images, labels)`` of one CIFAR-10 binary batch file: uint8 ``(N, 32, 32, 3)`` and
    int64 ``(N,)``; whole 3073-byte records only, labels checked against ``num_classes``."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = numpy.frombuffer(f.read(), dtype=numpy.uint8)
    except OSError as e:
        raise os_error(path, e, "CIFAR batch") from None
    if raw.size == 0 or raw.size % _RECORD:
        raise DataError(f"{path}: {raw.size} bytes is not a whole number of {_RECORD}-byte "
                        f"CIFAR records (truncated or not a CIFAR-10 binary batch)")
    records = raw.reshape(-1, _RECORD)
    labels = records[:, 0].astype(numpy.int64)
    check_labels(labels, num_classes, path)
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return numpy.ascontiguousarray(images), labels


class CIFAR10(ArrayDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images of 10 classes, 32x32.

    Args:
        root: data folder (see the module docstring for the layout).
        train: the training split (the five data batches) or the test batch.
        transform: applied to each uint8 ``(32, 32, 3)`` image (``batch`` on the fast path);
            default ``ToTensor()``; None gives uint8 tensors.
        target_transform: applied to each label (a Python int).
        download: fetch and MD5-check the archive from ``mirrors`` and extract it (safely).
        mirrors: base URLs tried in order (default: the University of Toronto's page).
        connect_timeout, stall_timeout, deadline: limits of a download in seconds: the wait for a
            connection, for the next bytes, and for each file's whole download (None: no limit); see
            :func:`trainctl.data.download.download_file`.

    Example:
        >>> ds = CIFAR10("data/cifar", train=False, download=True)  # doctest: +SKIP
        >>> ds[0][0].shape  # doctest: +SKIP
        trainctl.Size([3, 32, 32])
    """

    mirrors = ["https://www.cs.toronto.edu/~kriz/"]
    filename = "cifar-10-binary.tar.gz"
    md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    base_folder = "cifar-10-batches-bin"
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]
    sample_shape = (3, 32, 32)
    num_classes = 10
    int_targets = True

    def __init__(self, root, train: bool = True, transform=TO_TENSOR, target_transform=None,
                 download: bool = False, mirrors=None, connect_timeout: float = 30.0,
                 stall_timeout: float = 60.0, deadline: float | None = None):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        if download:
            self.download(mirrors, connect_timeout=connect_timeout,
                          stall_timeout=stall_timeout, deadline=deadline)
        elif self._missing() and os.path.isfile(self.archive):
            extract_tar(self.archive, self.root)  # the user put the archive there
        missing = self._missing()
        if missing:
            raise DataError(
                f"{type(self).__name__}: missing {', '.join(missing)} in {self.folder}{os.sep}. "
                f"Put {self.filename} (the binary version) in {self.root}{os.sep} or its extracted "
                f"files in {self.folder}{os.sep}, or pass download=True (download: true in a "
                f"config) to fetch it from {mirror_list(mirrors, self.mirrors)[0]}"
            )
        images, labels = [], []
        for name in self.train_list if train else self.test_list:
            x, y = self._read(os.path.join(self.folder, name))
            images.append(x)
            labels.append(y)
        self.classes = list(type(self).classes)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        super().__init__(numpy.concatenate(images), numpy.concatenate(labels), transform,
                         target_transform)

    @property
    def folder(self) -> str:
        return os.path.join(self.root, self.base_folder)

    @property
    def archive(self) -> str:
        return os.path.join(self.root, self.filename)

    def _missing(self) -> list[str]:
        names = self.train_list if self.train else self.test_list
        return [n for n in names if not os.path.isfile(os.path.join(self.folder, n))]

    def _read(self, path: str):
        return read_cifar_batch(path, len(self.classes))

    def download(self, mirrors=None, **limits) -> None:
        """Fetch (MD5-checked) and extract the archive unless the batch files are all there.

        ``limits``: ``connect_timeout``, ``stall_timeout``, ``deadline`` of ``download_file``.
        """
        if not self._missing():
            return
        urls = [m.rstrip("/") + "/" + self.filename for m in mirror_list(mirrors, self.mirrors)]
        download_file(urls, self.archive, md5=self.md5, **limits)
        extract_tar(self.archive, self.root)
