"""The examples in the nn docstrings run and print what they say."""

import doctest
import importlib
import pkgutil

import pytest

import trainctl.nn

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(trainctl.nn.__path__, "trainctl.nn.")
) + ["trainctl.nn"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
