"""The recurrences of ``RNN``, ``LSTM`` and ``GRU``: one op per layer and direction.

Each op takes the input projection of every time step at once (``xg = x @ W_ih.T + b_ih``, one
matrix product done before the op, as cuDNN does) and loops over time steps only, vectorised over
the batch. Its backward runs back through time in one loop too. One node per layer and direction
instead of several per step keeps the graph small: for the 2-layer, 35-step LSTM of ``make
bench`` that is 2 nodes instead of ~700, and the weight gradients become one matrix product over
all steps after the loop instead of one per step.

Variable lengths (packed sequences) are a boolean ``mask`` of shape (T, B, 1): where it is False
the step is skipped and the state carried over unchanged. Running forward, a sequence's state
after its last step is carried to the end; running in reverse, the initial state is carried
through the padding until the sequence's own last step. Either way the state after the loop is
each sequence's final state, as PyTorch returns it.

Outputs: ``rnn_recurrence`` and ``gru_recurrence`` return the hidden states (T, B, H);
``lstm_recurrence`` returns hidden and cell states side by side, (T, B, P + H), so the final cell
state is an output with a gradient without a second op (``P`` is ``proj_size`` or ``H``).
"""

from __future__ import annotations

from ...autograd.array_function import ArrayFunction
from ...autograd.tensor import Tensor
from ...core import backend

__all__ = ["rnn_recurrence", "lstm_recurrence", "gru_recurrence"]


def _steps(length: int, reverse: bool):
    return range(length - 1, -1, -1) if reverse else range(length)


def _previous(states, h0, t: int, reverse: bool):
    """The state before step ``t``: the neighbour in processing order, or the initial one."""
    if reverse:
        return h0 if t == len(states) - 1 else states[t + 1]
    return h0 if t == 0 else states[t - 1]


def _all_previous(states, h0, reverse: bool):
    """(T, B, H): the state before each step, for the weight gradients after the loop."""
    xp = backend.get_array_module(states)
    if reverse:
        return xp.concatenate([states[1:], h0[None]])
    return xp.concatenate([h0[None], states[:-1]])


def _sigmoid_(a, xp):
    """In place; through tanh, which cannot overflow in float32."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


class RNNRecurrence(ArrayFunction):
    """``h_t = act(xg_t + h_{t-1} @ W_hh.T + b_hh)`` for every step; returns (T, B, H)."""

    @staticmethod
    def forward(ctx, xg, w_hh, b_hh, h0, reverse, relu, mask):
        xp = backend.get_array_module(xg)
        seq = xg + b_hh if b_hh is not None else xg.copy()  # becomes the states, in place
        w_t = xp.ascontiguousarray(w_hh.T)  # BLAS is faster on it than on a transposed view
        h = h0
        for t in _steps(len(seq), reverse):
            out = seq[t]
            out += h @ w_t
            if relu:
                xp.maximum(out, 0, out=out)
            else:
                xp.tanh(out, out=out)
            if mask is not None:
                out[...] = xp.where(mask[t], out, h)
            h = out
        ctx.save_for_backward(seq, w_hh, h0)
        ctx.meta = (reverse, relu, mask, b_hh is not None)
        return seq

    @staticmethod
    def backward(ctx, grad):
        seq, w_hh, h0 = ctx.saved
        reverse, relu, mask, has_bias = ctx.meta
        xp = backend.get_array_module(grad)
        deriv = (seq > 0).astype(seq.dtype) if relu else 1 - seq * seq
        dpre = xp.empty_like(seq)
        dh_next = xp.zeros_like(h0)
        for t in reversed(_steps(len(seq), reverse)):
            dh = grad[t] + dh_next
            d = dpre[t]
            xp.multiply(dh, deriv[t], out=d)
            if mask is not None:
                d *= mask[t]
                dh_next = d @ w_hh + xp.where(mask[t], 0, dh)
            else:
                dh_next = d @ w_hh
        return _weight_grads(ctx, dpre, dpre, seq, h0, reverse, has_bias) + (dh_next,)


def _weight_grads(ctx, dx, dh, states, h0, reverse, has_bias):
    """Gradients of (xg, W_hh, b_hh): ``dh`` (T, B, G) is the gradient of the hidden product."""
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    width = dh.shape[-1]
    gw = gb = None
    if need_w:
        prev = _all_previous(states, h0, reverse)
        gw = dh.reshape(-1, width).T @ prev.reshape(-1, prev.shape[-1])
    if need_b and has_bias:
        gb = dh.sum(axis=(0, 1))
    return (dx if need_x else None), gw, gb


class LSTMRecurrence(ArrayFunction):
    """The LSTM cell over every step (gates i, f, g, o as in PyTorch), with optional projection
    ``h_t = (o * tanh(c_t)) @ W_hr.T``; returns ``[h_t | c_t]`` of shape (T, B, P + H)."""

    @staticmethod
    def forward(ctx, xg, w_hh, b_hh, h0, c0, w_hr, reverse, mask):
        xp = backend.get_array_module(xg)
        length, batch, width = xg.shape
        hidden, proj = width // 4, h0.shape[-1]
        # One tanh gives all four gates: sigmoid(x) = 0.5 * tanh(0.5 * x) + 0.5 for i, f, o and
        # tanh(x) for g. The 0.5 is folded into the inputs and weights once, before the loop.
        scale = xp.full(width, 0.5, dtype=xg.dtype)
        scale[2 * hidden:3 * hidden] = 1.0
        shift = xp.full(width, 0.5, dtype=xg.dtype)
        shift[2 * hidden:3 * hidden] = 0.0
        acts = xg * scale  # becomes the gate activations, step by step
        if b_hh is not None:
            acts += b_hh * scale
        w_t = w_hh.T * scale  # contiguous: BLAS is faster on it than on a transposed view
        wr_t = xp.ascontiguousarray(w_hr.T) if w_hr is not None else None
        # h and c are kept in contiguous arrays of their own (BLAS is up to twice as slow on a
        # strided h with 2 threads) and joined into the output once, after the loop.
        hs = xp.empty((length, batch, proj), dtype=xg.dtype)
        cs = xp.empty((length, batch, hidden), dtype=xg.dtype)
        tanh_c = xp.empty((length, batch, hidden), dtype=xg.dtype)
        r = xp.empty((length, batch, hidden), dtype=xg.dtype) if w_hr is not None else None
        plain = r is None and mask is None  # write h and c straight into hs and cs
        h, c = h0, c0
        for t in _steps(length, reverse):
            a = acts[t]
            a += h @ w_t
            xp.tanh(a, out=a)
            a *= scale
            a += shift
            i, f, g, o = (a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:3 * hidden],
                          a[:, 3 * hidden:])
            c_new = xp.multiply(f, c, out=cs[t] if plain else None)
            c_new += i * g
            tc_ = xp.tanh(c_new, out=tanh_c[t])
            h_new = xp.multiply(o, tc_, out=hs[t] if plain else None)
            if not plain:
                if r is not None:
                    r[t] = h_new
                    h_new = h_new @ wr_t
                if mask is not None:
                    h_new = xp.where(mask[t], h_new, h)
                    c_new = xp.where(mask[t], c_new, c)
                hs[t] = h_new
                cs[t] = c_new
            h, c = hs[t], cs[t]
        ctx.save_for_backward(acts, tanh_c, r, hs, cs, w_hh, w_hr, h0, c0)
        ctx.meta = (reverse, mask, b_hh is not None)
        return xp.concatenate([hs, cs], axis=-1)

    @staticmethod
    def backward(ctx, grad):
        acts, tanh_c, r, states_h, states_c, w_hh, w_hr, h0, c0 = ctx.saved
        reverse, mask, has_bias = ctx.meta
        xp = backend.get_array_module(grad)
        length, batch, width = acts.shape
        hidden, proj = width // 4, h0.shape[-1]
        # Everything that does not depend on the gradient flowing back is computed for all
        # steps at once, so the loop is a few products per step. With s' the derivative of each
        # gate's activation: d(i, f, g pre-activations) = dc * (g i', c_prev f', i g') and
        # d(o pre-activation) = dr * tanh(c) o'.
        i, f, g, o = (acts[..., :hidden], acts[..., hidden:2 * hidden],
                      acts[..., 2 * hidden:3 * hidden], acts[..., 3 * hidden:])
        coef = xp.empty((length, batch, 4, hidden), dtype=acts.dtype)
        coef[:, :, 0] = g * i * (1 - i)
        coef[:, :, 1] = _all_previous(states_c, c0, reverse) * f * (1 - f)
        coef[:, :, 2] = i * (1 - g * g)
        coef[:, :, 3] = tanh_c * o * (1 - o)
        o_dtanh = o * (1 - tanh_c * tanh_c)  # dc += dr * o * tanh'(c)
        dgates = xp.empty_like(acts)
        dh_all = xp.empty((length, batch, proj), dtype=acts.dtype) if w_hr is not None else None
        dh_next = xp.zeros_like(h0)
        dc_next = xp.zeros_like(c0)
        for t in reversed(_steps(length, reverse)):
            dh = grad[t, :, :proj] + dh_next
            dc = grad[t, :, proj:] + dc_next
            if mask is not None:
                m = mask[t]
                dh_carry, dc_carry = xp.where(m, 0, dh), xp.where(m, 0, dc)
                dh, dc = dh * m, dc * m
            if dh_all is not None:
                dh_all[t] = dh
                dr = dh @ w_hr
            else:
                dr = dh
            dc += dr * o_dtanh[t]
            d4 = dgates[t].reshape(batch, 4, hidden)  # a view: dgates[t] is contiguous
            xp.multiply(coef[t, :, :3], dc[:, None, :], out=d4[:, :3])
            xp.multiply(coef[t, :, 3], dr, out=d4[:, 3])
            dh_next = dgates[t] @ w_hh
            dc_next = dc * f[t]
            if mask is not None:
                dh_next += dh_carry
                dc_next += dc_carry
        gx, gw, gb = _weight_grads(ctx, dgates, dgates, states_h, h0, reverse, has_bias)
        gwr = None
        if dh_all is not None and ctx.needs_input_grad[5]:
            gwr = dh_all.reshape(-1, proj).T @ r.reshape(-1, hidden)
        return gx, gw, gb, dh_next, dc_next, gwr


class GRURecurrence(ArrayFunction):
    """The GRU cell over every step (gates r, z, n as in PyTorch, ``b_hn`` inside ``r * (...)``);
    returns the hidden states (T, B, H)."""

    @staticmethod
    def forward(ctx, xg, w_hh, b_hh, h0, reverse, mask):
        xp = backend.get_array_module(xg)
        length, batch, width = xg.shape
        hidden = width // 3
        acts = xg.copy()  # becomes r, z (sigmoids) and n (tanh)
        hn = xp.empty((length, batch, hidden), dtype=xg.dtype)  # h @ W_hn.T + b_hn, for backward
        out = xp.empty((length, batch, hidden), dtype=xg.dtype)
        w_t = xp.ascontiguousarray(w_hh.T)  # BLAS is faster on it than on a transposed view
        h = h0
        for t in _steps(length, reverse):
            hg = h @ w_t
            if b_hh is not None:
                hg += b_hh
            a = acts[t]
            rz = a[:, :2 * hidden]
            rz += hg[:, :2 * hidden]
            _sigmoid_(rz, xp)
            hn[t] = hg[:, 2 * hidden:]
            n = a[:, 2 * hidden:]
            n += a[:, :hidden] * hn[t]
            xp.tanh(n, out=n)
            h_new = h - n
            h_new *= a[:, hidden:2 * hidden]
            h_new += n
            if mask is not None:
                h_new = xp.where(mask[t], h_new, h)
            out[t] = h_new
            h = h_new
        ctx.save_for_backward(acts, hn, out, w_hh, h0)
        ctx.meta = (reverse, mask, b_hh is not None)
        return out

    @staticmethod
    def backward(ctx, grad):
        acts, hn, out, w_hh, h0 = ctx.saved
        reverse, mask, has_bias = ctx.meta
        xp = backend.get_array_module(grad)
        hidden = acts.shape[-1] // 3
        dx = xp.empty_like(acts)  # gradient of the input projection
        dhg = xp.empty_like(acts)  # gradient of h @ W_hh.T + b_hh
        dh_next = xp.zeros_like(h0)
        for t in reversed(_steps(len(acts), reverse)):
            dh = grad[t] + dh_next
            if mask is not None:
                dh_carry = xp.where(mask[t], 0, dh)
                dh = dh * mask[t]
            a = acts[t]
            r, z, n = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:]
            h = _previous(out, h0, t, reverse)
            dn = dh * (1 - z) * (1 - n * n)
            dr = dn * hn[t] * r * (1 - r)
            dz = dh * (h - n) * z * (1 - z)
            d = dx[t]
            d[:, :hidden] = dr
            d[:, hidden:2 * hidden] = dz
            d[:, 2 * hidden:] = dn
            e = dhg[t]
            e[:, :2 * hidden] = d[:, :2 * hidden]
            xp.multiply(dn, r, out=e[:, 2 * hidden:])
            dh_next = e @ w_hh
            dh_next += dh * z
            if mask is not None:
                dh_next += dh_carry
        gx, gw, gb = _weight_grads(ctx, dx, dhg, out, h0, reverse, has_bias)
        return gx, gw, gb, dh_next


def _mask(lengths, xg):
    """(T, B, 1) bool, True at the valid steps; None when every sequence is full length."""
    if lengths is None or int(min(lengths)) >= xg.shape[0]:  # host values: lengths are known
        return None
    xp = backend.get_array_module(xg)
    lengths = xp.asarray(lengths)
    return (xp.arange(xg.shape[0])[:, None] < lengths[None, :])[:, :, None]


def rnn_recurrence(xg: Tensor, w_hh: Tensor, b_hh: Tensor | None, h0: Tensor,
                   reverse: bool = False, nonlinearity: str = "tanh", lengths=None) -> Tensor:
    """Hidden states (T, B, H) of an Elman RNN given the input projection ``xg`` (T, B, H).

    Example:
        >>> import trainctl as tc
        >>> rnn_recurrence(tc.randn(5, 2, 3), tc.randn(3, 3), None, tc.zeros(2, 3)).shape
        trainctl.Size([5, 2, 3])
    """
    mask = _mask(lengths, xg.array)
    return RNNRecurrence.apply(xg, w_hh, b_hh, h0, reverse=reverse,
                               relu=nonlinearity == "relu", mask=mask)


def lstm_recurrence(xg: Tensor, w_hh: Tensor, b_hh: Tensor | None, h0: Tensor, c0: Tensor,
                    w_hr: Tensor | None = None, reverse: bool = False, lengths=None) -> Tensor:
    """``[h_t | c_t]`` (T, B, P + H) of an LSTM given the input projection ``xg`` (T, B, 4H).

    Example:
        >>> import trainctl as tc
        >>> lstm_recurrence(tc.randn(5, 2, 12), tc.randn(12, 3), None, tc.zeros(2, 3),
        ...                 tc.zeros(2, 3)).shape
        trainctl.Size([5, 2, 6])
    """
    mask = _mask(lengths, xg.array)
    return LSTMRecurrence.apply(xg, w_hh, b_hh, h0, c0, w_hr, reverse=reverse, mask=mask)


def gru_recurrence(xg: Tensor, w_hh: Tensor, b_hh: Tensor | None, h0: Tensor,
                   reverse: bool = False, lengths=None) -> Tensor:
    """Hidden states (T, B, H) of a GRU given the input projection ``xg`` (T, B, 3H).

    Example:
        >>> import trainctl as tc
        >>> gru_recurrence(tc.randn(5, 2, 9), tc.randn(9, 3), None, tc.zeros(2, 3)).shape
        trainctl.Size([5, 2, 3])
    """
    mask = _mask(lengths, xg.array)
    return GRURecurrence.apply(xg, w_hh, b_hh, h0, reverse=reverse, mask=mask)
