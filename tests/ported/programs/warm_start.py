"""Warmstarting a model with parameters from a different model (``strict=False``).

In the style of PyTorch's recipe "Warmstarting model using parameters from a different model":
a trained network's state_dict seeds a new network that shares only some of its layers. Keys
that fit are copied, the rest are reported as missing or unexpected; renamed layers are mapped by
editing the dictionary, and a layer whose shape changed is left out by hand.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

rng = np.random.RandomState(0)
x = torch.from_numpy(rng.randn(128, 10).astype(np.float32))
y = torch.from_numpy((x[:, :3].sum(dim=1) > 0).long().numpy())


def fresh(model, seed):
    init = np.random.RandomState(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(init.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
    return model


class NetA(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 32)
        self.fc2 = nn.Linear(32, 16)
        self.head = nn.Linear(16, 2)

    def forward(self, x):
        return self.head(F.relu(self.fc2(F.relu(self.fc1(x)))))


class NetB(nn.Module):
    """NetA's body, a new hidden layer and a new three-class head."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 32)
        self.fc2 = nn.Linear(32, 16)
        self.fc3 = nn.Linear(16, 16)
        self.classifier = nn.Linear(16, 3)

    def forward(self, x):
        x = F.relu(self.fc2(F.relu(self.fc1(x))))
        return self.classifier(F.relu(self.fc3(x)))


def fit(model, targets, steps):
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        loss = F.cross_entropy(model(x), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


netA = fresh(NetA(), 1)
print(f"netA trained, loss {fit(netA, y, 40):.5f}")
PATH = "model.pt"
torch.save(netA.state_dict(), PATH)

# Load what fits: strict=False reports the rest instead of raising
netB = fresh(NetB(), 2)
result = netB.load_state_dict(torch.load(PATH, weights_only=True), strict=False)
print(result)
print(result.missing_keys)
print(result.unexpected_keys)
print(torch.equal(netB.fc1.weight, netA.fc1.weight), torch.equal(netB.fc2.bias, netA.fc2.bias))

# strict=True (the default) refuses the same dictionary
try:
    netB.load_state_dict(torch.load(PATH, weights_only=True))
except RuntimeError:
    print("strict load refused")

# Renamed layers: map the keys, then load
state = torch.load(PATH, weights_only=True)
renamed = {k.replace("head.", "classifier."): v for k, v in state.items()}
try:
    netB.load_state_dict(renamed, strict=False)
except RuntimeError:
    print("size mismatch for classifier.weight: strict=False does not skip wrong shapes")
own = netB.state_dict()
fitting = {k: v for k, v in renamed.items() if k in own and v.shape == own[k].shape}
print(sorted(fitting))
print(netB.load_state_dict(fitting, strict=False))

# Freeze the warm-started body and fine-tune the new layers on a three-class task
for p in list(netB.fc1.parameters()) + list(netB.fc2.parameters()):
    p.requires_grad_(False)
print([name for name, p in netB.named_parameters() if p.requires_grad])
y3 = torch.from_numpy(np.digitize(x[:, 0].numpy(), [-0.5, 0.5]).astype(np.int64))
before = netB.fc1.weight.clone()
optimizer = optim.SGD([p for p in netB.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
for epoch in range(3):
    for _ in range(20):
        loss = F.cross_entropy(netB(x), y3)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    accuracy = (netB(x).argmax(dim=1) == y3).float().mean()
    print(f"epoch {epoch}: loss {loss.item():.5f}, accuracy {accuracy.item():.4f}")
print(torch.equal(before, netB.fc1.weight), netB.fc1.weight.grad is None)

# The same warm start from a model saved whole-module-free, as a plain dict of tensors
cold = fresh(NetB(), 2)
print(f"cold start loss {fit(cold, y3, 60):.5f}")
