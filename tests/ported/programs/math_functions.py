"""Element-wise maths the way scripts use it: a reproducibility header, hyperbolic and inverse
functions, log-likelihoods written with lgamma/xlogy/logaddexp and their gradients, Gaussian
quantiles from erfinv, a function evaluated on a meshgrid, and in-place updates."""

import math

import numpy as np
import torch
import torch.backends.cudnn as cudnn

torch.manual_seed(0)
torch.use_deterministic_algorithms(True)
cudnn.deterministic = True
cudnn.benchmark = False
torch.set_float32_matmul_precision("high")
print("deterministic:", torch.are_deterministic_algorithms_enabled(),
      torch.get_float32_matmul_precision())

rng = np.random.RandomState(3)
x = torch.tensor(np.linspace(-2, 2, 9), dtype=torch.float32)
print(torch.sinh(x))
print(x.cosh())
print(torch.asinh(x), torch.atan(x))
print(torch.atan2(x, torch.ones_like(x)))
print(torch.erf(x), torch.expm1(x[:3]))
print(torch.deg2rad(torch.tensor([0.0, 90.0, 180.0])), torch.sinc(x[3:6]))

# Poisson negative log-likelihood by hand: lgamma(k + 1) is log(k!)
k = torch.tensor([0.0, 1.0, 2.0, 5.0, 3.0])
log_rate = torch.tensor(rng.randn(5) * 0.3, dtype=torch.float32, requires_grad=True)
nll = (torch.exp(log_rate) - k * log_rate + torch.lgamma(k + 1)).sum()
nll.backward()
print("poisson nll", round(nll.item(), 4))
print(log_rate.grad)

# Beta log-density: the gradients of lgamma are digammas
a = torch.tensor(2.5, requires_grad=True)
b = torch.tensor(1.5, requires_grad=True)
p = torch.tensor([0.1, 0.4, 0.8])
log_pdf = (torch.lgamma(a + b) - torch.lgamma(a) - torch.lgamma(b)
           + (a - 1) * torch.log(p) + (b - 1) * torch.log1p(-p)).sum()
log_pdf.backward()
print("beta log pdf", round(log_pdf.item(), 4), round(a.grad.item(), 4), round(b.grad.item(), 4))
print(torch.digamma(torch.tensor([1.0, 2.5, 4.0])), torch.polygamma(1, torch.tensor([1.0])))

# Binary entropy, where 0 * log 0 must be 0
probs = torch.tensor([0.0, 0.25, 0.5, 1.0])
print(-(torch.xlogy(probs, probs) + torch.xlogy(1 - probs, 1 - probs)))
print(torch.logaddexp(torch.tensor([1000.0, -1000.0]), torch.tensor([1000.0, -999.0])))

# Gaussian quantiles from erfinv
q = torch.tensor([0.025, 0.5, 0.975])
print(math.sqrt(2) * torch.erfinv(2 * q - 1))

# A function on a grid
xs, ys = torch.linspace(-1, 1, 5), torch.linspace(0, 2, 3)
X, Y = torch.meshgrid(xs, ys, indexing="xy")
print(X.shape, torch.hypot(X, Y))
I, J = torch.meshgrid(xs, ys, indexing="ij")
print(I.shape, torch.equal(I, X.T), torch.equal(J, Y.T))

# In place, and the odd ones out
w = torch.tensor([0.5, -1.5, 2.25])
w.sinh_().clamp_(-2, 2)
print(w)
torch.exp_(w)
print(w)
print(w.log10_())
print(torch.frac(torch.tensor([-1.5, 2.25])), torch.fmod(torch.tensor([-3.0, 3.0]), 2))
print(torch.copysign(torch.tensor([1.0, 2.0]), -1), torch.sign(torch.tensor([-2.0, 0.0, 3.0])))
print(torch.nan_to_num(torch.tensor([float("nan"), float("inf"), -1.0]), posinf=9.0))
