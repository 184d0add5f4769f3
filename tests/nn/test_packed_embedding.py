"""``PackedEmbedding``: padded ids in, a PackedSequence by length out."""

import numpy
import pytest

import trainctl as tc


def test_packed_rows_equal_each_row_run_alone():
    tc.manual_seed(0)
    packed = tc.nn.Sequential(tc.nn.PackedEmbedding(10, 4), tc.nn.GRU(4, 6, batch_first=True),
                              tc.nn.LastTimeStep())
    plain = tc.nn.Sequential(tc.nn.Embedding(10, 4), tc.nn.GRU(4, 6, batch_first=True),
                             tc.nn.LastTimeStep())
    plain.load_state_dict(packed.state_dict())  # same keys as Embedding: weight
    ids = tc.tensor([[3, 5, 2, 0], [7, 0, 0, 0], [1, 2, 3, 4]])
    out = packed(ids)
    for row, n in zip(range(3), (3, 1, 4)):
        alone = plain(ids[row:row + 1, :n])
        numpy.testing.assert_allclose(out[row:row + 1].detach().numpy(), alone.detach().numpy(),
                                   atol=1e-6)
    out.sum().backward()
    assert packed[0].weight.grad[0].abs().sum().item() == 0  # padding gets no gradient


def test_refuses_what_it_cannot_pack():
    emb = tc.nn.PackedEmbedding(10, 4)
    with pytest.raises(ValueError, match="padding must come after the tokens"):
        emb(tc.tensor([[0, 3, 4]]))
    with pytest.raises(ValueError, match="a row has no token besides padding"):
        emb(tc.tensor([[3, 4], [0, 0]]))
    with pytest.raises(ValueError, match=r"expects padded ids \(N, T\)"):
        emb(tc.tensor([3, 4]))
    with pytest.raises(ValueError, match="needs a padding_idx"):
        tc.nn.PackedEmbedding(10, 4, padding_idx=None)


def test_meta_device_gives_shapes():
    emb = tc.nn.PackedEmbedding(10, 4, device="meta")
    out = emb(tc.zeros(2, 5, dtype=tc.int64, device="meta"))
    assert out.data.shape == (10, 4)
