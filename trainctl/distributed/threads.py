"""Per-rank CPU threads and random streams: what each process of a job sets up for itself.

Threads: N ranks on one machine, each with a BLAS pool as large as the machine, run N times more
threads than cores and slow each other down. :func:`set_threads_per_rank` gives each rank
``cores // ranks on this machine`` threads (at least one).

Random streams: ranks must not share dropout masks or augmentation draws (they would see
correlated noise), yet a run must repeat exactly. :func:`rank_seed` derives each rank's seed
from the run's seed and the rank.

Example:
    >>> import trainctl as tc
    >>> import trainctl.distributed as dist
    >>> dist.init_process_group()
    >>> _ = tc.manual_seed(dist.rank_seed(42))      # rank 0 keeps the run's own seed
    >>> dist.rank_seed(42) == 42
    True
    >>> dist.destroy_process_group()
"""

from __future__ import annotations

import ctypes
import os

import numpy

from .process_group import WORLD_STATE

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def rank_seed(seed: int, rank: int | None = None) -> int:
    """The seed of rank ``rank`` (default: this process's) for a run seeded with ``seed``.

    Rank 0 keeps ``seed`` itself, so a one-process run draws what it always drew; every other
    rank gets a 63-bit seed from ``SeedSequence([seed, rank])``: the same on every run,
    different between ranks.

    Example:
        >>> import trainctl.distributed as dist
        >>> dist.rank_seed(7, rank=0), dist.rank_seed(7, rank=1) == dist.rank_seed(7, rank=1)
        (7, True)
    """
    rank = WORLD_STATE.rank if rank is None else int(rank)
    if rank == 0:
        return int(seed)
    words = numpy.random.SeedSequence([int(seed) & (2**64 - 1), rank]).generate_state(1,
                                                                                     numpy.uint64)
    return int(words[0]) & (2**63 - 1)


def available_cores() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_per_rank() -> int:
    """``cores // ranks on this machine``, at least 1 (the ranks of the group that share this
    machine's memory; 1 rank when the group is not initialised).

    Example:
        >>> import trainctl.distributed as dist
        >>> dist.threads_per_rank() >= 1
        True
    """
    return max(1, available_cores() // max(1, WORLD_STATE.local_size))


def set_threads_per_rank(threads: int | None = None) -> int:
    """Limit this process's BLAS and OpenMP threads to ``threads`` (default
    :func:`threads_per_rank`) and return the number.

    Sets ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` (read by libraries
    loaded later) and resizes the pool of the OpenBLAS that NumPy has already loaded.
    """
    n = threads_per_rank() if threads is None else max(1, int(threads))
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    setter = _openblas_setter()
    if setter is not None:
        setter(n)
    return n


def _openblas_setter():
    """``openblas_set_num_threads`` of the OpenBLAS NumPy loaded, or None (another BLAS)."""
    numpy.ones(2) @ numpy.ones(2)  # NumPy loads its BLAS lazily on some builds
    try:
        with open("/proc/self/maps") as f:
            fields = [line.split(None, 5) for line in f]  # address perms offset dev inode path
        paths = {f[5].strip() for f in fields if len(f) == 6}
    except OSError:
        return None
    for path in sorted(paths):
        if "openblas" in os.path.basename(path).lower():
            lib = ctypes.CDLL(path)
            for name in ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
                         "openblas_set_num_threads64_"):
                if hasattr(lib, name):
                    func = getattr(lib, name)
                    func.argtypes, func.restype = [ctypes.c_int], None
                    return func
    return None
