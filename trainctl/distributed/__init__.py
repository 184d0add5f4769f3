"""``trainctl.distributed``: data-parallel training over MPI, with ``torch.distributed``'s names.

Start N processes with ``mpiexec -n N python train.py``; each calls
``init_process_group("mpi")`` and then uses the collectives, ``DistributedSampler``
(``tc.utils.data.distributed``) and ``tc.nn.parallel.DistributedDataParallel``. Plain
``python train.py`` gives a group of one process, so the same script runs both ways. See
``docs/distributed.md``.

Example:
    >>> import trainctl as tc
    >>> import trainctl.distributed as dist
    >>> dist.init_process_group(backend="mpi")
    >>> t = tc.tensor([1.0, 2.0])
    >>> dist.all_reduce(t, op=dist.ReduceOp.SUM)
    >>> t, dist.get_world_size()
    (tensor([1., 2.]), 1)
    >>> dist.destroy_process_group()
"""

from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_object,
    all_reduce,
    broadcast,
    reduce,
)
from .process_group import (
    barrier,
    destroy_process_group,
    get_backend,
    get_local_world_size,
    get_node_local_rank,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    launched_world_size,
)
from .threads import available_cores, rank_seed, set_threads_per_rank, threads_per_rank

__all__ = [
    "ReduceOp", "Work", "all_gather", "all_gather_object", "all_reduce", "available_cores",
    "barrier", "broadcast",
    "destroy_process_group", "get_backend", "get_local_world_size", "get_node_local_rank",
    "get_rank", "get_world_size", "group", "init_process_group", "is_available",
    "is_initialized", "launched_world_size", "rank_seed", "reduce", "set_threads_per_rank",
    "threads_per_rank",
]
