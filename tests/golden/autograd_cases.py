"""Composite expressions checked against PyTorch, written once for either library.

Each case is a function of ``m`` (the ``torch`` or ``trainctl`` module) and its input tensors, and
uses only API the two share. ``gen_autograd.py`` runs them on torch and stores inputs, outputs and
gradients; ``tests/autograd/test_parity_torch.py`` runs them on trainctl and compares. This module
imports neither library (only NumPy, to make the inputs).
"""

import numpy

INF = float("inf")


def _pad(m, x, pad):
    fn = m.nn.functional.pad if m.__name__ == "torch" else m.pad
    return fn(x, pad)


def _idx(m, values):
    return m.tensor(values)


# name -> (input specs, expression). Specs: ("randn", shape), ("pos", shape) in [0.5, 2),
# ("distinct", shape) without ties, ("index", shape, high) int64, ("mask", shape) bool,
# ("fixed", nested list) float values chosen for ties and zeros.
CASES = {
    "nll_log_softmax_gather": (
        [("randn", (5, 4)), ("index", (5,), 4)],
        lambda m, z, t: -(z.log_softmax(1).gather(1, t.unsqueeze(1))).mean(),
    ),
    "cross_entropy_logsumexp": (
        [("randn", (6, 3)), ("index", (6,), 3)],
        lambda m, z, t: (z.logsumexp(1) - z.gather(1, t[:, None]).squeeze(1)).mean(),
    ),
    "mlp_tanh": (
        [("randn", (4, 3)), ("randn", (3, 5)), ("randn", (5,)), ("randn", (5, 2)),
         ("randn", (2,))],
        lambda m, x, w1, b1, w2, b2: m.tanh(x @ w1 + b1) @ w2 + b2,
    ),
    "mlp_relu_mse": (
        [("randn", (6, 3)), ("randn", (3, 4)), ("randn", (4,)), ("randn", (4, 1)),
         ("randn", (6, 1))],
        lambda m, x, w1, b1, w2, y: ((m.relu(x @ w1 + b1) @ w2 - y) ** 2).mean(),
    ),
    "linreg_sum_mse": (
        [("fixed", [[1.0, 2.0], [2.0, 3.0], [4.0, 6.0], [3.0, 1.0]]), ("fixed", [[2.0], [1.0]]),
         ("fixed", [[8.0], [13.0], [26.0], [9.0]])],
        lambda m, x, w, y: ((x @ w - y) ** 2).sum(),
    ),
    "logsumexp_dims": (
        [("randn", (2, 3, 4))],
        lambda m, x: (x.logsumexp(1), x.logsumexp((0, 2), keepdim=True), x.logsumexp(-1)),
    ),
    "var_std_corrections": (
        [("randn", (3, 4, 2))],
        lambda m, x: (x.var(1, correction=0), x.std((0, 2), correction=2, keepdim=True),
                      x.var(), x.std(unbiased=False), x.std(-1)),
    ),
    "std_of_constant_row": (
        [("fixed", [[1.5, 1.5, 1.5], [0.0, 1.0, 3.0]])],
        lambda m, x: x.std(1),
    ),
    "norms": (
        [("distinct", (3, 4))],
        lambda m, x: (x.norm(), x.norm(1, dim=1), x.norm(INF, dim=0), x.norm(3, dim=(0, 1)),
                      x.norm(dim=1, keepdim=True)),
    ),
    "norm_at_zero": (
        [("fixed", [[0.0, 0.0, 0.0], [1.0, -2.0, 0.0]])],
        lambda m, x: (x.norm(dim=1), x.norm(3, dim=1), x.norm(1.5, dim=1)),
    ),
    "einsum_attention": (
        [("randn", (2, 3, 4)), ("randn", (2, 5, 4)), ("randn", (2, 5, 4))],
        lambda m, q, k, v: m.einsum("bqk,bkd->bqd",
                                    (m.einsum("bqd,bkd->bqk", q, k) * 0.5).softmax(-1), v),
    ),
    "einsum_ellipsis_summed": (
        [("randn", (2, 1, 3, 4)), ("randn", (5, 4, 2))],
        lambda m, a, b: (m.einsum("...ij,...jk->...ik", a, b), m.einsum("ij,jk->i", a[0, 0], b[0]),
                         m.einsum("bij->j", a[:, 0])),
    ),
    "masked_fill_softmax": (
        [("randn", (3, 4)), ("fixed_mask", [[False, True, False, True], [True, True, True, False],
                                            [False, False, False, False]])],
        lambda m, x, mask: x.masked_fill(mask, -INF).softmax(-1),
    ),
    "cat_stack_split": (
        [("randn", (3, 5)), ("randn", (3, 2))],
        lambda m, x, y: m.stack(
            [m.cat([m.split(x, [2, 3], dim=1)[1] * 2, m.split(x, [2, 3], dim=1)[0].exp()], 1),
             m.cat([y, x[:, :3]], 1)], 0).sum(0),
    ),
    "chunk_unbind": (
        [("randn", (4, 6))],
        lambda m, x: sum((c * (i + 1)).sum(1) for i, c in enumerate(x.chunk(3, 1)))
        + m.stack(x.unbind(1)[::2], 0).prod(0),
    ),
    "clamp_where_maximum_ties": (
        [("fixed", [[-1.0, -0.5, 0.0, 0.5, 1.0, 2.0]]),
         ("fixed", [[-1.0, 0.0, 0.0, 1.0, 1.0, 1.5]])],
        lambda m, x, y: m.maximum(x, y) + m.minimum(x, y) * 2 + x.clamp(-0.5, 0.5) * 3
        + m.where(x > y, x, y * 3) + m.maximum(x, m.tensor(0.5, dtype=x.dtype)),
    ),
    "clamp_tensor_bounds": (
        [("fixed", [0.0, 1.0, 2.0, 5.0, -3.0]), ("fixed", [0.0, 2.0, 3.0, 1.0, -1.0]),
         ("fixed", [4.0, 1.0, 1.0, 5.0, 0.0])],
        lambda m, x, lo, hi: (x.clamp(min=lo, max=hi), x.clamp(min=lo), x.clamp(max=hi)),
    ),
    "prod_with_zeros": (
        [("fixed", [[1.5, 0.0, 2.0, 0.5], [0.0, 1.2, 0.0, 0.9], [0.8, 1.1, 1.3, 0.6]])],
        lambda m, x: (x.prod(1), x.prod(0, keepdim=True), x.prod(), x[2].prod(), x[0].prod()),
    ),
    "max_min_ties": (
        [("fixed", [[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.0, 0.0], [5.0, 5.0, 5.0, 5.0]])],
        lambda m, x: (x.max(1), x.max(), x.min(0), x.amax((0, 1)), x.amin(1, keepdim=True),
                      x.max(0, keepdim=True), x.argmax(1), x.min()),
    ),
    "indexing_repeated": (
        [("randn", (4, 5)), ("index", (6,), 4)],
        lambda m, x, i: (x[i], x[[0, 0, 2]], x[:, [1, 1, 3]], x[[1, 1, 2], [0, 0, 4]],
                         x.index_select(1, _idx(m, [4, 4, 0])), x[None, ..., ::2], x[-1, 1:-1],
                         x.gather(0, _idx(m, [[0, 3, 3, 0, 1], [3, 3, 3, 3, 3]]))),
    ),
    "bool_mask_indexing": (
        [("randn", (3, 4)), ("mask", (3, 4))],
        lambda m, x, mask: (x[mask] * 2).exp(),
    ),
    "pad_positive_and_negative": (
        [("randn", (2, 3, 4))],
        lambda m, x: (_pad(m, x, (1, 2)), _pad(m, x, (-1, 2, 0, -1)),
                      _pad(m, x, (0, 0, 1, 1, 1, 0))),
    ),
    "broadcasting": (
        [("randn", (3, 1)), ("randn", (1, 4)), ("randn", (4,)), ("pos", ())],
        lambda m, a, b, c, d: (a * b + c) / d - a + (b - c) * d,
    ),
    "matmul_ranks": (
        [("randn", (3,)), ("randn", (3, 4)), ("randn", (2, 1, 5, 3)), ("randn", (6, 2, 4))],
        lambda m, v, w, x, y: (v @ w, w.t() @ v, v @ v, x @ w, (y @ w.t()).sum(0), x @ v,
                               m.mm(w.t(), w), m.bmm(y, y.transpose(1, 2)), m.outer(v, v)),
    ),
    "pow_forms": (
        [("pos", (3, 2)), ("randn", (3, 2))],
        lambda m, x, y: (x ** y, 2 ** y, y ** 3, x ** 0.5, x.pow(-1.5), 1.5 ** x, y ** 2),
    ),
    "unary_chain": (
        [("randn", (3, 4))],
        lambda m, x: (m.log1p(x.sigmoid()) + (x.abs() + 1).rsqrt() + m.sqrt(x * x + 1)
                      + x.sin() * x.cos() + m.exp(-x * x) + (x.exp() + 1).log()),
    ),
    "abs_relu_at_zero": (
        [("fixed", [-2.0, -0.0, 0.0, 1.5, 0.0])],
        lambda m, x: (x.abs(), x.relu(), m.relu(x - 1.5)),
    ),
    "softmax_pair": (
        [("randn", (3, 4))],
        lambda m, x: (x.softmax(0) * x.log_softmax(1)).sum() + x.softmax(dim=-1)[:, 0].sum(),
    ),
    "shape_pipeline": (
        [("randn", (2, 3, 4))],
        lambda m, x: (x.permute(2, 0, 1).reshape(4, -1).t().flatten(),
                      x.unsqueeze(0).expand(3, -1, -1, -1).flip(3).repeat(1, 2, 1, 1).sum(0),
                      x.transpose(0, 1).unflatten(2, (2, 2)).squeeze(), x.tile((2,)),
                      x.view(6, 4)[1:5:2], x.flatten(1).narrow(1, 2, 5), x.mT),
    ),
    "reductions_dims": (
        [("randn", (2, 3, 4))],
        lambda m, x: (x.sum((0, 2)), x.mean(-1, keepdim=True), x.sum(), x.mean(),
                      m.sum(x, 1), m.mean(x, (0, 1))),
    ),
    "layer_norm_by_hand": (
        [("randn", (4, 6)), ("randn", (6,)), ("randn", (6,))],
        lambda m, x, g, b: (x - x.mean(-1, keepdim=True))
        / (x.var(-1, keepdim=True, unbiased=False) + 1e-5).sqrt() * g + b,
    ),
    "sort_topk_values": (
        [("distinct", (3, 5))],
        lambda m, x: (x.sort(1).values, x.sort(0, descending=True)[0], x.topk(2, dim=1).values),
    ),
}


def make_inputs(specs, seed: int):
    """The NumPy input arrays of one case (floats in float64)."""
    rng = numpy.random.default_rng(seed)
    arrays = []
    for spec in specs:
        kind = spec[0]
        if kind == "randn":
            arrays.append(rng.standard_normal(spec[1]))
        elif kind == "pos":
            arrays.append(rng.uniform(0.5, 2.0, spec[1]))
        elif kind == "distinct":
            n = int(numpy.prod(spec[1]))
            arrays.append((rng.permutation(n) * 0.37 - n * 0.15 + 0.05).reshape(spec[1]))
        elif kind == "index":
            arrays.append(rng.integers(0, spec[2], spec[1]).astype(numpy.int64))
        elif kind == "mask":
            arrays.append(rng.random(spec[1]) < 0.5)
        elif kind == "fixed":
            arrays.append(numpy.array(spec[1], dtype=numpy.float64))
        elif kind == "fixed_mask":
            arrays.append(numpy.array(spec[1], dtype=bool))
        else:
            raise ValueError(f"unknown input kind {kind!r}")
    return arrays


def flat_outputs(result):
    """A case's result as a flat list of tensors (namedtuples like max's are unpacked)."""
    if isinstance(result, (tuple, list)):
        out = []
        for r in result:
            out += flat_outputs(r)
        return out
    return [result]


def output_weights(shapes, seed: int):
    """Fixed random weights for each output: the loss is ``sum((out_j * w_j).sum())``."""
    rng = numpy.random.default_rng(seed)
    return [rng.standard_normal(tuple(shape)) for shape in shapes]


def run_case(m, name, arrays, dtype: str, weights=None, seed: int = 0):
    """Run case ``name`` on library ``m`` with float inputs in ``dtype``.

    Returns (outputs, weights, gradients of the float inputs) as NumPy arrays. ``weights``
    default to :func:`output_weights` with ``seed``.
    """
    _, fn = CASES[name]
    inputs = []
    for a in arrays:
        if a.dtype.kind == "f":
            inputs.append(m.tensor(a, dtype=getattr(m, dtype), requires_grad=True))
        else:
            inputs.append(m.tensor(a))
    outs = flat_outputs(fn(m, *inputs))
    if weights is None:
        weights = output_weights([o.shape for o in outs], seed)
    loss = sum((o * m.tensor(w, dtype=o.dtype)).sum()
               for o, w in zip(outs, weights) if o.dtype.is_floating_point)
    loss.backward()
    grads = [None if x.grad is None else x.grad.numpy()
             for x in inputs if x.dtype.is_floating_point]
    return [o.detach().numpy() for o in outs], weights, grads
