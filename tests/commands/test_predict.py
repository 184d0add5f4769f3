"""``trainctl predict``: answers on new inputs of every kind, from the checkpoint alone."""

import csv
import json
import shutil

import numpy
import pytest

from tests.runs import ROOT

FLOWERS = ROOT / "configs" / "data" / "flowers.csv"


def rows_of(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def flowers_run(tmp_path, invoke):
    """tabular_csv trained from a copy of its folder; the training CSV is then moved away."""
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    shutil.copy(ROOT / "configs" / "tabular_csv.yaml", project / "cfg.yaml")
    shutil.copy(FLOWERS, project / "data" / "flowers.csv")
    code, _, err = invoke("train", project / "cfg.yaml", "--quiet", "--run-dir", "run",
                          "--set", "train.epochs=5")
    assert code == 0, err
    shutil.move(project / "data" / "flowers.csv", tmp_path / "moved.csv")
    return tmp_path / "run"


def test_predict_on_new_rows_needs_only_the_checkpoint(flowers_run, tmp_path, invoke,
                                                       monkeypatch):
    original = rows_of(tmp_path / "moved.csv")
    columns = [c for c in original[0] if c != "species"]
    new = tmp_path / "elsewhere" / "new.csv"
    new.parent.mkdir()
    with open(new, "w", newline="") as f:  # other column order, no target column
        writer = csv.DictWriter(f, fieldnames=list(reversed(columns)))
        writer.writeheader()
        writer.writerows({c: row[c] for c in columns} for row in original[:20])
    monkeypatch.chdir(new.parent)
    code, out, err = invoke("predict", flowers_run, "new.csv", "--proba")
    assert code == 0, err
    assert "20 predictions (classification) from new.csv -> new-predictions.csv" in out
    answers = rows_of(new.parent / "new-predictions.csv")
    assert [r["id"] for r in answers] == [str(i) for i in range(20)]
    classes = sorted({r["species"] for r in original})
    assert set(answers[0]) == {"id", "prediction", *(f"p_{c}" for c in classes)}
    for r in answers:
        probs = [float(r[f"p_{c}"]) for c in classes]
        assert sum(probs) == pytest.approx(1.0)
        assert r["prediction"] == classes[int(numpy.argmax(probs))]
    correct = sum(a["prediction"] == o["species"] for a, o in zip(answers, original))
    assert correct >= 14  # a 5-epoch model on separable flowers
    # the same rows with the target column present (ignored) give the same answers
    code, _, err = invoke("predict", flowers_run, tmp_path / "moved.csv", "--out", "all.jsonl")
    assert code == 0, err
    lines = [json.loads(line) for line in (new.parent / "all.jsonl").open()]
    assert [x["prediction"] for x in lines[:20]] == [a["prediction"] for a in answers]
    code, _, err = invoke("predict", flowers_run, "new.csv")  # never writes over a file
    assert code == 2 and "new-predictions.csv exists" in err


def test_predict_errors_name_what_is_missing(flowers_run, tmp_path, invoke):
    bad = tmp_path / "bad.csv"
    bad.write_text("sepal_length,color\n1.0,red\n")
    code, _, err = invoke("predict", flowers_run, bad, "--out", "x.csv")
    assert code == 2 and "bad.csv:1: no feature column named" in err
    code, _, err = invoke("predict", flowers_run, tmp_path / "nothing.csv", "--out", "x.csv")
    assert code == 2 and "no such file or folder" in err


REGRESSION = """\
name: reg
data:
  train: {type: CSVDataset, path: r.csv, target: y, task: regression, standardize: true,
          standardize_target: true}
  val_split: 0.25
  batch_size: 16
model: {type: Linear, in_features: 2, out_features: 1}
loss: MSELoss
optimizer: {type: SGD, lr: 0.1}
train: {epochs: 40, metrics: [mae, rmse]}
"""


def test_regression_predictions_come_back_in_the_targets_units(tmp_path, write_config, invoke):
    rng = numpy.random.default_rng(0)
    x = rng.normal(size=(80, 2)) * [3.0, 0.5] + [10.0, -2.0]
    y = 1000.0 + 40.0 * x[:, 0] - 300.0 * x[:, 1] + rng.normal(size=80) * 30.0
    numpy.savetxt(tmp_path / "r.csv", numpy.column_stack([x, y]), delimiter=",",
                  header="a,b,y", comments="", fmt="%.6f")
    code, _, err = invoke("train", write_config(REGRESSION), "--quiet", "--run-dir", "run")
    assert code == 0, err
    code, out, err = invoke("predict", "run", "r.csv", "--out", "p.csv")
    assert code == 0, err
    got = numpy.array([float(r["prediction"]) for r in rows_of(tmp_path / "p.csv")])
    assert numpy.abs(got - y).mean() < 60.0  # a linear fit with noise of 30, in y's units
    assert "predicted values: min" in out
    # metrics are logged in the target's units too (the loss stays on the standardised scale)
    from trainctl.training.checkpoint import load_checkpoint

    std = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")["data"][
        "preprocessing"]["target_stats"]["std"][0]
    last = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()][-1]
    assert last["train/rmse"] == pytest.approx((last["train/loss"] ** 0.5) * std, rel=0.1)
    assert last["train/rmse"] > 10.0  # not the standardised scale


IMAGES = """\
name: tiles
data:
  train: {type: NPZDataset, path: tiles.npz, x_key: images, y_key: labels,
          transform: [{type: ToTensor}]}
  batch_size: 8
model: {type: Sequential, layers: [{type: Flatten}, {type: Linear, in_features: 64,
        out_features: 2}]}
loss: CrossEntropyLoss
optimizer: {type: SGD, lr: 0.5}
train: {epochs: 30}
"""


def tiles(n=24):
    """8x8 grey images: class 0 dark on the left, class 1 dark on the right."""
    y = numpy.arange(n) % 2
    x = numpy.full((n, 8, 8), 200, numpy.uint8)
    for i, label in enumerate(y):
        if label:
            x[i, :, 4:] = 20 + i
        else:
            x[i, :, :4] = 20 + i
    return x, y


def test_npz_idx_and_image_folder_inputs_agree(tmp_path, write_config, invoke):
    pil = pytest.importorskip("PIL.Image")
    x, y = tiles()
    numpy.savez(tmp_path / "tiles.npz", images=x, labels=y)
    code, _, err = invoke("train", write_config(IMAGES), "--quiet", "--run-dir", "run")
    assert code == 0, err
    # the same images as an IDX file and as a folder of PNGs
    header = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in x.shape)
    (tmp_path / "tiles-idx3-ubyte").write_bytes(header + x.tobytes())
    (tmp_path / "pngs").mkdir()
    for i, image in enumerate(x):
        pil.fromarray(image, mode="L").save(tmp_path / "pngs" / f"{i:02d}.png")
    answers = {}
    for name, source in (("npz", "tiles.npz"), ("idx", "tiles-idx3-ubyte"), ("png", "pngs")):
        code, out, err = invoke("predict", "run", source, "--out", f"{name}.csv", "--proba")
        assert code == 0, (name, err)
        answers[name] = rows_of(tmp_path / f"{name}.csv")
    assert [r["prediction"] for r in answers["npz"]] == [str(v) for v in y]  # learned
    assert [r["prediction"] for r in answers["idx"]] == [r["prediction"] for r in answers["npz"]]
    assert [r["prediction"] for r in answers["png"]] == [r["prediction"] for r in answers["npz"]]
    assert answers["png"][3]["id"] == "03.png"
    code, _, err = invoke("predict", "run", "tiles.npz", "--out", "p.npz")
    assert code == 0, err
    with numpy.load(tmp_path / "p.npz") as saved:
        assert list(saved["prediction"]) == [str(v) for v in y]
    (tmp_path / "rows.csv").write_text("a,b\n1,2\n")
    code, _, err = invoke("predict", "run", "rows.csv", "--out", "q.csv")
    assert code == 2 and "not trained on CSV data" in err


def test_readme_tabular_walkthrough_runs_as_written(tmp_path):
    """Every `$ ` line of the README's "Tabular data, start to finish", in a HOME of its own."""
    import os
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Tabular data, start to finish")
    block = readme[readme.index("```console", start):readme.index("```\n", start + 40)]
    commands = [line[2:] for line in block.splitlines() if line.startswith("$ ")]
    assert len(commands) >= 8
    script = "set -e -o pipefail\n" + "\n".join(c.replace("/tmp", str(tmp_path / "t"))
                                                 for c in commands)
    (tmp_path / "t").mkdir()
    env = {**os.environ, "HOME": str(tmp_path / "home"), "COLUMNS": "80",
           "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "69 predictions (binary) from new_rows.csv" in done.stdout
    assert "per-class report" in done.stdout
    assert not (tmp_path / "home" / "cancer" / "data" / "breast_cancer.csv").exists()


CIFAR = """\
name: cifar_tiny
data:
  train: {type: NPZDataset, path: c.npz, x_key: images, y_key: labels,
          transform: [{type: ToTensor}]}
  batch_size: 4
model: {type: Sequential, layers: [{type: Flatten}, {type: Linear, in_features: 3072,
        out_features: 4}]}
loss: CrossEntropyLoss
optimizer: {type: SGD, lr: 0.1}
train: {epochs: 20}
"""


def test_cifar_binary_batches_are_predicted_like_the_same_images(tmp_path, write_config,
                                                                invoke):
    from trainctl.data.datasets import read_cifar_batch

    rng = numpy.random.default_rng(0)
    records = rng.integers(0, 256, size=(8, 3073), dtype=numpy.uint8)
    records[:, 0] = numpy.arange(8) % 4
    (tmp_path / "test_batch.bin").write_bytes(records.tobytes())
    images, labels = read_cifar_batch(tmp_path / "test_batch.bin")
    assert images.shape == (8, 32, 32, 3) and labels.tolist() == [0, 1, 2, 3] * 2
    numpy.savez(tmp_path / "c.npz", images=images, labels=labels)
    code, _, err = invoke("train", write_config(CIFAR), "--quiet", "--run-dir", "run")
    assert code == 0, err
    for source, out in (("c.npz", "n.csv"), ("test_batch.bin", "b.csv")):
        code, _, err = invoke("predict", "run", source, "--out", out)
        assert code == 0, err
    assert [r["prediction"] for r in rows_of(tmp_path / "b.csv")] == \
        [r["prediction"] for r in rows_of(tmp_path / "n.csv")]
