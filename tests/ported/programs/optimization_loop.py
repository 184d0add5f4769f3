"""Optimizing model parameters: hyperparameters, loss, optimizer, train_loop/test_loop."""

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def make_data(n, seed):
    """Two interleaved spirals' worth of 2-d points, mapped to 3 classes by angle."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(-1, 1, size=(n, 8)).astype(np.float32)
    score = x[:, 0] * 2 + x[:, 1] - x[:, 2] * x[:, 3]
    y = np.digitize(score, [-0.7, 0.7])
    return TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


training_data = make_data(512, 0)
test_data = make_data(256, 1)

learning_rate = 1e-1
batch_size = 64
epochs = 6

train_dataloader = DataLoader(training_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(8, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.Tanh(),
            nn.Linear(32, 3),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def fresh_model(seed):
    model = NeuralNetwork()
    rng = np.random.RandomState(seed)
    with torch.no_grad():
        for param in model.parameters():
            fan_in = param.shape[-1] if param.dim() > 1 else 32
            param.copy_(torch.from_numpy(
                rng.uniform(-1, 1, size=tuple(param.shape)).astype(np.float32) / np.sqrt(fan_in)))
    return model


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    # Set the model to training mode - important for batch normalization and dropout layers
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        # Compute prediction and loss
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 4 == 0:
            loss, current = loss.item(), batch * batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test_loop(dataloader, model, loss_fn):
    # Set the model to evaluation mode - important for batch normalization and dropout layers
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0

    # no_grad: no gradients are computed during test mode
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()

    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")


loss_fn = nn.CrossEntropyLoss()

for name, make_optimizer in [
    ("SGD", lambda params: torch.optim.SGD(params, lr=learning_rate)),
    ("SGD momentum", lambda params: torch.optim.SGD(params, lr=learning_rate / 2, momentum=0.9,
                                                    nesterov=True, weight_decay=1e-4)),
    ("Adam", lambda params: torch.optim.Adam(params, lr=1e-2)),
]:
    print(f"=== {name} ===")
    model = fresh_model(0)
    optimizer = make_optimizer(model.parameters())
    for t in range(epochs):
        print(f"Epoch {t+1}\n-------------------------------")
        train_loop(train_dataloader, model, loss_fn, optimizer)
        test_loop(test_dataloader, model, loss_fn)
    print("Done!")
    print(optimizer.param_groups[0]["lr"], len(optimizer.state_dict()["state"]),
          sorted(optimizer.state_dict()["param_groups"][0]))
