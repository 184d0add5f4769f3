"""A text classifier end to end: train on a CSV text column, then ``predict`` and ``eval --data``
read new text with the vocabulary stored in the checkpoint."""

import csv

from tests.runs import ROOT

REVIEWS = ROOT / "configs" / "data" / "reviews.csv"

CONFIG = f"""\
name: tiny_reviews
seed: 0
data:
  train:
    type: CSVDataset
    path: {REVIEWS}
    target: sentiment
    text: {{column: review, tokenizer: words, max_len: 12, max_vocab: 64}}
  val_split: 0.2
  batch_size: 64
model:
  type: Sequential
  layers:
    - {{type: PackedEmbedding, num_embeddings: 64, embedding_dim: 16}}
    - {{type: GRU, input_size: 16, hidden_size: 24, batch_first: true}}
    - {{type: LastTimeStep}}
    - {{type: Linear, in_features: 24, out_features: 2}}
loss: {{type: CrossEntropyLoss}}
optimizer: {{type: Adam, lr: 0.01}}
train: {{epochs: 3, metrics: [accuracy]}}
"""


def test_text_classifier_predicts_new_text_from_the_checkpoint(tmp_path, invoke):
    (tmp_path / "cfg.yaml").write_text(CONFIG)
    code, _, err = invoke("train", tmp_path / "cfg.yaml", "--quiet", "--run-dir", "run")
    assert code == 0, err
    new = tmp_path / "new.csv"
    rows = [("the screen is great", "pos"), ("the battery is awful", "neg"),
            ("superb sound", "pos"), ("weak strap", "neg")]
    with open(new, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "review", "sentiment"])  # other columns, another order
        writer.writerows((i, text, label) for i, (text, label) in enumerate(rows))
    code, out, err = invoke("predict", "run", new, "--proba", "--out", "answers.csv")
    assert code == 0, err
    assert "4 predictions (classification)" in out
    with open(tmp_path / "answers.csv", newline="") as f:
        answers = list(csv.DictReader(f))
    assert [a["prediction"] for a in answers] == [label for _, label in rows]
    code, out, err = invoke("eval", "run", "--data", new, "--json")
    assert code == 0, err
    assert '"accuracy": 1.0' in out
