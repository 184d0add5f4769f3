"""Sequence layers checked against PyTorch, written once for either library.

Each case builds a layer of ``m.nn`` (``m`` is ``torch`` or ``trainctl``) in float64 and runs it
on fixed inputs with the API the two share. ``gen_nn_seq.py`` runs the cases on torch and stores
the layer's initial ``state_dict``, the inputs, every output and the gradients of the inputs,
weights and initial states; ``tests/nn/test_golden_seq.py`` loads the same weights into the
trainctl layer and must reproduce them. This module imports neither library (only NumPy).
"""

import numpy

# name -> spec. "layer" (a class of m.nn) or "fn" ("sdpa"); "kwargs" for it; "inputs" shapes
# (float64, random); "hx": shapes of the initial states; "packed": (lengths, enforce_sorted);
# "call": keyword arguments that are masks ("bool"/"float" arrays of a shape) or constants.
CASES = {
    "rnn_tanh": {"layer": "RNN", "kwargs": {"input_size": 3, "hidden_size": 4},
                 "inputs": [(5, 2, 3)], "hx": [(1, 2, 4)]},
    "rnn_relu_2layer_bidirectional": {
        "layer": "RNN", "kwargs": {"input_size": 3, "hidden_size": 4, "num_layers": 2,
                                   "bidirectional": True, "nonlinearity": "relu"},
        "inputs": [(5, 2, 3)], "hx": [(4, 2, 4)]},
    "lstm": {"layer": "LSTM", "kwargs": {"input_size": 3, "hidden_size": 4},
             "inputs": [(6, 3, 3)], "hx": [(1, 3, 4), (1, 3, 4)]},
    "lstm_2layer_bidirectional_batch_first": {
        "layer": "LSTM", "kwargs": {"input_size": 3, "hidden_size": 5, "num_layers": 2,
                                    "bidirectional": True, "batch_first": True},
        "inputs": [(3, 6, 3)], "hx": [(4, 3, 5), (4, 3, 5)]},
    "lstm_proj_no_bias": {
        "layer": "LSTM", "kwargs": {"input_size": 3, "hidden_size": 5, "proj_size": 2,
                                    "num_layers": 2, "bias": False},
        "inputs": [(4, 2, 3)], "hx": [(2, 2, 2), (2, 2, 5)]},
    "lstm_unbatched_default_state": {
        "layer": "LSTM", "kwargs": {"input_size": 3, "hidden_size": 4}, "inputs": [(5, 3)]},
    "lstm_packed_unsorted_bidirectional": {
        "layer": "LSTM", "kwargs": {"input_size": 3, "hidden_size": 4, "num_layers": 2,
                                    "bidirectional": True, "proj_size": 3},
        "inputs": [(6, 4, 3)], "hx": [(4, 4, 3), (4, 4, 4)], "packed": ([3, 6, 1, 4], False)},
    "gru": {"layer": "GRU", "kwargs": {"input_size": 3, "hidden_size": 4},
            "inputs": [(5, 2, 3)], "hx": [(1, 2, 4)]},
    "gru_2layer_bidirectional_no_bias": {
        "layer": "GRU", "kwargs": {"input_size": 3, "hidden_size": 4, "num_layers": 2,
                                   "bidirectional": True, "bias": False},
        "inputs": [(5, 2, 3)], "hx": [(4, 2, 4)]},
    "gru_packed_sorted_batch_first": {
        "layer": "GRU", "kwargs": {"input_size": 3, "hidden_size": 4, "batch_first": True,
                                   "num_layers": 2},
        "inputs": [(3, 5, 3)], "hx": [(2, 3, 4)], "packed": ([5, 3, 3], True)},
    "rnn_packed_unsorted": {
        "layer": "RNN", "kwargs": {"input_size": 3, "hidden_size": 4, "bidirectional": True},
        "inputs": [(5, 3, 3)], "packed": ([2, 5, 4], False)},
    "rnn_cell_relu": {"layer": "RNNCell", "kwargs": {"input_size": 3, "hidden_size": 4,
                                                      "nonlinearity": "relu"},
                      "inputs": [(5, 3)], "hx": [(5, 4)]},
    "lstm_cell": {"layer": "LSTMCell", "kwargs": {"input_size": 3, "hidden_size": 4},
                  "inputs": [(5, 3)], "hx": [(5, 4), (5, 4)]},
    "gru_cell_unbatched": {"layer": "GRUCell", "kwargs": {"input_size": 3, "hidden_size": 4},
                           "inputs": [(3,)], "hx": [(4,)]},
    "sdpa": {"fn": "sdpa", "inputs": [(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)]},
    "sdpa_causal_scale": {"fn": "sdpa", "inputs": [(2, 5, 4), (2, 7, 4), (2, 7, 3)],
                          "call": {"is_causal": True, "scale": 0.3}},
    "sdpa_bool_mask": {"fn": "sdpa", "inputs": [(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)],
                       "call": {"attn_mask": ("bool", (5, 6))}},
    "sdpa_float_mask": {"fn": "sdpa", "inputs": [(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)],
                        "call": {"attn_mask": ("float", (3, 5, 6))}},
    "mha_self": {"layer": "MultiheadAttention", "kwargs": {"embed_dim": 8, "num_heads": 2},
                 "inputs": [(5, 3, 8)], "self": True},
    "mha_masks": {
        "layer": "MultiheadAttention", "kwargs": {"embed_dim": 8, "num_heads": 2},
        "inputs": [(5, 3, 8), (6, 3, 8), (6, 3, 8)],
        "call": {"key_padding_mask": ("padding", (3, 6)), "attn_mask": ("bool", (5, 6))}},
    "mha_masks_fused_batch_first": {
        "layer": "MultiheadAttention",
        "kwargs": {"embed_dim": 8, "num_heads": 4, "batch_first": True},
        "inputs": [(3, 5, 8), (3, 6, 8), (3, 6, 8)],
        "call": {"key_padding_mask": ("padding", (3, 6)), "attn_mask": ("float", (5, 6)),
                 "need_weights": False}},
    "mha_kdim_vdim_per_head": {
        "layer": "MultiheadAttention",
        "kwargs": {"embed_dim": 8, "num_heads": 2, "kdim": 5, "vdim": 3},
        "inputs": [(5, 3, 8), (6, 3, 5), (6, 3, 3)],
        "call": {"average_attn_weights": False, "key_padding_mask": ("padding", (3, 6))}},
    "mha_bias_kv_zero_attn": {
        "layer": "MultiheadAttention",
        "kwargs": {"embed_dim": 8, "num_heads": 2, "add_bias_kv": True, "add_zero_attn": True},
        "inputs": [(5, 3, 8), (6, 3, 8), (6, 3, 8)],
        "call": {"key_padding_mask": ("padding", (3, 6))}},
    "encoder_layer": {
        "layer": "TransformerEncoderLayer",
        "kwargs": {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "dropout": 0.0},
        "inputs": [(5, 3, 8)], "call": {"src_key_padding_mask": ("padding", (3, 5))}},
    "encoder_layer_norm_first_gelu_causal": {
        "layer": "TransformerEncoderLayer",
        "kwargs": {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "dropout": 0.0,
                   "norm_first": True, "activation": "gelu", "batch_first": True},
        "inputs": [(3, 5, 8)], "call": {"src_mask": ("causal", 5)}},
    "decoder_layer": {
        "layer": "TransformerDecoderLayer",
        "kwargs": {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "dropout": 0.0},
        "inputs": [(5, 3, 8), (6, 3, 8)],
        "call": {"tgt_mask": ("causal", 5), "memory_key_padding_mask": ("padding", (3, 6))}},
    "transformer": {
        "layer": "Transformer",
        "kwargs": {"d_model": 8, "nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 1,
                   "dim_feedforward": 16, "dropout": 0.0},
        "inputs": [(6, 3, 8), (5, 3, 8)],
        "call": {"tgt_mask": ("causal", 5), "src_key_padding_mask": ("padding", (3, 6))}},
}


def make_call_arrays(name: str, spec: dict, rng) -> dict:
    """The mask arrays of a case (NumPy), keyed ``call.<argument>``."""
    arrays = {}
    for key, value in spec.get("call", {}).items():
        if not isinstance(value, tuple):
            continue
        kind, shape = value
        if kind == "bool":
            masked = rng.random(shape) > 0.7
            masked[..., 0] = False  # no row fully masked
            # sdpa's boolean mask says where attention is allowed, the layers' where it is not
            arrays[f"call.{key}"] = ~masked if spec.get("fn") == "sdpa" else masked
        elif kind == "padding":  # True after each sequence's end (never the whole row)
            lengths = rng.integers(1, shape[1] + 1, size=shape[0])
            arrays[f"call.{key}"] = numpy.arange(shape[1])[None, :] >= lengths[:, None]
        elif kind == "float":
            arrays[f"call.{key}"] = rng.standard_normal(shape)
        elif kind == "causal":
            arrays[f"call.{key}"] = numpy.triu(numpy.full((shape, shape), -numpy.inf), 1)
    return arrays


def build(m, spec):
    """The case's layer (float64), or None for a functional case."""
    if "layer" not in spec:
        return None
    return getattr(m.nn, spec["layer"])(**spec["kwargs"]).double()


def run(m, module, spec, inputs, states, call):
    """Every output of the case as a flat list of tensors (packed outputs padded)."""
    utils = m.nn.utils.rnn
    if spec.get("fn") == "sdpa":
        return [m.nn.functional.scaled_dot_product_attention(*inputs, **call)]
    if spec.get("self"):
        inputs = inputs * 3
    if spec["layer"].endswith("Cell"):
        hx = None if not states else states[0] if len(states) == 1 else tuple(states)
        out = module(inputs[0], hx)
        return list(out) if isinstance(out, tuple) else [out]
    if spec["layer"] in ("RNN", "LSTM", "GRU"):
        batch_first = spec["kwargs"].get("batch_first", False)
        x = inputs[0]
        if "packed" in spec:
            lengths, enforce = spec["packed"]
            x = utils.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                           enforce_sorted=enforce)
        hx = None if not states else states[0] if len(states) == 1 else tuple(states)
        out, finals = module(x, hx)
        if "packed" in spec:
            out = utils.pad_packed_sequence(out, batch_first=batch_first)[0]
        return [out] + (list(finals) if isinstance(finals, tuple) else [finals])
    out = module(*inputs, **call)
    if isinstance(out, tuple):
        return [o for o in out if o is not None]
    return [out]
