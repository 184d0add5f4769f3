"""Loss functions with PyTorch's formulas, ``reduction`` modes and shape rules.

Each loss is one fused op (element-wise loss, its derivative and the reduction in one node).
Unlike PyTorch, an input and target of different shapes are an error here, not a silent
broadcast: an (N, 1) prediction against an (N,) target would otherwise give an (N, N) loss.
As in PyTorch, the binary cross-entropies take floating targets only (probabilities): an
integer or bool target is refused with PyTorch's ``Found dtype Long but expected Float``.
"""

from __future__ import annotations

from ...autograd.array_function import ArrayFunction
from ...autograd.ops import promotion, selection, unary
from ...autograd.ops import reduction as red
from ...autograd.tensor import Tensor
from ...core import backend
from ...core.errors import ShapeError, TrainctlError
from ._cross_entropy import (
    NLL,
    CrossEntropy,
    SoftCrossEntropy,
    class_index_shapes,
    grad_coef,
    quiet,
    reduce_loss,
)

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "cosine_embedding_loss",
]


def reduction_mode(reduction: str, size_average=None, reduce=None) -> str:
    """The reduction mode, honouring PyTorch's deprecated ``size_average``/``reduce`` pair.

    Example:
        >>> reduction_mode("mean"), reduction_mode("mean", size_average=False)
        ('mean', 'sum')
    """
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return ("mean" if size_average else "sum") if reduce else "none"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _same_shape(name: str, input: Tensor, target: Tensor) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(
            f"{name}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} "
            "differ; PyTorch would broadcast them (usually a bug, e.g. an (N, 1) prediction "
            "against an (N,) target); reshape one of them so the shapes match"
        )


class DtypeError(TrainctlError, RuntimeError):
    """A loss got a target of a dtype it does not take (PyTorch raises a RuntimeError)."""


# PyTorch's names of the dtypes, as its messages say them
_TORCH_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool"}


def _float_target(name: str, input: Tensor, target: Tensor) -> None:
    """Refuse a non-floating target for a binary cross-entropy, in PyTorch's words."""
    dtype = target.array.dtype
    if dtype.kind != "f":
        got = _TORCH_NAMES.get(dtype.name, dtype.name)
        want = _TORCH_NAMES.get(input.array.dtype.name, input.array.dtype.name)
        raise DtypeError(
            f"{name}: Found dtype {got} but expected {want}: the target holds probabilities, so "
            f"it must be floating point with the input's shape {tuple(input.shape)} (convert "
            "class labels with target.float())"
        )


def _like(input: Tensor, other):
    """``other`` as a tensor of ``input``'s float dtype (None stays None)."""
    if other is None:
        return None
    if not isinstance(other, Tensor):
        other = Tensor._constant(backend.get_array_module(input.array).asarray(other))
    if other.array.dtype != input.array.dtype:
        other = promotion.cast(other, input.array.dtype)
    return other


def _data(t):
    return None if t is None else t.array


class Pointwise(ArrayFunction):
    """``sum/mean/none`` of ``w * f(input - target)`` for the regression losses."""

    @staticmethod
    def forward(ctx, x, t, kind, param, weight, reduction):
        xp = backend.get_array_module(x)
        d = x - t
        if not any(ctx.needs_input_grad) and kind == "mse" and weight is None:
            return reduce_loss(xp, d * d, reduction, d.size, x.shape)  # evaluation: no slope
        if kind == "mse":
            loss, slope = d * d, 2 * d
        elif kind == "l1" or (kind == "smooth_l1" and param == 0):
            loss, slope = xp.abs(d), xp.sign(d)
        else:
            a = xp.abs(d)
            small = a < param
            if kind == "smooth_l1":
                loss = xp.where(small, 0.5 * d * d / param, a - 0.5 * param)
                slope = xp.where(small, d / param, xp.sign(d))
            else:  # huber
                loss = xp.where(small, 0.5 * d * d, param * (a - 0.5 * param))
                slope = xp.where(small, d, param * xp.sign(d))
        denom = loss.size
        if weight is not None:
            loss, slope, denom = loss * weight, slope * weight, weight.sum()
        ctx.meta = (slope, reduction, denom)
        return reduce_loss(xp, loss, reduction, denom, x.shape)

    @staticmethod
    def backward(ctx, grad):
        slope, reduction, denom = ctx.meta
        g = grad_coef(grad, reduction, denom)
        g = (g.reshape(slope.shape) if reduction == "none" else g) * slope
        return g, (-g if ctx.needs_input_grad[1] else None)


def _pointwise(name, kind, input, target, param, weight, reduction):
    _same_shape(name, input, target)
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise ShapeError(
            f"{name}: weight shape {tuple(weight.shape)} must equal input shape "
            f"{tuple(input.shape)}"
        )
    return Pointwise.apply(input, _like(input, target), kind=kind, param=param,
                           weight=_data(_like(input, weight)), reduction=reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)^2`` (weighted ``mean`` divides by ``sum(weight)``).

    Example:
        >>> import trainctl as tc
        >>> float(mse_loss(tc.tensor([1.0, 3.0]), tc.tensor([0.0, 0.0])))
        5.0
    """
    red_ = reduction_mode(reduction, size_average, reduce)
    return _pointwise("mse_loss", "mse", input, target, 0.0, weight, red_)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|``."""
    red_ = reduction_mode(reduction, size_average, reduce)
    return _pointwise("l1_loss", "l1", input, target, 0.0, weight, red_)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``)."""
    if beta < 0:
        raise ValueError("smooth_l1_loss does not support negative values for beta.")
    red_ = reduction_mode(reduction, size_average, reduce)
    return _pointwise("smooth_l1_loss", "smooth_l1", input, target, float(beta), None, red_)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    if delta <= 0:
        raise ValueError("huber_loss does not support non-positive values for delta.")
    return _pointwise("huber_loss", "huber", input, target, float(delta), weight,
                      reduction_mode(reduction))


class BinaryCrossEntropy(ArrayFunction):
    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        xp = backend.get_array_module(x)
        with quiet(xp):
            log_x = xp.maximum(xp.log(x), -100)  # PyTorch clamps the logs at -100
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, t)
        ctx.meta = (log_x, log_1mx, weight, reduction, loss.size)
        return reduce_loss(xp, loss, reduction, loss.size, x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved
        log_x, log_1mx, weight, reduction, n = ctx.meta
        xp = backend.get_array_module(grad)
        g = grad_coef(grad, reduction, n)
        g = g.reshape(x.shape) if reduction == "none" else g
        if weight is not None:
            g = g * weight
        gx = g * (x - t) / xp.maximum((1 - x) * x, 1e-12) if ctx.needs_input_grad[0] else None
        gt = g * (log_1mx - log_x) if ctx.needs_input_grad[1] else None
        return gx, gt


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (t log(x) + (1 - t) log(1 - x))`` for probabilities ``x`` (logs clamped at -100)."""
    red_ = reduction_mode(reduction, size_average, reduce)
    _same_shape("binary_cross_entropy", input, target)
    _float_target("binary_cross_entropy", input, target)
    xp = backend.get_array_module(input.array)
    if input.array.size and not backend.is_meta(input.array) and \
            bool(((input.array < 0) | (input.array > 1)).any()):
        raise ValueError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 "
            "(use binary_cross_entropy_with_logits for raw scores)"
        )
    w = _data(_like(input, weight))
    if w is not None:
        w = xp.broadcast_to(w, input.shape)
    return BinaryCrossEntropy.apply(input, _like(input, target), weight=w, reduction=red_)


class BinaryCrossEntropyWithLogits(ArrayFunction):
    @staticmethod
    def forward(ctx, x, t, weight, pos_weight, reduction):
        xp = backend.get_array_module(x)
        softplus_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))  # log(1 + exp(-x))
        if pos_weight is None:
            loss = (1 - t) * x + softplus_neg
        else:
            loss = (1 - t) * x + (1 + (pos_weight - 1) * t) * softplus_neg
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, t)
        ctx.meta = (softplus_neg, weight, pos_weight, reduction, loss.size, loss.shape)
        return reduce_loss(xp, loss, reduction, loss.size, loss.shape)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved
        softplus_neg, weight, pos_weight, reduction, n, shape = ctx.meta
        xp = backend.get_array_module(grad)
        g = grad_coef(grad, reduction, n)
        g = g.reshape(shape) if reduction == "none" else g
        if weight is not None:
            g = g * weight
        gx = gt = None
        sig = 0.5 * (1 + xp.tanh(0.5 * x))
        if ctx.needs_input_grad[0]:
            if pos_weight is None:
                gx = g * (sig - t)
            else:
                gx = g * ((1 - t) - (1 + (pos_weight - 1) * t) * (1 - sig))
        if ctx.needs_input_grad[1]:
            gt = g * (-x if pos_weight is None else (pos_weight - 1) * softplus_neg - x)
        return gx, gt


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op; ``pos_weight`` scales positive targets
    (broadcast along the last, class, dimension).

    Example:
        >>> import trainctl as tc
        >>> round(float(binary_cross_entropy_with_logits(tc.zeros(3), tc.ones(3))), 4)
        0.6931
    """
    red_ = reduction_mode(reduction, size_average, reduce)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    _float_target("binary_cross_entropy_with_logits", input, target)
    return BinaryCrossEntropyWithLogits.apply(
        input, _like(input, target), weight=_data(_like(input, weight)),
        pos_weight=_data(_like(input, pos_weight)), reduction=red_,
    )


class KLDiv(ArrayFunction):
    @staticmethod
    def forward(ctx, x, t, log_target, reduction, denom):
        xp = backend.get_array_module(x)
        if log_target:
            et = xp.exp(t)
            loss = et * (t - x)
        else:
            et = t
            with quiet(xp):
                loss = xp.where(t > 0, t * xp.log(t), 0) - t * x  # xlogy(t, t) - t x
        ctx.save_for_backward(x, t)
        ctx.meta = (et, log_target, reduction, denom)
        red_ = "mean" if reduction == "batchmean" else reduction
        return reduce_loss(xp, loss, red_, denom, x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved
        et, log_target, reduction, denom = ctx.meta
        xp = backend.get_array_module(grad)
        g = grad_coef(grad, "mean" if reduction == "batchmean" else reduction, denom)
        g = g.reshape(x.shape) if reduction == "none" else g
        gx = -g * et if ctx.needs_input_grad[0] else None
        gt = None
        if ctx.needs_input_grad[1]:
            if log_target:
                gt = g * et * (t - x + 1)
            else:
                with quiet(xp):
                    gt = g * (xp.where(t > 0, xp.log(t) + 1, 0) - x)
        return gx, gt


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence ``target * (log(target) - input)`` for log-probabilities ``input``.

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematically right KL);
    ``'mean'`` divides by the number of elements, as PyTorch does.
    """
    if size_average is not None or reduce is not None:
        reduction = reduction_mode(reduction, size_average, reduce)
    elif reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    _same_shape("kl_div", input, target)
    denom = input.numel()
    if reduction == "batchmean":
        denom = input.shape[0] if input.ndim else 1
    return KLDiv.apply(input, _like(input, target), log_target=bool(log_target),
                       reduction=reduction, denom=denom)


def _class_weight(name: str, input: Tensor, weight):
    if weight is None:
        return None
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    if tuple(weight.shape) != (classes,):
        raise ShapeError(
            f"{name}: weight must have one entry per class ({classes}), got shape "
            f"{tuple(weight.shape)}"
        )
    return _data(_like(input, weight))


def _int_target(name: str, input: Tensor, target: Tensor):
    data = target.array
    if data.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: class-index targets must be integers, got {target.dtype} target of shape "
            f"{tuple(target.shape)} for input of shape {tuple(input.shape)}; class-probability "
            "targets must have the input's shape"
        )
    if data.dtype != "int64":  # cast by an op, so a graph casts each new target again
        return promotion.cast(target, "int64").array
    return data


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits ``input`` and class indices or class probabilities.

    ``input`` is (N, C), (C,) or (N, C, d1, ...); class-index ``target`` is (N,), () or
    (N, d1, ...); a float ``target`` of the input's shape holds probabilities. Computed as one
    fused, stable log-softmax + NLL.

    Example:
        >>> import trainctl as tc
        >>> logits = tc.tensor([[2.0, 0.0, 0.0]])
        >>> round(float(cross_entropy(logits, tc.tensor([0]))), 4)
        0.2395
    """
    red_ = reduction_mode(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    w = _class_weight("cross_entropy", input, weight)
    if target.array.dtype.kind == "f" and target.array.shape == input.array.shape:
        return SoftCrossEntropy.apply(input, _like(input, target), weight=w, reduction=red_,
                                      eps=float(label_smoothing))
    class_index_shapes("cross_entropy", input, target)
    return CrossEntropy.apply(input, target=_int_target("cross_entropy", input, target),
                              weight=w, ignore_index=int(ignore_index), reduction=red_,
                              eps=float(label_smoothing))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` at class indices ``target``."""
    red_ = reduction_mode(reduction, size_average, reduce)
    class_index_shapes("nll_loss", input, target)
    return NLL.apply(input, target=_int_target("nll_loss", input, target),
                     weight=_class_weight("nll_loss", input, weight),
                     ignore_index=int(ignore_index), reduction=red_)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where -1."""
    red_ = reduction_mode(reduction, size_average, reduce)
    if tuple(input1.shape) != tuple(input2.shape) or input1.ndim not in (1, 2):
        raise ShapeError(
            f"cosine_embedding_loss: inputs must be 1-D or 2-D of one shape, got "
            f"{tuple(input1.shape)} and {tuple(input2.shape)}"
        )
    if tuple(target.shape) != tuple(input1.shape[:-1]):
        raise ShapeError(
            f"cosine_embedding_loss: target shape {tuple(target.shape)} must be "
            f"{tuple(input1.shape[:-1])} for inputs of shape {tuple(input1.shape)}"
        )
    eps = 1e-12  # as PyTorch: added to each squared norm
    dot = red.sum(input1 * input2, -1)
    mag = unary.sqrt((red.sum(input1 * input1, -1) + eps) * (red.sum(input2 * input2, -1) + eps))
    cos = dot / mag
    out = selection.where(target == 1, 1 - cos, 0.0)  # comparisons are ops: graphs repeat them
    out = out + selection.where(target == -1, selection.clamp(cos - margin, min=0.0), 0.0)
    if red_ == "none":
        return out
    return red.sum(out) if red_ == "sum" else red.mean(out)
