"""The backward pass: the autograd API, hooks, graph freeing, deep graphs and error messages."""

import numpy
import pytest

import trainctl as tc
from trainctl.autograd.array_function import ArrayFunction


def leaf(values):
    return tc.tensor(values, requires_grad=True)


# ---------------------------------------------------------------------------- backward()


def test_backward_with_explicit_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(gradient=tc.tensor([1.0, 0.5, 2.0]))
    assert x.grad.tolist() == [2.0, 2.0, 12.0]
    z = leaf([1.0, 2.0])
    (z * 3).backward(numpy.array([1.0, 1.0]))  # a NumPy gradient works too
    assert z.grad.tolist() == [3.0, 3.0]


def test_implicit_gradient_only_for_scalars():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2).backward()
    (x * 2)[:1].backward()  # one element is fine
    assert x.grad.tolist() == [2.0, 0.0]


def test_gradient_shape_must_match():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the tensor has shape"):
        (x * 2).backward(tc.ones(3))


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_backward_twice_needs_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.clone()
    y.backward()
    numpy.testing.assert_allclose(x.grad.numpy(), 2 * first.numpy())
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_shared_subgraph_freed_by_first_backward():
    x = leaf([1.0, 2.0])
    z = x * 2
    z.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (z * 3).sum().backward()


def test_tensor_used_twice_gets_both_contributions():
    x = leaf([1.0, 2.0])
    y = x * x + x  # x reaches the output through three paths
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 5.0]
    a = leaf(3.0)
    b = a * a
    (b * b).backward()  # d(a^4)/da = 4 a^3
    assert a.grad.item() == 108.0


def test_backward_of_a_leaf_itself():
    x = leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0


def test_backward_on_tensor_without_grad_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tc.ones(2).sum().backward()


def test_create_graph_is_refused_clearly():
    x = leaf([1.0])
    with pytest.raises(NotImplementedError, match="higher-order"):
        (x * 2).sum().backward(create_graph=True)


def test_two_leaves_sharing_one_gradient_array_do_not_alias():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()  # Add hands the same array to both
    a.grad.array += 10
    assert b.grad.tolist() == [1.0, 1.0]
    a.grad.mul_(0)
    assert b.grad.tolist() == [1.0, 1.0]


def test_leaf_grad_does_not_alias_arrays_seen_by_hooks():
    x = leaf([1.0, 2.0])
    seen = []
    y = x.clone()
    y.register_hook(seen.append)
    y.sum().backward()
    (x * 1).sum().backward()  # accumulates into x.grad in place
    assert seen[0].tolist() == [1.0, 1.0]
    assert x.grad.tolist() == [2.0, 2.0]


def test_grad_is_writeable_after_sum():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    x.sum().backward()  # the gradient of sum is a broadcast; .grad must be a real array
    x.grad.add_(1)
    assert x.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]


def test_broadcast_gradients_are_summed_to_the_input_shape():
    a = leaf([[1.0], [2.0]])  # (2, 1)
    b = leaf([10.0, 20.0, 30.0])  # (3,)
    (a * b).sum().backward()
    assert a.grad.tolist() == [[60.0], [60.0]]
    assert b.grad.tolist() == [3.0, 3.0, 3.0]


def test_gradients_keep_the_leaf_dtype():
    x = tc.tensor([1.0, 2.0], dtype=tc.float64, requires_grad=True)
    (x * tc.tensor([1.0, 1.0])).sum().backward()  # float64 * float32 -> float64
    assert x.grad.dtype == tc.float64
    w = leaf([1.0, 2.0])
    (w * numpy.float64(3.0)).sum().backward()
    assert w.grad.dtype == tc.float32


# ---------------------------------------------------------------------------- autograd.grad


def test_autograd_grad_returns_gradients_and_leaves_grad_untouched():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    out = (x * y).sum()
    gx, gy = tc.autograd.grad(out, [x, y])
    assert gx.tolist() == [3.0, 4.0] and gy.tolist() == [1.0, 2.0]
    assert x.grad is None and y.grad is None
    (gx,) = tc.autograd.grad((x * x).sum(), x)
    assert gx.tolist() == [2.0, 4.0]


def test_autograd_grad_allow_unused():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        tc.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = tc.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None


def test_autograd_grad_wrt_intermediate_and_with_grad_outputs():
    x = leaf([1.0, 2.0])
    h = x * 3
    out = h * h
    (gh,) = tc.autograd.grad(out, h, grad_outputs=tc.tensor([1.0, 0.5]))
    assert gh.tolist() == [6.0, 6.0]


def test_autograd_grad_results_are_writeable_and_distinct():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    ga, gb = tc.autograd.grad((a + b).sum(), [a, b])
    ga.array += 1
    assert gb.tolist() == [1.0, 1.0]


def test_autograd_grad_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tc.autograd.grad(tc.ones(1).sum(), [leaf([1.0])])
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        tc.autograd.grad((x * 2).sum(), [tc.ones(1)])


# ---------------------------------------------------------------------------- hooks, retain_grad


def test_hook_on_leaf_sees_and_replaces_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    handle = x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    assert seen == [[2.0, 2.0]] and x.grad.tolist() == [20.0, 20.0]
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and len(seen) == 2


def test_hook_on_non_leaf_changes_what_flows_back():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.register_hook(lambda g: g * 0 + 1.5)
    (h * h).sum().backward()
    assert x.grad.tolist() == [4.5, 4.5]


def test_hook_registration_needs_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tc.ones(2).register_hook(lambda g: g)


def test_retain_grad_keeps_intermediate_gradients():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    assert h.retains_grad
    out = (h * h).sum()
    assert h.grad is None
    out.backward()
    assert h.grad.tolist() == [6.0, 12.0]
    assert x.grad.tolist() == [18.0, 36.0]
    plain = x * 2
    (plain * 1).sum().backward()
    assert plain.grad is None  # not retained


def test_retain_grad_on_leaf_is_a_no_op_and_needs_grad():
    x = leaf([1.0])
    x.retain_grad()
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        tc.ones(1).retain_grad()


# ---------------------------------------------------------------------------- graph state


def test_detach_cuts_the_graph_and_shares_data():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    y = x.detach()
    y.array[0] = 7.0
    assert x.tolist()[0] == 7.0
    out = (x * (x * 2).detach()).sum()
    out.backward()
    assert x.grad.tolist() == [14.0, 4.0]


def test_is_leaf_grad_fn_and_requires_grad_flags():
    x = leaf([1.0])
    c = tc.ones(1)
    y = x * c
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
    assert (c * 2).grad_fn is None and not (c * 2).requires_grad
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match="floating point"):
        tc.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        tc.tensor([1, 2], requires_grad=True)


# ---------------------------------------------------------------------------- in-place checks


def test_in_place_change_to_saved_tensor_is_caught_at_backward():
    x = leaf([1.0, 2.0])
    w = tc.tensor([3.0, 4.0])
    y = (x * w).sum()  # Mul saved w
    w.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation: MulBackward saved "
                                           r"a tensor of shape \(2,\) at version 0; it is now at "
                                           r"version 1"):
        y.backward()


def test_in_place_change_to_saved_output_is_caught():
    x = leaf([1.0, 2.0])
    y = x.exp()  # Exp saves its output
    with tc.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="ExpBackward"):
        y.sum().backward()


def test_in_place_change_to_unsaved_input_is_fine():
    x = leaf([1.0, 2.0])
    c = tc.tensor([3.0, 4.0])
    y = (x + c).sum()  # Add saves nothing
    c.add_(1)
    y.backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_in_place_on_leaf_requiring_grad_needs_no_grad():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w -= 1
    with pytest.raises(RuntimeError, match="in-place"):
        (w * 2).mul_(2)
    with tc.no_grad():
        w.add_(1)
    assert w.tolist() == [2.0, 3.0]


def test_augmented_assignment_on_graph_tensor_rebinds():
    x = leaf([1.0, 2.0])
    h = x * 2
    original = h
    h += 1  # out of place inside the graph, so gradients stay right
    assert h is not original
    h.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


# ---------------------------------------------------------------------------- deep graphs


def test_ten_thousand_op_chain():
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(10_000):
        y = y + 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    assert y.tolist() == [10_001.0, 10_002.0]


def test_ten_thousand_deep_graph_through_different_ops():
    x = tc.tensor([0.5, -0.25], dtype=tc.float64, requires_grad=True)
    y = x
    steps = [
        lambda y: y * 1.0,
        lambda y: y.reshape(1, 2)[0],
        lambda y: (y * 2.0) / 2.0,
        lambda y: tc.cat([y[:1], y[1:]]),
        lambda y: (y - 0.0).clamp(-10.0, 10.0),
        lambda y: y.unsqueeze(0).squeeze(0),
        lambda y: y.exp().log(),
        lambda y: tc.stack([y]).sum(0),
    ]
    for i in range(10_000):
        y = steps[i % len(steps)](y)
    y.sum().backward()
    numpy.testing.assert_allclose(y.detach().numpy(), [0.5, -0.25], rtol=1e-9)
    numpy.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0], rtol=1e-9)


# ------------------------------------------------- ArrayFunction (the ops' array-level base)


class Cube(ArrayFunction):
    @staticmethod
    def forward(ctx, a, scale=1.0):
        ctx.save_for_backward(a)
        ctx.scale = scale
        return scale * a ** 3

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * 3 * ctx.scale * a ** 2


def test_custom_function_forward_backward_and_params():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x, scale=2.0)
    assert y.tolist() == [2.0, 16.0]
    assert y.grad_fn.name() == "CubeBackward" and "CubeBackward" in repr(y)
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]
    assert tc.autograd.gradcheck(lambda t: Cube.apply(t, scale=0.5), [tc.randn(4)])


def test_custom_function_constants_and_needs_input_grad():
    seen = {}

    class Scale(ArrayFunction):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = list(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None

    x = leaf([1.0, 2.0])
    Scale.apply(x, 2.0).sum().backward()  # a Python constant input
    assert seen["needs"] == [True, False] and x.grad.tolist() == [2.0, 2.0]
    with tc.no_grad():
        out = Scale.apply(x, tc.ones(2))
    assert seen["needs"] == [False, False] and out.grad_fn is None


def test_engine_un_broadcasts_gradients_returned_in_broadcast_shape():
    class BroadcastAdd(ArrayFunction):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad  # in the output's (broadcast) shape

    a, b = leaf([[1.0], [2.0]]), leaf([1.0, 2.0, 3.0])
    BroadcastAdd.apply(a, b).sum().backward()
    assert a.grad.tolist() == [[3.0], [3.0]] and b.grad.tolist() == [2.0, 2.0, 2.0]


def test_sum_to():
    from trainctl.autograd import sum_to

    g = numpy.ones((2, 3, 4))
    assert sum_to(g, (3, 1)).tolist() == [[8.0]] * 3
    assert sum_to(g, (4,)).tolist() == [6.0] * 4
    assert sum_to(g, ()).item() == 24.0
    assert sum_to(g, (2, 3, 4)) is g


def test_augmented_assignment_with_a_grad_value_keeps_the_gradient():
    w = leaf([1.0, 2.0])
    total = tc.zeros(2)
    total += w * 3  # a plain tensor accumulating graph values: rebinds, as the value needs it
    total += w
    total.sum().backward()
    assert w.grad.tolist() == [4.0, 4.0]


def test_in_place_method_with_a_grad_value_refuses_instead_of_dropping_it():
    w = leaf([1.0, 2.0])
    buf = tc.zeros(2)
    with pytest.raises(RuntimeError, match="not recorded for backward"):
        buf.add_(w)
    with tc.no_grad():
        buf.add_(w, alpha=2)
    assert buf.tolist() == [2.0, 4.0]


def test_autograd_backward_of_several_outputs():
    x = leaf([1.0, 2.0])
    tc.autograd.backward([(x * x).sum(), x.sum()])
    assert x.grad.tolist() == [3.0, 5.0]
    y = leaf([1.0, 2.0])
    tc.autograd.backward([y * 2, y * 3], [tc.ones(2), tc.tensor([1.0, 0.0])])
    assert y.grad.tolist() == [5.0, 2.0]
    with pytest.raises(RuntimeError, match="element 1 of tensors does not require grad"):
        tc.autograd.backward([(y * 2).sum(), tc.ones(1).sum()])
