"""The examples in the data docstrings run and print what they say (those needing files skip)."""

import doctest
import importlib
import pkgutil

import pytest

import trainctl.data

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(trainctl.data.__path__, "trainctl.data.")
) + ["trainctl.data", "trainctl.utils.data"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
