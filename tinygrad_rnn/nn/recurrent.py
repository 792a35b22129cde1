"""Recurrent cells and layers, unrolled into explicit graphs, with PyTorch's exact semantics.

    RNN   h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
    LSTM  i,f,g,o = sigmoid, sigmoid, tanh, sigmoid of (x_t W_i*^T + b_i* + h_{t-1} W_h*^T + b_h*)
          c_t = f * c_{t-1} + i * g          h_t = o * tanh(c_t)
    GRU   r,z = sigmoid(x_t W_i*^T + b_i* + h_{t-1} W_h*^T + b_h*)
          n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))
          h_t = (1 - z) * n + z * h_{t-1}

LSTM with proj_size P > 0 (Sak et al. 2014): m_t = o * tanh(c_t), h_t = m_t W_hr^T, so h_t
has P features (c_t keeps H) and W_hh is (4H, P). Between stacked layers, `dropout` p (in
training mode only, as PyTorch) multiplies each layer's output but the last's by a seeded
Bernoulli mask / (1 - p): a node labelled `dropout`, tagged with its layer and t.

Parameters are stored fused in PyTorch's gate order (LSTM i,f,g,o; GRU r,z,n). A layer
projects the whole input sequence with one `linear` node (outside the time steps, as cuDNN
does: one matmul instead of T) and takes one slice per step, labelled `x_t W_ih^T`. Each
step is built inside `scope(t=t, layer=l, direction=d, cell=c)` and labels its nodes like
the equations: `a_t` (pre-activation), gates `i_t f_t g_t o_t` / `r_t z_t n_t`, `c_t`, `h_t`.
"""

import contextlib

import numpy as np

from .._context import state as _state
from ..autograd import scope
from ..tensor import Tensor, concat, stack
from . import fused, fused_layers, init
from .dropout import dropout as _dropout
from .linear import linear
from .module import Module, Parameter, factory_dtype
from .rnn_options import (
    NONLINEARITIES,
    check_bool,
    check_layer_options,
    check_nonlinearity,
    check_sizes,
    options,
)

__all__ = ["GRU", "LSTM", "NONLINEARITIES", "RNN", "GRUCell", "LSTMCell", "RNNCell"]


# ----- one step of each cell: the equations, node by node ----------------------------------
# Each cell class below owns its `step(xw, state, weight_hh, bias_hh, suffix, ...)`: the
# state is a tuple ((h,) or (h, c)) and so is what it returns. `xw` = x_t W_ih^T + b_ih.

ACTIVATIONS = {
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "sigmoid": lambda a: a.sigmoid(),
    "linear": lambda a: a * 1.0,  # h_t = a_t, kept as a node of its own so h_t has a label
}


def cell_step(cell, xw, state, weight_hh, bias_hh, suffix, nonlinearity="tanh", weight_hr=None):
    """One step of the cell named `cell`; `state` is h, or (h, c) for the LSTM (as returned)."""
    Cell = CELLS[cell]
    states = tuple(state) if Cell.state_names == ("h", "c") else (state,)
    options = {"rnn": {"nonlinearity": nonlinearity}, "lstm": {"weight_hr": weight_hr}}
    new = Cell.step(xw, states, weight_hh, bias_hh, suffix, **options.get(cell, {}))
    return new if len(new) == 2 else new[0]


def _as_tensor(x, what):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, float)):
        return Tensor(x)
    raise TypeError(f"{what} must be a Tensor or array, got {type(x).__name__}")


# ----- cells --------------------------------------------------------------------------------


class _CellBase(Module):
    cell = "rnn"
    gates = 1
    state_names = ("h",)

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
        self.weight_ih = _param((gh, input_size), hidden_size)
        self.weight_hh = _param((gh, hidden_size), hidden_size)
        if bias:
            self.bias_ih = _param((gh,), hidden_size)
            self.bias_hh = _param((gh,), hidden_size)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        if dtype is not None:
            self.to(dtype)

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
        if hx is None:
            zeros = [
                Tensor(np.zeros((batch, self.hidden_size), dtype=x.data.dtype), label=lbl)
                for lbl in self.state_names
            ]
            states = zeros
        else:
            given = _state_list(hx, self.state_names, name, "(h, c)")
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
        new = self.step(xw, tuple(states), self.weight_hh, self.bias_hh, suffix, **self._options())
        if unbatched:
            new = tuple(s.reshape(self.hidden_size) for s in new)
        return new if len(new) == 2 else new[0]

    def _options(self):
        return {}

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh); act = tanh or relu."""

    cell = "rnn"
    Fused = fused_layers.RNNLayer

    @staticmethod
    def step(xw, state, weight_hh, bias_hh, suffix, nonlinearity="tanh"):
        """h_t = act(xw_t + h_{t-1} W_hh^T + b_hh): nodes `h W_hh^T`, `a_t`, `h_t`."""
        (h,) = state
        hw = linear(h, weight_hh, bias_hh).named(f"{h.label} W_hh^T")
        a = (xw + hw).named(f"a{suffix}")
        return (ACTIVATIONS[nonlinearity](a).named(f"h{suffix}"),)

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        check_nonlinearity("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def _options(self):
        return {"nonlinearity": self.nonlinearity}


class LSTMCell(_CellBase):
    """(h', c') from gates i, f, g, o; returns (h', c')."""

    cell = "lstm"
    gates = 4
    state_names = ("h", "c")
    Fused = fused_layers.LSTMLayer

    @staticmethod
    def step(xw, state, weight_hh, bias_hh, suffix, weight_hr=None):
        """c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t), gates from a_t = xw_t + h W_hh^T + b_hh.

        With a projection W_hr (P, H): m_t = o * tanh(c_t) and h_t = m_t W_hr^T (P features).
        """
        h, c = state
        hw = linear(h, weight_hh, bias_hh).named(f"{h.label} W_hh^T")
        a = (xw + hw).named(f"a{suffix}")
        i, f, g, o = a.chunk(4, -1)
        i = i.sigmoid().named(f"i{suffix}")
        f = f.sigmoid().named(f"f{suffix}")
        g = g.tanh().named(f"g{suffix}")
        # the output gate is og_t: o_t is the lecture's (and the model's) output V h_t
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
    Fused = fused_layers.GRULayer

    @staticmethod
    def step(xw, state, weight_hh, bias_hh, suffix):
        """r, z = sigmoid(.); n = tanh(xw_n + r * (h W_hn^T + b_hn)); h_t = (1 - z) * n + z * h."""
        (h,) = state
        hw = linear(h, weight_hh, bias_hh).named(f"{h.label} W_hh^T")
        x_r, x_z, x_n = xw.chunk(3, -1)
        h_r, h_z, h_n = hw.chunk(3, -1)
        r = (x_r + h_r).sigmoid().named(f"r{suffix}")
        z = (x_z + h_z).sigmoid().named(f"z{suffix}")
        n = (x_n + r * h_n).tanh().named(f"n{suffix}")
        return (((1.0 - z) * n + z * h).named(f"h{suffix}"),)


CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


def label_marks(layer, direction, layers):
    """(prime, superscript) that make a layer's labels unique in one graph, in the
    lecture's notation for deep bidirectional RNNs (s_t^(i), s'_t^(i)): a prime for the
    reverse direction, the layer as a superscript when there are several. h_2 is layer 0
    forward of a one-layer model; h'_2^(1) is layer 1's reverse state at t = 2. Every
    label of a layer is built from these, so a notation can map them in one place."""
    return ("'" if direction else ""), (f"^({layer})" if layers > 1 else "")


def joined_label(forward, reverse):
    """The label of [h_t, h'_t], the two directions' states concatenated."""
    return f"[{forward.label}, {reverse.label}]"


# ----- layers -------------------------------------------------------------------------------


class _RNNBase(Module):
    cell = "rnn"
    Cell = RNNCell

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        *,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = check_layer_options(
            type(self).__name__,
            self.cell,
            input_size,
            hidden_size,
            num_layers,
            nonlinearity,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = int(proj_size)
        self.nonlinearity = nonlinearity
        directions = 2 if bidirectional else 1
        gh = self.Cell.gates * hidden_size
        out = self.output_size
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else directions * out
            for direction in range(directions):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                setattr(self, f"weight_ih{sfx}", _param((gh, in_size), hidden_size))
                setattr(self, f"weight_hh{sfx}", _param((gh, out), hidden_size))
                if bias:
                    setattr(self, f"bias_ih{sfx}", _param((gh,), hidden_size))
                    setattr(self, f"bias_hh{sfx}", _param((gh,), hidden_size))
                if proj_size:
                    setattr(self, f"weight_hr{sfx}", _param((proj_size, hidden_size), hidden_size))
        if dtype is not None:
            self.to(dtype)

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def output_size(self):
        """Features of h_t: proj_size if the LSTM projects its output, else hidden_size."""
        return self.proj_size or self.hidden_size

    def layer_parameters(self, layer, direction):
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer and direction (0 or 1)."""
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        get = lambda n: getattr(self, f"{n}{sfx}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def projection(self, layer, direction):
        """weight_hr (proj_size, hidden_size) of one layer and direction, or None."""
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        return getattr(self, f"weight_hr{sfx}", None)

    def flatten_parameters(self):
        """Nothing to do: torch packs the weights into one cuDNN buffer; numpy needs none."""

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
        """Zeros, or the given (D*L, B, H) tensors (batch_first never applies to states).

        With proj_size P, h_0 is (D*L, B, P) and c_0 stays (D*L, B, H).
        """
        name = type(self).__name__
        rows = self.num_layers * self.num_directions
        widths = (self.output_size, self.hidden_size)[: len(self.Cell.state_names)]
        if hx is None:
            return [np.zeros((rows, batch, w), dtype=dtype) for w in widths]
        given = _state_list(hx, self.Cell.state_names, name, "(h_0, c_0)")
        states = []
        for k, s in enumerate(given):
            s = _as_tensor(s, f"{name} initial state")
            expected = (rows, widths[k]) if unbatched else (rows, batch, widths[k])
            if s.shape != expected:
                what = "proj_size" if k == 0 and self.proj_size else "hidden_size"
                raise ValueError(
                    f"{name}: {('h_0', 'c_0')[k]} has shape {s.shape}, expected {expected} "
                    f"(num_layers * num_directions, batch, {what})"
                )
            states.append(s.reshape(rows, 1, widths[k]) if unbatched else s)
        return states

    def forward(self, input, hx=None):
        """output (T, B, D*H) and h_n (D*L, B, H) (LSTM: (h_n, c_n)), shaped as PyTorch.

        With proj_size P, output is (T, B, D*P) and h_n (D*L, B, P).
        """
        run = self.unroll(input, hx)
        steps = len(run.states[-1][0])
        top = run.states[-1]
        with scope(layer=self.num_layers - 1, cell=self.cell):
            per_direction = [stack([s[0] for s in seq], axis=0) for seq in top]
            output = per_direction[0] if len(top) == 1 else concat(per_direction, axis=-1)
            finals = [stack(list(f), axis=0) for f in zip(*run.finals)]
        if run.unbatched:
            output = output.reshape(steps, self.num_directions * self.output_size)
            finals = [f.reshape(f.shape[0], f.shape[-1]) for f in finals]
        elif self.batch_first:
            output = output.transpose(1, 0, 2)
        return output, (finals[0], finals[1]) if len(finals) == 2 else finals[0]

    def unroll(self, input, hx=None):
        """Run every layer and direction step by step and keep every state.

        Returns an `Unrolled` with `states[layer][direction][t]` = (h_t,) or (h_t, c_t)
        in time order (batched (B, H) tensors, the graph's own nodes), `finals` in h_n's
        row order (layer * D + direction), and `unbatched`. Layer 0 projects the whole
        input with one `linear` node; deeper layers project each step's input inside
        that step, so every path in the graph is a path the gradient can take. In
        training mode with dropout p > 0, a deeper layer's input at step t is the layer
        below's output times a dropout mask (a node labelled `dropout`).
        """
        x = self._check_input(input)
        unbatched = x.ndim == 2
        if unbatched:
            x = x.reshape(x.shape[0], 1, self.input_size)
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        steps, batch = x.shape[0], x.shape[1]
        initial = self._initial_states(hx, batch, unbatched, x.data.dtype)
        states, finals = [], []
        below = None  # per-step inputs of the layer above: [t] -> tensor (B, D*H)
        for layer in range(self.num_layers):
            layer_states = []
            for direction in range(self.num_directions):
                row = layer * self.num_directions + direction
                seq = self._run_direction(x, below, initial, row, layer, direction, steps)
                layer_states.append(seq)
                finals.append(seq[-1] if direction == 0 else seq[0])
            states.append(layer_states)
            if layer + 1 < self.num_layers:
                below = self._layer_outputs(layer_states, layer, steps)
        return Unrolled(states, finals, unbatched)

    def _layer_outputs(self, layer_states, layer, steps):
        """h_t of one layer (both directions joined at each t) as the next layer's inputs,
        through dropout in training mode."""
        joined = []
        for t in range(steps):
            with scope(t=t, layer=layer, cell=self.cell):
                if len(layer_states) == 1:
                    out = layer_states[0][t][0]
                else:
                    pair = [layer_states[0][t][0], layer_states[1][t][0]]
                    out = concat(pair, axis=-1).named(joined_label(*pair))
                if self.training and self.dropout > 0:
                    out = _dropout(out, self.dropout, training=True)
            joined.append(out)
        return joined

    def _run_direction(self, x, below, initial, row, layer, direction, steps):
        """Unroll one layer in one direction; return its states in time order.

        Fused (`fused.py`) whenever it can be: the same nodes, computed a step at a time
        in a few numpy calls, with one vectorised backward pass through time.
        """
        w_ih, w_hh, b_ih, b_hh = self.layer_parameters(layer, direction)
        options = self._step_options(layer, direction)
        dname = "reverse" if direction else "forward"
        prime, sup = label_marks(layer, direction, self.num_layers)
        group = None
        if not self.proj_size and fused.fusable(w_hh, x.data.dtype):
            batch = x.shape[1] if below is None else below[0].shape[0]
            args = (steps, batch, self.hidden_size, w_hh, b_hh, bool(direction), below is None)
            group = self.Cell.Fused(*args, **options)
        with scope(layer=layer, direction=dname, cell=self.cell):
            if below is None:
                xw_all = group.project(x, w_ih, b_ih) if group else linear(x, w_ih, b_ih)
                xw_all.named(f"X W{prime}_ih^T")
            state = []
            for k, init_state in enumerate(initial):
                label = (f"h{prime}_init{sup}", f"c{prime}_init{sup}")[k]
                if isinstance(init_state, Tensor):
                    state.append(init_state[row].named(label))
                else:
                    state.append(Tensor(init_state[row], label=label))
            state = tuple(state)
            if group is not None:
                group.start(state)
            seq = [None] * steps
            order = range(steps - 1, -1, -1) if direction else range(steps)
            with fused.no_collection() if group else contextlib.nullcontext():
                for t in order:
                    with scope(t=t):
                        if below is None:
                            xw = xw_all[t] if group is None else group.projected(t)
                            xw.named(f"x_{t} W{prime}_ih^T")
                        else:
                            reads = below[t].label or f"x_{t}"
                            xw = linear(below[t], w_ih, b_ih).named(f"{reads} W{prime}_ih^T")
                        suffix = f"{prime}_{t}{sup}"
                        if group is None:
                            state = self.Cell.step(xw, state, w_hh, b_hh, suffix, **options)
                        else:
                            state = group.step(xw, state, suffix)
                    seq[t] = state
            if group is not None:
                group.finish([fused.state_refs(*seq[t]) for t in order])
        return seq

    def _step_options(self, layer, direction):
        """Keyword arguments of the cell's step beyond the weights (RNN: the activation)."""
        return {"nonlinearity": self.nonlinearity}

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.cell == "rnn" and self.nonlinearity != "tanh":
            text += f", nonlinearity='{self.nonlinearity}'"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        return text


class RNN(_RNNBase):
    """Elman RNN, `RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)`; returns (output, h_n).

    nonlinearity: "tanh" or "relu" as PyTorch, or "sigmoid" / "linear" for the lecture.
    """

    cell = "rnn"

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        super().__init__(**options(locals()))


class LSTM(_RNNBase):
    """`LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0)`; returns (output, (h_n, c_n))."""

    cell = "lstm"
    Cell = LSTMCell

    def _step_options(self, layer, direction):
        return {"weight_hr": self.projection(layer, direction)}

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__(**options(locals()))


class GRU(_RNNBase):
    """`GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)`; returns (output, h_n)."""

    cell = "gru"
    Cell = GRUCell

    def _step_options(self, layer, direction):
        return {}

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        super().__init__(**options(locals()))


class Unrolled:
    """What `unroll` built: `states[layer][direction][t]`, `finals` (h_n's rows), `unbatched`."""

    __slots__ = ("states", "finals", "unbatched")

    def __init__(self, states, finals, unbatched):
        self.states = states
        self.finals = finals
        self.unbatched = unbatched


# ----- helpers -------------------------------------------------------------------------------


def _param(shape, hidden_size):
    return init.recurrent_uniform_(Parameter(np.empty(shape)), hidden_size)


def _state_list(hx, state_names, name, pair):
    """The given state(s) as a list: [h], or [h, c] for the LSTM, whose state is a pair.

    A single tensor given to an LSTM must not be iterated: that would split its first axis.
    """
    if len(state_names) == 1:
        return [hx]
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        if isinstance(hx, (tuple, list)):
            got = f"{len(hx)} tensors"
        elif hasattr(hx, "shape"):
            got = f"one tensor of shape {tuple(hx.shape)}"
        else:
            got = type(hx).__name__
        raise ValueError(f"{name}: the state of an LSTM is a pair {pair}, got {got}")
    return list(hx)
