"""Reasoning about shapes with the meta device: tensors that have a shape and a dtype but no data.

In the style of PyTorch's "Reasoning about Shapes" recipe: build a model on the meta device, push
a meta batch through it with forward hooks that print each layer's output shape, count the
parameters of a model far too big to allocate, and move a real model to meta.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

# A meta tensor: any size, no memory
a = torch.ones(2, 5, 10, device="meta")
print(a)
b = torch.randn(10**6, 10**6, device="meta")
print(b.shape, b.dtype, b.device, b.numel(), b.is_meta)
print(torch.empty(3, dtype=torch.int64, device="meta"))
print(torch.arange(10, device="meta"), torch.zeros((), device="meta"))

# Every op computes the shape and dtype of its result
c = a @ torch.empty(10, 7, device="meta")
print(c.shape, (c * 2 + 1).sum(dim=1).shape, c.mean(dim=(0, 2), keepdim=True).shape)
print(torch.cat([a, a], dim=1).shape, torch.stack([a, a]).shape, a.transpose(0, 2).shape)
print(a.view(10, -1).shape, a.flatten(1).shape, a[:, 1:3, None, ::2].shape)
print(F.softmax(a, dim=-1).shape, F.one_hot(torch.zeros(4, dtype=torch.long, device="meta"), 5))
print((a > 0).dtype, a.long().dtype, (a.long() / 2).dtype, a.double().sum().dtype)
print(torch.where(a > 0, a, torch.zeros(10, device="meta")).shape)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def fw_hook(module, input, output):
    print(f"Shape of output to {module} is {output.shape}.")


with torch.device("meta"):
    net = Net()
    inp = torch.randn((1024, 3, 32, 32))

for _, layer in net.named_modules():
    layer.register_forward_hook(fw_hook)

out = net(inp)
print(out)
print(net.fc1.weight)
print(sum(p.numel() for p in net.parameters()), all(p.is_meta for p in net.parameters()))

# Backward computes the gradients' shapes too
loss = F.cross_entropy(out, torch.empty(1024, dtype=torch.long, device="meta"))
loss.backward()
print(loss.shape, net.conv1.weight.grad.shape, net.fc3.bias.grad.shape)

# A model with ten billion parameters: built and run in milliseconds
with torch.device("meta"):
    big = nn.Sequential(nn.Linear(50_000, 100_000), nn.GELU(), nn.LayerNorm(100_000),
                        nn.Linear(100_000, 50_000), nn.Dropout(0.1), nn.Linear(50_000, 10))
n_params = sum(p.numel() for p in big.parameters())
print(f"{n_params:,} parameters, {n_params * 4 / 1e9:.1f} GB in float32")
print(big(torch.empty(8, 50_000, device="meta")).shape)
for name, p in big.named_parameters():
    print(name, tuple(p.shape), p.dtype)

# A real model moved to meta keeps its structure and drops its data
real = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
real.to("meta")
print(real[0].weight.device, real[1].running_mean, real[1].num_batches_tracked)
print(real(torch.randn(5, 4, device="meta")).shape)

# Values cannot be read from a meta tensor
for fn in (lambda: torch.zeros((), device="meta").item(), lambda: a.tolist(),
           lambda: a.cpu()):
    try:
        fn()
    except (RuntimeError, NotImplementedError) as e:
        print(type(e).__name__, e)
