"""Fuzzing the config loader: random bytes, mutations of a real config and random --set values
end in a Config or one ConfigError line, within a second (see tests/fuzzing.py)."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import FUZZ, survive
from trainctl.config import Config, load_config
from trainctl.config.loader import parse_yaml
from trainctl.core.errors import ConfigError

REAL = (Path(__file__).parents[2] / "configs" / "spirals_mlp.yaml").read_text()
# Characters YAML gives meaning to, so mutations reach the parser's corners, not only scalars.
YAML_CHARS = "{}[]:,-?*&!|>'\"#%@`\n \t.0123456789eE+aZ_\x00\x85\ufeff\u2028<<"


MINIMAL = """\
data: {train: {type: SyntheticRegression, n_samples: 8}}
model: {type: Linear, in_features: 2, out_features: 1}
loss: MSELoss
optimizer: {type: SGD, lr: 0.1}
train: {epochs: 2, grad_clip: {max_norm: 1}}
"""
KEYS = ["optimizer.lr", "train", "train.grad_clip.max_norm", "data", "model.layers.0", "seed",
        "scheduler", "optimizer.param_groups", "train.metrics.3", "name", "base"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def loads(path, overrides=()):
    """load_config's result, or None for a ConfigError; anything else fails the test."""
    result = survive(lambda: load_config(path, overrides), ConfigError)
    assert result is None or isinstance(result, Config)
    return result


def test_the_real_config_loads(folder):
    path = folder / "real.yaml"
    path.write_text(REAL)
    assert loads(path)["model"]["type"] == "MLP"


@FUZZ
@given(data=st.binary(max_size=2000))
def test_fuzz_random_bytes(folder, data):
    path = folder / "random.yaml"
    path.write_bytes(data)
    loads(path)


@st.composite
def mutated(draw):
    """The real config with characters flipped, inserted and deleted."""
    text = list(REAL)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(text) - 1))
        char = draw(st.sampled_from(YAML_CHARS) | st.characters())
        action = draw(st.sampled_from(["flip", "insert", "delete", "repeat"]))
        if action == "flip":
            text[at] = char
        elif action == "insert":
            text.insert(at, char)
        elif action == "delete":
            del text[at]
        else:  # a run copied elsewhere: blocks of keys, brackets
            text[at:at] = text[at:at + draw(st.integers(1, 80))]
    return "".join(text)


@FUZZ
@given(text=mutated())
def test_fuzz_mutated_real_config(folder, text):
    path = folder / "mutated.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    loads(path)


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(YAML_CHARS) | st.characters(), max_size=300))
def test_fuzz_yaml_text(text):
    survive(lambda: parse_yaml(text, "<fuzz>"), ConfigError)


@FUZZ
@given(key=st.sampled_from(KEYS) | st.from_regex(r"[a-z_.0-9-]{0,30}", fullmatch=True),
       value=st.text(alphabet=st.sampled_from(YAML_CHARS), max_size=120))
def test_fuzz_set_values(folder, key, value):
    path = folder / "minimal.yaml"
    if not path.exists():
        path.write_text(MINIMAL)
    loads(path, [f"{key}={value}"])
