"""The small PyTorch surface tutorials touch: devices, dtypes, out=, scatter, unsupported
features, printing layout."""

import numpy
import pytest

import trainctl as tc
from trainctl.autograd.layout import add_suffixes, summarised
from trainctl.core import backend
from trainctl.core.errors import DeviceError
from trainctl.torch_compat.unsupported import UnsupportedFeatureError

HAS_GPU = backend.cuda_is_available()


# ----------------------------------------------------------------------------- devices


def test_cuda_and_accelerator_agree_with_the_backend():
    assert tc.cuda.is_available() is HAS_GPU
    assert tc.cuda.device_count() == backend.cuda_device_count()
    assert tc.accelerator.is_available() is HAS_GPU
    assert tc.accelerator.device_count() == tc.cuda.device_count()
    current = tc.accelerator.current_accelerator()
    assert current == (tc.device("cuda") if HAS_GPU else None)
    device = current.type if tc.accelerator.is_available() else "cpu"
    assert tc.zeros(2, device=device).device.type == device


@pytest.mark.skipif(HAS_GPU, reason="checks the CPU-only behaviour")
def test_cuda_queries_without_a_gpu():
    assert tc.cuda.memory_allocated() == 0 and not tc.cuda.is_initialized()
    tc.cuda.empty_cache()
    with pytest.raises(DeviceError, match="cuda"):
        tc.cuda.current_device()
    with pytest.raises(DeviceError):
        tc.cuda.synchronize()
    tc.accelerator.synchronize()  # nothing queued: a no-op


@pytest.mark.skipif(not HAS_GPU, reason="needs a CUDA GPU and CuPy")
def test_cuda_queries_with_a_gpu():
    x = tc.ones(1000, device="cuda")
    tc.cuda.synchronize()
    assert tc.cuda.current_device() == 0 and tc.cuda.is_initialized()
    assert tc.cuda.memory_allocated() >= x.numel() * 4
    assert isinstance(tc.cuda.get_device_name(), str) and tc.cuda.get_device_name()


def test_cuda_manual_seed_is_accepted_and_leaves_the_shared_generator_alone():
    tc.manual_seed(3)
    a = tc.rand(4)
    tc.manual_seed(3)
    tc.cuda.manual_seed(99)
    tc.cuda.manual_seed_all(99)
    assert tc.equal(tc.rand(4), a)


def test_backends_flags_are_settable():
    tc.backends.cudnn.deterministic = True
    tc.backends.cudnn.benchmark = False
    assert tc.backends.cudnn.deterministic and not tc.backends.mps.is_available()
    assert not tc.backends.mps.is_built()


def test_device_and_model_to():
    device = tc.device("cpu")
    model = tc.nn.Linear(2, 3).to(device)
    assert model.weight.device == device == "cpu" and str(device) == "cpu"
    assert model.to(tc.float64).weight.dtype is tc.float64


# ----------------------------------------------------------------------------- unsupported


@pytest.mark.parametrize("get, feature", [
    (lambda: tc.jit.script, "torch.jit"),
    (lambda: tc.export, "torch.export"),
    (lambda: tc.nn.DataParallel(tc.nn.Linear(1, 1)), "torch.nn.DataParallel"),
    (lambda: tc.amp, "torch.amp"),
    (lambda: tc.cuda.Stream, "CUDA streams"),
    (lambda: tc.cuda.amp.autocast, "torch.cuda.amp"),
    (lambda: tc.cuda.Event, "CUDA events"),
])
def test_unsupported_features_fail_with_one_line_naming_them(get, feature):
    with pytest.raises(UnsupportedFeatureError) as info:
        get()
    message = str(info.value)
    assert message.startswith(feature) and "not supported by trainctl" in message
    assert "\n" not in message
    assert isinstance(info.value, NotImplementedError) and isinstance(info.value, tc.TrainctlError)


def test_unsupported_feature_named_in_from_import():
    with pytest.raises(UnsupportedFeatureError, match="torch.jit"):
        from trainctl import jit  # noqa: F401


def test_unknown_names_stay_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        tc.no_such_thing  # noqa: B018
    assert not hasattr(tc.cuda, "no_such_thing")
    assert "cuda" in dir(tc) and "accelerator" in dir(tc)


# ----------------------------------------------------------------------------- dtypes, tensors


def test_dtype_aliases_and_type():
    assert (tc.float, tc.double, tc.long, tc.int, tc.half) == (
        tc.float32, tc.float64, tc.int64, tc.int32, tc.float16)
    x = tc.tensor([1.7, -2.2])
    assert x.type(tc.long).tolist() == [1, -2] and x.type(tc.long).dtype is tc.int64
    assert x.type() == "trainctl.FloatTensor"
    assert x.type("torch.DoubleTensor").dtype is tc.float64
    assert (x > 0).type(tc.float).tolist() == [1.0, 0.0]


def test_size_numel_is_tensor_len_iter_bool_format():
    x = tc.zeros(2, 3)
    assert isinstance(x.shape, tc.Size) and x.shape == (2, 3) and x.shape.numel() == 6
    assert tc.numel(x) == 6 and tc.is_tensor(x) and not tc.is_tensor([1])
    assert len(x) == 2 and [r.shape for r in x] == [(3,), (3,)]
    assert bool(tc.tensor([[2.0]])) and not bool(tc.tensor([0]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tc.ones(2))
    assert f"{tc.tensor(0.5):>7f}" == "0.500000" and f"{tc.tensor([[1.25]]):.1f}" == "1.2"
    assert tc.tensor([[[4.5]]]).item() == 4.5
    with pytest.raises(RuntimeError, match="2 elements"):
        tc.ones(2).item()


def test_requires_grad_setter_and_generator():
    v = tc.tensor([1.0, 2.0])
    v.requires_grad = True
    (v * v).sum().backward()
    assert v.grad.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="floating point"):
        tc.tensor([1]).requires_grad = True
    g1, g2 = tc.Generator().manual_seed(5), tc.Generator().manual_seed(5)
    assert tc.equal(tc.randperm(20, generator=g1), tc.randperm(20, generator=g2))
    assert sorted(tc.randperm(20).tolist()) == list(range(20))
    assert tc.equal(tc.rand(3, generator=g1), tc.rand(3, generator=g2))


# ----------------------------------------------------------------------------- out=


def test_out_argument_writes_into_the_given_tensor():
    a = tc.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = tc.zeros(2, 2)
    view = out[0]
    result = tc.matmul(a, a, out=out)
    assert result is out and out.tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert view.tolist() == [7.0, 10.0]  # written in place, like PyTorch
    small = tc.zeros(1)
    tc.add(a, 1, out=small)  # resized to the result's shape
    assert small.shape == (2, 2) and small.tolist() == [[2.0, 3.0], [4.0, 5.0]]
    ints = tc.zeros(2, dtype=tc.int64)
    tc.mul(tc.tensor([1.5, 2.0]), 2, out=ints)
    assert ints.dtype is tc.int64 and ints.tolist() == [3, 4]
    assert tc.cat([a, a], out=tc.empty(4, 2)).shape == (4, 2)


def test_out_argument_refuses_results_that_need_gradients():
    w = tc.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="out=.*automatic differentiation"):
        tc.mul(w, 2, out=tc.zeros(2))
    with tc.no_grad():
        assert tc.mul(w, 2, out=tc.zeros(2)).tolist() == [2.0, 2.0]


# ----------------------------------------------------------------------------- scatter, isclose


def test_scatter_one_hot_and_src():
    assert tc.zeros(5).scatter_(0, tc.tensor(3), value=1).tolist() == [0, 0, 0, 1, 0]
    src = tc.arange(1.0, 7.0).reshape(2, 3)
    index = tc.tensor([[0, 1, 2], [2, 0, 1]])
    got = tc.zeros(3, 3).scatter(0, index, src)
    want = numpy.zeros((3, 3), numpy.float32)
    numpy.put_along_axis(want, index.numpy(), src.numpy(), axis=0)
    assert got.tolist() == want.tolist()
    labels = tc.tensor([2, 0])
    one_hot = tc.zeros(2, 4).scatter_(1, labels.unsqueeze(1), 1.0)
    assert one_hot.tolist() == [[0, 0, 1, 0], [1, 0, 0, 0]]
    with pytest.raises(TypeError, match="exactly one of src"):
        tc.zeros(3).scatter_(0, tc.tensor([1]))


def test_scatter_gradients_match_finite_differences():
    a = tc.tensor(numpy.random.RandomState(0).randn(3, 4), dtype=tc.float64, requires_grad=True)
    src = tc.tensor(numpy.random.RandomState(1).randn(2, 4), dtype=tc.float64,
                    requires_grad=True)
    index = tc.tensor([[0, 2, 1, 0], [1, 0, 2, 2]])
    assert tc.autograd.gradcheck(lambda a, s: a.scatter(0, index, s) * 1.5, [a, src])
    assert tc.autograd.gradcheck(lambda a: a.scatter(1, index[:, :2], value=0.5), [a])


def test_isclose_allclose():
    a = tc.tensor([1.0, 2.0, float("nan")])
    b = tc.tensor([1.0 + 1e-7, 2.1, float("nan")])
    assert a.isclose(b).tolist() == [True, False, False]
    assert tc.isclose(a, b, equal_nan=True).tolist() == [True, False, True]
    assert tc.allclose(a[:1], b[:1]) and not tc.allclose(a, b, equal_nan=True)
    assert tc.allclose(a[:2], b[:2], atol=0.2)


# ----------------------------------------------------------------------------- printing layout


def test_layout_summarises_long_dimensions_only():
    data = numpy.arange(40).reshape(4, 10)
    assert summarised(data, 2).tolist() == [[0, 1, 8, 9], [10, 11, 18, 19],
                                            [20, 21, 28, 29], [30, 31, 38, 39]]


def test_suffixes_move_to_their_own_line_when_too_long():
    # (the text comes without its closing parenthesis: add_suffixes closes it)
    assert add_suffixes("tensor([1.]", ["requires_grad=True"], 7) == (
        "tensor([1.], requires_grad=True)")
    long = "tensor([" + ", ".join(["1.0000"] * 8) + "]"
    assert add_suffixes(long, ["grad_fn=<MulBackward>"], 7) == (
        long + ",\n       grad_fn=<MulBackward>)")


def test_repr_follows_print_options():
    try:
        tc.set_printoptions(precision=2, threshold=5, edgeitems=1)
        assert repr(tc.arange(10.0) / 4) == "tensor([0.00,  ..., 2.25])"
        # the format comes from the printed values only (0 and 3 are whole), as in PyTorch
        assert repr(tc.arange(10.0) / 3) == "tensor([0.,  ..., 3.])"
    finally:
        tc.set_printoptions(profile="default")
    assert repr(tc.tensor([1.0, 2.0])) == "tensor([1., 2.])"


# ----------------------------------------------------------------------------- small names


def test_grad_mode_decorators_with_and_without_parentheses():
    w = tc.ones(2, requires_grad=True)

    @tc.no_grad
    def bare(x):
        return (x * 2).requires_grad

    @tc.inference_mode()
    def called(x):
        return (x * 2).requires_grad

    @tc.inference_mode
    def bare_inference(x):
        return (x * 2).requires_grad

    assert not bare(w) and not called(w) and not bare_inference(w)
    assert bare.__name__ == "bare" and (w * 2).requires_grad
    with tc.inference_mode():
        assert not (w * 2).requires_grad
    with tc.inference_mode(False):
        assert (w * 2).requires_grad


def test_finfo_iinfo_and_constants():
    assert tc.finfo(tc.float32).eps == 2.0 ** -23 and tc.finfo().eps == 2.0 ** -23
    assert tc.finfo(tc.float16).max == 65504.0 and tc.finfo(tc.float64).bits == 64
    assert tc.iinfo(tc.int64).max == 2 ** 63 - 1 and tc.iinfo(tc.uint8).min == 0
    assert (tc.pi, tc.e, tc.inf) == (numpy.pi, numpy.e, float("inf")) and tc.nan != tc.nan


def test_legacy_constructors_and_small_functions():
    assert tc.FloatTensor([1, 2]).dtype is tc.float32 and tc.LongTensor([1.0]).dtype is tc.int64
    assert tc.FloatTensor(2, 3).shape == (2, 3) and tc.FloatTensor(2, 3).sum().item() == 0
    assert tc.BoolTensor([1, 0]).tolist() == [True, False]
    assert tc.DoubleTensor([1]).dtype is tc.float64 and tc.IntTensor([1]).dtype is tc.int32
    assert tc.is_floating_point(tc.ones(1)) and not tc.is_floating_point(tc.ones(1).long())
    w = tc.ones(2, requires_grad=True)
    c = tc.clone(w)
    c.sum().backward()
    assert c.grad_fn is not None and w.grad.tolist() == [1.0, 1.0]
