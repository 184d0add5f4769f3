"""Save and load: model weights, a full training checkpoint, optimizer and scheduler state."""

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.RandomState(0)
x = torch.from_numpy(rng.randn(96, 6).astype(np.float32))
y = torch.from_numpy((rng.randn(96) > 0).astype(np.int64))
loader = DataLoader(TensorDataset(x, y), batch_size=32)


def make_model():
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(p=0.0), nn.Linear(16, 2))
    init = np.random.RandomState(1)
    with torch.no_grad():
        for p in model.parameters():
            values = init.uniform(-0.4, 0.4, size=tuple(p.shape)).astype(np.float32)
            p.copy_(torch.from_numpy(values))
    return model


def train_epochs(model, optimizer, scheduler, epochs):
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        for X, Y in loader:
            loss = loss_fn(model(X), Y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        print(f"epoch {epoch}: loss {loss.item():.6f} lr {scheduler.get_last_lr()}")
    return loss.item()


# Saving and loading model weights
model = make_model()
torch.save(model.state_dict(), "model_weights.pth")
model2 = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(p=0.0), nn.Linear(16, 2))
print(model2.load_state_dict(torch.load("model_weights.pth", weights_only=True)))
model2.eval()
print(all(torch.equal(a, b) for a, b in zip(model.parameters(), model2.parameters())))
print(list(torch.load("model_weights.pth").keys()))

# A general checkpoint: model, optimizer and scheduler state, epoch and loss
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
loss = train_epochs(model, optimizer, scheduler, 3)
EPOCH = 3
torch.save({
    "epoch": EPOCH,
    "model_state_dict": model.state_dict(),
    "optimizer_state_dict": optimizer.state_dict(),
    "scheduler_state_dict": scheduler.state_dict(),
    "loss": loss,
    "note": "after 3 epochs",
    "history": [1, 2.5, None, "x", (1, 2), {"nested": [True, False]}],
}, "checkpoint.pth")

# Keep training the original for reference
reference_loss = train_epochs(model, optimizer, scheduler, 2)

# Resume from the checkpoint: the two continuations must agree exactly
resumed = make_model()
optimizer2 = torch.optim.SGD(resumed.parameters(), lr=0.1, momentum=0.9)
scheduler2 = torch.optim.lr_scheduler.StepLR(optimizer2, step_size=2, gamma=0.5)
checkpoint = torch.load("checkpoint.pth", weights_only=True)
resumed.load_state_dict(checkpoint["model_state_dict"])
optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
scheduler2.load_state_dict(checkpoint["scheduler_state_dict"])
epoch = checkpoint["epoch"]
print(epoch, f"{checkpoint['loss']:.6f}", checkpoint["note"], checkpoint["history"])
print(sorted(checkpoint), sorted(checkpoint["optimizer_state_dict"]))
state = checkpoint["optimizer_state_dict"]
print(sorted(state["state"]), sorted(state["state"][0]), state["param_groups"][0]["params"],
      state["param_groups"][0]["lr"], state["param_groups"][0]["momentum"])
print({k: v for k, v in sorted(checkpoint["scheduler_state_dict"].items())})
resumed.train()
resumed_loss = train_epochs(resumed, optimizer2, scheduler2, 2)
print("resumed run matches:", resumed_loss == reference_loss,
      all(torch.equal(a, b) for a, b in zip(model.parameters(), resumed.parameters())))

# Saving tensors and containers directly
torch.save({"a": torch.arange(6).reshape(2, 3), "b": [torch.ones(2), torch.tensor(3.5)]}, "t.pt")
loaded = torch.load("t.pt")
print(loaded["a"], loaded["b"], loaded["a"].dtype, loaded["b"][1].shape)
torch.save([torch.zeros(2, dtype=torch.float64), 7], "list.pt")
print(torch.load("list.pt", map_location="cpu"))
