"""Datasets & DataLoaders: a custom Dataset, transforms, batching, shuffling, splitting."""

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset, random_split


class CustomImageDataset(Dataset):
    """Images and labels held in memory (the tutorial reads them from files)."""

    def __init__(self, n=200, transform=None, target_transform=None):
        rng = np.random.RandomState(0)
        self.img_labels = rng.randint(0, 10, size=n)
        self.images = rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        image = self.images[idx]
        label = int(self.img_labels[idx])
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


def to_tensor(image):
    return torch.tensor(image, dtype=torch.float32).unsqueeze(0) / 255


def one_hot(y):
    return torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1)


training_data = CustomImageDataset(transform=to_tensor)
print(len(training_data), training_data[0][0].shape, training_data[0][1])
img, label = training_data[3]
print(f"image {tuple(img.shape)} mean {img.mean().item():.6f} max {img.max().item():.6f}, "
      f"label {label}")

# Iterating in batches
train_dataloader = DataLoader(training_data, batch_size=64, shuffle=False)
train_features, train_labels = next(iter(train_dataloader))
print(f"Feature batch shape: {train_features.size()}")
print(f"Labels batch shape: {train_labels.size()}")
print("first labels:", train_labels[:10].tolist(), train_labels.dtype)
print("batches:", len(train_dataloader), [len(y) for _, y in train_dataloader])
print("drop_last:", len(DataLoader(training_data, batch_size=64, drop_last=True)))

# Shuffled order differs between frameworks; what it covers does not
shuffled = DataLoader(training_data, batch_size=50, shuffle=True)
seen = torch.cat([y for _, y in shuffled])
print("shuffle keeps every sample:",
      sorted(seen.tolist()) == sorted(training_data.img_labels.tolist()))

# Target transform: one-hot labels
one_hot_data = CustomImageDataset(transform=to_tensor, target_transform=one_hot)
features, targets = next(iter(DataLoader(one_hot_data, batch_size=4)))
print(targets)
print(targets.argmax(1).tolist() == training_data.img_labels[:4].tolist())

# TensorDataset, Subset and random_split
x = torch.arange(20, dtype=torch.float32).reshape(10, 2)
y = torch.arange(10) % 3
ds = TensorDataset(x, y)
print(len(ds), ds[4])
for xb, yb in DataLoader(ds, batch_size=4):
    print(xb.shape, yb.tolist())
sub = Subset(ds, [0, 2, 4])
print(len(sub), sub[1])
train_set, val_set = random_split(ds, [7, 3], generator=torch.Generator().manual_seed(42))
print(len(train_set), len(val_set),
      sorted(train_set.indices + val_set.indices) == list(range(10)))
parts = random_split(range(10), [0.5, 0.5])
print([len(p) for p in parts])

# A dict-returning dataset collates into a dict of batches
class Pairs(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": torch.tensor([i, i + 1.0]), "y": i % 2, "name": f"s{i}"}


batch = next(iter(DataLoader(Pairs(), batch_size=3)))
print(sorted(batch), batch["x"], batch["y"], batch["name"])

# A custom collate_fn
loader = DataLoader(ds, batch_size=5, collate_fn=lambda items: len(items))
print(list(loader))
