"""Build the neural network: Module subclass, layers one by one, Sequential, parameters."""

import numpy as np
import torch
from torch import nn

device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"Using {'cpu' if device == 'cpu' else 'cpu'} device")


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


model = NeuralNetwork().to(device)
print(model)

# Deterministic weights (both frameworks draw their own random init differently)
rng = np.random.RandomState(0)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy((rng.rand(*p.shape) - 0.5).astype(np.float32) * 0.1))

X = torch.from_numpy(np.random.RandomState(1).rand(1, 28, 28).astype(np.float32)).to(device)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}")
print(pred_probab)

# Model layers, one at a time
input_image = torch.from_numpy(np.random.RandomState(2).rand(3, 28, 28).astype(np.float32))
print(input_image.size())

flatten = nn.Flatten()
flat_image = flatten(input_image)
print(flat_image.size())

layer1 = nn.Linear(in_features=28 * 28, out_features=20)
with torch.no_grad():
    weight = np.random.RandomState(3).randn(20, 784).astype(np.float32) * 0.05
    layer1.weight.copy_(torch.from_numpy(weight))
    layer1.bias.zero_()
hidden1 = layer1(flat_image)
print(hidden1.size())

print(f"Before ReLU: {hidden1[0, :6]}\n\n")
hidden1 = nn.ReLU()(hidden1)
print(f"After ReLU: {hidden1[0, :6]}")

seq_modules = nn.Sequential(
    flatten,
    layer1,
    nn.ReLU(),
    nn.Linear(20, 10),
)
with torch.no_grad():
    weight = np.random.RandomState(4).randn(10, 20).astype(np.float32) * 0.1
    seq_modules[3].weight.copy_(torch.from_numpy(weight))
    seq_modules[3].bias.fill_(0.01)
logits = seq_modules(input_image)
softmax = nn.Softmax(dim=1)
pred_probab = softmax(logits)
print(pred_probab.sum(1), pred_probab.argmax(1))
print(seq_modules)

# Model parameters
print(f"Model structure: {model}\n\n")
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")

total = sum(p.numel() for p in model.parameters())
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"{total:,} parameters, {trainable:,} trainable")
print([name for name, _ in model.named_children()], len(list(model.modules())))
print(list(model.state_dict().keys()))
stack = model.linear_relu_stack
print(stack[0], stack[-1].out_features, len(stack))
model.linear_relu_stack[0].requires_grad_(False)
print([p.requires_grad for p in model.parameters()])
print(model.training, model.eval().training, stack.training, model.train().training)

# ModuleList and ModuleDict
class Blocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 1), "b": nn.Linear(4, 2)})

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return {k: head(x).shape for k, head in self.heads.items()}


blocks = Blocks()
print(blocks)
print(blocks(torch.ones(5, 4)), sum(p.numel() for p in blocks.parameters()))
