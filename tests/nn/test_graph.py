"""Graph mode: ``tc.nn.Graph`` and ``tc.compile`` replay a traced step with eager's numbers,
retrace when the signature changes, and refuse what they cannot replay, naming the line."""

import os
import warnings

import numpy
import pytest

import trainctl as tc
from trainctl.nn.graph import CACHE_SIZE, GraphTraceError

F = tc.nn.functional
HERE = os.path.relpath(__file__)


def weights(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def same(a, b):
    return len(a) == len(b) and all(numpy.array_equal(x, y) for x, y in zip(a, b))


# ---------------------------------------------------------------- the seed's linreg, both modes
X = [[1, 2], [2, 3], [4, 6], [3, 1]]
Y = [[8], [13], [26], [9]]


class MyLrModule(tc.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = tc.nn.Parameter(tc.tensor([[2.0], [1.0]]))

    def forward(self, x):
        return tc.matmul(x, self.w)


def linreg_eager(steps=50):
    x, y = tc.tensor(X, dtype=tc.float32), tc.tensor(Y, dtype=tc.float32)
    model = MyLrModule()
    loss_fn = tc.nn.MSELoss(reduction="sum")
    optimizer = tc.optim.SGD(model.parameters(), 0.001)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, weights(model)


def test_the_oneflow_style_program_gives_eager_numbers():
    x, y = tc.tensor(X, dtype=tc.float32), tc.tensor(Y, dtype=tc.float32)
    model = MyLrModule()
    loss_fn = tc.nn.MSELoss(reduction="sum")
    optimizer = tc.optim.SGD(model.parameters(), 0.001)

    class LinRegGraph(tc.nn.Graph):
        def __init__(self):
            super().__init__()
            self.model = model
            self.add_optimizer(optimizer)

        def build(self, x, y):
            loss = loss_fn(self.model(x), y)
            loss.backward()
            return loss

    graph = LinRegGraph()
    losses = [graph(x, y).item() for _ in range(50)]
    eager_losses, eager_weights = linreg_eager()
    assert losses == eager_losses  # exact
    assert same(weights(model), eager_weights)
    assert (graph.traces, graph.replays) == (1, 49)
    text = repr(graph)
    assert "(model): MyLrModule" in text and "MatMul" in text and "backward" in text
    assert "SGD" in text and "Optimizer.step()" in text


def test_a_compiled_step_function_gives_eager_numbers():
    x, y = tc.tensor(X, dtype=tc.float32), tc.tensor(Y, dtype=tc.float32)
    model = MyLrModule()
    loss_fn = tc.nn.MSELoss(reduction="sum")
    optimizer = tc.optim.SGD(model.parameters(), 0.001)

    @tc.compile(fullgraph=True)
    def step(x, y):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    losses = [step(x, y).item() for _ in range(50)]
    eager_losses, eager_weights = linreg_eager()
    assert losses == eager_losses
    assert same(weights(model), eager_weights)
    assert (step.traces, step.replays) == (1, 49)


# ---------------------------------------------------------------- a fuller step
def mlp(seed=0, dropout=0.3, norm=False):
    tc.manual_seed(seed)
    layers = [tc.nn.Linear(6, 16)]
    if norm:
        layers.append(tc.nn.BatchNorm1d(16))
    layers += [tc.nn.ReLU(), tc.nn.Dropout(dropout), tc.nn.Linear(16, 3)]
    model = tc.nn.Sequential(*layers)
    optimizer = tc.optim.Adam(model.parameters(), lr=0.01)
    scheduler = tc.optim.lr_scheduler.StepLR(optimizer, 2, 0.5)
    return model, optimizer, scheduler


def batches(n=8, size=10, seed=1):
    rng = numpy.random.default_rng(seed)
    return [(tc.tensor(rng.normal(size=(size, 6)).astype(numpy.float32)),
             tc.tensor(rng.integers(0, 3, size=size))) for _ in range(n)]


def train_eager(data, accumulate=1, clip=None, **kw):
    model, optimizer, scheduler = mlp(**kw)
    losses = []
    for i, (x, y) in enumerate(data):
        loss = F.cross_entropy(model(x), y)
        (loss / accumulate).backward()
        if (i + 1) % accumulate == 0:
            if clip:
                tc.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            optimizer.zero_grad()
            scheduler.step()
        losses.append(loss.item())
    return losses, weights(model), tc.get_rng_state()


def classifier_graph(model, optimizer, scheduler):
    """A OneFlow-style training graph: cross-entropy of ``model``, optimizer and scheduler."""

    class TrainGraph(tc.nn.Graph):
        def __init__(self):
            super().__init__()
            self.model = model
            self.add_optimizer(optimizer, lr_sch=scheduler)

        def build(self, x, y):
            loss = F.cross_entropy(self.model(x), y)
            loss.backward()
            return loss

    return TrainGraph()


@pytest.mark.parametrize("norm", [False, True])
def test_dropout_batchnorm_scheduler_and_the_random_stream_match_eager(norm):
    data = batches()
    model, optimizer, scheduler = mlp(norm=norm)

    graph = classifier_graph(model, optimizer, scheduler)
    losses = [graph(x, y).item() for x, y in data]
    eager = train_eager(data, norm=norm)
    assert losses == eager[0]
    assert same(weights(model), eager[1])
    assert tc.get_rng_state() == eager[2]  # dropout drew the same numbers, in the same order
    if norm:
        bn = model[1]
        assert int(bn.num_batches_tracked) == len(data)
    assert graph.replays == len(data) - 1


def test_gradient_accumulation_and_clipping_inside_a_compiled_step():
    data = batches()
    model, optimizer, scheduler = mlp()

    @tc.compile(fullgraph=True)
    def accumulate(x, y):
        loss = F.cross_entropy(model(x), y)
        (loss / 2).backward()
        return loss

    @tc.compile(fullgraph=True)
    def accumulate_and_step(x, y):
        loss = F.cross_entropy(model(x), y)
        (loss / 2).backward()
        tc.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()
        return loss

    losses = [(accumulate if i % 2 == 0 else accumulate_and_step)(x, y).item()
              for i, (x, y) in enumerate(data)]
    eager = train_eager(data, accumulate=2, clip=0.5)
    assert losses == eager[0]
    assert same(weights(model), eager[1])


def test_hyperparameters_are_read_at_replay():
    w = tc.nn.Parameter(tc.tensor([1.0, -2.0]))
    optimizer = tc.optim.SGD([w], lr=0.1, momentum=0.9)

    @tc.compile(fullgraph=True)
    def step():
        loss = (w * w).sum()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss

    v = tc.nn.Parameter(tc.tensor([1.0, -2.0]))
    reference = tc.optim.SGD([v], lr=0.1, momentum=0.9)
    for lr in (0.1, 0.1, 0.05, 0.2, 0.01):
        optimizer.param_groups[0]["lr"] = lr
        reference.param_groups[0]["lr"] = lr
        step()
        (v * v).sum().backward()
        reference.step()
        reference.zero_grad()
        assert numpy.array_equal(w.detach().numpy(), v.detach().numpy())
    with tc.no_grad():
        w.data = tc.tensor([3.0, 3.0])  # swapped storage: read by reference at replay
        v.data = tc.tensor([3.0, 3.0])
    step()
    (v * v).sum().backward()
    reference.step()
    assert numpy.array_equal(w.detach().numpy(), v.detach().numpy())
    assert step.traces == 1


def test_a_new_batch_size_retraces_and_the_cache_is_bounded():
    model = tc.nn.Linear(3, 2)
    forward = tc.compile(model)
    with tc.no_grad():
        for n in (4, 4, 5, 4, 5):
            out = forward(tc.ones(n, 3))
            assert out.shape == (n, 2)
            assert numpy.array_equal(out.numpy(), model(tc.ones(n, 3)).numpy())
        assert (forward.traces, forward.replays) == (2, 3)
        for n in range(1, CACHE_SIZE + 3):
            forward(tc.ones(n, 3))
    assert len(forward._runner.cache) == CACHE_SIZE


def test_train_and_eval_mode_are_separate_traces():
    model, _, _ = mlp(dropout=0.5)
    forward = tc.compile(model)
    x = tc.ones(4, 6)
    with tc.no_grad():
        model.eval()
        a = forward(x).numpy()
        model.train()
        b = forward(x).numpy()
        model.eval()
        c = forward(x).numpy()
    assert numpy.array_equal(a, c) and not numpy.array_equal(a, b)
    assert forward.traces == 2


def test_values_computed_by_comparisons_and_argmax_follow_new_data():
    @tc.compile(fullgraph=True)
    def f(x):
        mask = (x > 0).float()
        return mask * x, x.argmax(1), x.max(1).values, tc.where(x < 0, x, 0.0)

    for seed in range(3):
        x = tc.tensor(numpy.random.default_rng(seed).normal(size=(4, 5)).astype(numpy.float32))
        got = f(x)
        want = ((x > 0).float() * x, x.argmax(1), x.max(1).values, tc.where(x < 0, x, 0.0))
        for g, w in zip(got, want):
            assert numpy.array_equal(g.numpy(), w.numpy())
    assert f.replays == 2


def test_indices_and_targets_of_another_integer_type_follow_new_data():
    @tc.compile(fullgraph=True)
    def f(x, index, target):
        return x.gather(1, index), F.cross_entropy(x, target), x.index_select(0, index[:, 0])

    for seed in range(3):
        rng = numpy.random.default_rng(seed)
        x = tc.tensor(rng.normal(size=(4, 5)).astype(numpy.float32))
        index = tc.tensor(rng.integers(0, 4, size=(4, 2)).astype(numpy.int32))
        target = tc.tensor(rng.integers(0, 5, size=4).astype(numpy.int32))
        want = (x.gather(1, index), F.cross_entropy(x, target), x.index_select(0, index[:, 0]))
        for g, w in zip(f(x, index, target), want):
            assert numpy.array_equal(g.numpy(), w.numpy())
    assert f.replays == 2


def test_a_replaced_parameter_invalidates_the_trace():
    model = tc.nn.Linear(2, 1)
    forward = tc.compile(model)
    x = tc.ones(3, 2)
    with tc.no_grad():
        forward(x)
        model.weight = tc.nn.Parameter(tc.full((1, 2), 5.0))
        assert numpy.array_equal(forward(x).numpy(), model(x).numpy())
    assert forward.traces == 2


def test_an_eval_graph_without_optimizer():
    model = tc.nn.Linear(3, 2)

    class EvalGraph(tc.nn.Graph):
        def __init__(self):
            super().__init__()
            self.model = model

        def build(self, x):
            return self.model(x)

    graph = EvalGraph()
    graph.debug(0)
    with tc.no_grad():
        for _ in range(3):
            x = tc.randn(2, 3)
            assert numpy.array_equal(graph(x).numpy(), model(x).numpy())
    assert graph.replays == 2


# ---------------------------------------------------------------- refusals name the line
def refused(fn, *args):
    step = tc.compile(fn, fullgraph=True)
    with pytest.raises(GraphTraceError) as info:
        step(*args)
    return str(info.value)


def line_of(text):
    with open(__file__) as f:
        for i, line in enumerate(f, 1):
            if text in line and "line_of" not in line:
                return f"{HERE}:{i}"
    raise AssertionError(text)


def test_each_refusal_names_the_offending_line():
    model = tc.nn.Linear(3, 2)
    x = tc.randn(4, 3)

    def reads_item(x):
        return model(x).sum().item()  # refusal: item

    def branches(x):
        if model(x).sum() > 0:  # refusal: bool
            return x
        return -x

    def converts(x):
        return model(x).detach().numpy()  # refusal: numpy

    def masks(x):
        return x[x > 0]  # refusal: mask

    def nonzero(x):
        return tc.nonzero(x)  # refusal: nonzero

    def draws(x):
        return x + tc.randn(4, 3)  # refusal: draw

    def changes_in_place(x):
        y = x * 2
        y.add_(1)  # refusal: in-place
        return y

    cases = [(reads_item, "refusal: item", ".item()"), (branches, "refusal: bool", "bool(tensor)"),
             (converts, "refusal: numpy", ".numpy()"), (masks, "refusal: mask", "boolean mask"),
             (nonzero, "refusal: nonzero", "nonzero()"), (draws, "refusal: draw", "random draw"),
             (changes_in_place, "refusal: in-place", "in-place add_")]
    for fn, marker, what in cases:
        message = refused(fn, x)
        assert message.startswith(line_of(marker) + ": "), message
        assert what in message


def test_custom_functions_hooks_and_side_outputs_are_refused():
    class Double(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    w = tc.nn.Parameter(tc.ones(1, 1, 4, 4))

    def hooked(x):
        y = w * x
        y.register_hook(lambda g: g * 2)
        y.sum().backward()
        return y

    x = tc.ones(1, 1, 4, 4)
    assert "custom autograd.Function Double" in refused(lambda x: Double.apply(x), x)
    assert "gradient hook" in refused(hooked, x)
    assert "return_indices" in refused(lambda x: F.max_pool2d(x, 2, return_indices=True), x)
    assert "autograd.grad" in refused(lambda x: tc.autograd.grad((w * x).sum(), w), x)


def test_an_outside_tensor_changed_in_place_between_replays_is_refused():
    model = tc.nn.Sequential(tc.nn.Linear(3, 3), tc.nn.BatchNorm1d(3))
    opt = tc.optim.SGD(model.parameters(), lr=0.1)
    mask = tc.ones(4, 3)

    def step(x):
        loss = (model(x) * mask).sum()  # reads mask from outside
        loss.backward()
        opt.step()  # parameters, buffers and optimizer state change in place: allowed
        opt.zero_grad()
        return loss

    compiled = tc.compile(step, fullgraph=True)
    x = tc.randn(4, 3)
    for _ in range(3):
        compiled(x)
    mask.mul_(0)
    with pytest.raises(GraphTraceError) as info:
        compiled(x)
    message = str(info.value)
    assert message.startswith(line_of("reads mask from outside") + ": "), message
    assert "changed in place since the graph was traced" in message
    assert "pass it to the step as an argument" in message

    @tc.compile(fullgraph=True)
    def masked(x, mask):  # as an argument, the new values are used
        return x * mask

    mask = tc.ones(2)
    assert masked(tc.ones(2), mask).tolist() == [1.0, 1.0]
    mask.mul_(0)
    assert masked(tc.ones(2), mask).tolist() == [0.0, 0.0]


def test_a_tensor_made_outside_the_ops_is_refused():
    def frozen(x):
        return x * tc.Tensor._wrap(x.array * 2)  # Python-level arithmetic on the raw array

    assert "computed outside trainctl's recorded ops" in refused(frozen, tc.ones(2))


def test_lenient_compile_falls_back_to_eager_with_a_warning():
    model = tc.nn.Linear(3, 1)

    def step(x):
        out = model(x)
        return out * float(out.sum())

    compiled = tc.compile(step)
    x = tc.randn(2, 3)
    with pytest.warns(UserWarning, match="runs eagerly"):
        first = compiled(x)
    second = compiled(x)
    with tc.no_grad():
        assert numpy.array_equal(first.detach().numpy(), step(x).detach().numpy())
        assert numpy.array_equal(second.detach().numpy(), step(x).detach().numpy())
    with pytest.raises(ValueError, match="dynamic=True"):
        tc.compile(model, dynamic=True)


def resident_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads Linux's /proc")
def test_ten_thousand_replays_do_not_grow_memory():
    data = batches(n=1)
    model, optimizer, scheduler = mlp(norm=True)

    graph = classifier_graph(model, optimizer, scheduler)
    x, y = data[0]
    for _ in range(1000):
        graph(x, y)
    before = resident_kib()
    for _ in range(10_000):
        graph(x, y)
    assert resident_kib() - before < 1024  # a leak of 100 bytes per replay would be 1 MB


def test_a_graph_inside_a_trace_is_refused():
    inner = tc.compile(lambda x: x * 2, fullgraph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        message = refused(lambda x: inner(x) + 1, tc.ones(2))
    assert "another one is being traced" in message
