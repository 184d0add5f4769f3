"""Train the same model as one process (batch 64) or as DDP ranks (batch 64 / world each).

    python equivalence.py single mlp sgd out.npz
    mpiexec -n 2 python equivalence.py ddp mlp sgd out.npz

Writes the final parameters and buffers, and the loss of every step (averaged over the ranks),
to ``out.npz`` (rank 0). ``bn`` puts a BatchNorm1d in the MLP, ``cnn`` is a small
Conv2d + BatchNorm2d model (SyncBatchNorm under DDP).
"""

import sys

import numpy

import trainctl as tc
import trainctl.distributed as dist
from trainctl.utils.data.distributed import DistributedSampler

mode, kind, opt_name, out = sys.argv[1:5]
GLOBAL_BATCH, EPOCHS, SEED = 64, 2, 5

rng = numpy.random.default_rng(0)
x = rng.standard_normal((256, 20)).astype(numpy.float32)
y = (x[:, :4].argmax(axis=1) + (x[:, 4] > 1)).astype(numpy.int64) % 4
dataset = tc.utils.data.TensorDataset(tc.tensor(x), tc.tensor(y))

if mode == "ddp":
    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
else:
    rank, world = 0, 1
tc.manual_seed(dist.rank_seed(0, rank))  # ranks start different: DDP broadcasts rank 0's
if kind == "cnn":  # the 20 features as a 4x5 image
    model = tc.nn.Sequential(tc.nn.Unflatten(1, (1, 4, 5)), tc.nn.Conv2d(1, 4, 3, padding=1),
                             tc.nn.BatchNorm2d(4), tc.nn.ReLU(), tc.nn.Flatten(),
                             tc.nn.Linear(80, 4))
else:
    layers = [tc.nn.Linear(20, 32)]
    if kind == "bn":
        layers.append(tc.nn.BatchNorm1d(32))
    model = tc.nn.Sequential(*layers, tc.nn.ReLU(), tc.nn.Linear(32, 4))

if mode == "ddp":
    if kind != "mlp":
        model = tc.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = tc.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.001)
    sampler = DistributedSampler(dataset, shuffle=True, seed=SEED)
    loader = tc.utils.data.DataLoader(dataset, batch_size=GLOBAL_BATCH // world, sampler=sampler)
else:
    loader = tc.utils.data.DataLoader(dataset, batch_size=GLOBAL_BATCH, shuffle=True, seed=SEED)

params = model.parameters()
opt = (tc.optim.SGD(params, lr=0.1, momentum=0.9) if opt_name == "sgd"
       else tc.optim.Adam(params, lr=0.01))
losses = []
for _epoch in range(EPOCHS):
    for xb, yb in loader:
        loss = tc.nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = loss.detach().clone()
        if mode == "ddp":
            dist.all_reduce(value, op=dist.ReduceOp.AVG)
        losses.append(value.item())

if rank == 0:
    bare = model.module if mode == "ddp" else model
    state = {k: v.numpy() for k, v in bare.state_dict().items()}
    numpy.savez(out, losses=numpy.array(losses), **state)
