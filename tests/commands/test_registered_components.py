"""Components registered by user code (a scheduler, a metric class and a metric function, a
dataset, a callback) work in ``train``, ``check``, ``plot-lr`` and ``eval`` exactly as built-ins
do: every command builds through the one registry and builder."""

import json

import pytest

import trainctl as tc
from trainctl.config.registry import register
from trainctl.training import Callback, Metric
from trainctl.training.checkpoint import load_checkpoint


@register("scheduler", "TestHalvingLR")
class HalvingLR(tc.optim.lr_scheduler.LRScheduler):
    """Halves the rate every ``every`` epochs."""

    def __init__(self, optimizer, every: int = 1, last_epoch: int = -1):
        self.every = every
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * 0.5 ** (self.last_epoch // self.every) for base in self.base_lrs]


@register("metric", "test_hits")
def hits(pred, target):
    return float((pred.argmax(1) == target).float().mean())


@register("metric", "test_count")
class SampleCount(Metric):
    """Counts samples (times ``scale``); the same every epoch."""

    def __init__(self, scale: float = 1.0):
        self.scale = scale
        super().__init__()

    def reset(self):
        self.seen = 0

    def update(self, pred, target):
        self.seen += len(target)

    def compute(self):
        return self.seen * self.scale


@register("dataset", "TestBlobs")
class Blobs(tc.utils.data.Dataset):
    """Two well separated blobs in 2-D, ``n`` points."""

    classes = ["left", "right"]

    def __init__(self, n: int = 64):
        g = tc.Generator().manual_seed(1)
        self.y = tc.arange(n) % 2
        self.x = tc.randn(n, 2, generator=g) * 0.3 + (self.y.float() * 4 - 2).unsqueeze(1)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


EPOCHS_SEEN = []


@register("callback", "TestCountEpochs")
class CountEpochs(Callback):
    """Counts epochs in its own state (saved in checkpoints under its state_key)."""

    def __init__(self, tag: str = "a"):
        self.tag = tag
        self.count = 0

    @property
    def state_key(self):
        return f"TestCountEpochs[{self.tag}]"

    def state_dict(self):
        return {"count": self.count}

    def load_state_dict(self, state):
        self.count = state["count"]

    def on_epoch_end(self, trainer, metrics):
        self.count += 1
        EPOCHS_SEEN.append((self.tag, self.count))


CONFIG = """\
name: registered
data:
  train: {type: TestBlobs, n: 64}
  val_split: 0.25
  batch_size: 16
model: {type: Sequential, layers: [{type: Linear, in_features: 2, out_features: 2}]}
loss: CrossEntropyLoss
optimizer: {type: SGD, lr: 0.1}
scheduler: {type: TestHalvingLR, every: 1}
train:
  epochs: 3
  metrics: [accuracy, test_hits, {type: test_count, scale: 2.0}]
  callbacks: [{type: TestCountEpochs, tag: a}, {type: TestCountEpochs, tag: b}]
checkpoint: {monitor: val/test_hits}
"""


@pytest.fixture
def config(write_config):
    return write_config(CONFIG)


def test_check_builds_every_registered_component(config, invoke):
    code, out, err = invoke("check", config)
    assert code == 0, err
    assert "config OK" in out


def test_plot_lr_previews_a_registered_scheduler(config, invoke, tmp_path):
    code, out, err = invoke("plot-lr", config, "--out", "lr.png")
    assert code == 0, err
    assert "registered: initial 0.1, min 0.025, max 0.1, final 0.025 (3 points)" in out
    assert (tmp_path / "lr.png").stat().st_size > 0


def test_train_and_eval_use_registered_components(config, invoke, tmp_path):
    EPOCHS_SEEN.clear()
    code, out, err = invoke("train", config, "--quiet", "--run-dir", "run")
    assert code == 0, err
    assert EPOCHS_SEEN == [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3), ("b", 3)]
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    epoch = [r for r in rows if r["kind"] == "epoch"][-1]
    assert epoch["lr"] == pytest.approx(0.025)  # the LR used in epoch 3: halved twice
    assert epoch["val/test_count"] == 2.0 * 16 and epoch["train/test_count"] == 2.0 * 48
    assert 0.0 <= epoch["val/test_hits"] <= 1.0
    assert epoch["val/test_hits"] == pytest.approx(epoch["val/accuracy"])
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")
    saved = state["trainer"]["callbacks"]
    assert saved["TestCountEpochs[a]"] == {"count": 3} == saved["TestCountEpochs[b]"]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["monitor"] == "val/test_hits" and summary["best_epoch"] is not None

    code, out, err = invoke("eval", "run", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["split"] == "val" and result["samples"] == 16
    assert result["metrics"]["val/test_hits"] == pytest.approx(result["metrics"]["val/accuracy"])
    assert result["classes"] == ["left", "right"]

    code, out, err = invoke("plot-lr", "run", "--out", "recorded.png")
    assert code == 0, err
    assert "final 0.025" in out


def test_resume_restores_callback_state(config, invoke, tmp_path):
    code, _, err = invoke("train", config, "--quiet", "--run-dir", "run",
                          "--set", "train.epochs=2")
    assert code == 0, err
    EPOCHS_SEEN.clear()
    code, _, err = invoke("train", config, "--quiet", "--resume", "run")
    assert code == 0, err
    assert EPOCHS_SEEN == [("a", 3), ("b", 3)]  # counts continue from the checkpoint


def test_import_paths_need_trust_in_every_command(write_config, invoke, tmp_path, monkeypatch):
    (tmp_path / "user_sched.py").write_text(
        "from trainctl.optim.lr_scheduler import StepLR as Step\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = write_config(CONFIG.replace("{type: TestHalvingLR, every: 1}",
                                         "{type: 'user_sched:Step', step_size: 1}"))
    for command in (["check"], ["plot-lr", "--out", "x.png"], ["train", "--quiet"]):
        code, _, err = invoke(command[0], config, *command[1:])
        assert code == 2, (command, err)
        assert "scheduler.type: 'user_sched:Step' would import and run code from module " \
               "'user_sched'; pass --trust-code" in err
        code, _, err = invoke(command[0], config, *command[1:], "--trust-code")
        assert code == 0, (command, err)


def test_check_steps_the_whole_schedule(write_config, invoke):
    config = write_config(CONFIG.replace("{type: TestHalvingLR, every: 1}",
                                         "{type: LambdaLR, lr_lambda: '1 - epoch'}"))
    code, _, err = invoke("check", config)  # 3 epochs: the factor is -1 in the third
    assert code == 2
    assert "cfg.yaml:9: scheduler: expression '1 - epoch' gave -1.0 at epoch=2; it must be " \
           ">= 0.0" in err


def test_a_checkpoint_that_names_code_is_not_imported_by_eval(write_config, invoke, tmp_path):
    """A checkpoint is data someone may hand you: its config's import paths need --trust-code,
    for every component kind."""
    from trainctl.autograd.serialization import atomic_write  # noqa: F401
    from trainctl.training.checkpoint import save_checkpoint

    code, _, err = invoke("train", write_config(CONFIG), "--quiet", "--run-dir", "run")
    assert code == 0, err
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")
    for section, value in (("loss", "os:system"), ("optimizer", {"type": "os:system"}),
                           ("scheduler", {"type": "os:system"})):
        config = json.loads(json.dumps(state["config"]))
        config[section] = value
        hostile = tmp_path / f"hostile-{section}.safetensors"
        save_checkpoint(hostile, {**state, "config": config})
        code, _, err = invoke("eval", hostile)
        assert code == 2, err
        assert f"{section}.type: 'os:system' would import and run code from module 'os'; " \
               "pass --trust-code" in err
