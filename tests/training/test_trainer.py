"""The Trainer through its Python API: exact mid-epoch resume, callbacks, accumulation,
clipping, max_steps, early stopping and metrics."""

import math

import numpy
import pytest

import trainctl as tc
from tests.runs import SPIRALS
from trainctl.config import resolve
from trainctl.config.loader import safe_load
from trainctl.training.callbacks import Callback, CheckpointSaver, EarlyStopping
from trainctl.training.checkpoint import load_checkpoint, load_model_weights
from trainctl.training.metrics import MAE, R2, RMSE, Accuracy, TopKAccuracy
from trainctl.training.setup import build_run, trainer_arguments
from trainctl.training.trainer import Interrupted, Trainer


def config(**train):
    data = safe_load(SPIRALS)
    data["train"].update(train)
    return resolve(data)


class InterruptAt(Callback):
    """Asks the trainer to stop after optimizer step ``step`` (what Ctrl-C does)."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, trainer):
        if trainer.global_step == self.step:
            trainer.interrupt_requested = True


def train(cfg, callbacks=(), state=None):
    parts = build_run(cfg)
    if state is not None:
        load_model_weights(parts.model, state["model"], "ckpt")
    trainer = Trainer(**trainer_arguments(cfg, parts, callbacks))
    if state is not None:
        trainer.load_state_dict(state)
    return trainer, trainer.fit()


def weights(trainer):
    return {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}


@pytest.mark.parametrize("stop_step", [3, 6, 10, 17])  # mid-epoch and at an epoch's end
def test_interrupt_and_resume_is_bit_identical(tmp_path, stop_step):
    cfg = config()
    full, _ = train(cfg)

    saver = CheckpointSaver(tmp_path, "val/loss", "min", extra={"config": dict(cfg)})
    with pytest.raises(Interrupted):
        train(cfg, [saver, InterruptAt(stop_step)])
    state = load_checkpoint(tmp_path / "checkpoints" / "last.safetensors")
    assert state["trainer"]["global_step"] == stop_step
    resumed, _ = train(cfg, state=state)

    assert resumed.global_step == full.global_step == 24
    assert resumed.history == full.history
    for key, value in weights(full).items():
        assert numpy.array_equal(value, weights(resumed)[key]), key


def test_gradient_accumulation_equals_a_bigger_batch():
    # Mean losses over 2 batches of 8 accumulated (each scaled by 1/2) == one batch of 16.
    big = config(epochs=1)
    big["data"]["batch_size"] = 16
    big["data"]["shuffle"] = False
    small = config(epochs=1, accumulate_grad_batches=2)
    small["data"].update(batch_size=8, shuffle=False)
    for c in (big, small):
        c["model"]["layers"][2]["p"] = 0.0  # no dropout: the two must match exactly
        c["data"]["train"]["n_samples"] = 128  # 96 training samples: full batches only
    a, _ = train(big)
    b, _ = train(small)
    assert a.global_step == b.global_step == 6
    for key, value in weights(a).items():
        numpy.testing.assert_allclose(weights(b)[key], value, rtol=1e-5, atol=1e-6)


def test_gradient_clipping_by_norm_bounds_every_step():
    cfg = config(epochs=1, grad_clip={"max_norm": 1e-3, "norm_type": 2.0, "value": None})
    norms = []

    class Record(Callback):
        def on_batch_end(self, trainer, loss, n):
            grads = [p.grad.numpy() for p in trainer.model.parameters()]
            norms.append(math.sqrt(sum(float((g.astype("float64") ** 2).sum()) for g in grads)))

    parts = build_run(cfg)
    trainer = Trainer(**trainer_arguments(cfg, parts, [Record()]))
    original = parts.optimizer.step

    def checked_step(*args, **kwargs):
        total = math.sqrt(sum(float((p.grad.numpy().astype("float64") ** 2).sum())
                              for p in parts.model.parameters()))
        assert total <= 1e-3 * (1 + 1e-5)
        return original(*args, **kwargs)

    parts.optimizer.step = checked_step
    trainer.fit()
    assert max(norms) > 1e-3  # clipping had something to do


def test_max_steps_stops_mid_epoch():
    trainer, summary = train(config(max_steps=8))
    assert trainer.global_step == 8 and trainer.epoch == 2
    assert "max_steps" in summary["stop_reason"]


def test_early_stopping_stops_when_the_metric_stalls():
    cfg = config(epochs=50)
    cfg["optimizer"]["lr"] = 0.0  # nothing improves after the first evaluation
    stopper = EarlyStopping("val/loss", "min", patience=2, min_delta=0.0)
    trainer, summary = train(cfg, [stopper])
    assert trainer.epoch == 3
    assert "early stopping" in summary["stop_reason"]


def test_reduce_lr_on_plateau_follows_its_monitor():
    cfg = config(epochs=6)
    cfg["optimizer"]["lr"] = 0.0
    cfg["scheduler"] = {"type": "ReduceLROnPlateau", "patience": 0, "factor": 0.5,
                        "interval": "epoch", "monitor": "val/loss"}
    trainer, _ = train(cfg)
    assert trainer.optimizer.param_groups[0]["lr"] == 0.0
    cfg["optimizer"]["lr"] = 1e-6  # too small to move val/loss by 1e-4: it plateaus
    trainer, _ = train(cfg)
    assert trainer.optimizer.param_groups[0]["lr"] < 1e-6


def test_per_step_scheduler_interval():
    cfg = config(epochs=2)
    cfg["scheduler"] = {"type": "StepLR", "step_size": 3, "gamma": 0.5, "interval": "step"}
    trainer, _ = train(cfg)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.01 * 0.5 ** 4)


def test_no_float64_in_a_training_step():
    cfg = config(epochs=1)
    parts = build_run(cfg)
    x, y = next(iter(parts.train_loader))
    out = parts.model(x)
    loss = parts.loss_fn(out, y)
    loss.backward()
    seen = [out, loss] + [p.grad for p in parts.model.parameters()]
    assert all(t.dtype == tc.float32 for t in seen)


def test_metrics_accumulate_over_the_epoch():
    acc = Accuracy()
    acc.update(tc.tensor([[0.0, 1.0], [1.0, 0.0]]), tc.tensor([1, 1]))
    acc.update(tc.tensor([[0.0, 1.0]]), tc.tensor([1]))
    assert acc.compute() == pytest.approx(2 / 3)
    top = TopKAccuracy(k=2)
    top.update(tc.tensor([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1]]), tc.tensor([2, 2]))
    assert top.compute() == 0.5
    pred, target = tc.tensor([[1.0], [2.0], [4.0]]), tc.tensor([[1.0], [3.0], [3.0]])
    mean = 7 / 3
    r2 = 1 - 2 / sum((t - mean) ** 2 for t in (1, 3, 3))
    for cls, expected in ((MAE, 2 / 3), (RMSE, math.sqrt(2 / 3)), (R2, r2)):
        m = cls()
        m.update(pred, target)
        assert m.compute() == pytest.approx(expected)


def test_rich_progress_renders_bars_and_the_epoch_table():
    import io

    from rich.console import Console

    from trainctl.training.progress import RichProgress

    buffer = io.StringIO()
    progress = RichProgress(Console(file=buffer, force_terminal=True, width=120))
    trainer, _ = train(config(epochs=2), [progress])
    text = buffer.getvalue()
    for piece in ("training run", "epoch", "batch", "samples/s", "tr loss", "va acc", "lr",
                  "eta"):
        assert piece in text, piece
    assert progress.live is None  # stopped at the end of fit


def test_plain_progress_prints_one_line_per_epoch():
    from trainctl.training.progress import PlainProgress

    lines = []
    train(config(epochs=3), [PlainProgress("tiny", lines.append)])
    assert lines[0].startswith("training tiny: 3 epochs of 6 steps")
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == ["1/3", "2/3", "3/3"]
    assert all(" va loss " in line for line in epochs)
    assert epochs[1].endswith("lr 0.01") and epochs[2].endswith("lr 0.005")  # the LR used


# ---------------------------------------------------------------------------- LBFGS (a closure)

LBFGS_LINREG = ["optimizer={type: LBFGS}", "train.epochs=4"]


def linreg(*overrides):
    from tests.runs import ROOT
    from trainctl.config import load_config

    return load_config(ROOT / "configs" / "linreg.yaml", [*LBFGS_LINREG, *overrides])


def test_lbfgs_trains_the_linear_regression_config(tmp_path):
    from tests.runs import ROOT
    from trainctl.training import train as train_run

    summary = train_run(ROOT / "configs" / "linreg.yaml", LBFGS_LINREG, run_dir=tmp_path / "run",
                        quiet=True, echo=lambda *a, **k: None)
    assert summary["status"] == "completed" and summary["steps"] == 4
    assert summary["final"]["train/loss"] < 1e-6  # SGD needs 500 steps to get near this
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.safetensors")
    numpy.testing.assert_allclose(state["model"]["weight"].numpy(), [[2.0, 3.0]], atol=1e-4)


def test_lbfgs_logs_the_loss_its_closure_returned_and_re_evaluates_the_batch():
    cfg = linreg("data.batch_size=2")
    parts = build_run(cfg)
    logged, returned = [], []

    class Record(Callback):
        def on_batch_end(self, trainer, loss, n):
            logged.append(loss)

    step = parts.optimizer.step

    def recording_step(closure=None):
        loss = step(closure)
        returned.append(float(loss))
        return loss

    parts.optimizer.step = recording_step
    trainer = Trainer(**trainer_arguments(cfg, parts, [Record()]))
    trainer.fit()
    assert trainer.global_step == 8 and logged == returned
    evaluations = parts.optimizer.state[parts.optimizer.param_groups[0]["params"][0]]
    assert evaluations["func_evals"] > 8  # the closure re-ran forward and backward


@pytest.mark.parametrize("stop_step", [1, 3])  # mid-epoch and at an epoch's end (2 per epoch)
def test_lbfgs_interrupt_and_resume_is_bit_identical(tmp_path, stop_step):
    cfg = linreg("data.batch_size=2")
    full, _ = train(cfg)

    saver = CheckpointSaver(tmp_path, "train/loss", "min", extra={"config": dict(cfg)})
    with pytest.raises(Interrupted):
        train(cfg, [saver, InterruptAt(stop_step)])
    state = load_checkpoint(tmp_path / "checkpoints" / "last.safetensors")
    assert state["trainer"]["global_step"] == stop_step
    resumed, _ = train(cfg, state=state)

    assert resumed.global_step == full.global_step == 8
    assert resumed.history == full.history
    for key, value in weights(full).items():
        assert numpy.array_equal(value, weights(resumed)[key]), key


def test_a_closure_optimizer_refuses_gradient_accumulation():
    model = tc.nn.Linear(2, 1)
    loader = tc.utils.data.DataLoader(tc.utils.data.TensorDataset(tc.zeros(4, 2), tc.zeros(4, 1)))
    with pytest.raises(ValueError, match="LBFGS re-evaluates the loss on one batch"):
        Trainer(model, tc.nn.MSELoss(), tc.optim.LBFGS(model.parameters()), loader,
                accumulate_grad_batches=2)
