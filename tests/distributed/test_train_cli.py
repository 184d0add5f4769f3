"""``trainctl train`` data-parallel: ``--nproc 2`` and ``mpiexec -n 2 trainctl train``, end to end.

Every run is a real CLI subprocess on a small config (a couple of seconds each). What is
checked: 2 ranks of batch 32 give one process's batch-64 run (weights, LR sequence, every logged
metric, up to float summation order); rank 0 alone writes; a SIGTERM to rank 1 stops both ranks
with a checkpoint, and the resume on 2 ranks ends bit-identical to a run that never stopped;
a resume on another number of ranks goes on from an epoch boundary with a warning and is
refused mid-epoch; an exception on one rank ends the job within seconds, naming the rank;
Ctrl-C on the ``--nproc`` launcher stops every rank with a checkpoint.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy
import pytest

from trainctl.training.checkpoint import load_checkpoint

from .mpi import ROOT, mpiexec

TOLERANCE = 1e-5  # measured: about 2e-7 (float32 summation order)

# 384 training samples (512 minus a 25% validation split): 6 steps of 64, or 6 of 2 x 32.
# The validation split (128 samples) scored in batches of 50 does not divide evenly over the
# ranks' batches, and 3 classes exercise the per-class counts of f1 and the kept scores of auroc.
EQUIVALENCE = """\
name: dp
seed: 3
data:
  train: {type: SyntheticClassification, kind: spirals, n_samples: 512, n_classes: 3,
          noise: 0.05, seed: 0}
  val_split: 0.25
  batch_size: 64
  eval_batch_size: 50
model: {type: MLP, sizes: [2, 32, 3], activation: ReLU}
loss: {type: CrossEntropyLoss}
optimizer: {type: SGD, lr: 0.1, momentum: 0.9}
scheduler: {type: CosineAnnealingLR, T_max: 18, interval: step}
train: {epochs: 3, metrics: [accuracy, f1, auroc], log_every: 2}
checkpoint: {last_every_s: 0}
"""

# With dropout (per-rank random streams) and a fault callback; 96 samples: 3 steps of 2 x 16.
FAULTY = """\
name: dpfault
seed: 5
data:
  train: {type: SyntheticClassification, kind: spirals, n_samples: 128, n_classes: 3,
          noise: 0.1, seed: 1}
  val_split: 0.25
  batch_size: 16
model:
  type: Sequential
  layers:
    - {type: Linear, in_features: 2, out_features: 16}
    - {type: ReLU}
    - {type: Dropout, p: 0.2}
    - {type: Linear, in_features: 16, out_features: 3}
loss: {type: CrossEntropyLoss}
optimizer: {type: Adam, lr: 0.01}
train:
  epochs: 4
  metrics: [accuracy]
  callbacks: [{type: "tests.distributed.scripts.faults:Fault", action: %s}]
checkpoint: {last_every_s: 0}
"""

ENV = {**{k: v for k, v in os.environ.items() if k != "TRAINCTL_DEBUG"},
       "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def trainctl(*args, nproc=None, cwd, timeout=60):
    """``trainctl <args>`` as a subprocess: alone, or under ``mpiexec -n nproc``."""
    command = [sys.executable, "-m", "trainctl.cli", *args]
    if nproc is not None:
        command = [mpiexec(), "-n", str(nproc), *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=ENV,
                          cwd=cwd)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def rows(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def weights(run, name="last"):
    state = load_checkpoint(run / "checkpoints" / f"{name}.safetensors")
    return {k: v.numpy() for k, v in state["model"].items()}


def relative_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float(numpy.abs(a[k] - b[k]).max() / max(numpy.abs(a[k]).max(), 1e-30))
               for k in a)


def fault_config(tmp_path, action):
    return write(tmp_path, f"fault-{action.split(',')[0]}.yaml", FAULTY % action)


def test_two_ranks_of_32_equal_one_process_of_64_through_the_cli(tmp_path):
    config = write(tmp_path, "dp.yaml", EQUIVALENCE)
    one = trainctl("train", str(config), "--quiet", "--run-dir", "one", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    two = trainctl("train", str(config), "--quiet", "--run-dir", "two", "--set",
                   "data.batch_size=32", "--nproc", "2", cwd=tmp_path)
    assert two.returncode == 0, two.stderr
    assert "2 ranks x batch 32 = global batch 64" in " ".join(two.stdout.split())
    single, double = rows(tmp_path / "one"), rows(tmp_path / "two")
    assert [r["kind"] for r in single] == [r["kind"] for r in double] == ["step"] * 3 + [
        "epoch"] + ["step"] * 3 + ["epoch"] + ["step"] * 3 + ["epoch"]
    worst = 0.0
    for a, b in zip(single, double):
        assert a.keys() == b.keys()
        assert (a["epoch"], a["step"], a["lr"]) == (b["epoch"], b["step"], b["lr"])
        for key in set(a) - {"kind", "epoch", "step", "time", "lr"}:
            worst = max(worst, abs(a[key] - b[key]) / max(abs(a[key]), 1e-30))
    assert worst < TOLERANCE, f"metrics differ by {worst:.2e}"
    assert "val/auroc" in single[-1] and "train/f1" in single[-1]
    assert relative_difference(weights(tmp_path / "one"), weights(tmp_path / "two")) < TOLERANCE
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert (summary["world_size"], summary["global_batch_size"]) == (2, 64)
    one_summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert (one_summary["world_size"], one_summary["global_batch_size"]) == (1, 64)
    # Rank 1 wrote nothing: the only new things are the two runs (and rank 0's `latest` link).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dp.yaml", "latest", "one", "two"]
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(
        p.name for p in (tmp_path / "one").iterdir())


def test_mpiexec_trainctl_without_a_run_dir_makes_one_run(tmp_path):
    config = write(tmp_path, "dp.yaml", EQUIVALENCE.replace("epochs: 3", "epochs: 1"))
    done = trainctl("train", str(config), "--quiet", nproc=2, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = [p for p in (tmp_path / "runs" / "dp").iterdir() if not p.is_symlink()]
    assert len(runs) == 1 and (runs[0] / "summary.json").exists()
    assert done.stdout.count("run directory:") == 1  # rank 0 alone prints


@pytest.mark.slow
def test_sigterm_to_one_rank_stops_both_and_the_resume_is_bit_identical(tmp_path):
    reference = trainctl("train", str(fault_config(tmp_path, "none")), "--quiet", "--trust-code",
                         "--run-dir", "reference", nproc=2, cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    config = fault_config(tmp_path, "sigterm, rank: 1, at_step: 7")  # mid-epoch 3
    stopped = trainctl("train", str(config), "--quiet", "--trust-code", "--run-dir", "run",
                       nproc=2, cwd=tmp_path)
    assert stopped.returncode == 130, stopped.stderr
    assert "interrupted: saved" in stopped.stderr
    assert "rank 1 of 2 asked to stop: every rank stops after this step" in stopped.stderr
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")
    assert state["trainer"]["global_step"] == 8  # both ranks stopped at the next step
    assert state["trainer"]["callbacks"]["RankStates"]["world_size"] == 2
    resumed = trainctl("train", "--resume", "run", "--quiet", "--trust-code", nproc=2,
                       cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert relative_difference(weights(tmp_path / "reference"), weights(tmp_path / "run")) == 0
    strip = [{k: v for k, v in r.items() if k != "time"} for r in rows(tmp_path / "reference")]
    assert strip == [{k: v for k, v in r.items() if k != "time"} for r in rows(tmp_path / "run")]


@pytest.mark.slow
def test_resume_on_another_world_size(tmp_path):
    config = fault_config(tmp_path, "sigterm, rank: 0, at_step: 4")  # mid-epoch 2
    stopped = trainctl("train", str(config), "--quiet", "--trust-code", "--run-dir", "run",
                       nproc=2, cwd=tmp_path)
    assert stopped.returncode == 130, stopped.stderr
    alone = trainctl("train", "--resume", "run", "--quiet", "--trust-code", cwd=tmp_path)
    assert alone.returncode == 2
    assert "made mid-epoch by a run on 2 ranks, and this run has 1" in alone.stderr

    # An epoch boundary (the end of a finished run, with more epochs asked for) goes on.
    done = trainctl("train", str(fault_config(tmp_path, "none")), "--quiet", "--trust-code",
                    "--run-dir", "done", "--set", "train.epochs=2", nproc=2, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    more = trainctl("train", "--resume", "done", "--quiet", "--trust-code", "--set",
                    "train.epochs=3", cwd=tmp_path)
    assert more.returncode == 0, more.stderr
    assert "warning: resuming a run of 2 ranks on 1: it continues from the end of epoch 2" in \
        " ".join(more.stderr.split())
    assert [r["epoch"] for r in rows(tmp_path / "done") if r["kind"] == "epoch"] == [1, 2, 3]


def test_an_exception_on_one_rank_ends_the_job_naming_the_rank(tmp_path):
    config = fault_config(tmp_path, "raise, rank: 1, at_step: 2")
    start = time.monotonic()
    failed = trainctl("train", str(config), "--quiet", "--trust-code", "--run-dir", "run",
                      nproc=2, cwd=tmp_path, timeout=30)
    assert time.monotonic() - start < 20  # measured: about 2 s, start-up included
    assert failed.returncode == 1, failed.stderr
    assert not (tmp_path / "run" / "checkpoints" / "last.safetensors").exists()
    assert ("[rank 1/2] failed, ending every rank (exit code 1): RuntimeError: injected fault "
            "on rank 1 after step 2") in failed.stderr


@pytest.mark.slow
def test_ctrl_c_on_the_launcher_stops_every_rank_with_a_checkpoint(tmp_path):
    config = fault_config(tmp_path, "slow, rank: 0, at_step: 2")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "trainctl.cli", "train", str(config), "--quiet", "--trust-code",
         "--run-dir", "run", "--nproc", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=ENV, cwd=tmp_path)
    try:
        for line in launcher.stdout:
            if line.startswith("STEP 3"):
                launcher.send_signal(signal.SIGINT)
                break
        out, err = launcher.communicate(timeout=30)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode == 130, err
    assert "interrupted: saved" in err and "resume with: trainctl train --resume" in err
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")
    assert 3 <= state["trainer"]["global_step"] < 12
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["world_size"] == 2


def test_the_launcher_forwards_every_argument_but_nproc():
    from trainctl.training.launcher import mpiexec_path, train_arguments

    assert train_arguments("c.yaml", ["a=1", "b=2"], "out", None, "cpu", True, "r", True) == [
        "c.yaml", "--set", "a=1", "--set", "b=2", "--run-dir", "out", "--device", "cpu",
        "--runs-root", "r", "--quiet", "--trust-code"]
    assert train_arguments(None, resume="auto") == ["--resume", "auto", "--runs-root", "runs"]
    assert str(mpiexec_path()) == mpiexec()  # the venv's own, never a missing one skipped


def test_nproc_under_mpiexec_is_refused(tmp_path):
    config = write(tmp_path, "dp.yaml", EQUIVALENCE)
    nested = trainctl("train", str(config), "--nproc", "2", nproc=2, cwd=tmp_path)
    assert nested.returncode == 2
    assert "--nproc starts mpiexec itself" in nested.stderr


BATCHNORM = EQUIVALENCE.replace(
    "model: {type: MLP, sizes: [2, 32, 3], activation: ReLU}",
    """model:
  type: Sequential
  layers:
    - {type: Linear, in_features: 2, out_features: 32, bias: false}
    - {type: BatchNorm1d, num_features: 32}
    - {type: ReLU}
    - {type: Linear, in_features: 32, out_features: 3}""").replace("epochs: 3", "epochs: 2")


@pytest.mark.slow
def test_batch_norm_becomes_sync_batch_norm_and_keeps_the_equivalence(tmp_path):
    config = write(tmp_path, "bn.yaml", BATCHNORM)
    one = trainctl("train", str(config), "--quiet", "--run-dir", "one", cwd=tmp_path)
    two = trainctl("train", str(config), "--quiet", "--run-dir", "two", "--set",
                   "data.batch_size=32", nproc=2, cwd=tmp_path)
    assert one.returncode == two.returncode == 0, one.stderr + two.stderr
    single, double = weights(tmp_path / "one"), weights(tmp_path / "two")
    assert "1.running_mean" in double and int(double["1.num_batches_tracked"]) == 12
    assert relative_difference(single, double) < TOLERANCE
    last = rows(tmp_path / "one")[-1], rows(tmp_path / "two")[-1]
    assert last[0]["val/accuracy"] == last[1]["val/accuracy"]
