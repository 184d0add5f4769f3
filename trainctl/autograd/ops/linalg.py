"""Matrix products: ``matmul`` (1-D, 2-D and batched with broadcasting), ``mm``, ``bmm``,
``outer``, ``dot`` and ``einsum``. Each is one BLAS call forward and one per input backward."""

from __future__ import annotations

import string

from ...core import backend
from ...core.errors import ShapeError
from ..array_function import ArrayFunction, sum_to
from ..tensor import Tensor
from .promotion import promote


class MatMul(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return a @ b
        except ValueError:
            raise ShapeError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:  # the common case, no reshaping
            return (grad @ b.T if need_a else None), (a.T @ grad if need_b else None)
        if a.ndim == 1 and b.ndim == 1:  # dot product: the gradient is 0-d
            return (grad * b if need_a else None), (grad * a if need_b else None)
        # Lift 1-D operands to matrices, as matmul itself does, then undo it.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = g2[..., None, :]
        if b.ndim == 1:
            g2 = g2[..., None]
        ga = gb = None
        if need_a:
            ga = sum_to(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if need_b:
            gb = sum_to(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics (1-D vectors, broadcast batches).

    Example:
        >>> import trainctl as tc
        >>> tc.matmul(tc.ones(4, 3), tc.ones(3, 1)).shape
        trainctl.Size([4, 1])
    """
    a, b = promote(a, b)
    if a.array.ndim == 0 or b.array.ndim == 0:
        raise ShapeError(
            f"matmul: both arguments need at least 1 dimension, got shapes "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )
    return MatMul.apply(a, b)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two 2-D matrices."""
    if a.array.ndim != 2 or b.array.ndim != 2:
        raise ShapeError(
            f"mm: expected 2-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched product of (B, n, m) and (B, m, p) tensors."""
    if a.array.ndim != 3 or b.array.ndim != 3 or a.array.shape[0] != b.array.shape[0]:
        raise ShapeError(
            f"bmm: expected 3-D tensors with equal batch size, got shapes "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )
    return matmul(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if a.array.ndim != 1 or b.array.ndim != 1:
        raise ShapeError(
            f"dot: expected 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: shape (n, m)."""
    if a.array.ndim != 1 or b.array.ndim != 1:
        raise ShapeError(
            f"outer: expected 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    from .shape import unsqueeze

    return matmul(unsqueeze(a, 1), unsqueeze(b, 0))


# ---------------------------------------------------------------------------- einsum


def _parse_einsum(equation: str, shapes):
    """Explicit subscripts (``...`` expanded to letters) for each operand and the output."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(f"einsum: equation has {len(terms)} operands but {len(shapes)} were given")
    used = set(equation) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    max_ell = max(
        (len(shape) - len(term.replace("...", "")) for term, shape in zip(terms, shapes)
         if "..." in term),
        default=0,
    )
    ell = "".join(spare[:max_ell])
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            n = len(shape) - len(term.replace("...", ""))
            term = term.replace("...", ell[max_ell - n:])
        if len(term) != len(shape):
            raise ShapeError(
                f"einsum: subscripts '{term}' do not match an operand of shape {tuple(shape)}"
            )
        expanded.append(term)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for term in expanded:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return expanded, out


class Einsum(ArrayFunction):
    @staticmethod
    def forward(ctx, *operands, equation):
        xp = backend.get_array_module(*operands)
        terms, out = _parse_einsum(equation, [op.shape for op in operands])
        ctx.save_for_backward(*operands)
        ctx.meta = (terms, out)
        spec = ",".join(terms) + "->" + out
        return xp.einsum(spec, *operands, optimize=len(operands) > 2)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved
        terms, out = ctx.meta
        xp = backend.get_array_module(grad)
        grads = []
        for i, (term, need) in enumerate(zip(terms, ctx.needs_input_grad)):
            if not need:
                grads.append(None)
                continue
            if len(set(term)) != len(term):
                raise NotImplementedError(
                    f"einsum backward: repeated subscripts within one operand ('{term}') are "
                    "not supported"
                )
            others = [t for j, t in enumerate(terms) if j != i]
            available = set(out).union(*others)
            target = "".join(c for c in term if c in available)
            spec = ",".join([out, *others]) + "->" + target
            g = xp.einsum(spec, grad, *[op for j, op in enumerate(operands) if j != i],
                          optimize=len(operands) > 2)
            # Letters summed away from this operand alone come back by broadcasting; size-1
            # dimensions that were broadcast (in "...") are summed back by the engine.
            sizes = iter(g.shape)
            g = g.reshape([next(sizes) if c in available else 1 for c in term])
            full = tuple(max(n, m) for n, m in zip(g.shape, operands[i].shape))
            grads.append(g if full == g.shape else xp.broadcast_to(g, full))
        return tuple(grads)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, e.g. ``einsum("bij,bjk->bik", a, b)``.

    Example:
        >>> import trainctl as tc
        >>> tc.einsum("ij->j", tc.ones(2, 3))
        tensor([2., 2., 2.])
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return Einsum.apply(*operands, equation=equation)
