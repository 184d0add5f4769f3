"""--set overrides written as the mapping a file with ``base:`` needs to load the same config."""

import yaml

from trainctl.config import load_config
from trainctl.config.changes import override_mapping, value_at

SPIRALS = "configs/spirals_mlp.yaml"


def test_list_items_become_whole_lists_and_mappings_merge(tmp_path):
    overrides = ["model.sizes.1=32", "optimizer.lr=0.05", 'optimizer={"type": "SGD", "lr": 0.2}',
                 "optimizer.momentum=0.9", "train.epochs=3"]
    changed = override_mapping(SPIRALS, overrides)
    assert changed["model"] == {"sizes": [2, 32, 64, 3]}
    assert changed["optimizer"] == {"type": "SGD", "lr": 0.2, "momentum": 0.9}
    assert changed["train"] == {"epochs": 3}
    path = tmp_path / "applied.yaml"
    root = load_config(SPIRALS).path.resolve().parent
    path.write_text(f"base: {root / 'spirals_mlp.yaml'}\n" + yaml.safe_dump(changed))
    assert dict(load_config(path)) == dict(load_config(SPIRALS, overrides))


def test_value_at_reads_keys_and_indices():
    data = {"a": {"b": [1, {"c": 2}]}}
    assert value_at(data, ["a", "b", 1, "c"]) == 2
    assert value_at(data, ["a", "b", 5]) is None and value_at(data, ["x"]) is None
