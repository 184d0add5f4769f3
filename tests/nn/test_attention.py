"""Attention and Transformer layers: the fused op's gradients, masks, options and errors.

Numbers against PyTorch are in test_golden_seq.py.
"""

import numpy as np
import pytest

import trainctl as tc
from trainctl.autograd import gradcheck

F = tc.nn.functional


def r(*shape):
    return tc.randn(*shape, dtype=tc.float64, requires_grad=True)


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"scale": 0.7}])
def test_sdpa_gradcheck(kwargs):
    tc.manual_seed(0)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs),
                     [r(2, 3, 4, 5), r(2, 3, 4, 5), r(2, 3, 4, 6)])


def test_sdpa_gradcheck_float_mask_and_broadcast_batch():
    tc.manual_seed(1)
    assert gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                     [r(2, 3, 4, 5), r(1, 3, 6, 5), r(1, 3, 6, 2), r(4, 6)])


def test_sdpa_bool_mask_equals_minus_inf_mask():
    q, k, v = tc.randn(2, 4, 3), tc.randn(2, 5, 3), tc.randn(2, 5, 3)
    allowed = tc.tensor(np.random.default_rng(0).random((4, 5)) > 0.4)
    allowed[:, 0] = True
    additive = tc.zeros(4, 5).masked_fill(allowed.logical_not(), float("-inf"))
    a = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    b = F.scaled_dot_product_attention(q, k, v, attn_mask=additive)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_sdpa_fully_masked_row_is_zero_without_nan_gradients():
    q, k, v = r(1, 2, 3), r(1, 4, 3), r(1, 4, 3)
    mask = tc.tensor([[False] * 4, [True] * 4])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert out.detach()[0, 0].tolist() == [0.0, 0.0, 0.0]
    out.sum().backward()
    assert np.isfinite(q.grad.numpy()).all() and np.isfinite(k.grad.numpy()).all()


def test_sdpa_dropout_uses_the_seeded_generator_and_checks_arguments():
    q = tc.randn(2, 5, 4)
    tc.manual_seed(7)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    tc.manual_seed(7)
    b = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), F.scaled_dot_product_attention(q, q, q).numpy())
    with pytest.raises(RuntimeError, match="attn_mask should not be set"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tc.zeros(5, 5), is_causal=True)


def test_sdpa_grouped_query_attention():
    q, kv = tc.randn(1, 4, 3, 2), tc.randn(1, 2, 3, 2)
    out = F.scaled_dot_product_attention(q, kv, kv, enable_gqa=True)
    wide = kv[:, [0, 0, 1, 1]]
    np.testing.assert_allclose(out.numpy(),
                               F.scaled_dot_product_attention(q, wide, wide).numpy(), rtol=1e-6)


def test_mha_parameters_are_torchs():
    mha = tc.nn.MultiheadAttention(8, 2, add_bias_kv=True)
    assert list(mha.state_dict()) == ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                                      "out_proj.weight", "out_proj.bias"]
    assert float(mha.in_proj_bias.abs().sum()) == 0.0
    separate = tc.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)
    assert list(separate.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                           "out_proj.weight"]
    assert "NonDynamicallyQuantizableLinear" in repr(mha)
    with pytest.raises(AssertionError, match="divisible by num_heads"):
        tc.nn.MultiheadAttention(10, 3)


def test_mha_weights_shapes_and_fused_path_agree():
    tc.manual_seed(0)
    mha = tc.nn.MultiheadAttention(8, 2, batch_first=True)
    x = tc.randn(3, 5, 8)
    kpm = tc.tensor([[False] * 5, [False, False, False, True, True], [False] * 4 + [True]])
    out, w = mha(x, x, x, key_padding_mask=kpm)
    assert out.shape == (3, 5, 8) and w.shape == (3, 5, 5)
    np.testing.assert_allclose(w.detach().sum(-1).numpy(), np.ones((3, 5)), rtol=1e-6)
    assert float(w.detach()[1, :, 3:].abs().sum()) == 0.0  # padded keys get no weight
    fused, none = mha(x, x, x, key_padding_mask=kpm, need_weights=False)
    assert none is None
    np.testing.assert_allclose(fused.detach().numpy(), out.detach().numpy(), atol=1e-6)
    per_head = mha(x, x, x, average_attn_weights=False)[1]
    assert per_head.shape == (3, 2, 5, 5)


def test_mha_gradcheck():
    tc.manual_seed(3)
    mha = tc.nn.MultiheadAttention(4, 2, kdim=3, vdim=2).double()
    mask = tc.tensor([[False, False, True], [False, True, False]])
    assert gradcheck(lambda q, k, v: mha(q, k, v, key_padding_mask=mask, need_weights=False)[0],
                     [r(4, 2, 4), r(3, 2, 3), r(3, 2, 2)])


def test_mha_is_causal_needs_a_mask():
    mha = tc.nn.MultiheadAttention(4, 2)
    x = tc.randn(3, 1, 4)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        mha(x, x, x, is_causal=True)


def test_transformer_layers_and_keys():
    layer = tc.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    encoder = tc.nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    assert len(encoder.layers) == 3 and encoder.layers[0] is not encoder.layers[1]
    assert "layers.2.self_attn.in_proj_weight" in encoder.state_dict()
    model = tc.nn.Transformer(8, 2, 1, 1, 16)
    assert list(model.state_dict())[:3] == [
        "encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.0.self_attn.in_proj_bias",
        "encoder.layers.0.self_attn.out_proj.weight"]
    assert "decoder.layers.0.multihead_attn.in_proj_weight" in model.state_dict()
    assert "decoder.norm.weight" in model.state_dict()
    with pytest.raises(RuntimeError, match="feature number"):
        model(tc.randn(4, 2, 6), tc.randn(3, 2, 6))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        tc.nn.TransformerEncoderLayer(8, 2, activation="swish")


def test_causal_mask_matches_the_future_being_invisible():
    mask = tc.nn.Transformer.generate_square_subsequent_mask(3)
    assert mask.dtype == tc.float32
    assert mask.tolist() == [[0.0, -np.inf, -np.inf], [0.0, 0.0, -np.inf], [0.0, 0.0, 0.0]]
    tc.manual_seed(0)
    layer = tc.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=tc.nn.functional.gelu)
    x = tc.randn(5, 1, 8)
    full = layer(x, src_mask=tc.nn.Transformer.generate_square_subsequent_mask(5))
    prefix = layer(x[:3], src_mask=tc.nn.Transformer.generate_square_subsequent_mask(3))
    np.testing.assert_allclose(full.detach()[:3].numpy(), prefix.detach().numpy(), atol=1e-5)


def test_transformer_trains_a_step():
    tc.manual_seed(0)
    model = tc.nn.Transformer(8, 2, 1, 1, 16, batch_first=True, norm_first=True)
    opt = tc.optim.SGD(model.parameters(), lr=0.1)
    src, tgt = tc.randn(2, 5, 8), tc.randn(2, 4, 8)
    loss = model(src, tgt).pow(2).mean()
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    opt.step()
    assert float(model(src, tgt).pow(2).mean()) < float(loss)
