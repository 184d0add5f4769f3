"""Shape ops: ``reshape/view, flatten, unflatten, squeeze, unsqueeze, permute, transpose, t,
expand, repeat, tile, flip, cat, stack, split, chunk, unbind, meshgrid``.

Most are free NumPy views forward and the inverse reshuffle backward. ``view`` returns a view when
NumPy can and a copy otherwise (PyTorch would refuse a non-contiguous view; here it just works).
"""

from __future__ import annotations

from ...core import backend
from ...core.errors import ShapeError
from ..array_function import ArrayFunction
from ..tensor import Tensor
from .promotion import cast, promote


def _shape_args(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


class Reshape(ArrayFunction):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ShapeError(
                f"shape '{list(shape)}' is invalid for input of size {a.size} "
                f"(shape {tuple(a.shape)})"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


def reshape(a: Tensor, *shape) -> Tensor:
    """The same data with a new shape; one dimension may be -1."""
    shape = _shape_args(shape)
    if shape == a.array.shape:
        return a
    return Reshape.apply(a, shape=shape)


view = reshape


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    shape = a.array.shape
    if not shape:
        return reshape(a, 1)
    s, e = start_dim % len(shape), end_dim % len(shape)
    if s > e:
        raise ValueError("flatten: start_dim cannot come after end_dim")
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(a, shape[:s] + (n,) + shape[e + 1:])


def unflatten(a: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one may be -1)."""
    shape = a.array.shape
    dim = dim % len(shape)
    return reshape(a, shape[:dim] + tuple(sizes) + shape[dim + 1:])


def squeeze(a: Tensor, dim=None) -> Tensor:
    """Drop size-1 dimensions (all, or those in ``dim``)."""
    shape = a.array.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {d % len(shape) for d in dims} if shape else set()
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return reshape(a, new)


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim``."""
    shape = a.array.shape
    dim = dim % (len(shape) + 1)
    return reshape(a, shape[:dim] + (1,) + shape[dim:])


class Permute(ArrayFunction):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return grad.transpose(inverse)


def permute(a: Tensor, *dims) -> Tensor:
    """Reorder dimensions: ``x.permute(2, 0, 1)``."""
    dims = _shape_args(dims)
    n = a.array.ndim
    if len(dims) != n or sorted(d % n for d in dims) != list(range(n)):
        raise ShapeError(f"permute: dims {dims} are not a permutation of {n} dimensions")
    return Permute.apply(a, dims=tuple(d % n for d in dims))


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    n = a.array.ndim
    if n == 0:
        return a
    dims = list(range(n))
    dims[dim0 % n], dims[dim1 % n] = dims[dim1 % n], dims[dim0 % n]
    return Permute.apply(a, dims=tuple(dims))


swapaxes = transpose


def t(a: Tensor) -> Tensor:
    """Transpose of a matrix (0-D and 1-D tensors are returned as they are)."""
    if a.array.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, got {a.array.ndim}")
    return transpose(a, 0, 1) if a.array.ndim == 2 else a


def T(a: Tensor) -> Tensor:
    """All dimensions reversed."""
    return Permute.apply(a, dims=tuple(reversed(range(a.array.ndim))))


class Expand(ArrayFunction):
    @staticmethod
    def forward(ctx, a, shape):
        xp = backend.get_array_module(a)
        try:
            return xp.broadcast_to(a, shape)
        except ValueError:
            raise ShapeError(f"expand: cannot expand shape {tuple(a.shape)} to {shape}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine sums it back to the input's shape


def expand(a: Tensor, *sizes) -> Tensor:
    """Broadcast to a larger shape without copying; -1 keeps a dimension."""
    sizes = _shape_args(sizes)
    shape = a.array.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise ShapeError(f"expand: the number of sizes {sizes} is smaller than the tensor's dims")
    full = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return Expand.apply(a, shape=full)


def expand_as(a: Tensor, other: Tensor) -> Tensor:
    return expand(a, other.array.shape)


def broadcast_to(a: Tensor, shape) -> Tensor:
    return expand(a, tuple(shape))


class Tile(ArrayFunction):
    @staticmethod
    def forward(ctx, a, reps):
        xp = backend.get_array_module(a)
        ctx.meta = (a.shape, reps)
        return xp.tile(a, reps)

    @staticmethod
    def backward(ctx, grad):
        shape, reps = ctx.meta
        shape = (1,) * (len(reps) - len(shape)) + tuple(shape)
        interleaved = []
        for r, s in zip(reps, shape):
            interleaved += [r, s]
        g = grad.reshape(interleaved).sum(axis=tuple(range(0, 2 * len(reps), 2)))
        return g.reshape(ctx.meta[0])


def repeat(a: Tensor, *sizes) -> Tensor:
    """Tile the tensor ``sizes`` times along each dimension (PyTorch's ``Tensor.repeat``)."""
    sizes = _shape_args(sizes)
    if len(sizes) < a.array.ndim:
        raise ShapeError(
            "repeat: number of repeat dims can not be smaller than number of tensor dims"
        )
    return Tile.apply(a, reps=sizes)


def tile(a: Tensor, *dims) -> Tensor:
    """Like ``repeat``, but fewer reps than dimensions are padded with ones at the front."""
    dims = _shape_args(dims)
    dims = (1,) * (a.array.ndim - len(dims)) + dims
    return Tile.apply(a, reps=dims)


class Flip(ArrayFunction):
    @staticmethod
    def forward(ctx, a, axes):
        xp = backend.get_array_module(a)
        ctx.axes = axes
        return xp.flip(a, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        xp = backend.get_array_module(grad)
        return xp.flip(grad, axis=ctx.axes)


def flip(a: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims``."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Flip.apply(a, axes=tuple(d % a.array.ndim for d in dims))


class Cat(ArrayFunction):
    @staticmethod
    def forward(ctx, *arrays, axis):
        xp = backend.get_array_module(*arrays)
        ctx.meta = (axis, [a.shape[axis] for a in arrays])
        return xp.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        axis, sizes = ctx.meta
        grads, start = [], 0
        index = [slice(None)] * grad.ndim
        for size in sizes:
            index[axis] = slice(start, start + size)
            grads.append(grad[tuple(index)])
            start += size
        return tuple(grads)


def _same_dtype(tensors):
    """Cast tensors to their common dtype (PyTorch's promotion), as ``cat`` does."""
    if len({t.array.dtype for t in tensors}) == 1:
        return tensors
    common = tensors[0]
    for t in tensors[1:]:
        common, _ = promote(common, t)
    return [cast(t, common.array.dtype) for t in tensors]


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = [t for t in tensors if not (t.array.ndim == 1 and t.array.shape[0] == 0)] or list(
        tensors
    )
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    tensors = _same_dtype(tensors)
    ndim = tensors[0].array.ndim
    if ndim == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated")
    axis = dim % ndim
    shapes = [t.array.shape for t in tensors]
    for s in shapes[1:]:
        if len(s) != ndim or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != axis):
            raise ShapeError(
                f"cat: sizes of tensors must match except in dimension {dim}; got shapes "
                f"{[tuple(x) for x in shapes]}"
            )
    return Cat.apply(*tensors, axis=axis)


concat = cat
concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shape tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {t.array.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(
            f"stack expects each tensor to be equal size, got shapes "
            f"{[tuple(t.shape) for t in tensors]}"
        )
    dim = dim % (tensors[0].array.ndim + 1)
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def narrow(a: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start:start+length`` along ``dim``."""
    from .indexing import getitem

    if start < 0:  # counts from the end, as in PyTorch
        start += a.array.shape[dim]
    index = [slice(None)] * a.array.ndim
    index[dim] = slice(start, start + length)
    return getitem(a, tuple(index))


def split(a: Tensor, split_size_or_sections, dim: int = 0):
    """Split into chunks of ``split_size`` (last may be smaller) or of the listed sizes."""
    n = a.array.shape[dim]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        sizes = [min(size, n - i) for i in range(0, n, size)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ShapeError(
                f"split: sizes {sizes} do not add up to {n}, the size of dimension {dim}"
            )
    out, start = [], 0
    for size in sizes:
        out.append(narrow(a, dim, start, size))
        start += size
    return tuple(out)


def chunk(a: Tensor, chunks: int, dim: int = 0):
    """Split into ``chunks`` pieces of equal size (the last may be smaller), like PyTorch."""
    n = a.array.shape[dim]
    size = -(-n // chunks)
    return split(a, max(size, 1), dim)


def unbind(a: Tensor, dim: int = 0):
    """The slices along ``dim``, with that dimension removed."""
    from .indexing import getitem

    index = [slice(None)] * a.array.ndim
    out = []
    for i in range(a.array.shape[dim]):
        index[dim] = i
        out.append(getitem(a, tuple(index)))
    return tuple(out)


def meshgrid(*tensors, indexing: str | None = None):
    """Coordinate grids from 1-D tensors: with ``indexing="ij"`` output ``i`` varies along dim
    ``i``; ``"xy"`` swaps the first two dims (NumPy's and MATLAB's default). Without
    ``indexing``, ``"ij"`` with PyTorch's warning. The grids are broadcast views (differentiable).

    Example:
        >>> import trainctl as tc
        >>> xs, ys = meshgrid(tc.tensor([1, 2, 3]), tc.tensor([4, 5]), indexing="xy")
        >>> xs
        tensor([[1, 2, 3],
                [1, 2, 3]])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings

        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    flat = [reshape(t, -1) for t in tensors]  # 0-d inputs count as one element
    if indexing == "xy" and len(flat) >= 2:
        flat[0], flat[1] = flat[1], flat[0]
    sizes = tuple(t.array.shape[0] for t in flat)
    grids = []
    for i, t in enumerate(flat):
        shape = [1] * len(flat)
        shape[i] = -1
        grids.append(expand(reshape(t, shape), sizes))
    if indexing == "xy" and len(grids) >= 2:
        grids[0], grids[1] = grids[1], grids[0]  # back in the order of the inputs
    return tuple(grids)
