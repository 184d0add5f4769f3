"""Convolutions: gradients (finite differences), a naive reference, shapes, errors, layers."""

import itertools
import math

import numpy as np
import pytest

import trainctl as tc
from trainctl.autograd import gradcheck
from trainctl.core.errors import ShapeError

F = tc.nn.functional


def naive_conv2d(x, w, b, stride, pad, dilation, groups):
    """Direct loops over every output element: slow, obviously right."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (pt, pb, pl, pr), (dh, dw) = stride, pad, dilation
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    ho = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    og = o // groups
    for b_, oc, i, j in itertools.product(range(n), range(o), range(ho), range(wo)):
        g = oc // og
        patch = xp[b_, g * cg:(g + 1) * cg, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                   j * sw:j * sw + dw * (kw - 1) + 1:dw]
        out[b_, oc, i, j] = (patch * w[oc]).sum() + (b[oc] if b is not None else 0)
    return out


CONV2D = [  # stride, padding, dilation, groups, bias
    (1, 0, 1, 1, True),
    (2, 1, 1, 1, True),
    ((2, 1), (1, 2), (1, 2), 1, False),
    (1, 2, 2, 2, True),
    (3, 1, 1, 4, True),  # depthwise
    (1, "same", (2, 1), 1, True),
    (2, "valid", 1, 2, False),
]


def _conv2d_case(stride, padding, dilation, groups, bias, dtype=tc.float64, kernel=(3, 2)):
    x = tc.randn(2, 4, 7, 6, dtype=dtype)
    w = tc.randn(6 if groups != 4 else 4, 4 // groups, *kernel, dtype=dtype)
    b = tc.randn(w.shape[0], dtype=dtype) if bias else None
    return x, w, b


@pytest.mark.parametrize("stride,padding,dilation,groups,bias", CONV2D)
def test_conv2d_gradcheck(stride, padding, dilation, groups, bias):
    x, w, b = _conv2d_case(stride, padding, dilation, groups, bias)
    fn = (lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups)) if bias else \
        (lambda x, w: F.conv2d(x, w, None, stride, padding, dilation, groups))
    assert gradcheck(fn, [x, w, b] if bias else [x, w])


@pytest.mark.parametrize("stride,padding,dilation,groups,bias", CONV2D)
def test_conv2d_matches_naive_loops(stride, padding, dilation, groups, bias):
    x, w, b = _conv2d_case(stride, padding, dilation, groups, bias, kernel=(4, 3))
    out = F.conv2d(x, w, b, stride, padding, dilation, groups).numpy()
    s = (stride,) * 2 if isinstance(stride, int) else stride
    d = (dilation,) * 2 if isinstance(dilation, int) else dilation
    if padding == "same":  # total d*(k-1) per axis, the odd one at the end
        th, tw = d[0] * 3, d[1] * 2
        pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    elif padding == "valid":
        pads = (0, 0, 0, 0)
    else:
        p = (padding,) * 2 if isinstance(padding, int) else padding
        pads = (p[0], p[0], p[1], p[1])
    want = naive_conv2d(x.numpy(), w.numpy(), None if b is None else b.numpy(), s, pads, d,
                        groups)
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-10)
    if padding == "same":
        assert out.shape[2:] == (7, 6)


@pytest.mark.parametrize("stride,padding,dilation,groups", [
    (1, 0, 1, 1), (2, 1, 1, 2), (1, "same", 2, 1), (3, 2, 2, 1)])
def test_conv1d_gradcheck(stride, padding, dilation, groups):
    x, w, b = tc.randn(2, 4, 9, dtype=tc.float64), tc.randn(4, 4 // groups, 3,
                                                              dtype=tc.float64), tc.randn(4)
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation, groups),
                     [x, w, b])


def test_conv1d_is_conv2d_on_a_unit_height():
    x, w, b = tc.randn(2, 3, 10), tc.randn(5, 3, 4), tc.randn(5)
    one = F.conv1d(x, w, b, stride=2, padding=1, dilation=2)
    two = F.conv2d(x.unsqueeze(2), w.unsqueeze(2), b, stride=(1, 2), padding=(0, 1),
                   dilation=(1, 2))
    np.testing.assert_allclose(one.numpy(), two.numpy()[:, :, 0], rtol=1e-6)


CONVT = [  # stride, padding, output_padding, groups, dilation
    (1, 0, 0, 1, 1),
    (2, 1, 1, 1, 1),
    ((2, 3), (0, 1), (1, 2), 2, 1),
    (1, 1, 1, 1, 2),
    (2, 0, 0, 2, (2, 1)),
]


@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation", CONVT)
def test_conv_transpose2d_gradcheck(stride, padding, output_padding, groups, dilation):
    x = tc.randn(2, 4, 3, 4, dtype=tc.float64)
    w = tc.randn(4, 6 // groups, 3, 2, dtype=tc.float64)
    b = tc.randn(6, dtype=tc.float64)
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride, padding,
                                                        output_padding, groups, dilation),
                     [x, w, b])


@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation", CONVT)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(stride, padding, output_padding, groups,
                                                   dilation):
    """<conv_transpose(y), x> == <y, conv(x)>: the transposed op is the gradient of conv2d."""
    y = tc.randn(2, 4, 3, 4, dtype=tc.float64)
    w = tc.randn(4, 6 // groups, 3, 2, dtype=tc.float64)
    up = F.conv_transpose2d(y, w, None, stride, padding, output_padding, groups, dilation)
    x = tc.randn(*up.shape, dtype=tc.float64)
    down = F.conv2d(x, w, None, stride, padding, dilation, groups)
    # output_padding >= stride (allowed when < dilation) adds a row conv2d maps past y's grid.
    down = down[:, :, :3, :4]
    assert down.shape == y.shape
    assert np.isclose((up * x).sum().item(), (y * down).sum().item(), rtol=1e-10)
    s = (stride,) * 2 if isinstance(stride, int) else stride
    p = (padding,) * 2 if isinstance(padding, int) else padding
    op = (output_padding,) * 2 if isinstance(output_padding, int) else output_padding
    d = (dilation,) * 2 if isinstance(dilation, int) else dilation
    want = [(n - 1) * s[i] - 2 * p[i] + d[i] * (k - 1) + op[i] + 1
            for i, (n, k) in enumerate(zip((3, 4), (3, 2)))]
    assert list(up.shape) == [2, 6] + want


def test_conv_transpose1d_gradcheck():
    x, w, b = (tc.randn(2, 2, 5, dtype=tc.float64), tc.randn(2, 3, 3, dtype=tc.float64),
               tc.randn(3, dtype=tc.float64))
    assert gradcheck(lambda x, w, b: F.conv_transpose1d(x, w, b, 3, 1, 2), [x, w, b])


def test_float32_stays_float32_and_unneeded_grads_are_skipped():
    x = tc.randn(2, 3, 8, 8)
    conv = tc.nn.Conv2d(3, 4, 3)
    out = conv(x)
    assert out.dtype == tc.float32
    out.sum().backward()
    assert x.grad is None and conv.weight.grad.dtype == tc.float32
    assert conv.bias.grad.shape == (4,)
    # d(sum)/d(bias) = number of output positions per channel
    np.testing.assert_allclose(conv.bias.grad.numpy(), 2 * 6 * 6)


def test_errors_name_the_shapes():
    with pytest.raises(ShapeError, match=r"\(2, 3, 8, 8\).*\(4, 2, 3, 3\)"):
        F.conv2d(tc.randn(2, 3, 8, 8), tc.randn(4, 2, 3, 3))
    with pytest.raises(ShapeError, match="4-D input"):
        F.conv2d(tc.randn(3, 8), tc.randn(4, 3, 3, 3))
    with pytest.raises(ShapeError, match="smaller than the kernel"):
        F.conv2d(tc.randn(1, 1, 2, 2), tc.randn(1, 1, 3, 3))
    with pytest.raises(ValueError, match="strided"):
        F.conv2d(tc.randn(1, 1, 5, 5), tc.randn(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(ShapeError, match="bias"):
        F.conv2d(tc.randn(1, 1, 5, 5), tc.randn(2, 1, 3, 3), tc.randn(3))
    with pytest.raises(TypeError, match="dtype"):
        F.conv2d(tc.randn(1, 1, 5, 5), tc.randn(2, 1, 3, 3, dtype=tc.float64))
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(tc.randn(1, 1, 3, 3), tc.randn(1, 1, 3, 3), stride=2,
                           output_padding=2)
    with pytest.raises(ValueError, match="divisible"):
        tc.nn.Conv2d(3, 4, 3, groups=2)


@pytest.mark.parametrize("layer,args,fan_in", [
    ("Conv2d", (16, 32, 3), 16 * 9),
    ("Conv2d", (16, 32, (3, 5), 1, 0, 1, 4), 4 * 15),
    ("Conv1d", (8, 64, 5), 8 * 5),
    ("ConvTranspose2d", (32, 16, 3), 16 * 9),  # torch's fan_in is weight.size(1) * k*k
])
def test_default_init_is_torchs(layer, args, fan_in):
    m = getattr(tc.nn, layer)(*args)
    bound = 1 / math.sqrt(fan_in)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-bound, bound) has std bound/sqrt(3): check within sampling error
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert abs(w.mean()) < 0.1 * bound


def test_layer_shapes_and_output_size():
    conv = tc.nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1)
    assert conv.weight.shape == (8, 4, 3, 3)
    x = tc.randn(1, 8, 5, 5)
    assert conv(x).shape == (1, 4, 9, 9)
    assert conv(x, output_size=(10, 10)).shape == (1, 4, 10, 10)
    assert conv(x, output_size=[1, 4, 9, 10]).shape == (1, 4, 9, 10)
    with pytest.raises(ValueError, match="valid sizes range from 9 to 10"):
        conv(x, output_size=(11, 11))
    c1 = tc.nn.Conv1d(4, 6, 3, padding="same", groups=2, bias=False)
    assert c1.weight.shape == (6, 2, 3) and c1.bias is None
    assert c1(tc.randn(2, 4, 9)).shape == (2, 6, 9)
    assert list(c1.state_dict()) == ["weight"]
