"""Array kernels of 2-D max and average pooling over planes ``(P, H, W)``.

Pooling is separable: a window's max (or sum) is the max over its rows of the max over its
columns. Each pass is a loop over the kernel offsets of one axis (``kw`` then ``kh`` of them),
each step one vectorised op on a strided view of the whole batch: ``kh + kw`` steps instead of
``kh * kw``, and the column pass runs on long contiguous-ish runs, which NumPy iterates fastest.

Ties go to the first maximum in row-major window order, as in PyTorch: the column pass keeps the
first column holding its row's maximum, the row pass the first row holding the window's maximum.
"""

from __future__ import annotations

from ...core import backend


class PoolGeometry:
    """Sizes of one pooling over ``(P, H, W)`` planes (padding is symmetric, as in PyTorch)."""

    __slots__ = ("P", "H", "W", "kh", "kw", "sh", "sw", "dh", "dw", "ph", "pw", "Ho", "Wo",
                 "Hn", "Wn")

    def __init__(self, shape, kernel, stride, padding, dilation, out_hw):
        self.P, self.H, self.W = shape
        (self.kh, self.kw), (self.sh, self.sw) = kernel, stride
        (self.ph, self.pw), (self.dh, self.dw) = padding, dilation
        self.Ho, self.Wo = out_hw
        # The rows/columns the windows touch (ceil_mode can reach past the padded input).
        self.Hn = (self.Ho - 1) * self.sh + (self.kh - 1) * self.dh + 1
        self.Wn = (self.Wo - 1) * self.sw + (self.kw - 1) * self.dw + 1

    def rows_overlap(self) -> bool:
        return self.sh < self.kh * self.dh

    def cols_overlap(self) -> bool:
        return self.sw < self.kw * self.dw


def padded(x, g: PoolGeometry, fill):
    """``x`` inside a ``(P, Hn', Wn')`` buffer filled with ``fill`` (x itself when none needed)."""
    hb, wb = max(g.Hn, g.H + g.ph), max(g.Wn, g.W + g.pw)
    if g.ph == 0 and g.pw == 0 and hb == g.H and wb == g.W:
        return x
    xp = backend.get_array_module(x)
    buf = xp.full((g.P, hb, wb), fill, dtype=x.dtype)
    buf[:, g.ph:g.ph + g.H, g.pw:g.pw + g.W] = x
    return buf


def unpad(buf, g: PoolGeometry):
    """The ``(P, H, W)`` image inside a gradient buffer (``buf`` itself when unpadded)."""
    if buf.shape[1:] == (g.H, g.W) and g.ph == 0 and g.pw == 0:
        return buf
    xp = backend.get_array_module(buf)
    return xp.ascontiguousarray(buf[:, g.ph:g.ph + g.H, g.pw:g.pw + g.W])


def _col(a, g: PoolGeometry, j: int):
    """Columns ``wo*sw + j*dw`` of ``a``: shape ``(P, rows, Wo)``."""
    start = j * g.dw
    return a[:, :, start:start + (g.Wo - 1) * g.sw + 1:g.sw]


def _row(a, g: PoolGeometry, i: int):
    """Rows ``ho*sh + i*dh`` of ``a``: shape ``(P, Ho, cols)``."""
    start = i * g.dh
    return a[:, start:start + (g.Ho - 1) * g.sh + 1:g.sh]


def _index_dtype(xp, k: int):
    return xp.int8 if k < 128 else xp.int32


def _running_max(xp, views, track: bool = True):
    """Max over ``views`` and the position of the first maximum (NaN propagates to the max).

    With ``track=False`` (no gradient or indices wanted) only the max is computed.
    """
    best = views[0].copy()
    if not track:
        for v in views[1:]:
            xp.maximum(best, v, out=best)
        return best, None
    arg = xp.zeros(best.shape, dtype=_index_dtype(xp, len(views)))
    for t, v in enumerate(views[1:], 1):
        # arg = t where v beats best. Offsets only grow, so max(arg, t * beats) does it; it is
        # ~100x faster than copyto(..., where=) in NumPy.
        beats = (v > best).astype(arg.dtype)
        beats *= t
        xp.maximum(arg, beats, out=arg)
        xp.maximum(best, v, out=best)
    return best, arg


def max_forward(buf, g: PoolGeometry, track: bool = True):
    """Max pooling of a padded buffer: ``(out, col_arg, row_arg)`` (args are kernel offsets,
    None when not ``track``)."""
    xp = backend.get_array_module(buf)
    rows = buf[:, :g.Hn]
    hmax, col_arg = _running_max(xp, [_col(rows, g, j) for j in range(g.kw)], track)
    out, row_arg = _running_max(xp, [_row(hmax, g, i) for i in range(g.kh)], track)
    return out, col_arg, row_arg


def _scatter(xp, dst_view_of, k, grad, select, overlap):
    """Send ``grad`` to offset ``select`` of each window: ``dst_view_of(t)`` for t in range(k)."""
    for t in range(k):
        dst = dst_view_of(t)
        if select is None:
            part = grad
        elif overlap:
            part = grad * (select == t)
        else:  # each destination is written by exactly one (window, offset): no read needed
            xp.multiply(grad, select == t, out=dst)
            continue
        dst += part


def max_backward(grad, col_arg, row_arg, g: PoolGeometry, buf_shape):
    """Gradient of :func:`max_forward` w.r.t. its buffer: each window's grad to its argmax."""
    xp = backend.get_array_module(grad)
    hgrad = xp.zeros((g.P, g.Hn, g.Wo), dtype=grad.dtype)
    _scatter(xp, lambda i: _row(hgrad, g, i), g.kh, grad, row_arg, g.rows_overlap())
    dbuf = xp.zeros(buf_shape, dtype=grad.dtype)
    rows = dbuf[:, :g.Hn]
    _scatter(xp, lambda j: _col(rows, g, j), g.kw, hgrad, col_arg, g.cols_overlap())
    return dbuf


def flat_indices(col_arg, row_arg, g: PoolGeometry):
    """PyTorch's ``return_indices``: ``h * W + w`` of each maximum in the unpadded input."""
    xp = backend.get_array_module(col_arg)
    row = xp.arange(g.Ho).reshape(1, -1, 1) * g.sh + row_arg.astype(xp.int64) * g.dh
    col_at_row = xp.take_along_axis(col_arg, xp.broadcast_to(row, row_arg.shape), axis=1)
    col = xp.arange(g.Wo).reshape(1, 1, -1) * g.sw + col_at_row.astype(xp.int64) * g.dw
    return (row - g.ph) * g.W + (col - g.pw)


def _window_sizes(xp, n_out, k, s, p, size, count_include_pad):
    """Per output position along one axis: how many elements the average divides by."""
    start = xp.arange(n_out) * s - p
    end = xp.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return xp.minimum(end, size) - xp.maximum(start, 0)


def avg_scale(xp, g: PoolGeometry, count_include_pad: bool, divisor_override, dtype):
    """``1 / divisor`` for every output position, shape ``(Ho, Wo)``."""
    if divisor_override:
        return xp.full((g.Ho, g.Wo), 1.0 / divisor_override, dtype=dtype)
    nh = _window_sizes(xp, g.Ho, g.kh, g.sh, g.ph, g.H, count_include_pad)
    nw = _window_sizes(xp, g.Wo, g.kw, g.sw, g.pw, g.W, count_include_pad)
    return (1.0 / (nh[:, None] * nw[None, :])).astype(dtype)


def sum_forward(buf, g: PoolGeometry):
    """Window sums of a zero-padded buffer, shape ``(P, Ho, Wo)``."""
    rows = buf[:, :g.Hn]
    hsum = _col(rows, g, 0).copy()
    for j in range(1, g.kw):
        hsum += _col(rows, g, j)
    out = _row(hsum, g, 0).copy()
    for i in range(1, g.kh):
        out += _row(hsum, g, i)
    return out


def sum_backward(grad, g: PoolGeometry, buf_shape):
    """Gradient of :func:`sum_forward`: each window's grad to all its elements."""
    xp = backend.get_array_module(grad)
    hgrad = xp.zeros((g.P, g.Hn, g.Wo), dtype=grad.dtype)
    _scatter(xp, lambda i: _row(hgrad, g, i), g.kh, grad, None, True)
    dbuf = xp.zeros(buf_shape, dtype=grad.dtype)
    rows = dbuf[:, :g.Hn]
    _scatter(xp, lambda j: _col(rows, g, j), g.kw, hgrad, None, True)
    return dbuf
