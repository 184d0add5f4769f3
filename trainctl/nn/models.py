"""Model presets a config can name besides ``Sequential``: ``MLP`` and ``LeNet5``.

Both are plain ``nn`` modules, so their ``state_dict`` keys are what the same stack of PyTorch
layers would have.
"""

from __future__ import annotations

from importlib import import_module

from .module import Module
from .modules.activation import ReLU
from .modules.container import Sequential
from .modules.conv import Conv2d
from .modules.dropout import Dropout
from .modules.flatten import Flatten
from .modules.linear import Linear
from .modules.normalization import BatchNorm1d
from .modules.pooling import MaxPool2d

__all__ = ["LeNet5", "MLP"]


class MLP(Sequential):
    """A multi-layer perceptron: Linear layers of ``sizes`` with an activation between them.

    Args:
        sizes: layer widths from input to output, e.g. ``[784, 512, 512, 10]``.
        activation: name of an ``nn`` activation layer (``ReLU``, ``GELU``, ``Tanh``...).
        dropout: dropout probability after each hidden activation (0 = none).
        batch_norm: add ``BatchNorm1d`` after each hidden Linear.
        flatten: start with ``Flatten`` so image batches can go straight in.

    Example:
        >>> from trainctl.nn.models import MLP
        >>> model = MLP([784, 512, 10])
        >>> [type(m).__name__ for m in model]
        ['Flatten', 'Linear', 'ReLU', 'Linear']
    """

    def __init__(self, sizes: list, activation: str = "ReLU", dropout: float = 0.0,
                 batch_norm: bool = False, flatten: bool = True):
        if len(sizes) < 2 or not all(isinstance(s, int) and s > 0 for s in sizes):
            raise ValueError(f"sizes must list at least two positive layer widths, got {sizes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout}")
        # Any layer of tc.nn may serve (Identity makes a linear model), so the name is looked up
        # in the whole package (trainctl.nn, already imported: it contains this module).
        act = getattr(import_module(__package__), activation, None)
        if not (isinstance(act, type) and issubclass(act, Module)):
            raise ValueError(f"activation {activation!r} is not an nn layer (e.g. ReLU, GELU)")
        layers = [Flatten()] if flatten else []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out))
            if i < len(sizes) - 2:
                if batch_norm:
                    layers.append(BatchNorm1d(n_out))
                layers.append(act())
                if dropout:
                    layers.append(Dropout(dropout))
        super().__init__(*layers)


class LeNet5(Module):
    """LeNet-5: (conv 5x5 -> ReLU -> max-pool 2) x 2, then Linear 400-120-84-classes.

    Args:
        in_channels: image channels (1 for MNIST, 3 for CIFAR).
        num_classes: output classes.
        input_size: 28 pads the first convolution by 2 (MNIST); 32 uses no padding (CIFAR).

    Example:
        >>> import trainctl as tc
        >>> from trainctl.nn.models import LeNet5
        >>> LeNet5()(tc.zeros(2, 1, 28, 28)).shape
        trainctl.Size([2, 10])
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28):
        super().__init__()
        if input_size not in (28, 32):
            raise ValueError(f"input_size must be 28 or 32, got {input_size}")
        pad = 2 if input_size == 28 else 0
        self.features = Sequential(
            Conv2d(in_channels, 6, 5, padding=pad), ReLU(), MaxPool2d(2),
            Conv2d(6, 16, 5), ReLU(), MaxPool2d(2),
        )
        self.classifier = Sequential(
            Flatten(), Linear(400, 120), ReLU(), Linear(120, 84), ReLU(),
            Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
