"""Hostile CSV and .npy/.npz files: a valid dataset or one DataError naming the file and place.

Unreadable paths, wrong encodings, ragged rows, sizes that do not match their headers, object
arrays (never unpickled), NaN/inf (refused unless ``allow_nonfinite=True``), labels out of range.
"""

import struct
import zipfile

import numpy
import pytest

import trainctl as tc
from tests.data.helpers import npy_bytes, write, zip_bytes
from trainctl.data import CSVDataset, NPZDataset
from trainctl.data.datasets import read_npy, read_npz

# ----------------------------------------------------------------------------- CSV


def _csv(tmp_path, data, name="t.csv"):
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)


def test_csv_unreadable_paths(tmp_path, deny):
    with pytest.raises(tc.DataError, match=r"^.*: is a folder, expected a CSV file$"):
        CSVDataset(tmp_path, target="y")
    path = deny(_csv(tmp_path, "a,y\n1,p\n"))
    with pytest.raises(tc.DataError, match=r"t\.csv: permission denied"):
        CSVDataset(path, target="y")


@pytest.mark.parametrize("data,match", [
    (b"a,y\n1,p\n\xff\xfe,q\n", r"t\.csv:3: not UTF-8 text \(byte 0xff at offset 8\); save"),
    (b"", r"t\.csv: the file is empty"),
    (b"\n  \n\n", r"t\.csv: the file is empty"),
    (b",,\n , \n", r"t\.csv: the file is empty"),
    (b"a,y\n", r"t\.csv: no data rows"),
    (b"a,y\n1,p\n2,q,3\n", r"t\.csv:3: malformed row: 3 fields, expected 2"),
    (b'a,y\n1,"p\n', r"t\.csv:\d+: malformed CSV"),
    (b"a,y\n" + b"1" * 200 + b"x,p\n", r"t\.csv:2: column 'a' \(1\): '1111.*\.\.\.' is not a num"),
])
def test_csv_bad_files_name_file_and_line(tmp_path, data, match):
    with pytest.raises(tc.DataError, match=match) as e:
        CSVDataset(_csv(tmp_path, data), target="y")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-Infinity", "1e39"])
def test_csv_nonfinite_features_and_targets(tmp_path, cell):
    text = f"a,b,y\n1,2,3\n4,{cell},5\n"
    path = _csv(tmp_path, text)
    hint = r"is not a finite float32 number \(pass allow_nonfinite=True to keep NaN/inf values\)"
    with pytest.raises(tc.DataError, match=rf"t\.csv:3: column 'b' \(2\): '{cell}' {hint}"):
        CSVDataset(path, target="y")
    with pytest.raises(tc.DataError, match=rf"t\.csv:3: column 'b' \(2\): '{cell}' {hint}"):
        CSVDataset(path, target="b", task="regression")
    ds = CSVDataset(path, target="y", allow_nonfinite=True)
    assert not numpy.isfinite(ds.data[1, 1]) and numpy.isfinite(ds.data[0]).all()
    reg = CSVDataset(path, target="b", task="regression", allow_nonfinite=True)
    assert not numpy.isfinite(reg.targets[1, 0])


def test_csv_nonfinite_numeric_class_labels(tmp_path):
    path = _csv(tmp_path, "a,y\n1,0\n2,nan\n3,1\n")
    with pytest.raises(tc.DataError, match=r"t\.csv:3: column 'y' \(2\): label 'nan' is not a fin"):
        CSVDataset(path, target="y")
    assert CSVDataset(path, target="y", allow_nonfinite=True).num_classes == 3
    # a word label "nan" among words is just a class name
    assert CSVDataset(_csv(tmp_path, "a,y\n1,cat\n2,nan\n"), target="y").classes == ["cat", "nan"]


def test_csv_labels_are_in_range_and_classes_checked(tmp_path):
    ds = CSVDataset(_csv(tmp_path, "a,y\n1,b\n2,a\n3,c\n"), target="y")
    assert ds.targets.min() >= 0 and ds.targets.max() < ds.num_classes == 3
    with pytest.raises(tc.DataError, match="duplicates"):
        CSVDataset(_csv(tmp_path, "a,y\n1,b\n"), target="y", classes=["b", "b"])
    many = [str(i) for i in range(100)]
    with pytest.raises(tc.DataError, match=r"t\.csv:2: .*'x' is not one of .*\(and 90 more\)"):
        CSVDataset(_csv(tmp_path, "a,y\n1,x\n"), target="y", classes=many)


def test_csv_standardisation_guards(tmp_path):
    path = _csv(tmp_path, "a,y\n1,p\n3,q\n")
    with pytest.raises(tc.DataError, match="finite with std > 0"):
        CSVDataset(path, target="y", standardize=True, stats={"mean": [0.0], "std": [0.0]})
    with pytest.raises(tc.DataError, match="must be \\{'mean'"):
        CSVDataset(path, target="y", standardize=True, stats=[1, 2])
    big = CSVDataset(_csv(tmp_path, "a,y\n-3e38,p\n3e38,q\n"), target="y", standardize=True)
    assert numpy.isfinite(big.data).all()  # no float32 overflow in (x - mean)
    with pytest.raises(tc.DataError, match="delimiter must be one character"):
        CSVDataset(path, target="y", delimiter=";;")


# ----------------------------------------------------------------------------- NPY / NPZ


def _npz(tmp_path, members, name="d.npz", compression=zipfile.ZIP_STORED):
    return write(str(tmp_path / name), zip_bytes(members, compression))


def _patch_sizes(blob: bytes, size: int) -> bytes:
    """The zip ``blob`` with the one member's uncompressed size set to ``size`` everywhere."""
    blob = bytearray(blob)
    for sig, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        i = blob.index(sig)
        blob[i + at:i + at + 4] = struct.pack("<I", size)
    return bytes(blob)


HUGE = "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1048576), }"


def test_npy_reader_round_trips_what_numpy_saves(tmp_path):
    for a in (numpy.arange(12.0).reshape(3, 4), numpy.asfortranarray(numpy.ones((2, 3))),
              numpy.arange(5, dtype=">i4"), numpy.array([True, False]), numpy.float32(2.5)):
        got = read_npy(write(str(tmp_path / "a.npy"), npy_bytes(a)))
        assert got.dtype == a.dtype.newbyteorder("=") and numpy.array_equal(got, a)
        assert got.flags.writeable


@pytest.mark.parametrize("data,match", [
    (npy_bytes(header=HUGE, data=b"\0" * 16), r"declares shape \(1099511627776, 1048576\) of "
     r"float64 \(9223372036854775808 bytes\) but 16 bytes of data follow"),
    (npy_bytes(numpy.arange(4.0))[:-1], r"float64 \(32 bytes\) but 31 bytes of data follow"),
    (npy_bytes(numpy.arange(4.0)) + b"\0", r"but 33 bytes of data follow"),
    (npy_bytes(numpy.array([{"a": 1}], dtype=object)), "is an object array, which needs pickle"),
    (npy_bytes(numpy.array(["ab"])), "dtype <U2 is not supported"),
    (npy_bytes(numpy.zeros(2, complex)), "dtype complex128 is not supported"),
    (npy_bytes(header="{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }"),
     r"not a valid \.npy header \(shape \(-2,\)\)"),
    (npy_bytes(header="{'descr': '<f8', 'shape': (2,), }"), "expected a dict of descr, fortran_"),
    (npy_bytes(header="{'descr': 'junk', 'fortran_order': False, 'shape': (2,), }"),
     r"not a valid \.npy header \(dtype 'junk'\)"),
    (npy_bytes(header="(" * 5000), "not a valid .npy header"),
    (npy_bytes(header="{" + "1: 2, " * 2000 + "}"), r"\.npy header of 12\d+ bytes \(at most 10000"),
    (npy_bytes(header="{'descr': '<f8', 'fortran_order': 0, 'shape': (2,), }"),
     "fortran_order 0"),
    (npy_bytes(header="{'descr': '<f8', 'fortran_order': False, "
                      "'shape': (0, 4611686018427387904, 4), }"),
     r"shape \(0, 4611686018427387904, 4\) is beyond numpy's limits"),
    (b"\x93NUMPY\x03\x00" + b"\0" * 20, r"format version 3\.0 is not supported"),
    (b"\x93NUMPY\x01\x00\xff\x00{'descr'", r"truncated \.npy header"),
    (b"hello", r"not a \.npy array \(bad magic 68656c6c6f\)"),
    (b"", r"not a \.npy array \(bad magic empty\)"),
])
def test_npy_reader_refuses_bad_files_before_allocating(tmp_path, data, match):
    path = write(str(tmp_path / "a.npy"), data)
    with pytest.raises(tc.DataError, match=match) as e:
        read_npy(path)
    assert str(e.value).startswith(path) and "\n" not in str(e.value)


def test_npz_damaged_archives(tmp_path, deny):
    good = zip_bytes({"x.npy": npy_bytes(numpy.arange(40.0)), "y.npy": npy_bytes(numpy.arange(40))})
    half = write(str(tmp_path / "half.npz"), good[: len(good) // 2])
    with pytest.raises(tc.DataError, match=r"half\.npz: not a readable \.npz file"):
        NPZDataset(half)
    flipped = bytearray(good)
    flipped[good.index(b"\x93NUMPY") + 200] ^= 0xFF  # a data byte of x: the CRC catches it
    with pytest.raises(tc.DataError, match=r"flip\.npz: array 'x': corrupt member \(Bad CRC-32"):
        NPZDataset(write(str(tmp_path / "flip.npz"), bytes(flipped)))
    with pytest.raises(tc.DataError, match="is a folder, expected a NPZ file"):
        NPZDataset(tmp_path)
    with pytest.raises(tc.DataError, match=r"d\.npz: permission denied"):
        NPZDataset(deny(write(str(tmp_path / "d.npz"), good)))
    single = write(str(tmp_path / "one.npz"), npy_bytes(numpy.arange(3)))
    with pytest.raises(tc.DataError, match="expected an .npz archive of named arrays, got a si"):
        NPZDataset(single)


def test_npz_member_sizes_are_checked_before_reading(tmp_path):
    huge = _npz(tmp_path, {"x.npy": npy_bytes(header=HUGE, data=b"\0" * 16)})
    with pytest.raises(tc.DataError, match=r"array 'x': the header declares shape \(10995"):
        NPZDataset(huge, y_key=None)
    stored = zip_bytes({"x.npy": npy_bytes(numpy.arange(4.0))})
    lie = write(str(tmp_path / "lie.npz"), _patch_sizes(stored, 10**9))
    with pytest.raises(tc.DataError, match="stored member declares 1000000000 bytes but holds"):
        NPZDataset(lie, y_key=None)
    deflated = zip_bytes({"x.npy": npy_bytes(numpy.zeros(1000))}, zipfile.ZIP_DEFLATED)
    bomb = write(str(tmp_path / "bomb.npz"), _patch_sizes(deflated, 4 * 10**9))
    with pytest.raises(tc.DataError, match=r"declares 4000000000 bytes, more than its \d+ compr"):
        NPZDataset(bomb, y_key=None)
    bz = _npz(tmp_path, {"x.npy": npy_bytes(numpy.zeros(3))}, compression=zipfile.ZIP_BZIP2)
    with pytest.raises(tc.DataError, match="compression method 12 is not supported"):
        NPZDataset(bz, y_key=None)
    ok = _npz(tmp_path, {"x.npy": npy_bytes(numpy.zeros((1000, 2)))}, "ok.npz",
              zipfile.ZIP_DEFLATED)
    assert NPZDataset(ok, y_key=None).data.shape == (1000, 2)
    assert sorted(read_npz(ok)) == ["x"]


def test_npz_nonfinite_values_and_the_opt_in(tmp_path):
    x = numpy.zeros((4, 3))
    x[2, 1] = numpy.nan
    path = _npz(tmp_path, {"x.npy": npy_bytes(x), "y.npy": npy_bytes(numpy.arange(4.0))})
    with pytest.raises(tc.DataError, match=r"d\.npz: array 'x': non-finite value nan at index "
                                           r"\(2, 1\) \(pass allow_nonfinite=True"):
        NPZDataset(path)
    assert numpy.isnan(NPZDataset(path, allow_nonfinite=True).data[2, 1])
    big = _npz(tmp_path, {"x.npy": npy_bytes(numpy.ones(3)),
                          "y.npy": npy_bytes(numpy.array([1.0, 1e300, 2.0]))}, "big.npz")
    with pytest.raises(tc.DataError, match=r"array 'y' \(beyond float32's range\): non-finite "
                                           r"value inf at index \(1,\)"):
        NPZDataset(big)


def test_npz_labels_checked_against_num_classes(tmp_path):
    path = _npz(tmp_path, {"x.npy": npy_bytes(numpy.zeros((4, 2))),
                           "y.npy": npy_bytes(numpy.array([0, 9, 12, 1]))})
    with pytest.raises(tc.DataError, match=r"d\.npz: array 'y': row 2: label 12 is out of range "
                                           r"for 10 classes \(0\.\.9\)"):
        NPZDataset(path, num_classes=10)
    ds = NPZDataset(path, num_classes=13)
    assert ds.num_classes == 13 and ds.classes == list(range(13))
    neg = _npz(tmp_path, {"x.npy": npy_bytes(numpy.zeros((2, 2))),
                          "y.npy": npy_bytes(numpy.array([0, -1]))}, "neg.npz")
    with pytest.raises(tc.DataError, match="row 1: label -1 is out of range"):
        NPZDataset(neg, num_classes=2)
    with pytest.raises(tc.DataError, match="needs integer class labels"):
        NPZDataset(_npz(tmp_path, {"x.npy": npy_bytes(numpy.zeros((2, 2))),
                                   "y.npy": npy_bytes(numpy.zeros(2))}, "f.npz"), num_classes=2)
    with pytest.raises(tc.DataError, match="num_classes must be a positive integer"):
        NPZDataset(path, num_classes=0)
