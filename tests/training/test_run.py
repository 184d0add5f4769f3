"""The run lifecycle as library code: ``trainctl.training.train`` gives a Python user exactly what
the CLI gives (the run directory, Ctrl-C handling, resume), and the Trainer works from plain
objects with callbacks that own their state."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy
import pytest

import trainctl as tc
from tests.runs import ROOT, SPIRALS
from trainctl.training import Callback, EarlyStopping, Trainer, train
from trainctl.training.checkpoint import load_checkpoint
from trainctl.training.metrics import Accuracy


def files(run):
    return sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())


def rows(run):
    out = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        row.pop("time")
        out.append(row)
    return out


def test_python_train_writes_what_the_cli_writes(tmp_path, write_config, invoke, capsys):
    config = write_config()
    summary = train(config, run_dir=tmp_path / "py", quiet=True, runs_root=tmp_path / "runs")
    printed = capsys.readouterr().out
    assert summary["status"] == "completed" and summary["run_dir"] == str(tmp_path / "py")
    assert "completed: 4 epochs, 24 steps" in printed
    code, _, err = invoke("train", config, "--quiet", "--run-dir", "cli")
    assert code == 0, err
    py, cli = tmp_path / "py", tmp_path / "cli"
    assert files(py) == files(cli)
    assert {"config.yaml", "metrics.csv", "metrics.jsonl", "summary.json", "lr.png",
            "loss.png", "checkpoints/last.safetensors", "checkpoints/best.safetensors"} <= set(
                files(py))
    assert rows(py) == rows(cli)
    a = load_checkpoint(py / "checkpoints" / "last.safetensors")["model"]
    b = load_checkpoint(cli / "checkpoints" / "last.safetensors")["model"]
    for key in a:
        assert numpy.array_equal(a[key].numpy(), b[key].numpy()), key
    saved = json.loads((py / "summary.json").read_text())
    assert {k: v for k, v in saved.items() if k != "run_dir"} == json.loads(
        json.dumps({k: v for k, v in summary.items() if k != "run_dir"}, default=str))


SCRIPT = """\
import sys
from trainctl.training import train
summary = train(sys.argv[1], run_dir=sys.argv[2], quiet=True, resume=sys.argv[3] or None)
print("STATUS", summary["status"], flush=True)
"""


def run_python(args, cwd):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, *map(str, args)], cwd=cwd,
                            env={**os.environ, "PYTHONUNBUFFERED": "1",
                                 "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_ctrl_c_in_python_train_saves_and_resume_matches_an_uninterrupted_run(tmp_path,
                                                                               write_config):
    text = SPIRALS.replace("epochs: 4", "epochs: 30").replace("n_samples: 120", "n_samples: 600")
    config = write_config(text)
    proc = run_python([config, tmp_path / "r", ""], tmp_path)
    try:
        for line in proc.stdout:  # the first epoch (and its checkpoint) is done
            if line.startswith("epoch 1/"):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "STATUS interrupted" in out
    assert "resume with: trainctl train" in err and "Traceback" not in err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["epochs"] < 30
    assert (tmp_path / "r" / "checkpoints" / "last.safetensors").exists()

    resumed = run_python([config, tmp_path / "r", tmp_path / "r"], tmp_path)
    out, err = resumed.communicate(timeout=300)
    assert "STATUS completed" in out, err
    whole = run_python([config, tmp_path / "whole", ""], tmp_path)
    out, err = whole.communicate(timeout=300)
    assert "STATUS completed" in out, err
    a = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.safetensors")
    b = load_checkpoint(tmp_path / "whole" / "checkpoints" / "last.safetensors")
    assert a["trainer"]["global_step"] == b["trainer"]["global_step"]
    for key in a["model"]:
        assert numpy.array_equal(a["model"][key].numpy(), b["model"][key].numpy()), key
    assert rows(tmp_path / "r") == rows(tmp_path / "whole")


def blobs(n=64):
    from trainctl.utils.data import DataLoader, TensorDataset

    y = tc.arange(n) % 2
    x = tc.randn(n, 2) * 0.3 + (y.float() * 4 - 2).unsqueeze(1)
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)


def plain_trainer(**kwargs):
    model = tc.nn.Linear(2, 2)
    return Trainer(model, tc.nn.CrossEntropyLoss(), tc.optim.SGD(model.parameters(), lr=0.1),
                   blobs(), val_loader=blobs(32), metrics={"accuracy": Accuracy()}, **kwargs)


def test_trainer_from_plain_objects():
    trainer = plain_trainer(epochs=5)
    summary = trainer.fit()
    assert summary["epochs"] == 5 and summary["steps"] == 20
    assert summary["final"]["val/accuracy"] == 1.0
    assert trainer.history[-1]["train/loss"] < trainer.history[0]["train/loss"]


def test_two_early_stoppings_keep_separate_state():
    loss_stop = EarlyStopping("val/loss", patience=100)
    acc_stop = EarlyStopping("val/accuracy", patience=100)
    assert loss_stop.state_key != acc_stop.state_key
    trainer = plain_trainer(epochs=3, callbacks=[loss_stop, acc_stop])
    trainer.fit()
    saved = trainer.state_dict()["trainer"]["callbacks"]
    assert saved[loss_stop.state_key]["best"] == pytest.approx(
        min(h["val/loss"] for h in trainer.history))
    assert saved[acc_stop.state_key]["best"] == 1.0
    assert acc_stop.mode == "max" and loss_stop.mode == "min"  # from the metrics themselves
    fresh = [EarlyStopping("val/loss", patience=100), EarlyStopping("val/accuracy", patience=100)]
    again = plain_trainer(epochs=3, callbacks=fresh)
    again.load_state_dict(trainer.state_dict())
    assert [cb.best for cb in fresh] == [loss_stop.best, acc_stop.best]


def test_callbacks_with_one_state_key_are_refused():
    with pytest.raises(ValueError, match="two callbacks share the state key"):
        plain_trainer(callbacks=[EarlyStopping("val/loss"), EarlyStopping("val/loss")])


def test_on_exception_reaches_every_callback():
    seen = []

    class Boom(Callback):
        def on_step_end(self, trainer):
            raise RuntimeError("boom")

    class Watch(Callback):
        def on_exception(self, trainer, exc):
            seen.append(str(exc))

    with pytest.raises(RuntimeError, match="boom"):
        plain_trainer(callbacks=[Boom(), Watch()]).fit()
    assert seen == ["boom"]


def test_trainer_arguments_are_checked():
    with pytest.raises(ValueError, match="scheduler_interval"):
        plain_trainer(scheduler_interval="batch")
    with pytest.raises(ValueError, match="on_nan"):
        plain_trainer(on_nan="ignore")


def test_readme_python_example_runs(tmp_path, monkeypatch):
    """The README's 'from Python' snippet, as written (shorter run)."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("from trainctl.training import evaluate, train")
    code = textwrap.dedent(readme[start:readme.index("```", start)])
    code = code.replace('"configs/spirals_mlp.yaml"', repr(str(ROOT / "configs" /
                                                                 "spirals_mlp.yaml")))
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert list((tmp_path / "runs" / "spirals_mlp").glob("*/summary.json"))
