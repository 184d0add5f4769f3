"""Collectives on tensors, in place, as ``torch.distributed``: ``all_reduce``, ``broadcast``,
``all_gather``, ``reduce``.

Data moves through MPI's buffer interface (``Allreduce`` and friends, capital letters in
mpi4py): the tensor's own array is handed to MPI, never a pickled object. A tensor whose array
is not one contiguous block (a transposed view), or that lives on a GPU (CuPy), is copied into a
contiguous host array first and the result copied back.

Example (under ``mpiexec -n 2``, each rank adds its rank + 1)::

    import trainctl as tc
    import trainctl.distributed as dist
    dist.init_process_group("mpi")
    t = tc.ones(3) * (dist.get_rank() + 1)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)   # tensor([3., 3., 3.]) on both ranks
"""

from __future__ import annotations

import enum

import numpy

from ..autograd.tensor import Tensor
from .process_group import WORLD_STATE, _require_group, in_place


class ReduceOp(enum.Enum):
    """How :func:`all_reduce` and :func:`reduce` combine the ranks' values.

    ``AVG`` is the sum divided by the world size (floating-point tensors only).

    Example:
        >>> import trainctl.distributed as dist
        >>> dist.ReduceOp.SUM
        <ReduceOp.SUM: 'sum'>
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


def _mpi_op(op):
    if not isinstance(op, ReduceOp):
        raise ValueError(f"op must be a dist.ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), got {op!r}")
    if WORLD_STATE.size == 1 and not _has_mpi():
        return None
    from mpi4py import MPI

    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}[op]


def _has_mpi() -> bool:
    return type(WORLD_STATE.comm).__module__.startswith("mpi4py")


class _Staged:
    """The contiguous host array MPI works on for ``tensor``, and how to copy a result back."""

    def __init__(self, tensor: Tensor, name: str):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{name}: expected a tensor, got {type(tensor).__name__}")
        self.tensor = tensor
        array = tensor.array
        self.direct = type(array) is numpy.ndarray and array.flags.c_contiguous
        if self.direct:
            self.buffer = array
        elif isinstance(array, numpy.ndarray):
            self.buffer = numpy.ascontiguousarray(array)
        else:  # CuPy: through the host (the pip MPI wheels are not CUDA-aware)
            self.buffer = numpy.ascontiguousarray(array.get())

    def finish(self, average_over: int = 1) -> None:
        if average_over > 1:
            self.buffer /= average_over  # in place: keeps the dtype (float32 stays float32)
        if not self.direct:
            array = self.tensor.array
            if isinstance(array, numpy.ndarray):
                array[...] = self.buffer
            else:
                array.set(self.buffer)
        self.tensor._version += 1  # an in-place change, as tensor.add_() would count it


class Work:
    """What a collective with ``async_op=True`` returns: ``wait()`` blocks until it is done.

    Example (under mpiexec)::

        work = dist.all_reduce(t, async_op=True)
        ...                      # compute while the data travels
        work.wait()              # t now holds the sum
    """

    def __init__(self, request=None, finish=None):
        self._request, self._finish = request, finish

    def wait(self, timeout=None) -> bool:
        if self._request is not None:
            self._request.Wait()
            self._request = None
            if self._finish is not None:
                self._finish()
        return True

    def is_completed(self) -> bool:
        if self._request is None:
            return True
        if self._request.Test():
            self.wait()
            return True
        return False


def _check_average(op, staged: _Staged, name: str) -> int:
    if op is ReduceOp.AVG:
        if staged.buffer.dtype.kind not in "fc":
            raise TypeError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got "
                            f"{staged.buffer.dtype}")
        return WORLD_STATE.size
    return 1


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` over every rank with ``op``; every rank gets the result, in place.

    With ``async_op=True`` the reduction runs in the background (MPI ``Iallreduce``) and a
    :class:`Work` is returned; the tensor holds the result after ``work.wait()``.

    Example:
        >>> import trainctl as tc
        >>> import trainctl.distributed as dist
        >>> dist.init_process_group()
        >>> t = tc.tensor([1.0, 2.0]); dist.all_reduce(t, op=dist.ReduceOp.MAX); t
        tensor([1., 2.])
        >>> dist.destroy_process_group()
    """
    comm = _require_group("all_reduce", group)
    staged = _Staged(tensor, "all_reduce")
    average = _check_average(op, staged, "all_reduce")
    mpi_op = _mpi_op(op)
    if async_op:
        request = comm.Iallreduce(in_place(), staged.buffer, mpi_op)
        return Work(request, lambda: staged.finish(average))
    comm.Allreduce(in_place(), staged.buffer, mpi_op)
    staged.finish(average)
    return None


def reduce(tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group=None,
           async_op: bool = False, group_dst: int | None = None):
    """Combine ``tensor`` over every rank with ``op`` into rank ``dst``'s tensor (in place);
    the other ranks' tensors are left as they were."""
    comm = _require_group("reduce", group)
    dst = _rank_arg(dst if group_dst is None else group_dst, "dst")
    staged = _Staged(tensor, "reduce")
    average = _check_average(op, staged, "reduce")
    mpi_op = _mpi_op(op)
    if WORLD_STATE.rank == dst:
        comm.Reduce(in_place(), staged.buffer, mpi_op, root=dst)
        staged.finish(average)
    else:
        comm.Reduce(staged.buffer, None, mpi_op, root=dst)
    return Work() if async_op else None


def broadcast(tensor: Tensor, src: int = 0, group=None, async_op: bool = False,
              group_src: int | None = None):
    """Copy rank ``src``'s ``tensor`` into the tensor of every other rank, in place.

    Example:
        >>> import trainctl as tc
        >>> import trainctl.distributed as dist
        >>> dist.init_process_group()
        >>> t = tc.arange(3.0); dist.broadcast(t, src=0); t
        tensor([0., 1., 2.])
        >>> dist.destroy_process_group()
    """
    comm = _require_group("broadcast", group)
    src = _rank_arg(src if group_src is None else group_src, "src")
    staged = _Staged(tensor, "broadcast")
    comm.Bcast(staged.buffer, root=src)
    if WORLD_STATE.rank != src:
        staged.finish()
    return Work() if async_op else None


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list[r]`` with rank ``r``'s ``tensor``, on every rank.

    ``tensor_list`` holds ``get_world_size()`` tensors of ``tensor``'s shape and dtype.

    Example:
        >>> import trainctl as tc
        >>> import trainctl.distributed as dist
        >>> dist.init_process_group()
        >>> out = [tc.zeros(2)]; dist.all_gather(out, tc.tensor([4.0, 5.0])); out
        [tensor([4., 5.])]
        >>> dist.destroy_process_group()
    """
    comm = _require_group("all_gather", group)
    size = WORLD_STATE.size
    if len(tensor_list) != size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors, the group has "
                         f"{size} ranks")
    staged = _Staged(tensor, "all_gather")
    for out in tensor_list:
        if tuple(out.shape) != tuple(tensor.shape) or out.dtype != tensor.dtype:
            raise ValueError(f"all_gather: every output must have the input's shape "
                             f"{tuple(tensor.shape)} and dtype {tensor.dtype}")
    gathered = numpy.empty((size, *staged.buffer.shape), dtype=staged.buffer.dtype)
    comm.Allgather(staged.buffer, gathered)
    for out, part in zip(tensor_list, gathered):
        target = _Staged(out, "all_gather")
        target.buffer[...] = part
        target.finish()
    return Work() if async_op else None


def all_gather_object(object_list: list, obj, group=None) -> None:
    """Fill ``object_list[r]`` with rank ``r``'s ``obj`` (any picklable object), on every rank.

    Objects travel pickled (mpi4py's ``allgather``): for small things such as a metric's
    counts or a random state, never for tensors' data (use :func:`all_gather`).

    Example:
        >>> import trainctl.distributed as dist
        >>> dist.init_process_group()
        >>> out = [None]; dist.all_gather_object(out, {"rank": 0}); out
        [{'rank': 0}]
        >>> dist.destroy_process_group()
    """
    comm = _require_group("all_gather_object", group)
    size = WORLD_STATE.size
    if len(object_list) != size:
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries, the "
                         f"group has {size} ranks")
    object_list[:] = [obj] if size == 1 else comm.allgather(obj)


def _rank_arg(rank: int, name: str) -> int:
    rank = int(rank)
    if not 0 <= rank < WORLD_STATE.size:
        raise ValueError(f"{name}={rank} is not a rank of this group of {WORLD_STATE.size}")
    return rank
