"""The default device (``set_default_device``, ``with tc.device(...)``) and ``requires_grad=`` on
every creation function that has it in PyTorch."""

import numpy
import pytest

import trainctl as tc
from trainctl.core.errors import DeviceError

FLOAT_CREATORS = {
    "tensor": lambda **kw: tc.tensor([1.0, 2.0], **kw),
    "zeros": lambda **kw: tc.zeros(2, 3, **kw),
    "ones": lambda **kw: tc.ones((2, 3), **kw),
    "empty": lambda **kw: tc.empty(2, **kw),
    "full": lambda **kw: tc.full((2,), 1.5, **kw),
    "zeros_like": lambda **kw: tc.zeros_like(tc.ones(2), **kw),
    "ones_like": lambda **kw: tc.ones_like(tc.ones(2), **kw),
    "empty_like": lambda **kw: tc.empty_like(tc.ones(2), **kw),
    "full_like": lambda **kw: tc.full_like(tc.ones(2), 3.0, **kw),
    "rand_like": lambda **kw: tc.rand_like(tc.ones(2), **kw),
    "randn_like": lambda **kw: tc.randn_like(tc.ones(2), **kw),
    "arange": lambda **kw: tc.arange(3.0, **kw),
    "linspace": lambda **kw: tc.linspace(0, 1, 5, **kw),
    "logspace": lambda **kw: tc.logspace(0, 1, 5, **kw),
    "eye": lambda **kw: tc.eye(3, **kw),
    "rand": lambda **kw: tc.rand(2, 3, **kw),
    "randn": lambda **kw: tc.randn(2, 3, **kw),
    "normal": lambda **kw: tc.normal(2.0, 3.0, (4,), **kw),
    "randint-float": lambda **kw: tc.randint(0, 5, (3,), dtype=tc.float32, **kw),
    "randperm-float": lambda **kw: tc.randperm(4, dtype=tc.float32, **kw),
}

INT_CREATORS = {
    "randint": lambda **kw: tc.randint(0, 5, (3,), **kw),
    "randperm": lambda **kw: tc.randperm(4, **kw),
    "randint_like": lambda **kw: tc.randint_like(tc.ones(2), 0, 3, dtype=tc.int64, **kw),
    "arange-int": lambda **kw: tc.arange(3, **kw),
}


@pytest.mark.parametrize("name", FLOAT_CREATORS)
def test_requires_grad_makes_a_leaf_that_requires_grad(name):
    t = FLOAT_CREATORS[name](requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    (t * 2).sum().backward()
    assert t.grad is not None and t.grad.shape == t.shape
    assert not FLOAT_CREATORS[name]().requires_grad


@pytest.mark.parametrize("name", INT_CREATORS)
def test_requires_grad_on_integers_is_refused_as_in_torch(name):
    with pytest.raises(RuntimeError, match="floating point"):
        INT_CREATORS[name](requires_grad=True)
    assert not INT_CREATORS[name]().requires_grad


def test_normal_with_tensor_mean_and_std():
    tc.manual_seed(0)
    assert tc.normal(tc.zeros(2, 3), 1.0).shape == (2, 3)
    assert tc.normal(0.0, tc.ones(3)).shape == (3,)
    assert tc.normal(tc.zeros(2, 1), tc.ones(3)).shape == (2, 3)
    with pytest.raises(TypeError):
        tc.normal(tc.zeros(2), 1.0, requires_grad=True)
    with pytest.raises(TypeError, match="needs a size"):
        tc.normal(0.0, 1.0)


@pytest.fixture
def restore_default():
    yield
    tc.set_default_device(None)


def test_set_default_device_moves_creation_functions(restore_default):
    assert tc.get_default_device() == tc.device("cpu")
    tc.set_default_device("meta")
    assert tc.get_default_device() == tc.device("meta")
    for name, make in {**FLOAT_CREATORS, **INT_CREATORS}.items():
        if name.endswith("_like"):
            continue  # a *_like tensor goes where its input is (here: the meta device)
        assert make().device == tc.device("meta"), name
    assert tc.as_tensor([1.0]).is_meta
    assert not tc.from_numpy(numpy.zeros(2)).is_meta  # shares NumPy's memory: always the CPU
    assert tc.nn.Linear(3, 2).weight.is_meta
    assert tc.zeros(2, device="cpu").device == tc.device("cpu")  # an explicit device wins
    tc.set_default_device(None)
    assert tc.get_default_device() == tc.device("cpu") and not tc.zeros(1).is_meta


def test_device_as_a_context_manager_nests_and_restores(restore_default):
    with tc.device("meta") as dev:
        assert dev == tc.device("meta") and tc.get_default_device() == dev
        with tc.device("cpu"):
            assert not tc.ones(2).is_meta
        assert tc.ones(2).is_meta
        model = tc.nn.Sequential(tc.nn.Conv2d(3, 8, 3), tc.nn.BatchNorm2d(8))
    assert tc.get_default_device() == tc.device("cpu")
    assert all(t.is_meta for t in [*model.parameters(), *model.buffers()])
    with pytest.raises(ValueError):
        with tc.device("meta"):
            raise ValueError("restored on errors too")
    assert not tc.ones(1).is_meta


def test_a_missing_gpu_fails_when_set(restore_default, monkeypatch):
    from trainctl.core import backend

    monkeypatch.setattr(backend, "cuda_device_count", lambda: 0)
    monkeypatch.setattr(backend, "_load_cupy", lambda: object())
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        tc.set_default_device("cuda")
    assert tc.get_default_device() == tc.device("cpu")


def test_meta_device_spelling():
    dev = tc.device("meta")
    assert (repr(dev), str(dev), dev.type, dev.index) == ("device(type='meta')", "meta", "meta",
                                                          None)
    assert dev == "meta" and tc.empty(2, device="meta").device == dev
