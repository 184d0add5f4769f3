"""im2col / col2im on "wide rows": the layout behind every convolution in trainctl.

The input is copied once into a zero-padded buffer ``(N, C, R, Wp)``. A window position
``(i, j)`` of the kernel is then a fixed offset ``i*dh*Wp + j*dw`` into each flattened plane, so
the column matrix ``cols[c, i, j, n, h, w] = buf[n, c, h*sh + i*dh, w*sw + j*dw]`` is a strided
*view* of the buffer (``as_strided``, the same mechanism as ``sliding_window_view``).

Why this layout: NumPy's copies and in-place adds pay a fixed cost per contiguous run, and with
the textbook ``(N*Ho*Wo, C*kh*kw)`` layout every run is ``kw`` elements long (5 for LeNet), which
made im2col 5x slower than the matrix product itself. For stride 1 the output grid here spans the
whole padded width (``Wg = Wp``; the ``Wp - Wo`` extra columns are computed and thrown away), so
``(h, w)`` fuse into one run of ``Ho*Wp`` elements per (channel, kernel offset, sample): the copy
and the col2im accumulation run at memory speed. With stride > 1 that would waste ~stride times
the work, so the grid is exactly ``Wo`` wide and runs are ``Wo`` long.

The product is ``W (O, C*kh*kw) @ cols (C*kh*kw, N*Ho*Wg)``: one BLAS call (one batched call
over groups), and its ``(O, N, Ho, Wg)`` result becomes NCHW in the same pass that adds the bias.
"""

from __future__ import annotations

from ...core import backend


class Geometry:
    """Sizes of one 2-D sliding-window op over an ``(N, C, H, W)`` input.

    Args:
        shape: the input shape ``(N, C, H, W)``.
        kernel, stride, dilation: ``(h, w)`` pairs.
        padding: ``(top, bottom, left, right)`` zero padding.
        out_hw: force the output size (conv_transpose's backward); computed when None.
    """

    __slots__ = ("N", "C", "H", "W", "kh", "kw", "sh", "sw", "dh", "dw", "pt", "pl",
                 "Ho", "Wo", "R", "Wp", "Wg")

    def __init__(self, shape, kernel, stride, padding, dilation, out_hw=None):
        self.N, self.C, self.H, self.W = shape
        (self.kh, self.kw), (self.sh, self.sw), (self.dh, self.dw) = kernel, stride, dilation
        pt, pb, pl, pr = padding
        self.pt, self.pl = pt, pl
        hp, wp = self.H + pt + pb, self.W + pl + pr
        if out_hw is None:
            out_hw = ((hp - self.dh * (self.kh - 1) - 1) // self.sh + 1,
                      (wp - self.dw * (self.kw - 1) - 1) // self.sw + 1)
        self.Ho, self.Wo = out_hw
        self.Wp = wp
        if self.sh == 1 and self.sw == 1:
            # Wide grid: the extra columns read up to (kw-1)*dw elements past the last plane's
            # end, so the buffer gets one spare zero row.
            self.Wg, self.R = wp, hp + 1
        else:
            self.Wg, self.R = self.Wo, hp

    @property
    def M(self) -> int:
        """Number of grid positions: the columns of the column matrix."""
        return self.N * self.Ho * self.Wg


def pad_buffer(x, g: Geometry):
    """Copy ``x`` (N, C, H, W) into a zeroed ``(N, C, R, Wp)`` buffer at offset (pt, pl)."""
    xp = backend.get_array_module(x)
    buf = xp.zeros((g.N, x.shape[1], g.R, g.Wp), dtype=x.dtype)
    buf[:, :, g.pt:g.pt + g.H, g.pl:g.pl + g.W] = x
    return buf


def unfold(buf, g: Geometry):
    """The column matrix ``(C, kh, kw, N, Ho, Wg)`` (contiguous) of a padded buffer."""
    xp = backend.get_array_module(buf)
    c = buf.shape[1]
    s = buf.itemsize
    plane = g.R * g.Wp
    view = xp.lib.stride_tricks.as_strided(
        buf, shape=(c, g.kh, g.kw, g.N, g.Ho, g.Wg),
        strides=(plane * s, g.dh * g.Wp * s, g.dw * s, c * plane * s, g.sh * g.Wp * s, g.sw * s),
    )
    return xp.ascontiguousarray(view)


def fold(cols, g: Geometry):
    """col2im: sum ``cols (C, kh, kw, N, Ho, Wg)`` back into an ``(N, C, H, W)`` image.

    One strided in-place add per kernel offset (kh*kw of them); grid columns beyond ``Wo`` must
    hold zeros (they land on neighbouring pixels).
    """
    xp = backend.get_array_module(cols)
    c = cols.shape[0]
    src = cols.transpose(3, 0, 1, 2, 4, 5)  # (N, C, kh, kw, Ho, Wg), a view
    buf = xp.zeros((g.N, c, g.R, g.Wp), dtype=cols.dtype)
    if g.Wg == g.Wp:  # stride 1: each offset is one flat slice of every plane (basic slicing
        flat = buf.reshape(g.N, c, -1)  # is much cheaper per call than as_strided)
        src = src.reshape(g.N, c, g.kh, g.kw, -1)
        length = g.Ho * g.Wg
        for i in range(g.kh):
            for j in range(g.kw):
                off = i * g.dh * g.Wp + j * g.dw
                flat[:, :, off:off + length] += src[:, :, i, j]
    else:
        hs, ws = (g.Ho - 1) * g.sh + 1, (g.Wo - 1) * g.sw + 1
        for i in range(g.kh):
            for j in range(g.kw):
                r, q = i * g.dh, j * g.dw
                buf[:, :, r:r + hs:g.sh, q:q + ws:g.sw] += src[:, :, i, j]
    return xp.ascontiguousarray(buf[:, :, g.pt:g.pt + g.H, g.pl:g.pl + g.W])


def to_grid(y, g: Geometry):
    """``y (N, C, Ho, Wo)`` as ``(C, N, Ho, Wg)`` with zeros in the extra grid columns."""
    xp = backend.get_array_module(y)
    if g.Wg == g.Wo:
        return xp.ascontiguousarray(y.transpose(1, 0, 2, 3))
    out = xp.zeros((y.shape[1], g.N, g.Ho, g.Wg), dtype=y.dtype)
    out[..., :g.Wo] = y.transpose(1, 0, 2, 3)
    return out


def from_grid(z, g: Geometry, bias=None):
    """``z (C, N*Ho*Wg)`` as a contiguous ``(N, C, Ho, Wo)`` image, plus ``bias`` per channel."""
    xp = backend.get_array_module(z)
    c = z.shape[0]
    src = z.reshape(c, g.N, g.Ho, g.Wg)[..., :g.Wo].transpose(1, 0, 2, 3)
    out = xp.empty((g.N, c, g.Ho, g.Wo), dtype=z.dtype)
    if bias is None:
        out[...] = src
    else:
        xp.add(src, bias.reshape(c, 1, 1), out=out)
    return out
