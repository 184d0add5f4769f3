"""Every collective of tc.distributed against NumPy on known inputs (any number of ranks)."""

import numpy

import trainctl as tc
import trainctl.distributed as dist

dist.init_process_group(backend="mpi")
rank, world = dist.get_rank(), dist.get_world_size()
values = [numpy.array([1.0, -2.0, 3.0]) * (r + 1) + r for r in range(world)]
mine = values[rank]
expected = {
    dist.ReduceOp.SUM: numpy.sum(values, axis=0),
    dist.ReduceOp.AVG: numpy.mean(values, axis=0),
    dist.ReduceOp.MAX: numpy.max(values, axis=0),
    dist.ReduceOp.MIN: numpy.min(values, axis=0),
    dist.ReduceOp.PRODUCT: numpy.prod(values, axis=0),
}
for op, want in expected.items():
    for dtype in (tc.float32, tc.float64):
        t = tc.tensor(mine, dtype=dtype)
        assert dist.all_reduce(t, op=op) is None
        numpy.testing.assert_allclose(t.numpy(), want, rtol=1e-6, err_msg=str(op))
        assert t.dtype == dtype

# integers, an asynchronous reduction, a non-contiguous tensor
t = tc.tensor([rank, 10 * rank], dtype=tc.int64)
dist.all_reduce(t)
assert t.tolist() == [sum(range(world)), 10 * sum(range(world))]
t = tc.tensor(mine, dtype=tc.float32)
work = dist.all_reduce(t, async_op=True)
work.wait()
assert work.is_completed()
numpy.testing.assert_allclose(t.numpy(), expected[dist.ReduceOp.SUM], rtol=1e-6)
base = tc.tensor(numpy.arange(6.0).reshape(2, 3) + rank)
view = base.t()
dist.all_reduce(view)
numpy.testing.assert_allclose(base.numpy(), world * numpy.arange(6.0).reshape(2, 3)
                              + sum(range(world)))
try:
    dist.all_reduce(tc.tensor([1, 2]), op=dist.ReduceOp.AVG)
except TypeError:
    pass
else:
    raise AssertionError("AVG of an integer tensor must be refused")

# broadcast, reduce, all_gather, barrier
t = tc.tensor(mine)
dist.broadcast(t, src=world - 1)
numpy.testing.assert_array_equal(t.numpy(), values[-1])
t = tc.tensor(mine)
dist.reduce(t, dst=0, op=dist.ReduceOp.SUM)
numpy.testing.assert_allclose(t.numpy(), expected[dist.ReduceOp.SUM] if rank == 0 else mine)
out = [tc.zeros(3, dtype=tc.float64) for _ in range(world)]
dist.all_gather(out, tc.tensor(mine))
for got, want in zip(out, values):
    numpy.testing.assert_array_equal(got.numpy(), want)
dist.barrier()
print(f"rank {rank}/{world} ok")
dist.destroy_process_group()
