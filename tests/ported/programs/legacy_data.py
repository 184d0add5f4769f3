"""PyTorch code of the Variable era, still common in tutorials and repositories: the legacy
Variable wrapper, weights initialised and updated through .data, accuracy from outputs.data."""

import numpy as np
import torch
import torch.nn as nn
from torch.autograd import Variable

rng = np.random.RandomState(1)
dtype = torch.float

# A two-layer net trained by hand, the 2017 way: Variables, and updates through .data.
N, D_in, H, D_out = 32, 20, 16, 4
x = Variable(torch.tensor(rng.randn(N, D_in), dtype=dtype), requires_grad=False)
y = Variable(torch.tensor(rng.randn(N, D_out), dtype=dtype), requires_grad=False)
w1 = Variable(torch.tensor(rng.randn(D_in, H) * 0.1, dtype=dtype), requires_grad=True)
w2 = Variable(torch.tensor(rng.randn(H, D_out) * 0.1, dtype=dtype), requires_grad=True)
print(type(w1).__name__, isinstance(w1, Variable), w1.requires_grad, x.requires_grad, w1.is_leaf)

learning_rate = 1e-3
for t in range(200):
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    if t % 40 == 0:
        print(t, round(loss.data.item(), 4))
    loss.backward()
    w1.data -= learning_rate * w1.grad.data
    w2.data -= learning_rate * w2.grad.data
    w1.grad.data.zero_()
    w2.grad.data.zero_()
print("w1 still a leaf:", w1.is_leaf, w1.grad_fn, w1.requires_grad)

# .data is a tensor sharing the storage, outside the graph.
p = torch.ones(3, requires_grad=True)
d = p.data
print(type(d).__name__, d.requires_grad, d.grad_fn, d.is_leaf)
d.mul_(2)
print(p)
print(p.data.norm().item(), p.data.sum())
q = p * 3
print(q.data, q.data.requires_grad)

# Initialisation through .data, as many model files do it.
model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 3))
for m in model.modules():
    if isinstance(m, nn.Linear):
        m.weight.data.normal_(0, 0.01)
        m.bias.data.zero_()
print([bool(m.weight.data.abs().max() < 0.1) for m in model if isinstance(m, nn.Linear)])
print([m.bias.data.tolist() == [0.0] * m.out_features for m in model if isinstance(m, nn.Linear)])
print(all(p.requires_grad and p.is_leaf for p in model.parameters()))
# Deterministic weights for what follows (the random streams differ between frameworks).
for m in model.modules():
    if isinstance(m, nn.Linear):
        m.weight.data = torch.tensor(rng.randn(*m.weight.shape) * 0.5, dtype=dtype)
        m.bias.data.fill_(0.1)

# A classifier trained with hand-written SGD through .data, accuracy from outputs.data.
inputs = torch.tensor(rng.randn(90, 6), dtype=dtype)
labels = torch.tensor(np.arange(90) % 3)
inputs[labels == 1, 0] += 2.0
inputs[labels == 2, 1] -= 2.0
criterion = nn.CrossEntropyLoss()
lr = 0.1
for epoch in range(5):
    outputs = model(inputs)
    loss = criterion(outputs, labels)
    model.zero_grad()
    loss.backward()
    for param in model.parameters():
        param.data.add_(param.grad.data, alpha=-lr)
    _, predicted = torch.max(outputs.data, 1)
    correct = (predicted == labels).sum().item()
    print(f"epoch {epoch}: loss {loss.item():.4f}, accuracy {100 * correct / labels.size(0):.1f}%")

lin = model[2]
b = lin.bias.data.clone()
lin.bias.data.sub_(0.5)
print(b - lin.bias.data)
print(lin.bias.requires_grad, lin.bias.data.requires_grad)
