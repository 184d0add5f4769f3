"""A program in the style of PyTorch's "Getting Started with Distributed Data Parallel" tutorial,
with only the imports rewritten (``torch`` -> ``trainctl``) and the backend set to ``"mpi"``.

Run as ``mpiexec -n 2 python ddp_tutorial.py CHECKPOINT_DIR``. There is no ``mp.spawn``: the MPI
launcher starts the processes (as with the tutorial's ``torchrun`` variant), so ``setup`` takes
the rank from the group it joins. Each demo prints one line per rank,
``<demo> <rank> <world> <weight fingerprints> ...``, for the test to compare across ranks.
"""

import hashlib
import os
import sys

import trainctl as torch
import trainctl.distributed as dist
import trainctl.nn as nn
import trainctl.optim as optim
from trainctl.nn.parallel import DistributedDataParallel as DDP


def setup():
    dist.init_process_group("mpi")
    return dist.get_rank(), dist.get_world_size()


def cleanup():
    dist.destroy_process_group()


class ToyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.net1 = nn.Linear(10, 10)
        self.relu = nn.ReLU()
        self.net2 = nn.Linear(10, 5)

    def forward(self, x):
        return self.net2(self.relu(self.net1(x)))


def fingerprint(model) -> str:
    digest = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().numpy().tobytes())
    return digest.hexdigest()[:16]


def report(line: str) -> None:
    sys.stdout.write(line + "\n")  # one write per line: the ranks share the launcher's pipe
    sys.stdout.flush()


def demo_basic(rank, world_size, device):
    torch.manual_seed(1234 + rank)  # different initial weights per rank: DDP must broadcast
    model = ToyModel().to(device)
    own = fingerprint(model)
    ddp_model = DDP(model)
    start = fingerprint(model)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(ddp_model.parameters(), lr=0.001)
    losses = []
    for _ in range(5):  # each rank draws its own batch
        optimizer.zero_grad()
        outputs = ddp_model(torch.randn(20, 10))
        labels = torch.randn(20, 5).to(device)
        loss = loss_fn(outputs, labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    report(f"basic {rank} {world_size} {own} {start} {fingerprint(model)} {losses[0]:.6f}")
    return ddp_model


def demo_checkpoint(rank, world_size, device, checkpoint_dir):
    torch.manual_seed(99 + rank)
    model = ToyModel().to(device)
    ddp_model = DDP(model)
    checkpoint_path = os.path.join(checkpoint_dir, "model.checkpoint")
    if rank == 0:
        # All processes hold the same parameters (broadcast from rank 0 by DDP): one saves.
        torch.save(ddp_model.state_dict(), checkpoint_path)
    dist.barrier()  # nobody loads before rank 0 has saved
    saved = fingerprint(model)
    with torch.no_grad():  # scramble, so that the load has something to undo
        for p in model.parameters():
            p.fill_(float(rank + 1))
    ddp_model.load_state_dict(torch.load(checkpoint_path, map_location=device,
                                         weights_only=True))
    loaded = fingerprint(model)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(ddp_model.parameters(), lr=0.001)
    optimizer.zero_grad()
    outputs = ddp_model(torch.randn(20, 10))
    labels = torch.randn(20, 5).to(device)
    loss_fn(outputs, labels).backward()
    optimizer.step()
    dist.barrier()  # nobody removes the file while another rank may still read it
    if rank == 0:
        os.remove(checkpoint_path)
    report(f"checkpoint {rank} {world_size} {saved} {loaded} {fingerprint(model)}")


if __name__ == "__main__":
    rank, world_size = setup()
    device = "cpu"
    demo_basic(rank, world_size, device)
    demo_checkpoint(rank, world_size, device, sys.argv[1])
    cleanup()
