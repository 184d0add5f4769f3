"""Hostile config files and --set values: each ends in a Config or one ConfigError line naming
the file (and line), quickly; non-finite hyperparameters are refused by the checks."""

import time

import pytest

from tests.config.test_loader import MINIMAL
from trainctl.config import load_config
from trainctl.config.build import build_loss, build_model, build_optimizer, build_scheduler
from trainctl.config.loader import MAX_BYTES, MAX_DEPTH, MAX_VALUES, load_with_bases, parse_override
from trainctl.core.errors import ConfigError


def write(tmp_path, text, name="a.yaml"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def refused(path, overrides=(), match=None) -> str:
    """The one-line message of the ConfigError that loading ``path`` raises (within 3 s)."""
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=match) as info:
        load_config(path, overrides)
    assert time.perf_counter() - start < 3
    message = str(info.value)
    assert "\n" not in message
    return message


def alias_bomb(levels=9, width=10) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly(tmp_path):
    text = alias_bomb()
    assert len(text) < 600  # 10**9 values once expanded
    message = refused(write(tmp_path, text))
    assert f"a.yaml:1: more than {MAX_VALUES} values" in message


def test_alias_bomb_in_a_set_value(tmp_path):
    bomb = "{" + alias_bomb(levels=7).replace("\n", ", ") + "}"
    message = refused(write(tmp_path, MINIMAL), [f"data.extra={bomb}"])
    assert message.startswith("--set 'data.extra=") and f"more than {MAX_VALUES}" in message


def test_merge_keys_override_and_do_not_count_as_duplicates(tmp_path):
    path = write(tmp_path, MINIMAL.replace("optimizer: {type: SGD, lr: 0.1}",
                                           "sgd: &sgd {type: SGD, lr: 0.1, momentum: 0.9}\n"
                                           "optimizer: {<<: *sgd, lr: 0.5}"))
    data, sources = load_with_bases(path)
    assert data["optimizer"] == {"type": "SGD", "lr": 0.5, "momentum": 0.9}
    assert sources.where(("optimizer", "lr")) == f"{path}:6"
    assert sources.where(("optimizer", "momentum")) == f"{path}:5"
    with pytest.raises(ConfigError, match=r"a.yaml:1: duplicate key 'lr' \(first at line 1\)"):
        load_with_bases(write(tmp_path, "opt: {<<: {x: 1}, lr: 1, lr: 2}\n"))


@pytest.mark.parametrize("text", [
    "a: " + "[" * 5000 + "]" * 5000,
    "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)),
    "a: " + "{x: " * 60 + "1" + "}" * 60,
])
def test_deep_nesting_is_refused(tmp_path, text):
    message = refused(write(tmp_path, text))
    assert f"nested more than {MAX_DEPTH} levels deep" in message
    assert message.startswith(f"{tmp_path / 'a.yaml'}:")


def test_aliases_cannot_nest_past_the_depth_limit(tmp_path):
    text = "a: &a " + "[" * 40 + "1" + "]" * 40 + "\nb: " + "[" * 40 + "*a" + "]" * 40 + "\n"
    assert f"nested more than {MAX_DEPTH}" in refused(write(tmp_path, text))


def test_too_many_values(tmp_path):
    text = "a: [" + ", ".join(["1"] * (MAX_VALUES + 10)) + "]\n"
    assert f"more than {MAX_VALUES} values" in refused(write(tmp_path, text))


def test_document_size_limit(tmp_path):
    text = "name: x\n" + "# padding\n" * (MAX_BYTES // 10 + 1)
    assert "larger than 1048576 bytes" in refused(write(tmp_path, text))


@pytest.mark.parametrize("data,message", [
    (b"seed: 1\nname: \x00\x01", r"a.yaml:2: a NUL byte; this is a binary file"),
    (bytes(range(1, 256)), r"a.yaml:2: not UTF-8 text \(byte 0x80\)"),
    (b"seed: 1\n\xff\xfe", r"a.yaml:2: not UTF-8 text \(byte 0xff\)"),
    (b"seed: 1\nname: \x07bell\n", r"a.yaml:2: invalid YAML: character #x0007 is not allowed"),
    (b"seed: 1\nmodel: {type: Linear\n", r"a.yaml:3: invalid YAML: "),
    (b"- 1\n- 2\n", r"a.yaml:1: a config file must be a mapping of sections, got list"),
    (b"just text", r"a.yaml:1: a config file must be a mapping of sections, got str"),
    (b"a: 1\n---\nb: 2\n", r"a.yaml:2: invalid YAML: expected a single document in the"),
    (b"a: *nothing\n", r"a.yaml:1: invalid YAML: found undefined alias 'nothing'"),
    (b"? [1, 2]\n: x\n", r"a.yaml:1: a key must be a name, got a mapping or list; quote it"),
    (b"a:\n  on: 1\n", r"a.yaml:2: a key must be a name, got True; quote it to use it as text"),
    (b"a: {3: x}\n", r"a.yaml:1: a key must be a name, got 3;"),
    (b"a: {null: x}\n", r"a.yaml:1: a key must be a name, got None;"),
    (b"a: !!set {x}\n", r"a.yaml:1: the YAML tag 'tag:yaml.org,2002:set' is not supported"),
    (b"a: !!binary aGk=\n", r"a.yaml:1: the YAML tag 'tag:yaml.org,2002:binary'"),
    (b"a: !!int twelve\n", r"a.yaml:1: cannot read the value 'twelve'"),
    (b"seed: " + b"9" * 5000 + b"\n", r"a.yaml:1: cannot read the value '9999.*4300 digits"),
    (b"seed: 0x" + b"f" * 100 + b"\n", r"a.yaml:1: the integer '0xfff.* is too large"),
    (b"a: !!python/object/apply:os.system [ls]\n", r"a.yaml:1: invalid YAML: could not"),
])
def test_malformed_files_are_one_line_errors(tmp_path, data, message):
    refused(write(tmp_path, data), match=message)


def test_a_date_stays_text(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL + "name: 2024-13-45\n"))
    assert cfg["name"] == "2024-13-45"


def test_a_folder_a_device_and_a_missing_file(tmp_path):
    refused(tmp_path, match=r": is a folder, expected a YAML config file")
    refused("/dev/zero", match=r"/dev/zero: not a regular file")
    refused(tmp_path / "nope.yaml", match=r"nope.yaml: config file not found")


def test_a_base_that_is_binary_or_a_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path, b"\x00\x01", "bin.yaml")
    refused(write(tmp_path, MINIMAL + "base: bin.yaml\n"), match=r"bin.yaml:1: a NUL byte")
    refused(write(tmp_path, MINIMAL + "base: sub\n"), match=r"sub: is a folder")


def test_a_long_chain_of_bases_is_refused(tmp_path):
    for i in range(30):
        write(tmp_path, f"base: c{i + 1}.yaml\n" if i < 29 else MINIMAL, f"c{i}.yaml")
    refused(tmp_path / "c0.yaml", match="more than 20 base files in one chain")


@pytest.mark.parametrize("override,message", [
    ("seed=\x00", r"--set 'seed=\\x00':1: invalid YAML: character #x0000 is not allowed"),
    ("a." * 60 + "b=1", "the key has more than 50 parts"),
    ("data.x=" + "[" * 60 + "]" * 60, "nested more than 50 levels deep"),
    ("seed=[1", r"--set 'seed=\[1':1: invalid YAML"),
])
def test_hostile_set_values(tmp_path, override, message):
    refused(write(tmp_path, MINIMAL), [override], match=message)


def test_set_keys_take_only_short_ascii_numbers_as_list_indices():
    assert parse_override("a.3.-1=1")[0] == ["a", 3, -1]
    assert parse_override("a.\u0663=1")[0] == ["a", "\u0663"]  # an Arabic-Indic digit
    assert parse_override("a." + "9" * 5000 + "=1")[0] == ["a", "9" * 5000]


# ---------------------------------------------------------------------------- non-finite numbers


SGD = "optimizer: {type: SGD, lr: 0.1}\n"


@pytest.mark.parametrize("text,key,bad", [
    (SGD + "train: {grad_clip: {max_norm: .nan}}", "train.grad_clip.max_norm", "nan"),
    (SGD + "train: {grad_clip: {value: .inf}}", "train.grad_clip.value", "inf"),
    (SGD + "train: {early_stopping: {min_delta: .nan}}", "train.early_stopping.min_delta", "nan"),
    (SGD + "data: {train: x, val_split: .nan}", "data.val_split", "nan"),
    ("optimizer: {type: SGD, lr: 0.1, param_groups: [{params: '*', lr: .nan}]}",
     "optimizer.param_groups.0.lr", "nan"),
    ("optimizer: {type: SGD, lr: 0.1, param_groups: [{params: '*', betas: [0.9, -.inf]}]}",
     "optimizer.param_groups.0.betas.1", "-inf"),
])
def test_schema_refuses_non_finite_numbers(tmp_path, text, key, bad):
    base = MINIMAL.replace(SGD, "")
    if text.count("data:"):
        base = base.replace("data:\n  train: {type: SyntheticRegression, n_samples: 8}\n", "")
    path = write(tmp_path, base + text + "\n")
    line = (base + text).splitlines().index(text.splitlines()[-1]) + 1
    assert refused(path) == f"{path}:{line}: {key}: must be a finite number, got {bad}"


def test_an_infinity_norm_is_allowed(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL + "train: {grad_clip: {max_norm: 1, "
                                                "norm_type: .inf}}\n"))
    assert cfg["train"]["grad_clip"]["norm_type"] == float("inf")
    refused(write(tmp_path, MINIMAL + "train: {grad_clip: {max_norm: 1, norm_type: .nan}}\n"),
            match="norm_type: must be a finite number, got nan")


@pytest.mark.parametrize("optimizer,key,bad", [
    ("{type: SGD, lr: .nan}", "optimizer.lr", "nan"),
    ("{type: SGD, lr: 0.1, momentum: .inf}", "optimizer.momentum", "inf"),
    ("{type: Adam, lr: 0.1, betas: [0.9, .nan]}", "optimizer.betas.1", "nan"),
    ("{type: SGD, lr: 1e999}", "optimizer.lr", "inf"),
])
def test_builder_refuses_non_finite_arguments(tmp_path, optimizer, key, bad):
    path = write(tmp_path, MINIMAL.replace("{type: SGD, lr: 0.1}", optimizer))
    cfg = load_config(path)
    model = build_model(cfg)
    with pytest.raises(ConfigError) as info:
        build_optimizer(cfg, model.named_parameters())
    assert str(info.value) == f"{path}:5: {key}: must be a finite number, got {bad}"


def test_builder_refuses_non_finite_set_values_and_nested_arguments(tmp_path):
    path = write(tmp_path, MINIMAL)
    cfg = load_config(path, ["loss={type: HuberLoss, delta: .nan}"])
    with pytest.raises(ConfigError, match=r"loss.delta: must be a finite number, got nan"):
        build_loss(cfg)
    cfg = load_config(path, ["scheduler={type: MultiStepLR, milestones: [2, .inf]}"])
    model = build_model(cfg)
    optimizer = build_optimizer(cfg, model.named_parameters())
    with pytest.raises(ConfigError, match=r"scheduler.milestones.1: must be a finite number"):
        build_scheduler(cfg, optimizer, 1)
