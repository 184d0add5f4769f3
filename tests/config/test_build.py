"""The builder: components from specs, param-group rules, nesting, trust, type checks."""

import pytest

import trainctl as tc
from trainctl.config import resolve
from trainctl.config.build import build_component, build_model, build_optimizer, build_scheduler
from trainctl.config.loader import safe_load
from trainctl.core.errors import ConfigError

BASE = """
data: {train: {type: SyntheticClassification, n_samples: 20}}
model:
  type: Sequential
  layers:
    - {type: Linear, in_features: 2, out_features: 4}
    - {type: BatchNorm1d, num_features: 4}
    - ReLU
    - {type: Linear, in_features: 4, out_features: 2}
loss: CrossEntropyLoss
optimizer:
  type: SGD
  lr: 0.1
  weight_decay: 0.01
  param_groups:
    - {params: "*.bias", weight_decay: 0.0}
    - {params: ["1.*", "3.weight"], lr: 0.01}
"""


def cfg(text=BASE, **changes):
    data = safe_load(text)
    data.update(changes)
    return resolve(data)


def test_param_group_rules_first_match_wins():
    c = cfg()
    model = build_model(c)
    opt = build_optimizer(c, model)
    names = {id(p): n for n, p in model.named_parameters()}
    groups = [[names[id(p)] for p in g["params"]] for g in opt.param_groups]
    assert groups == [["0.weight"], ["0.bias", "1.bias", "3.bias"], ["1.weight", "3.weight"]]
    assert [g["weight_decay"] for g in opt.param_groups] == [0.01, 0.0, 0.01]
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.1, 0.01]


def test_a_rule_matching_nothing_is_an_error():
    text = BASE.replace('"*.bias"', '"*.gamma"')
    c = cfg(text)
    with pytest.raises(ConfigError, match=r"optimizer.param_groups.0.params: pattern '\*.gamma' "
                                          r"matches no parameter \(names: 0.weight, 0.bias"):
        build_optimizer(c, build_model(c))


def test_bare_names_and_nested_schedulers():
    c = cfg(scheduler={"type": "SequentialLR", "milestones": [2],
                       "schedulers": [{"type": "LinearLR", "start_factor": 0.5, "total_iters": 2},
                                      "ConstantLR"]})
    model = build_model(c)
    sched = build_scheduler(c, build_optimizer(c, model))
    assert type(sched).__name__ == "SequentialLR"
    assert [type(s).__name__ for s in sched._schedulers] == ["LinearLR", "ConstantLR"]
    assert isinstance(model[2], tc.nn.ReLU)


def test_lists_become_tuples_where_the_default_is_a_tuple():
    c = cfg(optimizer={"type": "Adam", "lr": 0.01, "betas": [0.8, 0.9]})
    opt = build_optimizer(c, build_model(c))
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)


def test_transform_list_becomes_compose():
    ds = build_component({"type": "SyntheticClassification", "n_samples": 4,
                          "transform": [{"type": "Flatten"}, "Flatten"]}, "dataset", cfg(),
                         ("data", "train"))
    assert type(ds.transform).__name__ == "Compose"
    assert [type(t).__name__ for t in ds.transform.transforms] == ["Flatten", "Flatten"]
    assert tuple(ds[0][0].shape) == (2,)


def test_user_code_needs_trust(tmp_path, monkeypatch):
    c = cfg(model={"type": "collections:OrderedDict"})
    with pytest.raises(ConfigError, match="model.type: 'collections:OrderedDict' imports user "
                                          "code; rebuilding it from a checkpoint needs --trust"):
        build_model(c, trust_code=False)
    with pytest.raises(ConfigError, match="cannot import 'no_such_module_xyz'"):
        build_model(cfg(model={"type": "no_such_module_xyz:Net"}))


def test_wrong_types_are_named():
    c = cfg(optimizer={"type": "SGD", "lr": 0.1, "nesterov": "yes"})
    with pytest.raises(ConfigError, match=r"optimizer.nesterov: expected true or false, got str"):
        build_optimizer(c, build_model(c))
