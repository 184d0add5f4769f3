"""Graph nodes as tutorials use them (``next_functions``, ``name()``, node hooks) and the legacy
``Variable``. Structures compared with PyTorch were printed by torch 2.13 for the same code."""

import warnings

import numpy
import pytest

import trainctl as tc
from trainctl.autograd import Variable
from trainctl.autograd.graph import AccumulateGrad, Node

ACC = "torch::autograd::AccumulateGrad"  # torch's name, which graph-walking code compares


def leaf(values):
    return tc.tensor(values, requires_grad=True)


def names(next_functions):
    """``next_functions`` with each node replaced by its ``name()`` (None stays None)."""
    return tuple((None if n is None else n.name(), i) for n, i in next_functions)


def test_next_functions_walk_the_graph_down_to_the_leaf():
    # The "autograd" video tutorial of pytorch/tutorials; torch 2.13 prints
    # ((<AddBackward0>, 0), (None, 0))... down to ((<AccumulateGrad>, 0),) and then ().
    a = tc.linspace(0.0, 6.0, steps=25, requires_grad=True)
    b = tc.sin(a)
    c = 2 * b
    d = c + 1
    out = d.sum()
    assert names(out.grad_fn.next_functions) == (("AddBackward", 0),)
    assert names(d.grad_fn.next_functions) == (("MulBackward", 0), (None, 0))
    mul = d.grad_fn.next_functions[0][0]
    assert names(mul.next_functions) == (("SinBackward", 0), (None, 0))
    sin = mul.next_functions[0][0]
    assert names(sin.next_functions) == ((ACC, 0),)
    acc = sin.next_functions[0][0]
    assert acc.next_functions == () and acc.variable is a
    assert repr(acc).startswith("<AccumulateGrad object at 0x")
    assert all(isinstance(n, Node) for n in (out.grad_fn, mul, sin, acc))


def test_inputs_that_do_not_require_grad_are_none_and_leaves_share_one_node():
    x, w = leaf([1.0, 2.0]), tc.ones(2)
    y = x * w
    z = x + 1
    assert names(y.grad_fn.next_functions) == ((ACC, 0), (None, 0))
    assert y.grad_fn.next_functions[0][0] is z.grad_fn.next_functions[0][0]
    assert isinstance(y.grad_fn.next_functions[0][0], AccumulateGrad)


def test_next_functions_after_backward_say_the_graph_was_freed():
    y = leaf([1.0]) * 2
    y.sum().backward()
    with pytest.raises(RuntimeError, match="freed by backward.*retain_graph=True"):
        _ = y.grad_fn.next_functions
    assert y.grad_fn.name() == "MulBackward"  # the name survives


def test_metadata_is_a_dict_kept_on_the_node():
    y = leaf([1.0]) * 2
    y.grad_fn.metadata["step"] = 3
    assert y.grad_fn.metadata == {"step": 3}


def test_register_hook_sees_input_and_output_gradients_and_may_replace_them():
    # torch 2.13: MulBackward0's hook gets grad_inputs of shapes [3] and None (for the 2).
    calls = []
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    z = y.exp()
    handle = y.grad_fn.register_hook(lambda gi, go: calls.append(
        ([None if g is None else tuple(g.shape) for g in gi], [tuple(g.shape) for g in go])))
    z.grad_fn.register_prehook(lambda go: calls.append(("pre", tuple(go[0].shape))))
    z.sum().backward()
    assert calls == [("pre", (3,)), ([(3,), None], [(3,)])]
    handle.remove()

    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, gi[1]))
    x.grad = None
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    y = x * 2
    y.grad_fn.register_prehook(lambda go: (go[0] * 10,))
    x.grad = None
    y.sum().backward()
    assert x.grad.tolist() == [20.0, 20.0, 20.0]


def test_post_hooks_see_gradients_in_the_input_shape():
    shapes = []
    b = leaf([1.0, 2.0])
    y = tc.ones(3, 2) + b  # the op's gradient for b is (3, 2): summed down before the hook
    y.grad_fn.register_hook(lambda gi, go: shapes.append([None if g is None else g.shape
                                                           for g in gi]))
    y.sum().backward()
    assert shapes == [[None, (2,)]] and b.grad.tolist() == [3.0, 3.0]


def test_hooks_on_accumulate_grad():
    calls = []
    x = leaf([1.0, 2.0])
    y = x * 3
    acc = y.grad_fn.next_functions[0][0]
    acc.register_hook(lambda gi, go: calls.append((gi, go[0].tolist())))
    y.sum().backward()
    assert calls == [((), [3.0, 3.0])]  # torch 2.13: ((), (tensor([3., 3.]),))


def test_a_hook_on_a_freed_node_is_refused():
    y = leaf([1.0]) * 2
    y.sum().backward()
    with pytest.raises(RuntimeError, match="freed by backward"):
        y.grad_fn.register_hook(lambda gi, go: None)


def test_nodes_without_hooks_keep_the_class_backward():
    y = leaf([1.0]) * 2
    assert "backward" not in vars(y.grad_fn)  # hooks are installed only when registered


# ----------------------------------------------------------------- Variable


def test_variable_returns_a_tensor_sharing_the_data():
    t = tc.ones(2)
    v = Variable(t)
    assert type(v) is tc.Tensor and v is not t and not v.requires_grad
    assert numpy.shares_memory(v.array, t.array)
    w = Variable(t, requires_grad=True)
    assert w.requires_grad and w.is_leaf and not t.requires_grad
    assert isinstance(t, Variable) and not isinstance(3, Variable)
    assert tc.autograd.Variable is Variable and tc.autograd.variable.Variable is Variable


def test_variable_cuts_the_graph_and_checks_its_argument():
    y = leaf([1.0]) * 2
    v = Variable(y)
    assert v.grad_fn is None and not v.requires_grad
    assert Variable().shape == (0,)
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        Variable([1.0])
    with pytest.raises(RuntimeError, match="floating point"):
        Variable(tc.tensor([1, 2]), requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Variable(tc.ones(1), volatile=True)
    assert "volatile was removed" in str(caught[0].message)
