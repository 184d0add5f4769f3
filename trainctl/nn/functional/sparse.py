"""``embedding``: rows of a weight matrix picked by integer indices."""

from __future__ import annotations

from ...autograd.array_function import ArrayFunction
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...autograd.trace import refuse_in_graph
from ...core import backend
from ...core.errors import ShapeError

__all__ = ["embedding"]


class Embedding(ArrayFunction):
    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.meta = (weight.shape, indices, padding_idx, scale_grad_by_freq)
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        shape, indices, padding_idx, by_freq = ctx.meta
        xp = backend.get_array_module(grad)
        flat = indices.reshape(-1)
        rows = grad.reshape(-1, shape[1])
        if by_freq:
            counts = xp.bincount(flat, minlength=shape[0])
            rows = rows / counts[flat][:, None].astype(rows.dtype)
        out = xp.zeros(shape, dtype=grad.dtype)
        xp.add.at(out, flat, rows)
        if padding_idx is not None:
            out[padding_idx] = 0  # the padding row gets no gradient, as in PyTorch
        return out


def _renorm_(weight: Tensor, indices, max_norm: float, norm_type: float) -> None:
    """Rescale (in place) the looked-up rows whose norm exceeds ``max_norm``."""
    refuse_in_graph("Embedding(max_norm=...) (it rescales rows in place outside an op)")
    xp = backend.get_array_module(weight.array)
    rows = xp.unique(indices.reshape(-1))
    w = weight.array[rows]
    norms = (xp.abs(w) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    with no_grad():
        weight.array[rows] = w * scale[:, None]
        weight._version += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` (num_embeddings, dim) at the integer ``input`` indices.

    The row at ``padding_idx`` gets no gradient. With ``max_norm`` the looked-up rows are
    renormalised in place first, as in PyTorch.

    Example:
        >>> import trainctl as tc
        >>> embedding(tc.tensor([[0, 2]]), tc.eye(3)).shape
        trainctl.Size([1, 2, 3])
    """
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported; use sparse=False")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D, got shape {tuple(weight.shape)}")
    idx = input.array if isinstance(input, Tensor) else backend.get_array_module().asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got dtype {idx.dtype}")
    if backend.cupy is not None:
        idx = backend.to_device(idx, weight.device)
    num = weight.shape[0]
    if idx.size and not backend.is_meta(idx) and (int(idx.min()) < 0 or int(idx.max()) >= num):
        raise IndexError(
            f"embedding: index out of range: indices span [{int(idx.min())}, {int(idx.max())}] "
            f"but the table has {num} rows"
        )
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"Padding_idx must be within num_embeddings, got {padding_idx}")
        padding_idx = padding_idx % num
    if max_norm is not None:
        _renorm_(weight, idx, float(max_norm), float(norm_type))
    return Embedding.apply(weight, indices=idx, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))
