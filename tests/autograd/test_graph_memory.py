"""Graph memory: backward frees what the graph saved, and training steps do not accumulate."""

import gc
import tracemalloc
import weakref

import numpy

import trainctl as tc

nn = tc.nn


def _mlp():
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 5))


def test_backward_frees_saved_activations_while_the_loss_is_still_alive():
    model = _mlp()
    x, y = tc.randn(8, 20), tc.randint(0, 5, (8,))
    loss = nn.functional.cross_entropy(model(x), y)
    last_linear = loss.grad_fn.inputs[0].grad_fn
    activation, weight = last_linear.saved  # the ReLU output and the (live) parameter
    assert isinstance(activation, numpy.ndarray) and weight is model[4].weight.array
    ref = weakref.ref(activation)
    del activation, weight
    loss.backward()
    assert ref() is None  # only the graph held it, and the loss is still alive
    assert loss.grad_fn.inputs is None


def test_retain_graph_keeps_them_until_the_last_backward():
    x = tc.randn(4, 3, requires_grad=True)
    y = (x.exp() * 2).sum()
    node = y.grad_fn.inputs[0].grad_fn.inputs[0].grad_fn  # Exp saves its output
    ref = weakref.ref(node.saved[0])
    y.backward(retain_graph=True)
    assert ref() is not None
    y.backward()
    assert ref() is None


def test_training_steps_do_not_accumulate_memory():
    model = _mlp()
    opt = tc.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = tc.randn(32, 20), tc.randint(0, 5, (32,))

    def steps(n):
        for _ in range(n):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()

    tracemalloc.start()
    try:
        steps(5)  # momentum buffers and grads exist from here on
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        steps(50)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # One step's graph is ~100 KB here; 50 leaked steps would be megabytes.
    assert after - before < 20_000, after - before
