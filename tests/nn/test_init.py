"""nn.init: distributions, gains and the default initialisation of layers."""

import math

import numpy as np
import pytest

import trainctl as tc
from trainctl.nn import init


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_uniform_normal_constant_eye():
    w = tc.empty(300, 200)
    init.uniform_(w, -0.5, 1.5)
    d = w.numpy()
    assert d.min() >= -0.5 and d.max() <= 1.5 and abs(d.mean() - 0.5) < 0.01
    init.normal_(w, 2.0, 0.5)
    assert abs(w.numpy().mean() - 2.0) < 0.01 and abs(w.numpy().std() - 0.5) < 0.01
    init.constant_(w, 0.3)
    assert np.all(w.numpy() == np.float32(0.3))
    init.zeros_(w)
    assert not w.numpy().any()
    init.ones_(w)
    assert np.all(w.numpy() == 1)
    e = init.eye_(tc.empty(2, 3))
    assert e.tolist() == [[1, 0, 0], [0, 1, 0]]
    assert w.dtype == tc.float32


def test_init_works_on_parameters_and_keeps_identity():
    p = tc.nn.Parameter(tc.zeros(3, 4))
    data = p.array
    out = init.kaiming_normal_(p)
    assert out is p and p.array is data and p.requires_grad and p.grad_fn is None


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_statistics(mode):
    w = tc.empty(400, 100, 3)  # fan_in 300, fan_out 1200
    fan = 300 if mode == "fan_in" else 1200
    init.kaiming_uniform_(w, mode=mode, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    assert np.abs(w.numpy()).max() <= bound + 1e-7
    assert abs(w.numpy().std() - bound / math.sqrt(3)) < 0.01 * bound
    init.kaiming_normal_(w, a=0.1, mode=mode)
    std = math.sqrt(2 / 1.01) / math.sqrt(fan)
    assert abs(w.numpy().std() - std) < 0.01 * std


def test_xavier_statistics():
    w = tc.empty(300, 500)
    init.xavier_uniform_(w, gain=2.0)
    a = 2.0 * math.sqrt(6 / 800)
    assert np.abs(w.numpy()).max() <= a + 1e-7 and np.abs(w.numpy()).max() > 0.99 * a
    init.xavier_normal_(w)
    std = math.sqrt(2 / 800)
    assert abs(w.numpy().std() - std) < 0.01 * std
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(tc.empty(5))


def test_trunc_normal_bounds_and_moments():
    w = init.trunc_normal_(tc.empty(200, 200), mean=0.5, std=1.0, a=-1.0, b=1.5)
    d = w.numpy()
    assert d.min() >= -1.0 and d.max() <= 1.5
    # mean of N(0.5, 1) truncated to [-1.5, 1] (in standard units): 0.5 + (phi(-1.5) - phi(1)) / Z
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * math.erfc(-z / math.sqrt(2))  # noqa: E731
    mean = 0.5 + (phi(-1.5) - phi(1.0)) / (cdf(1.0) - cdf(-1.5))
    assert abs(d.mean() - mean) < 0.01


def test_orthogonal():
    for shape in [(6, 4), (4, 6), (3, 2, 2)]:
        w = init.orthogonal_(tc.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        small = w.T @ w if shape[0] >= w.shape[1] else w @ w.T
        np.testing.assert_allclose(small, 4 * np.eye(small.shape[0]), atol=1e-5)


def test_dirac():
    w = init.dirac_(tc.empty(2, 2, 3))
    x = tc.randn(1, 2, 5)
    # a 'same' cross-correlation with this kernel returns the input
    out = np.stack([sum(np.convolve(x.numpy()[0, c], w.numpy()[o, c][::-1], "same")
                        for c in range(2)) for o in range(2)])
    np.testing.assert_allclose(out, x.numpy()[0], atol=1e-6)


def test_init_uses_the_seeded_generator():
    tc.manual_seed(11)
    a = init.normal_(tc.empty(5)).tolist()
    tc.manual_seed(11)
    assert init.normal_(tc.empty(5)).tolist() == a
    gen = tc.Generator().manual_seed(3)
    b = init.uniform_(tc.empty(5), generator=gen).tolist()
    assert init.uniform_(tc.empty(5), generator=tc.Generator().manual_seed(3)).tolist() == b


def test_linear_default_init_bounds():
    layer = tc.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # U(-b, b) has std b / sqrt(3)
    assert np.abs(b).max() <= bound and abs(b.mean()) < 0.2 * bound
    bil = tc.nn.Bilinear(50, 30, 40)
    assert np.abs(bil.weight.detach().numpy()).max() <= 1 / math.sqrt(50)
    emb = tc.nn.Embedding(1000, 100)
    assert abs(emb.weight.detach().numpy().std() - 1.0) < 0.01
