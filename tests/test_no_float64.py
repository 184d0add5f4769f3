"""No float64 anywhere in a float32 training step.

Every op's inputs and output, every gradient handed to and returned by a backward, every leaf
gradient and every optimizer buffer is recorded while real steps run (an MLP with cross-entropy,
LeNet-5 with convolutions and pooling, a regression with MSE; SGD with momentum and Adam), and
none may be float64: a NumPy scalar or a Python float that upcasts silently would double the
memory traffic of everything after it.
"""

import numpy
import pytest

import trainctl as tc
from trainctl.autograd.array_function import ArrayFunction

nn = tc.nn


@pytest.fixture
def dtypes_seen(monkeypatch):
    """Record ``(where, op, dtype)`` for every array crossing an op boundary."""
    seen = []
    original = ArrayFunction.apply.__func__

    def note(where, op, value):
        if isinstance(value, tc.Tensor):
            value = value.array
        if isinstance(value, (numpy.ndarray, numpy.generic)):
            seen.append((where, op, value.dtype))

    def recording_apply(cls, *inputs, **params):
        for x in inputs:
            note("forward input", cls.__name__, x)
        out = original(cls, *inputs, **params)
        note("forward output", cls.__name__, out)
        ctx = out.grad_fn
        if ctx is not None and "backward" not in vars(ctx):
            backward = type(ctx).backward

            def recording_backward(node, grad):
                note("backward grad", cls.__name__, grad)
                grads = backward(node, grad)
                for g in grads if isinstance(grads, tuple) else (grads,):
                    note("backward result", cls.__name__, g)
                return grads

            ctx.backward = recording_backward  # the engine calls node.backward(node, grad)
        return out

    monkeypatch.setattr(ArrayFunction, "apply", classmethod(recording_apply))
    return seen


def _steps(model, loss_fn, x, y, opt, n=2):
    for _ in range(n):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return loss


def _assert_float32(seen, model, opt):
    kinds = {where for where, _, _ in seen}
    assert kinds == {"forward input", "forward output", "backward grad", "backward result"}, kinds
    wide = sorted({(w, op) for w, op, dt in seen if dt == numpy.float64})
    assert not wide, f"float64 appeared in a float32 step: {wide}"
    floats = {dt for _, _, dt in seen if dt.kind == "f"}
    assert floats == {numpy.dtype(numpy.float32)}, floats
    for name, p in model.named_parameters():
        assert p.array.dtype == numpy.float32, name
        assert p.grad.array.dtype == numpy.float32, name
    for state in opt.state.values():
        for key, value in state.items():
            if isinstance(value, tc.Tensor):
                assert value.array.dtype == numpy.float32, key


def test_mlp_cross_entropy_sgd_momentum_step_stays_float32(dtypes_seen):
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 32),
                          nn.ReLU(), nn.Linear(32, 10))
    opt = tc.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = tc.rand(16, 1, 28, 28), tc.randint(0, 10, (16,))
    loss = _steps(model, nn.CrossEntropyLoss(), x, y, opt)
    assert loss.dtype == tc.float32
    _assert_float32(dtypes_seen, model, opt)


def test_lenet_step_with_adam_stays_float32(dtypes_seen):
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    opt = tc.optim.Adam(model.parameters(), lr=1e-3)
    x, y = tc.randn(4, 1, 28, 28), tc.randint(0, 10, (4,))
    _steps(model, nn.CrossEntropyLoss(), x, y, opt)
    ops = {op for _, op, _ in dtypes_seen}
    assert {"ConvNd", "CrossEntropy", "Linear"} <= ops, ops
    _assert_float32(dtypes_seen, model, opt)


def test_regression_with_python_scalars_stays_float32(dtypes_seen):
    model = nn.Linear(2, 1, bias=False)
    opt = tc.optim.SGD(model.parameters(), lr=0.01)
    x = tc.tensor([[1, 2], [2, 3], [4, 6], [3, 1]], dtype=tc.float32)
    y = tc.tensor([[8], [13], [26], [9]], dtype=tc.float32)
    _steps(model, nn.MSELoss(reduction="sum"), x, y, opt)
    # The seed's own loop: Python floats and ints mixed into the expression.
    w = tc.tensor([[2.0], [1.0]], requires_grad=True)
    loss = ((x @ w - y) ** 2).sum() * 0.5 + 1
    loss.backward()
    with tc.no_grad():
        w -= 0.01 * w.grad
    assert w.dtype == tc.float32 and w.grad.dtype == tc.float32
    _assert_float32(dtypes_seen, model, opt)


def test_the_check_catches_a_float64_intermediate(dtypes_seen):
    x = tc.ones(3, requires_grad=True)
    (x.double() * 2).sum().backward()  # an explicit float64 detour
    assert any(dt == numpy.float64 for _, _, dt in dtypes_seen)
