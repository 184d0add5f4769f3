"""Saving and loading a general checkpoint, and several models in one file, then resuming.

In the style of PyTorch's recipes "Saving and loading a general checkpoint for inference and/or
resuming training" and "Saving and loading multiple models in one file": a dictionary with the
epoch, the model's and the optimizer's state_dicts and the loss goes through torch.save and
torch.load; training resumed from it continues exactly as the uninterrupted run.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

rng = np.random.RandomState(0)
images = torch.from_numpy(rng.randn(64, 3, 12, 12).astype(np.float32))
labels = torch.from_numpy(rng.randint(0, 10, 64).astype(np.int64))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 1 * 1, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def fresh(model, seed):
    """Same starting weights in both frameworks (their random streams differ)."""
    init = np.random.RandomState(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(init.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
    return model


def train(model, optimizer, epochs, start=0):
    criterion = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(start, start + epochs):
        running = 0.0
        for i in range(0, 64, 16):
            optimizer.zero_grad()
            loss = criterion(model(images[i:i + 16]), labels[i:i + 16])
            loss.backward()
            optimizer.step()
            running += loss.item()
        print(f"[epoch {epoch + 1}] loss: {running / 4:.4f}")
    return loss


net = fresh(Net(), 1)
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
print(net)
print(optimizer)

# Train a little, then save a general checkpoint
loss = train(net, optimizer, 3)
EPOCH = 3
PATH = "model.pt"
torch.save({
    "epoch": EPOCH,
    "model_state_dict": net.state_dict(),
    "optimizer_state_dict": optimizer.state_dict(),
    "loss": loss,
}, PATH)

# Load the general checkpoint into a new model and optimizer
model = fresh(Net(), 2)
optimizer2 = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
checkpoint = torch.load(PATH, weights_only=True)
print(model.load_state_dict(checkpoint["model_state_dict"]))
optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
epoch = checkpoint["epoch"]
loss = checkpoint["loss"]
print(epoch, loss)
print(list(checkpoint["model_state_dict"].keys()))
print({k: v for k, v in checkpoint["optimizer_state_dict"]["param_groups"][0].items()
       if k in ("lr", "momentum", "params")})
print(checkpoint["optimizer_state_dict"]["state"][0]["momentum_buffer"].shape)

# For inference: eval() mode
model.eval()
with torch.no_grad():
    predicted = model(images[:8]).argmax(dim=1)
    print(predicted, torch.equal(predicted, net(images[:8]).argmax(dim=1)))

# Or resume training: both runs continue identically
train(net, optimizer, 2, start=epoch)
train(model, optimizer2, 2, start=epoch)
print(all(torch.equal(a, b) for a, b in zip(net.parameters(), model.parameters())))

# Several models (a GAN's two halves, say) and their optimizers in one file
netA = fresh(nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2)), 3)
netB = fresh(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 5)), 4)
optimizerA = optim.Adam(netA.parameters(), lr=0.01)
optimizerB = optim.SGD(netB.parameters(), lr=0.1, momentum=0.5)
z = torch.from_numpy(rng.randn(10, 5).astype(np.float32))
for _ in range(5):
    recon = netB(netA(z))
    loss = F.mse_loss(recon, z)
    optimizerA.zero_grad()
    optimizerB.zero_grad()
    loss.backward()
    optimizerA.step()
    optimizerB.step()
print(f"loss before saving: {loss.item():.6f}")
torch.save({
    "modelA_state_dict": netA.state_dict(),
    "modelB_state_dict": netB.state_dict(),
    "optimizerA_state_dict": optimizerA.state_dict(),
    "optimizerB_state_dict": optimizerB.state_dict(),
}, "models.pt")

modelA = fresh(nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2)), 5)
modelB = fresh(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 5)), 6)
optA = optim.Adam(modelA.parameters(), lr=0.01)
optB = optim.SGD(modelB.parameters(), lr=0.1, momentum=0.5)
checkpoint = torch.load("models.pt", weights_only=True)
print(sorted(checkpoint))
modelA.load_state_dict(checkpoint["modelA_state_dict"])
modelB.load_state_dict(checkpoint["modelB_state_dict"])
optA.load_state_dict(checkpoint["optimizerA_state_dict"])
optB.load_state_dict(checkpoint["optimizerB_state_dict"])
print(sorted(checkpoint["optimizerA_state_dict"]["state"][0]),
      checkpoint["optimizerA_state_dict"]["state"][0]["step"])
modelA.train()
modelB.train()
for a, b, opt_a, opt_b in ((netA, netB, optimizerA, optimizerB), (modelA, modelB, optA, optB)):
    for _ in range(5):
        loss = F.mse_loss(b(a(z)), z)
        opt_a.zero_grad()
        opt_b.zero_grad()
        loss.backward()
        opt_a.step()
        opt_b.step()
    print(f"loss after resuming: {loss.item():.6f}")
