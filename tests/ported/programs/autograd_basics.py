"""Automatic differentiation: requires_grad, grad_fn, backward, no_grad, detach, accumulation."""

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.RandomState(0)
x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.tensor(rng.randn(5, 3).astype(np.float32), requires_grad=True)
b = torch.tensor(rng.randn(3).astype(np.float32), requires_grad=True)
z = torch.matmul(x, w) + b
loss = F.binary_cross_entropy_with_logits(z, y)

print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")
print("leaves:", w.is_leaf, b.is_leaf, z.is_leaf, "| requires_grad:", x.requires_grad,
      w.requires_grad, z.requires_grad)
print(f"loss = {loss.item():.6f}")

# Computing gradients
loss.backward()
print(w.grad)
print(b.grad)

# Disabling gradient tracking
z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)

z = torch.matmul(x, w) + b
z_det = z.detach()
print(z_det.requires_grad, z_det.grad_fn is None)

# The requires_grad flag can be switched on leaves
v = torch.tensor([1.0, 2.0, 3.0])
v.requires_grad = True
(v * v).sum().backward()
print("d/dv sum(v^2) =", v.grad)
u = torch.tensor([4.0, 5.0]).requires_grad_()
print(u.requires_grad, u)

# Tensor gradients and Jacobian products
inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")

# A small network: gradients of every parameter after one backward
torch.manual_seed(0)
layer = torch.nn.Linear(3, 2)
with torch.no_grad():
    layer.weight.copy_(torch.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
    layer.bias.fill_(0.05)
data = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
target = torch.tensor([1, 0])
out = F.cross_entropy(layer(data), target)
out.backward()
print(f"cross entropy {out.item():.6f}")
for name, param in layer.named_parameters():
    print(name, param.grad)

# Gradient accumulation over two micro-batches equals one full batch
layer.zero_grad()
for part in (slice(0, 1), slice(1, 2)):
    (F.cross_entropy(layer(data[part]), target[part]) / 2).backward()
accumulated = layer.weight.grad.clone()
layer.zero_grad()
F.cross_entropy(layer(data), target).backward()
print("accumulated equals full batch:", torch.allclose(accumulated, layer.weight.grad))
print(layer.weight.grad is not None, layer.bias.grad.shape)
layer.zero_grad(set_to_none=True)
print("after zero_grad:", layer.weight.grad)
