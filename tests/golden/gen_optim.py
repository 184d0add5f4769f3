"""Golden fixtures for ``trainctl.optim``: optimizer trajectories and LR-scheduler sequences.

Run with PyTorch (2.13) installed: ``python tests/golden/make_golden.py optim``. Needs torch and
numpy only (not trainctl). Writes:

- ``optim_schedulers.json``: scheduler cases (optimizer spec, scheduler spec, metrics, epochs).
- ``optim_schedulers.npz``: per case ``<name>/lr`` (and ``<name>/momentum``), shape
  ``(groups, steps + 1)``: ``get_last_lr()`` after the constructor and after each step.
- ``optim_trajectories.json``: optimizer cases and the fixed problem's description.
- ``optim_trajectories.npz``: the problem's data and, per case, the flattened parameters before
  and after each of the 50 steps, shape ``(51, n)``; plus torch's state_dict key layout.

Lambdas: the scheduler specs hold expression strings (what a config holds); here each string is
mapped to the equivalent hand-written Python lambda, so the fixtures also check trainctl's
expression evaluator against plain Python.
"""

import json
import math
import pathlib
import warnings

import numpy
import torch

HERE = pathlib.Path(__file__).parent
STEPS = 300
OPT_STEPS = 50

LAMBDAS = {
    "0.95 ** epoch": lambda epoch: 0.95**epoch,
    "min(1.0, (epoch + 1) / 10)": lambda epoch: min(1.0, (epoch + 1) / 10),
    "1.0 / (1 + 0.05 * epoch)": lambda epoch: 1.0 / (1 + 0.05 * epoch),
    "0.5 * (1 + cos(pi * epoch / 300))": lambda epoch: 0.5 * (1 + math.cos(math.pi * epoch / 300)),
    "1 if epoch < 50 else (0.1 if epoch < 150 else 0.01)":
        lambda epoch: 1 if epoch < 50 else (0.1 if epoch < 150 else 0.01),
    "exp(-epoch / 100) * sqrt(epoch + 1) / 4": lambda epoch: math.exp(-epoch / 100)
    * math.sqrt(epoch + 1) / 4,
    "0.95": lambda epoch: 0.95,
    "0.99 if epoch % 10 else 0.5": lambda epoch: 0.99 if epoch % 10 else 0.5,
    "0.98": lambda epoch: 0.98,
    "1.0 if epoch < 100 else 0.97": lambda epoch: 1.0 if epoch < 100 else 0.97,
    "0.999": lambda epoch: 0.999,
    "1 / (1 + 0.1 * x)": lambda x: 1 / (1 + 0.1 * x),
}

SGD_M = {"type": "SGD", "lr": 0.1, "momentum": 0.9}
TWO = {"type": "SGD", "lr": 0.1, "param_groups": [{"lr": 0.1}, {"lr": 0.01}]}
ADAM2 = {"type": "Adam", "lr": 0.01, "param_groups": [{"lr": 0.01}, {"lr": 0.001}]}


def _case(name, scheduler, optimizer=None, **extra):
    return {"name": name, "optimizer": optimizer or {"type": "SGD", "lr": 0.1},
            "scheduler": scheduler, **extra}


def scheduler_cases(metrics_min, metrics_max):
    c = _case
    return [
        c("lambda_pow", {"type": "LambdaLR", "lr_lambda": "0.95 ** epoch"}),
        c("lambda_warmup_2g", {"type": "LambdaLR", "lr_lambda": "min(1.0, (epoch + 1) / 10)"},
          TWO),
        c("lambda_list_2g", {"type": "LambdaLR", "lr_lambda": [
            "1.0 / (1 + 0.05 * epoch)", "0.5 * (1 + cos(pi * epoch / 300))"]}, TWO),
        c("lambda_piecewise", {"type": "LambdaLR",
                               "lr_lambda": "1 if epoch < 50 else (0.1 if epoch < 150 else 0.01)"}),
        c("lambda_exp_sqrt", {"type": "LambdaLR",
                              "lr_lambda": "exp(-epoch / 100) * sqrt(epoch + 1) / 4"}),
        c("mult_const", {"type": "MultiplicativeLR", "lr_lambda": "0.95"}),
        c("mult_cond", {"type": "MultiplicativeLR", "lr_lambda": "0.99 if epoch % 10 else 0.5"}),
        c("mult_list_2g", {"type": "MultiplicativeLR",
                           "lr_lambda": ["0.98", "1.0 if epoch < 100 else 0.97"]}, TWO),
        c("step_30", {"type": "StepLR", "step_size": 30, "gamma": 0.1}),
        c("step_7_2g", {"type": "StepLR", "step_size": 7, "gamma": 0.5}, TWO),
        c("step_1", {"type": "StepLR", "step_size": 1, "gamma": 0.97}),
        c("multistep", {"type": "MultiStepLR", "milestones": [30, 80], "gamma": 0.1}),
        c("multistep_dup", {"type": "MultiStepLR", "milestones": [10, 10, 50, 200],
                            "gamma": 0.5}),
        c("multistep_2g", {"type": "MultiStepLR", "milestones": [100, 150, 250], "gamma": 0.3},
          TWO),
        c("constant_default", {"type": "ConstantLR"}),
        c("constant_half", {"type": "ConstantLR", "factor": 0.5, "total_iters": 40}),
        c("constant_2g", {"type": "ConstantLR", "factor": 0.1, "total_iters": 100}, TWO),
        c("linear_default", {"type": "LinearLR"}),
        c("linear_warmup", {"type": "LinearLR", "start_factor": 0.05, "total_iters": 40}),
        c("linear_decay", {"type": "LinearLR", "start_factor": 1.0, "end_factor": 0.1,
                           "total_iters": 200}),
        c("linear_2g", {"type": "LinearLR", "start_factor": 0.25, "end_factor": 0.75,
                        "total_iters": 300}, TWO),
        c("exp_095", {"type": "ExponentialLR", "gamma": 0.95}),
        c("exp_099_2g", {"type": "ExponentialLR", "gamma": 0.99}, TWO),
        c("exp_grow", {"type": "ExponentialLR", "gamma": 1.01}),
        c("poly_50", {"type": "PolynomialLR", "total_iters": 50, "power": 0.9}),
        c("poly_300_sq", {"type": "PolynomialLR", "total_iters": 300, "power": 2.0}),
        c("poly_2g", {"type": "PolynomialLR", "total_iters": 100, "power": 1.0}, TWO),
        c("poly_sqrt", {"type": "PolynomialLR", "total_iters": 400, "power": 0.5}),
        c("cos_300", {"type": "CosineAnnealingLR", "T_max": 300}),
        c("cos_50_periodic", {"type": "CosineAnnealingLR", "T_max": 50, "eta_min": 1e-4}),
        c("cos_2g", {"type": "CosineAnnealingLR", "T_max": 100, "eta_min": 0.001}, TWO),
        c("cos_7", {"type": "CosineAnnealingLR", "T_max": 7}),
        c("chained_const_exp", {"type": "ChainedScheduler", "schedulers": [
            {"type": "ConstantLR", "factor": 0.1, "total_iters": 10},
            {"type": "ExponentialLR", "gamma": 0.99}]}),
        c("chained_warmup_cos", {"type": "ChainedScheduler", "schedulers": [
            {"type": "LinearLR", "start_factor": 0.1, "total_iters": 20},
            {"type": "CosineAnnealingLR", "T_max": 300, "eta_min": 0.0}]}),
        c("chained_step_mult_2g", {"type": "ChainedScheduler", "schedulers": [
            {"type": "StepLR", "step_size": 50, "gamma": 0.5},
            {"type": "MultiplicativeLR", "lr_lambda": "0.999"}]}, TWO),
        c("seq_warmup_cos", {"type": "SequentialLR", "milestones": [10], "schedulers": [
            {"type": "LinearLR", "start_factor": 0.1, "total_iters": 10},
            {"type": "CosineAnnealingLR", "T_max": 290}]}),
        c("seq_const_exp", {"type": "SequentialLR", "milestones": [20], "schedulers": [
            {"type": "ConstantLR", "factor": 0.1, "total_iters": 20},
            {"type": "ExponentialLR", "gamma": 0.98}]}),
        c("seq_three_2g", {"type": "SequentialLR", "milestones": [25, 150], "schedulers": [
            {"type": "LinearLR", "start_factor": 0.01, "total_iters": 25},
            {"type": "StepLR", "step_size": 50, "gamma": 0.5},
            {"type": "PolynomialLR", "total_iters": 100, "power": 2.0}]}, TWO),
        c("seq_const_mult", {"type": "SequentialLR", "milestones": [30], "schedulers": [
            {"type": "ConstantLR", "factor": 0.5, "total_iters": 30},
            {"type": "MultiplicativeLR", "lr_lambda": "0.98"}]}),
        c("seq_warmup_restarts", {"type": "SequentialLR", "milestones": [15], "schedulers": [
            {"type": "LinearLR", "start_factor": 0.2, "total_iters": 15},
            {"type": "CosineAnnealingWarmRestarts", "T_0": 40, "T_mult": 2}]}),
        c("plateau_min_rel", {"type": "ReduceLROnPlateau", "patience": 5, "factor": 0.5},
          metrics=metrics_min),
        c("plateau_min_abs_cooldown", {"type": "ReduceLROnPlateau", "threshold": 0.01,
                                       "threshold_mode": "abs", "cooldown": 3,
                                       "min_lr": 1e-3, "patience": 3}, metrics=metrics_min),
        c("plateau_max_rel", {"type": "ReduceLROnPlateau", "mode": "max", "patience": 4,
                              "factor": 0.3}, metrics=metrics_max),
        c("plateau_max_abs_2g", {"type": "ReduceLROnPlateau", "mode": "max", "threshold": 0.005,
                                 "threshold_mode": "abs", "cooldown": 2, "patience": 2,
                                 "min_lr": [1e-3, 1e-4], "factor": 0.5}, TWO,
          metrics=metrics_max),
        c("plateau_eps", {"type": "ReduceLROnPlateau", "patience": 0, "factor": 0.9,
                          "eps": 1e-3, "threshold": 0.0}, metrics=metrics_min),
        c("cyclic_tri", {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.1,
                         "step_size_up": 20}, SGD_M),
        c("cyclic_tri2", {"type": "CyclicLR", "base_lr": 0.01, "max_lr": 0.5,
                          "step_size_up": 15, "step_size_down": 35, "mode": "triangular2"},
          SGD_M),
        c("cyclic_exp_adam", {"type": "CyclicLR", "base_lr": 1e-4, "max_lr": 1e-2,
                              "step_size_up": 25, "mode": "exp_range", "gamma": 0.995,
                              "base_momentum": 0.85, "max_momentum": 0.95},
          {"type": "Adam", "lr": 0.001}),
        c("cyclic_nomom_2g", {"type": "CyclicLR", "base_lr": [0.01, 0.001], "max_lr": [0.1, 0.05],
                              "step_size_up": 30, "cycle_momentum": False},
          {"type": "Adagrad", "lr": 0.1, "param_groups": [{"lr": 0.1}, {"lr": 0.01}]}),
        c("cyclic_scale_fn", {"type": "CyclicLR", "base_lr": 0.01, "max_lr": 0.2,
                              "step_size_up": 10, "scale_fn": "1 / (1 + 0.1 * x)",
                              "scale_mode": "iterations"}, SGD_M),
        c("onecycle_sgd", {"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 300}, SGD_M),
        c("onecycle_adam_linear_2g", {"type": "OneCycleLR", "max_lr": [0.01, 0.001],
                                      "epochs": 10, "steps_per_epoch": 30,
                                      "anneal_strategy": "linear", "pct_start": 0.25}, ADAM2),
        c("onecycle_three_phase", {"type": "OneCycleLR", "max_lr": 1.0, "total_steps": 320,
                                   "three_phase": True, "div_factor": 10.0,
                                   "final_div_factor": 100.0, "base_momentum": 0.8,
                                   "max_momentum": 0.9}, SGD_M),
        c("onecycle_nomom", {"type": "OneCycleLR", "max_lr": 0.05, "total_steps": 301,
                             "cycle_momentum": False}, {"type": "Adagrad", "lr": 0.1}),
        c("restarts_10", {"type": "CosineAnnealingWarmRestarts", "T_0": 10}),
        c("restarts_mult2", {"type": "CosineAnnealingWarmRestarts", "T_0": 7, "T_mult": 2,
                             "eta_min": 1e-3}),
        c("restarts_2g", {"type": "CosineAnnealingWarmRestarts", "T_0": 50, "eta_min": 0.01},
          TWO),
        # step(epoch) with fractional epochs: 7 batches per epoch.
        c("restarts_fractional", {"type": "CosineAnnealingWarmRestarts", "T_0": 5, "T_mult": 2,
                                  "eta_min": 1e-4}, epochs=[i / 7 for i in range(1, STEPS + 1)]),
        c("restarts_fractional_t1", {"type": "CosineAnnealingWarmRestarts", "T_0": 3},
          epochs=[i * 0.37 for i in range(1, STEPS + 1)]),
    ]


# Deprecated step(epoch): the closed forms, at out-of-order epochs.
CLOSED_FORM_EPOCHS = [1, 2, 5, 3, 10, 30, 31, 29, 80, 100, 7, 0, 150, 299, 45]
CLOSED_FORM_CASES = [
    {"name": "cf_step", "scheduler": {"type": "StepLR", "step_size": 30, "gamma": 0.1}},
    {"name": "cf_multistep", "scheduler": {"type": "MultiStepLR", "milestones": [30, 80, 80],
                                           "gamma": 0.5}},
    {"name": "cf_constant", "scheduler": {"type": "ConstantLR", "factor": 0.5,
                                          "total_iters": 30}},
    {"name": "cf_linear", "scheduler": {"type": "LinearLR", "start_factor": 0.1,
                                        "total_iters": 100}},
    {"name": "cf_exp", "scheduler": {"type": "ExponentialLR", "gamma": 0.97}},
    {"name": "cf_poly", "scheduler": {"type": "PolynomialLR", "total_iters": 120, "power": 1.5}},
    {"name": "cf_cos", "scheduler": {"type": "CosineAnnealingLR", "T_max": 100,
                                     "eta_min": 0.001}},
    {"name": "cf_lambda", "scheduler": {"type": "LambdaLR", "lr_lambda": "0.95 ** epoch"}},
]


def _fn(value):
    if isinstance(value, list):
        return [_fn(v) for v in value]
    return LAMBDAS[value] if isinstance(value, str) else value


def build_optimizer(spec):
    spec = dict(spec)
    cls = getattr(torch.optim, spec.pop("type"))
    groups = spec.pop("param_groups", None) or [{}]
    params = [dict(g, params=[torch.zeros(1, requires_grad=True)]) for g in groups]
    return cls(params, **spec)


def build_scheduler(opt, spec):
    spec = dict(spec)
    name = spec.pop("type")
    cls = getattr(torch.optim.lr_scheduler, name)
    for key in ("lr_lambda", "scale_fn"):
        if key in spec:
            spec[key] = _fn(spec[key])
    if name == "SequentialLR":
        children = [build_scheduler(opt, s) for s in spec.pop("schedulers")]
        return cls(opt, schedulers=children, **spec)
    if name == "ChainedScheduler":
        children = [build_scheduler(opt, s) for s in spec.pop("schedulers")]
        return cls(children, optimizer=opt)
    return cls(opt, **spec)


def _momentum(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def run_scheduler_case(case):
    opt = build_optimizer(case["optimizer"])
    sched = build_scheduler(opt, case["scheduler"])
    cycles = case["scheduler"].get("cycle_momentum", True) and case["scheduler"]["type"] in (
        "CyclicLR", "OneCycleLR")
    lrs, moms = [sched.get_last_lr()], [_momentum(opt)] if cycles else []
    for i in range(STEPS):
        opt.step()
        if "metrics" in case:
            sched.step(case["metrics"][i])
        elif "epochs" in case:
            sched.step(case["epochs"][i])
        else:
            sched.step()
        lrs.append(sched.get_last_lr())
        if cycles:
            moms.append(_momentum(opt))
    out = {"lr": numpy.array(lrs, dtype=numpy.float64).T}
    if cycles:
        out["momentum"] = numpy.array(moms, dtype=numpy.float64).T
    return out


def run_closed_form_case(case):
    opt = build_optimizer({"type": "SGD", "lr": 0.1})
    sched = build_scheduler(opt, case["scheduler"])
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in CLOSED_FORM_EPOCHS:
            opt.step()
            sched.step(epoch)
            lrs.append(sched.get_last_lr()[0])
    return numpy.array(lrs, dtype=numpy.float64)


def plateau_metrics(rng):
    """A loss-like (decreasing, plateauing, noisy) and an accuracy-like sequence."""
    t = numpy.arange(STEPS)
    loss = 1.0 / (1.0 + 0.03 * numpy.minimum(t, 120)) + 0.01 * rng.standard_normal(STEPS)
    loss[200:] = loss[199] + 0.002 * rng.standard_normal(100)
    acc = 0.9 * (1 - numpy.exp(-t / 40.0)) + 0.005 * rng.standard_normal(STEPS)
    acc[150:220] = acc[149]
    return [round(float(v), 6) for v in loss], [round(float(v), 6) for v in acc]


# ----------------------------------------------------------------------- optimizers
OPT_CASES = [
    ("sgd", "SGD", {"lr": 0.05}),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("sgd_dampening", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    ("sgd_nesterov", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd_wd_momentum", "SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.01}),
    ("sgd_maximize", "SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.01,
                             "maximize": True}),
    ("sgd_2g", "SGD", {"lr": 0.05, "momentum": 0.9}, {"lr": 0.01, "momentum": 0.5}),
    ("adam", "Adam", {"lr": 0.05}),
    ("adam_amsgrad", "Adam", {"lr": 0.05, "amsgrad": True}),
    ("adam_wd", "Adam", {"lr": 0.05, "weight_decay": 0.1, "betas": (0.8, 0.99)}),
    ("adam_maximize", "Adam", {"lr": 0.05, "maximize": True, "amsgrad": True}),
    ("adam_decoupled", "Adam", {"lr": 0.05, "weight_decay": 0.1,
                                "decoupled_weight_decay": True}),
    ("adam_2g", "Adam", {"lr": 0.05}, {"lr": 0.005, "betas": (0.5, 0.9), "eps": 1e-6}),
    ("adamw", "AdamW", {"lr": 0.05}),
    ("adamw_amsgrad", "AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("adamw_maximize", "AdamW", {"lr": 0.05, "weight_decay": 0.05, "maximize": True}),
    ("adamax", "Adamax", {"lr": 0.05}),
    ("adamax_wd", "Adamax", {"lr": 0.05, "weight_decay": 0.1, "betas": (0.8, 0.99)}),
    ("adamax_maximize", "Adamax", {"lr": 0.05, "maximize": True}),
    ("nadam", "NAdam", {"lr": 0.05}),
    ("nadam_wd", "NAdam", {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("nadam_decoupled", "NAdam", {"lr": 0.05, "weight_decay": 0.1,
                                  "decoupled_weight_decay": True}),
    ("nadam_maximize", "NAdam", {"lr": 0.05, "maximize": True}),
    ("radam", "RAdam", {"lr": 0.05}),
    ("radam_wd", "RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("radam_decoupled", "RAdam", {"lr": 0.05, "weight_decay": 0.1,
                                  "decoupled_weight_decay": True, "betas": (0.9, 0.99)}),
    ("radam_maximize", "RAdam", {"lr": 0.05, "maximize": True}),
    ("rmsprop", "RMSprop", {"lr": 0.01}),
    ("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": True}),
    ("rmsprop_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9, "alpha": 0.9}),
    ("rmsprop_all", "RMSprop", {"lr": 0.005, "momentum": 0.5, "centered": True,
                                "weight_decay": 0.01}),
    ("rmsprop_maximize", "RMSprop", {"lr": 0.01, "maximize": True}),
    ("adagrad", "Adagrad", {"lr": 0.1}),
    ("adagrad_decay", "Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01}),
    ("adagrad_init", "Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("adagrad_maximize", "Adagrad", {"lr": 0.1, "maximize": True}),
    ("adadelta", "Adadelta", {}),
    ("adadelta_wd", "Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.01}),
    ("adadelta_maximize", "Adadelta", {"maximize": True, "eps": 1e-4}),
    ("rprop", "Rprop", {"lr": 0.01}),
    ("rprop_etas", "Rprop", {"lr": 0.02, "etas": (0.3, 1.5), "step_sizes": (1e-4, 0.1)}),
    ("rprop_maximize", "Rprop", {"lr": 0.01, "maximize": True}),
    ("lbfgs", "LBFGS", {}),
    ("lbfgs_short", "LBFGS", {"lr": 0.8, "max_iter": 2}),
    ("lbfgs_history", "LBFGS", {"lr": 1.0, "max_iter": 2, "history_size": 5}),
    ("lbfgs_wolfe", "LBFGS", {"max_iter": 4, "line_search_fn": "strong_wolfe"}),
    ("lbfgs_wolfe_default", "LBFGS", {"line_search_fn": "strong_wolfe"}),
]
# L-BFGS amplifies one-ulp differences in the gradient (two autograds sum in different orders)
# through its curvature pairs, so float32 runs agree less tightly than the other optimizers'.
# (Settings were chosen where the float64 iteration is not chaotic: with a fixed small lr on
# this valley, 1e-13 perturbations grow to 1e-3.) The float64 runs check every branch of the
# algorithm and of the line search tightly.
FLOAT64_CASES = ["lbfgs", "lbfgs_short", "lbfgs_history", "lbfgs_wolfe", "lbfgs_wolfe_default",
                 "adam", "sgd"]


def problem(rng):
    return {
        "X": rng.standard_normal((8, 4)).astype(numpy.float32),
        "Y": rng.standard_normal((8, 3)).astype(numpy.float32),
        "W0": (0.5 * rng.standard_normal((4, 3))).astype(numpy.float32),
        "b0": (0.1 * rng.standard_normal(3)).astype(numpy.float32),
        "r0": numpy.array([-1.2, 1.0], dtype=numpy.float32),
    }


def loss_fn(X, Y, W, b, r):
    """Least squares plus a mild Rosenbrock valley (the same formula as the tests)."""
    fit = ((X @ W + b - Y) ** 2).mean()
    valley = (1 - r[0]) ** 2 + 4 * (r[1] - r[0] ** 2) ** 2
    return fit + 0.5 * valley


def run_optimizer_case(data, name, type_, kwargs, second=None, dtype=numpy.float32):
    X, Y = (torch.from_numpy(data[k].astype(dtype)) for k in ("X", "Y"))
    params = [torch.tensor(data[k].astype(dtype), requires_grad=True) for k in ("W0", "b0", "r0")]
    groups = [{"params": params}] if second is None else [
        {"params": params[:2]}, dict(second, params=params[2:])]
    cls = getattr(torch.optim, type_)
    if type_ not in ("LBFGS",):
        kwargs = dict(kwargs, foreach=False)
    opt = cls(groups, **kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0

    def closure():
        opt.zero_grad()
        loss = sign * loss_fn(X, Y, *params)
        loss.backward()
        return loss

    rows = [numpy.concatenate([p.detach().numpy().ravel() for p in params])]
    for _ in range(OPT_STEPS):
        opt.step(closure)
        rows.append(numpy.concatenate([p.detach().numpy().ravel() for p in params]))
    traj = numpy.stack(rows)
    assert traj.dtype == dtype
    if not numpy.isfinite(traj).all():
        raise RuntimeError(f"{name}: trajectory is not finite")
    sd = opt.state_dict()
    layout = {
        "state_keys": {str(k): sorted(v) for k, v in sd["state"].items()},
        "group_keys": [sorted(g) for g in sd["param_groups"]],
        "params": [g["params"] for g in sd["param_groups"]],
    }
    return traj, layout


def main():
    rng = numpy.random.default_rng(20240501)
    metrics_min, metrics_max = plateau_metrics(rng)
    cases = scheduler_cases(metrics_min, metrics_max)
    arrays = {}
    for case in cases:
        for key, value in run_scheduler_case(case).items():
            arrays[f"{case['name']}/{key}"] = value
    for case in CLOSED_FORM_CASES:
        arrays[f"{case['name']}/lr"] = run_closed_form_case(case)
    numpy.savez_compressed(HERE / "optim_schedulers.npz", **arrays)
    spec = {"steps": STEPS, "cases": cases, "closed_form_epochs": CLOSED_FORM_EPOCHS,
            "closed_form_cases": CLOSED_FORM_CASES}
    (HERE / "optim_schedulers.json").write_text(json.dumps(spec, indent=1) + "\n")

    data = problem(numpy.random.default_rng(7))
    arrays = dict(data)
    described, layouts = [], {}
    for entry in OPT_CASES:
        name, type_, kwargs = entry[:3]
        second = entry[3] if len(entry) > 3 else None
        arrays[name], layouts[name] = run_optimizer_case(data, name, type_, kwargs, second)
        described.append({"name": name, "type": type_, "kwargs": kwargs, "second_group": second,
                          "dtype": "float32"})
        if name in FLOAT64_CASES:
            name64 = name + "_f64"
            arrays[name64], layouts[name64] = run_optimizer_case(
                data, name64, type_, kwargs, second, numpy.float64
            )
            described.append({"name": name64, "type": type_, "kwargs": kwargs,
                              "second_group": second, "dtype": "float64"})
    numpy.savez_compressed(HERE / "optim_trajectories.npz", **arrays)
    spec = {"steps": OPT_STEPS, "cases": described, "state_dict_layout": layouts,
            "torch_version": torch.__version__}
    (HERE / "optim_trajectories.json").write_text(json.dumps(spec, indent=1) + "\n")


if __name__ == "__main__":
    main()
