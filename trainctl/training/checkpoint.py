"""Checkpoints: one ``.safetensors`` file with everything needed to resume or evaluate.

Layout (all in one file, written atomically):

- tensors ``model.<state_dict key>``: the weights, under PyTorch's keys, so
  ``safetensors.torch.load_file(path)`` gives a PyTorch user the model (prefix ``model.``);
- tensors ``optimizer.state.<i>.<name>``: the optimizer's per-parameter state;
- JSON metadata: the resolved config, format and trainctl versions, epoch and step, scheduler
  state, optimizer hyperparameters, RNG and data-loader state, best metric, class names.

Loading checks the header, the tensors' dtypes and the structure (:func:`validate_checkpoint`:
everything ``eval`` and a resume read is there, of the right type); :func:`check_state_fits`
checks a saved state against the run that resumes it, and :func:`load_model_weights` the weights
against the model. A truncated, corrupted, foreign or incomplete file is a ``CheckpointError``
naming the file and the part. Nothing is ever unpickled.
"""

from __future__ import annotations

from pathlib import Path

from ..autograd import serialization
from ..autograd.tensor import Tensor
from ..core.errors import CheckpointError
from ..core.random import Generator

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


def load_checkpoint(path, resume: bool = True) -> dict:
    """The state dict saved by :func:`save_checkpoint` (tensors on the CPU), checked by
    :func:`validate_checkpoint` (everything a resume needs, or with ``resume=False`` only what
    ``eval`` needs: the weights and the config)."""
    path = Path(path)
    arrays, metadata = serialization.read_file(path)
    version = metadata.get("checkpoint_version", "0") or "0"
    if not version.isdigit() or len(version) > 6:
        raise CheckpointError(f"{path}: malformed checkpoint_version {version[:20]!r} in the "
                              "metadata")
    if int(version) > CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format {version} is newer than this trainctl understands "
            f"({CHECKPOINT_VERSION}); upgrade trainctl"
        )
    state = serialization.decode(arrays, metadata, path)
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise CheckpointError(
            f"{path}: not a trainctl checkpoint (no model weights and config inside); a plain "
            "weights file can be loaded with tc.load()"
        )
    validate_checkpoint(state, path, resume)
    return state


_NUMBER = (int, float)
# What eval needs of a checkpoint, then what resuming a run needs besides (the Trainer's
# state_dict): a type, a tuple of types, or a mapping of the keys that must be present.
EVAL_PARTS = {"model": dict, "config": dict}
RESUME_PARTS = {
    "optimizer": {"state": dict, "param_groups": list},
    "scheduler": (dict, type(None)),
    "trainer": {
        "epoch": int, "global_step": int, "elapsed": _NUMBER, "history": list, "callbacks": dict,
        "sums": {"loss_sum": _NUMBER, "count": int, "metrics": dict},
        "loader": {"epoch": int, "batches_done": int},
        "rng": {"seed": int, "bit_generator": {"bit_generator": str, "has_uint32": int,
                                               "uinteger": int,
                                               "state": {"state": int, "inc": int}}},
    },
}


def validate_checkpoint(state: dict, path, resume: bool = True) -> None:
    """Raise a CheckpointError naming ``path`` and the part, unless ``state`` has everything
    that ``eval`` (and with ``resume``, resuming the run) reads from it, of the right types.

    Example:
        >>> validate_checkpoint({"model": {}, "config": []}, "x.safetensors", resume=False)
        Traceback (most recent call last):
        ...
        trainctl.core.errors.CheckpointError: x.safetensors: config is list, expected dict
    """
    _check_parts(state, EVAL_PARTS, (), path)
    for key, value in state["model"].items():
        if not isinstance(value, Tensor):
            raise CheckpointError(f"{path}: model.{key} is {type(value).__name__}, expected a "
                                  "tensor")
    data = state.get("data")
    if data is not None and not (isinstance(data, dict) and
                                 isinstance(data.get("classes"), (list, type(None)))):
        raise CheckpointError(f"{path}: data is not {{classes: [names] or null}}")
    if not resume:
        return
    _check_parts(state, RESUME_PARTS, (), path)
    for i, group in enumerate(state["optimizer"]["param_groups"]):
        params = group.get("params") if isinstance(group, dict) else None
        if not (isinstance(params, list) and all(type(p) is int for p in params)):
            raise CheckpointError(f"{path}: optimizer.param_groups.{i} is not a parameter group "
                                  "(a mapping with params: [indices])")
    for where, table in (("optimizer.state", state["optimizer"]["state"]),
                         ("trainer.callbacks", state["trainer"]["callbacks"]),
                         ("trainer.sums.metrics", state["trainer"]["sums"]["metrics"])):
        for key, value in table.items():
            if not isinstance(value, dict):
                raise CheckpointError(f"{path}: {where}.{key} is {type(value).__name__}, "
                                      "expected a mapping")
    for i, buffers in state["optimizer"]["state"].items():
        for name, value in buffers.items():
            if not isinstance(value, (Tensor, *_NUMBER, list, type(None))):
                raise CheckpointError(f"{path}: optimizer.state.{i}.{name} is "
                                      f"{type(value).__name__}, expected a tensor or a number")
    trainer = state["trainer"]
    if trainer["epoch"] < 0 or trainer["global_step"] < 0:
        raise CheckpointError(f"{path}: trainer epoch {trainer['epoch']} and step "
                              f"{trainer['global_step']} must not be negative")
    try:  # its values are NumPy's to judge: try them on a throwaway generator
        Generator().set_state(trainer["rng"])
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise CheckpointError(f"{path}: trainer.rng is not a random generator state ({e})") \
            from None


def check_state_fits(saved, live, path, where: str = "") -> None:
    """Raise a CheckpointError naming ``path`` and the entry unless ``saved`` (a checkpoint's
    state) has every entry of ``live`` (what the run being resumed would save now, e.g.
    ``trainer.state_dict()``) with a value of the same kind: mappings with their keys, lists of
    the same length, tensors of the same shape and dtype, numbers, strings, booleans. Where
    ``live`` holds None (a best value not known yet) a number or null fits; an empty live mapping
    or list takes any (the optimizer's per-parameter state before the first step, the history).

    Example:
        >>> check_state_fits({"lr": [0.1]}, {"lr": 0.1}, "x.safetensors")
        Traceback (most recent call last):
        ...
        trainctl.core.errors.CheckpointError: x.safetensors: lr is list, expected a number
    """
    def bad(expected):
        raise CheckpointError(f"{path}: {where or 'the state'} is {type(saved).__name__}, "
                              f"expected {expected}")

    if live is None:
        if saved is not None and not isinstance(saved, _NUMBER):
            bad("a number or null")
        return
    if saved is None:
        bad("a value")
    if isinstance(live, dict):
        if not isinstance(saved, dict):
            bad("a mapping")
        for key, value in live.items():
            sub = f"{where}.{key}" if where else str(key)
            if key not in saved:
                raise CheckpointError(f"{path}: the checkpoint has no {sub}, which this run needs")
            check_state_fits(saved[key], value, path, sub)
    elif isinstance(live, (list, tuple)):
        if not isinstance(saved, (list, tuple)):
            bad("a list")
        if live and len(saved) != len(live):
            raise CheckpointError(f"{path}: {where} has {len(saved)} entries, this run has "
                                  f"{len(live)}")
        for i, (item, model) in enumerate(zip(saved, live)):
            check_state_fits(item, model, path, f"{where}.{i}")
    elif isinstance(live, Tensor):
        if not isinstance(saved, Tensor):
            bad("a tensor")
        if saved.shape != live.shape or saved.dtype != live.dtype:
            raise CheckpointError(f"{path}: {where} is a {saved.dtype.name} tensor of shape "
                                  f"{tuple(saved.shape)}, this run has {live.dtype.name} "
                                  f"{tuple(live.shape)}")
    elif isinstance(live, bool):
        if not isinstance(saved, bool):
            bad("true or false")
    elif isinstance(live, _NUMBER):
        if not isinstance(saved, _NUMBER) or isinstance(saved, bool):
            bad("a number")
    elif isinstance(live, str) and not isinstance(saved, str):
        bad("a string")


def _check_parts(value, parts: dict, where: tuple, path) -> None:
    for key, kind in parts.items():
        name = ".".join((*where, key))
        if not isinstance(value, dict):
            raise CheckpointError(f"{path}: {'.'.join(where)} is {type(value).__name__}, "
                                  "expected a mapping")
        if key not in value:
            raise CheckpointError(f"{path}: the checkpoint has no {name}; it was not written "
                                  "by trainctl train or is damaged")
        got = value[key]
        if isinstance(kind, dict):
            _check_parts(got, kind, (*where, key), path)
        elif not isinstance(got, kind) or (isinstance(got, bool) and kind in (int, _NUMBER)):
            expected = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple)
                                                        else (kind,)))
            raise CheckpointError(f"{path}: {name} is {type(got).__name__}, expected {expected}")


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
    """A checkpoint file from a file path or a run directory (its best, else its last, else the
    one an interrupt left)."""
    target = Path(target)
    if target.is_file():
        return target
    if target.is_dir():
        for folder in (target / "checkpoints", target):
            for name in ("best", "last", "interrupted"):
                if (folder / f"{name}.safetensors").is_file():
                    return folder / f"{name}.safetensors"
        raise CheckpointError(f"{target}: no checkpoints/best.safetensors, last.safetensors or "
                              "interrupted.safetensors in this run directory")
    raise CheckpointError(f"{target}: no such checkpoint file or run directory")
