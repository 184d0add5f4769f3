"""The element-wise maths family (``sinh``, ``erfinv``, ``lgamma``, ``atan2``, ``xlogy``,
``meshgrid``...) checked against PyTorch, each case written once for either library.

Same shape as ``autograd_cases.py`` (whose input makers this reuses): ``gen_math.py`` runs the
cases on torch and stores inputs, outputs and gradients in ``math.npz``;
``tests/autograd/ops/test_math.py`` runs them on trainctl and compares. Unlike there, an input
may get no gradient (``heaviside``, ``signbit``...): then none is stored, and trainctl must not
give one either. This module imports neither library.
"""

from tests.golden.autograd_cases import flat_outputs, make_inputs, output_weights

NAN, INF = float("nan"), float("inf")
UNIT = [-0.95, -0.5, -0.1, 0.0, 0.3, 0.7, 0.99]  # inside (-1, 1)
WIDE = [-7.3, -2.5, -1.5, -0.4, 0.2, 1.0, 2.5, 9.0, 31.7]
GAMMA = [-4.5, -2.3, -1.5, -0.5, 0.1, 0.5, 1.0, 1.5, 2.0, 3.7, 10.0, 55.5]

__all__ = ["CASES", "flat_outputs", "make_inputs", "output_weights", "run_case"]

def _no_gradient_ops(m, v, h, i, j):
    # PyTorch refuses to backpropagate through heaviside and nextafter: inputs are detached.
    return (m.heaviside(v, h), m.signbit(v), m.isposinf(v), m.isneginf(v), m.sgn(v),
            m.fix(v * 1.7), m.nextafter(v, h), m.gcd(i, j), m.lcm(i, j), m.bitwise_and(i, j),
            m.bitwise_xor(i, j), m.bitwise_or(i, 3), m.bitwise_not(i), m.bitwise_left_shift(i, 2),
            m.bitwise_right_shift(i, 1), m.isreal(v))


# name -> (input specs, expression); the specs are autograd_cases.make_inputs's.
CASES = {
    "trig": (
        [("randn", (3, 4)), ("fixed", UNIT)],
        lambda m, x, u: (m.tan(x * 0.5), m.asin(u), m.acos(u), m.atan(x), m.arcsin(u),
                         m.arccos(u), m.arctan(x)),
    ),
    "hyperbolic": (
        [("randn", (3, 4)), ("fixed", UNIT), ("pos", (5,))],
        lambda m, x, u, p: (m.sinh(x), m.cosh(x), m.asinh(x * 3), m.acosh(p + 1), m.atanh(u),
                            x.sinh(), x.cosh(), m.arcsinh(x), m.arccosh(p + 1.5), m.arctanh(u)),
    ),
    "exp_log_family": (
        [("fixed", WIDE), ("pos", (2, 3)), ("fixed", [-1e-9, 1e-12, 1e-5, 0.25, 3.0])],
        lambda m, w, p, t: (m.exp2(w), m.expm1(w), m.expm1(t), m.log2(p), m.log10(p),
                            m.log1p(t), w.exp2(), p.log10()),
    ),
    "sinc_angles_frac": (
        [("fixed", [-2.0, -1.5, -0.3, 0.0, 0.02, 0.5, 1.0, 2.75]), ("randn", (2, 3))],
        lambda m, s, x: (m.sinc(s), m.deg2rad(x * 90), m.rad2deg(x), m.frac(s * 3.3),
                         m.frac(x * 10)),
    ),
    "logit_nan_to_num": (
        [("fixed", [0.01, 0.2, 0.5, 0.73, 0.999]), ("fixed", [NAN, 1.5, INF, -INF, -2.0])],
        lambda m, p, v: (m.logit(p), m.logit(p, eps=0.1), p.logit(1e-6),
                         m.nan_to_num(v) * 1e-30,  # scaled: the loss's sum must not overflow
                         m.nan_to_num(v, nan=7.0, posinf=1e3, neginf=-1e3),
                         v.nan_to_num(posinf=5.0) * 1e-30),
    ),
    "erf_family": (
        [("fixed", WIDE), ("fixed", UNIT + [0.999999, -0.9999])],
        lambda m, w, u: (m.erf(w * 0.5), m.erfc(w * 0.5), m.erfinv(u), w.erf(), w.erfc(),
                         u.erfinv(), m.erfc(w + 4)),
    ),
    "gamma_family": (
        [("fixed", GAMMA), ("fixed", [1.2, 2.5, 4.0, 7.7])],
        lambda m, g, q: (m.lgamma(g), m.digamma(g), m.polygamma(1, g), m.polygamma(2, q),
                         m.polygamma(3, g), m.polygamma(0, q), g.lgamma(), g.digamma(),
                         q.polygamma(1), m.mvlgamma(q + 1, 3), q.mvlgamma(p=1)),
    ),
    "atan2_hypot_broadcast": (
        [("randn", (3, 1)), ("randn", (1, 4)), ("fixed", [0.0, -1.0, 2.0])],
        lambda m, a, b, c: (m.atan2(a, b), m.arctan2(b, a), m.hypot(a, b), m.atan2(c, -1 - c.abs()),
                            a.atan2(b), m.hypot(c, c * 0 + 3)),
    ),
    "logaddexp_xlogy": (
        [("randn", (2, 3)), ("randn", (3,)), ("fixed", [0.0, 0.0, 1.5, 2.0]),
         ("fixed", [0.0, 2.0, 0.5, 3.0])],
        lambda m, a, b, z, y: (m.logaddexp(a, b), m.logaddexp2(a * 30, b), a.logaddexp(b),
                               m.logaddexp(a + 500, b + 500), m.xlogy(z, y), m.xlogy(y, z + 0.5),
                               z.xlogy(2.0)),
    ),
    "copysign_fmax_fmod": (
        [("randn", (2, 3)), ("randn", (3,)), ("fixed", [1.0, -2.0, 3.0, 0.5])],
        lambda m, a, b, f: (m.copysign(a, b), m.copysign(a, -1.0), m.fmax(a, b), m.fmin(a, b),
                            m.fmod(a * 5, b), m.fmod(f * 3.3, 2), m.fmod(-f * 3.3, 1.5)),
    ),
    "power_lerp_clamp": (
        [("pos", (2, 3)), ("randn", (3,)), ("randn", (2, 3)), ("pos", (3,))],
        lambda m, p, e, a, w: (m.float_power(p, e), m.float_power(p, 2), m.ldexp(a, m.tensor(3)),
                               m.lerp(a, e, 0.3), m.lerp(a, e, 0.8), m.lerp(a, e, w),
                               m.rsub(a, e), m.rsub(a, 2.0, alpha=3), m.clamp_min(a, 0.1),
                               m.clamp_max(a, -0.2), a.lerp(e, w * 0.2)),
    ),
    "special_namespace": (
        [("randn", (2, 3)), ("fixed", [0.0, 0.1, 0.5, 2.0]), ("fixed", [-1.0, -0.5, 1e-8, 3.0])],
        lambda m, x, p, y: (m.special.expit(x), m.special.ndtr(x * 3), m.special.ndtr(x - 8),
                            m.special.gammaln(p + 0.5), m.special.psi(p + 0.5),
                            m.special.multigammaln(p + 2, 2), m.special.entr(p),
                            m.special.xlog1py(p, y), m.special.xlog1py(y, p),
                            m.special.logit(p[1:3]), m.special.erfinv(p[:3]),
                            m.special.polygamma(2, p + 1), m.special.sinc(x),
                            m.special.logsumexp(x, 1), m.special.softmax(x, 0),
                            m.special.log_softmax(x, dim=1), m.special.exp2(x),
                            m.special.round(x * 3)),
    ),
    "meshgrid": (
        [("randn", (3,)), ("randn", (2,)), ("randn", (4,))],
        lambda m, x, y, z: (m.meshgrid(x, y, indexing="ij"), m.meshgrid(x, y, indexing="xy"),
                            m.meshgrid(x, y, z, indexing="xy"), m.meshgrid([y, z], indexing="ij")),
    ),
    "no_gradient_ops": (
        [("fixed", [-1.5, -0.0, 0.0, 2.0, -INF, INF, NAN]), ("fixed", [0.5]),
         ("index", (4,), 40), ("index", (4,), 40)],
        lambda m, v, h, i, j: _no_gradient_ops(m, v.detach(), h.detach(), i, j),
    ),
}


def run_case(m, name, arrays, dtype: str, weights=None, seed: int = 0):
    """Run case ``name`` on library ``m`` with float inputs in ``dtype``.

    Returns (outputs, weights, gradients of the float inputs, None where an input got none) as
    NumPy arrays; ``weights`` default to ``output_weights`` with ``seed``.
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
    live = [(o, w) for o, w in zip(outs, weights) if o.requires_grad]
    if live:
        loss = sum((o * m.tensor(w, dtype=o.dtype)).sum() for o, w in live)
        loss.backward()
    grads = [None if x.grad is None else x.grad.numpy()
             for x in inputs if x.dtype.is_floating_point]
    return [o.detach().numpy() for o in outs], weights, grads
