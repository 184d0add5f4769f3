"""Parity with PyTorch for the conv, pooling and normalization layers (committed fixtures).

Each case loads torch's initial ``state_dict`` into the trainctl layer, replays the training
steps, and must reproduce torch's output, input/parameter gradients, buffers and max indices.
The fixtures are float64 (tight tolerances check the maths); a float32 run checks the default
dtype path with float32 tolerances.
"""

import numpy as np
import pytest

import trainctl as tc
from tests.golden.fixtures import load_json, load_npz

META = load_json("nn_conv.json")
ARRAYS = load_npz("nn_conv.npz")
CASES = {case["name"]: case for case in META["cases"]}


def _build(case, dtype):
    module = getattr(tc.nn, case["layer"])(*case["args"], **case["kwargs"]).to(dtype)
    prefix = f"{case['name']}.init."
    state = {k[len(prefix):]: tc.tensor(v) for k, v in ARRAYS.items() if k.startswith(prefix)}
    module.load_state_dict(state, strict=True)  # copies into the module's own dtype
    return module.train(case["mode"] == "train")


def _run(name, dtype):
    case = CASES[name]
    module = _build(case, dtype)
    a = {k[len(name) + 1:]: v for k, v in ARRAYS.items() if k.startswith(name + ".")}
    for step in range(case["steps"]):
        if module.training:
            module(tc.tensor(a[f"step{step}"], dtype=dtype))
    x = tc.tensor(a["input"], dtype=dtype, requires_grad=True)
    out = module(x)
    out.backward(tc.tensor(a["grad_output"], dtype=dtype))
    return module, x, out, a


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_float64(name):
    module, x, out, a = _run(name, tc.float64)
    np.testing.assert_allclose(out.detach().numpy(), a["output"], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), a["grad_input"], rtol=1e-9, atol=1e-10)
    for key, p in module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), a[f"grad.{key}"], rtol=1e-9, atol=1e-10,
                                   err_msg=f"grad of {key}")
    state = module.state_dict()
    finals = {k[len("final."):]: v for k, v in a.items() if k.startswith("final.")}
    assert list(state) == list(finals)  # same keys, same order as torch
    for key, value in finals.items():
        np.testing.assert_allclose(state[key].numpy(), value, rtol=1e-12, atol=1e-12,
                                   err_msg=f"state_dict[{key!r}]")
    if "indices" in a:
        module.return_indices = True
        _, indices = module(x.detach())
        np.testing.assert_array_equal(indices.numpy(), a["indices"])
        assert indices.dtype == tc.int64


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_float32(name):
    module, x, out, a = _run(name, tc.float32)
    assert out.dtype == tc.float32 and x.grad.dtype == tc.float32
    scale = max(1.0, float(np.abs(a["output"]).max()))
    np.testing.assert_allclose(out.detach().numpy(), a["output"], atol=2e-5 * scale, rtol=1e-4)
    gscale = max(1.0, float(np.abs(a["grad_input"]).max()))
    np.testing.assert_allclose(x.grad.numpy(), a["grad_input"], atol=5e-5 * gscale, rtol=1e-3)
    for key, p in module.named_parameters():
        assert p.grad.dtype == tc.float32
        want = a[f"grad.{key}"]
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=1e-3,
                                   atol=5e-5 * max(1.0, float(np.abs(want).max())))


@pytest.mark.parametrize("arch", sorted(META["state_dict_keys"]))
def test_state_dict_keys_equal_torch(arch):
    nn = tc.nn
    models = {
        "conv_bn_mlp": lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4),
                                             nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)),
        "lenet5": lambda: nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)),
        "norms": lambda: nn.Sequential(nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.GroupNorm(2, 4),
                                       nn.LayerNorm(4), nn.ConvTranspose1d(4, 2, 3)),
    }
    model = models[arch]()
    assert list(model.state_dict()) == META["state_dict_keys"][arch]
    model(tc.randn(*META["arch_inputs"][arch]))  # and the architecture runs


def test_issue_example_keys():
    nn = tc.nn
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4, 2))
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "4.weight", "4.bias"]
