"""TensorBoard event files, written with tensorboardX (``pip install 'trainctl[tensorboard]'``).

Enable it in a config with ``logging: [csv, tensorboard]`` (or ``{type: tensorboard,
histogram_every: 10}``) and look at the run with ``tensorboard --logdir runs/``.
"""

from __future__ import annotations

from pathlib import Path

from ...config.registry import register
from ...core.errors import TrainctlError
from .base import Logger, flatten_config, numbers, require


@register("callback", "tensorboard")
class TensorBoardLogger(Logger):
    """Writes TensorBoard event files into ``<run_dir>/tensorboard/``.

    Scalars at the run's global step: ``train/loss_step`` and ``lr`` (``lr/i`` per param group)
    every ``train.log_every`` steps, every epoch metric (``train/loss``, ``val/accuracy``, ...)
    and ``epoch`` at each epoch's end; histograms of the weights (``weights/<name>``) every
    ``histogram_every`` epochs (0: never); the resolved config as text (``config``); at the end
    of training the hyperparameters (the flattened config) with the final metrics
    (``hparam/<metric>``), in the ``tensorboard/hparams`` run. A resumed run writes into the
    same folder, and TensorBoard drops what was logged after the checkpoint it continues from.

    Args:
        histogram_every: epochs between weight histograms; 0 turns them off.
        log_dir: where to write instead of ``<run_dir>/tensorboard`` (for a Trainer used
            without :func:`~trainctl.training.train`).

    Example:
        >>> trainer = Trainer(..., callbacks=[TensorBoardLogger(log_dir="tb")])  # doctest: +SKIP
    """

    def __init__(self, histogram_every: int = 5, log_dir: str | None = None):
        require("tensorboardX", "tensorboard", "tensorboardX", "tensorboard")
        if histogram_every < 0:
            raise ValueError(f"histogram_every must be 0 (off) or more, got {histogram_every}")
        super().__init__()
        self.histogram_every = histogram_every
        self.log_dir = log_dir
        self.writer = None

    def bind(self, *args, **kwargs) -> TensorBoardLogger:
        super().bind(*args, **kwargs)
        import tensorboardX  # noqa: F401  (imported here: not inside the run's timed part)

        return self

    def folder(self) -> Path:
        """Where the event files go."""
        if self.log_dir is not None:
            return Path(self.log_dir)
        if self.run_dir is None:
            raise TrainctlError("TensorBoardLogger needs log_dir=... when it is not part of a "
                                "run (trainctl.training.train)")
        return self.run_dir / "tensorboard"

    def on_fit_start(self, trainer):
        from tensorboardX import SummaryWriter

        step = trainer.global_step
        # purge_step starts a session at step+1: TensorBoard's reader then discards the events
        # of earlier sessions from that step on, the ones logged after the checkpoint we resume.
        # The suffix keeps a resume within the same second from reusing the earlier file's name
        # (<time>.<host>), and sorts it after that file, as the reader needs.
        self.writer = SummaryWriter(str(self.folder()), purge_step=step + 1 if step else None,
                                    flush_secs=30, filename_suffix=f".{step:012d}")
        if self.config_yaml:
            # Indented: TensorBoard renders text as Markdown, and this keeps the YAML verbatim.
            text = "\n".join("    " + line for line in self.config_yaml.splitlines())
            self.writer.add_text("config", text, step)

    def log_step(self, step, values):
        for key, value in values.items():
            self.writer.add_scalar("train/loss_step" if key == "train/loss" else key, value, step)

    def log_epoch(self, trainer, metrics):
        step = trainer.global_step
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, step)
        if self.histogram_every and trainer.epoch % self.histogram_every == 0:
            for name, param in trainer.model.named_parameters():
                if param.numel():
                    self.writer.add_histogram(f"weights/{name}",
                                              param.detach().numpy(force=True), step)

    def on_fit_end(self, trainer):
        if self.config:
            self.write_hparams(numbers(trainer.history[-1] if trainer.history else {}),
                               trainer.global_step)
        self.flush()

    def write_hparams(self, final: dict, step: int) -> None:
        """The flattened config as hyperparameters, with the final metrics, in ``hparams/``;
        a resumed run replaces what an earlier part of it wrote there."""
        folder = self.folder() / "hparams"
        for old in folder.glob("events.out.tfevents.*"):
            old.unlink()
        metrics = {f"hparam/{k}": v for k, v in final.items() if k not in ("epoch", "step")}
        self.writer.add_hparams(flatten_config(self.config), metrics, name="hparams",
                                global_step=step)

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def on_interrupt(self, trainer):
        self.flush()

    def on_exception(self, trainer, exception):
        self.flush()

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
