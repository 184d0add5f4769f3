"""The graph autograd records, printed as the pytorch/tutorials autograd pages print it:
grad_fn, next_functions down to the leaves, hooks on graph nodes."""

import math

import torch

a = torch.linspace(0.0, 2.0 * math.pi, steps=25, requires_grad=True)
b = torch.sin(a)
c = 2 * b
d = c + 1
out = d.sum()

print("d:")
print(d.grad_fn)
print(d.grad_fn.next_functions)
print(d.grad_fn.next_functions[0][0].next_functions)
print(d.grad_fn.next_functions[0][0].next_functions[0][0].next_functions)
print(d.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0].next_functions)
print("\nc:")
print(c.grad_fn)
print("\nb:")
print(b.grad_fn)
print("\na:")
print(a.grad_fn)

leaf_node = b.grad_fn.next_functions[0][0]
print(type(leaf_node).__name__, leaf_node.variable is a, leaf_node.name())
print(leaf_node is d.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0])

# Node hooks: called with (grad_inputs, grad_outputs) after the node's backward.


def show(grad_inputs, grad_outputs):
    print("grad_inputs:", [None if g is None else tuple(g.shape) for g in grad_inputs])
    print("grad_outputs:", [tuple(g.shape) for g in grad_outputs])


handle = c.grad_fn.register_hook(show)
d.grad_fn.register_prehook(lambda grad_outputs: print("prehook:", grad_outputs[0][:3]))
out.backward()
handle.remove()
print(a.grad[:5])

# The same walk in a small network, as the neural-networks page of the blitz does it.
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
x = torch.ones(3, 4)
loss = torch.nn.functional.mse_loss(net(x), torch.zeros(3, 2))
print(loss.grad_fn)
print(loss.grad_fn.next_functions[0][0])
print(len(loss.grad_fn.next_functions), loss.grad_fn.next_functions[0][1])


def leaves(fn, seen):
    """Every leaf tensor reachable from ``fn``, found through next_functions."""
    for node, _ in fn.next_functions:
        if node is None or node in seen:
            continue
        seen.append(node)
        if hasattr(node, "variable"):
            continue
        leaves(node, seen)
    return [n.variable for n in seen if hasattr(n, "variable")]


found = leaves(loss.grad_fn, [])
params = list(net.parameters())
print(len(found), sorted(tuple(t.shape) for t in found) == sorted(tuple(p.shape) for p in params))
print(all(any(t is p for p in params) for t in found))
