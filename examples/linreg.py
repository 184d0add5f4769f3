"""The seed's linear regression, through trainctl's Python API.

Data x = [[1,2],[2,3],[4,6],[3,1]], y = [[8],[13],[26],[9]]; w starts at [[2],[1]];
MSE with reduction "sum", SGD with lr 0.01, 500 steps. The weights converge to about [2, 3].
"""

import trainctl as tc

x = tc.tensor([[1, 2], [2, 3], [4, 6], [3, 1]], dtype=tc.float32)
y = tc.tensor([[8], [13], [26], [9]], dtype=tc.float32)
w = tc.tensor([[2.0], [1.0]], requires_grad=True)

for _step in range(500):
    loss = ((x @ w - y) ** 2).sum()
    w.grad = None
    loss.backward()
    with tc.no_grad():
        w -= 0.01 * w.grad

print(f"loss after 500 steps: {loss.item():.6f}")
print(f"learned weights: {[round(v, 4) for v in w.detach().reshape(-1).tolist()]}")
