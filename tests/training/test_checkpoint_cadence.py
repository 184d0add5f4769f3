"""How often ``last`` is written: at most every ``checkpoint.last_every_s`` seconds (default 30)
or every ``checkpoint.last_every`` epochs, whichever comes first, always at the end and on an
interrupt; ``best`` and ``epoch-N`` as before; a crash loses at most that window and the resume
still ends bit-identical to a run that never stopped."""

import numpy
import pytest

from tests.runs import SPIRALS
from trainctl.config import load_config
from trainctl.config.registry import register
from trainctl.training import Callback, CheckpointSaver, Interrupted, Trainer, train
from trainctl.training import callbacks as callbacks_module
from trainctl.training.checkpoint import load_checkpoint
from trainctl.training.setup import build_run, trainer_arguments

CRASH = {"step": None}


@register("callback", "TestCrashAtStep")
class TestCrashAtStep(Callback):
    def on_step_end(self, trainer):
        if trainer.global_step == CRASH["step"]:
            raise RuntimeError("simulated crash")


@pytest.fixture
def saves(monkeypatch):
    """(name, global step) of every checkpoint written."""
    written = []
    real = CheckpointSaver.save

    def save(self, trainer, name):
        written.append((name, trainer.global_step))
        return real(self, trainer, name)

    monkeypatch.setattr(CheckpointSaver, "save", save)
    return written


def last_steps(saves):
    return [step for name, step in saves if name == "last"]


def run(write_config, tmp_path, checkpoint="", name="r"):
    text = SPIRALS + (f"checkpoint: {checkpoint}\n" if checkpoint else "")
    return train(write_config(text), run_dir=tmp_path / name, quiet=True,
                 echo=lambda message, err=False: None)


@pytest.mark.parametrize("checkpoint, steps", [
    ("", [24]),  # the default, 30 s: a run of a second writes `last` once, at the end
    ("{last_every_s: 0}", [6, 12, 18, 24]),
    ("{last_every: 3}", [18, 24]),
    ("{last_every: 1, last_every_s: 3600}", [6, 12, 18, 24]),
])
def test_last_is_written_at_its_cadence_and_at_the_end(tmp_path, write_config, saves,
                                                       checkpoint, steps):
    run(write_config, tmp_path, checkpoint)
    assert last_steps(saves) == steps
    last = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.safetensors")
    assert last["trainer"]["global_step"] == 24


def test_best_and_numbered_checkpoints_are_unchanged(tmp_path, write_config, saves):
    run(write_config, tmp_path, "{every: 2}")
    assert [step for name, step in saves if name.startswith("epoch-")] == [12, 24]
    best = [step for name, step in saves if name == "best"]
    assert best and best[0] == 6  # the first epoch always improves on nothing


def test_seconds_between_last_writes(tmp_path, saves, monkeypatch):
    """A clock that moves 20 s per epoch and last_every_s 30: `last` after epochs 2 and 4."""
    clock = {"now": 1000.0}

    class Clock:
        @staticmethod
        def monotonic():
            return clock["now"]

    class Tick(Callback):
        def on_epoch_start(self, trainer):
            clock["now"] += 20

    monkeypatch.setattr(callbacks_module, "time", Clock)
    cfg = load_config_text(tmp_path, SPIRALS.replace("epochs: 4", "epochs: 5"))
    parts = build_run(cfg)
    saver = CheckpointSaver(tmp_path, "val/loss", last_every_s=30)
    Trainer(**trainer_arguments(cfg, parts, [Tick(), saver])).fit()
    assert last_steps(saves) == [12, 24, 30]  # 40 s, 40 s, then the end


def test_an_interrupt_always_writes_last(tmp_path, saves):
    class StopAt8(Callback):
        def on_step_end(self, trainer):
            if trainer.global_step == 8:
                trainer.interrupt_requested = True

    cfg = load_config_text(tmp_path, SPIRALS)
    parts = build_run(cfg)
    saver = CheckpointSaver(tmp_path, "val/loss", last_every_s=3600)
    with pytest.raises(Interrupted):
        Trainer(**trainer_arguments(cfg, parts, [StopAt8(), saver])).fit()
    assert last_steps(saves) == [8]


def test_a_crash_loses_at_most_the_window_and_resumes_exactly(tmp_path, write_config):
    text = SPIRALS.replace("log_every: 2}", "log_every: 2, callbacks: [TestCrashAtStep]}")
    text += "checkpoint: {last_every: 2, last_every_s: 3600}\n"
    whole = train(write_config(text), run_dir=tmp_path / "whole", quiet=True,
                  echo=lambda message, err=False: None)
    CRASH["step"] = 16
    try:
        with pytest.raises(RuntimeError, match="simulated crash"):
            train(write_config(text), run_dir=tmp_path / "r", quiet=True,
                  echo=lambda message, err=False: None)
    finally:
        CRASH["step"] = None
    r = tmp_path / "r"
    assert load_checkpoint(r / "checkpoints" / "last.safetensors")["trainer"]["global_step"] == 12
    resumed = train(resume=r, quiet=True, echo=lambda message, err=False: None)
    assert resumed["steps"] == whole["steps"] == 24
    a = load_checkpoint(r / "checkpoints" / "last.safetensors")["model"]
    b = load_checkpoint(tmp_path / "whole" / "checkpoints" / "last.safetensors")["model"]
    for key in b:
        assert numpy.array_equal(a[key].numpy(), b[key].numpy()), key
    assert (r / "metrics.csv").read_text().count("\n") == (
        tmp_path / "whole" / "metrics.csv").read_text().count("\n")


def load_config_text(tmp_path, text):
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return load_config(path)
