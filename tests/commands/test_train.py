"""End to end through the real CLI: train -> run directory -> eval -> plot-lr, and the failure
paths (bad checkpoints, locks, non-finite loss)."""

import json
import os
import signal
import subprocess
from pathlib import Path

import numpy
import pytest

import trainctl as tc
from tests.runs import SPIRALS
from trainctl.training.checkpoint import load_checkpoint


def epoch_rows(run_dir: Path):
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "time"} for r in rows if r["kind"] == "epoch"]


def only_run(tmp_path, name="tiny_spirals") -> Path:
    runs = [p for p in (tmp_path / "runs" / name).iterdir() if not p.is_symlink()]
    assert len(runs) == 1
    return runs[0]


def test_train_writes_a_complete_run_directory(tmp_path, write_config, invoke):
    cfg = write_config()
    code, out, err = invoke("train", cfg, "--quiet")
    assert code == 0, err
    run = only_run(tmp_path)
    assert (tmp_path / "runs" / "tiny_spirals" / "latest").resolve() == run.resolve()
    for name in ("config.yaml", "metrics.csv", "metrics.jsonl", "summary.json", "lr.png",
                 "loss.png", "accuracy.png", "checkpoints/last.safetensors",
                 "checkpoints/best.safetensors"):
        assert (run / name).stat().st_size > 0, name
    assert not (run / ".lock").exists()
    rows = epoch_rows(run)
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    # StepLR(step_size=2, gamma=0.5) per epoch: the LR used in epochs 1-4.
    assert [r["lr"] for r in rows] == pytest.approx([0.01, 0.01, 0.005, 0.005])
    assert all(0.0 <= r["val/accuracy"] <= 1.0 and r["val/loss"] > 0 for r in rows)
    assert rows[-1]["step"] == 4 * 6  # 90 training samples, batch 16 -> 6 steps per epoch
    csv_lines = (run / "metrics.csv").read_text().splitlines()
    assert csv_lines[0].startswith("kind,epoch,step,time,lr,train/loss,train/accuracy,val/loss")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 24
    assert summary["versions"]["trainctl"] == tc.__version__
    # The saved config is exactly what ran, and reloads as a valid config.
    assert tc.config.load_config(run / "config.yaml")["optimizer"]["lr"] == 0.01 if hasattr(
        tc, "config") else True
    assert "epoch 4/4" in out and "run directory:" in out


def test_same_seed_same_run(tmp_path, write_config, invoke):
    cfg = write_config()
    assert invoke("train", cfg, "--quiet", "--run-dir", "a")[0] == 0
    assert invoke("train", cfg, "--quiet", "--run-dir", "b")[0] == 0
    assert epoch_rows(tmp_path / "a") == epoch_rows(tmp_path / "b")
    wa = load_checkpoint(tmp_path / "a/checkpoints/last.safetensors")["model"]
    wb = load_checkpoint(tmp_path / "b/checkpoints/last.safetensors")["model"]
    assert all(numpy.array_equal(wa[k].numpy(), wb[k].numpy()) for k in wa)


def test_resume_after_stopping_gives_identical_results(tmp_path, write_config, invoke, capsys):
    cfg = write_config()
    assert invoke("train", cfg, "--quiet", "--run-dir", "full")[0] == 0
    assert invoke("train", cfg, "--quiet", "--run-dir", "part", "--set", "train.epochs=2")[0] == 0
    code, out, err = invoke("train", cfg, "--quiet", "--resume", "part")
    assert code == 0, err
    assert "with changed train.epochs" in out  # the change is named, and takes effect
    assert epoch_rows(tmp_path / "full") == epoch_rows(tmp_path / "part")
    wa = load_checkpoint(tmp_path / "full/checkpoints/last.safetensors")
    wb = load_checkpoint(tmp_path / "part/checkpoints/last.safetensors")
    for key in wa["model"]:
        assert numpy.array_equal(wa["model"][key].numpy(), wb["model"][key].numpy()), key
    assert wa["trainer"]["global_step"] == wb["trainer"]["global_step"] == 24


def test_resume_refuses_a_model_of_another_shape(tmp_path, write_config, invoke):
    cfg = write_config()
    assert invoke("train", cfg, "--quiet", "--run-dir", "r", "--set", "train.epochs=1")[0] == 0
    code, _, err = invoke("train", cfg, "--quiet", "--resume", "r",
                          "--set", "model.layers.0.out_features=8",
                          "--set", "model.layers.3.in_features=8")
    assert code == 2
    assert "cannot change model.layers.0.out_features, model.layers.3.in_features when " \
           "resuming" in err
    other = write_config(SPIRALS.replace("out_features: 16}", "out_features: 8}").replace(
        "in_features: 16,", "in_features: 8,"), "other.yaml")
    assert invoke("train", other, "--quiet", "--run-dir", "o", "--set", "train.epochs=1")[0] == 0
    code, _, err = invoke("eval", "o/checkpoints/last.safetensors", "--set",
                          "model.layers.0.out_features=16", "--set",
                          "model.layers.3.in_features=16")
    assert code == 2
    assert "0.weight" in err and "shape" in err


def test_resume_auto_finds_the_newest_run(tmp_path, write_config, invoke):
    cfg = write_config()
    assert invoke("train", cfg, "--quiet", "--set", "train.epochs=1")[0] == 0
    code, out, _ = invoke("train", cfg, "--quiet", "--resume", "auto", "--set", "train.epochs=2")
    assert code == 0 and "resuming from" in out
    run = only_run(tmp_path)
    assert [r["epoch"] for r in epoch_rows(run)] == [1, 2]


def test_eval_scores_a_run_and_writes_json(tmp_path, write_config, invoke):
    cfg = write_config()
    assert invoke("train", cfg, "--quiet")[0] == 0
    run = only_run(tmp_path)
    code, out, err = invoke("eval", run, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["split"] == "val" and result["samples"] == 30
    saved = json.loads((run / "checkpoints" / "eval-val.json").read_text())
    assert saved["metrics"] == result["metrics"]
    # The best checkpoint was chosen by val/loss, so eval reproduces that epoch's val/loss.
    best_epoch = json.loads((run / "summary.json").read_text())["best_epoch"]
    logged = [r for r in epoch_rows(run) if r["epoch"] == best_epoch][0]
    assert result["metrics"]["val/loss"] == pytest.approx(logged["val/loss"], rel=1e-6)
    assert sum(map(sum, result["confusion_matrix"])) == 30
    assert (run / "checkpoints" / "confusion-val.png").stat().st_size > 0
    code, out, _ = invoke("eval", run / "checkpoints" / "last.safetensors", "--split", "train")
    assert code == 0 and "per-class accuracy" in out


def test_plot_lr_of_newest_run(tmp_path, write_config, invoke):
    assert invoke("train", write_config(), "--quiet")[0] == 0
    code, out, err = invoke("plot-lr")
    assert code == 0, err
    png = Path(out.strip().splitlines()[-1].split()[-1])
    assert png.exists() and png.stat().st_size > 1000


def test_run_dir_is_never_overwritten(tmp_path, write_config, invoke):
    cfg = write_config()
    assert invoke("train", cfg, "--quiet", "--run-dir", "r", "--set", "train.epochs=1")[0] == 0
    before = (tmp_path / "r" / "checkpoints" / "last.safetensors").read_bytes()
    code, _, err = invoke("train", cfg, "--quiet", "--run-dir", "r")
    assert code == 2 and "not empty" in err
    assert (tmp_path / "r" / "checkpoints" / "last.safetensors").read_bytes() == before


def test_lock_refuses_a_second_writer(tmp_path, write_config, invoke):
    cfg = write_config()
    assert invoke("train", cfg, "--quiet", "--run-dir", "r", "--set", "train.epochs=1")[0] == 0
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / "r" / ".lock").write_text(str(sleeper.pid))
        code, _, err = invoke("train", cfg, "--quiet", "--resume", "r")
        assert code == 2 and f"pid {sleeper.pid}" in err
    finally:
        sleeper.kill()
        sleeper.wait()
    # A lock whose process is gone is stale and taken over.
    code, _, err = invoke("train", cfg, "--quiet", "--resume", "r", "--set", "train.epochs=2")
    assert code == 0, err


@pytest.mark.parametrize("content, message", [
    (b"", "truncated or empty"),
    (b"\x80\x04\x95pickled", "pickle"),
    (b"PK\x03\x04zipfile", "pickle"),
    (b"\xff" * 64, "truncated"),
])
def test_bad_checkpoints_are_rejected_clearly(tmp_path, invoke, content, message):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(content)
    code, _, err = invoke("eval", bad)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_truncated_real_checkpoint(tmp_path, write_config, invoke):
    assert invoke("train", write_config(), "--quiet", "--run-dir", "r",
                  "--set", "train.epochs=1")[0] == 0
    good = (tmp_path / "r/checkpoints/last.safetensors").read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good[: len(good) // 2])
    code, _, err = invoke("eval", cut)
    assert code == 2 and "truncated" in err


def test_non_finite_loss_stops_with_a_clear_message(tmp_path, write_config, invoke):
    text = SPIRALS.replace("optimizer: {type: Adam, lr: 0.01}", "optimizer: {type: SGD, lr: 1e30}")
    code, _, err = invoke("train", write_config(text), "--quiet", "--run-dir", "r")
    assert code == 2
    assert "the loss became" in err and "epoch" in err and "step" in err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["status"] == "failed" and "the loss became" in summary["error"]
    last = tmp_path / "r" / "checkpoints" / "last.safetensors"
    if last.exists():  # what the message says about saved state is true
        assert f"the newest good checkpoint is {last}" in err
        state = load_checkpoint(last)
        assert all(numpy.isfinite(v.numpy()).all() for v in state["model"].values())
    else:
        assert "no checkpoint was written by this run" in err


def test_on_nan_skip_batch_keeps_training(tmp_path, write_config, invoke):
    text = SPIRALS.replace("optimizer: {type: Adam, lr: 0.01}", "optimizer: {type: SGD, lr: 1e30}")
    text = text.replace("log_every: 2}", "log_every: 2, on_nan: skip_batch}")
    code, _, err = invoke("train", write_config(text), "--quiet", "--run-dir", "r")
    assert code == 0, err


def test_config_errors_exit_2_without_traceback(tmp_path, write_config, invoke):
    cfg = write_config(SPIRALS.replace("lr: 0.01", "lr: -1"))
    code, _, err = invoke("train", cfg, "--quiet")
    assert code == 2
    assert "cfg.yaml:16: optimizer.lr: Adam: " in err and "-1" in err
    assert "Traceback" not in err
    assert not (tmp_path / "runs" / "tiny_spirals").exists() or not any(
        (tmp_path / "runs" / "tiny_spirals").glob("*/checkpoints"))


@pytest.mark.parametrize("signals", [1, 2])
def test_sigint_saves_a_checkpoint_and_exits_130(tmp_path, write_config, signals):
    """One Ctrl-C: finish the step, save, say how to resume. Two: stop at once; what was
    saved before stays loadable."""
    text = SPIRALS.replace("epochs: 4", "epochs: 100000").replace("n_samples: 120",
                                                                  "n_samples: 600")
    cfg = write_config(text + "checkpoint: {last_every_s: 0}\n")  # `last` at every epoch's end
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([os.sys.executable, "-m", "trainctl.cli", "train", str(cfg),
                             "--quiet", "--run-dir", "r"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:  # wait until the first epoch (and its checkpoint) is done
            if line.startswith("epoch 1/"):
                break
        for _ in range(signals):
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    if signals == 1:  # the printed line is a complete command: no config, no flags needed
        line = [ln for ln in err.splitlines() if ln.startswith("resume with: ")][0]
        assert line == "resume with: trainctl train --resume r"  # the --run-dir as given
        args = line.split()[4:] + ["--set", "train.epochs=2", "--quiet"]
        resumed = subprocess.run([os.sys.executable, "-m", "trainctl.cli", "train", *args],
                                 cwd=tmp_path, env=env, capture_output=True, text=True,
                                 timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        assert "completed: 2 epochs" in resumed.stdout
    state = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.safetensors")
    assert state["trainer"]["global_step"] >= 1
    assert "Traceback" not in err


def test_spirals_example_reaches_95_percent(tmp_path, invoke):
    from tests.runs import ROOT

    code, out, err = invoke("train", ROOT / "configs" / "spirals_mlp.yaml", "--quiet",
                            "--run-dir", "s", "--set", "train.epochs=20",
                            "--set", "scheduler.T_max=20")
    assert code == 0, err
    best = max(r["val/accuracy"] for r in epoch_rows(tmp_path / "s"))
    assert best >= 0.95


def test_click_runner_and_help(tmp_path, write_config, monkeypatch):
    from click.testing import CliRunner

    from trainctl.cli import cli

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["train", str(write_config()), "--quiet", "--set",
                                 "train.epochs=1"])
    assert result.exit_code == 0, result.output
    assert "completed: 1 epochs, 6 steps" in result.output
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and tc.__version__ in result.output


def test_make_run_config_learns_2_3(tmp_path, invoke):
    from tests.runs import ROOT

    code, out, err = invoke("train", ROOT / "configs" / "linreg.yaml", "--quiet")
    assert code == 0, err
    assert "learned weight: [2.0, 3.0]" in out


def test_cuda_without_cupy_is_a_clear_error(tmp_path, write_config, invoke, monkeypatch):
    import trainctl.core.backend as backend

    if backend.cuda_is_available():
        pytest.skip("a GPU is present")
    code, _, err = invoke("train", write_config(), "--quiet", "--device", "cuda")
    assert code == 2
    assert "cuda" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.safetensors"))


def test_graph_flag_trains_the_same_run_and_records_the_mode(tmp_path, write_config, invoke):
    cfg = write_config()
    assert invoke("train", cfg, "--quiet", "--run-dir", "eager")[0] == 0
    code, _, err = invoke("train", cfg, "--quiet", "--graph", "--run-dir", "graph")
    assert code == 0, err
    assert epoch_rows(tmp_path / "graph") == epoch_rows(tmp_path / "eager")
    assert tc.config.load_config(tmp_path / "graph" / "config.yaml")["train"]["graph"] is True
    eager = load_checkpoint(tmp_path / "eager" / "checkpoints" / "last.safetensors")["model"]
    graph = load_checkpoint(tmp_path / "graph" / "checkpoints" / "last.safetensors")["model"]
    assert all(numpy.array_equal(eager[k].numpy(), graph[k].numpy()) for k in eager)
