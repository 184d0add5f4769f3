"""Module: registration, iteration, modes, moves, hooks, repr and state dicts."""

import copy
from collections import OrderedDict

import numpy as np
import pytest

import trainctl as tc
from trainctl import nn
from trainctl.core.errors import CheckpointError


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.register_buffer("running", tc.zeros(4))
        self.register_buffer("scratch", tc.ones(2), persistent=False)
        self.scale = nn.Parameter(tc.ones(1))
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale + self.running


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Block()
        self.b = Block()
        self.head = nn.Linear(4, 2)
        self.tied = self.head  # same module twice: its parameters must come once

    def forward(self, x):
        return self.head(self.b(self.a(x)[:, :3]))


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(tc.zeros(2, 3))
    assert isinstance(p, tc.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(tc.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    data = tc.zeros(3)
    p = nn.Parameter(data)
    with tc.no_grad():
        p.add_(1.0)
    assert data.tolist() == [1.0, 1.0, 1.0]  # shares memory, as torch does
    assert type(p * 2) is tc.Tensor


def test_registration_goes_to_the_right_store():
    b = Block()
    assert list(b._parameters) == ["scale"]
    assert list(b._buffers) == ["running", "scratch"]
    assert list(b._modules) == ["fc", "act"]
    assert b.scale is b._parameters["scale"]
    b.other = 3
    assert b.other == 3 and "other" not in b._parameters
    with pytest.raises(TypeError, match="parameter 'scale'"):
        b.scale = tc.ones(1)  # a plain tensor can't replace a parameter
    b.scale = None
    assert b._parameters["scale"] is None and b.scale is None
    with pytest.raises(TypeError, match="buffer 'running'"):
        b.running = 5
    with pytest.raises(KeyError, match="already exists"):
        b.register_buffer("fc", tc.zeros(1))
    with pytest.raises(KeyError, match='"."'):
        b.register_parameter("a.b", None)
    del b.fc
    assert "fc" not in b._modules and not hasattr(b, "fc")


def test_init_must_run_first():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tc.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_named_parameters_dedupes_shared_and_recurse():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["a.scale", "a.fc.weight", "a.fc.bias", "b.scale", "b.fc.weight",
                     "b.fc.bias", "head.weight", "head.bias"]
    assert len(list(net.parameters())) == 8
    assert [n for n, _ in net.named_parameters(remove_duplicate=False)][-2:] == [
        "tied.weight", "tied.bias"]
    assert [n for n, _ in net.a.named_parameters(prefix="x", recurse=False)] == ["x.scale"]
    assert [n for n, _ in net.named_buffers()] == ["a.running", "a.scratch", "b.running",
                                                   "b.scratch"]
    assert len(list(net.buffers(recurse=False))) == 0
    assert [n for n, _ in net.named_children()] == ["a", "b", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "a", "a.fc", "a.act", "b", "b.fc",
                                                   "b.act", "head"]
    assert len(list(net.modules())) == 8
    assert net.get_submodule("a.fc") is net.a.fc
    assert net.get_parameter("b.fc.bias") is net.b.fc.bias
    with pytest.raises(AttributeError, match="no submodule"):
        net.get_submodule("a.nope")


def test_train_eval_apply_requires_grad_zero_grad():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert net.a.fc.training
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[:3] == ["Linear", "ReLU", "Block"]
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    net(tc.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(abs(p.grad).sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_to_dtype_keeps_parameter_identity():
    net = Net()
    params = list(net.parameters())
    net(tc.randn(2, 3)).sum().backward()
    assert net.to(tc.float64) is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == tc.float64 and p.grad.dtype == tc.float64 for p in params)
    assert net.a.running.dtype == tc.float64
    assert net(tc.randn(2, 3, dtype=tc.float64)).dtype == tc.float64
    net.float()
    assert params[0].dtype == tc.float32
    net.to("cpu")
    assert params[0].device == tc.device("cpu")
    with pytest.raises(TypeError, match="floating point"):
        net.to(tc.int64)


def test_to_goes_through_an_overridden_apply():
    # PyTorch's contract: a module keeping a tensor outside its parameters and buffers converts
    # it by overriding _apply, which to()/double()/cpu() call.
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.extra = tc.zeros(2)  # a plain attribute: neither parameter nor buffer

        def _apply(self, fn, floating_only=False):
            self.extra.array = fn(self.extra.array)
            return super()._apply(fn, floating_only)

    m = Holder().double()
    assert m.extra.dtype == tc.float64 and m.lin.weight.dtype == tc.float64


def test_pre_hook_replaces_args_and_a_hook_may_remove_itself():
    lin = nn.Identity()
    lin.register_forward_pre_hook(lambda m, args: args[0] * 2)  # a single value: wrapped
    handles = []
    handles.append(lin.register_forward_hook(lambda m, args, out: handles[0].remove()))
    assert lin(tc.ones(2)).tolist() == [2.0, 2.0]
    assert not lin._forward_hooks and len(lin._forward_pre_hooks) == 1


def test_call_runs_forward_and_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: calls.append("pre"))
    h2 = lin.register_forward_hook(lambda m, args, out: out * 0)
    out = lin(tc.ones(1, 2))
    assert calls == ["pre"] and out.tolist() == [[0.0, 0.0]]
    h1.remove()
    h2.remove()
    assert lin(tc.ones(1, 2)).abs().sum().item() > 0 and calls == ["pre"]
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_repr_with_extra_repr_and_nesting():
    net = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Dropout(0.1)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.1, inplace=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"


def test_state_dict_order_values_and_persistence():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["a.scale", "a.running", "a.fc.weight", "a.fc.bias", "b.scale",
                        "b.running", "b.fc.weight", "b.fc.bias", "head.weight", "head.bias",
                        "tied.weight", "tied.bias"]  # torch lists shared modules under each name
    assert isinstance(sd, OrderedDict)
    assert not sd["a.scale"].requires_grad and type(sd["a.scale"]) is tc.Tensor
    assert sd["a.fc.weight"].array is net.a.fc.weight.array  # detached, memory shared
    assert isinstance(net.state_dict(keep_vars=True)["a.scale"], nn.Parameter)
    assert list(net.a.state_dict(prefix="p.")) == ["p.scale", "p.running", "p.fc.weight",
                                                  "p.fc.bias"]


def test_load_state_dict_roundtrip_and_result():
    src, dst = Net(), Net()
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    x = tc.randn(2, 3)
    np.testing.assert_array_equal(src(x).detach().numpy(), dst(x).detach().numpy())
    # arrays (e.g. from safetensors) load too; values are copied, not aliased
    arrays = {k: v.numpy().copy() for k, v in src.state_dict().items()}
    weight = dst.a.fc.weight
    dst.load_state_dict(arrays)
    assert dst.a.fc.weight is weight
    arrays["a.fc.weight"][...] = 7
    assert float(dst.a.fc.weight[0, 0].detach()) != 7


def test_load_state_dict_errors_name_the_keys():
    net = Net()
    sd = net.state_dict()
    del sd["head.bias"]
    sd["extra.w"] = tc.zeros(1)
    with pytest.raises(CheckpointError) as err:
        Net().load_state_dict(sd)
    assert "'extra.w'" in str(err.value) and "'head.bias'" in str(err.value)
    result = Net().load_state_dict(sd, strict=False)
    assert result.missing_keys == ["head.bias"]
    assert result.unexpected_keys == ["extra.w"]

    bad = net.state_dict()
    bad["a.fc.weight"] = tc.zeros(5, 3)
    target = Net()
    before = target.b.fc.weight.detach().numpy().copy()
    with pytest.raises(CheckpointError, match=r"'a.fc.weight'.*\(5, 3\).*\(4, 3\)"):
        target.load_state_dict(bad, strict=False)  # shape mismatch fails even when not strict
    np.testing.assert_array_equal(target.b.fc.weight.detach().numpy(), before)  # nothing was loaded


def test_load_state_dict_assign_replaces_tensors():
    src, dst = nn.Linear(2, 2), nn.Linear(2, 2)
    dst.load_state_dict(src.state_dict(), assign=True)
    assert isinstance(dst.weight, nn.Parameter) and dst.weight.requires_grad
    assert dst.weight.array is src.weight.array


def test_deepcopy_gives_independent_parameters():
    net = Net()
    twin = copy.deepcopy(net)
    assert isinstance(twin.a.fc.weight, nn.Parameter)
    assert twin.tied is twin.head  # sharing is preserved
    with tc.no_grad():
        twin.head.weight.add_(1.0)
    assert not np.array_equal(twin.head.weight.detach().numpy(), net.head.weight.detach().numpy())


def test_a_state_dict_that_does_not_fit_raises_a_runtime_error_as_torch():
    # PyTorch code catches RuntimeError around load_state_dict (warm-starting recipes do).
    with pytest.raises(RuntimeError, match="missing key"):
        nn.Sequential(nn.Linear(2, 3)).load_state_dict(nn.Linear(2, 3).state_dict())
    with pytest.raises(RuntimeError, match="size mismatch"):
        nn.Linear(2, 3).load_state_dict(nn.Linear(3, 3).state_dict(), strict=False)
