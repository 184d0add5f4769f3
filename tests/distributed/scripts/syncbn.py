"""SyncBatchNorm on 2+ ranks against BatchNorm on the whole batch in one process (one step)."""

import numpy

import trainctl as tc
import trainctl.distributed as dist

dist.init_process_group(backend="mpi")
rank, world = dist.get_rank(), dist.get_world_size()
rng = numpy.random.default_rng(3)
for shape in ((8 * world, 5), (4 * world, 3, 7), (2 * world, 2, 3, 3)):
    x_all = rng.standard_normal(shape).astype(numpy.float32) * 3 + 1
    coef_all = rng.standard_normal(shape).astype(numpy.float32)
    part = slice(rank * shape[0] // world, (rank + 1) * shape[0] // world)
    c = shape[1]
    full = tc.nn.BatchNorm1d(c) if len(shape) < 4 else tc.nn.BatchNorm2d(c)
    with tc.no_grad():
        full.weight.copy_(tc.tensor(rng.standard_normal(c).astype(numpy.float32)))
    sync = tc.nn.SyncBatchNorm.convert_sync_batchnorm(
        tc.nn.BatchNorm1d(c) if len(shape) < 4 else tc.nn.BatchNorm2d(c))
    sync.load_state_dict(full.state_dict())
    assert isinstance(sync, tc.nn.SyncBatchNorm)

    x_full = tc.tensor(x_all, requires_grad=True)
    y_full = full(x_full)
    (y_full * tc.tensor(coef_all)).sum().backward()
    x = tc.tensor(x_all[part], requires_grad=True)
    y = sync(x)
    (y * tc.tensor(coef_all[part])).sum().backward()

    numpy.testing.assert_allclose(y.detach().numpy(), y_full.detach().numpy()[part],
                                  rtol=1e-5, atol=1e-5)
    numpy.testing.assert_allclose(x.grad.numpy(), x_full.grad.numpy()[part], rtol=1e-4,
                                  atol=1e-5)
    for name in ("weight", "bias"):
        g = getattr(sync, name).grad.clone()
        dist.all_reduce(g)  # each rank holds its own samples' share
        numpy.testing.assert_allclose(g.numpy(), getattr(full, name).grad.numpy(), rtol=1e-4,
                                      atol=1e-5)
    for name in ("running_mean", "running_var"):
        numpy.testing.assert_allclose(getattr(sync, name).numpy(), getattr(full, name).numpy(),
                                      rtol=1e-5, atol=1e-6)
    assert sync.num_batches_tracked.item() == 1
    sync.eval()
    full.eval()
    with tc.no_grad():
        numpy.testing.assert_allclose(sync(tc.tensor(x_all)).numpy(),
                                      full(tc.tensor(x_all)).numpy(), rtol=1e-5, atol=1e-5)
if rank == 0:
    print("ok")
