"""The default device: ``torch.set_default_device``, ``torch.get_default_device`` and
``with torch.device(...)`` as a context manager, in the style of PyTorch's device recipes.

The CPU stands in for an accelerator (the program must run anywhere); the meta device shows
that tensors and layers really land on the default device.
"""

import numpy as np
import torch
from torch import nn

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() \
    else "cpu"
print(f"Using {device} device")
print(torch.get_default_device())

# Everything created without device= goes to the default device
torch.set_default_device("meta")
print(torch.get_default_device())
x = torch.zeros(2, 3)
print(x.device, torch.ones(4).device, torch.randn(2, 2).device, torch.arange(5).device)
print(torch.tensor([1.0, 2.0]).device, torch.full((2,), 7).device, torch.eye(3).device)
print(nn.Linear(3, 2).weight.device, torch.zeros(2, device="cpu").device)
print(x)
torch.set_default_device("cpu")
print(torch.get_default_device(), torch.zeros(2))
torch.set_default_device(None)
print(torch.get_default_device())

# A device is also a context manager: the default inside the block only
with torch.device("meta"):
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 1))
    print(torch.get_default_device(), next(model.parameters()).device)
    with torch.device("cpu"):
        print(torch.ones(1).device)
    print(torch.ones(1).device)
print(torch.get_default_device(), torch.ones(1).device)
print([p.device.type for p in model.parameters()])

# The usual pattern: pick a device once, create the model and data on it
rng = np.random.RandomState(0)
dev = torch.device(device)
with dev:
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    data = torch.tensor(rng.randn(16, 4), dtype=torch.float32)
    target = data.sum(dim=1, keepdim=True)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape))))
opt = torch.optim.SGD(net.parameters(), lr=0.05)
for step in range(30):
    loss = nn.functional.mse_loss(net(data), target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 10 == 0:
        print(f"step {step}: loss {loss.item():.5f} on {loss.device}")

# requires_grad= on the creation functions
torch.manual_seed(0)
w = torch.randn(3, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
n = torch.normal(0.0, 0.01, size=(2, 3), requires_grad=True)
r = torch.arange(4.0, requires_grad=True)
print(w.requires_grad, b.requires_grad, n.requires_grad, n.is_leaf, r)
print(torch.linspace(0, 1, 3, requires_grad=True), torch.ones(2, requires_grad=True))
print(torch.full((2,), 0.5, requires_grad=True), torch.eye(2, requires_grad=True))
(r * r).sum().backward()
print(r.grad)
try:
    torch.arange(4, requires_grad=True)
except RuntimeError as e:
    print("RuntimeError:", e)
