"""Linear regression by hand: NumPy gradients, then the same loop on tensors, then autograd.

The seed notes' first program (forward = x @ w, loss = sum of squared errors, gradient
2 x^T (y_pred - y), SGD with LR 0.01 for 500 steps), then the same steps on tensors with the
hand-written gradient, then with ``backward()``: all three must reach the same weights.
"""

import numpy as np
import torch

ITER_COUNT = 500
LR = 0.01


def forward(x, w):
    return np.matmul(x, w)


def loss(y_pred, y):
    return ((y_pred - y) ** 2).sum()


def gradient(x, y, y_pred):
    return np.matmul(x.T, 2 * (y_pred - y))


x = np.array([[1, 2], [2, 3], [4, 6], [3, 1]], dtype=np.float32)
y = np.array([[8], [13], [26], [9]], dtype=np.float32)
w = np.array([[2], [1]], dtype=np.float32)

for i in range(0, ITER_COUNT):
    y_pred = forward(x, w)
    l = loss(y_pred, y)
    if i % 100 == 0:
        print(f"numpy   step {i:3d}: loss {l:.6f}")
    grad = gradient(x, y, y_pred)
    w -= LR * grad
print(f"numpy   w = {w.ravel().tolist()}, loss {loss(forward(x, w), y):.6f}")

# The same on tensors, gradient still by hand
xt, yt = torch.from_numpy(x), torch.tensor(y)
wt = torch.tensor([[2], [1]], dtype=torch.float32)
for i in range(ITER_COUNT):
    y_pred = torch.matmul(xt, wt)
    l = ((y_pred - yt) ** 2).sum()
    if i % 100 == 0:
        print(f"tensor  step {i:3d}: loss {l.item():.6f}")
    wt -= LR * torch.matmul(xt.T, 2 * (y_pred - yt))
print(f"tensor  w = {wt.flatten().tolist()}")

# And with autograd: backward() computes the same gradient
wa = torch.tensor([[2.0], [1.0]], requires_grad=True)
for i in range(ITER_COUNT):
    l = ((xt @ wa - yt) ** 2).sum()
    if i == 0:
        l.backward()
        by_hand = torch.matmul(xt.T, 2 * (xt @ wa.detach() - yt))
        print("autograd gradient", wa.grad.flatten().tolist(),
              "by hand", by_hand.flatten().tolist())
        wa.grad = None
        l = ((xt @ wa - yt) ** 2).sum()
    if i % 100 == 0:
        print(f"autograd step {i:3d}: loss {l.item():.6f}")
    l.backward()
    with torch.no_grad():
        wa -= LR * wa.grad
    wa.grad.zero_()
print(f"autograd w = {wa.detach().flatten().tolist()}")
print("all close:", np.allclose(w, wt.numpy(), atol=1e-4),
      np.allclose(w, wa.detach().numpy(), atol=1e-4))
