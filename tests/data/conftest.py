"""Fixtures of the data tests: a loopback file server (shut down after each test)."""

import pytest

from tests.data.helpers import FileServer


@pytest.fixture
def server():
    s = FileServer()
    yield s
    s.close()
