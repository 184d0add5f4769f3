"""Custom ``tc.autograd.Function``\\ s written as PyTorch's docs write them: tensors in and out.

Where a number is compared with PyTorch's, it was produced by torch 2.13 (CPU) running the same
code, and is hard-coded here (the suite runs without torch).
"""

import math

import numpy
import pytest

import trainctl as tc
from trainctl.autograd.function import once_differentiable


def leaf(values, dtype=tc.float32):
    return tc.tensor(values, dtype=dtype, requires_grad=True)


class LegendrePolynomial3(tc.autograd.Function):
    """From the pytorch/tutorials page "examples_autograd/polynomial_custom_function"."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class MyReLU(tc.autograd.Function):
    """From the pytorch/tutorials page "examples_autograd/two_layer_net_custom_function"."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class MulConstant(tc.autograd.Function):
    """From PyTorch's "Extending torch.autograd" notes: a non-tensor argument."""

    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


class LinearFunction(tc.autograd.Function):
    """From the same notes, in the setup_context style, with an optional bias."""

    @staticmethod
    def forward(input, weight, bias=None):
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, weight, bias = inputs
        ctx.save_for_backward(input, weight, bias)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class SplitScale(tc.autograd.Function):
    """Two differentiable outputs."""

    @staticmethod
    def forward(ctx, x):
        return x[:2] * 2, x[2:] * 3

    @staticmethod
    def backward(ctx, g1, g2):
        return tc.cat([g1 * 2, g2 * 3])


def test_the_legendre_tutorial_trains_as_in_pytorch():
    x = tc.linspace(-math.pi, math.pi, 50)
    y = tc.sin(x)
    a, b, c, d = (tc.full((), v, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
    for _ in range(5):
        y_pred = a + b * LegendrePolynomial3.apply(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with tc.no_grad():
            for p in (a, b, c, d):
                p -= 1e-3 * p.grad
                p.grad = None
    # torch 2.13: loss 7.118685245513916, b -1.0460798740386963, d 0.2394590675830841
    assert loss.item() == pytest.approx(7.118685245513916, rel=1e-5)
    assert b.item() == pytest.approx(-1.0460798740386963, rel=1e-6)
    assert d.item() == pytest.approx(0.2394590675830841, rel=1e-6)
    assert abs(a.item()) < 1e-8 and abs(c.item()) < 1e-8


def test_forward_and_backward_get_tensors_with_grad_mode_off():
    seen = {}

    class Probe(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen["forward"] = (type(x), tc.is_grad_enabled(), x.requires_grad)
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            out = 2 * x * grad_output
            seen["backward"] = (type(grad_output), tc.is_grad_enabled(), out.requires_grad)
            return out

    x = leaf([1.0, -2.0])
    y = Probe.apply(x)
    assert y.requires_grad and y.grad_fn.name() == "ProbeBackward"
    y.sum().backward()
    assert seen["forward"] == (tc.Tensor, False, True)
    assert seen["backward"] == (tc.Tensor, False, False)  # saved x requires grad; no graph
    assert x.grad.tolist() == [2.0, -4.0]


def test_gradcheck_on_the_documentation_examples():
    gradcheck = tc.autograd.gradcheck
    assert gradcheck(LegendrePolynomial3.apply, [tc.randn(5)])
    assert gradcheck(MyReLU.apply, [tc.tensor([-1.5, -0.2, 0.3, 2.0])])  # away from the kink
    assert gradcheck(MulConstant.apply, [tc.randn(3), 2.5])
    assert gradcheck(LinearFunction.apply, [tc.randn(4, 3), tc.randn(2, 3), tc.randn(2)])
    assert gradcheck(lambda x, w: LinearFunction.apply(x, w), [tc.randn(4, 3), tc.randn(2, 3)])
    assert gradcheck(SplitScale.apply, [tc.randn(5)])


def test_gradients_match_pytorch_for_my_relu():
    x = leaf([[-1.0, 2.0], [0.5, -0.25]])
    (MyReLU.apply(x) * tc.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0], [3.0, 0.0]]  # torch 2.13 gives the same


def test_needs_input_grad_has_one_entry_per_argument():
    seen = []

    class Probe(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale, y):
            seen.append(ctx.needs_input_grad)
            return x * scale * y

        @staticmethod
        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            return g, None, None

    x = leaf([1.0, 2.0])
    Probe.apply(x, 2, tc.ones(2)).sum().backward()
    with tc.no_grad():
        out = Probe.apply(x, 2, tc.ones(2))
    assert seen == [(True, False, False), (True, False, False), (False, False, False)]
    assert out.grad_fn is None and not out.requires_grad


def test_non_tensor_and_keyword_arguments_pass_through():
    class Power(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x, n, *, shift=0.0):
            ctx.save_for_backward(x)
            ctx.n = n
            return x ** n + shift

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * ctx.n * x ** (ctx.n - 1), None

    x = leaf([1.0, 2.0])
    y = Power.apply(x, 3, shift=1.0)
    assert y.tolist() == [2.0, 9.0]
    assert len(y.grad_fn.next_functions) == 1  # edges for tensor arguments only, as PyTorch
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


def test_setup_context_sees_every_argument_with_defaults():
    x, w = leaf([[1.0, 2.0]]), leaf([[3.0, 4.0]])
    y = LinearFunction.apply(x, w)  # bias defaults to None: setup_context unpacks 3 inputs
    y.sum().backward()
    assert y.tolist() == [[11.0]] and x.grad.tolist() == [[3.0, 4.0]]
    b = leaf([0.5])
    out = LinearFunction.apply(x, w, bias=b)
    out.sum().backward()
    assert out.tolist() == [[11.5]] and b.grad.tolist() == [1.0]


def test_integer_inputs_and_outputs_are_not_differentiable():
    y = MulConstant.apply(tc.tensor([1, 2]), 3)
    assert y.tolist() == [3, 6] and not y.requires_grad and y.grad_fn is None


# ----------------------------------------------------------------- outputs


def test_two_differentiable_outputs_run_one_backward():
    calls = []

    class Split(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[:2] * 2, x[2:] * 3

        @staticmethod
        def backward(ctx, g1, g2):
            calls.append((g1.tolist(), g2.tolist()))
            return tc.cat([g1 * 2, g2 * 3])

    x = leaf([1.0, 2.0, 3.0])
    a, b = Split.apply(x)
    assert a.grad_fn.name() == b.grad_fn.name() == "SplitBackward"
    assert a.grad_fn.next_functions == b.grad_fn.next_functions
    (a.sum() + 10 * b.sum()).backward()
    assert calls == [([1.0, 1.0], [10.0])] and x.grad.tolist() == [2.0, 2.0, 30.0]
    a, b = Split.apply(x)
    x.grad = None
    a.sum().backward()  # b unused: its gradient arrives as zeros (materialised)
    assert calls[-1] == ([1.0, 1.0], [0.0]) and x.grad.tolist() == [2.0, 2.0, 0.0]


def test_hooks_retain_grad_and_autograd_grad_on_one_of_several_outputs():
    x = leaf([1.0, 2.0, 3.0])
    a, b = SplitScale.apply(x)
    b.retain_grad()
    a.register_hook(lambda g: g * 10)
    (a.sum() + b.sum()).backward()
    assert x.grad.tolist() == [20.0, 20.0, 3.0] and b.grad.tolist() == [1.0]
    a, b = SplitScale.apply(x)
    (gb,) = tc.autograd.grad((a.sum() + 2 * b.sum()), [b])
    assert gb.tolist() == [2.0]


def test_set_materialize_grads_false_passes_none():
    seen = []

    class Split(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            return (g1 if g1 is not None else 0) + (2 * g2 if g2 is not None else 0)

    x = leaf([1.0])
    a, b = Split.apply(x)
    b.sum().backward()
    assert seen == [(True, False)] and x.grad.tolist() == [2.0]


def test_mark_non_differentiable_and_non_tensor_outputs():
    seen = []

    class SortWithIndex(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            s, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return s, idx, "tag"

        @staticmethod
        def backward(ctx, g_sorted, g_idx, g_tag):
            seen.append((g_idx.dtype, g_idx.tolist(), g_tag))
            idx, = ctx.saved_tensors
            grad = tc.zeros_like(g_sorted)
            grad[idx] = g_sorted
            return grad

    x = leaf([3.0, 1.0, 2.0])
    s, idx, tag = SortWithIndex.apply(x)
    assert s.requires_grad and not idx.requires_grad and idx.grad_fn is None and tag == "tag"
    (s * tc.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 1.0, 2.0]
    assert seen == [(tc.int64, [0, 0, 0], None)]  # torch 2.13: tensor([0, 0, 0]) and None


def test_a_non_differentiable_float_output_has_no_history():
    class Frozen(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            ctx.mark_non_differentiable(y)
            return y

    y = Frozen.apply(leaf([1.0]))
    assert not y.requires_grad and y.grad_fn is None


def test_an_input_returned_unchanged_is_a_new_tensor_sharing_its_data():
    class Identity(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = leaf([1.0, 2.0])
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and y.grad_fn is not None
    assert numpy.shares_memory(y.array, x.array)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_mark_dirty_makes_the_input_the_output():
    class Double_(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = leaf([1.0, 2.0])
    h = x * 1
    out = Double_.apply(h)
    assert out is h and h.tolist() == [2.0, 4.0] and h.grad_fn.name() == "Double_Backward"
    assert h._version == 2  # as torch 2.13: the in-place op, then the rebase
    (h * h).sum().backward()  # through Double_ and then through the old history of h
    assert x.grad.tolist() == [8.0, 16.0]
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        Double_.apply(leaf([1.0]))


def test_mark_dirty_on_a_tensor_not_returned_is_an_error():
    class Bad(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x * 1

    with pytest.raises(RuntimeError, match="marked as dirty .* were not returned as output"):
        Bad.apply(leaf([1.0]) * 1)


# ----------------------------------------------------------------- saved tensors and misuse


class Square(tc.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2 * x * g


def test_saved_tensors_are_checked_and_freed():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = Square.apply(h)
    with tc.no_grad():
        h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation: SquareBackward"):
        y.sum().backward()
    y = Square.apply(x)
    y.sum().backward(retain_graph=True)
    y.sum().backward()  # retained: a second pass works
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        _ = y.grad_fn.saved_tensors
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_saving_an_output_keeps_its_values_without_a_cycle():
    class Exp(tc.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

    x = leaf([0.0, 1.0])
    y = Exp.apply(x)
    assert all(isinstance(s, numpy.ndarray) for s in y.grad_fn._saved)  # not the tensor
    y.sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), numpy.exp([0.0, 1.0]), rtol=1e-6)
    y = Exp.apply(x)
    with tc.no_grad():
        y.mul_(2)  # the saved output changed: caught, as for an input
    with pytest.raises(RuntimeError, match="modified by an in-place operation: ExpBackward"):
        y.sum().backward()


def test_save_for_backward_takes_tensors_or_none():
    class SavesInt(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

    with pytest.raises(TypeError, match="argument 1 is of type int"):
        SavesInt.apply(leaf([1.0]))

    class SavesNone(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(None, x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            none, x = ctx.saved_tensors
            assert none is None
            return g * 2

    x = leaf([1.0])
    SavesNone.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0]


def _returning(*grads):
    class Fn(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return grads

    return Fn


@pytest.mark.parametrize("grads, message", [
    ((None,), r"returned an incorrect number of gradients \(expected 2, got 1\)"),
    ((None, None, tc.ones(2)), r"returned an incorrect number of gradients \(expected 2, got 3\)"),
    ((3.0, None), "returned a float as gradient at position 1; expected a Tensor or None"),
    ((tc.ones(3), None), r"invalid gradient at index 0 - got \[3\] but expected shape "
                         r"compatible with \[2\]"),
])
def test_backward_returning_the_wrong_gradients_is_an_error(grads, message):
    x = leaf([1.0, 2.0])
    y = _returning(*grads).apply(x, tc.ones(2))
    with pytest.raises(RuntimeError, match=message):
        y.sum().backward()


def test_extra_trailing_nones_and_broadcast_shaped_gradients_are_accepted():
    x = leaf([1.0, 2.0])
    _returning(tc.ones(3, 2), None, None, None).apply(x, tc.ones(2)).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]  # summed down from (3, 2), as PyTorch does


def test_a_gradient_for_a_non_tensor_argument_is_an_error():
    x = leaf([1.0])
    y = MulConstant.apply(x, 2.0)

    class Wrong(MulConstant):
        @staticmethod
        def backward(ctx, g):
            return g, g

    y = Wrong.apply(x, 2.0)
    with pytest.raises(RuntimeError, match="different than None at position 2, but the "
                                           "corresponding forward input was not a Tensor"):
        y.sum().backward()


def test_a_gradient_of_another_dtype_is_cast_to_the_input_dtype():
    x = leaf([1.0, 2.0])
    _returning(tc.ones(2, dtype=tc.float64), None).apply(x, tc.ones(2)).sum().backward()
    assert x.grad.dtype == tc.float32 and x.grad.tolist() == [1.0, 1.0]


def test_a_returned_gradient_the_user_still_holds_is_not_aliased_by_grad():
    keep = tc.ones(2)

    class Fn(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return keep

    x = leaf([1.0, 2.0])
    Fn.apply(x).sum().backward()
    Fn.apply(x).sum().backward()  # accumulates into x.grad in place
    assert x.grad.tolist() == [2.0, 2.0] and keep.tolist() == [1.0, 1.0]


# ----------------------------------------------------------------- decorators and odd uses


def test_once_differentiable_runs_backward_without_grad():
    seen = []

    class Exp(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.exp()

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            seen.append(tc.is_grad_enabled())
            x, = ctx.saved_tensors
            return g * x.exp()

    x = leaf([0.0])
    Exp.apply(x).sum().backward()
    assert seen == [False] and x.grad.tolist() == [1.0]
    assert Exp.backward.__name__ == "backward"


def test_vjp_can_stand_for_backward():
    class Twice(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def vjp(ctx, g):
            return g * 2

    x = leaf([1.0])
    Twice.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0]


def test_missing_backward_says_so():
    class NoBackward(tc.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="implement either the backward or vjp"):
        NoBackward.apply(leaf([1.0])).sum().backward()


def test_instantiating_warns_and_calling_an_instance_is_refused():
    with pytest.warns(DeprecationWarning, match="should not be instantiated"):
        fn = Square()
    with pytest.raises(RuntimeError, match="Legacy autograd function"):
        fn(leaf([1.0]))


def test_trainctl_ops_may_not_subclass_the_tensor_level_function():
    with pytest.raises(TypeError, match="subclass trainctl.autograd.array_function.ArrayFunction"):
        class Op(tc.autograd.Function):
            __module__ = "trainctl.autograd.ops.example"


def test_the_node_prints_like_pytorch_and_is_a_graph_node():
    y = Square.apply(leaf([1.0]))
    assert repr(y.grad_fn).startswith("<trainctl.autograd.function.SquareBackward object at 0x")
    assert isinstance(y.grad_fn, tc.autograd.graph.Node)
    assert isinstance(y.grad_fn, tc.autograd.function.FunctionCtx)
    assert type(y.grad_fn)._forward_cls is Square
    assert repr(y) == "tensor([1.], grad_fn=<SquareBackward>)"  # as torch 2.13 prints it


def test_node_hooks_on_a_custom_function():
    calls = []
    x = leaf([1.0, 2.0])
    y = MulConstant.apply(x, 3.0)
    y.grad_fn.register_prehook(lambda go: calls.append(("pre", go[0].tolist())))
    y.grad_fn.register_hook(lambda gi, go: calls.append(("post", gi[0].tolist(), len(gi))))
    y.sum().backward()
    assert calls == [("pre", [1.0, 1.0]), ("post", [3.0, 3.0], 1)]
    y = MulConstant.apply(x, 3.0)
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0,))
    x.grad = None
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
