"""Custom autograd Functions as the pytorch/tutorials "examples_autograd" pages write them:
the Legendre polynomial P3 fitted to sin(x), and a two-layer net with a hand-written ReLU."""

import math

import numpy as np
import torch


class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = (5x^3 - 3x) / 2, with its derivative written by hand."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


dtype = torch.float
device = torch.device("cpu")

x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

# Weights initialised close enough to the result that the fit converges.
a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)

learning_rate = 5e-6
for t in range(2000):
    P3 = LegendrePolynomial3.apply
    p3 = P3(c + d * x)
    y_pred = a + b * p3
    if t == 0:
        print(p3.grad_fn.name(), p3.grad_fn)
        print(p3.grad_fn.next_functions)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

print(f"Result: y = {a.item():.5f} + {b.item():.5f} * P3({c.item():.5f} + {d.item():.5f} x)")


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


rng = np.random.RandomState(0)
N, D_in, H, D_out = 64, 100, 50, 10
x = torch.tensor(rng.randn(N, D_in), dtype=dtype)
y = torch.tensor(rng.randn(N, D_out), dtype=dtype)
w1 = torch.tensor(rng.randn(D_in, H) * 0.1, dtype=dtype, requires_grad=True)
w2 = torch.tensor(rng.randn(H, D_out) * 0.1, dtype=dtype, requires_grad=True)

learning_rate = 1e-4
for t in range(300):
    relu = MyReLU.apply
    y_pred = relu(x.mm(w1)).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    if t % 50 == 49:
        print(t, round(loss.item(), 3))
    loss.backward()
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()


class ScaleAndShift(torch.autograd.Function):
    """Two outputs, a non-tensor argument, and the setup_context style of PyTorch 2."""

    @staticmethod
    def forward(input, scale):
        return input * scale, input + scale

    @staticmethod
    def setup_context(ctx, inputs, output):
        _, scale = inputs
        ctx.scale = scale

    @staticmethod
    def backward(ctx, grad_scaled, grad_shifted):
        return grad_scaled * ctx.scale + grad_shifted, None


v = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
scaled, shifted = ScaleAndShift.apply(v, 4.0)
print(scaled, shifted)
(scaled.sum() + 2 * shifted.sum()).backward()
print(v.grad)
print(torch.autograd.gradcheck(ScaleAndShift.apply, (torch.randn(3, dtype=torch.double,
                                                                 requires_grad=True), 2.0)))
