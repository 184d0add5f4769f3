"""Tensors tour: creating, attributes, indexing, joining, arithmetic, in-place ops, NumPy bridge."""

import numpy as np
import torch

# Initializing a tensor: directly from data
data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
print(x_data)

# ... from a NumPy array
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
print(x_np)

# ... from another tensor
x_ones = torch.ones_like(x_data)  # retains the properties of x_data
print(f"Ones Tensor: \n {x_ones} \n")
x_rand = torch.rand_like(x_data, dtype=torch.float)  # overrides the datatype of x_data
print(f"Random Tensor: shape {x_rand.shape}, dtype {x_rand.dtype}, in [0, 1): "
      f"{bool(((x_rand >= 0) & (x_rand < 1)).all())} \n")

# ... with random or constant values
shape = (2, 3,)
rand_tensor = torch.rand(shape)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)
print(f"Random Tensor size: {rand_tensor.size()} \n")
print(f"Ones Tensor: \n {ones_tensor} \n")
print(f"Zeros Tensor: \n {zeros_tensor}")

# The same seed gives the same numbers
torch.manual_seed(7)
a = torch.randn(3, 4)
torch.manual_seed(7)
b = torch.randn(3, 4)
g = torch.Generator().manual_seed(3)
c = torch.randn(3, 4, generator=g)
print("same seed, same numbers:", torch.equal(a, b), "| own generator differs:",
      not torch.equal(a, c))
perm = torch.randperm(10, generator=torch.Generator().manual_seed(0))
print("randperm is a permutation:", sorted(perm.tolist()) == list(range(10)), perm.dtype)

# Attributes of a tensor
tensor = torch.ones(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")
print(f"numel: {tensor.numel()} {torch.numel(tensor)}, dim: {tensor.dim()}, "
      f"is_tensor: {torch.is_tensor(tensor)} {torch.is_tensor(data)}")
print(isinstance(tensor.shape, tuple), tensor.shape == (3, 4), tensor.shape == torch.Size([3, 4]),
      torch.Size([2, 5]).numel(), tuple(tensor.shape), list(tensor.size()))
print(torch.float is torch.float32, torch.double is torch.float64, torch.long is torch.int64,
      torch.int is torch.int32, torch.half is torch.float16)

# We move our tensor to the current accelerator if available
if torch.cuda.is_available():
    tensor = tensor.to("cuda")
device = torch.device("cpu")
tensor = tensor.to(device)
print(device, repr(device), device.type, tensor.device == device, torch.cuda.device_count() >= 0)

# Standard numpy-like indexing and slicing
tensor = torch.ones(4, 4)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)
m = torch.arange(12).reshape(3, 4)
print(m[1:, ::2], m[m > 6], m[[0, 2], [1, 3]], m[:, None, 0].shape)

# Joining tensors
t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(t1)
print(torch.stack([m[0], m[1]]).shape, torch.cat((m, m)).shape)

# Arithmetic operations: matrix multiplication, three ways (the last into a given tensor)
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
print(y1, torch.equal(y1, y2), torch.equal(y2, y3))

# ... and element-wise product, three ways
z1 = tensor * tensor
z2 = tensor.mul(tensor)
z3 = torch.rand_like(tensor)
torch.mul(tensor, tensor, out=z3)
print(z1, torch.equal(z1, z2), torch.equal(z2, z3))

# Single-element tensors
agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item))
print(torch.tensor([[2.5]]).item(), torch.tensor([[[7]]]).item(), int(torch.tensor(3.9)),
      float(torch.tensor([1.5])), f"{torch.tensor(0.123456789):>10.4f}|", f"{agg:.2f}",
      bool(torch.tensor([0.0])), len(tensor), [row.sum().item() for row in tensor])

# In-place operations
print(f"{tensor} \n")
tensor.add_(5)
print(tensor)
tensor.mul_(2).sub_(1)
print(tensor[0])
print(tensor.clamp_(max=10)[0], tensor.clamp_(min=10.5, max=11), tensor.zero_().sum())
row = tensor[1]  # a view: in-place changes show through it
tensor.fill_(2.0)
tensor += 1
print(row, tensor.sum().item(), torch.allclose(tensor, torch.full((4, 4), 3.0)))

# Types
f = torch.tensor([1.7, -2.2, 3.5])
print(f.type(torch.long), f.type(torch.int), f.long(), f.to(torch.float64), f.double().dtype,
      (f > 0).type(torch.float), f.int().float(), torch.tensor([1, 2]).type(torch.half))

# Bridge with NumPy: a CPU tensor and its NumPy array share memory
t = torch.ones(5)
print(f"t: {t}")
n = t.numpy()
print(f"n: {n}")
t.add_(1)
print(f"t: {t}")
print(f"n: {n}")

n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
print(f"t: {t}")
print(f"n: {n}")

# Printing options
torch.set_printoptions(precision=2)
print(torch.tensor([1.23456, 2.5, -3.14159]))
torch.set_printoptions(precision=4)
print(torch.tensor([[1 / 3, 2 / 3], [1.0, 4 / 3]]))
