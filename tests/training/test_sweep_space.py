"""The sweep's space file: domains, conditions, overrides, and errors that name the line."""

import optuna
import pytest

from trainctl.core.errors import ConfigError
from trainctl.training.sweep_space import Space, decode, encode

SPIRALS = "configs/spirals_mlp.yaml"


def write(tmp_path, text: str):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return path


def test_domains_become_optuna_distributions(tmp_path):
    space = Space.load(write(tmp_path, """\
objective: val/accuracy
optimizer.lr: {log_uniform: [1.0e-4, 1.0e-1]}
model.sizes.1: {int: [16, 256], step: 16}
optimizer.weight_decay: {uniform: [0, 0.1], step: 0.05}
model.activation: {choice: [ReLU, Tanh]}
"""))
    trial = optuna.create_study().ask()
    sampled = space.sample(trial)
    dists = trial.distributions
    assert isinstance(dists["optimizer.lr"], optuna.distributions.FloatDistribution)
    assert dists["optimizer.lr"].log and dists["optimizer.lr"].low == 1e-4
    assert dists["model.sizes.1"].step == 16 and dists["model.sizes.1"].high == 256
    assert dists["optimizer.weight_decay"].step == 0.05
    assert dists["model.activation"].choices == ("ReLU", "Tanh")
    assert sampled["model.sizes.1"] % 16 == 0 and sampled["model.activation"] in ("ReLU", "Tanh")
    assert 1e-4 <= sampled["optimizer.lr"] <= 1e-1


def test_conditions_sample_a_sub_space_only_when_they_hold(tmp_path):
    space = Space.load(write(tmp_path, """\
objective: val/loss
optimizer.type: {choice: [SGD, Adam]}
when optimizer.type == SGD:
  optimizer.momentum: {uniform: [0.0, 0.99]}
  when optimizer.momentum in [0.5]:
    optimizer.nesterov: {choice: [true, false]}
when optimizer.type != SGD:
  optimizer.amsgrad: {choice: [true, false]}
"""))
    sgd = space.sample(optuna.trial.FixedTrial({"optimizer.type": "SGD",
                                                "optimizer.momentum": 0.5,
                                                "optimizer.nesterov": True}))
    assert sgd == {"optimizer.type": "SGD", "optimizer.momentum": 0.5,
                   "optimizer.nesterov": True}
    adam = space.sample(optuna.trial.FixedTrial({"optimizer.type": "Adam",
                                                 "optimizer.amsgrad": False}))
    assert adam == {"optimizer.type": "Adam", "optimizer.amsgrad": False}
    with pytest.raises(ConfigError, match="conditional keys"):
        space.grid()


def test_list_choices_travel_through_optuna_as_text():
    assert encode([2, 64, 3]) == "[2, 64, 3]" and decode("[2, 64, 3]") == [2, 64, 3]
    assert encode("SGD") == "SGD" and decode("SGD") == "SGD" and encode(None) is None
    space = Space.from_dict({"objective": "val/loss",
                             "model.sizes": {"choice": [[2, 8, 3], [2, 16, 16, 3]]}})
    trial = optuna.trial.FixedTrial({"model.sizes": "[2, 16, 16, 3]"})
    sampled = space.sample(trial)
    assert sampled == {"model.sizes": [2, 16, 16, 3]}
    assert space.overrides(sampled) == ["model.sizes=[2, 16, 16, 3]"]


def test_grid_axes():
    space = Space.from_dict({"objective": "val/loss", "a": {"int": [1, 7], "step": 3},
                             "b": {"uniform": [0.0, 0.3], "step": 0.1},
                             "c": {"choice": ["x", [1, 2]]}})
    assert space.grid() == {"a": [1, 4, 7], "b": [0.0, 0.1, 0.2, 0.3], "c": ["x", "[1, 2]"]}
    with pytest.raises(ConfigError, match="grid sampler needs a finite domain"):
        Space.from_dict({"objective": "val/loss", "a": {"uniform": [0, 1]}}).grid()


def test_a_new_component_type_keeps_only_the_arguments_it_takes(tmp_path):
    space = Space.from_dict({"objective": "val/loss",
                             "optimizer.type": {"choice": ["SGD", "Adam"]}})
    base = {"optimizer": {"type": "Adam", "lr": 0.01, "betas": [0.9, 0.99]}}
    assert space.overrides({"optimizer.type": "SGD"}, base) == [
        'optimizer={"type": "SGD", "lr": 0.01}']
    assert space.overrides({"optimizer.type": "Adam"}, base) == [
        'optimizer={"type": "Adam", "lr": 0.01, "betas": [0.9, 0.99]}']


def test_check_loads_the_config_at_every_bound_and_choice(tmp_path):
    space = Space.load(write(tmp_path, """\
objective: val/accuracy
optimizer.lr: {log_uniform: [1.0e-4, 1.0e-1]}
optimizer.type: {choice: [SGD, Adam]}
when optimizer.type == SGD:
  optimizer.momentum: {uniform: [0.0, 0.9]}
"""))
    base = space.check(SPIRALS)
    assert base["name"] == "spirals_mlp"
    bad = Space.load(write(tmp_path, "objective: val/loss\ntrain.epochz: {int: [1, 3]}\n"))
    with pytest.raises(ConfigError, match=r"space.yaml: train.epochz = 1: .*epochz"):
        bad.check(SPIRALS)
    negative = Space.load(write(tmp_path, "objective: val/loss\ntrain.epochs: {int: [-3, 3]}\n"))
    with pytest.raises(ConfigError, match=r"train.epochs = -3"):
        negative.check(SPIRALS)


@pytest.mark.parametrize("text, message", [
    ("optimizer.lr: {uniform: [0, 1]}\n", r"space.yaml: name the metric to optimise"),
    ("objective: accuracy\noptimizer.lr: {uniform: [0, 1]}\n", r"space.yaml:1: objective"),
    ("objective: val/loss\n", "the space has no parameters"),
    ("objective: val/loss\ndirection: up\na: {uniform: [0, 1]}\n",
     r"space.yaml:2: direction: expected maximize or minimize"),
    ("objective: val/loss\na: 0.1\n", r"space.yaml:2: a: expected a domain"),
    ("objective: val/loss\na: {uniform: [0, 1], choice: [1]}\n", "exactly one of"),
    ("objective: val/loss\na: {uniform: [1, 0]}\n", r"low \(1\) must be below high \(0\)"),
    ("objective: val/loss\na: {log_uniform: [0, 1]}\n", "a log scale needs low > 0"),
    ("objective: val/loss\na: {int: [1.5, 4]}\n", "whole numbers"),
    ("objective: val/loss\na: {int: [1, 4], step: 0}\n", r"space.yaml:2: a.step: expected"),
    ("objective: val/loss\na: {uniform: [0, 1], stepp: 1}\n", r"a.stepp: unknown option"),
    ("objective: val/loss\na: {choice: []}\n", "non-empty list"),
    ("objective: val/loss\na: {choice: [1, 1]}\n", "repeat a value"),
    ("objective: val/loss\nwhen b == 1:\n  a: {uniform: [0, 1]}\n",
     r"space.yaml:2: when b == 1: b is not sampled above"),
    ("objective: val/loss\nb: {choice: [1, 2]}\nwhen b is 1:\n  a: {uniform: [0, 1]}\n",
     "expected 'when KEY == VALUE'"),
    ("objective: val/loss\nb: {choice: [1, 2]}\nwhen b in 1:\n  a: {uniform: [0, 1]}\n",
     "'in' needs a list"),
    ("objective: val/loss\nb: {choice: [1, 2]}\nwhen b == 1:\n  b: {choice: [3]}\n",
     "already in the space"),
    ("objective: val/loss\na..b: {uniform: [0, 1]}\n", "empty part in key"),
    ("objective: val/loss\npruner: 3\na: {uniform: [0, 1]}\n", "keyword arguments"),
])
def test_mistakes_name_the_line_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        Space.load(write(tmp_path, text))


def test_digest_follows_the_domains_not_the_formatting():
    a = Space.from_dict({"objective": "val/loss", "x": {"uniform": [0, 1]}})
    b = Space.from_dict({"objective": "val/loss", "x": {"uniform": [0.0, 1.0]}})
    c = Space.from_dict({"objective": "val/loss", "x": {"uniform": [0, 2]}})
    assert a.digest() == b.digest() != c.digest()
