"""``train.graph: true``: every config in configs/ trains to the same bits as eager mode.

The image configs read downloaded datasets; here they get small random arrays of the same shapes
(an NPZ file), which is all a comparison of the two modes needs. Three epochs each, with a short
last batch, so the graph also has a second signature to trace.
"""

import json
import warnings

import numpy
import pytest

from tests.runs import ROOT
from trainctl.training import Callback, train
from trainctl.training.checkpoint import load_checkpoint

CONFIGS = sorted(p.name for p in (ROOT / "configs").glob("*.yaml"))
IMAGES = {  # config -> (image shape, batch size for the test)
    "mnist_lenet.yaml": ((1, 28, 28), 32),
    "fashion_mnist_mlp.yaml": ((1, 28, 28), 32),
    "cifar10_cnn.yaml": ((3, 32, 32), 16),
}


# Models that cannot be traced by design: graph mode runs them eagerly, with one warning naming
# why, and must still give eager's numbers.
EAGER_BY_DESIGN = {
    # PackedEmbedding reads each row's length into Python to pack the sequences
    "reviews_gru.yaml": ".tolist()",
}


class GraphCounts(Callback):
    """Keeps how often the trainer's graphs traced and replayed."""

    def __init__(self):
        self.counts = {}

    def on_fit_end(self, trainer) -> None:
        for name in ("_train_step", "_eval_step"):
            step = getattr(trainer, name)
            self.counts[name] = (getattr(step, "traces", None), getattr(step, "replays", None))


def fake_images(tmp_path, shape, n=72):
    rng = numpy.random.default_rng(0)
    path = tmp_path / "images.npz"
    numpy.savez(path, x=rng.normal(size=(n, *shape)).astype(numpy.float32),
                y=rng.integers(0, 10, size=n))
    return path


def run(config, tmp_path, mode, extra=(), expect_eager=None):
    overrides = ["train.epochs=3", f"train.graph={mode}", *extra]
    if config in IMAGES:
        shape, batch = IMAGES[config]
        path = fake_images(tmp_path, shape)
        overrides += [f"data.train={{type: NPZDataset, path: {path}}}",
                      f"data.val={{type: NPZDataset, path: {path}}}",
                      f"data.batch_size={batch}", "data.eval_batch_size=40"]
    counts = GraphCounts()
    run_dir = tmp_path / f"run_{mode}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = train(ROOT / "configs" / config, overrides, run_dir=run_dir, quiet=True,
                        echo=lambda *a, **k: None, callbacks=[counts])
    eager_fallbacks = [str(w.message) for w in caught if "runs eagerly" in str(w.message)]
    if expect_eager is None or mode == "false":
        assert not eager_fallbacks, eager_fallbacks
    else:
        assert eager_fallbacks and all(expect_eager in m for m in eager_fallbacks)
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "last.safetensors")
    history = [{k: v for k, v in json.loads(line).items() if k != "time"}
               for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return summary, checkpoint, history, counts.counts


def assert_same_state(a, b, where=""):
    """Exact equality of nested checkpoint contents (tensors compared bit for bit)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same_state(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_state(x, y, f"{where}[{i}]")
    elif hasattr(a, "numpy"):
        x, y = a.detach().numpy(), b.detach().numpy()
        assert x.dtype == y.dtype and x.shape == y.shape, where
        assert numpy.array_equal(x, y, equal_nan=True), f"{where} differs"
    elif isinstance(a, float) and a != a:
        assert b != b, where
    else:
        assert a == b, where


@pytest.mark.parametrize("config", CONFIGS)
def test_every_config_trains_identically_in_graph_mode(config, tmp_path):
    why = EAGER_BY_DESIGN.get(config)
    s_eager, ck_eager, h_eager, _ = run(config, tmp_path, "false")
    s_graph, ck_graph, h_graph, counts = run(config, tmp_path, "true", expect_eager=why)
    assert s_graph["final"] == s_eager["final"]
    assert h_graph == h_eager  # every logged loss, metric and learning rate
    for part in ("model", "optimizer", "scheduler"):
        assert_same_state(ck_eager[part], ck_graph[part], part)
    assert_same_state(ck_eager["trainer"]["rng"], ck_graph["trainer"]["rng"], "rng")
    if why is None:
        traces, replays = counts["_train_step"]
        assert replays > 0 and traces <= 3  # full batches, the short last one, one retrace


@pytest.mark.parametrize("config, extra", [
    ("spirals_mlp.yaml", ["train.accumulate_grad_batches=3", "train.grad_clip={value: 0.05}"]),
    ("linreg.yaml", ["optimizer={type: LBFGS, lr: 0.01, max_iter: 4}"]),
])
def test_accumulation_clipping_and_closures_train_identically(config, extra, tmp_path):
    s_eager, ck_eager, h_eager, _ = run(config, tmp_path, "false", extra)
    s_graph, ck_graph, h_graph, counts = run(config, tmp_path, "true", extra)
    assert h_graph == h_eager
    assert_same_state(ck_eager["model"], ck_graph["model"], "model")
    assert_same_state(ck_eager["optimizer"], ck_graph["optimizer"], "optimizer")
    assert counts["_train_step"][1] > 0


def test_resume_may_switch_between_eager_and_graph_mode(tmp_path):
    base = ["train.epochs=2"]
    config = ROOT / "configs" / "spirals_mlp.yaml"
    quiet = {"quiet": True, "echo": lambda *a, **k: None}
    train(config, [*base], run_dir=tmp_path / "whole", **quiet)
    train(config, ["train.epochs=1"], run_dir=tmp_path / "split", **quiet)
    train(config, ["train.epochs=2", "train.graph=true"], run_dir=tmp_path / "split",
          resume=str(tmp_path / "split"), **quiet)
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "last.safetensors")
    split = load_checkpoint(tmp_path / "split" / "checkpoints" / "last.safetensors")
    assert_same_state(whole["model"], split["model"], "model")
    assert_same_state(whole["optimizer"], split["optimizer"], "optimizer")
