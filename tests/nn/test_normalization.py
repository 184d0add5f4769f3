"""Normalization: gradients (finite differences), statistics, running buffers, layers."""

import numpy as np
import pytest

import trainctl as tc
from trainctl.autograd import gradcheck
from trainctl.core.errors import ShapeError

F = tc.nn.functional


def _f64(*shape):
    return tc.randn(*shape, dtype=tc.float64) * 2 + 0.5


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 4, 2)])
def test_batch_norm_train_gradcheck(shape):
    x, w, b = _f64(*shape), _f64(3), _f64(3)
    rm, rv = tc.zeros(3, dtype=tc.float64), tc.ones(3, dtype=tc.float64)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True), [x, w, b])
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), [x])


def test_batch_norm_eval_gradcheck_and_value():
    x, w, b = _f64(4, 3, 5), _f64(3), _f64(3)
    rm, rv = _f64(3), tc.rand(3, dtype=tc.float64) + 0.5
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, eps=1e-3), [x, w, b])
    out = F.batch_norm(x, rm, rv, w, b, eps=1e-3).numpy()
    shape = (1, 3, 1)
    want = ((x.numpy() - rm.numpy().reshape(shape)) / np.sqrt(rv.numpy().reshape(shape) + 1e-3)
            * w.numpy().reshape(shape) + b.numpy().reshape(shape))
    np.testing.assert_allclose(out, want, rtol=1e-12)


def test_batch_norm_training_normalizes_and_updates_running_stats():
    x = _f64(8, 3, 4, 4)
    rm, rv = tc.zeros(3, dtype=tc.float64), tc.ones(3, dtype=tc.float64)
    out = F.batch_norm(x, rm, rv, training=True, momentum=0.25).numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-4)  # eps=1e-5 shrinks it
    data = x.numpy()
    np.testing.assert_allclose(rm.numpy(), 0.25 * data.mean(axis=(0, 2, 3)), rtol=1e-12)
    unbiased = data.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(rv.numpy(), 0.75 + 0.25 * unbiased, rtol=1e-12)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(tc.randn(1, 3), rm, rv, training=True)


def test_batchnorm_module_momentum_none_is_a_cumulative_average():
    bn = tc.nn.BatchNorm1d(4, momentum=None).double()
    batches = [_f64(5, 4) for _ in range(4)]
    for x in batches:
        bn(x)
    means = np.mean([x.numpy().mean(0) for x in batches], axis=0)
    variances = np.mean([x.numpy().var(0, ddof=1) for x in batches], axis=0)
    np.testing.assert_allclose(bn.running_mean.numpy(), means, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), variances, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 4 and bn.num_batches_tracked.dtype == tc.int64


def test_batchnorm_module_train_eval_and_state():
    bn = tc.nn.BatchNorm2d(3, momentum=0.5)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    np.testing.assert_array_equal(bn.weight.detach().numpy(), 1)
    np.testing.assert_array_equal(bn.bias.detach().numpy(), 0)
    x = tc.randn(4, 3, 5, 5) * 3 + 2
    bn(x)
    stats = bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
    np.testing.assert_allclose(stats[0], 0.5 * x.numpy().mean(axis=(0, 2, 3)), rtol=1e-5)
    bn.eval()
    y = bn(x)
    np.testing.assert_array_equal(bn.running_mean.numpy(), stats[0])  # eval does not update
    assert bn.num_batches_tracked.item() == 1
    want = (x.numpy() - stats[0].reshape(1, 3, 1, 1)) / np.sqrt(stats[1].reshape(1, 3, 1, 1)
                                                                 + 1e-5)
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-4, atol=1e-5)
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_var.numpy(), 1)
    assert bn.num_batches_tracked.item() == 0


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    bn = tc.nn.BatchNorm1d(3, track_running_stats=False, affine=False).eval()
    assert list(bn.state_dict()) == [] and bn.running_mean is None
    out = bn(tc.randn(10, 3) * 4 + 1).numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)


def test_batchnorm_checks_input_dims():
    with pytest.raises(ShapeError, match="expected 4D input"):
        tc.nn.BatchNorm2d(3)(tc.randn(2, 3, 4))
    with pytest.raises(ShapeError, match="expected 2D or 3D input"):
        tc.nn.BatchNorm1d(3)(tc.randn(2, 3, 4, 4))
    with pytest.raises(ShapeError, match="3 channels"):
        tc.nn.BatchNorm1d(3)(tc.randn(2, 4))


@pytest.mark.parametrize("shape,normalized", [((3, 4), (4,)), ((2, 3, 4, 2), (4, 2)),
                                              ((2, 5), 5)])
def test_layer_norm_gradcheck_and_statistics(shape, normalized):
    pshape = (normalized,) if isinstance(normalized, int) else normalized
    x, w, b = _f64(*shape), _f64(*pshape), _f64(*pshape)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b), [x, w, b])
    assert gradcheck(lambda x: F.layer_norm(x, normalized), [x])
    out = F.layer_norm(x, normalized).numpy()
    axes = tuple(range(len(shape) - len(pshape), len(shape)))
    np.testing.assert_allclose(out.mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=axes), 1, rtol=1e-3)


def test_group_norm_gradcheck_and_statistics():
    x, w, b = _f64(3, 6, 2, 3), _f64(6), _f64(6)
    assert gradcheck(lambda x, w, b: F.group_norm(x, 3, w, b), [x, w, b])
    assert gradcheck(lambda x: F.group_norm(x, 2), [_f64(2, 4, 5)])
    out = F.group_norm(x, 3).numpy().reshape(3, 3, -1)
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(-1), 1, rtol=1e-3)
    with pytest.raises(ValueError, match="divisible"):
        F.group_norm(x, 4)


def test_norm_layers():
    ln = tc.nn.LayerNorm((4, 5))
    assert list(ln.state_dict()) == ["weight", "bias"] and ln.weight.shape == (4, 5)
    y = ln(tc.randn(2, 4, 5))
    assert y.dtype == tc.float32
    y.sum().backward()
    np.testing.assert_allclose(ln.bias.grad.numpy(), 2)  # d(sum)/d(bias) = batch size
    gn = tc.nn.GroupNorm(2, 6, affine=False)
    assert list(gn.state_dict()) == [] and gn(tc.randn(2, 6, 3)).shape == (2, 6, 3)
    with pytest.raises(ShapeError, match="normalized_shape"):
        tc.nn.LayerNorm(3)(tc.randn(2, 4))
    assert list(tc.nn.BatchNorm2d(2, bias=False).state_dict()) == [
        "weight", "running_mean", "running_var", "num_batches_tracked"]
