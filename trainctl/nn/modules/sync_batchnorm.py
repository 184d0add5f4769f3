"""``SyncBatchNorm``: batch normalization whose statistics cover the batch of every rank.

With data-parallel training each rank sees ``1/N`` of the batch; plain batch norm would normalize
with the statistics of that part only. :class:`SyncBatchNorm` sums the per-channel statistics
over the ranks (``tc.distributed.all_reduce``) in forward (the mean, then the variance around
it: the same two passes as one process over the whole batch) and in backward (the two channel
sums the input's gradient needs), so a model trained on N ranks gets the numbers of one process
on the union of their samples. Outside training, or without a group of several processes, it
is plain batch norm.
"""

from __future__ import annotations

import numpy

from ...autograd.array_function import ArrayFunction
from ...autograd.creation import from_numpy
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...core import backend
from ...distributed import collectives
from ...distributed import process_group as group
from ..functional.normalization import _affine, _update_running
from ..module import Module
from .normalization import _BatchNorm, _count_batch

__all__ = ["SyncBatchNorm"]


def _sum_over_ranks(array):
    """The element-wise sum of ``array`` (float64, host) over every rank."""
    if not isinstance(array, numpy.ndarray):
        array = array.get()  # CuPy: through the host (the pip MPI wheels are not CUDA-aware)
    host = numpy.ascontiguousarray(array, dtype=numpy.float64)
    collectives.all_reduce(from_numpy(host))
    return host


class SyncNorm(ArrayFunction):
    """Training-mode batch norm over ``(N, C, *)`` with statistics summed over the ranks."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps, running):
        xp = backend.get_array_module(x)
        c = x.shape[1]
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, c) + (1,) * (x.ndim - 2)
        local = numpy.array([x.size // c], dtype=numpy.float64)
        count = float(_sum_over_ranks(local)[0])
        mean = _sum_over_ranks(x.sum(axis=axes, dtype=xp.float64)) / count
        xc = x - xp.asarray(mean, dtype=x.dtype).reshape(shape)
        var = _sum_over_ranks((xc * xc).sum(axis=axes, dtype=xp.float64)) / count
        rstd = xp.asarray(1.0 / numpy.sqrt(var + eps), dtype=x.dtype).reshape(shape)
        xhat = xc * rstd
        if running is not None:
            _update_running(*running, count, mean, var)
        out = _affine(xhat, weight, bias, shape)
        ctx.save_for_backward(weight)
        ctx.xhat, ctx.rstd, ctx.count, ctx.shape, ctx.axes = xhat, rstd, count, shape, axes
        return out

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved
        xhat, rstd, shape, axes = ctx.xhat, ctx.rstd, ctx.shape, ctx.axes
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gw = (grad * xhat).sum(axis=axes) if need_w else None
        gb = grad.sum(axis=axes) if need_b else None
        gx = None
        if need_x:
            xp = backend.get_array_module(grad)
            g = grad if weight is None else grad * weight.reshape(shape)
            c = g.shape[1]
            sums = xp.concatenate([g.sum(axis=axes, dtype=xp.float64),
                                   (g * xhat).sum(axis=axes, dtype=xp.float64)])
            sums = _sum_over_ranks(sums) / ctx.count
            mean_g = xp.asarray(sums[:c], dtype=g.dtype).reshape(shape)
            mean_gx = xp.asarray(sums[c:], dtype=g.dtype).reshape(shape)
            gx = (g - mean_g - xhat * mean_gx) * rstd
        return gx, gw, gb


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over ``(N, C, *)`` with batch statistics from every rank.

    Arguments as :class:`~trainctl.nn.BatchNorm1d`; ``process_group`` must be None (the default
    group). Usually made from a model's batch norms by :meth:`convert_sync_batchnorm`.

    Example:
        >>> import trainctl as tc
        >>> model = tc.nn.Sequential(tc.nn.Linear(4, 8), tc.nn.BatchNorm1d(8))
        >>> model = tc.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        >>> model[1]
        SyncBatchNorm(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    _dims = (2, 3, 4, 5)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True):
        if process_group is not None:
            raise ValueError("SyncBatchNorm: trainctl has one group, the default "
                             "(process_group=None)")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        synced = (self.training and group.is_initialized() and group.get_world_size() > 1)
        if not synced:
            return super().forward(input)
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            _count_batch(self.num_batches_tracked)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        running = None
        if self.track_running_stats and self.running_mean is not None:
            running = (self.running_mean, self.running_var, factor)
        return SyncNorm.apply(input, self.weight, self.bias, eps=self.eps, running=running)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every ``BatchNorm*d`` in it replaced by a :class:`SyncBatchNorm`
        holding the same parameters and buffers (the module itself when it is a batch norm).
        """
        output = module
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            output = cls(module.num_features, module.eps, module.momentum, module.affine,
                         module.track_running_stats, process_group,
                         bias=getattr(module, "bias", None) is not None or not module.affine)
            with no_grad():
                if module.affine:
                    output.weight = module.weight
                    output.bias = module.bias
                output.running_mean = module.running_mean
                output.running_var = module.running_var
                output.num_batches_tracked = module.num_batches_tracked
            output.training = module.training
        for name, child in module.named_children():
            output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return output
