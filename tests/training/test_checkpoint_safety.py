"""Checkpoints survive a kill -9 in the middle of a write, and foreign files are refused."""

import os
import signal
import subprocess
import sys
import time

import numpy
import pytest

import trainctl as tc
from trainctl.core.errors import CheckpointError
from trainctl.training.checkpoint import load_checkpoint, save_checkpoint

WRITER = """
import sys, numpy, trainctl as tc
from trainctl.training.checkpoint import save_checkpoint
path = sys.argv[1]
i = 0
while True:
    i += 1
    big = tc.tensor(numpy.full((1024, 1024), float(i), dtype=numpy.float32))
    save_checkpoint(path, {"model": {"w": big}, "config": {"i": i}, "trainer": {"epoch": i}})
    print(i, flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.013, 0.031, 0.057])
def test_kill_during_write_leaves_a_loadable_checkpoint(tmp_path, delay):
    path = tmp_path / "last.safetensors"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        for _ in range(2):  # at least one complete checkpoint, and a second write under way
            proc.stdout.readline()
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    state = load_checkpoint(path)
    i = state["config"]["i"]
    assert i >= 2
    assert numpy.all(state["model"]["w"].numpy() == i)  # one whole write, never a mix


def test_roundtrip_keeps_values_dtypes_and_structure(tmp_path):
    state = {"model": {"0.weight": tc.randn(3, 2), "1.num_batches_tracked": tc.tensor(5)},
             "optimizer": {"state": {0: {"step": tc.tensor(3.0), "exp_avg": tc.zeros(3, 2)}},
                           "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}]},
             "config": {"name": "x"}, "trainer": {"epoch": 2, "best": float("inf")}}
    save_checkpoint(tmp_path / "c.safetensors", state)
    back = load_checkpoint(tmp_path / "c.safetensors")
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert list(back["optimizer"]["state"]) == [0]
    assert back["optimizer"]["state"][0]["step"].shape == ()
    assert back["model"]["1.num_batches_tracked"].dtype == tc.int64
    assert numpy.array_equal(back["model"]["0.weight"].numpy(), state["model"]["0.weight"].numpy())
    assert back["trainer"]["best"] == float("inf")


def test_pytorch_users_can_read_the_weights(tmp_path):
    from safetensors.numpy import load_file

    save_checkpoint(tmp_path / "c.safetensors",
                    {"model": {"0.weight": tc.ones(2, 2)}, "config": {}, "trainer": {}})
    arrays = load_file(str(tmp_path / "c.safetensors"))
    assert "model.0.weight" in arrays and arrays["model.0.weight"].shape == (2, 2)


def test_plain_weights_file_is_not_a_checkpoint(tmp_path):
    tc.save({"w": tc.ones(2)}, tmp_path / "w.safetensors")
    with pytest.raises(CheckpointError, match="not a trainctl checkpoint"):
        load_checkpoint(tmp_path / "w.safetensors")
