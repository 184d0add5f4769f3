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


def cfg(text=BASE, trust_code=False, **changes):
    data = safe_load(text)
    data.update(changes)
    return resolve(data, trust_code=trust_code)


def test_param_group_rules_first_match_wins():
    c = cfg()
    model = build_model(c)
    opt = build_optimizer(c, model.named_parameters())
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
        build_optimizer(c, build_model(c).named_parameters())


def test_bare_names_and_nested_schedulers():
    c = cfg(scheduler={"type": "SequentialLR", "milestones": [2],
                       "schedulers": [{"type": "LinearLR", "start_factor": 0.5, "total_iters": 2},
                                      "ConstantLR"]})
    model = build_model(c)
    schedule = build_scheduler(c, build_optimizer(c, model.named_parameters()), 1)
    sched = schedule.scheduler
    assert (schedule.interval, schedule.monitor) == ("epoch", None)
    assert type(sched).__name__ == "SequentialLR"
    assert [type(s).__name__ for s in sched._schedulers] == ["LinearLR", "ConstantLR"]
    assert isinstance(model[2], tc.nn.ReLU)


def test_lists_become_tuples_where_the_default_is_a_tuple():
    c = cfg(optimizer={"type": "Adam", "lr": 0.01, "betas": [0.8, 0.9]})
    opt = build_optimizer(c, build_model(c).named_parameters())
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)


def test_transform_list_becomes_compose():
    ds = build_component({"type": "SyntheticClassification", "n_samples": 4,
                          "transform": [{"type": "Flatten"}, "Flatten"]}, "dataset", cfg(),
                         ("data", "train"))
    assert type(ds.transform).__name__ == "Compose"
    assert [type(t).__name__ for t in ds.transform.transforms] == ["Flatten", "Flatten"]
    assert tuple(ds[0][0].shape) == (2,)


@pytest.mark.parametrize("section,path", [
    ("model", "model.type"), ("loss", "loss.type"), ("optimizer", "optimizer.type"),
])
def test_user_code_needs_trust_for_every_kind(section, path):
    base = cfg()
    spec = {"type": "collections:OrderedDict"}
    c = cfg(**{section: spec})
    with pytest.raises(ConfigError, match=f"{path}: 'collections:OrderedDict' would import and "
                                          "run code from module 'collections'; pass --trust-code"):
        build_component(spec, section, c, (section,),
                        inject={"params": list(build_model(base).parameters())})
    trusted = cfg(trust_code=True, **{section: spec})
    built = build_component(spec, section, trusted, (section,))
    assert type(built).__name__ == "OrderedDict"


def test_user_code_that_cannot_be_imported():
    with pytest.raises(ConfigError, match="cannot import 'no_such_module_xyz'"):
        build_model(cfg(trust_code=True, model={"type": "no_such_module_xyz:Net"}))


def test_one_cycle_gets_steps_per_epoch_and_plateau_gets_its_monitor():
    c = cfg(scheduler={"type": "OneCycleLR", "max_lr": 0.1, "epochs": 3})
    opt = build_optimizer(c, build_model(c).named_parameters())
    schedule = build_scheduler(c, opt, 7)
    assert schedule.scheduler.total_steps == 21 and schedule.monitor is None
    c = cfg(scheduler={"type": "ReduceLROnPlateau", "patience": 1})
    schedule = build_scheduler(c, build_optimizer(c, build_model(c).named_parameters()), 7,
                               default_monitor="train/loss")
    assert schedule.monitor == "train/loss"
    c = cfg(scheduler={"type": "ReduceLROnPlateau", "monitor": "val/accuracy"})
    schedule = build_scheduler(c, build_optimizer(c, build_model(c).named_parameters()), 7)
    assert schedule.monitor == "val/accuracy"


def test_wrong_types_are_named():
    c = cfg(optimizer={"type": "SGD", "lr": 0.1, "nesterov": "yes"})
    with pytest.raises(ConfigError, match=r"optimizer.nesterov: expected true or false, got str"):
        build_optimizer(c, build_model(c).named_parameters())
