"""The three recurrent cells: one time step each, node by node, with PyTorch's semantics.

    RNN   h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
    LSTM  a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh;   i, f, g, o = a_t.chunk(4)
          c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)    h_t = sigmoid(o) * tanh(c_t)
    GRU   r, z = sigmoid(x_t W_i*^T + b_i* + h_{t-1} W_h*^T + b_h*)
          n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))
          h_t = (1 - z) * n + z * h_{t-1}

Each cell class owns its `step(xw, state, weight_hh, bias_hh, suffix, ...)`, where
`xw` = x_t W_ih^T + b_ih and `state` is the tuple named by `state_names`; it returns the new
state tuple. The layers (recurrent.py) call the same `step` with each layer's weights, so one
function builds every step of every cell, module or layer. What differs between the cells is
declared as class attributes, which the rest of the library reads instead of the cell's name:

    cell            the name in node tags, configs and `--cell` ("rnn", "lstm", "gru")
    gates           row blocks of W_ih and W_hh (1, 4, 3), in PyTorch's order
    gate_names      the labels of the per-step gate nodes (LSTM i f g og, GRU r z n)
    state_names     ("h",) or ("h", "c"); has_cell_state says whether there is a c_t
    has_nonlinearity  whether the activation is an option (the simple RNN's tanh/relu/...)
"""

import numpy as np

from ..modes import state as _state
from ..tensor import Tensor
from . import fused_layers, init
from .linear import linear
from .module import Module, Parameter, factory_dtype
from .rnn_options import as_tensor, check_bool, check_nonlinearity, check_sizes, state_list

__all__ = ["ACTIVATIONS", "GRUCell", "LSTMCell", "RNNCell"]

ACTIVATIONS = {
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "sigmoid": lambda a: a.sigmoid(),
    "linear": lambda a: a * 1.0,  # h_t = a_t, kept as a node of its own so h_t has a label
}


class _CellBase(Module):
    """What the cells share: W_ih, W_hh (gates x H rows each), two biases, shape checks."""

    cell = "rnn"
    gates = 1
    gate_names = ()
    state_names = ("h",)
    has_cell_state = False
    has_nonlinearity = False

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        dtype = factory_dtype(name, device, dtype)
        check_sizes(name, input_size, hidden_size)
        check_bool(name, bias=bias)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gh = self.gates * hidden_size
        self.weight_ih = recurrent_param((gh, input_size), hidden_size)
        self.weight_hh = recurrent_param((gh, hidden_size), hidden_size)
        if bias:
            self.bias_ih = recurrent_param((gh,), hidden_size)
            self.bias_hh = recurrent_param((gh,), hidden_size)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        if dtype is not None:
            self.to(dtype)

    def step_options(self):
        """Keyword arguments of `step` beyond the weights (the RNN's activation)."""
        return {}

    def _prepare(self, x, hx):
        """Validate shapes; return the batched input, the batched state(s), and unbatched."""
        name = type(self).__name__
        x = as_tensor(x, f"{name} input")
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input of shape {x.shape}; expected (batch, {self.input_size}) "
                f"or ({self.input_size},)"
            )
        unbatched = x.ndim == 1
        if unbatched:
            x = x.reshape(1, self.input_size)
        batch = x.shape[0]
        if hx is None:
            states = [
                Tensor(np.zeros((batch, self.hidden_size), dtype=x.data.dtype), label=lbl)
                for lbl in self.state_names
            ]
            return x, states, unbatched
        states = []
        for k, s in enumerate(state_list(hx, self.state_names, name, "(h, c)")):
            s = as_tensor(s, f"{name} state")
            expected = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
            if s.shape != expected:
                raise ValueError(
                    f"{name}: {self.state_names[k]} has shape {s.shape}, expected {expected}"
                )
            if unbatched:
                s = s.reshape(1, self.hidden_size)
            if s.label is None:
                s.label = self.state_names[k]
            states.append(s)
        return x, states, unbatched

    def forward(self, input, hx=None):
        x, states, unbatched = self._prepare(input, hx)
        t = _state.tags.get("t")
        suffix = "'" if t is None else f"_{t}"
        xw = linear(x, self.weight_ih, self.bias_ih).named(f"x{suffix} W_ih^T")
        new = self.step(
            xw, tuple(states), self.weight_hh, self.bias_hh, suffix, **self.step_options()
        )
        if unbatched:
            new = tuple(s.reshape(self.hidden_size) for s in new)
        return new if self.has_cell_state else new[0]

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh); act = tanh or relu."""

    cell = "rnn"
    has_nonlinearity = True
    Fused = fused_layers.RNNLayer

    @staticmethod
    def step(xw, state, weight_hh, bias_hh, suffix, nonlinearity="tanh"):
        """h_t = act(xw_t + h_{t-1} W_hh^T + b_hh): nodes `h W_hh^T`, `a_t`, `h_t`."""
        (h,) = state
        hw = linear(h, weight_hh, bias_hh).named(hh_label(h, suffix))
        a = (xw + hw).named(f"a{suffix}")
        return (ACTIVATIONS[nonlinearity](a).named(f"h{suffix}"),)

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        check_nonlinearity("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def step_options(self):
        return {"nonlinearity": self.nonlinearity}


class LSTMCell(_CellBase):
    """(h', c') from gates i, f, g, o; returns (h', c')."""

    cell = "lstm"
    gates = 4
    # the output gate is og_t: o_t is the lecture's (and the model's) output V h_t
    gate_names = ("i", "f", "g", "og")
    state_names = ("h", "c")
    has_cell_state = True
    Fused = fused_layers.LSTMLayer

    @staticmethod
    def step(xw, state, weight_hh, bias_hh, suffix, weight_hr=None):
        """c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t), gates from a_t = xw_t + h W_hh^T + b_hh.

        With a projection W_hr (P, H): m_t = o * tanh(c_t) and h_t = m_t W_hr^T (P features).
        """
        h, c = state
        hw = linear(h, weight_hh, bias_hh).named(hh_label(h, suffix))
        a = (xw + hw).named(f"a{suffix}")
        i, f, g, o = a.chunk(4, -1)
        i = i.sigmoid().named(f"i{suffix}")
        f = f.sigmoid().named(f"f{suffix}")
        g = g.tanh().named(f"g{suffix}")
        o = o.sigmoid().named(f"og{suffix}")
        c_new = (f * c + i * g).named(f"c{suffix}")
        h_new = o * c_new.tanh().named(f"tanh(c{suffix})")
        if weight_hr is not None:
            h_new = linear(h_new.named(f"m{suffix}"), weight_hr)
        return h_new.named(f"h{suffix}"), c_new


class GRUCell(_CellBase):
    """h' = (1 - z) * n + z * h with gates r, z, n (r applied to h W_hn^T + b_hn)."""

    cell = "gru"
    gates = 3
    gate_names = ("r", "z", "n")
    Fused = fused_layers.GRULayer

    @staticmethod
    def step(xw, state, weight_hh, bias_hh, suffix):
        """r, z = sigmoid(.); n = tanh(xw_n + r * (h W_hn^T + b_hn)); h_t = (1 - z) * n + z * h."""
        (h,) = state
        hw = linear(h, weight_hh, bias_hh).named(hh_label(h, suffix))
        x_r, x_z, x_n = xw.chunk(3, -1)
        h_r, h_z, h_n = hw.chunk(3, -1)
        r = (x_r + h_r).sigmoid().named(f"r{suffix}")
        z = (x_z + h_z).sigmoid().named(f"z{suffix}")
        n = (x_n + r * h_n).tanh().named(f"n{suffix}")
        return (((1.0 - z) * n + z * h).named(f"h{suffix}"),)


# ----- helpers the layers share ---------------------------------------------------------------


def hh_label(h, suffix):
    """`h_{t-1} W_hh^T`, with the reverse direction's prime on W as on its state and on
    `X W'_ih^T` (the suffix of a reverse step starts with the prime: `'_3^(1)`)."""
    prime = "'" if suffix.startswith("'") else ""
    return f"{h.label} W{prime}_hh^T"


def recurrent_param(shape, hidden_size):
    """A Parameter of `shape` drawn as PyTorch draws recurrent weights: U(-1/sqrt(H), 1/sqrt(H))."""
    return init.recurrent_uniform_(Parameter(np.empty(shape)), hidden_size)
