"""Parity with PyTorch: same weights and inputs give the same outputs and gradients.

Fixtures come from ``tests/golden/gen_nn_core.py`` (run with torch); no torch needed here.
"""

from collections import OrderedDict

import numpy as np
import pytest

import trainctl as tc
from tests.golden.fixtures import load_json, load_npz

CASES = load_json("nn_core_cases.json")["cases"]
ARRAYS = load_npz("nn_core_cases.npz")
STATE_DICTS = load_json("nn_core_state_dicts.json")


def _resolve(value):
    if isinstance(value, dict) and "__array__" in value:
        return tc.from_numpy(ARRAYS[value["__array__"]].copy())
    return value


def _build(case):
    kwargs = {k: _resolve(v) for k, v in case["kwargs"].items()}
    module = getattr(tc.nn, case["module"])(*case["args"], **kwargs)
    module.train(case["train"])
    state = OrderedDict((k, tc.from_numpy(ARRAYS[key].copy())) for k, key in case["state"].items())
    result = module.load_state_dict(state, strict=True)  # torch's keys load as they are
    assert result.missing_keys == [] and result.unexpected_keys == []
    return module


def _tol(case):
    # float32 against float32: a few ulps, more where a sum over many terms is involved
    return dict(rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_torch(case):
    module = _build(case)
    inputs = []
    wanted = case["grad_inputs"]
    for i, key in enumerate(case["inputs"]):
        arr = ARRAYS[key].copy()
        grad = arr.dtype.kind == "f" and (wanted is None or i in wanted)
        inputs.append(tc.tensor(arr, requires_grad=grad))
    out = module(*inputs)
    np.testing.assert_allclose(out.detach().numpy(), ARRAYS[case["output"]], **_tol(case),
                               err_msg=f"{case['name']}: output")
    v = tc.from_numpy(np.asarray(ARRAYS[case["v"]]).copy())
    (out * v).sum().backward()
    params = dict(module.named_parameters())
    for name, key in case["grads"].items():
        if name.startswith("input"):
            got = inputs[int(name[5:])].grad
        else:
            got = params[name].grad
        assert got is not None, f"{case['name']}: no gradient for {name}"
        np.testing.assert_allclose(got.numpy(), ARRAYS[key], **_tol(case),
                                   err_msg=f"{case['name']}: gradient of {name}")
    for i, x in enumerate(inputs):  # no gradient where torch has none
        if x.requires_grad and f"input{i}" not in case["grads"]:
            assert x.grad is None or not np.any(x.grad.numpy())
    after = module.state_dict()
    for k, key in case["state_after"].items():  # e.g. Embedding(max_norm) renormalises in place
        np.testing.assert_allclose(after[k].numpy(), ARRAYS[key], rtol=1e-5, atol=1e-6)


def _nested():
    nn = tc.nn
    return nn.Sequential(OrderedDict(
        enc=nn.Sequential(nn.Linear(4, 8), nn.Tanh()),
        heads=nn.ModuleDict({"b": nn.Linear(8, 2), "a": nn.Sequential(nn.ReLU(), nn.Linear(8, 3))}),
        blocks=nn.ModuleList([nn.Linear(3, 3), nn.GELU(), nn.Linear(3, 5)]),
    ))


class WithBuffers(tc.nn.Module):
    def __init__(self):
        super().__init__()
        nn = tc.nn
        self.emb = nn.Embedding(6, 3, padding_idx=0)
        self.register_buffer("scale", tc.ones(3))
        self.register_buffer("cache", tc.zeros(2), persistent=False)
        self.proj = nn.Linear(3, 2, bias=False)
        self.bil = nn.Bilinear(2, 2, 1)
        self.crit = nn.CrossEntropyLoss(weight=tc.ones(2))
        self.bce = nn.BCEWithLogitsLoss(pos_weight=tc.ones(1))


ARCHS = {
    "mlp": lambda: tc.nn.Sequential(tc.nn.Linear(4, 8), tc.nn.ReLU(), tc.nn.Dropout(0.5),
                                    tc.nn.Linear(8, 2)),
    "nested": _nested,
    "with_buffers": WithBuffers,
}


@pytest.mark.parametrize("name", sorted(ARCHS))
def test_state_dict_keys_match_torch(name):
    want = STATE_DICTS[name]
    model = ARCHS[name]()
    sd = model.state_dict()
    assert list(sd) == want["keys"]
    assert [list(v.shape) for v in sd.values()] == want["shapes"]
    assert [k for k, _ in model.named_parameters()] == want["named_parameters"]
    assert [k for k, _ in model.named_modules()] == want["named_modules"]
    # torch's state dict (its key order, zeros of its shapes) loads strictly
    zeros = OrderedDict((k, np.zeros(s, np.float32)) for k, s in zip(want["keys"],
                                                                      want["shapes"]))
    assert tuple(model.load_state_dict(zeros)) == ([], [])
    assert all(float(abs(v).sum()) == 0 for v in model.state_dict().values())


@pytest.mark.parametrize("name", sorted(ARCHS))
def test_repr_matches_torch(name):
    assert repr(ARCHS[name]()) == STATE_DICTS[name]["repr"]
