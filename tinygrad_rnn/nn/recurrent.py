"""Recurrent cells and layers, unrolled into explicit graphs, with PyTorch's exact semantics.

    RNN   h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
    LSTM  i,f,g,o = sigmoid, sigmoid, tanh, sigmoid of (x_t W_i*^T + b_i* + h_{t-1} W_h*^T + b_h*)
          c_t = f * c_{t-1} + i * g          h_t = o * tanh(c_t)
    GRU   r,z = sigmoid(x_t W_i*^T + b_i* + h_{t-1} W_h*^T + b_h*)
          n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))
          h_t = (1 - z) * n + z * h_{t-1}

Parameters are stored fused in PyTorch's gate order (LSTM i,f,g,o; GRU r,z,n). A layer
projects the whole input sequence with one `linear` node (outside the time steps, as cuDNN
does: one matmul instead of T) and takes one slice per step, labelled `x_t W_ih^T`. Each
step is built inside `scope(t=t, layer=l, direction=d, cell=c)` and labels its nodes like
the equations: `a_t` (pre-activation), gates `i_t f_t g_t o_t` / `r_t z_t n_t`, `c_t`, `h_t`.
"""

import numpy as np

from .._context import state as _state
from ..autograd import scope
from ..tensor import Tensor, concat, stack
from . import init
from .linear import linear
from .module import Module, Parameter

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
NONLINEARITIES = ("tanh", "relu")


# ----- one step of each cell: the equations, node by node ----------------------------------


def rnn_step(xw, h, weight_hh, bias_hh, suffix, nonlinearity="tanh"):
    """h_t = act(xw_t + h_{t-1} W_hh^T + b_hh), where xw_t = x_t W_ih^T + b_ih."""
    hw = linear(h, weight_hh, bias_hh).named(f"{h.label} W_hh^T")
    a = (xw + hw).named(f"a{suffix}")
    out = a.tanh() if nonlinearity == "tanh" else a.relu()
    return out.named(f"h{suffix}")


def lstm_step(xw, h, c, weight_hh, bias_hh, suffix):
    """c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t), gates from a_t = xw_t + h W_hh^T + b_hh."""
    hidden = h.shape[-1]
    hw = linear(h, weight_hh, bias_hh).named(f"{h.label} W_hh^T")
    a = (xw + hw).named(f"a{suffix}")
    i = a[:, 0:hidden].sigmoid().named(f"i{suffix}")
    f = a[:, hidden : 2 * hidden].sigmoid().named(f"f{suffix}")
    g = a[:, 2 * hidden : 3 * hidden].tanh().named(f"g{suffix}")
    o = a[:, 3 * hidden :].sigmoid().named(f"o{suffix}")
    c_new = (f * c + i * g).named(f"c{suffix}")
    h_new = (o * c_new.tanh().named(f"tanh(c{suffix})")).named(f"h{suffix}")
    return h_new, c_new


def gru_step(xw, h, weight_hh, bias_hh, suffix):
    """r, z = sigmoid(.); n = tanh(xw_n + r * (h W_hn^T + b_hn)); h_t = (1 - z) * n + z * h."""
    hidden = h.shape[-1]
    hw = linear(h, weight_hh, bias_hh).named(f"{h.label} W_hh^T")
    r = (xw[:, 0:hidden] + hw[:, 0:hidden]).sigmoid().named(f"r{suffix}")
    z = (xw[:, hidden : 2 * hidden] + hw[:, hidden : 2 * hidden]).sigmoid().named(f"z{suffix}")
    n = (xw[:, 2 * hidden :] + r * hw[:, 2 * hidden :]).tanh().named(f"n{suffix}")
    return ((1.0 - z) * n + z * h).named(f"h{suffix}")


def cell_step(cell, xw, state, weight_hh, bias_hh, suffix, nonlinearity="tanh"):
    """Dispatch one step; `state` is h, or (h, c) for the LSTM; returns the new state."""
    if cell == "lstm":
        return lstm_step(xw, state[0], state[1], weight_hh, bias_hh, suffix)
    if cell == "gru":
        return gru_step(xw, state, weight_hh, bias_hh, suffix)
    return rnn_step(xw, state, weight_hh, bias_hh, suffix, nonlinearity)


def _as_tensor(x, what):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, float)):
        return Tensor(x)
    raise TypeError(f"{what} must be a Tensor or array, got {type(x).__name__}")


# ----- cells --------------------------------------------------------------------------------


class _CellBase(Module):
    cell = "rnn"

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        _check_sizes(type(self).__name__, input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gh = GATES[self.cell] * hidden_size
        self.weight_ih = _param((gh, input_size), hidden_size)
        self.weight_hh = _param((gh, hidden_size), hidden_size)
        if bias:
            self.bias_ih = _param((gh,), hidden_size)
            self.bias_hh = _param((gh,), hidden_size)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)

    def _prepare(self, x, hx):
        """Validate shapes; return the batched input, the batched state(s), and unbatched."""
        name = type(self).__name__
        x = _as_tensor(x, f"{name} input")
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input of shape {x.shape}; expected (batch, {self.input_size}) "
                f"or ({self.input_size},)"
            )
        unbatched = x.ndim == 1
        if unbatched:
            x = x.reshape(1, self.input_size)
        batch = x.shape[0]
        n_states = 2 if self.cell == "lstm" else 1
        if hx is None:
            zeros = [
                Tensor(np.zeros((batch, self.hidden_size), dtype=x.data.dtype), label=lbl)
                for lbl in ("h", "c")[:n_states]
            ]
            states = zeros
        else:
            given = list(hx) if self.cell == "lstm" else [hx]
            if len(given) != n_states:
                raise ValueError(f"{name}: expected (h, c) as the state, got {len(given)} tensors")
            states = []
            for k, s in enumerate(given):
                s = _as_tensor(s, f"{name} state")
                expected = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
                if s.shape != expected:
                    raise ValueError(
                        f"{name}: {('h', 'c')[k]} has shape {s.shape}, expected {expected}"
                    )
                if unbatched:
                    s = s.reshape(1, self.hidden_size)
                if s.label is None:
                    s.label = ("h", "c")[k]
                states.append(s)
        return x, states, unbatched

    def forward(self, input, hx=None):
        x, states, unbatched = self._prepare(input, hx)
        t = _state.tags.get("t")
        suffix = "'" if t is None else f"_{t}"
        xw = linear(x, self.weight_ih, self.bias_ih).named(f"x{suffix} W_ih^T")
        state = (states[0], states[1]) if self.cell == "lstm" else states[0]
        new = cell_step(self.cell, xw, state, self.weight_hh, self.bias_hh, suffix, self._act())
        if unbatched:
            if self.cell == "lstm":
                return new[0].reshape(self.hidden_size), new[1].reshape(self.hidden_size)
            return new.reshape(self.hidden_size)
        return new

    def _act(self):
        return "tanh"

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh); act = tanh or relu."""

    cell = "rnn"

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        _check_nonlinearity("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def _act(self):
        return self.nonlinearity


class LSTMCell(_CellBase):
    """(h', c') from gates i, f, g, o; returns (h', c')."""

    cell = "lstm"


class GRUCell(_CellBase):
    """h' = (1 - z) * n + z * h with gates r, z, n (r applied to h W_hn^T + b_hn)."""

    cell = "gru"


# ----- layers -------------------------------------------------------------------------------


class _RNNBase(Module):
    cell = "rnn"

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        bidirectional=False,
        nonlinearity="tanh",
    ):
        super().__init__()
        name = type(self).__name__
        _check_sizes(name, input_size, hidden_size)
        if not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
            raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")
        _check_nonlinearity(name, nonlinearity)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.bidirectional = bidirectional
        self.nonlinearity = nonlinearity
        directions = 2 if bidirectional else 1
        gh = GATES[self.cell] * hidden_size
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else directions * hidden_size
            for direction in range(directions):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                setattr(self, f"weight_ih{sfx}", _param((gh, in_size), hidden_size))
                setattr(self, f"weight_hh{sfx}", _param((gh, hidden_size), hidden_size))
                if bias:
                    setattr(self, f"bias_ih{sfx}", _param((gh,), hidden_size))
                    setattr(self, f"bias_hh{sfx}", _param((gh,), hidden_size))

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    def layer_parameters(self, layer, direction):
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer and direction (0 or 1)."""
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        get = lambda n: getattr(self, f"{n}{sfx}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _check_input(self, x):
        name = type(self).__name__
        x = _as_tensor(x, f"{name} input")
        if x.ndim not in (2, 3):
            raise ValueError(
                f"{name}: input must be (T, B, {self.input_size}), (B, T, {self.input_size}) "
                f"with batch_first, or unbatched (T, {self.input_size}); got shape {x.shape}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input has {x.shape[-1]} features (shape {x.shape}), "
                f"expected input_size={self.input_size}"
            )
        if x.shape[-2 if x.ndim == 3 and self.batch_first else 0] == 0:
            raise ValueError(f"{name}: the sequence is empty (shape {x.shape})")
        return x

    def _initial_states(self, hx, batch, unbatched, dtype):
        """Zeros, or the given (D*L, B, H) tensors (batch_first never applies to states)."""
        name = type(self).__name__
        rows = self.num_layers * self.num_directions
        n_states = 2 if self.cell == "lstm" else 1
        if hx is None:
            return [np.zeros((rows, batch, self.hidden_size), dtype=dtype)] * n_states
        given = list(hx) if self.cell == "lstm" else [hx]
        if len(given) != n_states:
            raise ValueError(f"{name}: expected (h_0, c_0) as the initial state")
        expected = (rows, self.hidden_size) if unbatched else (rows, batch, self.hidden_size)
        states = []
        for k, s in enumerate(given):
            s = _as_tensor(s, f"{name} initial state")
            if s.shape != expected:
                raise ValueError(
                    f"{name}: {('h_0', 'c_0')[k]} has shape {s.shape}, expected {expected} "
                    "(num_layers * num_directions, batch, hidden_size)"
                )
            states.append(s.reshape(rows, 1, self.hidden_size) if unbatched else s)
        return states

    def forward(self, input, hx=None):
        x = self._check_input(input)
        unbatched = x.ndim == 2
        if unbatched:
            x = x.reshape(x.shape[0], 1, self.input_size)
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        steps, batch = x.shape[0], x.shape[1]
        initial = self._initial_states(hx, batch, unbatched, x.data.dtype)
        finals = [[] for _ in initial]
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                row = layer * self.num_directions + direction
                seq, last = self._run_direction(layer_input, initial, row, layer, direction, steps)
                outputs.append(seq)
                for k, s in enumerate(last):
                    finals[k].append(s)
            layer_input = outputs[0] if len(outputs) == 1 else concat(outputs, axis=-1)
        output = layer_input
        h_n = [stack(f, axis=0) for f in finals]
        if unbatched:
            output = output.reshape(steps, self.num_directions * self.hidden_size)
            h_n = [s.reshape(s.shape[0], self.hidden_size) for s in h_n]
        elif self.batch_first:
            output = output.transpose(1, 0, 2)
        if self.cell == "lstm":
            return output, (h_n[0], h_n[1])
        return output, h_n[0]

    def _run_direction(self, layer_input, initial, row, layer, direction, steps):
        """Unroll one layer in one direction; return the (T, B, H) outputs in time order."""
        w_ih, w_hh, b_ih, b_hh = self.layer_parameters(layer, direction)
        dname = "reverse" if direction else "forward"
        with scope(layer=layer, direction=dname, cell=self.cell):
            xw_all = linear(layer_input, w_ih, b_ih).named("X W_ih^T")
            states = []
            for k, init_state in enumerate(initial):
                label = ("h_init", "c_init")[k]
                if isinstance(init_state, Tensor):
                    states.append(init_state[row].named(label))
                else:
                    states.append(Tensor(init_state[row], label=label))
            state = tuple(states) if self.cell == "lstm" else states[0]
            seq = [None] * steps
            order = range(steps - 1, -1, -1) if direction else range(steps)
            for t in order:
                with scope(t=t):
                    xw = xw_all[t].named(f"x_{t} W_ih^T")
                    state = cell_step(self.cell, xw, state, w_hh, b_hh, f"_{t}", self.nonlinearity)
                seq[t] = state[0] if self.cell == "lstm" else state
            output = stack(seq, axis=0)
        last = state if self.cell == "lstm" else (state,)
        return output, last

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.cell == "rnn" and self.nonlinearity != "tanh":
            text += f", nonlinearity='{self.nonlinearity}'"
        for flag in ("batch_first", "bidirectional"):
            if getattr(self, flag):
                text += f", {flag}=True"
        if not self.bias:
            text += ", bias=False"
        return text


class RNN(_RNNBase):
    """Elman RNN, `RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False, bidirectional=False)`; returns (output, h_n)."""

    cell = "rnn"


class LSTM(_RNNBase):
    """LSTM with PyTorch's arguments (no `nonlinearity`); returns (output, (h_n, c_n))."""

    cell = "lstm"

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        bidirectional=False,
    ):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, bidirectional)


class GRU(_RNNBase):
    """GRU with PyTorch's arguments (no `nonlinearity`); returns (output, h_n)."""

    cell = "gru"

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        bidirectional=False,
    ):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, bidirectional)


# ----- helpers -------------------------------------------------------------------------------


def _param(shape, hidden_size):
    return init.recurrent_uniform_(Parameter(np.empty(shape)), hidden_size)


def _check_sizes(name, input_size, hidden_size):
    for what, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")


def _check_nonlinearity(name, nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(
            f"{name}: unknown nonlinearity '{nonlinearity}' "
            f"(choose from {', '.join(NONLINEARITIES)})"
        )
