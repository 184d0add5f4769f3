"""Test helpers: tiny IDX / CIFAR files, a loopback HTTP server (with Range), batch equality."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import struct
import tarfile
import threading
import zipfile

import numpy

import trainctl as tc

# ----------------------------------------------------------------------------- files


def idx_bytes(array: numpy.ndarray) -> bytes:
    """An IDX file of a uint8 array (magic 0x0000 08 ndim, big-endian dims, data)."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + numpy.ascontiguousarray(array, dtype=numpy.uint8).tobytes()


def mnist_arrays(n: int, seed: int):
    rng = numpy.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 28, 28), dtype=numpy.uint8),
            rng.integers(0, 10, n, dtype=numpy.uint8))


def mnist_files(train_n: int = 20, test_n: int = 10) -> dict[str, bytes]:
    """The four MNIST files, gzipped, by their standard names; plus the arrays under 'arrays'."""
    xtr, ytr = mnist_arrays(train_n, 1)
    xte, yte = mnist_arrays(test_n, 2)
    raw = {"train-images-idx3-ubyte": xtr, "train-labels-idx1-ubyte": ytr,
           "t10k-images-idx3-ubyte": xte, "t10k-labels-idx1-ubyte": yte}
    return {name + ".gz": gzip.compress(idx_bytes(a), mtime=0) for name, a in raw.items()}, raw


def npy_bytes(array=None, *, header: str | None = None, data: bytes = b"",
              version: int = 1) -> bytes:
    """A .npy file: ``array`` as numpy saves it, or a hand-written ``header`` dict and ``data``."""
    if array is not None:
        buf = io.BytesIO()
        numpy.save(buf, array, allow_pickle=True)
        return buf.getvalue()
    text = header.encode("latin1")
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text + data


def gzip_bomb(header: bytes, mib: int) -> bytes:
    """gzip of ``header`` then ``mib`` MiB of zeros, about 1 KB per MiB: one gzip member per MiB
    (a reader inflates consecutive members as one stream), built without holding the zeros."""
    one = gzip.compress(bytes(1 << 20), compresslevel=9, mtime=0)
    return gzip.compress(header, mtime=0) + one * mib


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip archive (an .npz when the names end in .npy) of ``members``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def cifar_records(n: int, seed: int):
    """``n`` CIFAR binary records: (bytes, images HWC uint8, labels)."""
    rng = numpy.random.default_rng(seed)
    labels = rng.integers(0, 10, n, dtype=numpy.uint8)
    chw = rng.integers(0, 256, (n, 3, 32, 32), dtype=numpy.uint8)
    records = numpy.concatenate([labels[:, None], chw.reshape(n, -1)], axis=1)
    return records.tobytes(), chw.transpose(0, 2, 3, 1), labels.astype(numpy.int64)


def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def cifar_archive(per_batch: int = 3, test_n: int = 4):
    """A cifar-10-binary.tar.gz lookalike; returns (bytes, train (x, y), test (x, y))."""
    members, xs, ys = {}, [], []
    for i in range(1, 6):
        data, x, y = cifar_records(per_batch, i)
        members[f"cifar-10-batches-bin/data_batch_{i}.bin"] = data
        xs.append(x)
        ys.append(y)
    data, xt, yt = cifar_records(test_n, 9)
    members["cifar-10-batches-bin/test_batch.bin"] = data
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\nautomobile\n"
    return tar_gz(members), (numpy.concatenate(xs), numpy.concatenate(ys)), (xt, yt)


# ----------------------------------------------------------------------------- HTTP server


class FileServer:
    """Serves ``files`` (path -> bytes) on 127.0.0.1; honours ``Range: bytes=N-``.

    ``cut`` maps a path to a byte count: that response announces the full length but the
    connection closes after that many bytes (a dropped download). ``trickle`` maps a path to a
    delay: the headers and the first byte come at once, then one byte per delay. A path in
    ``hang`` gets no answer at all. ``requests`` records ``(path, range header)`` of each GET.
    The waits end when the server is closed, so no handler outlives a test for long.
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}
        self.trickle: dict[str, float] = {}
        self.hang: set[str] = set()
        self.stopped = threading.Event()
        self.ignore_range = False
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                if self.path in server.hang:
                    server.stopped.wait()
                    return
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                if rng and not server.ignore_range:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in server.cut:
                    self.wfile.write(body[: server.cut[self.path]])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if self.path in server.trickle:
                    self.close_connection = True
                    for i in range(len(body)):
                        if i and server.stopped.wait(server.trickle[self.path]):
                            return
                        try:
                            self.wfile.write(body[i:i + 1])
                        except OSError:  # the client gave up
                            return
                    return
                self.wfile.write(body)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def refused_url() -> str:
    """A loopback URL nobody listens on (connection refused)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


class Unanswered:
    """A loopback port whose listen queue is full: a connection attempt waits (connect timeout)."""

    def __init__(self):
        import socket

        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.fillers = []
        for _ in range(4):  # the kernel queues one or two more than the backlog
            c = socket.socket()
            c.settimeout(0.2)
            try:
                c.connect(self.listener.getsockname())
            except OSError:
                c.close()
                break
            self.fillers.append(c)

    def close(self) -> None:
        for c in self.fillers:
            c.close()
        self.listener.close()


# ----------------------------------------------------------------------------- comparisons


def assert_same_batch(a, b, path="batch"):
    """Same structure, container types, dtypes, shapes and values, element for element."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, tc.Tensor):
        assert a.dtype == b.dtype, f"{path}: dtype {a.dtype} vs {b.dtype}"
        assert a.shape == b.shape, f"{path}: shape {a.shape} vs {b.shape}"
        assert numpy.array_equal(a.numpy(), b.numpy()), f"{path}: values differ"
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_batch(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same_batch(a[k], b[k], f"{path}[{k!r}]")
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def per_sample(batch):
    """A collate_fn that is default_collate but not *the* default (forces the per-sample path)."""
    return tc.utils.data.default_collate(batch)


def write(path, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path
