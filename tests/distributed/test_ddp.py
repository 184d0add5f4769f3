"""DistributedDataParallel and SyncBatchNorm on real MPI ranks.

The equivalence tests train one model twice: as one process with batch 64, and as 2 ranks with
batch 32 each under DDP (SyncBatchNorm for the BatchNorm model), both shuffled from the same
seed, 2 epochs (8 steps). The weights, buffers and per-step losses agree up to float summation
order: the measured max relative difference (max |a - b| / max |a| per tensor) is about 2e-7
(float32); the tests allow 1e-5.
"""

import re

import numpy
import pytest

from .mpi import run_script

TOLERANCE = 1e-5


def _max_relative_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float(numpy.abs(a[k] - b[k]).max()) / max(float(numpy.abs(a[k]).max()), 1e-30)
               for k in a)


def _train(tmp_path, mode, kind, opt, nproc):
    out = tmp_path / f"{mode}-{kind}-{opt}-{nproc}.npz"
    run_script("equivalence.py", mode, kind, opt, str(out), nproc=nproc)
    with numpy.load(out) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("kind, opt", [("mlp", "sgd"), ("mlp", "adam"), ("bn", "sgd"),
                                       ("cnn", "sgd")])
def test_two_ranks_of_32_equal_one_process_of_64(tmp_path, kind, opt):
    single = _train(tmp_path, "single", kind, opt, None)
    ddp = _train(tmp_path, "ddp", kind, opt, 2)
    assert len(single["losses"]) == 8 and single["losses"][-1] < single["losses"][0]
    difference = _max_relative_difference(single, ddp)
    assert difference < TOLERANCE, f"max relative difference {difference:.2e}"
    if kind == "bn":
        assert not numpy.allclose(single["1.running_mean"], 0)
        assert int(ddp["1.num_batches_tracked"]) == 8


def test_one_process_ddp_is_bitwise_the_plain_loop(tmp_path):
    """Started with plain python, the DDP script is a group of one: exactly the plain loop."""
    single = _train(tmp_path, "single", "mlp", "sgd", None)
    ddp = _train(tmp_path, "ddp", "mlp", "sgd", None)
    assert _max_relative_difference(single, ddp) == 0.0


def test_broadcast_no_sync_and_the_tutorial_loop():
    assert run_script("ddp_mechanics.py").stdout.strip() == "ok"


def test_sync_batchnorm_equals_batchnorm_on_the_whole_batch():
    assert run_script("syncbn.py").stdout.strip() == "ok"


def test_a_pytorch_ddp_tutorial_program_runs_with_the_imports_changed(tmp_path):
    """scripts/ddp_tutorial.py: the tutorial's setup/cleanup, ToyModel, DDP wrap, backward and
    step, a checkpoint saved on rank 0 behind a barrier and loaded with map_location."""
    proc = run_script("ddp_tutorial.py", str(tmp_path))
    text = proc.stdout
    basic = {int(m[0]): m[1:] for m in
             re.findall(r"basic (\d) 2 (\w{16}) (\w{16}) (\w{16}) ([\d.]+)", text)}
    checkpoint = {int(m[0]): m[1:] for m in
                  re.findall(r"checkpoint (\d) 2 (\w{16}) (\w{16}) (\w{16})", text)}
    assert sorted(basic) == sorted(checkpoint) == [0, 1], text
    (own0, start0, end0, loss0), (own1, start1, end1, loss1) = basic[0], basic[1]
    assert own0 != own1, "the ranks were seeded apart: their own initial weights differ"
    assert start0 == start1 == own0, "DDP starts every rank from rank 0's weights"
    assert end0 == end1 != start0, "after 5 steps on different batches the ranks still agree"
    assert loss0 != loss1, "each rank trained on its own batches"
    (saved0, loaded0, after0), (saved1, loaded1, after1) = checkpoint[0], checkpoint[1]
    assert saved0 == saved1 == loaded0 == loaded1, "every rank loads rank 0's checkpoint"
    assert after0 == after1 != loaded0
    assert list(tmp_path.iterdir()) == [], "rank 0 removed the checkpoint after the barrier"
