"""A language-model run with a validation file of its own: the splits share the training
vocabulary, and ``eval`` scores with the vocabulary stored in the checkpoint, not the training
file (which may have changed since)."""

import json

from tests.runs import ROOT
from trainctl.config import load_config
from trainctl.training import build_run, evaluate, train

SONNETS = (ROOT / "configs" / "data" / "sonnets.txt").read_text()

LM = """\
name: own_val_file
seed: 0
data:
  train: {type: TextFile, path: train.txt, seq_len: 16}
  val: {type: TextFile, path: val.txt, seq_len: 16}
  batch_size: 32
model:
  type: Sequential
  layers:
    - {type: Embedding, num_embeddings: 70, embedding_dim: 8}
    - {type: GRU, input_size: 8, hidden_size: 16, batch_first: true}
    - {type: RNNOutput}
    - {type: Linear, in_features: 16, out_features: 70}
    - {type: Permute, dims: [0, 2, 1]}
loss: {type: CrossEntropyLoss}
optimizer: {type: Adam, lr: 0.01}
train: {epochs: 1, metrics: [perplexity]}
"""


def write_files(tmp_path):
    cut = len(SONNETS) // 5
    (tmp_path / "train.txt").write_text(SONNETS[:cut])
    # the validation text has characters training never saw: they are <unk> (id 0) there
    (tmp_path / "val.txt").write_text(SONNETS[-2000:] + " @@ ## ~~ " + SONNETS[-500:])
    (tmp_path / "lm.yaml").write_text(LM)
    return tmp_path / "lm.yaml"


def test_a_validation_file_of_its_own_uses_the_training_vocabulary(tmp_path):
    parts = build_run(load_config(write_files(tmp_path)))
    train_set, val_set = parts.train_loader.dataset, parts.val_loader.dataset
    assert val_set.vocab.state() == train_set.vocab.state()
    assert "@" not in train_set.vocab.tokens
    at = (tmp_path / "val.txt").read_text().index("@")
    assert val_set.ids[at] == 0  # <unk>
    assert val_set.ids[0] == train_set.vocab.encode(SONNETS[-2000])[0]


def test_eval_scores_with_the_stored_vocabulary_after_the_training_file_changed(tmp_path):
    # one file, split by span; after training, its training part gains a character ("#", which
    # sorts before every letter) that a vocabulary rebuilt from the file would number, shifting
    # the ids of the unchanged validation part
    (tmp_path / "text.txt").write_text(SONNETS[:3000])
    spans = LM.replace("train.txt, seq_len: 16", "text.txt, seq_len: 16, span: [0.0, 0.8]")
    spans = spans.replace("val.txt, seq_len: 16", "text.txt, seq_len: 16, span: [0.8, 1.0]")
    (tmp_path / "lm.yaml").write_text(spans)
    train(tmp_path / "lm.yaml", run_dir=tmp_path / "run", quiet=True, echo=lambda *a, **k: None)
    before = evaluate(tmp_path / "run", split="val")["metrics"]
    logged = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert before == {"val/loss": logged["val/loss"], "val/perplexity": logged["val/perplexity"]}
    (tmp_path / "text.txt").write_text(SONNETS[:1000].replace(" ", "#") + SONNETS[1000:3000])
    after = evaluate(tmp_path / "run", split="val")["metrics"]
    assert after == before
