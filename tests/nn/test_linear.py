"""Linear, Bilinear, Embedding, Flatten/Unflatten and Dropout layers."""

import numpy as np
import pytest

import trainctl as tc
import trainctl.nn.functional as F
from trainctl.autograd import gradcheck
from trainctl.core.errors import ShapeError


def _r(*shape):
    return tc.randn(*shape, dtype=tc.float64)


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 2, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(x_shape, bias):
    inputs = [_r(*x_shape), _r(5, 3)] + ([_r(5)] if bias else [])
    assert gradcheck(lambda x, w, *b: F.linear(x, w, *b), inputs)


def test_linear_matches_matmul_and_is_one_node():
    x, w, b = tc.randn(4, 3), tc.randn(5, 3, requires_grad=True), tc.randn(5)
    y = F.linear(x, w, b)
    np.testing.assert_allclose(y.detach().numpy(), x.numpy() @ w.detach().numpy().T + b.numpy(),
                               rtol=1e-6)
    assert y.grad_fn.inputs[0] is x  # fused: x, W and b feed one node
    assert tc.nn.Linear(3, 5)(x).shape == (4, 5)


def test_linear_errors_name_shapes():
    with pytest.raises(ShapeError, match=r"\(4, 2\).*\(5, 3\)"):
        F.linear(tc.ones(4, 2), tc.ones(5, 3))
    with pytest.raises(ShapeError, match=r"bias of shape \(3,\)"):
        F.linear(tc.ones(4, 3), tc.ones(5, 3), tc.ones(3))
    with pytest.raises(TypeError, match="dtype"):
        F.linear(tc.ones(4, 3, dtype=tc.float64), tc.ones(5, 3))


def test_bilinear_gradcheck():
    assert gradcheck(F.bilinear, [_r(3, 2), _r(3, 4), _r(5, 2, 4), _r(5)])
    assert gradcheck(F.bilinear, [_r(2, 2, 2), _r(2, 2, 3), _r(2, 2, 3)])
    with pytest.raises(ShapeError):
        F.bilinear(tc.ones(3, 2), tc.ones(4, 4), tc.ones(5, 2, 4))


def test_embedding_gradcheck_padding_and_frequency_scaling():
    idx = tc.tensor([[1, 3, 1], [0, 1, 4]])
    assert gradcheck(lambda w: F.embedding(idx, w), [_r(5, 2)])
    w = tc.randn(5, 2, requires_grad=True)  # not a true gradient: each row's sum / its count
    F.embedding(idx, w, scale_grad_by_freq=True).sum().backward()
    assert w.grad[1].tolist() == [1.0, 1.0] and w.grad[3].tolist() == [1.0, 1.0]
    w = tc.randn(5, 2, requires_grad=True)
    F.embedding(idx, w, padding_idx=1).sum().backward()
    assert w.grad[1].tolist() == [0.0, 0.0]  # no gradient for the padding row
    assert w.grad[4].tolist() == [1.0, 1.0] and w.grad[2].tolist() == [0.0, 0.0]


def test_embedding_module():
    emb = tc.nn.Embedding(10, 3, padding_idx=-1)
    assert emb.padding_idx == 9 and emb.weight[9].tolist() == [0.0, 0.0, 0.0]
    assert repr(emb) == "Embedding(10, 3, padding_idx=9)"
    assert emb(tc.tensor([[0, 9]])).shape == (1, 2, 3)
    with pytest.raises(IndexError, match="out of range"):
        emb(tc.tensor([10]))
    with pytest.raises(TypeError, match="integer"):
        emb(tc.tensor([1.0]))
    pre = tc.nn.Embedding.from_pretrained(tc.eye(3))
    assert not pre.weight.requires_grad and pre(tc.tensor([2])).tolist() == [[0.0, 0.0, 1.0]]


def test_embedding_max_norm_renormalises_rows_in_place():
    emb = tc.nn.Embedding(4, 3, max_norm=1.0)
    with tc.no_grad():
        emb.weight.copy_(tc.full((4, 3), 2.0))
    emb(tc.tensor([0, 2]))
    norms = np.linalg.norm(emb.weight.detach().numpy(), axis=1)
    np.testing.assert_allclose(norms[[0, 2]], 1.0, rtol=1e-5)
    np.testing.assert_allclose(norms[[1, 3]], np.sqrt(12), rtol=1e-6)


def test_flatten_unflatten():
    x = tc.randn(2, 3, 4, requires_grad=True)
    assert tc.nn.Flatten()(x).shape == (2, 12)
    assert tc.nn.Flatten(0, 1)(x).shape == (6, 4)
    assert tc.nn.Unflatten(1, (2, 6))(tc.zeros(3, 12)).shape == (3, 2, 6)
    assert repr(tc.nn.Unflatten(1, (2, 6))) == "Unflatten(dim=1, unflattened_size=(2, 6))"
    assert gradcheck(lambda t: tc.nn.Flatten()(t), [x])


def test_dropout_train_and_eval():
    tc.manual_seed(3)
    drop = tc.nn.Dropout(0.25)
    x = tc.ones(200, 100, requires_grad=True)
    y = drop(x)
    values = np.unique(y.detach().numpy())
    np.testing.assert_allclose(values, [0.0, 1 / 0.75], rtol=1e-6)
    kept = float((y.detach().numpy() != 0).mean())
    assert abs(kept - 0.75) < 0.01  # 20,000 draws: sd ~0.003
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, y.detach().numpy() != 0)  # same mask
    drop.eval()
    assert drop(x) is x
    assert F.dropout(x, 1.0).abs().sum().item() == 0
    assert F.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        tc.nn.Dropout(1.5)


def test_dropout_is_reproducible_with_the_seed():
    tc.manual_seed(7)
    a = F.dropout(tc.ones(50))
    tc.manual_seed(7)
    b = F.dropout(tc.ones(50))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_dropout2d_zeroes_whole_channels():
    y = F.dropout2d(tc.ones(8, 16, 3, 3), 0.5).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0 < (per_channel == 0).all(-1).sum() < 128
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d and assuming"):
        y3 = F.dropout2d(tc.ones(4, 6, 5), 0.5).numpy()  # (N, C, L): channel-wise, like torch
    assert np.all((y3 == 0).all(-1) | (y3 == 2).all(-1))
    assert tc.nn.Dropout2d(0.5).eval()(tc.ones(1, 2, 2, 2)).sum().item() == 8
    assert gradcheck(lambda t: F.dropout2d(t, 0.0), [_r(2, 2, 2, 2)])


def test_dropout2d_on_2d_input_warns_and_drops_elements_as_torch():
    # PyTorch 2.13: a deprecation warning, then channels along dim 1, i.e. single elements.
    with pytest.warns(UserWarning, match=r"^dropout2d: Received a 2-D input to dropout2d, "
                                         r"which is deprecated"):
        y = tc.nn.Dropout2d(0.5)(tc.ones(40, 50)).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    assert ((y == 0).any(1) & (y == 2).any(1)).all()  # elements, not whole rows
    assert 0.3 < (y == 0).mean() < 0.7
    with pytest.warns(UserWarning, match="Received a 2-D input"):  # eval: warns, then identity
        assert (tc.nn.Dropout2d(0.5).eval()(tc.ones(3, 4)) == 1).all()
    with pytest.warns(UserWarning, match="Received a 5-D input"):
        y5 = F.dropout2d(tc.ones(2, 8, 2, 2, 2), 0.5).numpy().reshape(2, 8, -1)
    assert np.all((y5 == 0).all(-1) | (y5 == 2).all(-1))
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.dropout2d(tc.ones(6))
