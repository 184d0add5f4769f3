"""``evaluate`` and ``trainctl eval``: the report per task (per-class table, confusion matrix for
C-class and one-logit models, ROC/PR curves, residuals), the PNGs and the predictions export."""

import csv
import inspect
import json
import textwrap
from pathlib import Path

import numpy
import pytest

from tests.runs import SPIRALS
from trainctl.core.errors import ConfigError
from trainctl.training import evaluate, plots, train
from trainctl.training.metrics import classification_report

BINARY_METRICS = "[accuracy, f1, precision, recall, auroc, average_precision]"


def tensor_config(name, x, y, model, loss, metrics, epochs=4, lr=0.05):
    x, y = (json.dumps(numpy.round(a, 4).tolist()) for a in (x, y))
    return textwrap.dedent(f"""\
        name: {name}
        seed: 0
        data:
          train: {{type: TensorDataset, x: {x}, y: {y}}}
          val_split: 0.3
          batch_size: 16
        model: {model}
        loss: {{type: {loss}}}
        optimizer: {{type: Adam, lr: {lr}}}
        train: {{epochs: {epochs}, metrics: {metrics}}}
        """)


def binary_config():
    rng = numpy.random.default_rng(0)
    x = rng.normal(size=(100, 2))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(size=100) > 0.3).astype(float)[:, None]
    return tensor_config("one_logit", x, y, "{type: Linear, in_features: 2, out_features: 1}",
                         "BCEWithLogitsLoss", BINARY_METRICS)


def regression_config():
    rng = numpy.random.default_rng(1)
    x = rng.normal(size=(80, 2))
    y = x @ numpy.array([[2.0, -1.0], [0.5, 3.0]]) + rng.normal(size=(80, 2)) * 0.3
    return tensor_config("two_targets", x, y, "{type: Linear, in_features: 2, out_features: 2}",
                         "MSELoss", "[mae, mse, rmse, r2]", epochs=20, lr=0.1)


@pytest.fixture
def run_of(tmp_path, write_config, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def make(text, name):
        summary = train(write_config(text, f"{name}.yaml"), run_dir=tmp_path / name, quiet=True,
                        echo=lambda *a, **k: None)
        return Path(summary["run_dir"])

    return make


@pytest.fixture
def titles(monkeypatch):
    """The titles the plots were drawn with, by plot function."""
    seen = {}
    for name in ("plot_confusion", "plot_roc", "plot_precision_recall", "plot_residuals"):
        original = getattr(plots, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            bound = inspect.signature(_original).bind(*args, **kwargs)
            seen[_name] = bound.arguments["title"]
            return _original(*args, **kwargs)

        monkeypatch.setattr(plots, name, spy)
    return seen


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_classification_report_confusion_matrix_and_csv_export(run_of, tmp_path, titles):
    run = run_of(SPIRALS.replace("metrics: [accuracy]", "metrics: [accuracy, f1]"), "spirals")
    result = evaluate(run, predictions=tmp_path / "out" / "val.csv")
    assert result["task"] == "classification" and result["samples"] == 30
    rows = read_csv(tmp_path / "out" / "val.csv")
    assert list(rows[0]) == ["row", "target", "prediction", "p_0", "p_1", "p_2"]
    assert len(rows) == 30
    # rows are the held-out samples' indices in the training data: distinct, in range
    assert len({int(r["row"]) for r in rows}) == 30 and all(0 <= int(r["row"]) < 120
                                                            for r in rows)
    probs = numpy.array([[float(r[f"p_{c}"]) for c in "012"] for r in rows])
    assert numpy.allclose(probs.sum(axis=1), 1, atol=1e-6)
    assert [r["prediction"] for r in rows] == [str(i) for i in probs.argmax(axis=1)]
    labels = numpy.array([int(r["target"]) for r in rows])
    predicted = probs.argmax(axis=1)
    # The report is classification_report of the exported rows; the run's metrics agree.
    assert result["report"] == classification_report(labels, predicted, ["0", "1", "2"])
    assert result["report"]["accuracy"] == pytest.approx(result["metrics"]["val/accuracy"])
    assert result["report"]["macro_avg"]["f1"] == pytest.approx(result["metrics"]["val/f1"])
    matrix = numpy.array(result["confusion_matrix"])
    assert matrix.sum() == 30 and numpy.trace(matrix) == (labels == predicted).sum()
    assert (run / "checkpoints" / "confusion-val.png").stat().st_size > 10_000
    assert titles["plot_confusion"] == "Confusion matrix\nval split · spirals/best.safetensors"
    saved = json.loads((run / "checkpoints" / "eval-val.json").read_text())
    assert saved["report"] == result["report"] and saved["predictions"].endswith("val.csv")


def test_one_logit_binary_model(run_of, tmp_path, titles):
    run = run_of(binary_config(), "binary")
    result = evaluate(run / "checkpoints" / "last.safetensors", predictions=tmp_path / "b.npz")
    assert result["task"] == "binary" and result["classes"] == ["0", "1"]
    matrix = numpy.array(result["confusion_matrix"])
    assert matrix.shape == (2, 2) and matrix.sum() == 30
    m = result["metrics"]
    assert result["roc_auc"] == pytest.approx(m["val/auroc"], abs=1e-6)
    assert result["average_precision"] == pytest.approx(m["val/average_precision"], abs=1e-6)
    positive = result["report"]["per_class"]["1"]
    assert positive["f1"] == pytest.approx(m["val/f1"]) and positive["recall"] == pytest.approx(
        m["val/recall"])
    assert result["report"]["accuracy"] == pytest.approx(m["val/accuracy"])
    for png in ("confusion_png", "roc_png", "pr_png"):
        assert (run / "checkpoints" / f"{png.split('_')[0]}-val.png").stat().st_size > 10_000
    assert titles["plot_roc"].startswith("ROC curve (positive class: 1)\nval split")
    with numpy.load(tmp_path / "b.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"row", "target", "prediction", "probabilities", "classes"}
        probs = npz["probabilities"]
        assert probs.shape == (30, 2) and numpy.allclose(probs.sum(axis=1), 1, atol=1e-6)
        # threshold at logit 0, i.e. probability 0.5
        assert (npz["prediction"] == numpy.where(probs[:, 1] > 0.5, "1", "0")).all()
        tp = ((npz["prediction"] == "1") & (npz["target"] == "1")).sum()
        assert tp == matrix[1, 1]


def test_regression_residuals_and_jsonl(run_of, tmp_path, titles):
    run = run_of(regression_config(), "regression")
    result = evaluate(run, predictions=tmp_path / "r.jsonl")
    assert result["task"] == "regression" and result["inverse_target_applied"] is False
    for name in ("mae", "mse", "rmse", "r2"):
        assert result["regression"][name] == pytest.approx(result["metrics"][f"val/{name}"],
                                                           rel=1e-6)
    assert (run / "checkpoints" / "residuals-val.png").stat().st_size > 10_000
    assert titles["plot_residuals"] == "Residuals\nval split · regression/best.safetensors"
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(rows) == 24 and set(rows[0]) == {"row", "target_0", "target_1", "prediction_0",
                                                "prediction_1"}
    errors = [abs(r[f"target_{j}"] - r[f"prediction_{j}"]) for r in rows for j in (0, 1)]
    assert sum(errors) / len(errors) == pytest.approx(result["regression"]["mae"], rel=1e-5)


def test_regression_is_reported_in_the_targets_own_units(run_of, tmp_path, monkeypatch):
    run = run_of(regression_config(), "regression")
    plain = evaluate(run, predictions=tmp_path / "plain.csv")
    from trainctl.data import TensorDataset

    # A dataset that scaled its targets says how to undo it; eval applies it where it exists.
    monkeypatch.setattr(TensorDataset, "inverse_target", lambda self, a: a * 10.0 + 5.0,
                        raising=False)
    scaled = evaluate(run, predictions=tmp_path / "scaled.csv")
    assert scaled["inverse_target_applied"] is True
    for name, factor in (("mae", 10), ("mse", 100), ("rmse", 10), ("r2", 1)):
        assert scaled["regression"][name] == pytest.approx(plain["regression"][name] * factor,
                                                           rel=1e-5)
        assert scaled["metrics"][f"val/{name}"] == pytest.approx(scaled["regression"][name],
                                                                 rel=1e-5)
    assert scaled["metrics"]["val/loss"] == plain["metrics"]["val/loss"]  # as trained
    for before, after in zip(read_csv(tmp_path / "plain.csv"), read_csv(tmp_path / "scaled.csv")):
        for key in ("target_0", "prediction_1"):
            assert float(after[key]) == pytest.approx(float(before[key]) * 10 + 5, rel=1e-5)


def test_train_split_scores_every_row_in_order(run_of):
    run = run_of(SPIRALS.replace("batch_size: 16", "batch_size: 16\n  drop_last: true"),
                 "spirals")
    result = evaluate(run, split="train")
    assert result["samples"] == 90 and numpy.array(result["confusion_matrix"]).sum() == 90


def test_prediction_files_need_a_known_extension(tmp_path):
    with pytest.raises(ConfigError, match=r"out\.txt: predictions are written as CSV, NPZ or "
                                          r"JSONL.*\.csv, \.npz, \.jsonl"):
        evaluate(tmp_path / "missing", predictions=tmp_path / "out.txt")


def test_cli_prints_the_report_in_80_columns(run_of, cli, tmp_path):
    long_names = SPIRALS.replace("metrics: [accuracy]", "metrics: [accuracy, f1]")
    run = run_of(long_names, "spirals")
    code, out, err = cli("eval", run, "--predictions", tmp_path / "p.csv")
    assert code == 0, err
    assert "per-class report" in out and "weighted avg" in out and "macro avg" in out
    assert all(len(line) <= 80 for line in out.splitlines()[:-1])
    assert out.splitlines()[-1].startswith("wrote ") and out.rstrip().endswith("p.csv")
    code, out, _ = cli("eval", run, "--json")
    assert code == 0 and json.loads(out)["report"]["macro_avg"]["support"] == 30
    code, _, err = cli("eval", run, "--predictions", tmp_path / "p.xlsx")
    assert code == 2 and "p.xlsx: predictions are written as CSV" in err


def test_report_table_fits_long_class_names():
    import io

    from rich.console import Console

    from trainctl.commands.evaluate import report_table

    names = ["a very long class name that goes on and on", "short"]
    report = classification_report(numpy.array([0, 1, 1]), numpy.array([0, 1, 0]), names)
    buffer = io.StringIO()
    Console(file=buffer, width=80).print(report_table(report))
    lines = buffer.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "a very long class name" in buffer.getvalue() and "0.6667" in buffer.getvalue()
