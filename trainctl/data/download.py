"""Fetching dataset files: mirrors, MD5 checks, atomic writes, resumable downloads, safe untar.

``download_file`` writes into ``<file>.part`` next to the destination and renames it into place
(``os.replace``) only once the whole file is there and its MD5 matches, so the destination name
never holds half a file. An interrupted download leaves the ``.part`` file, and the next call asks
the server for the rest (an HTTP ``Range`` request); a server that ignores the range sends the
whole file again. Each mirror is tried in turn; a file that fails its checksum is removed and the
next mirror tried; when every mirror fails, the :class:`DataError` lists what each one said.

``urllib`` and ``tarfile`` are imported inside the functions, so ``import trainctl`` stays fast.
"""

from __future__ import annotations

import os

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


class _Incomplete(OSError):
    """The connection ended before the announced length arrived (the .part is kept)."""


def _fetch(url: str, part: str, timeout: float, progress) -> None:
    """Append the rest of ``url`` to ``part`` (or write it whole when the server ignores Range)."""
    import shutil
    import urllib.error
    import urllib.request

    offset = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={"User-Agent": "trainctl"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # nothing left to send: the .part is already complete
            return
        raise
    with response:
        resumed = offset > 0 and getattr(response, "status", None) == 206
        if resumed:
            first = response.headers.get("Content-Range", "").split(" ")[-1].split("-")[0]
            if first != str(offset):
                raise _Incomplete(f"server resumed at byte {first}, expected {offset}")
        else:
            offset = 0
        length = response.headers.get("Content-Length")
        expected = offset + int(length) if length and length.isdigit() else None
        with open(part, "ab" if resumed else "wb") as f:
            if progress is None:
                shutil.copyfileobj(response, f, CHUNK)
            else:
                done = offset
                for block in iter(lambda: response.read(CHUNK), b""):
                    f.write(block)
                    done += len(block)
                    progress(done, expected)
    size = os.path.getsize(part)
    if expected is not None and size != expected:
        raise _Incomplete(f"got {size} of {expected} bytes")


def download_file(urls, path: str, md5: str | None = None, timeout: float = 60.0,
                  progress=None) -> str:
    """Download ``path`` from the first of ``urls`` that delivers it intact; return ``path``.

    Args:
        urls: one URL or a list of mirror URLs of the same file, tried in order.
        path: where the file goes (its folder is created).
        md5: the expected hex MD5; a file that does not match is removed.
        timeout: seconds to wait on a connection.
        progress: optional ``progress(bytes_done, bytes_total_or_None)`` callback.

    An existing ``path`` with the right checksum is kept as it is (nothing is fetched); one with
    the wrong checksum is replaced by a verified download, and left alone if none succeeds.

    Example:
        >>> download_file(["https://example.org/a.gz"], "data/a.gz", md5="...")  # doctest: +SKIP
    """
    import http.client

    urls = [urls] if isinstance(urls, str) else list(urls)
    path = os.fspath(path)
    errors = []
    if os.path.isfile(path):
        if md5 is None or md5sum(path) == md5:
            return path
        # stale or corrupt: fetch it again, but replace it only once a good copy has arrived
        errors.append(f"the existing {path} does not match md5 {md5} (it was left as it is)")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    part = path + ".part"
    for url in urls:
        try:
            _fetch(url, part, timeout, progress)
        except (OSError, http.client.HTTPException, ValueError) as e:
            errors.append(f"{url}: {_reason(e)}")
            continue
        if md5 is not None:
            got = md5sum(part)
            if got != md5:
                os.remove(part)
                errors.append(f"{url}: checksum mismatch for {path} (expected md5 {md5}, got "
                              f"{got}); the file was removed")
                continue
        os.replace(part, path)
        return path
    raise DataError(f"could not download {os.path.basename(path)} to {path}: " + "; ".join(errors))


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


def extract_tar(archive: str, dest: str) -> str:
    """Extract ``archive`` (tar, tar.gz...) into ``dest``, refusing anything that escapes it.

    Members with absolute paths, ``..`` parts, links or special files raise a :class:`DataError`
    before anything is written.

    Example:
        >>> extract_tar("data/cifar-10-binary.tar.gz", "data")  # doctest: +SKIP
    """
    import tarfile

    root = os.path.realpath(dest)
    os.makedirs(root, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for m in members:
                why = _unsafe(m, root)
                if why is not None:
                    raise DataError(f"{archive}: refusing to extract {m.name!r}: {why}")
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(root, members=members, **kwargs)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise DataError(f"{archive}: cannot extract ({e})") from None
    return root
