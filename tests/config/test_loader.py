"""Loading YAML with line numbers, base inheritance and --set overrides."""

import textwrap

import pytest

from trainctl.config import load_config
from trainctl.config.loader import Sources, apply_override, load_with_bases, merge, parse_override
from trainctl.core.errors import ConfigError

MINIMAL = """\
data:
  train: {type: SyntheticRegression, n_samples: 8}
model: {type: Linear, in_features: 2, out_features: 1}
loss: {type: MSELoss}
optimizer: {type: SGD, lr: 0.1}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_locations_name_file_and_line(tmp_path):
    path = write(tmp_path, "a.yaml", MINIMAL)
    data, sources = load_with_bases(path)
    assert data["optimizer"]["lr"] == 0.1
    assert sources.where(("optimizer", "lr")) == f"{path}:5"
    assert sources.where(("model", "in_features")) == f"{path}:3"
    # A path without its own entry falls back to its nearest located parent.
    assert sources.where(("optimizer", "lr", "nothing")) == f"{path}:5"


def test_list_items_have_lines(tmp_path):
    path = write(tmp_path, "a.yaml", """\
        model:
          type: Sequential
          layers:
            - {type: Flatten}
            - {type: Linear, in_features: 4, out_features: 2}
        """)
    _, sources = load_with_bases(path)
    assert sources.where(("model", "layers", 1, "in_features")) == f"{path}:5"


def test_duplicate_key_is_an_error(tmp_path):
    path = write(tmp_path, "a.yaml", "seed: 1\nseed: 2\n")
    with pytest.raises(ConfigError, match=r"a.yaml:2: duplicate key 'seed' \(first at line 1\)"):
        load_with_bases(path)


def test_invalid_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "a.yaml", "seed: 1\nmodel: {type: Linear\n")
    with pytest.raises(ConfigError, match=r"a.yaml:\d+: invalid YAML"):
        load_with_bases(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_with_bases(tmp_path / "nope.yaml")


def test_yaml_python_tags_are_refused(tmp_path):
    path = write(tmp_path, "a.yaml", "seed: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_with_bases(path)


def test_base_chain_deep_merges(tmp_path):
    write(tmp_path, "root.yaml", MINIMAL + "train: {epochs: 3, log_every: 7}\n")
    write(tmp_path, "mid.yaml", "base: root.yaml\noptimizer: {lr: 0.5}\n")
    (tmp_path / "sub").mkdir()
    child = write(tmp_path, "sub/child.yaml", "base: ../mid.yaml\ntrain: {epochs: 9}\n")
    data, sources = load_with_bases(child)
    assert data["optimizer"] == {"type": "SGD", "lr": 0.5}
    assert data["train"] == {"epochs": 9, "log_every": 7}
    assert sources.where(("train", "epochs")) == f"{child}:2"
    assert sources.where(("train", "log_every")).startswith(str(tmp_path / "root.yaml"))
    assert sources.where(("optimizer", "lr")) == f"{tmp_path / 'mid.yaml'}:2"


def test_changing_component_type_replaces_it(tmp_path):
    write(tmp_path, "root.yaml", MINIMAL.replace("lr: 0.1", "lr: 0.1, momentum: 0.9"))
    child = write(tmp_path, "child.yaml", "base: root.yaml\noptimizer: {type: Adam, lr: 0.01}\n")
    data, _ = load_with_bases(child)
    assert data["optimizer"] == {"type": "Adam", "lr": 0.01}


def test_base_cycle_is_an_error(tmp_path):
    write(tmp_path, "a.yaml", "base: b.yaml\n")
    write(tmp_path, "b.yaml", "base: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_with_bases(tmp_path / "a.yaml")


def test_missing_base_names_the_line(tmp_path):
    path = write(tmp_path, "a.yaml", "seed: 0\nbase: nothere.yaml\n")
    with pytest.raises(ConfigError, match=r"a.yaml:2: base: base file .*nothere.yaml.* not found"):
        load_with_bases(path)


def test_parse_override():
    assert parse_override("model.layers.1.out_features=256") == (
        ["model", "layers", 1, "out_features"], 256)
    assert parse_override("scheduler=null") == (["scheduler"], None)
    assert parse_override("optimizer={type: Adam, lr: 1e-3}") == (
        ["optimizer"], {"type": "Adam", "lr": 1e-3})
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_override("optimizer.lr")


def test_overrides_apply_in_order_and_keep_each_other(tmp_path):
    data = {"model": {"type": "Sequential", "layers": [{"type": "Linear", "in_features": 4,
                                                         "out_features": 8}]},
            "optimizer": {"type": "SGD", "lr": 0.1}}
    sources = Sources()
    apply_override(data, sources, "model.layers.0.out_features=16")
    apply_override(data, sources, "model.layers.0.in_features=2")
    apply_override(data, sources, "optimizer.momentum=0.9")
    assert data["model"]["layers"][0] == {"type": "Linear", "in_features": 2, "out_features": 16}
    assert data["optimizer"] == {"type": "SGD", "lr": 0.1, "momentum": 0.9}
    assert sources.where(("optimizer", "momentum")) == "--set optimizer.momentum=0.9"


def test_override_bad_index(tmp_path):
    data = {"model": {"layers": [1, 2]}}
    with pytest.raises(ConfigError, match="no list item 5"):
        apply_override(data, Sources(), "model.layers.5.x=1")


def test_merge_replaces_lists_and_scalars():
    assert merge({"a": [1, 2], "b": {"c": 1}}, {"a": [3], "b": {"d": 2}}) == {
        "a": [3], "b": {"c": 1, "d": 2}}


def test_load_config_defaults_and_name(tmp_path):
    path = write(tmp_path, "my_run.yaml", MINIMAL)
    cfg = load_config(path, overrides=["scheduler={type: StepLR, step_size: 2}"])
    assert cfg["name"] == "my_run"
    assert cfg["seed"] == 0 and cfg["device"] == "cpu"
    assert cfg["data"]["batch_size"] == 32 and cfg["data"]["eval_batch_size"] == 32
    assert cfg["train"]["epochs"] == 1 and cfg["train"]["on_nan"] == "stop"
    assert cfg["scheduler"]["interval"] == "epoch"
    assert cfg["checkpoint"]["mode"] is None and cfg["checkpoint"]["last"] is True
