"""Normalization: ``batch_norm``, ``layer_norm``, ``group_norm``.

All three are one :class:`Normalize` op, ``y = (x - mean) / sqrt(var + eps) * weight + bias``
with the statistics taken over different axes (biased variance, as PyTorch). Its backward is the
closed form ``dx = rstd * (g' - mean(g') - xhat * mean(g' * xhat))`` with ``g' = g * weight``.
Batch norm in eval mode (running statistics) is a per-channel affine map, :class:`FrozenNorm`.
"""

from __future__ import annotations

from ...autograd.array_function import ArrayFunction
from ...autograd.tensor import Tensor
from ...core import backend
from ...core.errors import ShapeError

__all__ = ["batch_norm", "layer_norm", "group_norm"]


class Normalize(ArrayFunction):
    """Normalize ``x`` over ``axes`` of ``x.reshape(view)``; ``weight``/``bias`` vary along
    ``param_axes`` of ``x`` (shaped as ``param_shape`` to broadcast)."""

    @staticmethod
    def forward(ctx, x, weight, bias, view, axes, param_axes, param_shape, eps, running):
        xp = backend.get_array_module(x)
        xv = x.reshape(view)
        mean = xv.mean(axis=axes, keepdims=True)
        xc = xv - mean
        var = xp.mean(xc * xc, axis=axes, keepdims=True)
        rstd = 1.0 / xp.sqrt(var + eps)
        xhat = (xc * rstd).reshape(x.shape)
        if running is not None:  # batch norm: inside the op, so a graph's replay does it too
            _update_running(*running, mean, var)
        out = _affine(xhat, weight, bias, param_shape)
        ctx.save_for_backward(weight)
        ctx.xhat, ctx.rstd, ctx.meta = xhat, rstd, (view, axes, param_axes, param_shape)
        return out

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved
        xhat, rstd = ctx.xhat, ctx.rstd
        view, axes, param_axes, param_shape = ctx.meta
        need_x, need_w, need_b = ctx.needs_input_grad
        others = tuple(a for a in range(grad.ndim) if a not in param_axes)
        gx = gw = gb = None
        # Summing over every other axis leaves exactly the parameter's shape.
        if need_w:
            gw = (grad * xhat).sum(axis=others)
        if need_b:
            gb = grad.sum(axis=others)
        if need_x:
            g = grad if weight is None else grad * weight.reshape(param_shape)
            gv, hv = g.reshape(view), xhat.reshape(view)
            proj = (gv * hv).mean(axis=axes, keepdims=True)
            gx = gv - gv.mean(axis=axes, keepdims=True)
            gx -= hv * proj
            gx *= rstd
            gx = gx.reshape(grad.shape)
        return gx, gw, gb


class FrozenNorm(ArrayFunction):
    """``(x - mean) * rstd * weight + bias`` with fixed per-channel statistics (eval batch norm)."""

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps):
        xp = backend.get_array_module(x)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        rstd = (1.0 / xp.sqrt(var + eps)).astype(x.dtype)
        scale = rstd if weight is None else rstd * weight
        shift = -mean * scale if bias is None else bias - mean * scale
        ctx.save_for_backward(x, mean)
        ctx.rstd, ctx.scale, ctx.shape = rstd, scale, shape
        return x * scale.reshape(shape) + shift.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        x, mean = ctx.saved
        shape = ctx.shape
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        others = (0,) + tuple(range(2, grad.ndim))
        gx = grad * ctx.scale.reshape(shape) if need_x else None
        gw = ((grad * (x - mean.reshape(shape))).sum(axis=others) * ctx.rstd
              if need_w else None)
        gb = grad.sum(axis=others) if need_b else None
        return gx, gw, gb, None, None


def _check_param(op: str, t, shape, name: str):
    if t is not None and tuple(t.shape) != tuple(shape):
        raise ShapeError(f"{op}: {name} must have shape {tuple(shape)}, got {tuple(t.shape)}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over ``(N, C, *)``, as ``torch.nn.functional.batch_norm``.

    In training mode the batch statistics normalize the input and, when running buffers are
    given, update them in place: ``running = (1 - momentum) * running + momentum * stat``, with
    the unbiased batch variance. Otherwise the running statistics are used.

    Example:
        >>> import trainctl as tc
        >>> x = tc.tensor([[1., 2.], [3., 6.]])
        >>> rm, rv = tc.zeros(2), tc.ones(2)
        >>> tc.nn.functional.batch_norm(x, rm, rv, training=True)
        tensor([[-1.0000, -1.0000],
                [ 1.0000,  1.0000]])
        >>> rm
        tensor([0.2000, 0.4000])
    """
    x = input
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected an (N, C, *) input, got shape {tuple(x.shape)}")
    c = x.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_param("batch_norm", t, (c,), name)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not "
                             "training")
        return FrozenNorm.apply(x, weight, bias, running_mean, running_var, eps=eps)
    count = x.numel() // c
    if count <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{list(x.shape)}")
    axes = (0,) + tuple(range(2, x.ndim))
    running = None
    if running_mean is not None or running_var is not None:
        running = (running_mean, running_var, momentum, count)
    return Normalize.apply(x, weight, bias, view=tuple(x.shape), axes=axes, param_axes=(1,),
                           param_shape=(c,) + (1,) * (x.ndim - 2), eps=eps, running=running)


def _affine(xhat, weight, bias, shape):
    """``xhat * weight + bias`` (either may be None) with the parameters reshaped to ``shape``;
    never ``xhat`` itself, which backward keeps."""
    out = xhat
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    elif weight is None:
        out = out.copy()  # xhat is kept for backward; the output must not alias it
    return out


def _update_running(running_mean, running_var, momentum, count, mean, var) -> None:
    """Blend the batch statistics into the running buffers (tensors; either may be None)."""
    if running_mean is not None:
        _blend(running_mean, mean.reshape(-1), momentum)
    if running_var is not None:
        _blend(running_var, var.reshape(-1) * (count / (count - 1)), momentum)


def _blend(buffer: Tensor, value, momentum: float) -> None:
    """``buffer = (1 - momentum) * buffer + momentum * value``, in place."""
    data = buffer.array
    data *= 1.0 - momentum
    data += (momentum * value).astype(data.dtype)
    buffer._version += 1


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing ``normalized_shape`` dimensions, as ``F.layer_norm``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.functional.layer_norm(tc.tensor([[1., 3.]]), (2,))
        tensor([[-1.0000,  1.0000]])
    """
    x = input
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(x.shape[x.ndim - k:]) != shape:
        raise ShapeError(f"layer_norm: input of shape {tuple(x.shape)} does not end with "
                         f"normalized_shape {shape}")
    _check_param("layer_norm", weight, shape, "weight")
    _check_param("layer_norm", bias, shape, "bias")
    axes = tuple(range(x.ndim - k, x.ndim))
    return Normalize.apply(x, weight, bias, view=tuple(x.shape), axes=axes, param_axes=axes,
                           param_shape=shape, eps=eps, running=None)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize each group of ``C / num_groups`` channels per sample, as ``F.group_norm``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.functional.group_norm(tc.tensor([[1., 3., 0., 4.]]), 2)
        tensor([[-1.0000,  1.0000, -1.0000,  1.0000]])
    """
    x = input
    if x.ndim < 2:
        raise ShapeError(f"group_norm: expected an (N, C, *) input, got shape {tuple(x.shape)}")
    n, c = x.shape[0], x.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: num_channels ({c}) must be divisible by num_groups "
                         f"({num_groups})")
    _check_param("group_norm", weight, (c,), "weight")
    _check_param("group_norm", bias, (c,), "bias")
    return Normalize.apply(x, weight, bias, view=(n, num_groups, -1), axes=(2,),
                           param_axes=(1,), param_shape=(c,) + (1,) * (x.ndim - 2), eps=eps,
                           running=None)
