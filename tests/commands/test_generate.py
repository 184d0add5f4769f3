"""``trainctl generate``: text from a language model's checkpoint alone."""

import pytest

from tests.runs import ROOT

SONNETS = ROOT / "configs" / "data" / "sonnets.txt"

LM = f"""\
name: tiny_lm
seed: 0
data:
  train: {{type: TextFile, path: {SONNETS}, seq_len: 16, span: [0.0, 0.2]}}
  val: {{type: TextFile, path: {SONNETS}, seq_len: 16, span: [0.9, 1.0]}}
  batch_size: 32
model:
  type: Sequential
  layers:
    - {{type: Embedding, num_embeddings: 61, embedding_dim: 16}}
    - {{type: GRU, input_size: 16, hidden_size: 32, batch_first: true}}
    - {{type: RNNOutput}}
    - {{type: Linear, in_features: 32, out_features: 61}}
    - {{type: Permute, dims: [0, 2, 1]}}
loss: {{type: CrossEntropyLoss}}
optimizer: {{type: Adam, lr: 0.01}}
train: {{epochs: 2, metrics: [perplexity, sequence_accuracy]}}
"""


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    """A two-epoch GRU language model on a fifth of the sonnets (trained once per module)."""
    from trainctl.training import train

    folder = tmp_path_factory.mktemp("lm")
    (folder / "lm.yaml").write_text(LM)
    train(folder / "lm.yaml", run_dir=folder / "run", quiet=True, echo=lambda *a, **k: None)
    return folder / "run"


def test_generate_continues_a_prompt_reproducibly(lm_run, invoke):
    code, out, err = invoke("generate", lm_run, "--prompt", "Shall I ", "--tokens", "40",
                            "--seed", "3", "--top-k", "5")
    assert code == 0, err
    text = out[:-1]  # click.echo's newline
    assert text.startswith("Shall I ") and len(text) == len("Shall I ") + 40
    allowed = set(SONNETS.read_text())
    assert set(text) <= allowed
    assert invoke("generate", lm_run, "--prompt", "Shall I ", "--tokens", "40", "--seed", "3",
                  "--top-k", "5")[1] == out
    # temperature 0 is greedy: the same text whatever the seed
    greedy = [invoke("generate", lm_run, "--tokens", "20", "--temperature", "0", "--seed", s)[1]
              for s in ("1", "2")]
    assert greedy[0] == greedy[1] and greedy[0].startswith("\n")


def test_generate_library_function_and_metrics_of_the_run(lm_run):
    from trainctl.training import generate

    result = generate(lm_run, prompt="Love", tokens=10, seed=0, top_k=1)
    assert result["text"] == "Love" + result["generated"] and len(result["tokens"]) == 10
    assert result["tokenizer"] == "char"
    header, *rows = (lm_run / "metrics.csv").read_text().splitlines()
    assert "val/perplexity" in header and "val/sequence_accuracy" in header
    last = dict(zip(header.split(","), rows[-1].split(",")))
    assert 1.0 < float(last["val/perplexity"]) < 61  # better than a uniform guess


def test_generate_refuses_what_is_not_a_language_model(tmp_path, invoke, write_config):
    code, _, err = invoke("train", write_config(), "--quiet", "--run-dir", "spirals",
                          "--set", "train.epochs=1")
    assert code == 0, err
    code, _, err = invoke("generate", tmp_path / "spirals")
    assert code == 2
    assert "not a language model: generate needs a model trained on a TextFile" in err
    (tmp_path / "junk.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    code, _, err = invoke("generate", tmp_path / "junk.safetensors")
    assert code == 2 and err.startswith("error: ")


class _Scores:
    """A stand-in model: scores that favour token ``len(ids) % C``, laid out as asked."""

    def __init__(self, classes, classes_first):
        self.classes, self.classes_first = classes, classes_first

    def __call__(self, x):
        import trainctl as tc

        t = x.shape[1]
        out = tc.zeros(1, t, self.classes)
        out[0, -1, t % self.classes] = 5.0
        return out.permute(0, 2, 1) if self.classes_first else out


@pytest.mark.parametrize("classes_first", [True, False])
@pytest.mark.parametrize("classes", [5, 4])  # 4: as many classes as context tokens
def test_last_position_scores_in_either_layout(classes_first, classes):
    from trainctl.training.generate import _last_scores

    scores = _last_scores(_Scores(classes, classes_first), [1, 2, 3, 0], classes)
    t = 3 if classes == 4 else 4  # with C == T one token less of context tells the axes apart
    assert scores.argmax() == t % classes and scores.shape == (classes,)


def test_generation_options_are_checked(lm_run):
    import trainctl as tc
    from trainctl.training import generate

    with pytest.raises(tc.TrainctlError, match="temperature must be >= 0"):
        generate(lm_run, temperature=float("nan"))
    with pytest.raises(tc.TrainctlError, match="top_k must be a positive integer"):
        generate(lm_run, top_k=0)
    assert generate(lm_run, tokens=0)["generated"] == ""
