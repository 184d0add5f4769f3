"""Pooling: ``max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d, adaptive_max_pool1d/2d``.

The kernels live in ``_pool2d.py`` (separable passes over strided views, no loop over samples or
pixels); 1-D pooling runs them on a unit height. Inputs are ``(N, C, H, W)`` or unbatched
``(C, H, W)`` (``(N, C, L)`` / ``(C, L)`` in 1-D): every leading dimension is a plane.
"""

from __future__ import annotations

from ...autograd.array_function import ArrayFunction
from ...autograd.tensor import Tensor
from ...autograd.trace import refuse_in_graph
from ...core import backend
from ...core.errors import ShapeError
from . import _pool2d as K

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"]


class MaxPool2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, geo, out_shape, indices_out):
        planes = x.reshape(geo.P, geo.H, geo.W)
        buf = K.padded(planes, geo, -float("inf"))
        track = ctx.needs_input_grad[0] or indices_out is not None
        out, col_arg, row_arg = K.max_forward(buf, geo, track)
        ctx.geo, ctx.args, ctx.buf_shape, ctx.in_shape = geo, (col_arg, row_arg), buf.shape, x.shape
        if indices_out is not None:  # a list the caller passed to receive return_indices
            indices_out.append(K.flat_indices(col_arg, row_arg, geo).reshape(out_shape))
        return out.reshape(out_shape)

    @staticmethod
    def backward(ctx, grad):
        geo = ctx.geo
        grad = grad.reshape(geo.P, geo.Ho, geo.Wo)
        dbuf = K.max_backward(grad, *ctx.args, geo, ctx.buf_shape)
        return K.unpad(dbuf, geo).reshape(ctx.in_shape)


class AvgPool2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, geo, out_shape, count_include_pad, divisor_override):
        xp = backend.get_array_module(x)
        buf = K.padded(x.reshape(geo.P, geo.H, geo.W), geo, 0)
        scale = K.avg_scale(xp, geo, count_include_pad, divisor_override, x.dtype)
        out = K.sum_forward(buf, geo)
        out *= scale
        ctx.geo, ctx.scale, ctx.buf_shape, ctx.in_shape = geo, scale, buf.shape, x.shape
        return out.reshape(out_shape)

    @staticmethod
    def backward(ctx, grad):
        geo = ctx.geo
        grad = grad.reshape(geo.P, geo.Ho, geo.Wo) * ctx.scale
        dbuf = K.sum_backward(grad, geo, ctx.buf_shape)
        return K.unpad(dbuf, geo).reshape(ctx.in_shape)


# ------------------------------------------------------------------------------ sizes


def _tuple(value, n: int, name: str, op: str) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            value = value[0]
        elif len(value) != n:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        else:
            return tuple(int(v) for v in value)
    return (int(value),) * n


def _out_size(op, size, k, s, p, d, ceil_mode, max_pad):
    if k <= 0 or s <= 0 or d <= 0:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive, "
                         f"got {k}, {s}, {d}")
    if p < 0 or p > max_pad:
        raise ValueError(f"{op}: pad should be at most half of effective kernel size, but got "
                         f"pad={p}, kernel_size={k} and dilation={d}")
    span = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    n = span // s + 1
    if ceil_mode and (n - 1) * s >= size + p:  # the last window must start inside the input
        n -= 1
    return n


def _geometry(op, x: Tensor, nd, kernel_size, stride, padding, dilation, ceil_mode, is_max):
    if x.ndim not in (nd + 1, nd + 2):
        dims = "(N, C, L) or (C, L)" if nd == 1 else "(N, C, H, W) or (C, H, W)"
        raise ShapeError(f"{op}: expected a {dims} input, got shape {tuple(x.shape)}")
    kernel = _tuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None or stride == [] or stride == () else _tuple(
        stride, nd, "stride", op)
    padding = _tuple(padding, nd, "padding", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    if nd == 1:
        kernel, stride, padding, dilation = ((1,) + kernel, (1,) + stride, (0,) + padding,
                                             (1,) + dilation)
    spatial = tuple(x.shape[-nd:]) if nd == 2 else (1, x.shape[-1])
    out = []
    for size, k, s, p, d in zip(spatial, kernel, stride, padding, dilation):
        max_pad = ((k - 1) * d + 1) // 2 if is_max else k // 2
        n = _out_size(op, size, k, s, p, d, ceil_mode, max_pad)
        if n <= 0:
            raise ShapeError(f"{op}: input of shape {tuple(x.shape)} is too small for "
                             f"kernel_size={kernel[-nd:]} (output size {n})")
        out.append(n)
    planes = 1
    for s in x.shape[:-nd]:
        planes *= s
    geo = K.PoolGeometry((planes,) + spatial, kernel, stride, padding, dilation, tuple(out))
    out_shape = tuple(x.shape[:-nd]) + (tuple(out) if nd == 2 else (out[1],))
    return geo, out_shape


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode,  # noqa: A002
              return_indices):
    geo, out_shape = _geometry(op, input, nd, kernel_size, stride, padding, dilation,
                               ceil_mode, True)
    if return_indices:  # filled by forward as a side output, which a graph cannot replay
        refuse_in_graph("max pooling with return_indices=True")
    indices = [] if return_indices else None
    out = MaxPool2d.apply(input, geo=geo, out_shape=out_shape, indices_out=indices)
    return (out, Tensor._wrap(indices[0])) if return_indices else out


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size, stride, padding, dilation: an int or an ``(h, w)`` pair; ``stride``
            defaults to ``kernel_size``; padding (implicit -inf) is at most half the kernel.
        ceil_mode: round the output size up, so windows may hang over the end.
        return_indices: also return the flat index ``h * W + w`` of each maximum.

    Example:
        >>> import trainctl as tc
        >>> x = tc.arange(16.).reshape(1, 1, 4, 4)
        >>> tc.nn.functional.max_pool2d(x, 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """1-D max pooling over ``(N, C, L)``, as ``torch.nn.functional.max_pool1d``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.functional.max_pool1d(tc.tensor([[[1., 3., 2., 5.]]]), 2)
        tensor([[[3., 5.]]])
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    Args:
        count_include_pad: count the zero padding in the divisor (windows hanging over the
            end in ``ceil_mode`` never count the overhang).
        divisor_override: divide every window sum by this instead.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.functional.avg_pool2d(tc.ones(1, 1, 4, 4), 2, padding=1)
        tensor([[[[0.2500, 0.5000, 0.2500],
                  [0.5000, 1.0000, 0.5000],
                  [0.2500, 0.5000, 0.2500]]]])
    """
    if divisor_override is not None and divisor_override == 0:
        raise ValueError("avg_pool2d: divisor must be not zero")
    geo, out_shape = _geometry("avg_pool2d", input, 2, kernel_size, stride, padding, 1,
                               ceil_mode, False)
    return AvgPool2d.apply(input, geo=geo, out_shape=out_shape,
                           count_include_pad=count_include_pad,
                           divisor_override=divisor_override)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """1-D average pooling over ``(N, C, L)``, as ``torch.nn.functional.avg_pool1d``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.functional.avg_pool1d(tc.tensor([[[1., 3., 2., 6.]]]), 2)
        tensor([[[2., 4.]]])
    """
    geo, out_shape = _geometry("avg_pool1d", input, 1, kernel_size, stride, padding, 1,
                               ceil_mode, False)
    return AvgPool2d.apply(input, geo=geo, out_shape=out_shape,
                           count_include_pad=count_include_pad, divisor_override=None)
