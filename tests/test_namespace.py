"""The lazy ``trainctl`` namespace behaves like an eager module: what a user assigns to it stays
assigned, before and after the API is loaded, however many missing names are looked up since.
"""

import functools
import os
import subprocess
import sys

import pytest

import trainctl as tc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_an_assignment_survives_later_lookups_of_missing_names(monkeypatch):
    safe_load = functools.partial(tc.load, weights_only=True)
    monkeypatch.setattr(tc, "load", safe_load)
    with pytest.raises(AttributeError):
        tc.no_such_name  # noqa: B018  (a miss: the namespace asks the API again)
    assert getattr(tc, "jit", None) is None  # a refused name: a miss too
    dir(tc)
    assert tc.load is safe_load


def test_an_assignment_before_the_api_loads_is_kept():
    code = """
import trainctl as tc
tc.load = "mine"                 # before any tc.<name>: the API is not loaded yet
tc.tensor([1.0])                 # loads it
tc.__dict__.get("no_such")
try:
    tc.no_such_name
except AttributeError:
    pass
assert tc.load == "mine", tc.load
assert tc.save is not None and "load" in dir(tc)
del tc.load                      # deleting the user's value: the API's is found again
assert tc.load.__name__ == "load"
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
