"""Saving and resuming: state_dict at step k, fresh objects, load, continue == uninterrupted."""

import copy
import json

import numpy
import pytest

import trainctl as tc
from tests.optim.problem import DATA, flat, make_closure
from trainctl.optim import lr_scheduler as S

K = 8  # resume after K steps, then run K more

# (optimizer, kwargs, scheduler factory or None)
CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True},
     lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    ("SGD", {"lr": 0.05, "momentum": 0.9},
     lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=2 * K + 1)),
    ("Adam", {"lr": 0.05, "amsgrad": True},
     lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.05, step_size_up=3)),
    ("AdamW", {"lr": 0.05}, lambda o: S.LambdaLR(o, "0.9 ** epoch")),
    ("Adamax", {"lr": 0.05}, lambda o: S.MultiplicativeLR(o, "0.95 if epoch % 2 else 1.0")),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.01},
     lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, total_iters=4), S.CosineAnnealingLR(o, 10)],
                              milestones=[4])),
    ("RAdam", {"lr": 0.05},
     lambda o: S.ChainedScheduler([S.ConstantLR(o, 0.5, total_iters=5),
                                   S.ExponentialLR(o, 0.97)])),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True},
     lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2)),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}, lambda o: S.MultiStepLR(o, [2, 5, 11], 0.5)),
    ("Adadelta", {}, lambda o: S.PolynomialLR(o, total_iters=12, power=2.0)),
    ("Rprop", {"lr": 0.01}, lambda o: S.LinearLR(o, start_factor=0.5, total_iters=10)),
    ("Lion", {"lr": 0.01, "weight_decay": 0.1},
     lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=2, mode="triangular2")),
    ("LBFGS", {"lr": 0.8, "max_iter": 2}, None),
    ("LBFGS", {"line_search_fn": "strong_wolfe", "max_iter": 3, "history_size": 4}, None),
    ("SGD", {"lr": 0.05, "momentum": 0.5}, "plateau"),
]


def build(type_, kwargs, factory, values):
    params = [tc.tensor(v, requires_grad=True) for v in values]
    opt = getattr(tc.optim, type_)(params, **kwargs)
    if factory == "plateau":
        sched = S.ReduceLROnPlateau(opt, patience=0, factor=0.7, threshold=0.05)
    else:
        sched = factory(opt) if factory else None
    return params, opt, sched


def advance(params, opt, sched, steps):
    closure = make_closure(opt, params)
    rows = []
    for _ in range(steps):
        loss = opt.step(closure)
        if isinstance(sched, S.ReduceLROnPlateau):
            sched.step(float(loss))
        elif sched is not None:
            sched.step()
        rows.append(flat(params))
    return rows


def detached_copy(obj):
    """What a checkpoint does: tensors become independent copies, nothing stays shared."""
    if isinstance(obj, tc.Tensor):
        return tc.tensor(obj.numpy(force=True).copy())
    if isinstance(obj, dict):
        return {k: detached_copy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(detached_copy(v) for v in obj)
    return copy.deepcopy(obj)


@pytest.mark.parametrize("type_,kwargs,factory", CASES, ids=[c[0] for c in CASES])
def test_resume_reproduces_the_uninterrupted_run_exactly(type_, kwargs, factory):
    start = [DATA[k] for k in ("W0", "b0", "r0")]
    params, opt, sched = build(type_, kwargs, factory, start)
    straight = advance(params, opt, sched, 2 * K)

    params, opt, sched = build(type_, kwargs, factory, start)
    advance(params, opt, sched, K)
    saved_opt = detached_copy(opt.state_dict())
    saved_sched = detached_copy(sched.state_dict()) if sched else None
    values = [p.numpy(force=True).copy() for p in params]
    advance(params, opt, sched, 3)  # the old objects keep going: the saved state must not move

    # Fresh objects, as after a restart: the scheduler first (its constructor sets the lrs),
    # then the saved states.
    params, opt, sched = build(type_, kwargs, factory, values)
    opt.load_state_dict(saved_opt)
    if sched:
        sched.load_state_dict(saved_sched)
    resumed = advance(params, opt, sched, K)
    numpy.testing.assert_array_equal(numpy.stack(resumed), numpy.stack(straight[K:]))


def test_optimizer_state_dict_is_torch_layout_with_indices():
    a, b, c = (tc.zeros(2, requires_grad=True) for _ in range(3))
    opt = tc.optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.1}], lr=0.01)
    for p in (a, c):  # b has no gradient: no state
        p.grad = tc.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 2]
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert isinstance(sd["state"][0]["exp_avg"], tc.Tensor)
    assert float(sd["state"][2]["step"]) == 1.0
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.01, 0.1]
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)


def test_load_state_dict_copies_casts_and_accepts_string_indices():
    w = tc.zeros(3, requires_grad=True)
    opt = tc.optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = tc.ones(3)
    opt.step()
    sd = opt.state_dict()
    # As after a JSON-ish checkpoint: string keys and float64 buffers.
    sd = {"state": {"0": {"momentum_buffer": tc.tensor([1.0, 2.0, 3.0], dtype=tc.float64)}},
          "param_groups": sd["param_groups"]}
    w2 = tc.zeros(3, requires_grad=True)
    opt2 = tc.optim.SGD([w2], lr=0.5, momentum=0.1)
    opt2.load_state_dict(sd)
    buf = opt2.state[w2]["momentum_buffer"]
    assert buf.dtype == tc.float32 and buf.tolist() == [1.0, 2.0, 3.0]
    assert opt2.param_groups[0]["lr"] == 0.1 and opt2.param_groups[0]["momentum"] == 0.9
    assert opt2.param_groups[0]["params"][0] is w2
    sd["state"]["0"]["momentum_buffer"].array[:] = 7  # no aliasing with the loaded dict
    assert buf.tolist() == [1.0, 2.0, 3.0]


def test_load_state_dict_rejects_mismatched_groups_with_a_clear_message():
    a, b = tc.zeros(2, requires_grad=True), tc.zeros(2, requires_grad=True)
    sd = tc.optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match=r"group 0 has 2 parameter\(s\) in the saved state, 1"):
        tc.optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"has 1 param group\(s\), this optimizer has 2"):
        tc.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="no 'param_groups' entry"):
        tc.optim.SGD([a, b], lr=0.1).load_state_dict({"state": {}})


def _json_roundtrip(state):
    return json.loads(json.dumps(state))


@pytest.mark.parametrize("make", [
    lambda o: S.MultiStepLR(o, milestones=[3, 3, 7], gamma=0.5),
    lambda o: S.LambdaLR(o, "0.9 ** epoch"),
    lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, scale_fn="1 / (1 + x)",
                         scale_mode="iterations"),
    lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=30, three_phase=True),
    lambda o: S.SequentialLR(o, [S.ConstantLR(o, 0.5, 4), S.CosineAnnealingLR(o, 10)], [4]),
    lambda o: S.ReduceLROnPlateau(o, patience=1),
    lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2),
], ids=["multistep", "lambda_expr", "cyclic_expr", "onecycle", "sequential", "plateau",
        "restarts"])
def test_scheduler_state_survives_json_and_resumes_exactly(make):
    def fresh():
        opt = tc.optim.SGD([tc.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        return opt, make(opt)

    def go(opt, sched, n, start):
        out = []
        for i in range(start, start + n):
            opt.step()
            sched.step(1.0 / (1 + i % 5)) if isinstance(sched, S.ReduceLROnPlateau) else \
                sched.step()
            out.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
        return out

    opt, sched = fresh()
    straight = go(opt, sched, 20, 0)
    opt, sched = fresh()
    go(opt, sched, 10, 0)
    saved = _json_roundtrip(sched.state_dict())
    saved_opt = {"state": {}, "param_groups": _json_roundtrip(
        [{k: v for k, v in g.items() if k != "params"} | {"params": [0]}
         for g in opt.state_dict()["param_groups"]])}
    opt, sched = fresh()
    opt.load_state_dict(saved_opt)
    sched.load_state_dict(saved)
    assert go(opt, sched, 10, 10) == straight[10:]


def test_lambda_state_dict_saves_expressions_and_callable_objects():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate**epoch

    opt = tc.optim.SGD([{"params": [tc.zeros(1, requires_grad=True)]} for _ in range(3)],
                       lr=1.0)
    sched = S.LambdaLR(opt, ["0.5 ** epoch", Decay(0.9), lambda epoch: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == ["0.5 ** epoch", {"rate": 0.9}, None]
    other = S.LambdaLR(opt, [lambda e: 1.0, Decay(0.1), lambda e: 1.0])
    other.load_state_dict(sd)
    assert other.lr_lambdas[0](3) == 0.125
    assert other.lr_lambdas[1].rate == 0.9
