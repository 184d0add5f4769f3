"""What trainctl says about saved state is true after every kind of exit: summary.json's status,
the interrupt checkpoint, non-finite weights, stale temp files, resume rules."""

import json
import os
import subprocess
import sys

import numpy
import pytest

from tests.runs import SPIRALS
from trainctl.core.errors import ConfigError
from trainctl.training import train
from trainctl.training.callbacks import NonFiniteWeights
from trainctl.training.checkpoint import load_checkpoint
from trainctl.training.run_dir import remove_stale_temp_files, run_status


def summary_of(run):
    return json.loads((run / "summary.json").read_text())


def test_completed_run_says_completed_and_names_its_checkpoints(tmp_path, write_config):
    summary = train(write_config(), run_dir=tmp_path / "r", quiet=True)
    saved = summary_of(tmp_path / "r")
    assert saved["status"] == "completed" and saved["error"] is None
    newest = saved["newest_checkpoint"]
    assert newest in {str(tmp_path / "r" / "checkpoints" / f"{n}.safetensors")
                      for n in ("last", "best")}
    assert load_checkpoint(newest)["trainer"]["global_step"] == 24
    assert run_status(tmp_path / "r") == "completed" == summary["status"]


def test_a_run_that_died_while_running_reads_as_failed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (tmp_path / "summary.json").write_text(json.dumps({"status": "running", "pid": int(dead)}))
    assert run_status(tmp_path) == "failed"
    (tmp_path / "summary.json").write_text(json.dumps({"status": "running",
                                                       "pid": os.getpid()}))
    assert run_status(tmp_path) == "running"
    (tmp_path / "summary.json").write_text("[1, 2")
    assert run_status(tmp_path) is None


def test_failure_before_training_leaves_no_run_and_latest_unmoved(tmp_path, write_config):
    config = write_config()
    train(config, runs_root=tmp_path / "runs", quiet=True, overrides=["train.epochs=1"])
    latest = (tmp_path / "runs" / "tiny_spirals" / "latest").resolve()
    bad = write_config(SPIRALS.replace("n_classes: 3", "n_classes: 3, noise: -1"), "bad.yaml")
    with pytest.raises(ConfigError):
        train(bad, runs_root=tmp_path / "runs", quiet=True)
    runs = [p for p in (tmp_path / "runs" / "tiny_spirals").iterdir() if not p.is_symlink()]
    assert len(runs) == 1  # the failed one was removed
    assert (tmp_path / "runs" / "tiny_spirals" / "latest").resolve() == latest


def test_interrupt_with_last_off_still_leaves_a_resumable_checkpoint(tmp_path, write_config,
                                                                     capsys):
    from trainctl.training import Callback
    from trainctl.training.run import train as run_train

    class StopAt(Callback):
        def on_step_end(self, trainer):
            if trainer.global_step == 8:
                trainer.interrupt_requested = True

    from trainctl.config.registry import register

    register("callback", "TestStopAtStep8")(StopAt)
    text = SPIRALS.replace("log_every: 2}", "log_every: 2, callbacks: [TestStopAtStep8]}")
    text += "checkpoint: {last: false}\n"
    summary = run_train(write_config(text), run_dir=tmp_path / "r", quiet=True)
    err = capsys.readouterr().err
    interrupted = tmp_path / "r" / "checkpoints" / "interrupted.safetensors"
    assert summary["status"] == "interrupted"
    assert f"interrupted: saved {interrupted} (epoch 1, step 8)" in err
    assert f"resume with: trainctl train --resume {tmp_path / 'r'}" in err
    assert not (tmp_path / "r" / "checkpoints" / "last.safetensors").exists()
    assert load_checkpoint(interrupted)["trainer"]["global_step"] == 8
    assert summary_of(tmp_path / "r")["status"] == "interrupted"


def test_non_finite_weights_are_never_saved(tmp_path, write_config):
    from tests.training.test_trainer import config
    from trainctl.training.callbacks import CheckpointSaver
    from trainctl.training.setup import build_run, trainer_arguments
    from trainctl.training.trainer import Trainer

    cfg = config(epochs=1)
    parts = build_run(cfg)
    saver = CheckpointSaver(tmp_path, "val/loss")
    trainer = Trainer(**trainer_arguments(cfg, parts, [saver]))
    trainer.fit()
    good = (tmp_path / "checkpoints" / "last.safetensors").read_bytes()
    parts.model[0].weight.array[0, 0] = numpy.inf
    with pytest.raises(NonFiniteWeights, match=r"weights became non-finite \(0.weight\) at "
                                               r"epoch 1, step 6; last.safetensors was not "
                                               r"written and the newest good checkpoint is"):
        saver.save(trainer, "last")
    assert (tmp_path / "checkpoints" / "last.safetensors").read_bytes() == good


def test_stale_temp_files_of_dead_writers_are_removed(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / "checkpoints" / f".last.safetensors.tmp-{dead}"
    mine = tmp_path / f".summary.json.tmp-{os.getpid()}"
    stale.write_bytes(b"half")
    mine.write_bytes(b"in progress")
    assert remove_stale_temp_files(tmp_path) == [stale]
    assert not stale.exists() and mine.exists()


def test_resume_without_a_config_continues_the_saved_run(tmp_path, write_config, capsys):
    config = write_config()
    whole = train(config, run_dir=tmp_path / "whole", quiet=True)
    train(config, run_dir=tmp_path / "r", quiet=True, overrides=["train.epochs=2"])
    resumed = train(resume=tmp_path / "r", quiet=True, overrides=["train.epochs=4"])
    assert resumed["steps"] == whole["steps"] == 24
    a = load_checkpoint(tmp_path / "whole" / "checkpoints" / "last.safetensors")["model"]
    b = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.safetensors")["model"]
    for key in a:
        assert numpy.array_equal(a[key].numpy(), b[key].numpy()), key


def test_resume_refuses_changes_that_cannot_take_effect(tmp_path, write_config):
    config = write_config()
    train(config, run_dir=tmp_path / "r", quiet=True, overrides=["train.epochs=1"])
    for change in ("seed=5", "data.batch_size=8", "scheduler.gamma=0.9",
                   "model.layers.2.p=0.5", "optimizer.type=SGD"):
        key = change.partition("=")[0]
        with pytest.raises(ConfigError, match=rf"cannot change {key} when resuming"):
            train(resume=tmp_path / "r", quiet=True, overrides=[change])
    with pytest.raises(ConfigError, match="give a config file to train, or --resume"):
        train(quiet=True)


def test_a_new_learning_rate_takes_effect_on_resume(tmp_path, write_config):
    config = write_config()
    train(config, run_dir=tmp_path / "r", quiet=True, overrides=["train.epochs=2"])
    before = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.safetensors")
    lr_before = before["optimizer"]["param_groups"][0]["lr"]
    assert lr_before == pytest.approx(0.005)  # StepLR(2, 0.5) after 2 epochs
    train(resume=tmp_path / "r", quiet=True, overrides=["train.epochs=3", "optimizer.lr=0.1"])
    rows = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").open()]
    epoch3 = [r for r in rows if r["kind"] == "epoch" and r["epoch"] == 3][0]
    assert epoch3["lr"] == pytest.approx(0.05)  # the new base, at the schedule's position


def test_resume_through_the_latest_link_keeps_the_link(tmp_path, write_config):
    config = write_config()
    train(config, runs_root=tmp_path / "runs", quiet=True, overrides=["train.epochs=1"])
    latest = tmp_path / "runs" / "tiny_spirals" / "latest"
    run = latest.resolve()
    summary = train(resume=latest, quiet=True, overrides=["train.epochs=2"],
                    runs_root=tmp_path / "runs")
    assert summary["status"] == "completed" and summary["epochs"] == 2
    assert latest.is_symlink() and latest.resolve() == run
    assert summary_of(run)["epochs"] == 2
