"""Adaptive pooling: windows chosen so that the output has a given size.

Output cell ``i`` of ``n`` along an axis of length ``L`` covers ``[floor(i*L/n), ceil((i+1)*L/n))``
(PyTorch's rule). When ``n`` divides ``L`` the windows are uniform and the plain pooling kernels
do the work; otherwise the average is two small matrix products (an averaging matrix per axis)
and the max is a separable running max over gathered columns, then rows.
"""

from __future__ import annotations

from ...autograd.array_function import ArrayFunction
from ...autograd.tensor import Tensor
from ...autograd.trace import refuse_in_graph
from ...core import backend
from ...core.errors import ShapeError
from .pooling import avg_pool2d, max_pool2d

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d"]


def _bounds(xp, n_out: int, size: int):
    i = xp.arange(n_out)
    return (i * size) // n_out, ((i + 1) * size + n_out - 1) // n_out


def _averaging_matrix(xp, n_out: int, size: int, dtype):
    """``(n_out, size)`` matrix whose row i averages window i."""
    start, end = _bounds(xp, n_out, size)
    pos = xp.arange(size)
    inside = (pos[None, :] >= start[:, None]) & (pos[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool(ArrayFunction):
    """Averages over non-uniform windows of ``(P, H, W)`` planes: ``A_h @ x @ A_w^T``."""

    @staticmethod
    def forward(ctx, x, out_hw, out_shape):
        xp = backend.get_array_module(x)
        p, h, w = x.shape
        ho, wo = out_hw
        ah, aw = _averaging_matrix(xp, ho, h, x.dtype), _averaging_matrix(xp, wo, w, x.dtype)
        y = (x.reshape(p * h, w) @ aw.T).reshape(p, h, wo)
        z = y.transpose(0, 2, 1).reshape(p * wo, h) @ ah.T
        ctx.mats, ctx.x_shape = (ah, aw), x.shape
        return xp.ascontiguousarray(z.reshape(p, wo, ho).transpose(0, 2, 1)).reshape(out_shape)

    @staticmethod
    def backward(ctx, grad):
        ah, aw = ctx.mats
        p, h, w = ctx.x_shape
        ho, wo = ah.shape[0], aw.shape[0]
        gy = grad.reshape(p, ho, wo).transpose(0, 2, 1).reshape(p * wo, ho) @ ah
        gy = gy.reshape(p, wo, h).transpose(0, 2, 1).reshape(p * h, wo)
        return (gy @ aw).reshape(p, h, w)


def _gathered_max(xp, a, axis: int, start, end):
    """Running max along ``axis`` over windows [start, end): (max, index along axis)."""
    # The widest window, from the sizes alone (so a meta array, which has no values, works too).
    n_out, size = len(start), a.shape[axis]
    width = max(((i + 1) * size + n_out - 1) // n_out - (i * size) // n_out for i in range(n_out))
    best = idx = None
    for t in range(width):
        pos = xp.minimum(start + t, end - 1)  # short windows repeat their last element
        v = xp.take(a, pos, axis=axis)
        shape = [1] * a.ndim
        shape[axis] = -1
        pos = xp.broadcast_to(pos.reshape(shape), v.shape)
        if best is None:
            best, idx = v, pos.copy()
            continue
        idx = xp.where(v > best, pos, idx)
        xp.maximum(best, v, out=best)
    return best, idx


class AdaptiveMaxPool(ArrayFunction):
    """Max over non-uniform windows of ``(P, H, W)`` planes; the gradient goes to the argmax."""

    @staticmethod
    def forward(ctx, x, out_hw, out_shape, indices_out):
        xp = backend.get_array_module(x)
        p, h, w = x.shape
        (ho, wo) = out_hw
        hmax, col = _gathered_max(xp, x, 2, *_bounds(xp, wo, w))
        out, row = _gathered_max(xp, hmax, 1, *_bounds(xp, ho, h))
        flat = row * w + xp.take_along_axis(col, row, axis=1)
        ctx.flat, ctx.x_shape = flat, x.shape
        if indices_out is not None:
            indices_out.append(flat.reshape(out_shape))
        return out.reshape(out_shape)

    @staticmethod
    def backward(ctx, grad):
        xp = backend.get_array_module(grad)
        p, h, w = ctx.x_shape
        # Windows may overlap (and repeat an element when the input is smaller than the output),
        # so the scatter must add: one bincount over plane-offset flat indices.
        offset = (xp.arange(p) * (h * w)).reshape(-1, 1, 1)
        dx = xp.bincount((ctx.flat + offset).ravel(), weights=grad.ravel(), minlength=p * h * w)
        return dx.astype(grad.dtype).reshape(p, h, w)


def _output_size(op: str, x: Tensor, output_size, nd: int) -> tuple:
    if x.ndim not in (nd + 1, nd + 2):
        dims = "(N, C, L) or (C, L)" if nd == 1 else "(N, C, H, W) or (C, H, W)"
        raise ShapeError(f"{op}: expected a {dims} input, got shape {tuple(x.shape)}")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != nd:
            raise ValueError(f"{op}: output_size must have {nd} entries, got {output_size!r}")
        sizes = tuple(output_size)
    else:
        sizes = (output_size,) * nd
    spatial = tuple(x.shape[-nd:])
    sizes = tuple(s if o is None else int(o) for o, s in zip(sizes, spatial))
    if any(o <= 0 for o in sizes) or any(s == 0 for s in spatial):
        raise ShapeError(f"{op}: output_size {sizes} and input shape {tuple(x.shape)} must be "
                         "positive")
    return sizes if nd == 2 else (1,) + sizes


def _planes(x: Tensor, nd: int):
    spatial = tuple(x.shape[-nd:]) if nd == 2 else (1, x.shape[-1])
    planes = 1
    for s in x.shape[:-nd]:
        planes *= s
    return (planes,) + spatial


def _adaptive_avg(op, x, output_size, nd):
    from ...autograd.ops.shape import reshape

    out_hw = _output_size(op, x, output_size, nd)
    shape = _planes(x, nd)
    out_shape = tuple(x.shape[:-nd]) + out_hw[2 - nd:]
    if shape[1] % out_hw[0] == 0 and shape[2] % out_hw[1] == 0:
        kernel = (shape[1] // out_hw[0], shape[2] // out_hw[1])
        planes = reshape(x, shape)
        return reshape(avg_pool2d(planes, kernel), out_shape)
    return AdaptiveAvgPool.apply(reshape(x, shape), out_hw=out_hw, out_shape=out_shape)


def _adaptive_max(op, x, output_size, nd, return_indices):
    from ...autograd.ops.shape import reshape

    out_hw = _output_size(op, x, output_size, nd)
    shape = _planes(x, nd)
    out_shape = tuple(x.shape[:-nd]) + out_hw[2 - nd:]
    planes = reshape(x, shape)
    if shape[1] % out_hw[0] == 0 and shape[2] % out_hw[1] == 0:
        kernel = (shape[1] // out_hw[0], shape[2] // out_hw[1])
        result = max_pool2d(planes, kernel, return_indices=return_indices)
        if return_indices:
            return reshape(result[0], out_shape), reshape(result[1], out_shape)
        return reshape(result, out_shape)
    if return_indices:  # filled by forward as a side output, which a graph cannot replay
        refuse_in_graph("adaptive max pooling with return_indices=True")
    indices = [] if return_indices else None
    out = AdaptiveMaxPool.apply(planes, out_hw=out_hw, out_shape=out_shape, indices_out=indices)
    return (out, Tensor._wrap(indices[0])) if return_indices else out


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Average pooling to a fixed ``output_size`` (an int, or ``(h, w)`` with None = keep).

    Example:
        >>> import trainctl as tc
        >>> tc.nn.functional.adaptive_avg_pool2d(tc.ones(2, 3, 7, 5), 1).shape
        trainctl.Size([2, 3, 1, 1])
    """
    return _adaptive_avg("adaptive_avg_pool2d", input, output_size, 2)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """1-D average pooling of ``(N, C, L)`` to length ``output_size``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.functional.adaptive_avg_pool1d(tc.tensor([[[1., 2., 3.]]]), 2)
        tensor([[[1.5000, 2.5000]]])
    """
    return _adaptive_avg("adaptive_avg_pool1d", input, output_size, 1)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """Max pooling to a fixed ``output_size``; ``return_indices`` adds flat ``h * W + w``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.functional.adaptive_max_pool2d(tc.arange(9.).reshape(1, 1, 3, 3), 2)
        tensor([[[[4., 5.],
                  [7., 8.]]]])
    """
    return _adaptive_max("adaptive_max_pool2d", input, output_size, 2, return_indices)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """1-D max pooling of ``(N, C, L)`` to length ``output_size``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.functional.adaptive_max_pool1d(tc.tensor([[[1., 5., 2.]]]), 2)
        tensor([[[5., 5.]]])
    """
    return _adaptive_max("adaptive_max_pool1d", input, output_size, 1, return_indices)
