"""The meta device: every layer and op gives the shapes and dtypes it gives on the CPU, without
allocating element storage; what has no shape rule says so in one line."""

import time
import tracemalloc

import numpy
import pytest

import trainctl as tc
from trainctl.core.errors import DeviceError

nn, F = tc.nn, tc.nn.functional


def _ints(high):
    return lambda *shape: tc.randint(0, high, shape)


def _floats(*shape):
    return tc.randn(*shape)


# (name, module factory, input makers (each makes a CPU tensor from a shape), input shapes)
LAYERS = [
    ("linear", lambda: nn.Linear(5, 3), [_floats], [(4, 5)]),
    ("linear-3d", lambda: nn.Linear(5, 3, bias=False), [_floats], [(2, 4, 5)]),
    ("bilinear", lambda: nn.Bilinear(3, 4, 2), [_floats, _floats], [(5, 3), (5, 4)]),
    ("conv1d", lambda: nn.Conv1d(2, 4, 3, padding=1), [_floats], [(2, 2, 9)]),
    ("conv2d", lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), [_floats], [(2, 3, 9, 8)]),
    ("conv2d-groups", lambda: nn.Conv2d(4, 4, 3, groups=2, dilation=2), [_floats],
     [(1, 4, 9, 9)]),
    ("convT1d", lambda: nn.ConvTranspose1d(2, 3, 3, stride=2), [_floats], [(2, 2, 5)]),
    ("convT2d", lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), [_floats],
     [(2, 2, 5, 4)]),
    ("maxpool1d", lambda: nn.MaxPool1d(2), [_floats], [(2, 3, 8)]),
    ("maxpool2d", lambda: nn.MaxPool2d(3, stride=2, padding=1), [_floats], [(2, 3, 9, 8)]),
    ("avgpool1d", lambda: nn.AvgPool1d(3, stride=2), [_floats], [(2, 3, 9)]),
    ("avgpool2d", lambda: nn.AvgPool2d(2), [_floats], [(2, 3, 8, 8)]),
    ("adaptive-avg1d", lambda: nn.AdaptiveAvgPool1d(3), [_floats], [(2, 3, 8)]),
    ("adaptive-avg2d", lambda: nn.AdaptiveAvgPool2d((2, 3)), [_floats], [(2, 3, 7, 8)]),
    ("adaptive-max1d", lambda: nn.AdaptiveMaxPool1d(3), [_floats], [(2, 3, 8)]),
    ("adaptive-max2d", lambda: nn.AdaptiveMaxPool2d(1), [_floats], [(2, 3, 7, 8)]),
    ("batchnorm1d", lambda: nn.BatchNorm1d(4), [_floats], [(6, 4)]),
    ("batchnorm2d", lambda: nn.BatchNorm2d(3), [_floats], [(2, 3, 4, 4)]),
    ("layernorm", lambda: nn.LayerNorm([4, 5]), [_floats], [(2, 4, 5)]),
    ("groupnorm", lambda: nn.GroupNorm(2, 4), [_floats], [(2, 4, 3, 3)]),
    ("embedding", lambda: nn.Embedding(10, 4), [_ints(10)], [(2, 7)]),
    ("flatten", lambda: nn.Flatten(), [_floats], [(2, 3, 4, 5)]),
    ("unflatten", lambda: nn.Unflatten(1, (3, 4)), [_floats], [(2, 12)]),
    ("dropout", lambda: nn.Dropout(0.3), [_floats], [(4, 5)]),
    ("dropout1d", lambda: nn.Dropout1d(0.3), [_floats], [(2, 4, 5)]),
    ("dropout2d", lambda: nn.Dropout2d(0.3), [_floats], [(2, 4, 5, 5)]),
    ("softmax", lambda: nn.Softmax(dim=1), [_floats], [(4, 5)]),
    ("log-softmax", lambda: nn.LogSoftmax(dim=-1), [_floats], [(4, 5)]),
    ("softmin", lambda: nn.Softmin(dim=0), [_floats], [(4, 5)]),
    ("mlp", lambda: nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.1),
                                  nn.Linear(8, 2)), [_floats], [(3, 6)]),
    ("cnn", lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 10)),
     [_floats], [(2, 1, 8, 8)]),
] + [
    (name, factory, [_floats], [(3, 4)]) for name, factory in [
        ("relu", nn.ReLU), ("relu6", nn.ReLU6), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh),
        ("gelu", nn.GELU), ("gelu-tanh", lambda: nn.GELU("tanh")), ("silu", nn.SiLU),
        ("mish", nn.Mish), ("elu", nn.ELU), ("celu", nn.CELU), ("selu", nn.SELU),
        ("leaky-relu", nn.LeakyReLU), ("hardtanh", nn.Hardtanh),
        ("hardsigmoid", nn.Hardsigmoid), ("hardswish", nn.Hardswish),
        ("softplus", nn.Softplus), ("softsign", nn.Softsign), ("logsigmoid", nn.LogSigmoid),
        ("identity", nn.Identity),
    ]
]

# (name, loss, input makers, shapes)
LOSSES = [
    ("mse", nn.MSELoss(), [_floats, _floats], [(4, 3), (4, 3)]),
    ("l1-sum", nn.L1Loss(reduction="sum"), [_floats, _floats], [(4, 3), (4, 3)]),
    ("smooth-l1-none", nn.SmoothL1Loss(reduction="none"), [_floats, _floats],
     [(4, 3), (4, 3)]),
    ("huber", nn.HuberLoss(), [_floats, _floats], [(4, 3), (4, 3)]),
    ("cross-entropy", nn.CrossEntropyLoss(), [_floats, _ints(5)], [(4, 5), (4,)]),
    ("cross-entropy-2d", nn.CrossEntropyLoss(label_smoothing=0.1), [_floats, _ints(5)],
     [(2, 5, 3, 3), (2, 3, 3)]),
    ("cross-entropy-soft", nn.CrossEntropyLoss(), [_floats, lambda *s: tc.rand(*s)],
     [(4, 5), (4, 5)]),
    ("nll", nn.NLLLoss(), [_floats, _ints(5)], [(4, 5), (4,)]),
    ("bce", nn.BCELoss(), [lambda *s: tc.rand(*s), lambda *s: tc.rand(*s)], [(4, 1), (4, 1)]),
    ("bce-logits", nn.BCEWithLogitsLoss(), [_floats, lambda *s: tc.rand(*s)],
     [(4, 2), (4, 2)]),
    ("kl-div", nn.KLDivLoss(reduction="batchmean"), [_floats, lambda *s: tc.rand(*s)],
     [(4, 5), (4, 5)]),
]

# (name, function of tensors, shapes); floats unless the name says otherwise
OPS = [
    ("add-broadcast", lambda a, b: a + b, [(3, 1, 4), (5, 1)]),
    ("mul-scalar", lambda a: a * 2 - 1, [(3, 4)]),
    ("pow", lambda a: a ** 2, [(3,)]),
    ("div", lambda a, b: a / b, [(2, 3), (3,)]),
    ("matmul", lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    ("matmul-vec", lambda a, b: a @ b, [(4,), (4, 5)]),
    ("bmm", lambda a, b: tc.bmm(a, b), [(2, 3, 4), (2, 4, 5)]),
    ("einsum", lambda a, b: tc.einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 5)]),
    ("sum-dim", lambda a: a.sum(dim=1), [(3, 4, 5)]),
    ("mean-keepdim", lambda a: a.mean(dim=(0, 2), keepdim=True), [(3, 4, 5)]),
    ("max-dim", lambda a: a.max(dim=1)[0], [(3, 4)]),
    ("amax", lambda a: tc.amax(a, dim=-1), [(3, 4)]),
    ("var", lambda a: a.var(dim=0), [(3, 4)]),
    ("std", lambda a: a.std(), [(3, 4)]),
    ("norm", lambda a: a.norm(), [(3, 4)]),
    ("logsumexp", lambda a: tc.logsumexp(a, dim=1), [(3, 4)]),
    ("softmax", lambda a: tc.softmax(a, dim=0), [(3, 4)]),
    ("reshape", lambda a: a.reshape(-1, 2), [(3, 4)]),
    ("view", lambda a: a.view(4, 3), [(3, 4)]),
    ("transpose", lambda a: a.transpose(0, 2), [(2, 3, 4)]),
    ("permute", lambda a: a.permute(2, 0, 1), [(2, 3, 4)]),
    ("T", lambda a: a.T, [(3, 4)]),
    ("flatten", lambda a: a.flatten(1), [(2, 3, 4)]),
    ("squeeze", lambda a: a.unsqueeze(0).squeeze(), [(3, 1, 4)]),
    ("expand", lambda a: a.expand(5, 3, 4), [(3, 1)]),
    ("repeat", lambda a: a.repeat(2, 3), [(3, 4)]),
    ("cat", lambda a, b: tc.cat([a, b], dim=1), [(3, 4), (3, 2)]),
    ("stack", lambda a, b: tc.stack([a, b], dim=2), [(3, 4), (3, 4)]),
    ("split", lambda a: tc.split(a, 2, dim=1)[1], [(3, 5)]),
    ("chunk", lambda a: a.chunk(2)[0], [(5, 3)]),
    ("index", lambda a: a[1:, None, ..., 2], [(3, 4, 5)]),
    ("index-list", lambda a: a[[0, 2]], [(3, 4)]),
    ("gather", lambda a: a.gather(1, tc.tensor([[0], [1], [2]])), [(3, 4)]),
    ("index-select", lambda a: a.index_select(0, tc.tensor([0, 2])), [(3, 4)]),
    ("where", lambda a, b: tc.where(a > 0, a, b), [(3, 4), (4,)]),
    ("clamp", lambda a: a.clamp(-0.5, 0.5), [(3, 4)]),
    ("maximum", lambda a, b: tc.maximum(a, b), [(3, 4), (4,)]),
    ("exp-log", lambda a: a.exp().log1p().sqrt().tanh().sigmoid(), [(3, 4)]),
    ("abs-sin-cos", lambda a: a.abs().sin() + a.cos(), [(3, 4)]),
    ("comparison", lambda a: (a > 0).float() + (a == 1).long(), [(3, 4)]),
    ("argmax", lambda a: a.argmax(dim=1), [(3, 4)]),
    ("cast", lambda a: a.double().half().to(tc.int32), [(3, 4)]),
    ("pad", lambda a: F.pad(a, (1, 2)), [(3, 4)]),
    ("flip", lambda a: a.flip(0), [(3, 4)]),
    ("one-hot", lambda a: F.one_hot(a.argmax(dim=1), 4), [(3, 4)]),
    ("sort", lambda a: a.sort(dim=1)[0], [(3, 4)]),
    ("topk", lambda a: a.topk(2)[0], [(3, 4)]),
    ("cumsum-free-tile", lambda a: tc.tile(a, (2, 1)), [(3, 4)]),
    ("outer", lambda a, b: tc.outer(a, b), [(3,), (4,)]),
    ("dot", lambda a, b: tc.dot(a, b), [(3,), (3,)]),
]


def _meta(t):
    return t.to("meta")


def _compare(cpu_outs, meta_outs):
    for c, m in zip(cpu_outs, meta_outs):
        assert m.device == tc.device("meta")
        assert (tuple(m.shape), m.dtype) == (tuple(c.shape), c.dtype)


@pytest.mark.parametrize("name,factory,makers,shapes", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_forward_and_backward_shapes(name, factory, makers, shapes):
    tc.manual_seed(0)
    module = factory()
    inputs = [make(*shape) for make, shape in zip(makers, shapes)]
    for x in inputs:
        if x.is_floating_point():
            x.requires_grad_()
    out = module(*inputs)
    out.float().sum().backward() if out.requires_grad else None
    cpu_grads = [p.grad for p in module.parameters()] + [x.grad for x in inputs]

    with tc.device("meta"):
        meta_module = factory()
    assert all(p.is_meta for p in meta_module.parameters())
    meta_inputs = [_meta(x.detach()).requires_grad_(x.requires_grad) for x in inputs]
    meta_out = meta_module(*meta_inputs)
    _compare([out], [meta_out])
    if meta_out.requires_grad:
        meta_out.float().sum().backward()
    meta_grads = [p.grad for p in meta_module.parameters()] + [x.grad for x in meta_inputs]
    assert [g is None for g in meta_grads] == [g is None for g in cpu_grads]
    _compare([g for g in cpu_grads if g is not None], [g for g in meta_grads if g is not None])


@pytest.mark.parametrize("name,loss,makers,shapes", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_shapes(name, loss, makers, shapes):
    inputs = [make(*shape) for make, shape in zip(makers, shapes)]
    inputs[0].requires_grad_()
    out = loss(*inputs)
    out.sum().backward()
    meta_inputs = [_meta(x.detach()) for x in inputs]
    meta_inputs[0].requires_grad_()
    meta_out = loss(*meta_inputs)
    meta_out.sum().backward()
    _compare([out, inputs[0].grad], [meta_out, meta_inputs[0].grad])


@pytest.mark.parametrize("name,fn,shapes", OPS, ids=[c[0] for c in OPS])
def test_op_shapes(name, fn, shapes):
    inputs = [tc.randn(*s, requires_grad=True) for s in shapes]
    out = fn(*inputs)
    meta_inputs = [tc.empty(*s, device="meta", requires_grad=True) for s in shapes]
    meta_out = fn(*meta_inputs)
    _compare([out], [meta_out])
    if out.requires_grad:
        out.sum().backward()
        meta_out.sum().backward()
        _compare([x.grad for x in inputs], [x.grad for x in meta_inputs])


def test_a_billion_parameters_build_and_run_without_memory():
    tracemalloc.start()
    start = time.perf_counter()
    with tc.device("meta"):
        model = nn.Sequential(nn.Linear(40_000, 40_000), nn.GELU(), nn.LayerNorm(40_000),
                              nn.Linear(40_000, 1000))
    out = model(tc.empty(64, 40_000, device="meta"))
    loss = F.cross_entropy(out, tc.empty(64, dtype=tc.int64, device="meta"))
    loss.backward()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert sum(p.numel() for p in model.parameters()) > 1_600_000_000
    assert out.shape == (64, 1000) and loss.shape == ()
    assert model[0].weight.grad.shape == (40_000, 40_000)
    assert elapsed < 1.0 and peak < 10_000_000


def test_huge_creation_functions_allocate_nothing():
    tc.randn(1)  # the first draw sets the generator up (imports numpy.random)
    tracemalloc.start()
    tensors = [tc.empty(10**6, 10**6, device="meta"), tc.randn(10**6, 10**6, device="meta"),
               tc.arange(10**12, device="meta"), tc.eye(10**6, device="meta"),
               tc.full((10**6, 10**6), 2.0, device="meta"), tc.randperm(10**12, device="meta"),
               tc.randint(0, 5, (10**12,), device="meta"), tc.linspace(0, 1, 10**12,
                                                                       device="meta")]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000
    assert [t.numel() for t in tensors] == [10**12] * 8
    assert tensors[5].dtype == tc.int64 and tensors[1].dtype == tc.float32


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam", "Rprop", "Lion"])
def test_optimizers_step_on_meta(name):
    with tc.device("meta"):
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = getattr(tc.optim, name)(model.parameters(), lr=0.1)
    for _ in range(2):
        loss = F.cross_entropy(model(tc.empty(3, 4, device="meta")),
                               tc.empty(3, dtype=tc.int64, device="meta"))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert all(p.is_meta and p.grad.is_meta for p in model.parameters())
    assert model[0].weight.shape == (8, 4)


def test_module_to_meta_and_printing():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    model.to("meta")
    assert model[0].weight.is_meta and model[0].weight.requires_grad
    assert repr(model[0].bias) == (
        "Parameter containing:\ntensor(..., device='meta', size=(4,), requires_grad=True)")
    assert repr(tc.empty(2, 0, device="meta", dtype=tc.int64)) == (
        "tensor(..., device='meta', size=(2, 0), dtype=trainctl.int64)")
    y = model(tc.empty(5, 3, device="meta"))
    assert repr(y).startswith("tensor(..., device='meta', size=(5, 4), grad_fn=<")


def test_values_cannot_be_read():
    x = tc.empty(2, 3, device="meta")
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()
    with pytest.raises(RuntimeError, match="Tensor.item\\(\\) cannot be called on meta tensors"):
        tc.empty((), device="meta").item()
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor; no data!"):
        x.tolist()
    with pytest.raises(NotImplementedError, match="no data"):
        x.cpu()
    with pytest.raises(TypeError, match="meta"):
        x.numpy()
    with pytest.raises(NotImplementedError, match="no data"):
        numpy.asarray(x)


def test_mixing_devices_is_refused_except_zero_dim():
    x = tc.empty(2, 3, device="meta")
    with pytest.raises(DeviceError, match="one device"):
        tc.ones(2, 3) + x
    with pytest.raises(DeviceError, match="one device"):
        tc.ones(4, 2) @ x
    assert (tc.ones(()) + x).is_meta


def test_an_op_without_a_shape_rule_says_so():
    x = tc.empty(4, device="meta")
    with pytest.raises(DeviceError, match="not supported on the meta device: .*unique"):
        x.unique()
    with pytest.raises(DeviceError, match="not supported on the meta device: .*nonzero"):
        x.nonzero()
    with pytest.raises(DeviceError, match="not supported on the meta device: .*boolean mask"):
        x[x > 0]


def test_shape_errors_still_raise_on_meta():
    with pytest.raises(Exception, match="5|4"):
        nn.Linear(4, 2, device="meta")(tc.empty(3, 5, device="meta"))
    with pytest.raises(ValueError):
        tc.empty(2, 3, device="meta") + tc.empty(4, device="meta")


def test_loading_real_weights_into_a_meta_model_warns_as_torch_and_assign_materialises():
    source = nn.Sequential(nn.Linear(2, 3))
    with tc.device("meta"):
        model = nn.Sequential(nn.Linear(2, 3))
    with pytest.warns(UserWarning) as caught:
        model.load_state_dict(source.state_dict())
    assert [str(w.message).split(":")[0] for w in caught] == ["for 0.weight", "for 0.bias"]
    assert "copying from a non-meta parameter" in str(caught[0].message)
    assert model[0].weight.is_meta
    model.load_state_dict(source.state_dict(), assign=True)
    assert not model[0].weight.is_meta and tc.equal(model[0].weight, source[0].weight)
    assert model[0].weight.requires_grad


def _big(*shape, dtype=None):
    if dtype is not None:
        return tc.empty(*shape, dtype=dtype, device="meta")
    return tc.empty(*shape, device="meta", requires_grad=True)


# Layers on inputs of tens of gigabytes: nothing may be drawn or computed at full size.
BIG = [
    ("conv2d", lambda: nn.Conv2d(64, 128, 3, padding=1), [(256, 64, 512, 512)]),
    ("conv-transpose2d", lambda: nn.ConvTranspose2d(64, 32, 4, stride=2), [(64, 64, 256, 256)]),
    ("max-pool", lambda: nn.MaxPool2d(3, 2, 1), [(256, 64, 1024, 1024)]),
    ("adaptive-max-pool", lambda: nn.AdaptiveMaxPool2d(7), [(256, 64, 1000, 1000)]),
    ("batch-norm", lambda: nn.BatchNorm2d(64), [(256, 64, 1024, 1024)]),
    ("dropout", lambda: nn.Dropout(0.5), [(100_000, 100_000)]),
    ("dropout2d", lambda: nn.Dropout2d(0.5), [(1024, 4096, 64, 64)]),
    ("gelu", lambda: nn.GELU(), [(100_000, 100_000)]),
    ("log-softmax", lambda: nn.LogSoftmax(dim=1), [(100_000, 100_000)]),
    ("bilinear", lambda: nn.Bilinear(4096, 4096, 4096), [(4096, 4096), (4096, 4096)]),
]


@pytest.mark.parametrize("name,factory,shapes", BIG, ids=[c[0] for c in BIG])
def test_big_layers_allocate_nothing(name, factory, shapes):
    with tc.device("meta"):
        module = factory()
    inputs = [_big(*s) for s in shapes]
    tracemalloc.start()
    out = module(*inputs)
    out.sum().backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2_000_000
    assert all(x.grad.shape == x.shape for x in inputs)


def test_big_embedding_and_loss_allocate_nothing():
    with tc.device("meta"):
        table = nn.Embedding(10**7, 4096)
    tracemalloc.start()
    out = table(_big(4096, 4096, dtype=tc.int64))
    loss = F.cross_entropy(_big(100_000, 50_000), _big(100_000, dtype=tc.int64))
    loss.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.shape == (4096, 4096, 4096) and peak < 2_000_000


@pytest.mark.parametrize("init", ["uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
                                  "zeros_", "eye_", "dirac_", "xavier_uniform_",
                                  "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                                  "orthogonal_"])
def test_initialisers_do_nothing_on_meta(init):
    shape = (10**5, 10**5, 3) if init == "dirac_" else (10**6, 10**6)
    w = tc.empty(*shape, device="meta")
    args = (0.5,) if init == "constant_" else ()
    tracemalloc.start()
    assert getattr(nn.init, init)(w, *args) is w
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000 and w.is_meta
