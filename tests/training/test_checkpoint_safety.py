"""Checkpoints survive a kill -9 in the middle of a write; foreign and damaged files are refused
with one line naming the file and the part."""

import os
import signal
import subprocess
import sys
import time

import numpy
import pytest

import trainctl as tc
from trainctl.core.errors import CheckpointError
from trainctl.training.checkpoint import (
    check_state_fits,
    load_checkpoint,
    save_checkpoint,
    validate_checkpoint,
)

from .tiny_checkpoint import tiny_checkpoint, tiny_trainer

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
    state = load_checkpoint(path, resume=False)
    i = state["config"]["i"]
    assert i >= 2
    assert numpy.all(state["model"]["w"].numpy() == i)  # one whole write, never a mix


def test_roundtrip_keeps_values_dtypes_and_structure(tmp_path):
    state = {"model": {"0.weight": tc.randn(3, 2), "1.num_batches_tracked": tc.tensor(5)},
             "optimizer": {"state": {0: {"step": tc.tensor(3.0), "exp_avg": tc.zeros(3, 2)}},
                           "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}]},
             "config": {"name": "x"}, "trainer": {"epoch": 2, "best": float("inf")}}
    save_checkpoint(tmp_path / "c.safetensors", state)
    back = load_checkpoint(tmp_path / "c.safetensors", resume=False)
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


# ---------------------------------------------------------------------------- damaged checkpoints


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("tiny"))


def test_a_real_checkpoint_passes_validation(real_checkpoint):
    state = load_checkpoint(real_checkpoint)
    validate_checkpoint(state, real_checkpoint)
    assert state["trainer"]["global_step"] == 4


def _drop(*keys):
    def change(state):
        for key in keys[:-1]:
            state = state[key]
        del state[keys[-1]]
    return change


def _set(value, *keys):
    def change(state):
        for key in keys[:-1]:
            state = state[key]
        state[keys[-1]] = value
    return change


@pytest.mark.parametrize("change,message", [
    (_drop("optimizer"), "the checkpoint has no optimizer; it was not written by trainctl"),
    (_drop("trainer"), "the checkpoint has no trainer;"),
    (_drop("scheduler"), "the checkpoint has no scheduler;"),
    (_drop("trainer", "rng"), "the checkpoint has no trainer.rng;"),
    (_drop("trainer", "sums", "count"), "the checkpoint has no trainer.sums.count;"),
    (_drop("optimizer", "param_groups"), "the checkpoint has no optimizer.param_groups;"),
    (_set([1, 2], "optimizer"), "optimizer is list, expected a mapping"),
    (_set("x", "trainer", "epoch"), "trainer.epoch is str, expected int"),
    (_set(True, "trainer", "global_step"), "trainer.global_step is bool, expected int"),
    (_set(-3, "trainer", "epoch"), "trainer epoch -3 and step 4 must not be negative"),
    (_set({"a": 1}, "trainer", "history"), "trainer.history is dict, expected list"),
    (_set(3, "scheduler"), "scheduler is int, expected dict or NoneType"),
    (_set([7], "optimizer", "param_groups"), "optimizer.param_groups.0 is not a parameter group"),
    (_set([{"params": ["a"]}], "optimizer", "param_groups"), "optimizer.param_groups.0 is not"),
    (_set({0: [1]}, "optimizer", "state"), "optimizer.state.0 is list, expected a mapping"),
    (_set({"x": 1}, "trainer", "callbacks"), "trainer.callbacks.x is int, expected a mapping"),
    (_set({"seed": 0, "bit_generator": {"x": 1}}, "trainer", "rng"),
     "the checkpoint has no trainer.rng.bit_generator.bit_generator;"),
    (_set(tc.ones(2), "trainer", "rng", "bit_generator", "state"),
     "trainer.rng.bit_generator.state is Tensor, expected a mapping"),
    (_set("MT19937", "trainer", "rng", "bit_generator", "bit_generator"),
     "trainer.rng is not a random generator state"),
    (_set(-5, "trainer", "rng", "bit_generator", "state", "inc"),
     "trainer.rng is not a random generator state"),
    (_set("a string", "trainer", "loader", "epoch"), "trainer.loader.epoch is str, expected int"),
    (_set([1], "config"), "config is list, expected dict"),
    (_set({"w": 3}, "model"), "model.w is int, expected a tensor"),
    (_set([1], "data"), "data is not {classes: [names] or null}"),
    (_set({"classes": "abc"}, "data"), "data is not {classes: [names] or null}"),
])
def test_damaged_checkpoints_name_the_part(tmp_path, real_checkpoint, change, message):
    state = load_checkpoint(real_checkpoint)
    change(state)
    save_checkpoint(tmp_path / "bad.safetensors", state)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(tmp_path / "bad.safetensors")
    assert str(info.value).startswith(f"{tmp_path / 'bad.safetensors'}: ")
    assert message in str(info.value)


def test_eval_needs_only_weights_and_config(tmp_path, real_checkpoint):
    state = load_checkpoint(real_checkpoint)
    for key in ("optimizer", "scheduler", "trainer"):
        del state[key]
    save_checkpoint(tmp_path / "weights.safetensors", state)
    assert set(load_checkpoint(tmp_path / "weights.safetensors", resume=False)) == {
        "model", "config", "data"}
    with pytest.raises(CheckpointError, match="has no optimizer"):
        load_checkpoint(tmp_path / "weights.safetensors")


def test_a_malformed_checkpoint_version(tmp_path, real_checkpoint):
    state = load_checkpoint(real_checkpoint)
    tc.save(state, tmp_path / "a.safetensors")  # no checkpoint_version at all: fine (version 0)
    assert load_checkpoint(tmp_path / "a.safetensors")["trainer"]["epoch"] == 2
    from trainctl.autograd.serialization import atomic_write, to_bytes

    for version, message in (("x1", "malformed checkpoint_version 'x1'"),
                             ("9" * 5000, "malformed checkpoint_version '99999"),
                             ("7", "checkpoint format 7 is newer")):
        atomic_write(tmp_path / "b.safetensors", to_bytes(state, {"checkpoint_version": version}))
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint(tmp_path / "b.safetensors")


def test_a_real_checkpoint_fits_its_run(tmp_path, real_checkpoint):
    trainer = tiny_trainer(tmp_path)
    state = load_checkpoint(real_checkpoint)
    check_state_fits(state, trainer.state_dict(), real_checkpoint)
    trainer.load_state_dict(state)  # and it does load
    assert trainer.global_step == 4


@pytest.mark.parametrize("change,message", [
    (_set([0.1], "optimizer", "param_groups", 0, "lr"),
     "optimizer.param_groups.0.lr is list, expected a number"),
    (_set("x", "optimizer", "param_groups", 0, "momentum"),
     "optimizer.param_groups.0.momentum is str, expected a number"),
    (_set(tc.ones(1), "optimizer", "param_groups", 0, "fused"),
     "optimizer.param_groups.0.fused is Tensor, expected a number or null"),
    (_set([], "optimizer", "param_groups"), "optimizer.param_groups has 0 entries, this run has 1"),
    (_set(None, "scheduler", "_step_count"), "scheduler._step_count is NoneType, expected a value"),
    (_set([0.1, 0.2], "scheduler", "base_lrs"), "scheduler.base_lrs has 2 entries, this run has 1"),
    (_drop("scheduler", "lr_lambdas"), "the checkpoint has no scheduler.lr_lambdas, which"),
    (_set(1, "trainer", "sums", "metrics", "mae", "count"), None),
    (_set([1], "trainer", "sums", "metrics", "mae", "sq_sum"),
     "trainer.sums.metrics.mae.sq_sum is list, expected a number"),
    (_drop("trainer", "sums", "metrics", "mae"), "the checkpoint has no trainer.sums.metrics.mae"),
    (_set([1], "trainer", "loader", "seed"), "trainer.loader.seed is list, expected a number"),
    (_set("best", "trainer", "callbacks", "CheckpointSaver", "best_value"),
     "trainer.callbacks.CheckpointSaver.best_value is str, expected a number"),
    (_set(None, "trainer", "callbacks", "CheckpointSaver", "best_value"), None),
    (_set(tc.ones(3), "model", "bias"),
     "model.bias is a float32 tensor of shape (3,), this run has float32 (1,)"),
])
def test_a_saved_state_that_does_not_fit_the_run(tmp_path, real_checkpoint, change, message):
    state = load_checkpoint(real_checkpoint)
    change(state)
    live = tiny_trainer(tmp_path).state_dict()
    if message is None:
        check_state_fits(state, live, "c.safetensors")
        return
    with pytest.raises(CheckpointError) as info:
        check_state_fits(state, live, "c.safetensors")
    assert str(info.value).startswith("c.safetensors: ") and message in str(info.value)
