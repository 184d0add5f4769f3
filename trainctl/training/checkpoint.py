"""Checkpoints: one ``.safetensors`` file with everything needed to resume or evaluate.

Layout (all in one file, written atomically):

- tensors ``model.<state_dict key>``: the weights, under PyTorch's keys, so
  ``safetensors.torch.load_file(path)`` gives a PyTorch user the model (prefix ``model.``);
- tensors ``optimizer.state.<i>.<name>``: the optimizer's per-parameter state;
- JSON metadata: the resolved config, format and trainctl versions, epoch and step, scheduler
  state, optimizer hyperparameters, RNG and data-loader state, best metric, class names.

Loading checks the header, then the tensors' dtypes and shapes against the model; a truncated,
corrupted or foreign file is a ``CheckpointError``. Nothing is ever unpickled.
"""

from __future__ import annotations

from pathlib import Path

from ..autograd import serialization
from ..core.errors import CheckpointError

CHECKPOINT_VERSION = 1


def save_checkpoint(path, state: dict) -> Path:
    """Atomically write ``state`` (model, optimizer, scheduler, trainer, config...) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    trainer = state.get("trainer", {})
    metadata = {
        "checkpoint_version": str(CHECKPOINT_VERSION),
        "epoch": str(trainer.get("epoch", "")),
        "step": str(trainer.get("global_step", "")),
    }
    serialization.atomic_write(path, serialization.to_bytes(state, metadata))
    return path


def load_checkpoint(path) -> dict:
    """The state dict saved by :func:`save_checkpoint` (tensors on the CPU)."""
    path = Path(path)
    state = serialization.load(path)
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise CheckpointError(
            f"{path}: not a trainctl checkpoint (no model weights and config inside); a plain "
            "weights file can be loaded with tc.load()"
        )
    _, metadata = serialization.read_file(path)
    version = int(metadata.get("checkpoint_version", "0") or 0)
    if version > CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format {version} is newer than this trainctl understands "
            f"({CHECKPOINT_VERSION}); upgrade trainctl"
        )
    return state


def load_model_weights(model, weights: dict, path) -> None:
    """Load weights into ``model``; any mismatch is one CheckpointError line naming ``path``.

    Keys and shapes are checked by ``Module.load_state_dict`` (which changes nothing when they do
    not fit); a checkpoint also has to match the model's dtypes, since resuming a float32 run
    from float64 weights would silently change its numbers.
    """
    own = model.state_dict()
    for key, value in own.items():
        got = weights.get(key)
        if got is not None and getattr(got, "dtype", value.dtype) != value.dtype:
            raise CheckpointError(f"{path}: weight {key!r} has dtype {got.dtype} in the "
                                  f"checkpoint but {value.dtype} in the model")
    try:
        model.load_state_dict(weights)
    except CheckpointError as e:
        detail = "; ".join(line.strip() for line in str(e).splitlines()[1:]) or str(e)
        raise CheckpointError(f"{path}: the weights do not fit the model: {detail}") from None


def find_checkpoint(target) -> Path:
    """A checkpoint file from a file path or a run directory (its best, else its last)."""
    target = Path(target)
    if target.is_file():
        return target
    if target.is_dir():
        for candidate in (target / "checkpoints" / "best.safetensors",
                          target / "checkpoints" / "last.safetensors",
                          target / "best.safetensors", target / "last.safetensors"):
            if candidate.is_file():
                return candidate
        raise CheckpointError(f"{target}: no checkpoints/best.safetensors or "
                              "checkpoints/last.safetensors in this run directory")
    raise CheckpointError(f"{target}: no such checkpoint file or run directory")
