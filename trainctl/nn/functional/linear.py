"""``linear`` and ``bilinear`` as fused ops: one BLAS product forward, one per input backward."""

from __future__ import annotations

from ...autograd.array_function import ArrayFunction
from ...autograd.tensor import Tensor
from ...core import backend
from ...core.errors import ShapeError

__all__ = ["linear", "bilinear"]


class Linear(ArrayFunction):
    """``y = x @ W.T + b`` over the last dimension of ``x`` (any leading dimensions)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        y = x2 @ weight.T  # numpy hands the transposed view to BLAS without a copy
        if bias is not None:
            y += bias
        ctx.save_for_backward(x2, weight)
        ctx.lead = lead
        return y.reshape(lead + (weight.shape[0],)) if x.ndim != 2 else y

    @staticmethod
    def backward(ctx, grad):
        x2, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        gx = (g2 @ weight).reshape(ctx.lead + (weight.shape[1],)) if need_x else None
        gw = g2.T @ x2 if need_w else None
        gb = g2.sum(axis=0) if need_b else None
        return gx, gw, gb


class Bilinear(ArrayFunction):
    """``y[n, o] = x1[n] @ W[o] @ x2[n] + b[o]`` as two matrix products."""

    @staticmethod
    def forward(ctx, x1, x2, weight, bias):
        out_f, in1, in2 = weight.shape
        lead = x1.shape[:-1]
        a = x1.reshape(-1, in1)
        b = x2.reshape(-1, in2)
        w2 = weight.transpose(1, 0, 2).reshape(in1, out_f * in2)  # W[o, i, j] -> [i, (o, j)]
        t = (a @ w2).reshape(-1, out_f, in2)  # t[n, o, j] = sum_i a[n, i] W[o, i, j]
        y = (t @ b[:, :, None])[:, :, 0]
        if bias is not None:
            y += bias
        ctx.save_for_backward(a, b, w2, t)
        ctx.meta = (lead, weight.shape)
        return y.reshape(lead + (out_f,))

    @staticmethod
    def backward(ctx, grad):
        a, b, w2, t = ctx.saved
        lead, (out_f, in1, in2) = ctx.meta
        need_1, need_2, need_w, need_b = ctx.needs_input_grad
        g = grad.reshape(-1, out_f)
        u = (g[:, :, None] * b[:, None, :]).reshape(-1, out_f * in2)  # g[n, o] * x2[n, j]
        g1 = (u @ w2.T).reshape(lead + (in1,)) if need_1 else None
        g2 = (g[:, None, :] @ t)[:, 0, :].reshape(lead + (in2,)) if need_2 else None
        gw = None
        if need_w:
            gw = (a.T @ u).reshape(in1, out_f, in2).transpose(1, 0, 2)
        gb = g.sum(axis=0) if need_b else None
        return g1, g2, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: ``input`` is (*, in_features), ``weight`` (out, in).

    Example:
        >>> import trainctl as tc
        >>> linear(tc.ones(5, 3), tc.ones(2, 3), tc.zeros(2)).shape
        trainctl.Size([5, 2])
    """
    # The checks read the arrays' shapes: Tensor.shape builds a Size object each time.
    w_shape, x_shape = weight.array.shape, input.array.shape
    if len(w_shape) not in (1, 2):
        raise ShapeError(f"linear: weight must be 1-D or 2-D, got shape {tuple(w_shape)}")
    in_f = w_shape[-1]
    if not x_shape or x_shape[-1] != in_f:
        raise ShapeError(
            f"linear: input of shape {tuple(x_shape)} does not fit weight of shape "
            f"{tuple(w_shape)} (expected last dimension {in_f})"
        )
    if len(w_shape) == 1:  # torch allows a vector weight: a dot product per row
        out = Linear.apply(input, weight.reshape(1, in_f), None).squeeze(-1)
        return out if bias is None else out + bias
    if bias is not None and bias.array.shape not in ((w_shape[0],), ()):
        raise ShapeError(
            f"linear: bias of shape {tuple(bias.shape)} does not fit weight of shape "
            f"{tuple(w_shape)} (expected ({w_shape[0]},))"
        )
    if input.array.dtype != weight.array.dtype:
        raise TypeError(
            f"linear: input dtype {input.dtype} and weight dtype {weight.dtype} differ; "
            "cast one of them with .to()"
        )
    if backend.cupy is not None:
        backend.check_same_device([input.array, weight.array], "linear")
    return Linear.apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """``y = x1^T A x2 + b`` for each output feature: ``weight`` is (out, in1, in2)."""
    if weight.ndim != 3:
        raise ShapeError(f"bilinear: weight must be 3-D, got shape {tuple(weight.shape)}")
    _, in1, in2 = weight.shape
    if (input1.ndim == 0 or input2.ndim == 0 or input1.shape[-1] != in1
            or input2.shape[-1] != in2 or input1.shape[:-1] != input2.shape[:-1]):
        raise ShapeError(
            f"bilinear: inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)} do not "
            f"fit weight of shape {tuple(weight.shape)}"
        )
    return Bilinear.apply(input1, input2, weight, bias)
