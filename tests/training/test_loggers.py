"""The loggers of a config's ``logging`` list: TensorBoard event files read back with
TensorBoard's own reader, MLflow runs read back with MLflow's client from a local file store, both
continued on resume, and a one-line ConfigError naming the key when a package is missing."""

import json
import sys

import pytest

from tests.runs import SPIRALS
from trainctl.config import load_config
from trainctl.config.registry import register
from trainctl.core.errors import ConfigError
from trainctl.training import Callback, train
from trainctl.training.checkpoint import load_checkpoint
from trainctl.training.loggers import build_loggers, flatten_config

STEPS_PER_EPOCH, EPOCHS = 6, 4  # SPIRALS: 90 training samples in batches of 16, log_every 2
FAIL = {"step": None}


@register("callback", "TestFailAtStep")
class TestFailAtStep(Callback):
    """Fails the run after optimizer step ``FAIL["step"]`` (a crash the run did not see coming)."""

    def on_step_end(self, trainer):
        if trainer.global_step == FAIL["step"]:
            raise RuntimeError("simulated crash")


@pytest.fixture(autouse=True)
def _no_telemetry(monkeypatch):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    FAIL["step"] = None


def config(logging: str, extra: str = "") -> str:
    return SPIRALS + f"logging: {logging}\n" + extra


def run(write_config, tmp_path, text, name="r", **kwargs) -> dict:
    return train(write_config(text), run_dir=tmp_path / name, quiet=True,
                 runs_root=tmp_path / "runs", echo=lambda message, err=False: None, **kwargs)


def rows(run_dir, kind):
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def accumulator(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0,
                                                       "tensors": 0})
    acc.Reload()
    return acc


def scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_flatten_config_gives_one_key_per_value():
    flat = flatten_config({"model": {"layers": [{"type": "Linear", "out_features": 3}]},
                           "train": {"metrics": ["accuracy"], "max_steps": None},
                           "data": {"x": list(range(1000))}})
    assert flat["model.layers.0.type"] == "Linear" and flat["model.layers.0.out_features"] == 3
    assert flat["train.metrics"] == '["accuracy"]' and flat["train.max_steps"] == "null"
    assert len(flat["data.x"]) == 500 and flat["data.x"].endswith("…")


# ---------------------------------------------------------------------------- TensorBoard

def test_tensorboard_event_files_read_back_with_tensorboards_reader(tmp_path, write_config):
    pytest.importorskip("tensorboardX")
    pytest.importorskip("tensorboard")
    from tensorboard.plugins.hparams import plugin_data_pb2

    summary = run(write_config, tmp_path,
                  config("[csv, {type: tensorboard, histogram_every: 2}]"))
    r = tmp_path / "r"
    acc = accumulator(r / "tensorboard")
    assert "tensorflow" not in sys.modules  # TensorBoard's reader works without TensorFlow

    steps = rows(r, "step")
    assert [s for s, _ in scalars(acc, "train/loss_step")] == [row["step"] for row in steps] == \
        list(range(2, 25, 2))
    assert [v for _, v in scalars(acc, "train/loss_step")] == pytest.approx(
        [row["train/loss"] for row in steps], rel=1e-6)
    assert [v for _, v in scalars(acc, "lr")] == pytest.approx([row["lr"] for row in steps])
    epochs = rows(r, "epoch")
    for tag in ("train/loss", "train/accuracy", "val/loss", "val/accuracy"):
        assert scalars(acc, tag) == [(row["step"], pytest.approx(row[tag], rel=1e-6))
                                     for row in epochs], tag
    assert scalars(acc, "epoch") == [(6, 1), (12, 2), (18, 3), (24, 4)]

    # Histograms every 2 epochs; the last one is of the final weights.
    final = load_checkpoint(r / "checkpoints" / "last.safetensors")["model"]
    for name in ("0.weight", "0.bias", "3.weight", "3.bias"):
        events = acc.Histograms(f"weights/{name}")
        assert [e.step for e in events] == [12, 24]
        weights = final[name].numpy()
        last = events[-1].histogram_value
        assert last.num == weights.size
        assert (last.min, last.max) == pytest.approx((weights.min(), weights.max()))

    text = acc.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "\n".join(line[4:] for line in text.splitlines()) + "\n" == (
        r / "config.yaml").read_text()

    hp = accumulator(r / "tensorboard" / "hparams")
    content = hp.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["optimizer.lr"].number_value == pytest.approx(0.01)
    assert start.hparams["model.layers.0.type"].string_value == "Linear"
    assert start.hparams["train.metrics"].string_value == '["accuracy"]'
    final_metrics = summary["final"]
    assert scalars(hp, "hparam/val/accuracy") == [(24, pytest.approx(
        final_metrics["val/accuracy"]))]


def test_tensorboard_resume_keeps_one_curve_without_the_lost_steps(tmp_path, write_config):
    """A crash at step 16 with `last` every 2 epochs (step 12): the resume writes into the same
    folder, and the reader shows each step once, with the values of a run that never stopped."""
    pytest.importorskip("tensorboardX")
    pytest.importorskip("tensorboard")
    text = config("[{type: tensorboard, histogram_every: 2}]",
                  "checkpoint: {last_every: 2, last_every_s: 3600}\n").replace(
        "log_every: 2}", "log_every: 2, callbacks: [TestFailAtStep]}")
    run(write_config, tmp_path, text, name="whole")
    FAIL["step"] = 16
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(write_config, tmp_path, text)
    r = tmp_path / "r"
    assert load_checkpoint(r / "checkpoints" / "last.safetensors")["trainer"]["global_step"] == 12
    FAIL["step"] = None
    summary = train(resume=r, quiet=True, echo=lambda message, err=False: None)
    assert summary["status"] == "completed" and summary["steps"] == 24

    got, want = accumulator(r / "tensorboard"), accumulator(tmp_path / "whole" / "tensorboard")
    assert len(list((r / "tensorboard").glob("events.out.tfevents.*"))) == 2
    for tag in ("train/loss_step", "lr", "val/loss", "val/accuracy", "epoch"):
        steps = [s for s, _ in scalars(got, tag)]
        assert steps == sorted(set(steps)), tag  # no step twice
        assert scalars(got, tag) == scalars(want, tag), tag
    for acc in (got, want):
        assert [e.step for e in acc.Histograms("weights/0.weight")] == [12, 24]


def test_a_logger_added_on_resume_starts_there(tmp_path, write_config):
    pytest.importorskip("tensorboardX")
    pytest.importorskip("tensorboard")
    run(write_config, tmp_path, SPIRALS, overrides=["train.epochs=2"])
    r = tmp_path / "r"
    summary = train(resume=r, quiet=True, echo=lambda message, err=False: None,
                    overrides=["train.epochs=4", "logging=[csv, tensorboard]"])
    assert summary["status"] == "completed" and summary["steps"] == 24
    acc = accumulator(r / "tensorboard")
    assert [s for s, _ in scalars(acc, "val/loss")] == [18, 24]
    assert [s for s, _ in scalars(acc, "train/loss_step")] == list(range(14, 25, 2))


def test_tensorboard_logger_on_a_plain_trainer(tmp_path):
    pytest.importorskip("tensorboardX")
    pytest.importorskip("tensorboard")
    from tests.training.test_trainer import config
    from trainctl.core.errors import TrainctlError
    from trainctl.training import Trainer
    from trainctl.training.loggers import TensorBoardLogger
    from trainctl.training.setup import build_run, trainer_arguments

    cfg = config(epochs=2)
    parts = build_run(cfg)
    logger = TensorBoardLogger(histogram_every=1, log_dir=str(tmp_path / "tb"))
    Trainer(**trainer_arguments(cfg, parts, [logger])).fit()
    logger.close()
    acc = accumulator(tmp_path / "tb")
    assert [s for s, _ in scalars(acc, "epoch")] == [6, 12]
    assert [e.step for e in acc.Histograms("weights/0.weight")] == [6, 12]
    with pytest.raises(TrainctlError, match="needs log_dir"):
        Trainer(**trainer_arguments(cfg, build_run(cfg), [TensorBoardLogger()])).fit()


# ---------------------------------------------------------------------------- MLflow

def mlflow_client(store):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=store.resolve().as_uri())


def only_run(client, experiment):
    exp = client.get_experiment_by_name(experiment)
    found = client.search_runs([exp.experiment_id])
    assert len(found) == 1
    return found[0]


def history(client, run_id, key):
    """(step, value) of a metric, the newest value for each step."""
    newest = {}
    for m in sorted(client.get_metric_history(run_id, key), key=lambda m: m.timestamp):
        newest[m.step] = m.value
    return sorted(newest.items())


def test_mlflow_run_read_back_from_a_local_file_store(tmp_path, write_config):
    pytest.importorskip("mlflow")
    summary = run(write_config, tmp_path, config("[csv, mlflow]"))
    r = tmp_path / "r"
    client = mlflow_client(tmp_path / "runs" / "mlruns")
    found = only_run(client, "tiny_spirals")
    assert found.info.status == "FINISHED" and found.info.run_name == "r"
    assert found.data.tags["trainctl.run_dir"] == str(r)
    params = found.data.params
    assert params["optimizer.lr"] == "0.01" and params["optimizer.type"] == "Adam"
    assert params["model.layers.0.type"] == "Linear" and params["train.epochs"] == "4"
    assert params["data.val_split"] == "0.25" and params["train.metrics"] == '["accuracy"]'

    run_id = found.info.run_id
    steps, epochs = rows(r, "step"), rows(r, "epoch")
    assert history(client, run_id, "train/loss_step") == [
        (row["step"], pytest.approx(row["train/loss"])) for row in steps]
    assert history(client, run_id, "lr") == [(row["step"], row["lr"]) for row in steps]
    for key in ("train/loss", "val/loss", "val/accuracy"):
        assert history(client, run_id, key) == [(row["step"], pytest.approx(row[key]))
                                                for row in epochs], key
    assert found.data.metrics["val/accuracy"] == pytest.approx(summary["final"]["val/accuracy"])

    stored = {a.path for a in client.list_artifacts(run_id)}
    assert {"config.yaml", "summary.json", "metrics.csv", "report.html", "plots",
            "checkpoints"} <= stored
    assert {a.path for a in client.list_artifacts(run_id, "checkpoints")} == {
        "checkpoints/last.safetensors", "checkpoints/best.safetensors"}
    plots = {a.path for a in client.list_artifacts(run_id, "plots")}
    assert {"plots/loss.png", "plots/lr.png"} <= plots
    copy = client.download_artifacts(run_id, "checkpoints/last.safetensors", str(tmp_path))
    assert open(copy, "rb").read() == (r / "checkpoints" / "last.safetensors").read_bytes()


def test_mlflow_tracking_uri_and_experiment_arguments(tmp_path, write_config):
    pytest.importorskip("mlflow")
    store = tmp_path / "elsewhere"
    run(write_config, tmp_path, config(
        f"[{{type: mlflow, tracking_uri: '{store}', experiment: spirals-study, "
        "run_name: first, log_checkpoints: false}]"))
    client = mlflow_client(store)
    found = only_run(client, "spirals-study")
    assert found.info.run_name == "first"
    assert "checkpoints" not in {a.path for a in client.list_artifacts(found.info.run_id)}
    assert not (tmp_path / "runs" / "mlruns").exists()


def test_mlflow_resume_continues_the_same_run(tmp_path, write_config):
    pytest.importorskip("mlflow")
    text = config("[mlflow]", "checkpoint: {last_every: 2, last_every_s: 3600}\n").replace(
        "log_every: 2}", "log_every: 2, callbacks: [TestFailAtStep]}")
    FAIL["step"] = 16
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(write_config, tmp_path, text)
    r = tmp_path / "r"
    client = mlflow_client(tmp_path / "runs" / "mlruns")
    failed = only_run(client, "tiny_spirals")
    assert failed.info.status == "FAILED"
    saved = load_checkpoint(r / "checkpoints" / "last.safetensors")
    assert saved["trainer"]["callbacks"]["MLflowLogger"]["run_id"] == failed.info.run_id

    FAIL["step"] = None
    train(resume=r, quiet=True, overrides=["optimizer.lr=0.02"], runs_root=tmp_path / "runs",
          echo=lambda message, err=False: None)
    found = only_run(client, "tiny_spirals")  # still one MLflow run
    assert found.info.run_id == failed.info.run_id and found.info.status == "FINISHED"
    assert found.data.params["optimizer.lr"] == "0.01"  # MLflow params never change...
    assert found.data.tags["changed_on_resume.optimizer.lr"] == "0.02"  # ...so it says so
    epochs = rows(r, "epoch")
    assert history(client, found.info.run_id, "val/loss") == [
        (row["step"], pytest.approx(row["val/loss"])) for row in epochs]
    steps = rows(r, "step")
    assert history(client, found.info.run_id, "train/loss_step") == [
        (row["step"], pytest.approx(row["train/loss"])) for row in steps]


# ---------------------------------------------------------------------------- the config

def test_a_missing_package_is_one_line_naming_the_key(tmp_path, write_config, invoke,
                                                      monkeypatch):
    cfg = write_config(config("[csv, tensorboard, mlflow]"))
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if not installed
    with pytest.raises(ConfigError) as e:
        build_loggers(load_config(cfg))
    assert str(e.value) == (f"{cfg}:19: logging.1: tensorboard needs tensorboardX, which is "
                            "not installed: pip install 'trainctl[tensorboard]'")
    monkeypatch.setitem(sys.modules, "mlflow", None)
    code, out, err = invoke("train", write_config(config("[mlflow]")), "--quiet")
    assert code == 2 and out == ""
    assert err == (f"error: {cfg}:19: logging.0: mlflow needs mlflow-skinny, which is not "
                   "installed: pip install 'trainctl[mlflow]'\n")
    assert not list((tmp_path / "runs").glob("tiny_spirals/*"))  # nothing ran, nothing left


@pytest.mark.parametrize("entry, message", [
    ("[tensorbord]", "logging.0: unknown callback 'tensorbord'; did you mean 'tensorboard'?"),
    ("[{type: csv, path: x.csv}]", "logging.0: csv takes no arguments: metrics.csv and "
                                   "metrics.jsonl are written by every run"),
    ("[tensorboard, tensorboard]", "logging.1: tensorboard is already listed at logging.0"),
    ("[{type: tensorboard, histogram_evry: 2}]",
     "logging.0.histogram_evry: unknown argument 'histogram_evry' for tensorboard; did you "
     "mean 'histogram_every'?"),
    ("[{type: tensorboard, histogram_every: -1}]",
     "logging.0.histogram_every: tensorboard: histogram_every must be 0 (off) or more, got -1"),
])
def test_logging_entries_are_checked_with_file_line_and_key(write_config, entry, message):
    cfg = write_config(config(entry))
    with pytest.raises(ConfigError) as e:
        build_loggers(load_config(cfg))
    assert str(e.value).startswith(f"{cfg}:19") and str(e.value).endswith(message)


def test_csv_alone_adds_no_callback(write_config):
    assert build_loggers(load_config(write_config(config("[csv]")))) == []
