"""The process group: which process this is, how many there are, and what ends them together.

trainctl runs data-parallel training on MPI (``mpi4py`` over MPICH, Open MPI or a cluster's own
MPI): every process is started by ``mpiexec -n N`` (or ``srun``), and the group is MPI's
``COMM_WORLD``. Started with plain ``python``, a program still gets a group of one process, with
or without ``mpi4py`` installed, so one script runs both ways.

Faults: an exception that no code catches on one rank would leave the other ranks waiting
forever in their next collective. :func:`init_process_group` therefore installs a
``sys.excepthook`` that prints the traceback, headed by the rank, and calls
``MPI.COMM_WORLD.Abort(1)``: the MPI launcher then ends every rank of the job (what
``python -m mpi4py script.py`` does too). A rank killed by a signal is seen by the launcher
itself, which ends the others. Errors inside a ``try`` are the program's to handle.

Example:
    >>> import trainctl.distributed as dist
    >>> dist.init_process_group(backend="mpi")
    >>> dist.get_rank(), dist.get_world_size()
    (0, 1)
    >>> dist.destroy_process_group()
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import traceback

import numpy

from ..core.errors import TrainctlError, UnsupportedFeatureError

# Environment variables that the common MPI launchers set in every process they start.
_LAUNCHER_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS",
                       "SLURM_NTASKS")
_OTHER_BACKENDS = ("gloo", "nccl", "ucc", "xccl", "hccl", "cpu:gloo,cuda:nccl")


class _World:
    """What init_process_group found: the communicator and the facts derived once from it."""

    comm = None  # an mpi4py communicator, or a _SelfComm; None before init
    rank = 0
    size = 1
    local_rank = 0
    local_size = 1
    previous_excepthook = None


WORLD_STATE = _World()


class group:  # noqa: N801 (PyTorch's spelling: dist.group.WORLD)
    """The groups a collective can name: only ``group.WORLD`` (every process), as ``None``."""

    WORLD = None


class _SelfComm:
    """The one-process group used when ``mpi4py`` is not installed: every collective of one
    process leaves its data as it is (or copies it where the result is a new buffer)."""

    rank = 0
    size = 1

    def Allreduce(self, send, recv, op=None):  # noqa: N802 (mpi4py's names)
        if send is not _IN_PLACE:
            numpy.copyto(recv, send)

    def Iallreduce(self, send, recv, op=None):  # noqa: N802
        self.Allreduce(send, recv, op)
        return _DoneRequest()

    def Bcast(self, buf, root=0):  # noqa: N802
        pass

    def Reduce(self, send, recv, op=None, root=0):  # noqa: N802
        self.Allreduce(send, recv, op)

    def Allgather(self, send, recv):  # noqa: N802
        numpy.copyto(recv.reshape(send.shape), send)

    def Barrier(self):  # noqa: N802
        pass

    def Get_rank(self):  # noqa: N802
        return 0

    def Get_size(self):  # noqa: N802
        return 1

    def Abort(self, errorcode=1):  # noqa: N802
        os._exit(errorcode)


class _DoneRequest:
    def Wait(self):  # noqa: N802
        pass

    def Test(self):  # noqa: N802
        return True


_IN_PLACE = object()  # stands for MPI.IN_PLACE without mpi4py


def in_place():
    """``MPI.IN_PLACE`` (or its stand-in for the one-process group without mpi4py)."""
    if isinstance(WORLD_STATE.comm, _SelfComm):
        return _IN_PLACE
    from mpi4py import MPI

    return MPI.IN_PLACE


def is_available() -> bool:
    """Whether multi-process training is possible: ``mpi4py`` is installed (``pip install
    trainctl[mpi]``). Without it, :func:`init_process_group` still makes a group of one.

    Example:
        >>> import trainctl.distributed as dist
        >>> isinstance(dist.is_available(), bool)
        True
    """
    return importlib.util.find_spec("mpi4py") is not None


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has run (and :func:`destroy_process_group` has not)."""
    return WORLD_STATE.comm is not None


def launched_world_size() -> int:
    """How many processes an MPI launcher (``mpiexec``, ``srun``) says it started, read from
    the environment it sets, without starting MPI: 1 when this process was not launched as one
    of several. ``trainctl train`` uses it to decide whether to join a group.

    Example:
        >>> import trainctl.distributed as dist
        >>> dist.launched_world_size() >= 1
        True
    """
    return _launched_size()


def _launched_size() -> int:
    """How many processes the launcher says it started (1 when none says so)."""
    for var in _LAUNCHER_SIZE_VARS:
        value = os.environ.get(var, "")
        if value.isdigit():
            return int(value)
    return 1


def init_process_group(backend: str | None = "mpi", init_method=None, timeout=None,
                       world_size: int = -1, rank: int = -1, store=None,
                       group_name: str = "", pg_options=None, device_id=None) -> None:
    """Join the group of every process started by ``mpiexec`` (``MPI.COMM_WORLD``).

    ``backend`` is ``"mpi"`` (or None); PyTorch's other backends (``"gloo"``, ``"nccl"``) are
    refused by name. ``init_method``, ``timeout``, ``store``, ``group_name`` and ``pg_options``
    are accepted and unused: MPI's launcher has already wired the processes together.
    ``world_size`` and ``rank``, when given, must agree with MPI's. Also installs the
    excepthook that aborts the whole job when one rank fails (see the module docstring).

    Example:
        >>> import trainctl.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> dist.is_initialized()
        True
        >>> dist.destroy_process_group()
    """
    if backend is not None and str(backend).lower() != "mpi":
        if str(backend).lower() in _OTHER_BACKENDS:
            raise UnsupportedFeatureError(
                f"the torch.distributed backend {backend!r} is not supported by trainctl: "
                f"use init_process_group(backend=\"mpi\") and start with mpiexec")
        raise ValueError(f"Invalid backend: {backend!r} (trainctl has only 'mpi')")
    if is_initialized():
        raise ValueError("trying to initialize the default process group twice!")
    comm = _world_comm()
    size, me = comm.Get_size(), comm.Get_rank()
    if world_size not in (-1, None) and int(world_size) != size:
        raise ValueError(f"init_process_group: world_size={world_size} but mpiexec started "
                         f"{size} processes")
    if rank not in (-1, None) and int(rank) != me:
        raise ValueError(f"init_process_group: rank={rank} but MPI says this is rank {me}")
    state = WORLD_STATE
    state.comm, state.rank, state.size = comm, me, size
    state.local_rank, state.local_size = _node_local(comm)
    if size > 1:
        state.previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def _world_comm():
    """MPI's COMM_WORLD, or the one-process stand-in when mpi4py is missing and nothing
    launched this process as one of several."""
    if not is_available():
        if _launched_size() > 1:
            raise TrainctlError(
                "init_process_group: this process was started as one of several by an MPI "
                "launcher, but mpi4py is not installed: pip install 'trainctl[mpi]'")
        return _SelfComm()
    from mpi4py import MPI

    return MPI.COMM_WORLD


def _node_local(comm) -> tuple[int, int]:
    """(this process's rank among the ranks on its machine, how many ranks the machine runs)."""
    if isinstance(comm, _SelfComm):
        return 0, 1
    from mpi4py import MPI

    node = comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.Get_rank())
    try:
        return node.Get_rank(), node.Get_size()
    finally:
        node.Free()


# How long a failing rank waits between writing its last words and MPI_Abort: the launcher's
# I/O proxy reads the rank's stderr pipe on its own schedule and the abort kills it, so on a
# loaded machine a line written just before the abort was sometimes lost (1 run in 30 at load 10).
FORWARD_GRACE_S = 0.5


def abort_job(message: str, code: int = 1) -> None:
    """Write ``message`` on stderr, give the launcher time to forward it, and end every rank of
    the job with ``MPI_Abort(code)`` (the launcher's exit code). Does not return."""
    sys.stderr.write(message)
    sys.stderr.flush()
    time.sleep(FORWARD_GRACE_S)
    if WORLD_STATE.comm is not None:
        WORLD_STATE.comm.Abort(code)
    os._exit(code)  # MPICH's Abort may return once the launcher has been told


def _abort_on_uncaught(kind, value, tb) -> None:
    """sys.excepthook on every rank of a multi-process group: report, then end the job."""
    state = WORLD_STATE
    text = "".join(traceback.format_exception(kind, value, tb))
    abort_job(f"[rank {state.rank}/{state.size}] uncaught {kind.__name__}: {value}\n"
              f"{text}[rank {state.rank}] aborting every rank of the job\n")


def _require_group(name: str, group_=None):
    if WORLD_STATE.comm is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         f"call init_process_group. ({name})")
    if group_ is not None:
        raise ValueError(f"{name}: trainctl has one group, the default (group=None)")
    return WORLD_STATE.comm


def get_rank(group=None) -> int:
    """This process's number in the group, ``0 .. get_world_size() - 1``.

    Example:
        >>> import trainctl.distributed as dist
        >>> dist.init_process_group(); dist.get_rank()
        0
        >>> dist.destroy_process_group()
    """
    _require_group("get_rank", group)
    return WORLD_STATE.rank


def get_world_size(group=None) -> int:
    """How many processes the group has (``mpiexec -n N`` -> N)."""
    _require_group("get_world_size", group)
    return WORLD_STATE.size


def get_backend(group=None) -> str:
    """``"mpi"``, the one backend."""
    _require_group("get_backend", group)
    return "mpi"


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's number among the ranks on the same machine (PyTorch reads it from
    ``LOCAL_RANK``; here MPI groups the ranks that share memory). Before
    :func:`init_process_group` it is ``fallback_rank`` when given.

    Example:
        >>> import trainctl.distributed as dist
        >>> dist.get_node_local_rank(fallback_rank=0)
        0
    """
    if WORLD_STATE.comm is None:
        if fallback_rank is not None:
            return int(fallback_rank)
        _require_group("get_node_local_rank")
    return WORLD_STATE.local_rank


def get_local_world_size() -> int:
    """How many ranks of the group run on this machine (trainctl's own helper)."""
    _require_group("get_local_world_size")
    return WORLD_STATE.local_size


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every process of the group has reached this call."""
    _require_group("barrier", group).Barrier()


def destroy_process_group(group=None) -> None:
    """Leave the group: collectives fail again until the next :func:`init_process_group`.

    MPI itself stays initialised (it can start only once per process; mpi4py finalises it at
    exit), so a program may join the group again.
    """
    state = WORLD_STATE
    if state.comm is None:
        return
    if sys.excepthook is _abort_on_uncaught:
        sys.excepthook = state.previous_excepthook or sys.__excepthook__
    state.comm = None
    state.rank, state.size, state.local_rank, state.local_size = 0, 1, 0, 1
