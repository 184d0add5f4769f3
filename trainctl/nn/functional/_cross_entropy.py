"""Fused classification losses: cross-entropy (log-softmax + NLL in one node) and NLL.

Both work on a 2-D view ``(M, C)`` of the input: ``(N, C)`` as is, ``(C,)`` as one row, and
``(N, C, d1, ...)`` with the class axis moved last. For sample ``n`` the cross-entropy is
``-sum_c q[n, c] * logp[n, c]`` with

- class-index targets: ``q = (1 - eps) * w[t] * onehot(t) + (eps / C) * w`` (0 for ignored rows),
- probability targets: ``q = w * ((1 - eps) * target + eps / C)``,

so the gradient is ``softmax * sum_c q - q`` for every case. ``mean`` divides by the summed
target weights of the non-ignored samples (class indices) or by the number of samples
(probabilities), as PyTorch does.
"""

from __future__ import annotations

import contextlib

import numpy

from ...autograd.array_function import ArrayFunction
from ...core import backend
from ...core.errors import ShapeError


def quiet(xp):
    """Silence NumPy's floating-point warnings (log(0) and 0/0 are handled on purpose)."""
    if xp is numpy:
        return numpy.errstate(divide="ignore", invalid="ignore", over="ignore")
    return contextlib.nullcontext()


def to_rows(x):
    """``(M, C)`` view (or copy) of an input with classes on axis 1 (or a single ``(C,)``)."""
    if x.ndim == 1:
        return x[None, :]
    if x.ndim == 2:
        return x
    xp = backend.get_array_module(x)
    return xp.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def from_rows(g, shape):
    """Undo :func:`to_rows` for a gradient of the input's ``shape``."""
    if len(shape) <= 2:
        return g.reshape(shape)
    xp = backend.get_array_module(g)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return xp.moveaxis(g.reshape(moved), -1, 1)


def _divide(xp, value, denom):
    """``value / denom``; 0 / 0 gives NaN (as in PyTorch) without NumPy's warning."""
    if xp is numpy and not denom:
        return value * numpy.nan
    return value / denom


def reduce_loss(xp, loss, reduction, denom, out_shape):
    """Apply ``reduction`` to per-sample ``loss``; ``denom`` is the divisor of ``mean``."""
    if reduction == "none":
        return loss.reshape(out_shape)
    total = loss.sum()
    if reduction == "sum":
        return total
    return _divide(xp, total, denom)


def grad_coef(grad, reduction, denom):
    """The per-sample factor of the upstream gradient after ``reduction``."""
    if reduction == "none":
        return grad.reshape(-1)
    if reduction == "sum":
        return grad
    return _divide(backend.get_array_module(grad), grad, denom)


def log_softmax_rows(xp, x2):
    shifted = x2 - x2.max(axis=1, keepdims=True)
    shifted -= xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


def class_targets(name, target, ignore_index, num_classes):
    """Flat targets with ignored ones replaced by 0, and the validity mask (None: all valid)."""
    xp = backend.get_array_module(target)
    t = target.reshape(-1)
    if backend.is_meta(t):
        return t, None  # no values to check (nor to ignore): the shapes are those of all valid
    # Fast path (every step of a classifier): one reduction instead of five. Seen as unsigned,
    # negative targets (ignore_index included) become huge, so a maximum below num_classes
    # means every target is a valid class and none is ignored.
    if t.size and int(t.view(f"u{t.itemsize}").max()) < num_classes:
        return t, None
    valid = t != ignore_index
    if bool(valid.all()):
        valid, ts = None, t
    else:
        ts = xp.where(valid, t, 0)
    if ts.size and (int(ts.min()) < 0 or int(ts.max()) >= num_classes):
        value = int(ts[(ts < 0) | (ts >= num_classes)][0])
        raise IndexError(f"{name}: target {value} is out of bounds for {num_classes} classes")
    return ts, valid


def _picked_weights(xp, weight, ts, valid, dtype):
    """``w[t]`` per row, 0 where ignored; None when every row weighs 1."""
    if weight is None and valid is None:
        return None
    wt = weight[ts].astype(dtype, copy=False) if weight is not None else xp.ones(ts.shape, dtype)
    return wt if valid is None else wt * valid


class CrossEntropy(ArrayFunction):
    """Cross-entropy with class-index targets (one node: log-softmax and NLL fused)."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, eps):
        xp = backend.get_array_module(x)
        x2 = to_rows(x)
        rows_n, num_classes = x2.shape
        ts, valid = class_targets("cross_entropy", target, ignore_index, num_classes)
        logp = log_softmax_rows(xp, x2)
        rows = xp.arange(rows_n)
        wt = _picked_weights(xp, weight, ts, valid, x.dtype)
        picked = logp[rows, ts]
        loss = -picked if wt is None else -(wt * picked)
        if eps > 0:
            smooth = -(logp * weight).sum(axis=1) if weight is not None else -logp.sum(axis=1)
            if valid is not None:
                smooth *= valid
            loss = (1.0 - eps) * loss + (eps / num_classes) * smooth
        denom = rows_n if wt is None else wt.sum()  # the summed weights of non-ignored rows
        ctx.save_for_backward(logp)
        ctx.meta = (x.shape, rows, ts, wt, valid, weight, eps, reduction, denom)
        return reduce_loss(xp, loss.astype(x.dtype, copy=False), reduction, denom, target.shape)

    @staticmethod
    def backward(ctx, grad):
        (logp,) = ctx.saved
        shape, rows, ts, wt, valid, weight, eps, reduction, denom = ctx.meta
        xp = backend.get_array_module(grad)
        num_classes = logp.shape[1]
        coef = grad_coef(grad, reduction, denom)  # (M,) for 'none', else a scalar
        # d loss_n / d x_n = softmax_n * sum_c q[n, c] - q[n, :]
        w_sum = float(num_classes) if weight is None else weight.sum()
        in_use = 1.0 if valid is None else valid
        total_q = (1.0 - eps) * (1.0 if wt is None else wt) + (eps / num_classes) * w_sum * in_use
        row_coef = total_q * coef
        g = xp.exp(logp)
        g *= row_coef[:, None] if getattr(row_coef, "ndim", 0) else row_coef
        picked_coef = (1.0 - eps) * coef
        if wt is not None:
            picked_coef = picked_coef * wt
        g[rows, ts] -= picked_coef
        if eps > 0:
            smooth_coef = (eps / num_classes) * coef * in_use
            smooth_coef = smooth_coef[:, None] if getattr(smooth_coef, "ndim", 0) else smooth_coef
            g -= smooth_coef * (1.0 if weight is None else weight)
        return from_rows(g.astype(logp.dtype, copy=False), shape), None, None


class SoftCrossEntropy(ArrayFunction):
    """Cross-entropy with class-probability targets (differentiable in both arguments)."""

    @staticmethod
    def forward(ctx, x, target, weight, reduction, eps):
        xp = backend.get_array_module(x)
        x2 = to_rows(x)
        num_classes = x2.shape[1]
        logp = log_softmax_rows(xp, x2)
        q = to_rows(target)
        if eps > 0:
            q = q * (1.0 - eps) + eps / num_classes
        if weight is not None:
            q = q * weight
        loss = -(logp * q).sum(axis=1)
        ctx.save_for_backward(logp, q)
        ctx.meta = (x.shape, weight, eps, reduction, x2.shape[0])
        out_shape = (x.shape[0],) + tuple(x.shape[2:]) if x.ndim > 1 else ()
        return reduce_loss(xp, loss, reduction, x2.shape[0], out_shape)

    @staticmethod
    def backward(ctx, grad):
        logp, q = ctx.saved
        shape, weight, eps, reduction, count = ctx.meta
        xp = backend.get_array_module(grad)
        coef = grad_coef(grad, reduction, count)
        coef = coef[:, None] if reduction == "none" else coef
        need_x, need_t = ctx.needs_input_grad
        gx = gt = None
        if need_x:
            gx = from_rows(xp.exp(logp) * (q.sum(axis=1, keepdims=True) * coef) - q * coef, shape)
        if need_t:
            w_row = weight if weight is not None else 1.0
            gt = from_rows(-(1.0 - eps) * logp * w_row * coef, shape)
        return gx, gt


class NLL(ArrayFunction):
    """Negative log-likelihood of log-probabilities at class-index targets."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        xp = backend.get_array_module(x)
        x2 = to_rows(x)
        ts, valid = class_targets("nll_loss", target, ignore_index, x2.shape[1])
        rows = xp.arange(ts.shape[0])
        wt = _picked_weights(xp, weight, ts, valid, x.dtype)
        picked = x2[rows, ts]
        loss = -picked if wt is None else -(wt * picked)
        denom = ts.shape[0] if wt is None else wt.sum()
        ctx.meta = (x.shape, x2.shape, rows, ts, wt, reduction, denom)
        return reduce_loss(xp, loss, reduction, denom, target.shape)

    @staticmethod
    def backward(ctx, grad):
        shape, shape2, rows, ts, wt, reduction, denom = ctx.meta
        xp = backend.get_array_module(grad)
        coef = grad_coef(grad, reduction, denom)
        g = xp.zeros(shape2, dtype=grad.dtype)
        g[rows, ts] = -coef if wt is None else -wt * coef
        return from_rows(g, shape), None, None


def class_index_shapes(name: str, input, target) -> None:
    """PyTorch's shape rule for class-index targets: input (N, C, d...) -> target (N, d...)."""
    ishape, tshape = input.array.shape, target.array.shape
    if len(ishape) == 0:
        raise ShapeError(f"{name}: input must have a class dimension, got a 0-d input")
    expected = () if len(ishape) == 1 else (ishape[0],) + ishape[2:]
    if tshape != expected:
        raise ShapeError(
            f"{name}: input of shape {ishape} (classes on dim {0 if len(ishape) == 1 else 1}) "
            f"needs class-index targets of shape {expected}, got target of shape {tshape}"
        )
