"""DDP's mechanics on 2+ ranks: the broadcast at construction, ``no_sync`` accumulation,
buffers, state_dict keys and a tutorial-style step (every rank checks, rank 0 prints)."""

import numpy

import trainctl as tc
import trainctl.distributed as dist

dist.init_process_group(backend="mpi")
rank, world = dist.get_rank(), dist.get_world_size()


def gathered(t):
    out = [tc.zeros_like(t) for _ in range(world)]
    dist.all_gather(out, t.detach().clone())
    return [o.numpy() for o in out]


# 1. construction broadcasts rank 0's parameters and buffers
tc.manual_seed(100 + rank)
model = tc.nn.Sequential(tc.nn.Linear(6, 5), tc.nn.BatchNorm1d(5), tc.nn.Linear(5, 3))
with tc.no_grad():
    model[1].running_mean.fill_(float(rank))
before = [p.detach().clone() for p in model.parameters()]
assert not numpy.array_equal(*gathered(model[0].weight)[:2])
ddp = tc.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0001)
for p in model.parameters():
    parts = gathered(p)
    assert all(numpy.array_equal(parts[0], q) for q in parts[1:])
assert model[1].running_mean.tolist() == [0.0] * 5
if rank != 0:
    assert not numpy.array_equal(before[0].numpy(), model[0].weight.detach().numpy())
assert list(ddp.state_dict())[:2] == ["module.0.weight", "module.0.bias"]
assert len(ddp._buckets) > 1  # the tiny cap gives several buckets, started one by one

# 2. no_sync: micro-batches accumulate locally; the synchronised one averages the sums
rng = numpy.random.default_rng(7)
micro = [(tc.tensor(rng.standard_normal((8, 6)).astype(numpy.float32)),
          tc.tensor(rng.integers(0, 3, 8))) for _ in range(2 * world)]
mine = micro[2 * rank:2 * rank + 2]
reference = tc.nn.Sequential(tc.nn.Linear(6, 5), tc.nn.BatchNorm1d(5), tc.nn.Linear(5, 3))
reference.load_state_dict(model.state_dict())
for xb, yb in micro:  # one process, every micro-batch: the sum of their gradients
    tc.nn.functional.cross_entropy(reference(xb), yb).backward()

ddp.zero_grad()
with ddp.no_sync():
    tc.nn.functional.cross_entropy(ddp(mine[0][0]), mine[0][1]).backward()
local = gathered(model[0].weight.grad)
assert not numpy.allclose(local[0], local[1]), "no_sync must not communicate"
tc.nn.functional.cross_entropy(ddp(mine[1][0]), mine[1][1]).backward()
for p, q in zip(model.parameters(), reference.parameters()):
    numpy.testing.assert_allclose(p.grad.numpy(), q.grad.numpy() / world, rtol=1e-5,
                                  atol=1e-6)
    parts = gathered(p.grad)
    assert all(numpy.array_equal(parts[0], g) for g in parts[1:])

# 3. a DDP tutorial's loop: forward, loss, backward, step; eval under no_grad in between
opt = tc.optim.SGD(ddp.parameters(), lr=0.1)
for xb, yb in mine:
    opt.zero_grad()
    tc.nn.functional.cross_entropy(ddp(xb), yb).backward()
    opt.step()
    with tc.no_grad():
        ddp.eval()
        ddp(xb)
        ddp.train()
parts = gathered(model[2].weight)
assert all(numpy.array_equal(parts[0], w) for w in parts[1:])

# 4. a forward never backpropagated is replaced by the next; a backward that misses an output
#    leaves the reduction unfinished, and the next forward says so


class Two(tc.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = tc.nn.Linear(2, 2), tc.nn.Linear(2, 2)

    def forward(self, x):
        return self.a(x), self.b(x)


two = tc.nn.parallel.DistributedDataParallel(Two())
old = two(tc.ones(1, 2))[0].sum()
out_a, out_b = two(tc.ones(1, 2))
try:
    old.backward()
except RuntimeError as e:
    assert "later forward replaced" in str(e), e
else:
    raise AssertionError("expected the replaced-forward error")
out_a.sum().backward()
try:
    two(tc.ones(1, 2))
except RuntimeError as e:
    assert "finished reduction" in str(e), e
else:
    raise AssertionError("expected the unfinished-reduction error")
if rank == 0:
    print("ok")
dist.destroy_process_group()
