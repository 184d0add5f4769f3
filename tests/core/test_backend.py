"""Devices without a GPU: parsing, the no-CuPy error, and a fake CuPy to exercise the CUDA paths.

The fake module stands in for CuPy: its arrays are NumPy arrays marked with a device id, so
maths on them runs through NumPy while trainctl's device bookkeeping (``device_of``,
``to_device``, ``check_same_device``) sees two kinds of arrays, as it would with a real GPU.
"""

import contextlib
import sys
import types

import numpy
import pytest

import trainctl as tc
from trainctl.core import backend

# ---------------------------------------------------------------------------- device objects


def test_device_parsing_equality_and_str():
    assert repr(tc.device("cpu")) == "device(type='cpu')"
    assert repr(tc.device("cuda")) == "device(type='cuda', index=0)"
    assert str(tc.device("cuda:1")) == "cuda:1" and str(tc.device("cpu")) == "cpu"
    assert tc.device("cuda", 2).index == 2 and tc.device(" CUDA:3 ").index == 3
    assert tc.device(tc.device("cuda:1")) == tc.device("cuda:1")
    assert tc.device("cuda") == "cuda:0" and tc.device("cpu") == "cpu"
    assert tc.device("cpu") != "cuda" and tc.device("cpu") != "not a device"
    assert tc.device("cpu") != 0
    assert len({tc.device("cuda:0"), tc.device("cuda"), tc.device("cpu")}) == 2
    assert tc.ones(1).device == "cpu" and tc.ones(1).device.type == "cpu"
    assert not tc.ones(1).is_cuda


@pytest.mark.parametrize("spec,message", [
    ("tpu", "unknown device 'tpu'"),
    ("cuda:x", "bad device index"),
    ("cuda:-1", "bad device index"),
    (3.5, "device must be a string"),
])
def test_bad_device_specs(spec, message):
    with pytest.raises(tc.DeviceError, match=message):
        tc.device(spec)


def test_as_device_accepts_none_strings_ints():
    assert backend.as_device(None) == "cpu"
    assert backend.as_device(1) == "cuda:1"
    assert backend.as_device("cuda:0") == tc.device("cuda", 0)


def test_to_cpu_is_a_no_op():
    x = tc.ones(2, requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to(tc.device("cpu")) is x


# ---------------------------------------------------------------------------- without CuPy


@pytest.fixture
def no_cupy(monkeypatch):
    """Make ``import cupy`` fail, whatever is installed."""
    monkeypatch.setattr(backend, "cupy", None)
    monkeypatch.setitem(sys.modules, "cupy", None)


@pytest.mark.parametrize("ask", [
    lambda: tc.ones(2).to("cuda"),
    lambda: tc.ones(2).cuda(),
    lambda: tc.zeros(2, device="cuda"),
    lambda: tc.tensor([1.0], device="cuda:0"),
    lambda: tc.randn(2, device="cuda"),
])
def test_cuda_without_cupy_is_a_clear_device_error(no_cupy, ask):
    with pytest.raises(tc.DeviceError, match=r"needs CuPy, which is not installed: pip install "
                                             r"'trainctl\[cuda12\]'"):
        ask()


def test_cuda_availability_without_cupy(no_cupy):
    assert backend.cuda_device_count() == 0 and not backend.cuda_is_available()
    assert backend.get_array_module(numpy.ones(1)) is numpy


# ---------------------------------------------------------------------------- a fake CuPy


class FakeGPUArray(numpy.ndarray):
    """A NumPy array that says it lives on a (fake) GPU."""

    def __array_finalize__(self, obj):
        self.device_id = getattr(obj, "device_id", 0)

    @property
    def device(self):
        return types.SimpleNamespace(id=self.device_id)

    def get(self):
        return numpy.array(self.view(numpy.ndarray))


def make_fake_cupy(count=2):
    cupy = types.ModuleType("cupy")
    cupy.ndarray = FakeGPUArray
    state = {"current": 0}

    @contextlib.contextmanager
    def device_ctx(index):
        prev, state["current"] = state["current"], index
        try:
            yield
        finally:
            state["current"] = prev

    def asarray(a, dtype=None):
        out = numpy.array(numpy.asarray(a), dtype=dtype).view(FakeGPUArray)
        out.device_id = state["current"]
        return out

    cupy.asarray = asarray
    cupy.full = lambda shape, fill, dtype=None: asarray(numpy.full(shape, fill, dtype=dtype))
    cupy.get_array_module = lambda *arrays: numpy  # maths on fake arrays runs through NumPy
    cupy.cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=lambda: count), Device=device_ctx)
    return cupy


@pytest.fixture
def fake_cupy(monkeypatch):
    cupy = make_fake_cupy()
    monkeypatch.setattr(backend, "cupy", cupy)
    return cupy


def test_fake_cuda_tensors_report_their_device(fake_cupy):
    x = tc.ones(2, device="cuda")
    assert isinstance(x.array, FakeGPUArray)
    assert x.device == tc.device("cuda:0") and x.is_cuda
    assert "device='cuda:0'" in repr(x)
    assert x.type() == "trainctl.cuda.FloatTensor"
    y = tc.zeros(2, device="cuda:1")
    assert y.device == "cuda:1"


def test_moving_between_devices_round_trips(fake_cupy):
    x = tc.tensor([1.0, 2.0])
    g = x.to("cuda")
    assert g.device == "cuda:0" and g.tolist() == [1.0, 2.0]
    assert g.to("cuda:0") is g
    assert g.to("cuda:1").device == "cuda:1"
    back = g.cpu()
    assert back.device == "cpu" and type(back.array) is numpy.ndarray
    assert x.cuda(1).device == "cuda:1"


def test_gradient_flows_back_across_devices(fake_cupy):
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cuda") * 3
    assert y.device == "cuda:0"
    y.sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("op", [
    lambda a, b: a + b,
    lambda a, b: a @ b,
    lambda a, b: tc.cat([a, b]),
    lambda a, b: tc.where(a > 0, a, b),
])
def test_ops_across_devices_raise_a_clear_error(fake_cupy, op):
    a, b = tc.ones(2), tc.ones(2, device="cuda")
    with pytest.raises(tc.DeviceError, match=r"expected all tensors on one device, got tensors "
                                             r"on cpu, cuda:0; move them with \.to\(device\)"):
        op(a, b)


def test_two_gpus_do_not_mix_either(fake_cupy):
    with pytest.raises(tc.DeviceError, match="cuda:0, cuda:1"):
        tc.ones(2, device="cuda:0") * tc.ones(2, device="cuda:1")


def test_check_same_device_directly(fake_cupy):
    cpu, gpu = numpy.ones(2), fake_cupy.asarray(numpy.ones(2))
    backend.check_same_device([cpu, cpu, 3.0], "op")  # constants are ignored
    backend.check_same_device([gpu, gpu], "op")
    with pytest.raises(tc.DeviceError, match="^mul: expected all tensors on one device"):
        backend.check_same_device([cpu, gpu], "mul")


def test_missing_gpu_index_and_no_gpu(monkeypatch):
    monkeypatch.setattr(backend, "cupy", make_fake_cupy(count=2))
    with pytest.raises(tc.DeviceError, match="only 2 CUDA GPU"):
        tc.ones(1).to("cuda:5")
    monkeypatch.setattr(backend, "cupy", make_fake_cupy(count=0))
    with pytest.raises(tc.DeviceError, match="no CUDA GPU is visible"):
        tc.zeros(1, device="cuda")


def test_numpy_of_a_gpu_tensor_needs_cpu_first(fake_cupy):
    x = tc.ones(2, device="cuda")
    with pytest.raises(TypeError, match=r"use \.cpu\(\) first"):
        x.numpy()
    assert x.cpu().numpy().tolist() == [1.0, 1.0]
