"""DistributedDataParallel in a group of one process (the pytest process): its gradient hooks
against the plain backward on graphs with a custom Function, a tied parameter, a parameter
used twice by one op and an unused one."""

import numpy
import pytest

import trainctl as tc
import trainctl.distributed as dist


@pytest.fixture
def group():
    dist.init_process_group("mpi")
    yield
    dist.destroy_process_group()


class Scale(tc.autograd.Function):
    @staticmethod
    def forward(ctx, x, factor, w):
        ctx.save_for_backward(x, w)
        ctx.factor = factor
        return x * w * w * factor

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g * w * w * ctx.factor, None, (g * x * 2 * w * ctx.factor).sum(0)


class Knotty(tc.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = tc.nn.Linear(3, 3)
        self.w = tc.nn.Parameter(tc.randn(3))
        self.unused = tc.nn.Parameter(tc.randn(2))

    def forward(self, x):
        h = self.lin(x)
        return (Scale.apply(h, 2.0, self.w) + self.lin(h) * self.w * self.w).sum()


@pytest.mark.parametrize("cap", [25.0, 0.00001])  # one bucket; one bucket per parameter
def test_gradients_equal_the_plain_backward(group, cap):
    tc.manual_seed(0)
    plain, inner = Knotty(), Knotty()
    inner.load_state_dict(plain.state_dict())
    ddp = tc.nn.parallel.DistributedDataParallel(inner, bucket_cap_mb=cap)
    x = tc.randn(4, 3)
    for _ in range(2):  # the second backward accumulates into .grad
        plain(x).backward()
        ddp(x).backward()
    for (name, p), q in zip(plain.named_parameters(), inner.parameters()):
        if name == "unused":
            assert p.grad is None and q.grad is None
            continue
        numpy.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_gradient_as_bucket_view_gives_the_same_gradients_without_a_copy(group, set_to_none):
    tc.manual_seed(0)
    models = [tc.nn.Sequential(tc.nn.Linear(3, 4), tc.nn.ReLU(), tc.nn.Linear(4, 2))
              for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    ddps = [tc.nn.parallel.DistributedDataParallel(m, bucket_cap_mb=0.00001,
                                                   gradient_as_bucket_view=view)
            for m, view in zip(models, (False, True))]
    opts = [tc.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in models]
    x = tc.randn(5, 3)
    for step in range(4):
        for ddp, opt in zip(ddps, opts):
            opt.zero_grad(set_to_none=set_to_none)
            if step == 2:  # accumulate one micro-batch without reducing
                with ddp.no_sync():
                    ddp(x * 2).sum().backward()
            ddp(x).sum().backward()
        copied, viewed = ([p.grad.array for p in m.parameters()] for m in models)
        for a, b in zip(copied, viewed):
            assert numpy.array_equal(a, b)
        buckets = [b.flat for b in ddps[1]._buckets]
        assert all(any(numpy.shares_memory(g, f) for f in buckets) for g in viewed)
        assert not any(numpy.shares_memory(g, b.flat) for g in copied for b in ddps[0]._buckets)
        for opt in opts:
            opt.step()
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        assert numpy.array_equal(a.detach().numpy(), b.detach().numpy())


def test_no_grad_and_no_sync_forwards_leave_gradients_to_the_engine(group):
    ddp = tc.nn.parallel.DistributedDataParallel(tc.nn.Linear(2, 1))
    with tc.no_grad():
        ddp(tc.ones(3, 2))
    with ddp.no_sync():
        ddp(tc.ones(3, 2)).sum().backward()
    assert ddp.module.weight.grad.tolist() == [[3.0, 3.0]]
    ddp(tc.ones(3, 2)).sum().backward()
    assert ddp.module.weight.grad.tolist() == [[6.0, 6.0]]


def test_constructor_arguments_as_torch(group):
    model = tc.nn.Linear(2, 1)
    ddp = tc.nn.parallel.DistributedDataParallel(
        model, device_ids=None, broadcast_buffers=False, find_unused_parameters=True,
        gradient_as_bucket_view=True, static_graph=True)
    assert ddp.module is model and ddp.broadcast_buffers is False
    with pytest.raises(TypeError):
        tc.nn.parallel.DistributedDataParallel(model, no_such_argument=1)
    with pytest.raises(ValueError, match="one group"):
        tc.nn.parallel.DistributedDataParallel(model, process_group=object())
