"""Every scheduler against PyTorch's numbers (tests/golden/gen_optim.py), step for step."""

import warnings

import numpy
import pytest

import trainctl as tc
from tests.golden.fixtures import load_json, load_npz
from trainctl.config.lr_preview import simulate_lr
from trainctl.optim import lr_scheduler as S

SPEC = load_json("optim_schedulers.json")
GOLD = load_npz("optim_schedulers.npz")
CASES = {c["name"]: c for c in SPEC["cases"]}
STEPS = SPEC["steps"]
RTOL = 1e-12  # Python floats: the same operations in the same order give the same bits


def close(actual, expected):
    numpy.testing.assert_allclose(numpy.asarray(actual, dtype=numpy.float64), expected,
                                  rtol=RTOL, atol=1e-300)


def build_optimizer(spec):
    spec = dict(spec)
    cls = getattr(tc.optim, spec.pop("type"))
    groups = spec.pop("param_groups", None) or [{}]
    return cls([dict(g, params=[tc.zeros(1, requires_grad=True)]) for g in groups], **spec)


def build_scheduler(opt, spec):
    spec = dict(spec)
    name = spec.pop("type")
    cls = getattr(S, name)
    if name in ("SequentialLR", "ChainedScheduler"):
        children = [build_scheduler(opt, s) for s in spec.pop("schedulers")]
        if name == "ChainedScheduler":
            return cls(children, optimizer=opt)
        return cls(opt, schedulers=children, **spec)
    return cls(opt, **spec)


def momentum_of(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def test_every_scheduler_has_at_least_three_cases():
    counts = {}
    for case in SPEC["cases"]:
        counts[case["scheduler"]["type"]] = counts.get(case["scheduler"]["type"], 0) + 1
    assert set(counts) == set(S.__all__) - {"LRScheduler", "_LRScheduler"}
    assert min(counts.values()) >= 3, counts


@pytest.mark.parametrize("name", sorted(CASES))
def test_get_last_lr_matches_torch(name):
    """The public API, as a training loop uses it: opt.step(), sched.step(), get_last_lr()."""
    case = CASES[name]
    opt = build_optimizer(case["optimizer"])
    sched = build_scheduler(opt, case["scheduler"])
    expected_mom = GOLD.get(f"{name}/momentum")
    lrs, moms = [sched.get_last_lr()], [momentum_of(opt)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no step-order or deprecation warning on this path
        for i in range(STEPS):
            opt.step()
            if "metrics" in case:
                sched.step(case["metrics"][i])
            elif "epochs" in case:
                sched.step(case["epochs"][i])
            else:
                sched.step()
            lrs.append(sched.get_last_lr())
            moms.append(momentum_of(opt))
    close(numpy.array(lrs).T, GOLD[f"{name}/lr"])
    if expected_mom is not None:
        close(numpy.array(moms).T, expected_mom)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if "epochs" not in c))
def test_simulate_lr_matches_torch(name):
    case = CASES[name]
    out = simulate_lr(case["optimizer"], case["scheduler"], STEPS + 1,
                      metrics=case.get("metrics"))
    close(out["lr"], GOLD[f"{name}/lr"])
    expected_mom = GOLD.get(f"{name}/momentum")
    if expected_mom is None:
        assert out["momentum"] is None
    else:
        close(out["momentum"], expected_mom)


@pytest.mark.parametrize("case", SPEC["closed_form_cases"], ids=lambda c: c["name"])
def test_deprecated_step_epoch_uses_the_closed_form(case):
    opt = build_optimizer({"type": "SGD", "lr": 0.1})
    sched = build_scheduler(opt, case["scheduler"])
    lrs = []
    for epoch in SPEC["closed_form_epochs"]:
        opt.step()
        with pytest.warns(UserWarning, match="deprecated"):
            sched.step(epoch)
        lrs.append(sched.get_last_lr()[0])
    close(lrs, GOLD[f"{case['name']}/lr"])
