"""Parity with PyTorch for the recurrent and attention layers (committed fixtures).

Each case of ``tests/golden/seq_cases.py`` loads torch's initial ``state_dict`` into the trainctl
layer, runs the same inputs (packed, masked, with initial states) and must reproduce every output
and the gradients of the inputs, weights and initial states. The fixtures are float64 (tight
tolerances check the maths); a float32 run checks the default dtype path.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

import trainctl as tc
from tests.golden.fixtures import load_json, load_npz

HERE = pathlib.Path(__file__).parent.parent / "golden"
_spec = importlib.util.spec_from_file_location("seq_cases", HERE / "seq_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

META = load_json("nn_seq.json")
ARRAYS = load_npz("nn_seq.npz")


def _mask(array, dtype):
    return tc.tensor(array, dtype=dtype) if array.dtype.kind == "f" else tc.tensor(array)


def _run(name, dtype):
    spec = cases.CASES[name]
    a = {k[len(name) + 1:]: v for k, v in ARRAYS.items() if k.startswith(name + ".")}
    module = cases.build(tc, spec)
    if module is not None:
        state = {k[len("init."):]: tc.tensor(v) for k, v in a.items() if k.startswith("init.")}
        assert list(module.state_dict()) == list(state)  # same keys, same order as torch
        module.load_state_dict(state, strict=True)
        module = module.to(dtype)
    xs = [tc.tensor(a[f"input{i}"], dtype=dtype, requires_grad=True)
          for i in range(len(spec["inputs"]))]
    hs = [tc.tensor(a[f"hx{i}"], dtype=dtype, requires_grad=True)
          for i in range(len(spec.get("hx", [])))]
    call = {key: _mask(a[f"call.{key}"], dtype) if isinstance(value, tuple) else value
            for key, value in spec.get("call", {}).items()}
    outs = cases.run(tc, module, spec, xs, hs, call)
    assert len(outs) == META["cases"][name]["outputs"]
    grads = [tc.tensor(a[f"grad_output{i}"], dtype=dtype) for i in range(len(outs))]
    tc.autograd.backward(outs, grads)
    return module, xs, hs, outs, a


def _close(got, want, rtol, atol, what):
    got = got.detach().numpy() if hasattr(got, "detach") else got
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale, err_msg=what)


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_matches_torch_float64(name):
    module, xs, hs, outs, a = _run(name, tc.float64)
    for i, out in enumerate(outs):
        _close(out, a[f"output{i}"], 1e-9, 1e-10, f"output {i}")
    for i, x in enumerate(xs):
        _close(x.grad, a[f"grad_input{i}"], 1e-9, 1e-10, f"grad of input {i}")
    for i, h in enumerate(hs):
        _close(h.grad, a[f"grad_hx{i}"], 1e-9, 1e-10, f"grad of initial state {i}")
    if module is not None:
        for key, p in module.named_parameters():
            _close(p.grad, a[f"grad.{key}"], 1e-9, 1e-10, f"grad of {key}")


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_matches_torch_float32(name):
    module, xs, hs, outs, a = _run(name, tc.float32)
    for i, out in enumerate(outs):
        assert out.dtype == tc.float32
        _close(out, a[f"output{i}"], 1e-4, 2e-5, f"output {i}")
    for i, x in enumerate(xs):
        _close(x.grad, a[f"grad_input{i}"], 1e-3, 5e-5, f"grad of input {i}")
    if module is not None:
        for key, p in module.named_parameters():
            assert p.grad.dtype == tc.float32
            _close(p.grad, a[f"grad.{key}"], 1e-3, 5e-5, f"grad of {key}")


def test_fixture_is_torch_2_13():
    assert META["torch"].startswith("2.13")
