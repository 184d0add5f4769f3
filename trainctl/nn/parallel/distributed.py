"""``DistributedDataParallel``: one model replica per process, gradients averaged over MPI.

How a step runs (every rank runs the same code on its own part of the batch):

1. Construction broadcasts rank 0's parameters and buffers, so every replica starts equal, and
   groups the parameters into buckets of about ``bucket_cap_mb`` (flat arrays of the parameters'
   dtype, float32 for a float32 model), in reverse registration order: roughly the order in which
   backward produces their gradients, as PyTorch's DDP.
2. ``forward`` runs the module, then walks the graph it recorded and finds, for every parameter,
   the graph nodes that use it. A hook on each such node (``grad_fn.register_hook``) takes the
   parameter's gradient as backward produces it and adds it into the parameter's slot of its
   bucket (on top of the ``.grad`` already there, so accumulated micro-steps count).
3. When the last node using a parameter has run, the parameter is ready; when a bucket's
   parameters are all ready, its in-place ``Iallreduce`` (sum, non-blocking) starts while
   backward goes on with the earlier layers. Buckets start in bucket order on every rank, as
   MPI requires of collectives.
4. The hook that starts the last bucket waits for all of them, divides by the world size and
   writes each parameter's averaged gradient into ``.grad``: when ``loss.backward()`` returns,
   the gradients are final and ``optimizer.step()`` needs nothing else.

Parameters the forward did not use count as ready at once (their ``.grad``, or zeros, joins the
sum), as with PyTorch's ``find_unused_parameters=True``; one that no rank used keeps
``.grad = None``. A forward that is never backpropagated is replaced by the next one. A
backward that does not reach every node the forward recorded (a loss on part of the outputs)
cannot finish the reduction: the next forward then raises, as PyTorch does. Gradient hooks the
user registered on the parameters themselves (``p.register_hook``) are not run for a
synchronised backward: DDP takes each gradient where it is produced. Parameters and gradients
must be NumPy (CPU) arrays; graph mode (``tc.compile``) is refused.

Overlap: MPICH and Open MPI advance a non-blocking collective when the process calls into MPI;
each hook polls the running buckets (``MPI_Test``) so they progress while backward computes.
"""

from __future__ import annotations

import contextlib

import numpy

from ...autograd.creation import from_numpy
from ...autograd.grad_mode import STATE, is_grad_enabled, no_grad
from ...autograd.tensor import Tensor, tensors_in
from ...distributed import collectives
from ...distributed import process_group as group
from ..module import Module


class _Bucket:
    """A flat array holding the gradients of some parameters, reduced by one Allreduce."""

    def __init__(self, params: list, dtype):
        self.params = params
        sizes = [p.numel() for p in params]
        self.offsets = numpy.concatenate([[0], numpy.cumsum(sizes)]).tolist()
        # After the gradients, one flag per parameter: 1 where a rank has a gradient for it.
        # Summed in the same Allreduce, it tells a parameter no rank used (its .grad stays None,
        # as PyTorch leaves it) from one that some rank used, at no extra message.
        self.flat = numpy.zeros(self.offsets[-1] + len(params), dtype=dtype)
        self.has_grad = self.flat[self.offsets[-1]:]
        self.work = None
        self.pending = 0

    def slot(self, i: int) -> numpy.ndarray:
        return self.flat[self.offsets[i]:self.offsets[i + 1]]


def _same_memory(a, b) -> bool:
    """Whether ``a`` and ``b`` are views of the same bytes (same base, start and shape)."""
    return (a.base is not None and a.base is b.base and a.shape == b.shape
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


class DistributedDataParallel(Module):
    """Data-parallel training of ``module`` over every rank of ``tc.distributed``.

    Args:
        module: the model; each process holds a full copy (``ddp.module``).
        broadcast_buffers: copy rank 0's buffers (BatchNorm's running statistics) to every rank
            at each forward in training mode, as PyTorch does.
        init_sync: broadcast rank 0's parameters (and buffers) at construction.
        bucket_cap_mb: the size of a gradient bucket (default 25 MB, PyTorch's).
        find_unused_parameters: accepted; unused parameters are always handled (see above).
        gradient_as_bucket_view: each ``.grad`` the reduction makes is a view into its bucket
            instead of a copy (PyTorch's meaning): one copy of every gradient less per step,
            but a ``.grad`` kept from one step is overwritten by the next one's reduction.
        forward_sync_buffers: PyTorch 2.13's name for ``broadcast_buffers`` (wins when given).
        device_ids, output_device, dim, check_reduction,
            static_graph, delay_all_reduce_named_params, param_to_hook_all_reduce,
            skip_all_reduce_unused_params, bucket_cap_mb_list, batched_grad_copy: accepted
            for PyTorch scripts; no effect. ``process_group``, ``device_mesh`` and
            ``mixed_precision`` must be None.

    The ``state_dict`` keys carry the ``module.`` prefix, as PyTorch's DDP; save
    ``ddp.module.state_dict()`` for a checkpoint that loads into the bare model.

    Example:
        >>> import trainctl as tc
        >>> import trainctl.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> model = tc.nn.parallel.DistributedDataParallel(tc.nn.Linear(3, 1))
        >>> model(tc.ones(4, 3)).sum().backward()
        >>> model.module.weight.grad
        tensor([[4., 4., 4.]])
        >>> list(model.state_dict())
        ['module.weight', 'module.bias']
        >>> dist.destroy_process_group()
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool | None = None, init_sync: bool = True,
                 process_group=None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None,
                 mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params: bool = False, bucket_cap_mb_list=None,
                 batched_grad_copy: bool = False, forward_sync_buffers: bool | None = None):
        super().__init__()
        if not group.is_initialized():
            raise ValueError("DistributedDataParallel: Default process group has not been "
                             "initialized, please make sure to call init_process_group.")
        if process_group is not None or device_mesh is not None:
            raise ValueError("DistributedDataParallel: trainctl has one group, the default "
                             "(process_group=None, device_mesh=None)")
        if mixed_precision is not None:
            raise ValueError("DistributedDataParallel: mixed_precision is not supported: "
                             "trainctl trains in float32")
        self.module = module
        if forward_sync_buffers is not None:
            self.broadcast_buffers, init_buffers = bool(forward_sync_buffers), True
        else:
            self.broadcast_buffers = True if broadcast_buffers is None else bool(broadcast_buffers)
            init_buffers = self.broadcast_buffers
        self.bucket_cap_mb = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.require_backward_grad_sync = True
        self._world = group.get_world_size()
        params = [p for p in module.parameters() if p.requires_grad]
        self._buckets = self._make_buckets(params)
        self._where = {id(p): (b, i) for b in self._buckets for i, p in enumerate(b.params)}
        self._pending = False
        self._plan = 0  # which forward the hooks belong to (see forward)
        self._started, self._next = set(), 0
        if init_sync:
            self._sync_module_states(init_buffers)

    # ----------------------------------------------------------------- set-up
    def _make_buckets(self, params: list) -> list:
        cap = max(1, int(self.bucket_cap_mb * 1024 * 1024))
        buckets, current, size, dtype = [], [], 0, None
        for p in reversed(params):
            nbytes = p.numel() * p.element_size()
            if current and (size + nbytes > cap or p.array.dtype != dtype):
                buckets.append(_Bucket(current, dtype))
                current, size = [], 0
            current.append(p)
            size += nbytes
            dtype = p.array.dtype
        if current:
            buckets.append(_Bucket(current, dtype))
        return buckets

    def _sync_module_states(self, buffers: bool) -> None:
        """Every rank takes rank 0's parameters (and buffers)."""
        if self._world == 1:
            return
        tensors = [*self.module.parameters(), *(self.module.buffers() if buffers else [])]
        with no_grad():
            for t in tensors:
                collectives.broadcast(t, src=0)

    # ----------------------------------------------------------------- forward
    def forward(self, *inputs, **kwargs):
        if STATE.tracer is not None:
            raise RuntimeError("DistributedDataParallel does not run inside graph mode "
                               "(tc.compile, nn.Graph): train the wrapped model eagerly")
        if self._pending:
            if self._started or self._next:
                raise RuntimeError(
                    "DistributedDataParallel: Expected to have finished reduction in the prior "
                    "iteration before starting a new one: the last backward did not reach "
                    "every output of the forward (compute the loss from all outputs, or run "
                    "the forward under no_grad()).")
            self._pending = False  # a forward never backpropagated: its hooks now refuse
        if self.broadcast_buffers and self.training and self._world > 1:
            with no_grad():
                for b in self.module.buffers():
                    collectives.broadcast(b, src=0)
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync and self._buckets:
            self._prepare_reduction(tensors_in(output))
        return output

    def _prepare_reduction(self, outputs: list) -> None:
        """Find the nodes that use each parameter and hook them (step 2 of the docstring)."""
        uses = {}  # id(param) -> how many graph edges lead into it
        node_edges = []  # (node, [(edge position, param), ...])
        stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
        seen = set()
        while stack:
            node = stack.pop()
            if id(node) in seen or node.inputs is None:
                continue
            seen.add(id(node))
            mine = []
            for k, x in enumerate(node.edge_inputs()):
                if not isinstance(x, Tensor):
                    continue
                if x.grad_fn is not None:
                    stack.append(x.grad_fn)
                elif id(x) in self._where:
                    mine.append((k, x))
                    uses[id(x)] = uses.get(id(x), 0) + 1
            if mine:
                node_edges.append((node, mine))
        if not node_edges:
            return  # nothing of this forward reaches a parameter: nothing to reduce
        self._uses, self._started, self._next = uses, set(), 0
        self._plan += 1
        for bucket in self._buckets:
            bucket.pending = sum(1 for p in bucket.params if uses.get(id(p), 0) > 0)
        for node, mine in node_edges:
            node.register_hook(self._make_hook(node, mine))
        self._pending = True
        # Buckets whose parameters this forward did not use start with the first bucket that
        # becomes ready during backward (their .grad is read then, after any zero_grad()).

    def _make_hook(self, node, mine: list):
        tensors_only = [x for x in node.inputs if isinstance(x, Tensor)]
        plan = self._plan

        def hook(grad_inputs, grad_outputs):
            if plan != self._plan or not self._pending:
                raise RuntimeError(
                    "DistributedDataParallel: backward through the output of a forward that a "
                    "later forward replaced: call backward before the next forward")
            # A custom tc.autograd.Function hands one entry per tensor input, an op one per
            # tensor or number input: map the positions when they differ.
            positions = [k for k, _ in mine]
            if len(grad_inputs) == len(tensors_only) != len(node.edge_inputs()):
                edges = [x for x in node.edge_inputs() if isinstance(x, Tensor)]
                positions = [next(i for i, t in enumerate(edges) if t is p) for _, p in mine]
            grads = list(grad_inputs)
            for k, (_, p) in zip(positions, mine):
                g = grads[k]
                grads[k] = None  # the engine must not also accumulate it into p.grad
                self._accumulate(p, g)
            self._poll()
            return tuple(grads)

        return hook

    # ----------------------------------------------------------------- backward
    def _accumulate(self, p: Tensor, g) -> None:
        bucket, i = self._where[id(p)]
        slot = bucket.slot(i)
        if id(p) not in self._started:
            self._started.add(id(p))
            if p.grad is None and g is not None:
                slot[...] = g.array.reshape(-1)
                g = None
            else:
                slot[...] = 0 if p.grad is None else p.grad.array.reshape(-1)
        if g is not None:
            slot += g.array.reshape(-1)
        self._uses[id(p)] -= 1
        if self._uses[id(p)] == 0:
            bucket.pending -= 1
            if bucket.pending == 0:
                self._launch_ready()

    def _launch_ready(self) -> None:
        """Start every bucket that is ready, in bucket order; finish after the last."""
        buckets = self._buckets
        while self._next < len(buckets) and buckets[self._next].pending == 0:
            bucket = buckets[self._next]
            for i, p in enumerate(bucket.params):
                if id(p) not in self._started:  # unused by this forward: its .grad or zeros
                    bucket.slot(i)[...] = 0 if p.grad is None else p.grad.array.reshape(-1)
                bucket.has_grad[i] = id(p) in self._started or p.grad is not None
            if self._world > 1:
                bucket.work = collectives.all_reduce(from_numpy(bucket.flat), async_op=True)
            self._next += 1
        if self._next == len(buckets):
            self._finish()

    def _poll(self) -> None:
        for bucket in self._buckets[:self._next]:
            if bucket.work is not None:
                bucket.work.is_completed()

    def _finish(self) -> None:
        """Wait for every bucket and write the averaged gradients into ``.grad``."""
        for bucket in self._buckets:
            if bucket.work is not None:
                bucket.work.wait()
                bucket.work = None
            if self._world > 1:
                bucket.flat /= self._world
            for i, p in enumerate(bucket.params):
                if not bucket.has_grad[i]:
                    continue  # no rank used it: .grad stays None
                value = bucket.slot(i).reshape(p.array.shape)
                if self.gradient_as_bucket_view:
                    if p.grad is None or not _same_memory(p.grad.array, value):
                        p.grad = from_numpy(value)
                elif p.grad is None:
                    p.grad = from_numpy(value.copy())
                else:
                    p.grad.array[...] = value
        self._pending = False

    # ----------------------------------------------------------------- accumulation
    @contextlib.contextmanager
    def no_sync(self):
        """Skip the gradient reduction for the forward/backward passes run inside: gradients
        accumulate in each rank's ``.grad``, and the first synchronised backward after the
        block averages the sums.

        Example (accumulating 4 micro-batches)::

            with ddp.no_sync():
                for x, y in micro_batches[:-1]:
                    loss_fn(ddp(x), y).backward()
            loss_fn(ddp(micro_batches[-1][0]), micro_batches[-1][1]).backward()  # reduces
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old
