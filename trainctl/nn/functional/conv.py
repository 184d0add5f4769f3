"""Convolutions: ``conv1d``, ``conv2d``, ``conv_transpose1d``, ``conv_transpose2d``.

Each is one :class:`ArrayFunction` whose forward is im2col + one matrix product and whose
backward is two products (weight and input gradients) + col2im; see ``_im2col.py`` for the
layout. 1-D convolutions run the 2-D code on a unit height.
"""

from __future__ import annotations

from ...autograd.array_function import ArrayFunction
from ...autograd.tensor import Tensor
from ...core.errors import ShapeError
from ._im2col import Geometry, fold, from_grid, pad_buffer, to_grid, unfold

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


def _tuple(value, n: int, name: str, op: str) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _groups_matmul(w3, cols3):
    """``(G, a, b) @ (G, b, m)`` with the single-group case as a plain 2-D product."""
    if w3.shape[0] == 1:
        return (w3[0] @ cols3[0])[None]
    return w3 @ cols3


def _weight_grad(cols3, g3):
    """``g3 (G, a, m) @ cols3 (G, b, m)^T`` as ``(G, a, b)``.

    Computed as ``(cols @ g^T)^T``: measured ~1.3x faster with OpenBLAS for these thin shapes.
    """
    if cols3.shape[0] == 1:
        return (cols3[0] @ g3[0].T).T[None]
    return (cols3 @ g3.transpose(0, 2, 1)).transpose(0, 2, 1)


class ConvNd(ArrayFunction):
    """Convolution (cross-correlation) of ``x (N, C, H, W)`` with ``w (O, C/groups, kh, kw)``."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups, one_d):
        if one_d:  # (N, C, L) runs as (N, C, 1, L)
            x, weight = x[:, :, None, :], weight[:, :, None, :]
        o = weight.shape[0]
        geo = Geometry(x.shape, weight.shape[2:], stride, padding, dilation)
        cols = unfold(pad_buffer(x, geo), geo).reshape(groups, -1, geo.M)
        w3 = weight.reshape(groups, o // groups, -1)
        out = from_grid(_groups_matmul(w3, cols).reshape(o, geo.M), geo, bias)
        ctx.save_for_backward(weight)
        # The column matrix is the largest array here: keep it only for the weight gradient.
        ctx.cols = cols if ctx.needs_input_grad[1] else None
        ctx.geo, ctx.groups, ctx.one_d = geo, groups, one_d
        return out[:, :, 0, :] if one_d else out

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved
        geo, groups, one_d = ctx.geo, ctx.groups, ctx.one_d
        need_x, need_w, need_b = ctx.needs_input_grad
        if one_d:
            grad = grad[:, :, None, :]
        o = weight.shape[0]
        g3 = to_grid(grad, geo).reshape(groups, o // groups, geo.M)
        gx = gw = gb = None
        if need_w:
            gw = _weight_grad(ctx.cols, g3).reshape(weight.shape)
        if need_b:  # the grid copy is contiguous per channel (extra columns are zeros)
            gb = g3.reshape(o, -1).sum(axis=1)
        if need_x:
            w3 = weight.reshape(groups, o // groups, -1)
            dcols = _groups_matmul(w3.transpose(0, 2, 1), g3)
            gx = fold(dcols.reshape(geo.C, geo.kh, geo.kw, geo.N, geo.Ho, geo.Wg), geo)
        if one_d:
            gx = None if gx is None else gx[:, :, 0, :]
            gw = None if gw is None else gw[:, :, 0, :]
        return gx, gw, gb


class ConvTransposeNd(ArrayFunction):
    """Transposed convolution of ``x (N, Cin, H, W)`` with ``w (Cin, Cout/groups, kh, kw)``.

    Forward is conv2d's input-gradient (product + col2im); backward is conv2d's forward.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups, out_hw, one_d):
        if one_d:
            x, weight = x[:, :, None, :], weight[:, :, None, :]
        cin, cout_g = weight.shape[:2]
        n, _, h, w = x.shape
        # The geometry of the conv that maps the output back onto the input grid.
        geo = Geometry((n, cout_g * groups) + out_hw, weight.shape[2:], stride, padding,
                       dilation, out_hw=(h, w))
        x3 = to_grid(x, geo).reshape(groups, cin // groups, geo.M)
        w3 = weight.reshape(groups, cin // groups, -1)
        dcols = _groups_matmul(w3.transpose(0, 2, 1), x3)
        out = fold(dcols.reshape(geo.C, geo.kh, geo.kw, n, h, geo.Wg), geo)
        if bias is not None:
            out += bias.reshape(-1, 1, 1)
        ctx.save_for_backward(weight)
        ctx.x3, ctx.geo, ctx.groups, ctx.one_d = x3, geo, groups, one_d
        return out[:, :, 0, :] if one_d else out

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved
        geo, groups, one_d = ctx.geo, ctx.groups, ctx.one_d
        need_x, need_w, need_b = ctx.needs_input_grad
        if one_d:
            grad = grad[:, :, None, :]
        cin = weight.shape[0]
        gcols = unfold(pad_buffer(grad, geo), geo).reshape(groups, -1, geo.M)
        gx = gw = gb = None
        if need_x:
            w3 = weight.reshape(groups, cin // groups, -1)
            gx = from_grid(_groups_matmul(w3, gcols).reshape(cin, geo.M), geo)
            gx = gx[:, :, 0, :] if one_d else gx
        if need_w:
            gw = _weight_grad(gcols, ctx.x3).reshape(weight.shape)
            gw = gw[:, :, 0, :] if one_d else gw
        if need_b:
            gb = grad.sum(axis=(0, 2, 3))
        return gx, gw, gb


# ------------------------------------------------------------------------------ checks


def _check(op: str, x: Tensor, weight: Tensor, bias, groups: int, nd: int, transposed: bool):
    if x.ndim != nd + 2:
        raise ShapeError(
            f"{op}: expected a {nd + 2}-D input (N, C, {'L' if nd == 1 else 'H, W'}), "
            f"got shape {tuple(x.shape)}"
        )
    if weight.ndim != nd + 2:
        raise ShapeError(f"{op}: expected a {nd + 2}-D weight, got shape {tuple(weight.shape)}")
    if groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(f"{op}: input dtype {x.dtype} and {name} dtype {t.dtype} differ")
    c = x.shape[1]
    if transposed:
        cout = weight.shape[1] * groups
        ok = weight.shape[0] == c and c % groups == 0
        want = f"weight.shape[0] == in_channels ({c}) and in_channels divisible by groups"
    else:
        cout = weight.shape[0]
        ok = weight.shape[1] * groups == c and cout % groups == 0
        want = f"weight.shape[1] * groups == in_channels ({c}), out_channels divisible by groups"
    if not ok:
        raise ShapeError(
            f"{op}: input of shape {tuple(x.shape)} and weight of shape {tuple(weight.shape)} "
            f"do not fit with groups={groups}: need {want}"
        )
    if bias is not None and tuple(bias.shape) != (cout,):
        raise ShapeError(f"{op}: bias must have shape ({cout},), got {tuple(bias.shape)}")


def _conv_padding(op: str, padding, kernel, stride, dilation, nd: int) -> tuple:
    """``(top, bottom, left, right)`` from an int, a tuple, ``'valid'`` or ``'same'``."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', "
                             f"got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
        # PyTorch puts the odd extra zero (even kernels) at the end.
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        pads = [(t // 2, t - t // 2) for t in total]
        return pads[0] + pads[1] if nd == 2 else (0, 0) + pads[0]
    p = _tuple(padding, nd, "padding", op)
    if any(v < 0 for v in p):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return (p[0], p[0], p[1], p[1]) if nd == 2 else (0, 0, p[0], p[0])


def _conv(op, x, weight, bias, stride, padding, dilation, groups, nd):
    _check(op, x, weight, bias, groups, nd, transposed=False)
    stride = _tuple(stride, nd, "stride", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    kernel = tuple(weight.shape[2:])
    pads = _conv_padding(op, padding, kernel, stride, dilation, nd)
    if nd == 1:
        kernel, stride, dilation = (1,) + kernel, (1,) + stride, (1,) + dilation
    for size, k, d, p in zip(x.shape[2:] if nd == 2 else (1,) + tuple(x.shape[2:]), kernel,
                             dilation, (pads[0] + pads[1], pads[2] + pads[3])):
        if size + p < d * (k - 1) + 1:
            raise ShapeError(
                f"{op}: input of shape {tuple(x.shape)} (padded by {p}) is smaller than the "
                f"kernel {tuple(weight.shape[2:])} with dilation {dilation[-nd:]}"
            )
    return ConvNd.apply(x, weight, bias, stride=stride, padding=pads, dilation=dilation,
                        groups=groups, one_d=nd == 1)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,  # noqa: A002
           padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) over ``(N, C, H, W)``, as ``torch.nn.functional.conv2d``.

    Args:
        input: ``(N, C_in, H, W)``.
        weight: ``(C_out, C_in / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, dilation: an int or an ``(h, w)`` pair.
        padding: an int, an ``(h, w)`` pair, ``'valid'`` (none) or ``'same'`` (stride 1 only).
        groups: split the channels into this many independent convolutions.

    Example:
        >>> import trainctl as tc
        >>> F = tc.nn.functional
        >>> F.conv2d(tc.ones(1, 1, 4, 4), tc.ones(2, 1, 3, 3), padding=1).shape
        trainctl.Size([1, 2, 4, 4])
    """
    return _conv("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,  # noqa: A002
           padding=0, dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution over ``(N, C, L)``, as ``torch.nn.functional.conv1d``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.functional.conv1d(tc.ones(2, 3, 10), tc.ones(4, 3, 3)).shape
        trainctl.Size([2, 4, 8])
    """
    return _conv("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


def _conv_transpose(op, x, weight, bias, stride, padding, output_padding, groups, dilation, nd):
    _check(op, x, weight, bias, groups, nd, transposed=True)
    stride = _tuple(stride, nd, "stride", op)
    padding = _tuple(padding, nd, "padding", op)
    output_padding = _tuple(output_padding, nd, "output_padding", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    kernel = tuple(weight.shape[2:])
    out = []
    for size, k, s, p, op_, d in zip(x.shape[2:], kernel, stride, padding, output_padding,
                                     dilation):
        if op_ >= s and op_ >= d:
            raise ValueError(f"{op}: output_padding ({op_}) must be smaller than either stride "
                             f"({s}) or dilation ({d})")
        n = (size - 1) * s - 2 * p + d * (k - 1) + op_ + 1
        if n <= 0:
            raise ShapeError(f"{op}: input of shape {tuple(x.shape)} gives a non-positive "
                             f"output size {n}")
        out.append(n)
    pads = (padding[0], padding[0], padding[1], padding[1]) if nd == 2 else (0, 0) + padding * 2
    if nd == 1:
        kernel, stride, dilation, out = (1,) + kernel, (1,) + stride, (1,) + dilation, [1] + out
    return ConvTransposeNd.apply(x, weight, bias, stride=stride, padding=pads, dilation=dilation,
                                 groups=groups, out_hw=tuple(out), one_d=nd == 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """2-D transposed convolution ("deconvolution"), as ``torch.nn.functional.conv_transpose2d``.

    The output size is ``(H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.

    Args:
        input: ``(N, C_in, H, W)``.
        weight: ``(C_in, C_out / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.

    Example:
        >>> import trainctl as tc
        >>> F = tc.nn.functional
        >>> F.conv_transpose2d(tc.ones(1, 2, 3, 3), tc.ones(2, 4, 3, 3), stride=2).shape
        trainctl.Size([1, 4, 7, 7])
    """
    return _conv_transpose("conv_transpose2d", input, weight, bias, stride, padding,
                           output_padding, groups, dilation, 2)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """1-D transposed convolution over ``(N, C, L)``, as ``torch.nn.functional.conv_transpose1d``.

    Example:
        >>> import trainctl as tc
        >>> tc.nn.functional.conv_transpose1d(tc.ones(1, 2, 5), tc.ones(2, 3, 3)).shape
        trainctl.Size([1, 3, 7])
    """
    return _conv_transpose("conv_transpose1d", input, weight, bias, stride, padding,
                           output_padding, groups, dilation, 1)
