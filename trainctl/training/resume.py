"""What a resumed run may change, and making those changes take effect.

A run resumes from the config saved in its checkpoint. Changes asked for on resume (``--set``, or
a config file that differs) either take effect or are refused with the reason; none is warned
about and then ignored. They take effect when they only steer what happens next: how long to
train, how to log and checkpoint, the optimizer's hyperparameters (the learning rate included),
where the data files are, the device. Everything the saved state was made with (the model, the
loss, the data and its order, the batch size, the seed, the scheduler, the metrics) is refused:
the checkpoint's weights and schedule would not mean the same thing any more.

Example:
    >>> resume_changes({"train": {"epochs": 5}, "seed": 0}, {"train": {"epochs": 9}, "seed": 1})
    (['train.epochs'], ['seed'])
"""

from __future__ import annotations

import fnmatch

from ..config import config_changes

# Dotted-key patterns (shell wildcards) a resumed run may change.
ALLOWED = (
    "device",
    "train.epochs", "train.max_steps", "train.log_every", "train.eval_every", "train.on_nan",
    "train.grad_clip", "train.grad_clip.*", "train.early_stopping.patience",
    "train.early_stopping.min_delta", "train.graph",
    "checkpoint.last", "checkpoint.best", "checkpoint.every", "checkpoint.keep_last",
    "checkpoint.last_every_s", "checkpoint.last_every", "logging", "logging.*", "plots.*",
    "data.num_workers", "data.eval_batch_size",
    "data.*.root", "data.*.path", "data.*.download",
    "optimizer.*",
)
# ...except these, which the optimizer's saved state depends on.
REFUSED = ("optimizer.type", "optimizer.param_groups.*.params", "optimizer.param_groups")


def _matches(key: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(key, p) for p in patterns)


def resume_changes(saved: dict, requested: dict) -> tuple[list[str], list[str]]:
    """``(allowed, refused)``: the dotted keys that differ between two resolved configs."""
    allowed, refused = [], []
    for key in config_changes(saved, requested):
        ok = _matches(key, ALLOWED) and not _matches(key, REFUSED)
        (allowed if ok else refused).append(key)
    return allowed, refused


def optimizer_keys(changed: list[str]) -> set[str]:
    """The optimizer hyperparameters (``lr``, ``weight_decay``...) among changed keys."""
    keys = set()
    for key in changed:
        parts = key.split(".")
        if parts[0] == "optimizer":
            keys.add(parts[-1] if parts[1] != "param_groups" else parts[3])
    return keys


def apply_hyperparameters(optimizer, scheduler, fresh_groups: list[dict], keys: set[str]):
    """Give the resumed ``optimizer`` the new values of ``keys`` from ``fresh_groups`` (the param
    groups of an optimizer built from the new config).

    A new learning rate becomes each group's base rate; with a scheduler, the schedule goes on
    from where it was, scaled to the new base (the current rate keeps its ratio to the base).
    """
    for i, (group, fresh) in enumerate(zip(optimizer.param_groups, fresh_groups)):
        for key in keys - {"lr"}:
            if key in fresh:
                group[key] = fresh[key]
        if "lr" in keys:
            old_base = group.get("initial_lr", group["lr"])
            ratio = group["lr"] / old_base if scheduler is not None and old_base else 1.0
            group["initial_lr"] = fresh["lr"]
            group["lr"] = fresh["lr"] * ratio
            if scheduler is not None and hasattr(scheduler, "base_lrs"):
                scheduler.base_lrs[i] = fresh["lr"]
