"""Agreement with PyTorch on composite expressions (tests/golden/autograd_cases.py).

The golden numbers come from ``tests/golden/gen_autograd.py`` (torch 2.13, float32 and float64);
this test needs no torch. Where torch happens to be importable the cases also run live.
"""

import numpy
import pytest

import trainctl as tc
from tests.golden import autograd_cases as cases
from tests.golden.fixtures import load_npz

GOLDEN = load_npz("autograd.npz")
TOLERANCES = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def golden_inputs(name):
    n = len(cases.CASES[name][0])
    return [GOLDEN[f"{name}.in{i}"] for i in range(n)]


def golden_weights(name):
    weights, j = [], 0
    while f"{name}.w{j}" in GOLDEN:
        weights.append(GOLDEN[f"{name}.w{j}"])
        j += 1
    return weights


def assert_close(got, expected, dtype, what):
    got, expected = numpy.asarray(got), numpy.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    if expected.dtype.kind in "iub":
        numpy.testing.assert_array_equal(got, expected, err_msg=what)
    else:
        assert got.dtype == numpy.dtype(dtype), f"{what}: dtype {got.dtype} != {dtype}"
        numpy.testing.assert_allclose(got, expected, err_msg=what, **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(cases.CASES))
def test_matches_pytorch_golden(name, dtype):
    outs, _, grads = cases.run_case(tc, name, golden_inputs(name), dtype, golden_weights(name))
    n_out = len(golden_weights(name))
    assert len(outs) == n_out
    for j, out in enumerate(outs):
        assert_close(out, GOLDEN[f"{name}.{dtype}.out{j}"], dtype, f"{name} output {j}")
    for i, grad in enumerate(grads):
        assert grad is not None, f"{name}: input {i} got no gradient"
        assert_close(grad, GOLDEN[f"{name}.{dtype}.grad{i}"], dtype, f"{name} gradient {i}")


def test_golden_file_covers_every_case():
    names = {key.split(".")[0] for key in GOLDEN}
    assert names == set(cases.CASES), "regenerate with tests/golden/gen_autograd.py"


@pytest.mark.parametrize("name", list(cases.CASES))
def test_matches_pytorch_live(name):
    torch = pytest.importorskip("torch")
    arrays = golden_inputs(name)
    expected, weights, expected_grads = cases.run_case(torch, name, arrays, "float64", seed=1)
    outs, _, grads = cases.run_case(tc, name, arrays, "float64", weights)
    for j, (out, exp) in enumerate(zip(outs, expected)):
        assert_close(out, exp, "float64", f"{name} output {j}")
    for i, (grad, exp) in enumerate(zip(grads, expected_grads)):
        assert_close(grad, exp, "float64", f"{name} gradient {i}")
