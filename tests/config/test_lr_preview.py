"""simulate_lr: the schedule of a run without a model or data."""


import pytest

from trainctl.config.lr_preview import simulate_lr
from trainctl.core.errors import ConfigError


def test_reports_the_rate_used_by_each_update():
    out = simulate_lr({"type": "SGD", "lr": 1.0}, {"type": "StepLR", "step_size": 2,
                                                  "gamma": 0.5}, steps=5)
    assert out == {"lr": [[1.0, 1.0, 0.5, 0.5, 0.25]], "momentum": None}


def test_param_groups_have_their_own_rates_and_hyperparameters():
    out = simulate_lr(
        {"type": "SGD", "lr": 0.1, "momentum": 0.9,
         "param_groups": [{}, {"lr": 0.01, "momentum": 0.8}]},
        {"type": "OneCycleLR", "max_lr": [1.0, 0.1], "total_steps": 10,
         "base_momentum": [0.85, 0.7], "max_momentum": [0.95, 0.8]},
        steps=10,
    )
    assert [lr[0] for lr in out["lr"]] == pytest.approx([0.04, 0.004])
    assert [m[0] for m in out["momentum"]] == [0.95, 0.8]
    assert min(out["momentum"][1]) == pytest.approx(0.7)
    assert len(out["lr"][0]) == len(out["momentum"][1]) == 10


def test_adam_beta1_is_reported_as_momentum():
    out = simulate_lr({"type": "Adam"}, {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.01,
                                         "step_size_up": 2}, steps=5)
    assert out["momentum"][0] == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9])


def test_nested_schedulers_and_name_only_optimizer():
    out = simulate_lr("AdamW", {"type": "SequentialLR", "milestones": [3], "schedulers": [
        {"type": "ChainedScheduler", "schedulers": [
            {"type": "LinearLR", "start_factor": 0.25, "total_iters": 3},
            {"type": "ConstantLR", "factor": 0.5, "total_iters": 2}]},
        {"type": "ExponentialLR", "gamma": 0.5},
    ]}, steps=6)
    assert out["lr"][0] == pytest.approx([0.000125, 0.00025, 0.00075, 0.001, 0.0005, 0.00025])


def test_a_composite_cannot_restart_at_a_milestone():
    with pytest.raises(NotImplementedError, match="ChainedScheduler cannot start at a milestone"):
        simulate_lr("SGD", {"type": "SequentialLR", "milestones": [2], "schedulers": [
            {"type": "LinearLR"},
            {"type": "ChainedScheduler", "schedulers": [{"type": "ExponentialLR", "gamma": 0.5}]},
        ]}, steps=4)


def test_plateau_metrics_as_values_or_expression():
    spec = {"type": "ReduceLROnPlateau", "patience": 1, "factor": 0.5}
    flat = simulate_lr({"type": "SGD", "lr": 1.0}, spec, 5, metrics=[1, 1, 1, 1])
    assert flat["lr"] == [[1.0, 1.0, 1.0, 0.5, 0.5]]
    assert simulate_lr({"type": "SGD", "lr": 1.0}, spec, 5, metrics="1") == flat
    improving = simulate_lr({"type": "SGD", "lr": 1.0}, spec, 5, metrics="1 / (epoch + 1)")
    assert improving["lr"] == [[1.0] * 5]


def test_no_scheduler_and_no_steps():
    assert simulate_lr({"type": "SGD", "lr": 0.3}, None, 3)["lr"] == [[0.3, 0.3, 0.3]]
    assert simulate_lr({"type": "SGD", "lr": 0.3}, {"type": "StepLR", "step_size": 1}, 0) == {
        "lr": [[]], "momentum": None}


def test_lbfgs_optimizer_can_be_simulated():
    out = simulate_lr({"type": "LBFGS", "lr": 1.0}, {"type": "ExponentialLR", "gamma": 0.5}, 3)
    assert out["lr"] == [[1.0, 0.5, 0.25]]


@pytest.mark.parametrize("args,match", [
    (({"type": "SDG"}, None, 3), "unknown optimizer 'SDG'; did you mean 'SGD'"),
    (({"type": "Optimizer"}, None, 3), "unknown optimizer 'Optimizer'"),
    (("SGD", {"type": "StepLr", "step_size": 2}, 3), "did you mean 'StepLR'"),
    (("SGD", {"type": "LRScheduler"}, 3), "unknown scheduler"),
    (("SGD", {"step_size": 2}, 3), "scheduler: expected a scheduler like {type: Name"),
    (("SGD", "StepLR", 3), "must be a dict"),
    (("SGD", {"type": "StepLR", "stepsize": 2}, 3),
     "scheduler.stepsize: unknown argument 'stepsize' for StepLR; did you mean 'step_size'"),
    (({"type": "SGD", "lr": -1}, None, 3), "optimizer.lr: SGD: lr must be >= 0"),
    (({"type": "SGD", "param_groups": [1]}, None, 3), "param_groups must be a list of dicts"),
    (("SGD", {"type": "ReduceLROnPlateau"}, 3), "needs metrics"),
    (("Adagrad", {"type": "CyclicLR", "base_lr": 0.1, "max_lr": 1.0}, 3), "'momentum' or 'betas'"),
    (("SGD", {"type": "StepLR", "step_size": 2}, -1), "non-negative integer"),
])
def test_bad_specs_are_config_errors(args, match):
    with pytest.raises(ConfigError, match=match):
        simulate_lr(*args)


def test_too_few_metrics():
    with pytest.raises(ConfigError, match="got 2 values for 5 steps"):
        simulate_lr("SGD", {"type": "ReduceLROnPlateau"}, 5, metrics=[1, 2])
