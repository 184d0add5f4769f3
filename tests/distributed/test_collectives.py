"""``tc.distributed``: the collectives against NumPy on real MPI ranks, the one-process group,
refusals, and a failing rank ending the job."""

import time

import pytest

import trainctl as tc
import trainctl.distributed as dist
from trainctl.core.errors import UnsupportedFeatureError

from .mpi import mpiexec, run_script


def test_mpiexec_is_installed_next_to_python():
    assert mpiexec().endswith("mpiexec")
    assert dist.is_available()


@pytest.mark.parametrize("nproc", [2, None])
def test_collectives_against_numpy(nproc):
    proc = run_script("collectives.py", nproc=nproc)
    world = nproc or 1
    for r in range(world):  # the ranks' lines may interleave
        assert f"rank {r}/{world} ok" in proc.stdout


def test_collectives_on_three_ranks():
    proc = run_script("collectives.py", nproc=3)
    assert proc.stdout.count("ok") == 3


def test_other_backends_are_refused_by_name():
    with pytest.raises(UnsupportedFeatureError, match="backend 'nccl' is not supported by "
                       "trainctl: use init_process_group"):
        dist.init_process_group(backend="nccl")
    with pytest.raises(UnsupportedFeatureError, match="'gloo'"):
        dist.init_process_group("gloo")
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.init_process_group("carrier-pigeon")
    assert not dist.is_initialized()


def test_uninitialised_group_says_so():
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier,
                 lambda: dist.all_reduce(tc.ones(2))):
        with pytest.raises(ValueError, match="init_process_group"):
            call()
    assert dist.get_node_local_rank(fallback_rank=3) == 3
    with pytest.raises(ValueError, match="init_process_group"):
        tc.nn.parallel.DistributedDataParallel(tc.nn.Linear(2, 2))


def test_names_as_torch():
    import trainctl.distributed as imported

    assert tc.distributed is imported
    assert {op.name for op in dist.ReduceOp} == {"SUM", "AVG", "PRODUCT", "MIN", "MAX"}
    assert dist.group.WORLD is None
    with pytest.raises(ImportError, match="torch.distributed.fsdp .* not supported"):
        import trainctl.distributed.fsdp  # noqa: F401
    with pytest.raises(UnsupportedFeatureError, match="torch.nn.DataParallel"):
        tc.nn.DataParallel(tc.nn.Linear(2, 2))


def test_rank_seeds_differ_and_repeat():
    seeds = [dist.rank_seed(1234, rank=r) for r in range(4)]
    assert seeds[0] == 1234 and len(set(seeds)) == 4
    assert seeds == [dist.rank_seed(1234, rank=r) for r in range(4)]
    assert dist.threads_per_rank() >= 1


def test_an_exception_on_one_rank_ends_the_job():
    start = time.perf_counter()
    proc = run_script("fault.py", check=False, timeout=60)
    elapsed = time.perf_counter() - start
    assert proc.returncode != 0
    assert "rank 0 got past the barrier" not in proc.stdout
    assert "[rank 1/2] uncaught ValueError: bad batch on rank 1" in proc.stderr
    assert elapsed < 20, f"the job took {elapsed:.1f} s to end"


def test_set_threads_per_rank_resizes_numpys_blas_pool():
    proc = run_script("threads.py", nproc=None)
    assert proc.stdout.startswith("threads 1 blas 1 ")  # NumPy's OpenBLAS pool, read back
    proc = run_script("threads.py", nproc=2)
    per_rank = max(1, dist.available_cores() // 2)  # both ranks run on this machine
    assert proc.stdout.count(f"threads 1 blas 1 expected {per_rank}") == 2
