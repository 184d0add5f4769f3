"""nn.utils: gradient clipping (against PyTorch's numbers) and parameter vectors."""

import numpy as np
import pytest

import trainctl as tc
from tests.golden.fixtures import load_json
from trainctl.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)

CLIP = load_json("nn_core_clip.json")


def _params(grads):
    params = []
    for g in grads:
        p = tc.nn.Parameter(tc.zeros(*np.shape(g)))
        p.grad = tc.tensor(g, dtype=tc.float32)
        params.append(p)
    return params


@pytest.mark.parametrize("case", CLIP["norm"], ids=[c["norm_type"] for c in CLIP["norm"]])
def test_clip_grad_norm_matches_torch(case):
    params = _params(case["grads"])
    total = clip_grad_norm_(params, case["max_norm"], norm_type=float(case["norm_type"]))
    assert total.shape == () and total.dtype == tc.float32
    assert total.item() == pytest.approx(case["total_norm"], rel=1e-6)
    for p, want in zip(params, case["clipped"]):
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=1e-6, atol=1e-7)


def test_clip_grad_value_matches_torch():
    case = CLIP["value"]
    params = _params(case["grads"])
    clip_grad_value_(params, case["clip_value"])
    for p, want in zip(params, case["clipped"]):
        np.testing.assert_array_equal(p.grad.numpy(), np.asarray(want, np.float32))


def test_clip_grad_norm_edge_cases():
    p = tc.nn.Parameter(tc.ones(3))
    assert clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients at all
    p.grad = tc.tensor([float("inf"), 1.0, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    q = tc.nn.Parameter(tc.ones(2))
    q.grad = tc.tensor([3.0, 4.0])
    clip_grad_norm_(q, 10.0)  # below the limit: unchanged up to the 1e-6 guard
    np.testing.assert_allclose(q.grad.numpy(), [3.0, 4.0], rtol=1e-6)


def test_parameters_to_vector_and_back():
    model = tc.nn.Sequential(tc.nn.Linear(3, 2), tc.nn.Linear(2, 1))
    vec = parameters_to_vector(model.parameters())
    assert vec.shape == (11,)
    np.testing.assert_array_equal(vec[:6].detach().numpy(),
                                  model[0].weight.detach().numpy().ravel())
    vec.sum().backward()  # differentiable, like torch
    assert model[1].bias.grad.tolist() == [1.0]
    weight = model[0].weight
    vector_to_parameters(tc.arange(11, dtype=tc.float32), model.parameters())
    assert model[0].weight is weight and model[0].weight.detach().numpy().ravel().tolist() == [
        0, 1, 2, 3, 4, 5]
    assert model[1].bias.tolist() == [10.0]
    with pytest.raises(tc.ShapeError, match="11"):
        vector_to_parameters(tc.zeros(5), model.parameters())
