"""Hostile IDX files, CIFAR batches and archives: a valid dataset or one DataError naming the file.

Gzip bombs, headers whose dimensions do not match the data, labels out of range, image and label
counts that differ, truncated batches, and archives with ``..`` paths, links or huge headers.
"""

import gzip
import io
import os
import struct
import tarfile
import time

import numpy
import pytest

import trainctl as tc
from tests.data.helpers import cifar_records, gzip_bomb, idx_bytes, tar_gz, write
from trainctl.data import CIFAR10, MNIST
from trainctl.data.datasets import read_idx
from trainctl.data.download import extract_tar

# ----------------------------------------------------------------------------- IDX


def test_idx_gzip_bomb_reads_only_what_the_header_declares(tmp_path):
    header = struct.pack(">BBBBIII", 0, 0, 8, 3, 10, 28, 28)
    bomb = write(str(tmp_path / "bomb-idx3-ubyte.gz"), gzip_bomb(header, 1900))
    assert os.path.getsize(bomb) < 2_100_000  # 1.9 GiB of zeros from 2 MB of gzip
    start = time.monotonic()
    with pytest.raises(tc.DataError, match=r"size mismatch: shape \(10, 28, 28\) needs 7840 bytes "
                                           r"of data, the file has more"):
        read_idx(bomb)
    # it stopped reading after 7841 bytes (all 1.9 GiB would take several seconds)
    assert time.monotonic() - start < 2


def test_idx_declared_dims_against_the_data(tmp_path):
    huge = struct.pack(">BBBBIII", 0, 0, 8, 3, 60000, 60000, 60000)
    gz = write(str(tmp_path / "h.gz"), gzip.compress(huge + b"\0" * 100))
    with pytest.raises(tc.DataError, match=r"needs 216000000000000 bytes of data, more than a \d+"
                                           r"-byte gzip file can hold"):
        read_idx(gz)
    plain = write(str(tmp_path / "h"), huge + b"\0" * 100)
    with pytest.raises(tc.DataError, match="needs 216000000000000 bytes of data, the file has 100"):
        read_idx(plain)
    short = write(str(tmp_path / "s.gz"), gzip.compress(idx_bytes(numpy.ones((2, 3), "u1")))[:-12])
    with pytest.raises(tc.DataError, match=r"s\.gz: truncated or corrupt gzip data"):
        read_idx(short)
    with pytest.raises(tc.DataError, match=r"n\.gz: not a valid gzip file"):
        read_idx(write(str(tmp_path / "n.gz"), idx_bytes(numpy.ones(3, "u1"))))
    with pytest.raises(tc.DataError, match=r"t: truncated IDX header \(3 dimensions declared\)"):
        read_idx(write(str(tmp_path / "t"), b"\0\0\x08\x03\0\0\0\x01"))
    with pytest.raises(tc.DataError, match="is a folder"):
        read_idx(tmp_path)
    empty = write(str(tmp_path / "e"), struct.pack(">BBBBIII", 0, 0, 8, 3, 0, 2**32 - 1, 2**32 - 1))
    with pytest.raises(tc.DataError, match=r"IDX shape \(0, 4294967295, 4294967295\) is beyond"):
        read_idx(empty)


def _mnist(tmp_path, images, labels):
    raw = tmp_path / "MNIST" / "raw"
    write(str(raw / "t10k-images-idx3-ubyte"), idx_bytes(images))
    data = labels if isinstance(labels, bytes) else idx_bytes(labels)
    write(str(raw / "t10k-labels-idx1-ubyte.gz"), gzip.compress(data))
    return raw


def test_mnist_labels_counts_and_types(tmp_path, deny):
    images = numpy.zeros((5, 28, 28), numpy.uint8)
    raw = _mnist(tmp_path, images, numpy.array([1, 2, 3, 200, 4], numpy.uint8))
    with pytest.raises(tc.DataError, match=r"t10k-labels-idx1-ubyte\.gz: record 3: label 200 is "
                                           r"out of range for 10 classes \(0\.\.9\)"):
        MNIST(tmp_path, train=False)
    _mnist(tmp_path, images, numpy.array([1, 2, 3, 4], numpy.uint8))
    with pytest.raises(tc.DataError, match=r"t10k-images-idx3-ubyte holds 5 images but .*"
                                           r"t10k-labels-idx1-ubyte\.gz holds 4 labels"):
        MNIST(tmp_path, train=False)
    _mnist(tmp_path, images, struct.pack(">BBBBI", 0, 0, 0x0C, 1, 5) + bytes(20))  # 5 int32
    with pytest.raises(tc.DataError, match="expected a 1-D IDX file of unsigned bytes .*int32"):
        MNIST(tmp_path, train=False)
    _mnist(tmp_path, images, numpy.array([1, 2, 3, 9, 0], numpy.uint8))
    assert MNIST(tmp_path, train=False).targets.tolist() == [1, 2, 3, 9, 0]
    deny(str(raw / "t10k-images-idx3-ubyte"))
    with pytest.raises(tc.DataError, match="t10k-images-idx3-ubyte: permission denied"):
        MNIST(tmp_path, train=False)


# ----------------------------------------------------------------------------- CIFAR-10


def _batch(tmp_path, data):
    return write(str(tmp_path / "cifar-10-batches-bin" / "test_batch.bin"), data)


def test_cifar_batches(tmp_path, deny):
    data, _, labels = cifar_records(4, 0)
    bad = bytearray(data)
    bad[2 * 3073] = 10
    _batch(tmp_path, bytes(bad))
    with pytest.raises(tc.DataError, match=r"test_batch\.bin: record 2: label 10 is out of range "
                                           r"for 10 classes \(0\.\.9\)"):
        CIFAR10(tmp_path, train=False)
    _batch(tmp_path, b"")
    with pytest.raises(tc.DataError, match="0 bytes is not a whole number of 3073-byte"):
        CIFAR10(tmp_path, train=False)
    _batch(tmp_path, data[:-1])
    with pytest.raises(tc.DataError, match="12291 bytes is not a whole number .*truncated"):
        CIFAR10(tmp_path, train=False)
    path = _batch(tmp_path, data)
    assert CIFAR10(tmp_path, train=False).targets.tolist() == labels.tolist()
    deny(path)
    with pytest.raises(tc.DataError, match=r"test_batch\.bin: permission denied"):
        CIFAR10(tmp_path, train=False)


def _tar(members):
    """A tar.gz of (TarInfo, bytes or None) pairs."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, None if data is None else io.BytesIO(data))
    return buf.getvalue()


def _link(name, target, kind):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


@pytest.mark.parametrize("member,why", [
    ((tarfile.TarInfo("../escaped.bin"), b"bad"), "a path with '..'"),
    ((tarfile.TarInfo("cifar-10-batches-bin/../../escaped.bin"), b"bad"), "a path with '..'"),
    (_link("cifar-10-batches-bin/test_batch.bin", "/etc/passwd", tarfile.SYMTYPE), "a link"),
    (_link("cifar-10-batches-bin/test_batch.bin", "../../escaped.bin", tarfile.LNKTYPE),
     "a link"),
    (_link("cifar-10-batches-bin", "/tmp", tarfile.SYMTYPE), "a link"),
])
def test_cifar_archive_put_by_hand_is_extracted_safely(tmp_path, member, why):
    root = tmp_path / "root"
    data, _, _ = cifar_records(2, 0)
    ok = (tarfile.TarInfo("cifar-10-batches-bin/data_batch_1.bin"), data)
    write(str(root / "cifar-10-binary.tar.gz"), _tar([ok, member]))
    with pytest.raises(tc.DataError, match=f"cifar-10-binary.tar.gz: refusing to extract .*{why}"):
        CIFAR10(root, train=False)
    # nothing was written: the whole archive is checked before the first member is extracted
    assert sorted(os.listdir(root)) == ["cifar-10-binary.tar.gz"]
    assert not (tmp_path / "escaped.bin").exists()


def test_cifar_archive_that_is_not_a_tar(tmp_path):
    write(str(tmp_path / "cifar-10-binary.tar.gz"), tar_gz({"a": b"x" * 100})[:40])
    with pytest.raises(tc.DataError, match="cifar-10-binary.tar.gz: cannot extract"):
        CIFAR10(tmp_path, train=False)


def _tar_header(name: bytes, size: int, kind: bytes) -> bytes:
    """One ustar header block with a correct checksum (what tarfile will not write for us)."""
    block = bytearray(512)
    block[:len(name)] = name
    block[100:108] = b"0000644\0"
    block[124:136] = b"%011o\0" % size
    block[148:156] = b" " * 8
    block[156:157] = kind
    block[257:265] = b"ustar\x0000"
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def test_tar_header_declaring_a_huge_name_is_refused_without_allocating(tmp_path):
    # a GNU long-name header of 8 GiB: tarfile would read (allocate) it whole
    data = _tar_header(b"././@LongLink", 8**11 - 1, b"L") + bytes(1024)
    archive = write(str(tmp_path / "a.tar"), data)
    tracemalloc_peak = _peak(lambda: pytest.raises(tc.DataError, extract_tar, archive,
                                                   str(tmp_path / "out")))
    assert tracemalloc_peak < 1 << 20
    with pytest.raises(tc.DataError, match=r"a\.tar: cannot extract: a tar header declares "
                                           r"8589934592 bytes of names or extended headers"):
        extract_tar(archive, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def _peak(call) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
