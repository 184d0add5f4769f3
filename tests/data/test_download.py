"""Downloads from a loopback server: checksums, resume, mirrors; MNIST-style and CIFAR-10 files."""

import gzip
import io
import os
import sys
import tarfile
import time

import numpy
import pytest

import trainctl as tc
from tests.data.helpers import (
    Unanswered,
    assert_same_batch,
    cifar_archive,
    idx_bytes,
    md5,
    mnist_files,
    per_sample,
    refused_url,
    tar_gz,
    write,
)
from trainctl.data import CIFAR10, KMNIST, MNIST, DataLoader, FashionMNIST
from trainctl.data.datasets.mnist import read_idx
from trainctl.data.download import download_file, extract_tar

DATA = bytes(range(256)) * 40  # 10 KiB


def test_download_verifies_and_writes_atomically(server, tmp_path):
    server.files["/f.bin"] = DATA
    dest = tmp_path / "sub" / "f.bin"
    assert download_file([server.url + "/f.bin"], str(dest), md5=md5(DATA)) == str(dest)
    assert dest.read_bytes() == DATA and not os.path.exists(str(dest) + ".part")
    # present with the right checksum: nothing is fetched again
    n = len(server.requests)
    download_file([server.url + "/f.bin"], str(dest), md5=md5(DATA))
    assert len(server.requests) == n


def test_checksum_mismatch_removes_the_file_and_names_it(server, tmp_path):
    server.files["/f.bin"] = DATA
    dest = tmp_path / "f.bin"
    with pytest.raises(tc.DataError, match=r"checksum mismatch for .*f\.bin.*removed"):
        download_file([server.url + "/f.bin"], str(dest), md5="0" * 32)
    assert not dest.exists() and not os.path.exists(str(dest) + ".part")


def test_corrupt_existing_file_is_fetched_again(server, tmp_path):
    dest = write(str(tmp_path / "f.bin"), b"garbage")
    with pytest.raises(tc.DataError, match="existing .*f.bin does not match.*HTTP 404"):
        download_file([server.url + "/f.bin"], dest, md5=md5(DATA))
    assert open(dest, "rb").read() == b"garbage"  # kept while no good copy has arrived
    server.files["/f.bin"] = DATA
    seen = []
    download_file([server.url + "/f.bin"], dest, md5=md5(DATA),
                  progress=lambda done, total: seen.append((done, total)))
    assert open(dest, "rb").read() == DATA
    assert seen[-1] == (len(DATA), len(DATA))


def test_resume_from_a_partial_file_with_a_range_request(server, tmp_path):
    server.files["/f.bin"] = DATA
    dest = str(tmp_path / "f.bin")
    write(dest + ".part", DATA[:3000])
    download_file([server.url + "/f.bin"], dest, md5=md5(DATA))
    assert open(dest, "rb").read() == DATA
    assert server.requests[-1] == ("/f.bin", "bytes=3000-")


def test_server_ignoring_range_restarts_the_file(server, tmp_path):
    server.files["/f.bin"] = DATA
    server.ignore_range = True
    dest = str(tmp_path / "f.bin")
    write(dest + ".part", b"x" * 3000)  # not even the right bytes: a full 200 replaces it
    download_file([server.url + "/f.bin"], dest, md5=md5(DATA))
    assert open(dest, "rb").read() == DATA


def test_dropped_connection_then_resume_on_the_next_mirror(server, tmp_path):
    server.files["/a/f.bin"] = server.files["/b/f.bin"] = DATA
    server.cut["/a/f.bin"] = 4000  # mirror a hangs up after 4000 bytes
    dest = str(tmp_path / "f.bin")
    download_file([server.url + "/a/f.bin", server.url + "/b/f.bin"], dest, md5=md5(DATA))
    assert open(dest, "rb").read() == DATA
    assert server.requests == [("/a/f.bin", None), ("/b/f.bin", "bytes=4000-")]


def test_complete_part_file_and_416(server, tmp_path):
    server.files["/f.bin"] = DATA
    dest = str(tmp_path / "f.bin")
    write(dest + ".part", DATA)  # the server answers 416: nothing left, the .part is whole
    download_file([server.url + "/f.bin"], dest, md5=md5(DATA))
    assert open(dest, "rb").read() == DATA
    assert server.requests == [("/f.bin", f"bytes={len(DATA)}-")]


def test_mirror_fallback_after_404_and_refused(server, tmp_path):
    server.files["/good/f.bin"] = DATA
    dest = str(tmp_path / "f.bin")
    urls = [refused_url() + "/f.bin", server.url + "/missing/f.bin", server.url + "/good/f.bin"]
    download_file(urls, dest, md5=md5(DATA))
    assert open(dest, "rb").read() == DATA


def test_every_mirror_failing_says_what_each_did(server, tmp_path):
    server.files["/bad/f.bin"] = b"wrong bytes"
    dest = str(tmp_path / "f.bin")
    urls = [server.url + "/missing/f.bin", server.url + "/bad/f.bin"]
    with pytest.raises(tc.DataError) as e:
        download_file(urls, dest, md5=md5(DATA))
    msg = str(e.value)
    assert "HTTP 404" in msg and "checksum mismatch" in msg and "f.bin" in msg
    assert not os.listdir(tmp_path)  # neither the file nor a .part is left behind


# ----------------------------------------------------------------------------- MNIST family


def test_read_idx_plain_gz_and_errors(tmp_path):
    a = numpy.arange(24, dtype=numpy.uint8).reshape(2, 3, 4)
    plain = write(str(tmp_path / "a-idx3-ubyte"), idx_bytes(a))
    gz = write(str(tmp_path / "a-idx3-ubyte.gz"), gzip.compress(idx_bytes(a)))
    assert numpy.array_equal(read_idx(plain), a) and numpy.array_equal(read_idx(gz), a)
    bad = write(str(tmp_path / "bad"), idx_bytes(a)[:-1])
    with pytest.raises(tc.DataError, match="size mismatch"):
        read_idx(bad)
    with pytest.raises(tc.DataError, match="not an IDX file"):
        read_idx(write(str(tmp_path / "txt"), b"hello world"))


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST, KMNIST])
def test_mnist_family_download(cls, server, tmp_path, monkeypatch):
    files, raw = mnist_files()
    for name, data in files.items():
        server.files["/m/" + name] = data
    monkeypatch.setattr(cls, "resources", {n: md5(d) for n, d in files.items()})
    mirrors = [server.url + "/nowhere/", server.url + "/m/"]
    train = cls(str(tmp_path), train=True, download=True, mirrors=mirrors)
    single = cls(str(tmp_path), train=True, download=True, mirrors=server.url + "/m/")
    test = cls(str(tmp_path), train=False, download=True, mirrors=mirrors)
    assert len(train) == len(single) == 20 and len(test) == 10
    assert sorted(os.listdir(tmp_path / cls.__name__ / "raw")) == sorted(files)
    assert train.data.dtype == numpy.uint8
    assert numpy.array_equal(train.data, raw["train-images-idx3-ubyte"])
    x, y = train[3]
    assert x.shape == (1, 28, 28) and x.dtype == tc.float32 and isinstance(y, int)
    assert y == int(raw["train-labels-idx1-ubyte"][3])
    assert train.classes == list(cls.classes) and len(train.classes) == 10
    # the fast path and the per-sample path agree element for element
    fast = list(DataLoader(train, batch_size=8, shuffle=True, seed=0))
    slow = list(DataLoader(train, batch_size=8, shuffle=True, seed=0, collate_fn=per_sample))
    for a, b in zip(fast, slow):
        assert_same_batch(a, b)
    assert fast[0][0].shape == (8, 1, 28, 28)


def test_mnist_checksum_rejection(server, tmp_path, monkeypatch):
    files, _ = mnist_files()
    for name, data in files.items():
        server.files["/m/" + name] = data
    sums = {n: md5(d) for n, d in files.items()}
    sums["train-images-idx3-ubyte.gz"] = "f" * 32
    monkeypatch.setattr(MNIST, "resources", sums)
    with pytest.raises(tc.DataError, match="checksum mismatch for .*train-images-idx3-ubyte.gz"):
        MNIST(str(tmp_path), download=True, mirrors=[server.url + "/m/"])
    assert not os.path.exists(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz")


def test_mnist_plain_files_flat_in_root_without_download(tmp_path):
    _, raw = mnist_files()
    for name, array in raw.items():
        write(str(tmp_path / name), idx_bytes(array))
    ds = FashionMNIST(str(tmp_path), train=False, transform=None)
    x, y = ds[0]
    assert len(ds) == 10 and x.dtype == tc.uint8 and x.shape == (28, 28)


def test_mnist_missing_files_say_what_to_put_where(tmp_path):
    with pytest.raises(tc.DataError) as e:
        MNIST(str(tmp_path / "data"), train=True)
    msg = str(e.value)
    assert "train-images-idx3-ubyte[.gz]" in msg and "train-labels-idx1-ubyte[.gz]" in msg
    assert os.path.join(str(tmp_path / "data"), "MNIST", "raw") in msg and "download" in msg


def test_default_mirrors_and_checksums_are_the_published_ones():
    assert MNIST.resources["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert FashionMNIST.resources["t10k-labels-idx1-ubyte.gz"] == "bb300cfdad3c16e7a12a480ee83cd310"
    assert KMNIST.mirrors == ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    assert CIFAR10.md5 == "c32a1d4ab5d03f1284b67883e8d87530"
    assert all(len(v) == 32 for c in (MNIST, FashionMNIST, KMNIST) for v in c.resources.values())


# ----------------------------------------------------------------------------- CIFAR-10


def test_cifar10_download_extract_and_load(server, tmp_path, monkeypatch):
    archive, (xtr, ytr), (xte, yte) = cifar_archive()
    server.files["/c/cifar-10-binary.tar.gz"] = archive
    monkeypatch.setattr(CIFAR10, "md5", md5(archive))
    train = CIFAR10(str(tmp_path), train=True, download=True, mirrors=[server.url + "/c"])
    test = CIFAR10(str(tmp_path), train=False)
    assert len(train) == 15 and len(test) == 4
    assert train.data.dtype == numpy.uint8 and train.data.shape == (15, 32, 32, 3)
    assert numpy.array_equal(train.data, xtr) and train.targets.tolist() == ytr.tolist()
    x, y = test[1]
    assert x.shape == (3, 32, 32) and y == int(yte[1])
    numpy.testing.assert_allclose(x.numpy(), xte[1].transpose(2, 0, 1) / 255.0, rtol=1e-6)
    fast = list(DataLoader(train, batch_size=4, shuffle=True, seed=0))
    slow = list(DataLoader(train, batch_size=4, shuffle=True, seed=0, collate_fn=per_sample))
    for a, b in zip(fast, slow):
        assert_same_batch(a, b)


def test_cifar10_checksum_mismatch(server, tmp_path, monkeypatch):
    archive, _, _ = cifar_archive()
    server.files["/c/cifar-10-binary.tar.gz"] = archive
    monkeypatch.setattr(CIFAR10, "md5", "0" * 32)
    with pytest.raises(tc.DataError, match="checksum mismatch for .*cifar-10-binary.tar.gz"):
        CIFAR10(str(tmp_path), download=True, mirrors=[server.url + "/c"])
    assert os.listdir(tmp_path) == []


def test_cifar10_archive_put_by_hand_and_missing_files(tmp_path):
    with pytest.raises(tc.DataError, match="cifar-10-binary.tar.gz.*download"):
        CIFAR10(str(tmp_path))
    archive, _, (xte, _) = cifar_archive()
    write(str(tmp_path / "cifar-10-binary.tar.gz"), archive)
    ds = CIFAR10(str(tmp_path), train=False, transform=None)
    assert ds[0][0].dtype == tc.uint8 and numpy.array_equal(ds[0][0].numpy(), xte[0])


def test_cifar10_truncated_batch_file(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    write(str(folder / "test_batch.bin"), b"\x00" * 3000)
    with pytest.raises(tc.DataError, match="not a whole number of 3073-byte"):
        CIFAR10(str(tmp_path), train=False)


def _evil_tar(path, kind):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        if kind == "symlink":
            info = tarfile.TarInfo("cifar-10-batches-bin/link")
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
        else:
            name = {"dotdot": "../escaped.bin", "absolute": "/tmp/escaped-abs.bin"}[kind]
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"bad"))
    write(path, buf.getvalue())


@pytest.mark.parametrize("kind,why", [("dotdot", "'..'"), ("absolute", "absolute path"),
                                      ("symlink", "a link")])
def test_extraction_refuses_paths_escaping_root(tmp_path, kind, why):
    root = tmp_path / "root"
    archive = str(tmp_path / "evil.tar.gz")
    _evil_tar(archive, kind)
    with pytest.raises(tc.DataError, match=f"refusing to extract .*{why}"):
        extract_tar(archive, str(root))
    assert not (tmp_path / "escaped.bin").exists()
    assert not root.exists() or list(root.rglob("*")) == []


def test_safe_archive_extracts(tmp_path):
    archive = write(str(tmp_path / "ok.tar.gz"), tar_gz({"d/a.txt": b"hi", "b.txt": b"yo"}))
    extract_tar(archive, str(tmp_path / "out"))
    assert (tmp_path / "out" / "d" / "a.txt").read_bytes() == b"hi"


# ----------------------------------------------------------------------------- faults: timeouts


def _timed(fn):
    start = time.monotonic()
    with pytest.raises(tc.DataError) as e:
        fn()
    return str(e.value), time.monotonic() - start


def test_stall_timeout_gives_up_on_a_trickle_and_the_next_try_resumes(server, tmp_path):
    server.files["/f.bin"] = DATA
    server.trickle["/f.bin"] = 1.0  # one byte per second
    dest = str(tmp_path / "f.bin")
    url = server.url + "/f.bin"
    msg, took = _timed(lambda: download_file(url, dest, md5=md5(DATA), stall_timeout=0.3))
    assert took < 2.0
    assert f"{url}: stalled: no data for 0.3 s (stall_timeout)" in msg
    assert f"the 1 bytes received are kept in {dest}.part" in msg
    del server.trickle["/f.bin"]
    download_file(url, dest, md5=md5(DATA))
    assert open(dest, "rb").read() == DATA and server.requests[-1] == ("/f.bin", "bytes=1-")


def test_a_server_that_never_answers_stalls(server, tmp_path):
    server.hang.add("/f.bin")
    url = server.url + "/f.bin"
    msg, took = _timed(lambda: download_file(url, str(tmp_path / "f.bin"), stall_timeout=0.3))
    assert took < 2.0 and f"{url}: stalled: no data for 0.3 s" in msg


def test_overall_deadline_stops_a_download_that_never_stalls(server, tmp_path):
    server.files["/f.bin"] = server.files["/g.bin"] = DATA
    server.trickle["/f.bin"] = 0.02  # steady but far too slow: 200 s for 10 KiB
    urls = [server.url + "/f.bin", server.url + "/g.bin"]
    msg, took = _timed(lambda: download_file(urls, str(tmp_path / "f.bin"), stall_timeout=5,
                                             deadline=0.4))
    assert 0.3 < took < 2.0
    # the deadline covers the whole call: the second mirror is not started after it passed
    assert msg.count("the overall deadline passed (the deadline argument)") == 2
    assert [p for p, _ in server.requests] == ["/f.bin"]


def test_connect_timeout(tmp_path):
    port = Unanswered()
    try:
        url = port.url + "/f.bin"
        msg, took = _timed(lambda: download_file(url, str(tmp_path / "f.bin"),
                                                 connect_timeout=0.3))
    finally:
        port.close()
    assert took < 2.0 and f"{url}: no connection within 0.3 s (connect_timeout)" in msg


def test_failures_name_the_url_and_what_to_do(server, tmp_path):
    dest = str(tmp_path / "f.bin")
    refused = refused_url() + "/f.bin"
    with pytest.raises(tc.DataError) as e:
        download_file([refused, server.url + "/missing.bin"], dest)
    msg = str(e.value)
    assert f"{refused}: " in msg and "Connection refused" in msg
    assert f"{server.url}/missing.bin: HTTP 404" in msg
    assert msg.endswith(f"Check the network and the mirror URLs, or put the file at {dest} "
                        "yourself")
    assert "\n" not in msg


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_only_on_a_terminal(server, tmp_path, monkeypatch, capsys):
    server.files["/f.bin"] = DATA
    download_file(server.url + "/f.bin", str(tmp_path / "a.bin"))
    assert capsys.readouterr().err == ""  # stderr is not a terminal under pytest
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    download_file(server.url + "/f.bin", str(tmp_path / "b.bin"))
    download_file(server.url + "/f.bin", str(tmp_path / "c.bin"), progress=False)
    out = term.getvalue()
    assert out.startswith("\rdownloading b.bin: ") and out.endswith("\n")
    assert out.rstrip().endswith("MB (100%)") and "c.bin" not in out


def test_datasets_pass_the_download_limits_on(server, tmp_path, monkeypatch):
    files, _ = mnist_files()
    for name, data in files.items():
        server.files["/m/" + name] = data
        server.trickle["/m/" + name] = 1.0
    msg, took = _timed(lambda: MNIST(str(tmp_path), download=True, mirrors=server.url + "/m/",
                                     stall_timeout=0.2))
    assert took < 2.0 and "stalled: no data for 0.2 s" in msg
    server.files["/c/cifar-10-binary.tar.gz"] = b"x" * 100
    server.trickle["/c/cifar-10-binary.tar.gz"] = 1.0
    msg, took = _timed(lambda: CIFAR10(str(tmp_path), download=True, mirrors=server.url + "/c",
                                       stall_timeout=5, deadline=0.2))
    assert took < 2.0 and "overall deadline passed" in msg


def test_destination_below_a_file_is_a_data_error(tmp_path):
    write(str(tmp_path / "file"), b"x")
    dest = str(tmp_path / "file" / "sub" / "f.bin")
    with pytest.raises(tc.DataError, match=f"cannot download to {dest}: Not a directory"):
        download_file(refused_url() + "/f.bin", dest)
