"""Scheduler behaviour beyond the golden numbers: attributes, warnings, errors."""

import math
import warnings

import pytest

import trainctl as tc
from trainctl.optim import lr_scheduler as S


def sgd(lr=0.1, groups=1, **kwargs):
    return tc.optim.SGD([{"params": [tc.zeros(1, requires_grad=True)]} for _ in range(groups)],
                        lr=lr, **kwargs)


def test_constructor_sets_initial_lr_base_lrs_and_takes_the_first_step():
    opt = sgd(0.1, groups=2)
    opt.param_groups[1]["lr"] = 0.01
    sched = S.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert sched.base_lrs == [0.1, 0.01]
    assert sched.last_epoch == 0 and sched._step_count == 1
    assert sched.get_last_lr() == [0.1, 0.01]
    opt.step()
    sched.step()
    assert sched.last_epoch == 1 and sched.get_last_lr() == [0.05, 0.005]
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.005]


def test_get_last_lr_returns_a_copy():
    opt = sgd()
    sched = S.StepLR(opt, 2)
    sched.get_last_lr().append(5)
    assert sched.get_last_lr() == [0.1]


def test_stepping_the_scheduler_before_the_optimizer_warns():
    sched = S.StepLR(sgd(), 2)
    with pytest.warns(UserWarning, match="called before optimizer.step"):
        sched.step()


def test_calling_get_lr_directly_warns():
    opt = sgd()
    sched = S.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(sgd(), 2, last_epoch=5)


def test_resuming_with_last_epoch_continues_from_the_optimizers_lr():
    opt = sgd(0.5)  # as restored from a checkpoint taken at epoch 5 of a cosine from 1.0
    opt.param_groups[0]["initial_lr"] = 1.0
    sched = S.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    assert sched.get_last_lr() == [0.5] and sched.last_epoch == 5  # left as loaded (PyTorch)
    opt.step()
    sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(0.5 * (1 + math.cos(math.pi * 6 / 10)))


def test_two_schedulers_chain_on_one_optimizer():
    opt = sgd(1.0)
    a, b = S.StepLR(opt, 2, gamma=0.5), S.ExponentialLR(opt, gamma=0.9)
    lrs = []
    for _ in range(4):
        opt.step()
        a.step()
        b.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == pytest.approx([0.9, 0.9**2 * 0.5, 0.9**3 * 0.5, 0.9**4 * 0.25])


@pytest.mark.parametrize("make,error,match", [
    (lambda o: S.LambdaLR(o, [lambda e: 1.0] * 2), ValueError,
     "one per param group is needed; got 2 for 1"),
    (lambda o: S.MultiplicativeLR(o, 0.9), TypeError, "function or an expression"),
    (lambda o: S.LambdaLR(o, "epoch.real"), ValueError, "attribute access"),
    (lambda o: S.ConstantLR(o, factor=2.0), ValueError, "factor must be in \\[0, 1\\], got 2.0"),
    (lambda o: S.LinearLR(o, start_factor=0.0), ValueError, "start_factor must be in \\(0, 1\\]"),
    (lambda o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor must be < 1.0"),
    (lambda o: S.ReduceLROnPlateau(o, mode="up"), ValueError,
     "mode must be 'min' or 'max', got 'up'"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=[0, 0]), ValueError,
     "min_lr: one per param group is needed; got 2 for 1"),
    (lambda o: S.CyclicLR(o, 0.1, 1.0, mode="zigzag"), ValueError,
     "mode must be triangular, triangular2 or exp_range"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0), ValueError,
     "needs total_steps, or both epochs and steps_per_epoch"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1), ValueError,
     "pct_start"),
    (lambda o: S.OneCycleLR(o, 1.0, 10, anneal_strategy="cubic"), ValueError, "anneal_strategy"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "T_0 must be a positive int"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5), ValueError, "T_mult"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], milestones=[3]), ValueError,
     "1 schedulers need 0 milestone"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.ReduceLROnPlateau(o)], [3]), ValueError,
     "is a ReduceLROnPlateau, which cannot be composed"),
    (lambda o: S.ChainedScheduler([S.StepLR(o, 2), S.StepLR(sgd(), 2)]), ValueError,
     "drives another optimizer"),
    (lambda o: S.ChainedScheduler([]), ValueError, "needs at least one scheduler"),
    (lambda o: S.StepLR(object(), 2), TypeError, "expected a trainctl Optimizer, got object"),
])
def test_invalid_arguments_are_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make(sgd())


def test_cycle_momentum_needs_momentum_or_betas():
    opt = tc.optim.Adagrad([tc.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="'momentum' or 'betas'; Adagrad has neither"):
        S.CyclicLR(opt, 0.01, 0.1)
    with pytest.raises(ValueError, match="'momentum' or 'betas'"):
        S.OneCycleLR(opt, 0.1, total_steps=10)


def test_one_cycle_cannot_step_past_total_steps():
    opt = sgd(momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="stepped 4 times, past its total_steps=3"):
        opt.step()
        sched.step()


def test_cyclic_and_one_cycle_drive_adam_beta1():
    opt = tc.optim.Adam([tc.zeros(1, requires_grad=True)], betas=(0.9, 0.98))
    S.OneCycleLR(opt, max_lr=0.1, total_steps=10, base_momentum=0.8, max_momentum=0.95)
    assert opt.param_groups[0]["betas"] == (0.95, 0.98)
    assert "momentum" not in opt.param_groups[0]


def test_plateau_counts_bad_epochs_cooldown_and_min_lr():
    opt = sgd(1.0)
    sched = S.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1, min_lr=0.2)
    lrs = []
    for metric in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5]:
        sched.step(metric)
        lrs.append(sched.get_last_lr()[0])
    # 2 bad epochs -> halve; 1 cooldown epoch; 2 more bad -> halve; then capped at min_lr.
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]
    assert sched.best == 0.5 and sched.last_epoch == 10


def test_warm_restarts_fractional_epochs():
    opt = sgd(1.0)
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    sched.step(2.5)  # inside the second period (length 4), 0.5 into it
    assert sched.T_i == 4 and sched.T_cur == 0.5 and sched.last_epoch == 2
    assert sched.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi * 0.5 / 4)) / 2)
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        sched.step(-1)


def test_schedulers_accept_expressions_and_callables_alike():
    def run(lr_lambda):
        opt = sgd(1.0)
        sched = S.LambdaLR(opt, lr_lambda)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(20):
                opt.step()
                out.append(sched.get_last_lr()[0])
                sched.step()
        return out

    assert run("0.5 * (1 + cos(pi * epoch / 20))") == run(
        lambda epoch: 0.5 * (1 + math.cos(math.pi * epoch / 20)))


def test_cyclic_scale_fn_expression():
    def run(scale_fn):
        opt = sgd(momentum=0.9)
        sched = S.CyclicLR(opt, 0.01, 0.1, step_size_up=3, scale_fn=scale_fn)
        for _ in range(12):
            opt.step()
            sched.step()
        return sched.get_last_lr(), opt.param_groups[0]["momentum"]

    assert run("1 / (2.0 ** (x - 1))") == run(lambda x: 1 / (2.0 ** (x - 1)))
