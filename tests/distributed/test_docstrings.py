"""The examples in the tc.distributed docstrings run and print what they say (a group of one
process: the pytest process itself)."""

import doctest
import importlib
import pkgutil

import pytest

import trainctl.distributed

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(trainctl.distributed.__path__,
                                                 "trainctl.distributed.")
) + ["trainctl.distributed", "trainctl.utils.data.distributed"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
    assert not trainctl.distributed.is_initialized()
