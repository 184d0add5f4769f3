"""Tabular runs end to end: statistics from the training part only, stratified splits, class
weights and samplers from the config, and checkpoints that need no training data afterwards."""

import csv
import shutil

import numpy
import pytest

from tests.runs import ROOT
from trainctl.config import load_config
from trainctl.training import evaluate, train
from trainctl.training.checkpoint import load_checkpoint
from trainctl.training.setup import build_run


def write_imbalanced(path, n=200, seed=0):
    """Two features, class 'rare' in 10% of the rows (shifted), 'common' in the rest."""
    rng = numpy.random.default_rng(seed)
    rare = numpy.arange(n) % 10 == 0
    x = rng.normal(size=(n, 2)) + numpy.where(rare[:, None], 3.0, 0.0)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "label"])
        for row, r in zip(x, rare):
            w.writerow([f"{row[0]:.5f}", f"{row[1]:.5f}", "rare" if r else "common"])
    return x, rare


CONFIG = """\
name: imbalanced
data:
  train: {type: CSVDataset, path: t.csv, target: label, standardize: true}
  val_split: 0.25
  batch_size: 25
model: {type: Linear, in_features: 2, out_features: 2}
loss: {type: CrossEntropyLoss, weight: balanced}
optimizer: {type: SGD, lr: 0.5}
train: {epochs: 3, metrics: [accuracy, balanced_accuracy]}
"""


@pytest.fixture
def config(tmp_path):
    x, rare = write_imbalanced(tmp_path / "t.csv")
    (tmp_path / "cfg.yaml").write_text(CONFIG)
    return tmp_path / "cfg.yaml", x, rare


def test_split_is_stratified_and_statistics_come_from_the_training_part(config):
    path, x, rare = config
    parts = build_run(load_config(path))
    train, val = parts.train_loader.dataset, parts.val_loader.dataset
    assert len(train) == 150 and len(val) == 50
    assert int(rare[numpy.asarray(val.indices)].sum()) == 5  # 10% of the held-out part
    stats = train.dataset.stats
    rows = numpy.asarray(x[numpy.asarray(train.indices)], dtype=numpy.float32)
    assert stats["mean"] == pytest.approx(rows.mean(axis=0).tolist(), abs=1e-4)
    assert stats["mean"] != pytest.approx(x.mean(axis=0).tolist(), abs=1e-4)


def test_balanced_class_weights_and_sampler(config, tmp_path):
    path, _, rare = config
    parts = build_run(load_config(path))
    labels = numpy.array([int(parts.train_loader.dataset[i][1]) for i in range(150)])
    counts = numpy.bincount(labels, minlength=2)
    expected = [150 / (2 * c) for c in counts]  # scikit-learn's "balanced"
    assert parts.loss_fn.weight.tolist() == pytest.approx(expected)
    cfg = load_config(path, ["data.sampler={type: WeightedRandomSampler, weights: balanced}"])
    parts = build_run(cfg)
    sampler = parts.train_loader.sampler
    assert type(sampler).__name__ == "WeightedRandomSampler"
    drawn = [int(parts.train_loader.dataset[i][1]) for i in sampler]
    assert len(drawn) == 150
    assert 0.3 < numpy.mean(drawn) < 0.7  # the rare class is drawn about as often as the other
    summary = train(path, run_dir=tmp_path / "run", quiet=True,
                    overrides=["data.sampler={type: WeightedRandomSampler, weights: balanced}"])
    assert summary["status"] == "completed"
    saved = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")["data"]
    assert saved["loss_weights"]["weight"] == pytest.approx(expected)


def test_eval_of_a_test_file_needs_no_training_data(tmp_path):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    shutil.copy(ROOT / "configs" / "data" / "flowers.csv", project / "data" / "train.csv")
    rows = (project / "data" / "train.csv").read_text().splitlines()
    (project / "data" / "test.csv").write_text("\n".join(rows[:1] + rows[1:41]) + "\n")
    (project / "cfg.yaml").write_text((ROOT / "configs" / "tabular_csv.yaml").read_text().replace(
        "path: data/flowers.csv", "path: data/train.csv").replace(
        "  batch_size: 32", "  test: {type: CSVDataset, path: data/test.csv, target: species, "
        "standardize: true, reference: data/train.csv}\n  batch_size: 32"))
    summary = train(project / "cfg.yaml", run_dir=tmp_path / "run", quiet=True,
                    overrides=["train.epochs=5"])
    before = evaluate(summary["run_dir"])
    (project / "data" / "train.csv").unlink()  # the training data is gone
    after = evaluate(summary["run_dir"])
    assert after["split"] == "test" and after["samples"] == 40
    assert after["metrics"] == before["metrics"]


def test_eval_data_scores_new_labelled_rows_without_the_training_data(tmp_path, cli):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    shutil.copy(ROOT / "configs" / "data" / "breast_cancer.csv", project / "data")
    shutil.copy(ROOT / "configs" / "tabular_binary.yaml", project / "cfg.yaml")
    summary = train(project / "cfg.yaml", run_dir=tmp_path / "run", quiet=True,
                    overrides=["train.epochs=3"])
    (project / "data" / "breast_cancer.csv").unlink()
    new = ROOT / "configs" / "data" / "breast_cancer_new.csv"
    result = evaluate(summary["run_dir"], data=new)
    assert result["split"] == "test" and result["samples"] == 69
    assert result["classes"] == ["benign", "malignant"] and result["task"] == "binary"
    assert 0.5 < result["metrics"]["test/accuracy"] <= 1.0
    code, out, err = cli("eval", tmp_path / "run", "--data", new, "--split", "val")
    assert code == 2 and "--data scores a file of its own" in err
