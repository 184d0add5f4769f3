"""trainctl's sequence layers for configs: positional encodings and tuple-output adapters."""

import math

import numpy as np
import pytest

import trainctl as tc
from trainctl.nn.utils.rnn import pack_sequence


def test_sinusoidal_table_values_and_no_state():
    pe = tc.nn.SinusoidalPositionalEncoding(6, max_len=10)
    out = pe(tc.zeros(1, 4, 6))
    assert out[0, 1, 0].item() == pytest.approx(math.sin(1.0))
    assert out[0, 1, 1].item() == pytest.approx(math.cos(1.0))
    assert out[0, 2, 2].item() == pytest.approx(math.sin(2 / 10000 ** (2 / 6)), rel=1e-5)
    assert list(pe.state_dict()) == []
    seq_first = tc.nn.SinusoidalPositionalEncoding(6, batch_first=False)
    np.testing.assert_allclose(seq_first(tc.zeros(4, 2, 6))[:, 1].numpy(), out[0].numpy())
    with pytest.raises(ValueError, match="longer than max_len"):
        pe(tc.zeros(1, 11, 6))


def test_odd_model_size_and_learned_encoding_trains():
    assert tc.nn.SinusoidalPositionalEncoding(5)(tc.zeros(2, 3, 5)).shape == (2, 3, 5)
    pe = tc.nn.LearnedPositionalEncoding(4, max_len=8)
    assert list(pe.state_dict()) == ["weight"]
    pe(tc.zeros(2, 3, 4)).sum().backward()
    assert pe.weight.grad[:3].tolist() == [[2.0] * 4] * 3
    assert pe.weight.grad[3:].abs().sum().item() == 0.0


@tc.no_grad()
def test_adapters_on_plain_outputs():
    tc.manual_seed(0)
    lstm = tc.nn.LSTM(3, 4, batch_first=True)
    x = tc.randn(2, 5, 3)
    out, (h, c) = lstm(x)
    np.testing.assert_array_equal(tc.nn.RNNOutput()((out, (h, c))).numpy(), out.numpy())
    np.testing.assert_array_equal(tc.nn.LastTimeStep()((out, (h, c))).numpy(),
                                  out[:, -1].numpy())
    np.testing.assert_allclose(tc.nn.MeanOverTime()(out).numpy(), out.mean(1).numpy())
    np.testing.assert_array_equal(tc.nn.FinalHidden()((out, (h, c))).numpy(), h[-1].numpy())

@tc.no_grad()
def test_adapters_on_packed_outputs():
    tc.manual_seed(0)
    lstm = tc.nn.LSTM(3, 4, batch_first=True)
    seqs = [tc.randn(2, 3), tc.randn(5, 3)]
    packed_out = lstm(pack_sequence(seqs, enforce_sorted=False))
    last = tc.nn.LastTimeStep()(packed_out)
    mean = tc.nn.MeanOverTime()(packed_out)
    for i, s in enumerate(seqs):
        alone = lstm(s.unsqueeze(0))[0][0]
        np.testing.assert_allclose(last[i].numpy(), alone[-1].numpy(),
                                   atol=1e-6)
        np.testing.assert_allclose(mean[i].numpy(), alone.mean(0).numpy(),
                                   atol=1e-6)


def test_a_sequential_classifier_from_layers_a_config_can_name():
    model = tc.nn.Sequential(tc.nn.Embedding(10, 8), tc.nn.GRU(8, 6, batch_first=True,
                                                               bidirectional=True),
                             tc.nn.FinalHidden(bidirectional=True), tc.nn.Linear(12, 3))
    assert model(tc.tensor([[1, 2, 3], [4, 5, 6]])).shape == (2, 3)
    with pytest.raises(TypeError, match="FinalHidden expects"):
        tc.nn.FinalHidden()(tc.zeros(2, 3))


def test_the_registry_finds_the_sequence_layers():
    from trainctl.config.registry import registry

    names = set(registry("model").names())
    assert {"LSTM", "GRU", "TransformerEncoder", "MultiheadAttention", "LastTimeStep",
            "MeanOverTime", "RNNOutput", "FinalHidden", "SinusoidalPositionalEncoding",
            "LearnedPositionalEncoding"} <= names
