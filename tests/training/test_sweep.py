"""``trainctl sweep``: trials as runs, pruning, the best config, resuming, and several processes
on one study."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from click.testing import CliRunner

from trainctl.cli import cli
from trainctl.core.errors import ConfigError
from trainctl.training import sweep, sweep_results, train

REPO = Path(__file__).resolve().parents[2]
CONFIG = """\
name: tiny
seed: 0
data:
  train: {type: SyntheticClassification, kind: blobs, n_samples: 300, n_classes: 3,
          noise: 0.05, seed: 0}
  val_split: 0.2
  batch_size: 32
model: {type: MLP, sizes: [2, 16, 3], activation: ReLU}
loss: {type: CrossEntropyLoss}
optimizer: {type: Adam, lr: 0.01}
train: {epochs: %(epochs)d, metrics: [accuracy]}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder with a tiny config, as the working directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(CONFIG % {"epochs": 4})
    return tmp_path


def space(folder, text: str, name="space.yaml"):
    (folder / name).write_text(text)
    return folder / name


def study_trials(folder, study="tiny"):
    loaded = optuna.load_study(study_name=study,
                               storage=f"sqlite:///{folder / 'runs/tiny/sweep.db'}")
    return loaded.get_trials(deepcopy=False)


# A grid of 8 points, two of them hopeless (an LR that cannot learn in 4 epochs): the threshold
# pruner stops exactly those, whatever order the two workers take them in.
GRID = """\
objective: val/accuracy
optimizer.lr: {choice: [1.0e-7, 0.01, 0.03, 0.05]}
model.sizes.1: {choice: [8, 16]}
pruner: {lower: 0.6, n_warmup_steps: 1}
"""


@pytest.mark.slow
def test_a_sweep_with_two_jobs_prunes_the_hopeless_trials_and_its_best_config_reproduces(
        project):
    result = sweep("tiny.yaml", space(project, GRID), jobs=2, sampler="grid",
                   pruner="threshold", seed=0, echo=lambda *a, **k: None)
    rows = result["trials"]
    assert len(rows) == 8 and not result["interrupted"]
    seen = {(r["params"]["optimizer.lr"], r["params"]["model.sizes.1"]) for r in rows}
    assert len(seen) == 8  # every grid point once, none twice
    states = {(r["params"]["optimizer.lr"], r["state"]) for r in rows}
    assert {s for lr, s in states if lr == 1e-7} == {"pruned"}
    assert {s for lr, s in states if lr != 1e-7} == {"completed"}
    for r in rows:  # each trial is a normal run, its overrides recorded
        summary = json.loads((project / r["run_dir"] / "summary.json").read_text())
        assert summary["status"] == r["state"]
        assert summary["monitor"] == "val/accuracy"
        saved = yaml.safe_load((project / r["run_dir"] / "config.yaml").read_text())
        assert saved["optimizer"]["lr"] == r["params"]["optimizer.lr"]
        assert saved["model"]["sizes"][1] == r["params"]["model.sizes.1"]
        if r["state"] == "pruned":
            assert summary["stop_reason"].startswith("pruned by the sweep at epoch 1")
            assert summary["epochs"] == 1
    best = result["best"]
    assert best["value"] == max(r["value"] for r in rows if r["state"] == "completed")
    again = train(result["best_config"], quiet=True, echo=lambda *a, **k: None)
    assert again["best_value"] == best["value"]  # the best config reproduces its objective
    assert again["monitor"] == "val/accuracy"
    names = sorted(p.name for p in result["plots"])
    assert names == ["history.png", "importance.png", "parallel.png", "slice.png"]
    for path in result["plots"]:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["trials_csv"].read_text().startswith("trial,state,value,duration_s,")


def test_the_median_pruner_stops_a_trial_behind_the_finished_ones(project):
    # one process and a seeded grid: the order is fixed, so is what the pruner does
    text = ("objective: val/loss\noptimizer.lr: {choice: [0.03, 1.0e-7]}\n"
            "model.sizes.1: {choice: [8, 16]}\npruner: {n_startup_trials: 1}\n")
    result = sweep("tiny.yaml", space(project, text), sampler="grid", seed=0,
                   echo=lambda *a, **k: None)
    rows = result["trials"]
    order = [(r["params"]["optimizer.lr"], r["state"]) for r in rows]
    assert order[0][1] == "completed"  # nothing to compare the first trial with
    hopeless = [r for r in rows if r["params"]["optimizer.lr"] == 1e-7]
    assert hopeless and {r["state"] for r in hopeless} == {"pruned"}, order
    assert all(r["value"] is not None for r in hopeless)  # its last reported epoch value
    assert result["best"]["params"]["optimizer.lr"] == 0.03


def _sweep_command(folder, *extra):
    return [sys.executable, "-m", "trainctl.cli", "sweep", "tiny.yaml", "--space", "space.yaml",
            "--pruner", "none", *extra]


def _env():
    """The subprocesses import this checkout's trainctl (the tests run from a temporary folder)."""
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.mark.slow
def test_ctrl_c_stops_a_sweep_that_the_same_command_continues(project):
    (project / "tiny.yaml").write_text(CONFIG % {"epochs": 400})  # trials of a few seconds
    space(project, "objective: val/loss\noptimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n")
    command = _sweep_command(project, "--trials", "3", "--seed", "1")
    proc = subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=_env())
    lines = []
    for line in proc.stdout:  # wait for one finished trial, then press Ctrl-C in the next
        lines.append(line)
        if line.startswith("trial   0  completed"):
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out = "".join(lines) + proc.stdout.read()
    assert proc.wait(timeout=60) == 130, out
    assert "trial   1  interrupted (runs again when the sweep continues)" in out
    assert "interrupted: run the same command to continue the study" in out
    first = {t.number: t for t in study_trials(project)}
    assert first[0].state.name == "COMPLETE" and first[1].state.name == "FAIL"
    finished = project / "runs/tiny/sweep-tiny/trial-0/summary.json"
    before = finished.read_bytes(), finished.stat().st_mtime_ns
    interrupted = json.loads((project / "runs/tiny/sweep-tiny/trial-1/summary.json").read_text())
    assert interrupted["status"] == "interrupted"

    (project / "tiny.yaml").write_text(CONFIG % {"epochs": 400})
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, env=_env(),
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 trials (1 done, 1 interrupted to run again)" in done.stdout
    trials = study_trials(project)
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == 3  # the study's total, the finished trial not run again
    assert finished.read_bytes() == before[0] and finished.stat().st_mtime_ns == before[1]
    retry = [t for t in trials if t.user_attrs.get("retry_of") == 1]
    assert len(retry) == 1 and retry[0].params == first[1].params
    assert sorted(t.number for t in complete) == [0, 2, 3]


@pytest.mark.slow
def test_two_processes_on_one_sqlite_study_share_the_trials(project):
    (project / "tiny.yaml").write_text(CONFIG % {"epochs": 60})
    space(project, "objective: val/loss\noptimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n")
    command = _sweep_command(project, "--trials", "6", "--study", "shared")
    procs = [subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.STDOUT, env=_env()) for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    trials = study_trials(project, "shared")
    assert len(trials) == 6 and {t.state.name for t in trials} == {"COMPLETE"}
    ran = [re.findall(r"^trial +(\d+)  completed", out, re.M) for out in outs]
    assert sorted(ran[0] + ran[1]) == [str(n) for n in range(6)]  # each trial once, no extra
    assert ran[0] and ran[1]  # both processes took trials
    assert {t.user_attrs["run_dir"] for t in trials} == {
        f"runs/tiny/sweep-shared/trial-{n}" for n in range(6)}


def test_a_failed_trial_is_reported_and_the_sweep_goes_on(project):
    # an LR this large overflows to a non-finite loss: that trial fails, the others run
    text = "objective: val/loss\noptimizer.lr: {choice: [0.01, 1.0e+30]}\n"
    lines = []
    result = sweep("tiny.yaml", space(project, text), trials=3, sampler="grid", pruner="none",
                   echo=lambda m, err=False: lines.append(m))
    states = {r["params"]["optimizer.lr"]: r["state"] for r in result["trials"]}
    assert states == {0.01: "completed", 1e30: "failed"}
    failed = next(r for r in result["trials"] if r["state"] == "failed")
    assert "the loss became" in failed["error"]
    assert any("failed" in m and "the loss became" in m for m in lines)


def test_mistakes_stop_before_any_trial(project):
    good = space(project, "objective: val/accuracy\noptimizer.lr: {uniform: [0.01, 0.1]}\n")
    with pytest.raises(ConfigError, match="objective 'val/f1' is not a metric this config logs"):
        sweep("tiny.yaml", space(project, "objective: val/f1\noptimizer.lr: {uniform: [0, 1]}\n",
                                 "f1.yaml"))
    with pytest.raises(ConfigError, match=r"lrr.yaml: optimizer.lrr = 0.01: .*unknown argument "
                                          r"'lrr' for Adam; did you mean 'lr'\?"):
        sweep("tiny.yaml", space(project, "objective: val/loss\noptimizer.lrr: "
                                          "{uniform: [0.01, 0.1]}\n", "lrr.yaml"))
    with pytest.raises(ConfigError, match=r"--storage nosuchdb://x: cannot open it"):
        sweep("tiny.yaml", good, storage="nosuchdb://x")
    with pytest.raises(ConfigError, match="threshold needs pruner"):
        sweep("tiny.yaml", good, pruner="threshold", trials=1)
    assert not (project / "runs/tiny/sweep-tiny").exists() or not any(
        (project / "runs/tiny/sweep-tiny").glob("trial-*"))


def test_a_study_refuses_another_space_or_config(project):
    quiet = {"echo": lambda *a, **k: None}
    sweep("tiny.yaml", space(project, "objective: val/loss\noptimizer.lr: {choice: [0.01]}\n"),
          trials=1, pruner="none", **quiet)
    other = space(project, "objective: val/loss\noptimizer.lr: {choice: [0.02]}\n", "b.yaml")
    with pytest.raises(ConfigError, match="was started with another space"):
        sweep("tiny.yaml", other, trials=1, **quiet)
    with pytest.raises(ConfigError, match="was started with another config"):
        sweep("tiny.yaml", "space.yaml", trials=1, overrides=["train.epochs=2"], **quiet)
    again = sweep("tiny.yaml", "space.yaml", trials=1, **quiet)  # already full: runs nothing
    assert len(again["trials"]) == 1
    result = sweep("tiny.yaml", other, trials=1, study="second", **quiet)
    assert result["study"] == "second" and (project / "runs/tiny/sweep-second/trial-0").is_dir()


def test_without_optuna_the_message_names_the_extra(project, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna -> ImportError
    good = space(project, "objective: val/loss\noptimizer.lr: {uniform: [0.01, 0.1]}\n")
    with pytest.raises(ConfigError, match=r"pip install 'trainctl\[sweep\]'"):
        sweep("tiny.yaml", good)


def test_the_command_prints_one_line_per_trial_and_a_table_at_80_columns(project):
    space(project, "objective: val/accuracy\noptimizer.lr: {choice: [0.01, 0.05]}\n"
                   "model.sizes.1: {choice: [8, 16]}\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["sweep", "tiny.yaml", "--space", "space.yaml", "--sampler",
                                 "grid", "--pruner", "none"], terminal_width=80)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:2] == ["sweep tiny.yaml: study 'tiny' in runs/tiny/sweep.db",
                         "  maximize val/accuracy, 4 trials (0 done), 1 job"]
    assert sum(line.startswith("trial ") and "completed" in line for line in lines) == 4
    assert "4 trials: 4 completed" in lines
    header = next(line for line in lines if line.startswith("trial  state"))
    assert header.split() == ["trial", "state", "val/accuracy", "time", "model.sizes.1", "lr"]
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert "train the best: trainctl train runs/tiny/sweep-tiny/best.yaml" in lines
    report = runner.invoke(cli, ["sweep", "tiny.yaml", "--report"], terminal_width=80)
    assert report.exit_code == 0 and "4 trials: 4 completed" in report.output
    assert "sweep tiny.yaml" not in report.output  # nothing ran
    missing = runner.invoke(cli, ["sweep", "tiny.yaml"])
    assert missing.exit_code != 0 and "give --space SPACE.yaml" in str(missing.exception)


def test_report_of_a_study_that_is_not_there(project):
    with pytest.raises(ConfigError, match="no sweep database here"):
        sweep_results("tiny.yaml")
    sweep("tiny.yaml", space(project, "objective: val/loss\noptimizer.lr: {choice: [0.01]}\n"),
          trials=1, pruner="none", echo=lambda *a, **k: None)
    with pytest.raises(ConfigError, match=r"no study 'other' in .*sweep.db \(it has tiny\)"):
        sweep_results("tiny.yaml", study="other")


def test_timeout_and_the_hyperband_pruner(project):
    text = "objective: val/loss\noptimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n"
    none = sweep("tiny.yaml", space(project, text), trials=5, timeout=0,
                 echo=lambda *a, **k: None)
    assert none["trials"] == [] and none["best"] is None  # no trial starts after the timeout
    result = sweep("tiny.yaml", "space.yaml", trials=3, pruner="hyperband", seed=0,
                   study="hb", echo=lambda *a, **k: None)
    assert len(result["trials"]) == 3
    assert {r["state"] for r in result["trials"]} <= {"completed", "pruned"}
