"""Recurrent layers ``RNN``, ``LSTM``, ``GRU`` and their cells, with PyTorch's parameters.

Parameter names, shapes, order and initialisation (``U(-1/sqrt(H), 1/sqrt(H))`` for all) are
PyTorch's, so a ``state_dict`` moves between the two. Each layer and direction is one input
projection for all time steps (a matrix product) and one recurrence op (see
``nn/functional/recurrent.py``); a :class:`~trainctl.nn.utils.rnn.PackedSequence` input runs on
its padded form, each sequence stopping at its own length.
"""

from __future__ import annotations

import math
import numbers
import warnings

from ...autograd import creation
from ...autograd.ops.shape import cat, stack
from ...autograd.tensor import Tensor
from .. import init
from ..functional.dropout import dropout
from ..functional.linear import linear
from ..functional.recurrent import gru_recurrence, lstm_recurrence, rnn_recurrence
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, packed_to_padded, padded_to_packed

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: parameters, checks and the layer loop."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}", stacklevel=3)
        for name, value in (("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else out_size * directions
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, out_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for prefix, shape in shapes:
                    setattr(self, prefix + suffix,
                            Parameter(creation.empty(*shape, device=device, dtype=dtype)))
                    names.append(prefix + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """Accepted for PyTorch code (cuDNN's weight layout); nothing to do here."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters of each layer and direction, as lists (PyTorch's order)."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ forward

    def _state_shape(self, batch: int, size: int) -> tuple:
        return (self.num_layers * (2 if self.bidirectional else 1), batch, size)

    def _prepare(self, input, hx):
        """(time-major input, lengths or None, initial states as a list, how to give back)."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            x, lengths = packed_to_padded(input)
            batched = True
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                                 "tensor instead")
            batched, lengths = input.ndim == 3, None
            x = input if batched else input.unsqueeze(1)
            if self.batch_first and batched:
                x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        sizes = [self.proj_size or self.hidden_size] + (
            [self.hidden_size] if self.mode == "LSTM" else [])
        states = (list(hx) if isinstance(hx, (tuple, list))
                  else [hx] if hx is not None else [None] * len(sizes))
        if hx is not None and len(states) != len(sizes):
            raise TypeError(f"{name}: hx must be " + ("a tuple (h_0, c_0)" if len(sizes) == 2
                                                      else "a tensor"))
        prepared = []
        for k, (state, size) in enumerate(zip(states, sizes)):
            want = self._state_shape(x.shape[1], size)
            if state is None:
                prepared.append(None)
                continue
            if state.ndim != (3 if batched else 2):
                raise RuntimeError(
                    f"For {'batched 3-D' if batched else 'unbatched 2-D'} input, hx "
                    f"should also be {3 if batched else 2}-D but got {state.ndim}-D tensor")
            if not batched:
                state = state.unsqueeze(1)
            if isinstance(input, PackedSequence) and input.sorted_indices is not None:
                state = state.index_select(1, input.sorted_indices)
            if tuple(state.shape) != want:
                which = f"hidden[{k}]" if len(sizes) == 2 else "hidden"
                raise RuntimeError(f"Expected {which} size {want}, got {list(state.shape)}")
            prepared.append(state)
        return x, lengths, prepared, batched

    def _initial(self, given, index: int, batch: int, size: int, like: Tensor) -> Tensor:
        if given is None:
            return creation.zeros(batch, size, dtype=like.dtype, device=like.device)
        return given[index]

    def _run(self, x: Tensor, lengths, states):
        """Run every layer and direction: (output (T, B, D * P), final states (L * D, B, *))."""
        lstm = self.mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        out_size = self.proj_size or self.hidden_size
        batch = x.shape[1]
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                weights = [getattr(self, n) for n in self._all_weights[index]]
                w_ih, w_hh = weights[0], weights[1]
                b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
                reverse = direction == 1
                xg = linear(x, w_ih, b_ih)
                h0 = self._initial(states[0], index, batch, out_size, x)
                if lstm:
                    c0 = self._initial(states[1], index, batch, self.hidden_size, x)
                    w_hr = weights[-1] if self.proj_size else None
                    seq = lstm_recurrence(xg, w_hh, b_hh, h0, c0, w_hr, reverse, lengths)
                    last = seq[0] if reverse else seq[-1]
                    finals_h.append(last[:, :out_size])
                    finals_c.append(last[:, out_size:])
                    outputs.append(seq[..., :out_size])
                else:
                    if self.mode == "GRU":
                        seq = gru_recurrence(xg, w_hh, b_hh, h0, reverse, lengths)
                    else:
                        nonlinearity = "relu" if self.mode == "RNN_RELU" else "tanh"
                        seq = rnn_recurrence(xg, w_hh, b_hh, h0, reverse, nonlinearity, lengths)
                    finals_h.append(seq[0] if reverse else seq[-1])
                    outputs.append(seq)
            x = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = dropout(x, self.dropout, True)
        return x, stack(finals_h), (stack(finals_c) if lstm else None)

    def _finish(self, input, output: Tensor, finals, batched: bool):
        """The output as PyTorch returns it, and the final states in the batch's own order."""
        if isinstance(input, PackedSequence):
            output = padded_to_packed(output, input)
            if input.unsorted_indices is not None:
                finals = [f.index_select(1, input.unsorted_indices) for f in finals]
        elif not batched:
            output = output.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, finals

    def forward(self, input, hx=None):
        x, lengths, states, batched = self._prepare(input, hx)
        output, h_n, c_n = self._run(x, lengths, states)
        output, finals = self._finish(input, output, [h_n] + ([c_n] if c_n is not None else []),
                                      batched)
        return output, (tuple(finals) if len(finals) == 2 else finals[0])


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act tanh or relu.

    Returns ``(output, h_n)``: output (T, B, D * H) (batch first with ``batch_first``, or a
    PackedSequence for a packed input), h_n (num_layers * D, B, H).

    Example:
        >>> import trainctl as tc
        >>> rnn = tc.nn.RNN(10, 20, 2)
        >>> output, hn = rnn(tc.randn(5, 3, 10), tc.randn(2, 3, 20))
        >>> output.shape, hn.shape
        (trainctl.Size([5, 3, 20]), trainctl.Size([2, 3, 20]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, gates (i, f, g, o) as in PyTorch; ``proj_size`` projects h.

    Returns ``(output, (h_n, c_n))``: output (T, B, D * P), h_n (num_layers * D, B, P) and
    c_n (num_layers * D, B, H), where P is ``proj_size`` or H.

    Example:
        >>> import trainctl as tc
        >>> lstm = tc.nn.LSTM(10, 20, 2, batch_first=True)
        >>> output, (hn, cn) = lstm(tc.randn(3, 5, 10))
        >>> output.shape, hn.shape, cn.shape
        (trainctl.Size([3, 5, 20]), trainctl.Size([2, 3, 20]), trainctl.Size([2, 3, 20]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates (r, z, n) as in PyTorch (``b_hn`` inside ``r * (...)``).

    Returns ``(output, h_n)`` shaped as :class:`RNN`'s.

    Example:
        >>> import trainctl as tc
        >>> gru = tc.nn.GRU(10, 20, bidirectional=True)
        >>> output, hn = gru(tc.randn(5, 3, 10))
        >>> output.shape, hn.shape
        (trainctl.Size([5, 3, 40]), trainctl.Size([2, 3, 20]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


# ---------------------------------------------------------------------------- cells


class RNNCellBase(Module):
    """What the cells share: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(creation.empty(gates, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(creation.empty(gates, hidden_size, device=device,
                                                  dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(gates, device=device, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(gates, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, hx, count: int):
        """(input (1, B, F) as one time step, initial states (B, H) or None, batched)."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} "
                               f"expected {self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        states = [None] * count if hx is None else list(hx) if count == 2 else [hx]
        out = []
        for state in states:
            if state is None:
                state = creation.zeros(x.shape[0], self.hidden_size, dtype=x.dtype,
                                       device=x.device)
            elif state.ndim != input.ndim:
                raise ValueError(f"{name}: Expected hidden to be {input.ndim}D, got "
                                 f"{state.ndim}D instead")
            elif not batched:
                state = state.unsqueeze(0)
            if tuple(state.shape) != (x.shape[0], self.hidden_size):
                raise RuntimeError(f"hidden has inconsistent size: got {list(state.shape)}, "
                                   f"expected {[x.shape[0], self.hidden_size]}")
            out.append(state)
        return linear(x, self.weight_ih, self.bias_ih).unsqueeze(0), out, batched


class RNNCell(RNNCellBase):
    """One step of :class:`RNN`: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Example:
        >>> import trainctl as tc
        >>> cell = tc.nn.RNNCell(10, 20)
        >>> cell(tc.randn(3, 10)).shape
        trainctl.Size([3, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        xg, (h,), batched = self._prepare(input, hx, 1)
        out = rnn_recurrence(xg, self.weight_hh, self.bias_hh, h,
                             nonlinearity=self.nonlinearity)[0]
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of :class:`LSTM`; returns ``(h', c')``.

    Example:
        >>> import trainctl as tc
        >>> cell = tc.nn.LSTMCell(10, 20)
        >>> h, c = cell(tc.randn(3, 10))
        >>> h.shape, c.shape
        (trainctl.Size([3, 20]), trainctl.Size([3, 20]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx=None) -> tuple:
        xg, (h, c), batched = self._prepare(input, hx, 2)
        out = lstm_recurrence(xg, self.weight_hh, self.bias_hh, h, c)[0]
        h, c = out[:, :self.hidden_size], out[:, self.hidden_size:]
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One step of :class:`GRU`.

    Example:
        >>> import trainctl as tc
        >>> cell = tc.nn.GRUCell(10, 20)
        >>> cell(tc.randn(3, 10), tc.randn(3, 20)).shape
        trainctl.Size([3, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        xg, (h,), batched = self._prepare(input, hx, 1)
        out = gru_recurrence(xg, self.weight_hh, self.bias_hh, h)[0]
        return out if batched else out.squeeze(0)
