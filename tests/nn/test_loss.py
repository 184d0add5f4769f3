"""Losses: gradients across options, PyTorch's shape rules, errors and module wiring."""

import math

import numpy as np
import pytest

import trainctl as tc
import trainctl.nn.functional as F
from trainctl.autograd import gradcheck
from trainctl.core.errors import ShapeError

REDUCTIONS = ["mean", "sum", "none"]


def _r(*shape, low=-2.0, high=2.0, seed=0):
    rng = np.random.default_rng(seed + len(shape))
    return tc.tensor(rng.uniform(low, high, shape))


def _away(x, points, gap=0.05):
    """Move values of ``x`` (float64 tensor) off the kinks in ``points``."""
    data = x.numpy().copy()
    for p in points:
        data[np.abs(data - p) < gap] += 2 * gap
    return tc.tensor(data)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs,kinks", [
    ("mse_loss", {}, []), ("l1_loss", {}, [0.0]), ("smooth_l1_loss", {"beta": 0.5}, [0.5, -0.5, 0]),
    ("smooth_l1_loss", {"beta": 0.0}, [0.0]), ("huber_loss", {"delta": 0.7}, [0.7, -0.7]),
])
def test_regression_losses_gradcheck(name, kwargs, kinks, reduction):
    x, t = _r(3, 4), _r(3, 4, seed=1)
    d = _away(x - t, kinks)
    x = t + d
    fn = getattr(F, name)
    assert gradcheck(lambda a, b: fn(a, b, reduction=reduction, **kwargs), [x, t])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_elementwise_weight(name):
    x, t, w = _r(2, 3), _r(2, 3, seed=1), _r(2, 3, low=0.1, high=2.0, seed=2)
    fn = getattr(F, name)
    assert gradcheck(lambda a, b: fn(a, b, weight=w), [x, t])
    per = fn(x, t, reduction="none").numpy()
    np.testing.assert_allclose(fn(x, t, weight=w).item(), (per * w.numpy()).sum() / w.numpy().sum())


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss,
                                  F.binary_cross_entropy_with_logits, F.kl_div])
def test_mismatched_shapes_raise_instead_of_broadcasting(loss):
    with pytest.raises(ShapeError, match=r"\(4, 1\).*\(4,\)"):
        loss(tc.zeros(4, 1), tc.zeros(4))


def test_bad_reduction_and_legacy_flags():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(tc.zeros(2), tc.zeros(2), reduction="avg")
    x, t = tc.tensor([1.0, 3.0]), tc.zeros(2)
    assert F.mse_loss(x, t, size_average=False).item() == 10.0
    assert F.mse_loss(x, t, reduce=False).tolist() == [1.0, 9.0]
    assert tc.nn.MSELoss(size_average=False).reduction == "sum"


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [
    {}, {"weight": "w"}, {"ignore": True}, {"label_smoothing": 0.2},
    {"weight": "w", "ignore": True, "label_smoothing": 0.1},
], ids=["plain", "weight", "ignore", "smooth", "all"])
def test_cross_entropy_class_index_gradcheck(opts, reduction):
    logits = _r(5, 4)
    target = tc.tensor([0, 3, 1, 1, 2])
    if opts.get("ignore"):
        target = tc.tensor([0, -100, 1, 3, -100])
    w = tc.tensor([0.5, 2.0, 1.0, 1.5], dtype=tc.float64) if opts.get("weight") else None
    eps = opts.get("label_smoothing", 0.0)
    assert gradcheck(lambda x: F.cross_entropy(x, target, weight=w, reduction=reduction,
                                               label_smoothing=eps), [logits])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_nd_and_probability_targets_gradcheck(reduction):
    logits = _r(2, 3, 2, 2)
    target = tc.tensor([[[0, 2], [1, 5]], [[2, 2], [0, 1]]])  # 5 is ignored below
    w = tc.tensor([1.0, 2.0, 0.5], dtype=tc.float64)
    assert gradcheck(lambda x: F.cross_entropy(x, target, weight=w, ignore_index=5,
                                               reduction=reduction, label_smoothing=0.1),
                     [logits])
    probs = tc.softmax(_r(2, 3, 2, 2, seed=4), dim=1)
    assert gradcheck(lambda x, p: F.cross_entropy(x, p, weight=w, reduction=reduction,
                                                  label_smoothing=0.2), [logits, probs])


def test_cross_entropy_values_and_stability():
    logits = tc.tensor([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    loss = F.cross_entropy(logits, tc.tensor([0, 2]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.0, math.log(3)], rtol=1e-6, atol=1e-6)
    # weighted mean divides by the summed weights of the non-ignored targets
    x, t = tc.randn(4, 3), tc.tensor([0, 1, -100, 1])
    w = tc.tensor([1.0, 3.0, 5.0])
    per = F.cross_entropy(x, t, weight=w, reduction="none").numpy()
    np.testing.assert_allclose(F.cross_entropy(x, t, weight=w).item(), per.sum() / 7.0, rtol=1e-6)
    # unbatched input (C,) with a 0-d target
    assert F.cross_entropy(tc.zeros(4), tc.tensor(1)).item() == pytest.approx(math.log(4))
    # every target ignored: mean is NaN (0 / 0), as in torch, without a warning
    assert math.isnan(F.cross_entropy(x, tc.full((4,), -100)).item())


def test_cross_entropy_shape_and_target_errors():
    with pytest.raises(ShapeError, match=r"\(4, 3\).*\(4, 1\)"):
        F.cross_entropy(tc.zeros(4, 3), tc.zeros(4, 1, dtype=tc.int64))
    with pytest.raises(TypeError, match="integers"):
        F.cross_entropy(tc.zeros(4, 3), tc.zeros(4))
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(tc.zeros(2, 3), tc.tensor([0, 3]))
    with pytest.raises(ShapeError, match="one entry per class"):
        F.cross_entropy(tc.zeros(2, 3), tc.tensor([0, 1]), weight=tc.ones(4))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(tc.zeros(2, 3), tc.tensor([0, 1]), label_smoothing=1.5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_gradcheck(reduction):
    logp = tc.log_softmax(_r(5, 4), dim=1)
    target = tc.tensor([0, -100, 1, 3, 2])
    w = tc.tensor([0.5, 2.0, 1.0, 1.5], dtype=tc.float64)
    assert gradcheck(lambda x: F.nll_loss(x, target, weight=w, reduction=reduction), [logp])
    assert gradcheck(lambda x: F.nll_loss(x, tc.tensor([[1, 0], [2, 2]]), reduction=reduction),
                     [_r(2, 3, 2)])


def test_cross_entropy_is_log_softmax_then_nll():
    x, t = tc.randn(6, 5), tc.tensor([0, 4, 2, 2, 1, 3])
    np.testing.assert_allclose(F.cross_entropy(x, t).item(),
                               F.nll_loss(F.log_softmax(x, 1), t).item(), rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_gradcheck(reduction):
    p = _r(3, 4, low=0.05, high=0.95)
    t = _r(3, 4, low=0.0, high=1.0, seed=3)
    w = _r(4, low=0.5, high=2.0, seed=5)  # broadcast over rows
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), [p, t])
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction),
                     [p, t])


def test_binary_cross_entropy_clamps_logs_and_checks_range():
    loss = F.binary_cross_entropy(tc.tensor([0.0, 1.0]), tc.tensor([1.0, 0.0]), reduction="none")
    assert loss.tolist() == [100.0, 100.0]
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(tc.tensor([1.5]), tc.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_gradcheck(reduction):
    z, t = _r(3, 4, low=-4, high=4), _r(3, 4, low=0.0, high=1.0, seed=3)
    pw = tc.tensor([0.5, 3.0, 1.0, 2.0], dtype=tc.float64)
    w = _r(3, 1, low=0.5, high=2.0, seed=5)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                     [z, t])
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(
        a, b, weight=w, pos_weight=pw, reduction=reduction), [z, t])


def test_bce_with_logits_is_stable_and_matches_bce():
    z = tc.tensor([-200.0, -3.0, 0.0, 2.0, 200.0])
    t = tc.tensor([1.0, 0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(z, t, reduction="none").numpy()
    np.testing.assert_allclose(loss[[0, 4]], [200.0, 200.0])
    mid = F.binary_cross_entropy(tc.sigmoid(z[1:4]), t[1:4], reduction="none").numpy()
    np.testing.assert_allclose(loss[1:4], mid, rtol=1e-5)


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_gradcheck(reduction, log_target):
    logp = tc.log_softmax(_r(3, 4), dim=1)
    q = tc.softmax(_r(3, 4, seed=2), dim=1)
    target = tc.log(q) if log_target else q
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                     [logp, target])


def test_kl_div_reductions():
    logp = tc.log_softmax(tc.randn(4, 5), 1)
    q = tc.softmax(tc.randn(4, 5), 1)
    total = F.kl_div(logp, q, reduction="sum").item()
    assert F.kl_div(logp, q, reduction="batchmean").item() == pytest.approx(total / 4, rel=1e-6)
    assert F.kl_div(logp, q).item() == pytest.approx(total / 20, rel=1e-6)
    zero_target = F.kl_div(logp, tc.zeros(4, 5), reduction="sum")  # 0 log 0 = 0
    assert zero_target.item() == 0.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss_gradcheck(reduction):
    a, b = _r(4, 3), _r(4, 3, seed=7)
    y = tc.tensor([1, -1, 1, -1])
    assert gradcheck(lambda u, v: F.cosine_embedding_loss(u, v, y, margin=-0.9,
                                                          reduction=reduction), [a, b])
    with pytest.raises(ShapeError):
        F.cosine_embedding_loss(a, b, tc.tensor([1, 1]))


def test_loss_modules_hold_weights_as_buffers():
    w = tc.tensor([1.0, 2.0, 3.0])
    ce = tc.nn.CrossEntropyLoss(weight=w, ignore_index=0, label_smoothing=0.1)
    assert list(ce.state_dict()) == ["weight"]
    x, t = tc.randn(4, 3), tc.tensor([0, 1, 2, 1])
    assert ce(x, t).item() == F.cross_entropy(x, t, weight=w, ignore_index=0,
                                              label_smoothing=0.1).item()
    assert list(tc.nn.CrossEntropyLoss().state_dict()) == []
    bce = tc.nn.BCEWithLogitsLoss(pos_weight=tc.ones(3))
    assert list(bce.state_dict()) == ["pos_weight"]
    assert repr(tc.nn.MSELoss()) == "MSELoss()"
    kl = tc.nn.KLDivLoss(reduction="batchmean", log_target=True)
    logp = tc.log_softmax(x, 1)
    assert kl(logp, logp).item() == pytest.approx(0.0, abs=1e-7)
    assert tc.nn.HuberLoss(delta=0.5)(tc.ones(2), tc.zeros(2)).item() == pytest.approx(0.375)
    assert tc.nn.SmoothL1Loss(beta=2.0)(tc.ones(2), tc.zeros(2)).item() == pytest.approx(0.25)
    assert tc.nn.L1Loss(reduction="sum")(tc.ones(2), tc.zeros(2)).item() == 2.0
    nll = tc.nn.NLLLoss(reduction="sum")
    assert nll(logp, t).item() == pytest.approx(F.nll_loss(logp, t, reduction="sum").item())
    bl = tc.nn.BCELoss()
    assert bl(tc.full((2,), 0.5), tc.ones(2)).item() == pytest.approx(math.log(2), rel=1e-6)
    cos = tc.nn.CosineEmbeddingLoss(margin=0.5)
    assert cos(tc.ones(2, 3), tc.ones(2, 3), tc.tensor([1, -1])).item() == pytest.approx(0.25)


@pytest.mark.parametrize("fn,input", [
    (F.binary_cross_entropy_with_logits, tc.zeros(4, 1)),
    (F.binary_cross_entropy, tc.full((4, 1), 0.5)),
])
@pytest.mark.parametrize("dtype,name", [(tc.int64, "Long"), (tc.int32, "Int"),
                                        (tc.bool, "Bool"), (tc.uint8, "Byte")])
def test_binary_cross_entropies_refuse_integer_targets_as_pytorch(fn, input, dtype, name):
    target = tc.tensor([[0], [1], [1], [0]], dtype=dtype)
    with pytest.raises(RuntimeError, match=f"Found dtype {name} but expected Float") as info:
        fn(input, target)
    assert isinstance(info.value, tc.TrainctlError) and "\n" not in str(info.value)
    with pytest.raises(RuntimeError, match="Found dtype Long but expected Double"):
        fn(input.double(), target.long())
    assert fn(input, target.float()).item() == pytest.approx(math.log(2), rel=1e-6)
    assert fn(input, target.double()).dtype == tc.float32  # float targets of any width: cast
    with pytest.raises(ShapeError, match=r"\(4, 1\).*\(4,\)"):  # the shape is checked first
        fn(input, tc.tensor([0, 1, 1, 0]))


@pytest.mark.parametrize("make,value,key", [
    (lambda w: tc.nn.CrossEntropyLoss(weight=w), [1.0, 1.7, 3], "weight"),
    (lambda w: tc.nn.NLLLoss(weight=w), (1, 2, 3), "weight"),
    (lambda w: tc.nn.BCELoss(weight=w), [0.5], "weight"),
    (lambda w: tc.nn.BCEWithLogitsLoss(weight=w), [2.0], "weight"),
    (lambda w: tc.nn.BCEWithLogitsLoss(pos_weight=w), [3.0], "pos_weight"),
    (lambda w: tc.nn.BCEWithLogitsLoss(pos_weight=w), 3, "pos_weight"),
    (lambda w: tc.nn.CrossEntropyLoss(weight=w), np.array([1.0, 2.0, 3.0]), "weight"),
])
def test_loss_weights_given_as_lists_become_float32_buffers(make, value, key):
    loss = make(value)
    buffer = getattr(loss, key)
    assert isinstance(buffer, tc.Tensor) and buffer.dtype == tc.float32
    expected = [float(v) for v in np.atleast_1d(value)]
    assert buffer.tolist() == pytest.approx(expected)
    assert list(loss.state_dict()) == [key]


def test_list_weights_give_the_same_loss_as_tensor_weights():
    x, t = tc.randn(5, 3), tc.tensor([0, 2, 1, 1, 0])
    listed = tc.nn.CrossEntropyLoss(weight=[1.0, 1.7, 0.5])(x, t).item()
    tensored = tc.nn.CrossEntropyLoss(weight=tc.tensor([1.0, 1.7, 0.5]))(x, t).item()
    assert listed == tensored
    z, y = tc.randn(6, 1), tc.tensor([[1.0], [0.0]] * 3)
    with_list = tc.nn.BCEWithLogitsLoss(pos_weight=[2.5])(z, y).item()
    with_tensor = F.binary_cross_entropy_with_logits(z, y, pos_weight=tc.tensor([2.5])).item()
    assert with_list == pytest.approx(with_tensor, rel=1e-7)
    w = tc.tensor([1.0, 2.0, 3.0], dtype=tc.float64)  # a tensor is kept as it is
    assert tc.nn.CrossEntropyLoss(weight=w).weight is w


@pytest.mark.parametrize("value,match", [
    ("balanced", "weight must be a tensor or a list of numbers, got 'balanced'"),
    ([1.0, "x"], "weight must be a tensor or a list of numbers"),
    ([[1.0], [2.0, 3.0]], "weight must be a tensor or a list of numbers"),
    ([1.0, float("nan")], "weight must be finite numbers"),
    ({"a": 1}, "weight must be a tensor or a list of numbers"),
])
def test_bad_loss_weights_are_value_errors(value, match):
    with pytest.raises(ValueError, match=match):
        tc.nn.CrossEntropyLoss(weight=value)
