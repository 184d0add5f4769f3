"""Recurrent layers, cells and packed sequences: gradients, shapes, options and errors.

Numbers against PyTorch are in test_golden_seq.py; here the recurrence ops are gradient-checked
in float64 (with and without variable lengths, both directions) and the layers' behaviour is
checked without torch.
"""

import numpy as np
import pytest

import trainctl as tc
from trainctl.autograd import gradcheck
from trainctl.nn.functional.recurrent import gru_recurrence, lstm_recurrence, rnn_recurrence
from trainctl.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

T, B, H, P = 4, 3, 5, 2


def r(*shape):
    return tc.randn(*shape, dtype=tc.float64, requires_grad=True)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [4, 2, 1]])
def test_recurrence_ops_gradcheck(reverse, lengths):
    tc.manual_seed(0)
    for nonlinearity in ("tanh", "relu"):
        assert gradcheck(lambda x, w, b, h, act=nonlinearity: rnn_recurrence(
            x, w, b, h, reverse, act, lengths),
                         [r(T, B, H), r(H, H), r(H), r(B, H)])
    assert gradcheck(lambda x, w, b, h: gru_recurrence(x, w, b, h, reverse, lengths),
                     [r(T, B, 3 * H), r(3 * H, H), r(3 * H), r(B, H)])
    assert gradcheck(lambda x, w, b, h, c: lstm_recurrence(x, w, b, h, c, None, reverse, lengths),
                     [r(T, B, 4 * H), r(4 * H, H), r(4 * H), r(B, H), r(B, H)])
    assert gradcheck(lambda x, w, b, h, c, wr: lstm_recurrence(x, w, b, h, c, wr, reverse,
                                                               lengths),
                     [r(T, B, 4 * H), r(4 * H, P), r(4 * H), r(B, P), r(B, H), r(P, H)])


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_layer_gradcheck_through_everything(cls):
    tc.manual_seed(1)
    layer = getattr(tc.nn, cls)(3, 4, num_layers=2, bidirectional=True).double()
    x = r(5, 2, 3)

    names = [name for name, _ in layer.named_parameters()]
    weights = [p.detach().clone().requires_grad_() for p in layer.parameters()]
    for name in names:  # plain attributes instead, so gradcheck's float64 leaves are used
        delattr(layer, name)

    def f(x, *weights):
        for name, w in zip(names, weights):
            setattr(layer, name, w)
        out, finals = layer(x)
        return (out, *(finals if isinstance(finals, tuple) else (finals,)))

    assert gradcheck(f, [x, *weights])


def test_state_dict_keys_shapes_and_order_are_torchs():
    lstm = tc.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    shapes = {k: tuple(v.shape) for k, v in lstm.state_dict().items()}
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                "weight_hr_l0"]
    assert shapes["weight_ih_l1_reverse"] == (20, 4)  # layer input: 2 directions x proj 2
    assert shapes["weight_hh_l1_reverse"] == (20, 2)
    assert shapes["weight_hr_l1_reverse"] == (2, 5)
    assert len(shapes) == 20
    gru = tc.nn.GRU(3, 4, bias=False)
    assert list(gru.state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert list(tc.nn.LSTMCell(3, 4).state_dict()) == ["weight_ih", "weight_hh", "bias_ih",
                                                       "bias_hh"]


def test_initialisation_is_uniform_within_one_over_sqrt_hidden():
    tc.manual_seed(0)
    for p in tc.nn.GRU(10, 16, num_layers=2).parameters():
        assert float(p.abs().max()) <= 0.25 and float(p.abs().max()) > 0.2


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_shapes_batch_first_unbatched_and_default_state(cls):
    layer = getattr(tc.nn, cls)(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    out, finals = layer(tc.randn(2, 7, 3))
    h = finals[0] if cls == "LSTM" else finals
    assert out.shape == (2, 7, 8) and h.shape == (4, 2, 4)
    out, finals = layer(tc.randn(7, 3))  # unbatched: no batch dimension anywhere
    h = finals[0] if cls == "LSTM" else finals
    assert out.shape == (7, 8) and h.shape == (4, 4)


@tc.no_grad()
def test_final_state_is_the_last_output_step():
    lstm = tc.nn.LSTM(3, 4, bidirectional=True)
    out, (h, c) = lstm(tc.randn(6, 2, 3))
    np.testing.assert_allclose(h[0].numpy(), out[-1, :, :4].numpy())  # forward: last step
    np.testing.assert_allclose(h[1].numpy(), out[0, :, 4:].numpy())  # reverse: first step


@tc.no_grad()
def test_dropout_between_layers_only_in_training():
    tc.manual_seed(0)
    gru = tc.nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = tc.randn(5, 2, 3)
    gru.eval()
    a, b = gru(x)[0], gru(x)[0]
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    gru.train()
    assert not np.allclose(gru(x)[0].numpy(), gru(x)[0].numpy())
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        tc.nn.LSTM(3, 4, dropout=0.2)


def test_options_are_checked_as_in_torch():
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        tc.nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        tc.nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        tc.nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout should be a number"):
        tc.nn.GRU(3, 4, dropout=1.5)
    lstm = tc.nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size"):
        lstm(tc.randn(5, 2, 7))
    with pytest.raises(RuntimeError, match="Expected hidden\\[0\\] size \\(1, 2, 4\\)"):
        lstm(tc.randn(5, 2, 3), (tc.zeros(1, 3, 4), tc.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D"):
        lstm(tc.randn(5, 2, 3, 1))


def test_repr_is_torchs():
    assert repr(tc.nn.LSTM(10, 20, 2, batch_first=True)) == \
        "LSTM(10, 20, num_layers=2, batch_first=True)"
    assert repr(tc.nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_shapes_and_gradcheck(cls):
    tc.manual_seed(2)
    cell = getattr(tc.nn, cls)(3, 4).double()
    out = cell(tc.randn(5, 3, dtype=tc.float64))
    h = out[0] if cls == "LSTMCell" else out
    assert h.shape == (5, 4)
    one = cell(tc.randn(3, dtype=tc.float64))
    assert (one[0] if cls == "LSTMCell" else one).shape == (4,)
    states = [r(5, 4), r(5, 4)] if cls == "LSTMCell" else [r(5, 4)]
    assert gradcheck(lambda x, *hx: cell(x, tuple(hx) if len(hx) == 2 else hx[0]),
                     [r(5, 3), *states])


# ------------------------------------------------------------------- packed sequences


def test_pack_and_pad_round_trip_in_the_original_order():
    seqs = [tc.tensor([1.0, 2.0]), tc.tensor([3.0, 4.0, 5.0]), tc.tensor([6.0])]
    packed = pack_sequence(seqs, enforce_sorted=False)
    assert packed.data.tolist() == [3.0, 1.0, 6.0, 4.0, 2.0, 5.0]
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices.tolist() == [1, 0, 2]
    assert packed.unsorted_indices.tolist() == [1, 0, 2]
    padded, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=-1.0)
    assert padded.tolist() == [[1.0, 2.0, -1.0], [3.0, 4.0, 5.0], [6.0, -1.0, -1.0]]
    assert lengths.tolist() == [2, 3, 1] and lengths.dtype == tc.int64
    assert [s.tolist() for s in unpack_sequence(packed)] == [s.tolist() for s in seqs]
    assert [s.tolist() for s in unpad_sequence(padded, lengths, batch_first=True)] == \
        [s.tolist() for s in seqs]
    assert pad_packed_sequence(packed, total_length=5)[0].shape == (5, 3)
    with pytest.raises(ValueError, match="total_length"):
        pad_packed_sequence(packed, total_length=2)


def test_pack_padded_sequence_checks_lengths():
    x = tc.zeros(4, 2, 3)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        pack_padded_sequence(x, [2, 4])
    with pytest.raises(RuntimeError, match="greater than 0"):
        pack_padded_sequence(x, [4, 0])
    packed = pack_padded_sequence(x, tc.tensor([4, 2]))
    assert isinstance(packed, PackedSequence) and packed.sorted_indices is None
    assert packed.data.shape == (6, 3)


def test_pad_sequence_sides_and_gradient():
    a, b = tc.ones(2, 3, requires_grad=True), tc.ones(4, 3, requires_grad=True)
    assert pad_sequence([a, b]).shape == (4, 2, 3)
    left = pad_sequence([a, b], batch_first=True, padding_side="left")
    assert left[0, :, 0].tolist() == [0.0, 0.0, 1.0, 1.0]
    left.sum().backward()
    assert a.grad.tolist() == [[1.0] * 3] * 2


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@tc.no_grad()
def test_packed_input_equals_each_sequence_run_alone(cls):
    tc.manual_seed(3)
    layer = getattr(tc.nn, cls)(3, 4, num_layers=2, bidirectional=True).double()
    seqs = [tc.randn(n, 3, dtype=tc.float64) for n in (2, 5, 3)]
    out, finals = layer(pack_sequence(seqs, enforce_sorted=False))
    padded, lengths = pad_packed_sequence(out)
    h_n = finals[0] if cls == "LSTM" else finals
    for i, s in enumerate(seqs):
        alone, alone_finals = layer(s.unsqueeze(1))
        n = int(lengths[i])
        np.testing.assert_allclose(padded[:n, i].numpy(), alone[:, 0].numpy(), atol=1e-12)
        assert float(padded[n:, i].abs().sum()) == 0.0
        alone_h = alone_finals[0] if cls == "LSTM" else alone_finals
        np.testing.assert_allclose(h_n[:, i].numpy(), alone_h[:, 0].numpy(), atol=1e-12)


def test_packed_gradients_reach_only_valid_steps():
    lstm = tc.nn.LSTM(3, 4).double()
    x = tc.randn(5, 2, 3, dtype=tc.float64, requires_grad=True)
    out, (h, c) = lstm(pack_padded_sequence(x, [5, 2]))
    (pad_packed_sequence(out)[0].sum() + h.sum() + c.sum()).backward()
    assert float(x.grad[2:, 1].abs().sum()) == 0.0
    assert float(x.grad[:2, 1].abs().sum()) > 0.0


def test_graph_mode_replays_recurrent_and_attention_steps_with_eager_numbers():
    x = tc.randn(6, 3, 4)

    def make():
        tc.manual_seed(0)
        lstm, head = tc.nn.LSTM(4, 8, 2, dropout=0.3), tc.nn.TransformerEncoderLayer(8, 2, 16)
        return lstm, head, tc.optim.SGD([*lstm.parameters(), *head.parameters()], lr=0.1)

    lstm, head, opt = make()

    def eager_step():
        loss = head(lstm(x)[0]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    g_lstm, g_head, g_opt = make()

    class Step(tc.nn.Graph):
        def __init__(self):
            super().__init__()
            self.lstm, self.head = g_lstm, g_head
            self.add_optimizer(g_opt)

        def build(self, x):
            loss = self.head(self.lstm(x)[0]).pow(2).mean()
            loss.backward()
            return loss

    graph = Step()
    tc.manual_seed(5)  # the same dropout masks in both
    eager = [float(eager_step()) for _ in range(3)]
    tc.manual_seed(5)
    replayed = [float(graph(x)) for _ in range(3)]
    assert replayed == eager and graph.replays == 2


def test_layers_run_on_the_meta_device_packed_or_not():
    lstm = tc.nn.LSTM(3, 4, 2, bidirectional=True, device="meta")
    out, (h, c) = lstm(tc.randn(5, 2, 3, device="meta"))
    assert out.shape == (5, 2, 8) and h.shape == (4, 2, 4) and out.device.type == "meta"
    packed = pack_sequence([tc.randn(3, 3, device="meta"), tc.randn(2, 3, device="meta")])
    out, _ = lstm(packed)
    assert pad_packed_sequence(out)[0].shape == (3, 2, 8)
    assert packed.batch_sizes.device.type == "cpu"
    layer = tc.nn.TransformerEncoderLayer(8, 2, 16, device="meta")
    assert layer(tc.randn(5, 2, 8, device="meta")).shape == (5, 2, 8)
