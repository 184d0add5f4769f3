"""Linear regression with a Module, MSELoss(reduction="sum") and SGD (the seed notes' 1.2.6)."""

import torch

x = torch.tensor([[1, 2], [2, 3], [4, 6], [3, 1]], dtype=torch.float32)
y = torch.tensor([[8], [13], [26], [9]], dtype=torch.float32)


class MyLrModule(torch.nn.Module):
    def __init__(self, lr, iter_count):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([[2], [1]], dtype=torch.float32))
        self.lr = lr
        self.iter_count = iter_count

    def forward(self, x):
        return torch.matmul(x, self.w)


model = MyLrModule(0.01, 500)
print(model)
print([(name, tuple(p.shape), p.requires_grad) for name, p in model.named_parameters()])

loss = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), model.lr)

for i in range(0, model.iter_count):
    y_pred = model(x)
    l = loss(y_pred, y)
    if i % 50 == 0 or i == model.iter_count - 1:
        print(f"iter {i:3d}  loss {l.item():>10.6f}  w {model.w.detach().flatten().tolist()}")

    optimizer.zero_grad()
    l.backward()
    optimizer.step()

print("final w:", model.w)
print("grad of the last step:", model.w.grad)
print("prediction:", model(x).detach().flatten().tolist())
with torch.no_grad():
    print("prediction for [5, 5]:", model(torch.tensor([[5.0, 5.0]])))
print("state_dict:", {k: v.tolist() for k, v in model.state_dict().items()})
