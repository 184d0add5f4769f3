"""Fuzzing the file readers: any bytes end in a valid result or a DataError, in bounded time/memory.

Each reader (CSV, .npy, .npz, IDX plain and gzip, MNIST's file pair, a CIFAR batch, a tar archive)
gets random bytes and mutations of a valid file: bytes flipped or set, runs inserted, deleted or
cut off, and header fields (lengths, dimensions, sizes) overwritten with chosen or random
integers. Every call runs under ``tracemalloc`` (numpy reports its buffers to it) with a time and
a memory limit. Two crafted bombs are measured in a fresh interpreter with ``ru_maxrss``.

The settings are the suite's (``tests.fuzzing.FUZZ``): 60 fixed examples per test by default, a
long session with fresh ones is, for example::

    TRAINCTL_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/data -k fuzz
"""

import gzip
import io
import os
import struct
import subprocess
import sys
import tarfile
import textwrap
import zipfile

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import trainctl as tc
from tests.data.helpers import cifar_records, gzip_bomb, idx_bytes, npy_bytes, write, zip_bytes
from tests.fuzzing import FUZZ
from tests.fuzzing import survive as fuzz_survive
from trainctl.data import CIFAR10, MNIST, CSVDataset, NPZDataset
from trainctl.data.datasets import read_idx, read_npy, read_npz
from trainctl.data.download import extract_tar


def survive(call, size: int):
    """``tests.fuzzing.survive`` for readers: only a DataError will do, and the memory limit
    follows the input: 16 MiB plus 1100 times its size (a deflated input may legitimately
    inflate by up to 1032:1)."""
    return fuzz_survive(call, tc.DataError, (16 << 20) + 1100 * size)


INTS = st.sampled_from([0, 1, 2, 3, 10, 255, 256, 3072, 60000, 2**16 - 1, 2**31 - 1, 2**32 - 1])


@st.composite
def mutated(draw, seed: bytes, fields=()):
    """``seed`` with one to four mutations; ``fields`` are ``(offset, struct format)`` of its
    header fields, overwritten with interesting or random integers."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        ops = ["flip", "set", "cut", "insert", "delete", "word"] + (["field"] * 3 if fields else [])
        op = draw(st.sampled_from(ops))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[i] ^= draw(st.integers(1, 255))
        elif op == "set" and data:
            data[i] = draw(st.sampled_from([0, 1, 9, 10, 0x7F, 0x80, 0xFF]) | st.integers(0, 255))
        elif op == "cut":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=32))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 32))]
        elif op == "word":
            fmt = draw(st.sampled_from(["<I", ">I", "<H"]))
            size = struct.calcsize(fmt)
            data[i:i + size] = struct.pack(fmt, draw(INTS) % 256**size)
        elif op == "field":
            at, fmt = draw(st.sampled_from(fields))
            value = draw(INTS | st.integers(0, 2**32 - 1)) % 256 ** struct.calcsize(fmt)
            data[at:at + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return bytes(data)


# ----------------------------------------------------------------------------- CSV

CSV_SEEDS = {True: b"a,b,y\n1.5,2,cat\n-3,4e2,dog\n5,6,cat\n7,8,\"b,ird\"\n",
             False: b"1.5,2,0\n-3,4e2,1\n5,6,0\n7,8,2\n"}
CSV_TOKENS = [b"nan", b"inf", b"-Infinity", b"1e39", b'"', b",", b"\n", b"\r", b"\x00", b"\xff",
              b"\xef\xbb\xbf", b"  ", b'""', b"1" * 300]


@st.composite
def csv_case(draw):
    """``(bytes, header)``: random bytes or text, or a valid table mutated or with tokens."""
    header = draw(st.booleans())
    kind = draw(st.sampled_from(["random", "text", "mutated", "tokens"]))
    if kind == "random":
        return draw(st.binary(max_size=512)), header
    if kind == "text":
        return draw(st.text(alphabet='0123456789.,-e"\n\r abnaifxy', max_size=300)).encode(), header
    if kind == "mutated":
        return draw(mutated(CSV_SEEDS[header])), header
    data = bytearray(CSV_SEEDS[header])
    for token in draw(st.lists(st.sampled_from(CSV_TOKENS), max_size=3)):
        i = draw(st.integers(0, len(data)))
        data[i:i] = token
    return bytes(data), header


@FUZZ
@given(case=csv_case(),
       task=st.sampled_from(["classification", "binary", "regression", "multilabel"]))
def test_fuzz_csv(tmp_path, case, task):
    data, header = case
    path = write(str(tmp_path / "f.csv"), data)
    ds = survive(lambda: CSVDataset(path, target="y" if header else -1, header=header,
                                    task=task, standardize=header,
                                    standardize_target=task == "regression"), len(data))
    if ds is not None:
        assert numpy.isfinite(ds.data).all() and ds.data.dtype == numpy.float32
        if task == "classification":
            assert 0 <= ds.targets.min() and ds.targets.max() < ds.num_classes
        elif task == "binary":
            assert ds.targets.shape == (len(ds), 1) and set(ds.targets.ravel()) <= {0.0, 1.0}
        else:
            assert numpy.isfinite(ds.targets).all()
        state = ds.preprocessing_state()  # reading the same file again gives the same rows
        again = survive(lambda: CSVDataset.from_state(path, state, require_target=True),
                        len(data))
        assert again is not None and numpy.array_equal(again.data, ds.data)
        assert numpy.array_equal(again.targets, ds.targets)


# ----------------------------------------------------------------------------- NPY / NPZ

NPY_SEED = npy_bytes(numpy.arange(24.0).reshape(4, 6))
DESCRS = ["<f8", ">f4", "|u1", "<i8", "|b1", "|O", "<U3", "<c16", "<V0", "(2,)<i4", "<M8[s]",
          "|S0", "<f2", "junk", "[('a', '<i4')]"]


@st.composite
def npy_stream(draw):
    kind = draw(st.sampled_from(["random", "mutated", "header"]))
    if kind == "random":
        return draw(st.binary(max_size=512))
    if kind == "mutated":  # 8: the header length; the dict follows at 10
        return draw(mutated(NPY_SEED, [(8, "<H"), (6, "<H")]))
    shape = draw(st.lists(INTS | st.integers(-3, 10**12), max_size=4).map(tuple))
    descr = draw(st.sampled_from(DESCRS))
    fortran = draw(st.sampled_from(["False", "True", "0", "None"]))
    descr = descr if descr.startswith("[") else repr(descr)
    header = f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape!r}, }}"
    return npy_bytes(header=header, data=draw(st.binary(max_size=256)),
                     version=draw(st.sampled_from([1, 2])))


@FUZZ
@given(data=npy_stream())
def test_fuzz_npy(tmp_path, data):
    path = write(str(tmp_path / "a.npy"), data)
    array = survive(lambda: read_npy(path), len(data))
    if array is not None:
        assert array.dtype.kind in "biuf" and array.dtype.isnative


def _zip_fields(blob: bytes):
    """Offsets of the size fields of every local and central header and of the end record."""
    fields = []
    for sig, sizes in ((b"PK\x03\x04", (18, 22, 26, 28)), (b"PK\x01\x02", (20, 24, 28, 42)),
                       (b"PK\x05\x06", (8, 10, 12, 16))):
        at = blob.find(sig)
        while at >= 0:
            fields += [(at + s, "<I" if s in (18, 22, 12, 16, 20, 24, 42) else "<H")
                       for s in sizes]
            at = blob.find(sig, at + 1)
    return fields


NPZ_SEEDS = [zip_bytes({"x.npy": npy_bytes(numpy.arange(12.0).reshape(4, 3)),
                        "y.npy": npy_bytes(numpy.array([0, 2, 1, 2]))}, compression)
             for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)]


@st.composite
def npz_bytes(draw):
    kind = draw(st.sampled_from(["random", "archive", "member"]))
    if kind == "random":
        return draw(st.binary(max_size=512))
    if kind == "archive":
        seed = draw(st.sampled_from(NPZ_SEEDS))
        return draw(mutated(seed, _zip_fields(seed)))
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    return zip_bytes({"x.npy": draw(npy_stream()), "y.npy": npy_bytes(numpy.arange(4))},
                     compression)


@FUZZ
@given(data=npz_bytes(), num_classes=st.none() | st.integers(1, 5))
def test_fuzz_npz(tmp_path, data, num_classes):
    path = write(str(tmp_path / "d.npz"), data)
    ds = survive(lambda: NPZDataset(path, num_classes=num_classes), len(data))
    if ds is not None:
        if ds.data.dtype.kind == "f":
            assert numpy.isfinite(ds.data).all()
        if num_classes is not None:
            assert 0 <= ds.targets.min() and ds.targets.max() < num_classes
    survive(lambda: read_npz(path), len(data))


# ----------------------------------------------------------------------------- IDX

IDX_SEED = idx_bytes(numpy.arange(60, dtype=numpy.uint8).reshape(3, 4, 5))
IDX_FIELDS = [(2, "B"), (3, "B"), (4, ">I"), (8, ">I"), (12, ">I")]


@st.composite
def idx_plain(draw):
    kind = draw(st.sampled_from(["random", "magic", "mutated"]))
    if kind == "random":
        return draw(st.binary(max_size=512))
    if kind == "magic":  # a valid magic number, then anything
        head = bytes([0, 0, draw(st.sampled_from([8, 9, 11, 12, 13, 14])), draw(st.integers(0, 5))])
        return head + draw(st.binary(max_size=256))
    return draw(mutated(IDX_SEED, IDX_FIELDS))


@FUZZ
@given(data=idx_plain())
def test_fuzz_idx_plain(tmp_path, data):
    path = write(str(tmp_path / "a-idx3-ubyte"), data)
    survive(lambda: read_idx(path), len(data))


@st.composite
def idx_gz(draw):
    if draw(st.booleans()):  # a mutated IDX, compressed: the header reaches the reader
        return gzip.compress(draw(idx_plain()), mtime=0)
    return draw(mutated(gzip.compress(IDX_SEED, mtime=0), [(4, "<I")]))  # the gzip itself


@FUZZ
@given(data=idx_gz())
def test_fuzz_idx_gz(tmp_path, data):
    path = write(str(tmp_path / "a-idx3-ubyte.gz"), data)
    survive(lambda: read_idx(path), len(data))


MNIST_SEEDS = {
    "t10k-images-idx3-ubyte": idx_bytes(numpy.zeros((4, 28, 28), numpy.uint8)),
    "t10k-labels-idx1-ubyte": idx_bytes(numpy.array([0, 9, 3, 1], numpy.uint8)),
}


@FUZZ
@given(which=st.sampled_from(sorted(MNIST_SEEDS)), gz=st.booleans(), data=st.data())
def test_fuzz_mnist_pair(tmp_path, which, gz, data):
    raw = tmp_path / "MNIST" / "raw"
    for name in os.listdir(raw) if raw.exists() else []:
        os.remove(raw / name)
    for name, seed in MNIST_SEEDS.items():
        write(str(raw / name), seed)
    blob = data.draw(mutated(MNIST_SEEDS[which], IDX_FIELDS[:3]))
    os.remove(raw / which)
    write(str(raw / (which + ".gz" if gz else which)), gzip.compress(blob) if gz else blob)
    ds = survive(lambda: MNIST(tmp_path, train=False, transform=None), len(blob))
    if ds is not None:
        assert len(ds.data) == len(ds.targets) and ds.targets.max() < 10


# ----------------------------------------------------------------------------- CIFAR, tar

CIFAR_SEED = cifar_records(3, 0)[0]


@FUZZ
@given(data=st.binary(max_size=4000) | mutated(CIFAR_SEED, [(0, "B"), (3073, "B"), (6146, "B")]))
def test_fuzz_cifar_batch(tmp_path, data):
    write(str(tmp_path / "cifar-10-batches-bin" / "test_batch.bin"), data)
    ds = survive(lambda: CIFAR10(tmp_path, train=False, transform=None), len(data))
    if ds is not None:
        assert len(ds) * 3073 == len(data) and ds.targets.max() < 10


def _tar_seed() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, body in (("d/a.bin", b"abc" * 50), ("b.txt", b"hello")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


TAR_SEED = _tar_seed()
# name, mode, size, type flag and link name of the first two headers (512-byte blocks)
TAR_FIELDS = [(at + off, fmt) for at in (0, 1024) for off, fmt in
              ((0, "<I"), (100, "<I"), (124, "<I"), (128, "<I"), (156, "B"), (157, "<I"))]


@FUZZ
@given(data=st.binary(max_size=2048) | mutated(TAR_SEED, TAR_FIELDS))
def test_fuzz_tar_extraction_stays_inside(tmp_path, data):
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    archive = write(str(outside / "a.tar"), data)
    dest = outside / "dest"
    survive(lambda: extract_tar(archive, str(dest)), len(data))
    assert sorted(os.listdir(outside)) in (["a.tar"], ["a.tar", "dest"])
    for folder, _, files in os.walk(dest):
        for f in files:
            assert not os.path.islink(os.path.join(folder, f))
    if dest.exists():
        import shutil

        shutil.rmtree(dest)


# ----------------------------------------------------------------------------- bombs


def _peak_growth_mib(setup: str, call: str) -> float:
    """The growth of the peak RSS (MiB) of a fresh interpreter while it runs ``call``."""
    code = textwrap.dedent(f"""
        import resource
        import trainctl as tc
        from trainctl.data.datasets import read_idx, read_npz
        {setup}
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            {call}
            print("NO ERROR")
        except tc.DataError as e:
            print("DataError:", e)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print("GROWTH_KIB", after - before)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=os.getcwd())
    assert out.returncode == 0, out.stderr
    assert "DataError:" in out.stdout, out.stdout
    return int(out.stdout.split("GROWTH_KIB")[1]) / 1024


@pytest.mark.parametrize("dims", [(10, 28, 28), (2**31, 28, 28)])
def test_gzip_bomb_idx_costs_no_memory(tmp_path, dims):
    # 1 GiB of zeros behind the header, in about 1 MB of gzip: the reader reads 7841 bytes
    # (or, for the header declaring 1.7 TB, nothing) and refuses
    path = write(str(tmp_path / "bomb-idx3-ubyte.gz"),
                 gzip_bomb(struct.pack(">BBBBIII", 0, 0, 8, 3, *dims), 1024))
    growth = _peak_growth_mib(f"path = {path!r}", "read_idx(path)")
    assert growth < 16, f"{growth:.0f} MiB"


def test_npz_huge_declared_shapes_cost_no_memory(tmp_path):
    huge = npy_bytes(header="{'descr': '<f8', 'fortran_order': False, 'shape': (2**40,), }")
    stored = write(str(tmp_path / "a.npz"), zip_bytes({"x.npy": huge + bytes(64)}))
    deflated = zip_bytes({"x.npy": npy_bytes(numpy.zeros(100_000))}, zipfile.ZIP_DEFLATED)
    blob = bytearray(deflated)  # claim 4 GB uncompressed
    for sig, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        i = blob.index(sig)
        blob[i + at:i + at + 4] = struct.pack("<I", 4 * 10**9)
    lying = write(str(tmp_path / "b.npz"), bytes(blob))
    for path in (stored, lying):
        growth = _peak_growth_mib(f"path = {path!r}", "read_npz(path)")
        assert growth < 16, f"{path}: {growth:.0f} MiB"
