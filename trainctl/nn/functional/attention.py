"""Attention: ``scaled_dot_product_attention`` as one fused op, and
``multi_head_attention_forward`` (what ``nn.MultiheadAttention`` runs), as in PyTorch.

The fused op computes ``softmax(q k^T * scale + mask) v`` over any leading (batch, head)
dimensions with batched matrix products and writes its own backward, so attention is one graph
node instead of five or six. Masks follow PyTorch: for ``scaled_dot_product_attention`` a boolean
``attn_mask`` is True where attention is ALLOWED; for ``MultiheadAttention`` boolean masks are
True where it is NOT allowed; float masks are added to the scores in both.
"""

from __future__ import annotations

import math

from ...autograd import creation
from ...autograd.array_function import ArrayFunction
from ...autograd.ops.indexing import pad
from ...autograd.ops.shape import cat
from ...autograd.ops.softmax import softmax
from ...autograd.tensor import Tensor
from ...core import backend
from ...core.random import generator_for
from .dropout import dropout
from .linear import linear

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


class Attention(ArrayFunction):
    """``dropout(softmax(q @ k^T * scale + mask)) @ v`` over leading dimensions.

    A row whose every score is masked out attends to nothing: its weights and output are zeros
    (PyTorch's "safe softmax"), and it passes no gradient.
    """

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, dropout_p, generator, causal=False):
        xp = backend.get_array_module(q)
        scores = q @ xp.swapaxes(k, -1, -2)
        scores *= scale
        if mask is not None:
            scores = scores + mask
        if causal:  # the upper triangle (the future) is masked out
            length, source = scores.shape[-2:]
            scores[..., xp.triu(xp.ones((length, source), dtype=bool), 1)] = -xp.inf
        top = scores.max(axis=-1, keepdims=True)
        top[~xp.isfinite(top)] = 0  # fully masked rows: exp(-inf) = 0, not exp(nan)
        weights = xp.exp(scores - top, out=scores)
        total = weights.sum(axis=-1, keepdims=True)
        total[total == 0] = 1
        weights /= total
        keep = None
        if dropout_p > 0 and not backend.is_meta(q):
            draw = generator_for(generator).random(weights.shape, dtype="float32")
            kept = 0.0 if dropout_p == 1.0 else 1.0 / (1.0 - dropout_p)  # p = 1 drops all
            keep = backend.to_device((draw >= dropout_p) * kept,
                                     backend.device_of(q)).astype(q.dtype)
            dropped = weights * keep
        else:
            dropped = weights
        ctx.save_for_backward(q, k, v, weights)
        ctx.meta = (scale, keep)
        return dropped @ v

    @staticmethod
    def backward(ctx, grad):
        q, k, v, weights = ctx.saved
        scale, keep = ctx.meta
        xp = backend.get_array_module(grad)
        need_q, need_k, need_v, need_mask = ctx.needs_input_grad[:4]
        dropped = weights if keep is None else weights * keep
        gv = xp.swapaxes(dropped, -1, -2) @ grad if need_v else None
        dw = grad @ xp.swapaxes(v, -1, -2)
        if keep is not None:
            dw *= keep
        # softmax backward: ds = w * (dw - sum(dw * w))
        ds = dw
        ds -= (dw * weights).sum(axis=-1, keepdims=True)
        ds *= weights
        gmask = ds if need_mask else None
        gq = (ds @ k) * scale if need_q else None
        gk = (xp.swapaxes(ds, -1, -2) @ q) * scale if need_k else None
        return gq, gk, gv, gmask


def _float_mask(mask, dtype, allowed: bool):
    """A boolean mask as 0 / -inf scores (``allowed``: True marks the kept entries), a float
    mask as it is, None as None."""
    if mask is None or mask.dtype.is_floating_point:
        return mask
    keep = mask if allowed else mask.logical_not()
    zeros = creation.zeros(tuple(mask.shape), dtype=dtype, device=mask.device)
    return zeros.masked_fill(keep.logical_not(), float("-inf"))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` over leading (batch, head) dimensions.

    ``query`` is (..., L, E), ``key`` (..., S, E), ``value`` (..., S, Ev); ``scale`` defaults to
    ``1 / sqrt(E)``. ``attn_mask`` broadcasts to (..., L, S): boolean (True = take part) or
    float (added). ``is_causal`` masks out the future (the upper triangle). ``dropout_p`` is
    applied to the attention weights, always (pass 0 when evaluating, as in PyTorch).

    Example:
        >>> import trainctl as tc
        >>> q = tc.randn(2, 4, 5, 8)  # batch, heads, length, head size
        >>> scaled_dot_product_attention(q, q, q, is_causal=True).shape
        trainctl.Size([2, 4, 5, 8])
    """
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must be at least "
                           "2-D")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: shapes do not fit: query {tuple(query.shape)}, key "
            f"{tuple(key.shape)}, value {tuple(value.shape)} (query and key need the same last "
            "dimension, key and value the same length)")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    mask = _float_mask(attn_mask, query.dtype, allowed=True)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    return Attention.apply(query, key, value, mask, scale=scale, dropout_p=float(dropout_p),
                           generator=None, causal=bool(is_causal))


def _repeat_heads(t: Tensor, heads: int) -> Tensor:
    """Grouped-query attention: each key/value head serves ``heads // t.shape[-3]`` query
    heads (PyTorch's ``repeat_interleave`` on the head dimension)."""
    *lead, kv_heads, length, size = t.shape
    if heads % kv_heads:
        raise RuntimeError(f"scaled_dot_product_attention: {heads} query heads are not a "
                           f"multiple of {kv_heads} key/value heads")
    wide = t.unsqueeze(-3).expand(*lead, kv_heads, heads // kv_heads, length, size)
    return wide.reshape(*lead, heads, length, size)


# ------------------------------------------------------------------ multi-head attention


def _in_projection(query, key, value, w, b, separate):
    """q, k, v projected: one product for self-attention (PyTorch's packed projection)."""
    if separate is not None:
        w_q, w_k, w_v = separate
        b_q, b_k, b_v = b.chunk(3) if b is not None else (None, None, None)
        return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    embed = query.shape[-1]
    if key is value and query is key:
        proj = linear(query, w, b)
        return proj[..., :embed], proj[..., embed:2 * embed], proj[..., 2 * embed:]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = b.chunk(3) if b is not None else (None, None, None)
    if key is value:
        kv = linear(key, cat([w_k, w_v]), cat([b_k, b_v]) if b is not None else None)
        return linear(query, w_q, b_q), kv[..., :embed], kv[..., embed:]
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def multi_head_attention_forward(
    query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
    in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
    bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
    out_proj_bias: Tensor | None, training: bool = True, key_padding_mask: Tensor | None = None,
    need_weights: bool = True, attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None, static_v: Tensor | None = None,
    average_attn_weights: bool = True, is_causal: bool = False,
):
    """Multi-head attention on sequence-first inputs (L, N, E) (or unbatched (L, E)).

    Returns ``(output (L, N, E), weights)``; weights are (N, L, S) averaged over heads,
    (N, num_heads, L, S) with ``average_attn_weights=False``, or None without
    ``need_weights``. Boolean masks are True where attention is NOT allowed.

    Example:
        >>> import trainctl as tc
        >>> mha = tc.nn.MultiheadAttention(8, 2)
        >>> x = tc.randn(5, 3, 8)
        >>> out, w = multi_head_attention_forward(
        ...     x, x, x, 8, 2, mha.in_proj_weight, mha.in_proj_bias, None, None, False, 0.0,
        ...     mha.out_proj.weight, mha.out_proj.bias)
        >>> out.shape, w.shape
        (trainctl.Size([5, 3, 8]), trainctl.Size([3, 5, 5]))
    """
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k/static_v are not "
                                  "supported by trainctl; pass the keys and values as inputs")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"query, key and value should all be 2-D (unbatched) or 3-D "
                             f"(batched), got {query.ndim}-D, {key.ndim}-D and {value.ndim}-D")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if key.shape[:2] != value.shape[:2]:
        raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape "
                             f"{tuple(value.shape)}")
    dtype = query.dtype
    key_padding_mask = _float_mask(key_padding_mask, dtype, allowed=False)
    attn_mask = _float_mask(attn_mask, dtype, allowed=False)
    if attn_mask is not None:
        want_2d, want_3d = (tgt_len, key.shape[0]), (bsz * num_heads, tgt_len, key.shape[0])
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != want_2d:
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)},"
                                   f" but should be {want_2d}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != want_3d:
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)},"
                                   f" but should be {want_3d}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    separate = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight \
        else None
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate)
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
        key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None \
            else None
    # (L, N, E) -> (N * heads, L, head_dim), PyTorch's layout for the per-head masks.
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:
        zeros = creation.zeros(bsz * num_heads, 1, head_dim, dtype=dtype, device=q.device)
        k, v = cat([k, zeros], 1), cat([v, zeros], 1)
        attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
        key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None \
            else None
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but "
                                 f"got {tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    if need_weights:
        # PyTorch's explicit path: the weights are returned (after dropout), so not fused.
        scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        out = weights @ v
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
    else:
        if attn_mask is not None:
            attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1
                         else attn_mask.reshape(bsz, num_heads, -1, src_len))
        q4 = q.reshape(bsz, num_heads, tgt_len, head_dim)
        k4 = k.reshape(bsz, num_heads, src_len, head_dim)
        v4 = v.reshape(bsz, num_heads, src_len, head_dim)
        out = Attention.apply(q4, k4, v4, attn_mask, scale=1.0 / math.sqrt(head_dim),
                              dropout_p=float(dropout_p), generator=None)
        out = out.reshape(bsz * num_heads, tgt_len, head_dim)
        weights = None
    out = out.transpose(0, 1).reshape(tgt_len, bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    if not batched:
        out = out.squeeze(1)
        weights = weights.squeeze(0) if weights is not None else None
    return out, weights
