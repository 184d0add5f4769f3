"""Fixtures of the data tests: a loopback file server (shut down after each test), ``deny``."""

import builtins
import os

import pytest

from tests.data.helpers import FileServer


@pytest.fixture
def server():
    s = FileServer()
    yield s
    s.close()


@pytest.fixture
def deny(monkeypatch):
    """``deny(path)``: opening ``path`` fails with EACCES (the tests may run as root)."""
    real_open = builtins.open

    def deny(path):
        def fake_open(file, *args, **kwargs):
            if os.fspath(file) == os.fspath(path):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", fake_open)
        return path

    return deny
