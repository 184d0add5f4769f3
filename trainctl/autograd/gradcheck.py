"""``gradcheck``: compare an op's analytic gradients with central finite differences.

Runs in float64. Rather than building whole Jacobians it checks one vector-Jacobian product per
input with a random upstream gradient ``v``: ``d(sum(v * f(x)))/dx`` analytically (one backward)
against numerically (two forward passes per input element).
"""

from __future__ import annotations

import numpy

from .engine import grad as autograd_grad
from .grad_mode import no_grad
from .tensor import Tensor


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0, raise_exception: bool = True) -> bool:
    """True when ``fn``'s gradients w.r.t. its floating-point ``inputs`` match finite differences.

    Floating inputs are copied to float64 leaves; other inputs are passed through. ``fn`` may
    return a tensor or a tuple of tensors (non-float outputs are ignored).

    Example:
        >>> import trainctl as tc
        >>> gradcheck(lambda x: (x * x).sum(), [tc.randn(3)])
        True
    """
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    inputs = [
        Tensor._wrap(x.array.astype(numpy.float64), requires_grad=True)
        if isinstance(x, Tensor) and x.array.dtype.kind == "f" else x
        for x in inputs
    ]
    wrt = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    rng = numpy.random.default_rng(seed)

    def outputs_of(result):
        result = result if isinstance(result, (tuple, list)) else (result,)
        return [r for r in result if isinstance(r, Tensor) and r.array.dtype.kind == "f"]

    outs = outputs_of(fn(*inputs))
    vs = [rng.standard_normal(o.array.shape) for o in outs]
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if live:
        analytic = autograd_grad([o for o, _ in live], wrt, grad_outputs=[v for _, v in live],
                                 allow_unused=True)
    else:
        analytic = [None] * len(wrt)

    def objective():
        with no_grad():
            return sum(float((o.array * v).sum()) for o, v in zip(outputs_of(fn(*inputs)), vs))

    for k, (x, g) in enumerate(zip(wrt, analytic)):
        flat = x.array.reshape(-1)
        numeric = numpy.empty(flat.size)
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            plus = objective()
            flat[i] = orig - eps
            minus = objective()
            flat[i] = orig
            numeric[i] = (plus - minus) / (2 * eps)
        got = numpy.zeros(flat.size) if g is None else numpy.asarray(g.array, numpy.float64).ravel()
        if not numpy.allclose(got, numeric, atol=atol, rtol=rtol):
            if not raise_exception:
                return False
            worst = int(numpy.argmax(numpy.abs(got - numeric)))
            raise AssertionError(
                f"gradcheck: input {k} (shape {tuple(x.shape)}): analytic and numeric gradients "
                f"differ; worst at flat index {worst}: analytic {got[worst]:.6g}, numeric "
                f"{numeric[worst]:.6g}\nanalytic={got}\nnumeric={numeric}"
            )
    return True
