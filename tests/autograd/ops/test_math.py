"""The element-wise maths family: gradients against finite differences in float64 (over shapes
and broadcasting pairs), values and gradients against PyTorch 2.13 (``tests/golden/math.npz``,
from ``tests/golden/gen_math.py``), the in-place twins, and ``meshgrid``."""

import math

import numpy
import pytest

import trainctl as tc
from tests.autograd.helpers import BROADCAST_PAIRS, away, rand
from tests.golden import math_cases as cases
from tests.golden.fixtures import load_npz
from trainctl.autograd import gradcheck


def span(low, high):
    return lambda *s: rand(*s, low=low, high=high)


UNARY = {
    "tan": (tc.tan, span(-1.2, 1.2)),
    "asin": (tc.asin, span(-0.9, 0.9)),
    "acos": (tc.acos, span(-0.9, 0.9)),
    "atan": (tc.atan, rand),
    "sinh": (tc.sinh, rand),
    "cosh": (tc.cosh, rand),
    "asinh": (tc.asinh, rand),
    "acosh": (tc.acosh, span(1.2, 4.0)),
    "atanh": (tc.atanh, span(-0.9, 0.9)),
    "exp2": (tc.exp2, rand),
    "expm1": (tc.expm1, rand),
    "log2": (tc.log2, span(0.2, 3.0)),
    "log10": (tc.log10, span(0.2, 3.0)),
    "sinc": (tc.sinc, rand),
    "deg2rad": (tc.deg2rad, rand),
    "rad2deg": (tc.rad2deg, rand),
    "frac": (tc.frac, lambda *s: away(*s) + 0.05),
    "logit": (tc.logit, span(0.05, 0.95)),
    "logit_eps": (lambda x: tc.logit(x, eps=0.2), span(0.05, 0.95)),
    "nan_to_num": (tc.nan_to_num, rand),
    "erf": (tc.erf, rand),
    "erfc": (tc.erfc, rand),
    "erfinv": (tc.erfinv, span(-0.95, 0.95)),
    "lgamma": (tc.lgamma, span(0.1, 6.0)),
    "lgamma_negative": (tc.lgamma, span(-0.9, -0.1)),
    "digamma": (tc.digamma, span(0.1, 6.0)),
    "digamma_negative": (tc.digamma, span(-1.9, -1.1)),
    "polygamma1": (lambda x: tc.polygamma(1, x), span(0.3, 6.0)),
    "polygamma2": (lambda x: x.polygamma(2), span(-0.8, -0.2)),
    "mvlgamma": (lambda x: tc.mvlgamma(x, p=3), span(1.1, 5.0)),
    "ndtr": (tc.special.ndtr, rand),
    "entr": (tc.special.entr, span(0.1, 3.0)),
}

BINARY = {
    "atan2": (tc.atan2, rand, rand),
    "hypot": (tc.hypot, away, away),
    "logaddexp": (tc.logaddexp, rand, rand),
    "logaddexp2": (tc.logaddexp2, rand, rand),
    "xlogy": (tc.xlogy, rand, span(0.2, 3.0)),
    "copysign": (tc.copysign, away, away),
    "fmax": (tc.fmax, lambda *s: rand(*s, seed=1), rand),
    "fmin": (tc.fmin, lambda *s: rand(*s, seed=1), rand),
    "fmod": (tc.fmod, lambda *s: rand(*s, low=0.1, high=0.9), span(1.0, 2.0)),
    "float_power": (tc.float_power, span(0.3, 2.0), rand),
    "ldexp": (tc.ldexp, rand, rand),
    "lerp": (lambda a, b: tc.lerp(a, b, 0.7), rand, rand),
    "rsub": (lambda a, b: tc.rsub(a, b, alpha=2), rand, rand),
    "xlog1py": (tc.special.xlog1py, rand, span(-0.5, 3.0)),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 2)], ids=str)
def test_unary_gradients(name, shape):
    fn, make = UNARY[name]
    assert gradcheck(fn, [make(*shape)])


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_gradients(name, shapes):
    fn, make_a, make_b = BINARY[name]
    assert gradcheck(fn, [make_a(*shapes[0]), make_b(*shapes[1])])


def test_lerp_gradient_wrt_a_tensor_weight():
    assert gradcheck(tc.lerp, [rand(2, 3), rand(3, seed=2), rand(2, 1, seed=3)])


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_gradients(indexing):
    assert gradcheck(lambda x, y, z: tc.meshgrid(x, y, z, indexing=indexing),
                     [rand(3), rand(2, seed=1), rand(4, seed=2)])


# ----------------------------------------------------------------------------- PyTorch values

GOLDEN = load_npz("math.npz")
TOLERANCES = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-10, atol=1e-12)}
# PyTorch's trigamma (polygamma(1, x): a short series) is good to about 5e-10 in float64, where
# trainctl's Euler-Maclaurin sum gives pi^2/6 at 1 to the last digit (checked below).
LOOSER = {"gamma_family": dict(rtol=2e-9, atol=1e-12)}


def golden(name, what):
    found, j = [], 0
    while f"{name}.{what}{j}" in GOLDEN:
        found.append(GOLDEN[f"{name}.{what}{j}"])
        j += 1
    return found


def assert_close(got, expected, what, dtype, tolerance=None):
    got, expected = numpy.asarray(got), numpy.asarray(expected)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    if expected.dtype.kind in "iub":
        numpy.testing.assert_array_equal(got, expected, err_msg=what)
    else:
        if tolerance is None or expected.dtype != numpy.float64:
            tolerance = TOLERANCES["float64" if expected.dtype == numpy.float64 else dtype]
        numpy.testing.assert_allclose(got, expected, err_msg=what, **tolerance)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(cases.CASES))
def test_matches_pytorch_golden(name, dtype):
    inputs = golden(name, "in")
    outs, _, grads = cases.run_case(tc, name, inputs, dtype, golden(name, "w"))
    assert len(outs) == len(golden(name, "w"))
    for j, out in enumerate(outs):
        assert_close(out, GOLDEN[f"{name}.{dtype}.out{j}"], f"{name} output {j}", dtype,
                     LOOSER.get(name))
    for i, grad in enumerate(grads):
        key = f"{name}.{dtype}.grad{i}"
        if key not in GOLDEN:
            assert grad is None, f"{name}: input {i} has a gradient, PyTorch gives none"
        else:
            assert grad is not None, f"{name}: input {i} got no gradient"
            assert_close(grad, GOLDEN[key], f"{name} gradient {i}", dtype, LOOSER.get(name))


def test_golden_file_covers_every_case():
    assert {key.split(".")[0] for key in GOLDEN} == set(cases.CASES), (
        "regenerate with tests/golden/gen_math.py")


@pytest.mark.parametrize("name", list(cases.CASES))
def test_matches_pytorch_live(name):
    torch = pytest.importorskip("torch")
    arrays = golden(name, "in")
    expected, weights, expected_grads = cases.run_case(torch, name, arrays, "float64", seed=1)
    outs, _, grads = cases.run_case(tc, name, arrays, "float64", weights)
    for j, (out, exp) in enumerate(zip(outs, expected)):
        assert_close(out, exp, f"{name} output {j}", "float64", LOOSER.get(name))
    for i, (grad, exp) in enumerate(zip(grads, expected_grads)):
        assert (grad is None) == (exp is None), f"{name} gradient {i}"
        if exp is not None:
            assert_close(grad, exp, f"{name} gradient {i}", "float64", LOOSER.get(name))


# ----------------------------------------------------------------------------- edge values


def f64(*values):
    return tc.from_numpy(numpy.array(values, dtype=numpy.float64))


def test_special_functions_at_poles_and_limits():
    nan, inf = math.nan, math.inf
    x = tc.tensor([0.0, -1.0, -2.0, 1.0, 2.0], dtype=tc.float64)
    assert tc.lgamma(x).tolist() == [inf, inf, inf, pytest.approx(0.0, abs=1e-15), 0.0]
    digamma = tc.digamma(x).tolist()
    assert digamma[0] == -inf and math.isnan(digamma[1]) and math.isnan(digamma[2])
    assert tc.erfinv(tc.tensor([1.0, -1.0])).tolist() == [inf, -inf]
    assert math.isnan(tc.erfinv(tc.tensor([1.5])).item())
    assert tc.lgamma(tc.tensor([171.5], dtype=tc.float64)).item() == pytest.approx(
        math.lgamma(171.5), rel=1e-15)
    for y in (3.0, 0.5, 1e-8, -2.0):
        assert tc.erfinv(tc.erf(f64(y))).item() == pytest.approx(y, rel=1e-10)
    assert tc.polygamma(1, tc.tensor([1.0], dtype=tc.float64)).item() == pytest.approx(
        math.pi ** 2 / 6, rel=1e-15)
    assert tc.expm1(f64(1e-10)).item() == 1.00000000005e-10
    assert tc.logaddexp(tc.tensor([1000.0]), tc.tensor([1000.0])).tolist() == [
        pytest.approx(1000.6931, abs=1e-3)]
    assert not tc.isnan(tc.sinc(tc.tensor([0.0]))).any() and tc.sinc(tc.tensor([0.0])).item() == 1
    assert tc.nan_to_num(tc.tensor([nan])).item() == 0.0


def test_gradients_at_special_points_follow_pytorch():
    x = tc.tensor([0.0, 1.0], requires_grad=True)
    tc.sinc(x).sum().backward()
    assert x.grad[0].item() == 0.0 and x.grad[1].item() == pytest.approx(-1.0)
    a = tc.tensor([0.0, 0.0, 1.0], requires_grad=True)
    b = tc.tensor([0.0, 2.0, 0.0], requires_grad=True)
    with numpy.errstate(divide="ignore", invalid="ignore"):
        tc.xlogy(a, b).sum().backward()
    assert a.grad.tolist() == [0.0, pytest.approx(math.log(2)), -math.inf]  # PyTorch's too
    assert math.isnan(b.grad[0].item()) and b.grad.tolist()[1:] == [0.0, math.inf]
    v = tc.tensor([math.nan, 2.0, math.inf], requires_grad=True)
    tc.nan_to_num(v).sum().backward()
    assert v.grad.tolist() == [0.0, 1.0, 0.0]


def test_integer_inputs_compute_in_float32():
    i = tc.tensor([1, 2])
    for fn in (tc.sinh, tc.erf, tc.lgamma, tc.exp2, tc.deg2rad, tc.erfinv, tc.logit):
        assert fn(i).dtype == tc.float32, fn
    assert tc.atan2(i, i).dtype == tc.float32 and tc.hypot(i, i).dtype == tc.float32
    assert tc.fmod(i, 2).dtype == tc.int64 and tc.float_power(i, 2).dtype == tc.float64


def test_no_gradient_ops_return_plain_tensors():
    x = tc.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    for out in (tc.heaviside(x, tc.tensor(0.5)), tc.signbit(x), tc.sgn(x), tc.isposinf(x)):
        assert not out.requires_grad


# ----------------------------------------------------------------------------- in place

INPLACE = ["sinh", "cosh", "tan", "asin", "atanh", "exp2", "expm1", "log2", "erf", "erfinv",
           "lgamma", "digamma", "sinc", "frac", "logit", "nan_to_num", "deg2rad", "sigmoid",
           "exp", "log", "sqrt", "neg", "abs", "trunc", "floor", "sign", "reciprocal"]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_twin_writes_the_result_into_self(name):
    x = tc.tensor([0.2, 0.45, 0.7])
    want = getattr(x, name)()
    y = x.clone()
    assert getattr(y, f"{name}_")() is y
    assert y.tolist() == want.tolist()


def test_inplace_binary_twins_and_torch_functions():
    a, b = tc.tensor([1.0, -2.0]), tc.tensor([3.0, 4.0])
    assert a.clone().atan2_(b).tolist() == tc.atan2(a, b).tolist()
    assert a.clone().hypot_(b).tolist() == pytest.approx([math.sqrt(10), 2 * math.sqrt(5)])
    assert a.clone().lerp_(b, 0.5).tolist() == [2.0, 1.0]
    assert a.clone().polygamma_(1).tolist() == tc.polygamma(1, a).tolist()
    x = tc.tensor([0.0, 1.0])
    assert tc.exp_(x) is x and x.tolist() == [1.0, pytest.approx(math.e)]
    assert tc.sinh_(tc.tensor([0.0])).tolist() == [0.0]


def test_inplace_refuses_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="can't be cast"):
        tc.tensor([1, 2]).sinh_()
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        tc.zeros(3).hypot_(tc.ones(2, 3))
    leaf = tc.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.sinh_()
    with tc.no_grad():
        leaf.sinh_()
    assert leaf.item() == pytest.approx(math.sinh(1.0))


def test_arithmetic_inplace_updates_refuse_a_float_result_in_an_int_tensor():
    i = tc.tensor([6, 4])
    for update in (lambda: i.div_(2), lambda: i.add_(0.5), lambda: i.mul_(tc.tensor([1.5, 1.0]))):
        with pytest.raises(RuntimeError, match="result type float32 can't be cast to the "
                                               "desired output type int64"):
            update()
    assert i.tolist() == [6, 4] and i.sub_(1).tolist() == [5, 3]


def test_inplace_bumps_the_version_so_backward_notices():
    x = tc.tensor([0.3, 0.4], requires_grad=True)
    y = x.exp()  # saves its output for backward
    with tc.no_grad():
        y.sinh_()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


# ----------------------------------------------------------------------------- meshgrid


def test_meshgrid_shapes_values_and_the_pytorch_warning():
    x, y = tc.tensor([1, 2, 3]), tc.tensor([4, 5])
    gx, gy = tc.meshgrid(x, y, indexing="ij")
    assert gx.shape == (3, 2) and gx.tolist() == [[1, 1], [2, 2], [3, 3]]
    assert gy.tolist() == [[4, 5], [4, 5], [4, 5]]
    gx, gy = tc.meshgrid([x, y], indexing="xy")
    assert gx.tolist() == [[1, 2, 3], [1, 2, 3]] and gy.tolist() == [[4, 4, 4], [5, 5, 5]]
    with pytest.warns(UserWarning, match="indexing argument"):
        assert tc.meshgrid(x, y)[0].shape == (3, 2)
    with pytest.raises(ValueError, match="indexing"):
        tc.meshgrid(x, y, indexing="yx")


# ----------------------------------------------------------------------------- aliases


def test_pytorch_aliases_are_the_same_ops():
    a, b = tc.tensor([[1.0, -2.0], [3.0, 4.0]]), tc.tensor([2.0, 8.0])
    assert tc.multiply(a, b).tolist() == (a * b).tolist()
    assert tc.subtract(a, b, alpha=2).tolist() == (a - 2 * b).tolist()
    assert tc.divide(a, b).tolist() == tc.true_divide(a, b).tolist() == (a / b).tolist()
    assert tc.negative(a).tolist() == (-a).tolist() and tc.positive(a) is a
    assert tc.greater(a, 1).tolist() == (a > 1).tolist() and tc.not_equal(a, 3).tolist() == (
        a != 3).tolist()
    assert tc.swapdims(a, 0, 1).tolist() == a.t().tolist() == a.swapdims(0, 1).tolist()
    assert tc.ravel(a).tolist() == a.ravel().tolist() == [1.0, -2.0, 3.0, 4.0]
    assert a.char().dtype == tc.int8 and tc.absolute(a).tolist() == a.abs().tolist()
    assert a[:, tc.newaxis].shape == (2, 1, 2)
    w = tc.tensor([1.0], requires_grad=True)
    assert not tc.detach(w * 2).requires_grad
    one_hot = tc.scatter(tc.zeros(3), 0, tc.tensor([1]), tc.tensor([5.0]))
    assert one_hot.tolist() == [0.0, 5.0, 0.0]
