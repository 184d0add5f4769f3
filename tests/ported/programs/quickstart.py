"""Quickstart: data -> model -> train/test loop -> save -> load -> predict.

The FashionMNIST quickstart, on generated 28x28 images (10 classes, each a fixed random pattern
plus noise) so nothing is downloaded. Weights start from a NumPy RandomState so every framework
that runs this file prints the same numbers.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class FakeFashionMNIST(Dataset):
    """uint8 28x28 images, labels 0..9; ``transform`` turns an image into a (1, 28, 28) tensor."""

    def __init__(self, train=True, transform=None, target_transform=None):
        rng = np.random.RandomState(1 if train else 2)
        n = 640 if train else 160
        prototypes = np.random.RandomState(0).rand(10, 28, 28)
        self.labels = rng.randint(0, 10, size=n)
        noise = rng.rand(n, 28, 28)
        self.images = (255 * (0.4 * prototypes[self.labels] + 0.6 * noise)).astype(np.uint8)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image, label = self.images[idx], int(self.labels[idx])
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


def to_tensor(image):
    """Like torchvision's ToTensor: uint8 HxW -> float (1, H, W) in [0, 1]."""
    return torch.from_numpy(image).unsqueeze(0).float() / 255


training_data = FakeFashionMNIST(train=True, transform=to_tensor)
test_data = FakeFashionMNIST(train=False, transform=to_tensor)

batch_size = 64
train_dataloader = DataLoader(training_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {X.shape}")
    print(f"Shape of y: {y.shape} {y.dtype}")
    break

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def init_from_numpy(model, seed):
    """Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights from a NumPy RandomState."""
    rng = np.random.RandomState(seed)
    with torch.no_grad():
        for _name, param in model.named_parameters():
            if param.dim() > 1:
                bound = 1 / math.sqrt(param.shape[1])
            values = rng.uniform(-bound, bound, size=tuple(param.shape)).astype(np.float32)
            param.copy_(torch.from_numpy(values))


model = NeuralNetwork().to(device)
init_from_numpy(model, seed=0)
print(model)

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 4 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")


epochs = 5
for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    test(test_dataloader, model, loss_fn)
print("Done!")

torch.save(model.state_dict(), "model.pth")
print("Saved PyTorch Model State to model.pth")

model = NeuralNetwork().to(device)
model.load_state_dict(torch.load("model.pth", weights_only=True))

classes = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

model.eval()
x, y = test_data[0][0], test_data[0][1]
with torch.no_grad():
    x = x.to(device)
    pred = model(x)
    predicted, actual = classes[pred[0].argmax(0)], classes[y]
    print(f'Predicted: "{predicted}", Actual: "{actual}"')
