"""Shape ops: values against NumPy and finite-difference gradients."""

import numpy
import pytest

import trainctl as tc
from tests.autograd.helpers import rand
from trainctl.autograd import gradcheck

# name -> (function of a (2, 3, 4) tensor, the same on a NumPy array)
SHAPE_OPS = {
    "reshape": (lambda x: x.reshape(4, 6), lambda a: a.reshape(4, 6)),
    "reshape_tuple_-1": (lambda x: x.reshape((-1, 2)), lambda a: a.reshape(-1, 2)),
    "tc.reshape": (lambda x: tc.reshape(x, (6, 4)), lambda a: a.reshape(6, 4)),
    "view": (lambda x: x.view(2, 12), lambda a: a.reshape(2, 12)),
    "view_as": (lambda x: x.view_as(tc.zeros(6, 4)), lambda a: a.reshape(6, 4)),
    "flatten": (lambda x: x.flatten(), lambda a: a.reshape(-1)),
    "flatten_1": (lambda x: x.flatten(1), lambda a: a.reshape(2, 12)),
    "flatten_0_1": (lambda x: tc.flatten(x, 0, 1), lambda a: a.reshape(6, 4)),
    "unflatten": (lambda x: x.unflatten(2, (2, 2)), lambda a: a.reshape(2, 3, 2, 2)),
    "unflatten_-1": (lambda x: x.unflatten(-1, (2, -1)), lambda a: a.reshape(2, 3, 2, 2)),
    "squeeze_none": (lambda x: x[:, :1].squeeze(), lambda a: a[:, 0]),
    "squeeze_dim": (lambda x: x[:, :1].squeeze(1), lambda a: a[:, 0]),
    "squeeze_noop": (lambda x: x.squeeze(0), lambda a: a),
    "unsqueeze": (lambda x: x.unsqueeze(1), lambda a: a[:, None]),
    "unsqueeze_-1": (lambda x: tc.unsqueeze(x, -1), lambda a: a[..., None]),
    "permute": (lambda x: x.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    "permute_tuple": (lambda x: tc.permute(x, (1, 2, 0)), lambda a: a.transpose(1, 2, 0)),
    "transpose": (lambda x: x.transpose(0, 2), lambda a: a.swapaxes(0, 2)),
    "swapaxes": (lambda x: x.swapaxes(-1, 1), lambda a: a.swapaxes(-1, 1)),
    "t": (lambda x: x[0].t(), lambda a: a[0].T),
    "T": (lambda x: x.T, lambda a: a.transpose(2, 1, 0)),
    "mT": (lambda x: x.mT, lambda a: a.swapaxes(-1, -2)),
    "expand": (lambda x: x[:, :1].expand(2, 3, 4), lambda a: numpy.broadcast_to(a[:, :1],
                                                                             (2, 3, 4))),
    "expand_new_dims": (lambda x: x.expand(5, -1, -1, -1), lambda a: numpy.broadcast_to(
        a, (5, 2, 3, 4))),
    "expand_as": (lambda x: x[:1].expand_as(tc.zeros(3, 3, 4)), lambda a: numpy.broadcast_to(
        a[:1], (3, 3, 4))),
    "broadcast_to": (lambda x: tc.broadcast_to(x[0, 0], (2, 4)), lambda a: numpy.broadcast_to(
        a[0, 0], (2, 4))),
    "repeat": (lambda x: x.repeat(2, 1, 3), lambda a: numpy.tile(a, (2, 1, 3))),
    "repeat_more_dims": (lambda x: x.repeat(2, 1, 1, 2), lambda a: numpy.tile(a, (2, 1, 1, 2))),
    "tile": (lambda x: x.tile(2), lambda a: numpy.tile(a, (1, 1, 2))),
    "tc.tile": (lambda x: tc.tile(x, (2, 1, 1, 1)), lambda a: numpy.tile(a, (2, 1, 1, 1))),
    "flip": (lambda x: x.flip(0), lambda a: a[::-1]),
    "flip_dims": (lambda x: tc.flip(x, (0, 2)), lambda a: a[::-1, :, ::-1]),
    "narrow": (lambda x: x.narrow(2, 1, 2), lambda a: a[:, :, 1:3]),
}


@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_op_values_and_gradients(name):
    fn, np_fn = SHAPE_OPS[name]
    x = rand(2, 3, 4)
    out = fn(x)
    expected = np_fn(x.numpy())
    assert out.shape == expected.shape
    numpy.testing.assert_array_equal(out.numpy(), expected)
    assert gradcheck(fn, [x])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack(dim):
    a, b, c = rand(2, 3, seed=1), rand(2, 3, seed=2), rand(2, 3, seed=3)
    out = tc.cat([a, b, c], dim)
    numpy.testing.assert_array_equal(
        out.numpy(), numpy.concatenate([a.numpy(), b.numpy(), c.numpy()], dim))
    assert gradcheck(lambda a, b, c: tc.cat([a, b, c], dim), [a, b, c])
    assert gradcheck(lambda a, b, c: tc.stack([a, b, c], dim), [a, b, c])
    assert tc.stack([a, b, c], dim).shape == numpy.stack([a.numpy()] * 3, dim).shape


def test_cat_of_different_sizes_and_aliases():
    a, b = rand(2, 3, seed=1), rand(4, 3, seed=2)
    assert tc.cat((a, b)).shape == (6, 3)
    assert tc.concat([a, b], 0).shape == (6, 3) and tc.concatenate([a, b]).shape == (6, 3)
    assert gradcheck(lambda a, b: tc.cat([a, b]), [a, b])
    assert tc.cat([a, tc.tensor([])]).shape == (2, 3)  # legacy empty 1-D tensors are skipped
    assert tc.cat([tc.tensor([1, 2]), tc.tensor([0.5])]).dtype == tc.float32  # promotion
    with pytest.raises(tc.ShapeError, match="sizes of tensors must match"):
        tc.cat([a, rand(2, 4)])
    with pytest.raises(tc.ShapeError, match="equal size"):
        tc.stack([a, b])


@pytest.mark.parametrize("spec", [2, 3, [1, 4], [2, 2, 1]], ids=str)
def test_split(spec):
    x = rand(5, 2)
    parts = x.split(spec)
    expected = [2, 2, 1] if spec == 2 else [3, 2] if spec == 3 else spec
    assert [p.shape[0] for p in parts] == expected
    assert gradcheck(lambda x: tc.split(x, spec), [x])
    numpy.testing.assert_array_equal(tc.cat(parts).numpy(), x.numpy())
    with pytest.raises(tc.ShapeError, match="do not add up"):
        x.split([1, 1])


@pytest.mark.parametrize("n,chunks,expected", [(6, 4, [2, 2, 2]), (5, 3, [2, 2, 1]),
                                               (6, 3, [2, 2, 2]), (2, 4, [1, 1])])
def test_chunk_sizes_match_pytorch(n, chunks, expected):
    x = rand(3, n)
    parts = x.chunk(chunks, dim=1)
    assert [p.shape[1] for p in parts] == expected
    assert gradcheck(lambda x: tc.chunk(x, chunks, 1), [x])


def test_unbind():
    x = rand(3, 4)
    rows = x.unbind()
    assert len(rows) == 3 and rows[1].shape == (4,)
    assert gradcheck(lambda x: tc.unbind(x, 1), [x])
    assert gradcheck(lambda x: x.unbind(0)[2] * 2, [x])


def test_shape_errors():
    x = tc.ones(2, 3)
    with pytest.raises(tc.ShapeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):
        x.reshape(4, 2)
    with pytest.raises(tc.ShapeError, match="permutation"):
        x.permute(0, 0)
    with pytest.raises(tc.ShapeError, match="expand"):
        x.expand(4, 3)
    with pytest.raises(tc.ShapeError, match="repeat"):
        x.repeat(2)
    with pytest.raises(tc.ShapeError, match="t\\(\\)"):
        tc.ones(2, 2, 2).t()


def test_reshape_to_same_shape_is_free_and_views_share_memory():
    x = tc.ones(2, 3)
    assert x.reshape(2, 3) is x
    v = x.view(6)
    v.array[0] = 5
    assert x[0, 0].item() == 5
    assert x.contiguous() is x


def test_narrow_with_negative_start():
    x = tc.arange(5.0)
    assert x.narrow(0, -2, 2).tolist() == [3.0, 4.0]
