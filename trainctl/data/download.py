"""Fetching dataset files: mirrors, MD5 checks, atomic writes, resumable downloads, safe untar.

``download_file`` writes into ``<file>.part`` next to the destination and renames it into place
(``os.replace``) only once the whole file is there and its MD5 matches, so the destination name
never holds half a file. An interrupted download leaves the ``.part`` file, and the next call asks
the server for the rest (an HTTP ``Range`` request); a server that ignores the range sends the
whole file again. Each mirror is tried in turn; a file that fails its checksum is removed and the
next mirror tried; when every mirror fails, the :class:`DataError` lists what each one said.

No download hangs: ``connect_timeout`` bounds the wait for a connection, ``stall_timeout`` the
wait for the next bytes (a server trickling nothing), and ``deadline`` (off by default) the whole
call. On a terminal a one-line progress count is drawn on stderr (plain text: this is a library
layer, not the CLI's display).

``urllib`` and ``tarfile`` are imported inside the functions, so ``import trainctl`` stays fast.
"""

from __future__ import annotations

import os
import zlib

from ..core.errors import DataError

CHUNK = 1 << 20


def md5sum(path: str) -> str:
    """The hex MD5 digest of a file, read in 1 MiB chunks."""
    import hashlib

    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class _Failed(OSError):
    """A fetch that failed for a reason said in the message (the .part file is kept)."""


def _opener(read_timeout, sockets: list):
    """A urllib opener whose sockets, once connected, wait ``read_timeout()`` s for each read.

    Each connected socket is appended to ``sockets``, so the reader can shorten the wait as an
    overall deadline comes closer.
    """
    import urllib.request

    class StallTimeout:
        def do_open(self, http_class, req, **kwargs):
            class Connection(http_class):
                def connect(self):
                    super().connect()  # TCP (and TLS) within the connect timeout
                    self.sock.settimeout(read_timeout())
                    sockets.append(self.sock)

            return super().do_open(Connection, req, **kwargs)

    handlers = [type("HTTP", (StallTimeout, urllib.request.HTTPHandler), {})()]
    if hasattr(urllib.request, "HTTPSHandler"):  # absent when Python has no ssl
        handlers.append(type("HTTPS", (StallTimeout, urllib.request.HTTPSHandler), {})())
    return urllib.request.build_opener(*handlers)


class _Progress:
    """``progress(done, total)`` as one line on stderr, redrawn at most ten times a second."""

    def __init__(self, name: str):
        self.name, self.last, self.drawn = name, 0.0, False

    def __call__(self, done: int, total: int | None) -> None:
        import sys
        import time

        now = time.monotonic()
        if now - self.last < 0.1 and done != total:
            return
        self.last, self.drawn = now, True
        size = f"{done / 1e6:.1f} / {total / 1e6:.1f} MB ({100 * done // max(total, 1)}%)" \
            if total else f"{done / 1e6:.1f} MB"
        sys.stderr.write(f"\rdownloading {self.name}: {size}  ")
        sys.stderr.flush()

    def close(self) -> None:
        import sys

        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.drawn = False


def _on_terminal() -> bool:
    import sys

    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError, OSError):  # a replaced or closed stderr
        return False


def _fetch(url: str, part: str, connect_timeout: float, stall_timeout: float,
           deadline_at: float | None, progress) -> None:
    """Append the rest of ``url`` to ``part`` (or write it whole when the server ignores Range)."""
    import time
    import urllib.error
    import urllib.request

    def read_timeout() -> float:
        if deadline_at is None:
            return stall_timeout
        return max(0.001, min(stall_timeout, deadline_at - time.monotonic()))

    def timed_out() -> _Failed:
        if deadline_at is not None and time.monotonic() >= deadline_at - 0.01:
            return _Failed("the overall deadline passed (the deadline argument)")
        return _Failed(f"stalled: no data for {stall_timeout:g} s (stall_timeout)")

    sockets = []
    opener = _opener(read_timeout, sockets)

    connect = connect_timeout
    if deadline_at is not None:
        connect = min(connect, deadline_at - time.monotonic())
        if connect <= 0:
            raise timed_out()
    offset = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={"User-Agent": "trainctl"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = opener.open(request, timeout=connect)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # nothing left to send: the .part is already complete
            return
        raise
    except urllib.error.URLError as e:
        if not isinstance(e.reason, TimeoutError):
            raise
        if deadline_at is not None and time.monotonic() >= deadline_at - 0.01:
            raise timed_out() from None
        raise _Failed(f"no connection within {connect_timeout:g} s (connect_timeout)") from None
    except TimeoutError:  # connected, but no answer to the request
        raise timed_out() from None
    with response:
        resumed = offset > 0 and getattr(response, "status", None) == 206
        if resumed:
            first = response.headers.get("Content-Range", "").split(" ")[-1].split("-")[0]
            if first != str(offset):
                raise _Failed(f"server resumed at byte {first}, expected {offset}")
        else:
            offset = 0
        length = response.headers.get("Content-Length")
        expected = offset + int(length) if length and length.isdigit() else None
        read = getattr(response, "read1", response.read)  # read1: what has arrived, no waiting
        done = offset
        with open(part, "ab" if resumed else "wb") as f:
            try:
                for block in iter(lambda: read(CHUNK), b""):
                    f.write(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, expected)
                    if deadline_at is not None:
                        if time.monotonic() >= deadline_at:
                            raise timed_out()
                        if sockets:  # the next read may wait only until the deadline
                            sockets[-1].settimeout(read_timeout())
            except TimeoutError:
                raise timed_out() from None
    size = os.path.getsize(part)
    if expected is not None and size != expected:
        raise _Failed(f"got {size} of {expected} bytes")


def download_file(urls, path: str, md5: str | None = None, progress=None,
                  connect_timeout: float = 30.0, stall_timeout: float = 60.0,
                  deadline: float | None = None) -> str:
    """Download ``path`` from the first of ``urls`` that delivers it intact; return ``path``.

    Args:
        urls: one URL or a list of mirror URLs of the same file, tried in order.
        path: where the file goes (its folder is created).
        md5: the expected hex MD5; a file that does not match is removed.
        progress: ``progress(bytes_done, bytes_total_or_None)`` callback; None (the default)
            draws one progress line on stderr when stderr is a terminal, False draws nothing.
        connect_timeout: seconds to wait for a connection to a mirror.
        stall_timeout: seconds to wait for the next bytes once connected: a server that sends
            nothing for that long is given up (its bytes so far stay in the ``.part`` file).
        deadline: seconds the whole call may take, all mirrors together (None: no limit).

    An existing ``path`` with the right checksum is kept as it is (nothing is fetched); one with
    the wrong checksum is replaced by a verified download, and left alone if none succeeds. When
    every mirror fails (HTTP error, refused connection, timeout, checksum mismatch) the
    :class:`DataError` names each URL with what went wrong and what to do.

    Example:
        >>> download_file(["https://example.org/a.gz"], "data/a.gz", md5="...")  # doctest: +SKIP
    """
    import http.client
    import time

    urls = [urls] if isinstance(urls, str) else list(urls)
    path = os.fspath(path)
    errors = []
    try:
        if os.path.isfile(path):
            if md5 is None or md5sum(path) == md5:
                return path
            # stale or corrupt: fetch it again, but replace it only once a good copy has arrived
            errors.append(f"the existing {path} does not match md5 {md5} (it was left as it is)")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot download to {path}: {e.strerror or e}") from None
    part = path + ".part"
    deadline_at = None if deadline is None else time.monotonic() + deadline
    line = None
    if progress is None and _on_terminal():
        progress = line = _Progress(os.path.basename(path))
    elif progress is False:
        progress = None
    for url in urls:
        try:
            _fetch(url, part, connect_timeout, stall_timeout, deadline_at, progress)
        except (OSError, http.client.HTTPException, ValueError) as e:
            errors.append(f"{url}: {_reason(e)}")
            continue
        finally:
            if line is not None:
                line.close()
        try:
            got = None if md5 is None else md5sum(part)
            if got != md5:
                os.remove(part)
                errors.append(f"{url}: checksum mismatch for {path} (expected md5 {md5}, got "
                              f"{got}); the file was removed")
                continue
            os.replace(part, path)
        except OSError as e:
            raise DataError(f"cannot download to {path}: {e.strerror or e}") from None
        return path
    kept = (f"; the {os.path.getsize(part)} bytes received are kept in {part} and the next try "
            "resumes there" if os.path.isfile(part) else "")
    raise DataError(f"could not download {os.path.basename(path)} to {path}: "
                    + "; ".join(errors) + kept + f". Check the network and the mirror URLs, "
                    f"or put the file at {path} yourself")


def mirror_list(mirrors, default) -> list[str]:
    """``mirrors`` as a list (a config may give one URL as a string), else ``default``.

    Example:
        >>> mirror_list("https://a.example/", ["https://b.example/"])
        ['https://a.example/']
    """
    if not mirrors:
        return list(default)
    return [mirrors] if isinstance(mirrors, str) else list(mirrors)


def _reason(e: Exception) -> str:
    import urllib.error

    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return str(e.reason)
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__


def _unsafe(member, root: str) -> str | None:
    """Why a tar member must not be extracted under ``root`` (None when it is fine)."""
    from pathlib import PurePosixPath, PureWindowsPath

    name = member.name
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive or os.path.isabs(name):
        return "an absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "a path with '..'"
    if member.issym() or member.islnk():
        return "a link"
    if not (member.isfile() or member.isdir()):
        return "not a regular file or folder"
    target = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, target]) != root:
        return f"a path outside {root}"
    return None


class _TarSource:
    """The (decompressed) bytes of a tar archive for ``tarfile``, refusing any one read of more
    than ``MAX_TAR_READ`` bytes.

    ``tarfile`` reads a long name or an extended (pax) header whole, with the size its header
    declares, and Python allocates that size before reading: a hostile 1 KB archive could ask for
    gigabytes. Member data is read in 16 KiB blocks, so only such metadata hits the limit.
    """

    def __init__(self, archive: str):
        import gzip

        self.archive = archive
        self.raw = open(archive, "rb")
        head = self.raw.read(6)
        self.raw.seek(0)
        if head.startswith(b"\x1f\x8b"):
            self.file = gzip.GzipFile(fileobj=self.raw)
        elif head.startswith(b"BZh"):
            import bz2

            self.file = bz2.BZ2File(self.raw)
        elif head.startswith(b"\xfd7zXZ\x00"):
            import lzma

            self.file = lzma.LZMAFile(self.raw)
        else:
            self.file = self.raw

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > MAX_TAR_READ:
            raise DataError(f"{self.archive}: cannot extract: a tar header declares "
                            f"{n} bytes of names or extended headers")
        return self.file.read(n)

    def seek(self, *args) -> int:
        return self.file.seek(*args)

    def tell(self) -> int:
        return self.file.tell()

    def close(self) -> None:
        self.file.close()
        self.raw.close()


MAX_TAR_READ = 16 << 20


def extract_tar(archive: str, dest: str) -> str:
    """Extract ``archive`` (tar, tar.gz, tar.bz2, tar.xz) into ``dest``, refusing anything that
    escapes it.

    Members with absolute paths, ``..`` parts, links or special files raise a :class:`DataError`
    before anything is written, and so does a damaged archive or one whose headers declare more
    than 16 MiB of names (see ``_TarSource``).

    Example:
        >>> extract_tar("data/cifar-10-binary.tar.gz", "data")  # doctest: +SKIP
    """
    import tarfile

    try:
        from lzma import LZMAError
    except ImportError:  # a Python built without lzma reads no .xz archive either
        LZMAError = zlib.error
    root = os.path.realpath(dest)
    source = None
    try:
        source = _TarSource(archive)
        with tarfile.open(fileobj=source, mode="r:") as tar:
            members = tar.getmembers()
            for m in members:
                why = _unsafe(m, root)
                if why is not None:
                    raise DataError(f"{archive}: refusing to extract {m.name!r}: {why}")
            os.makedirs(root, exist_ok=True)
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(root, members=members, **kwargs)
    except tarfile.ReadError:
        raise DataError(f"{archive}: cannot extract: not a readable tar archive (damaged, "
                        "truncated or another format)") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error, LZMAError) as e:
        reason = (str(e).splitlines() or [type(e).__name__])[0]
        raise DataError(f"{archive}: cannot extract ({reason})") from None
    finally:
        if source is not None:
            source.close()
    return root
