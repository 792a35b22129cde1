"""Recurrent layers: RNN, LSTM and GRU unroll their cell (cells.py) over time, layers and
directions, with PyTorch's exact semantics, into explicit graphs.

LSTM with proj_size P > 0 (Sak et al. 2014): m_t = o * tanh(c_t), h_t = m_t W_hr^T, so h_t
has P features (c_t keeps H) and W_hh is (4H, P). Between stacked layers, `dropout` p (in
training mode only, as PyTorch) multiplies each layer's output but the last's by a seeded
Bernoulli mask / (1 - p): a node labelled `dropout`, tagged with its layer and t.

Parameters are stored fused in PyTorch's gate order (LSTM i,f,g,o; GRU r,z,n). A layer
projects the whole input sequence with one `linear` node (outside the time steps, as cuDNN
does: one matmul instead of T) and takes one slice per step, labelled `x_t W_ih^T`. Each
step is built inside `scope(t=t, layer=l, direction=d, cell=c)` by the cell's own `step`
and labels its nodes like the equations: `a_t` (pre-activation), gates `i_t f_t g_t og_t` /
`r_t z_t n_t`, `c_t`, `h_t`.

The three layers differ only in their `Cell` (and the LSTM's projection); their constructors
exist to declare PyTorch's exact signatures. `LAYERS` is the one place where a cell's name
("rnn", "lstm", "gru": in configs, checkpoints and `--cell`) becomes a class.
"""

import contextlib

from ..autograd import scope
from ..tensor import Tensor, concat, stack
from . import fused
from .cells import (
    ACTIVATIONS,
    GRUCell,
    LSTMCell,
    RNNCell,
    recurrent_param,
)
from .dropout import dropout as _dropout
from .linear import linear
from .module import Module
from .rnn_options import (
    NONLINEARITIES,
    check_input,
    check_layer_options,
    initial_states,
    options,
)

__all__ = [
    "ACTIVATIONS",
    "GRU",
    "LAYERS",
    "LSTM",
    "NONLINEARITIES",
    "RNN",
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "cell_step",
    "layer_class",
]


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
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the
    checks, and the unrolling of `Cell.step` over time. `Cell` is the cell class, `cell`
    its name (the `cell` tag of every node), `projects` whether proj_size is allowed."""

    Cell = RNNCell
    cell = RNNCell.cell
    projects = False

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
        dtype = check_layer_options(type(self).__name__, self.projects, **options(locals()))
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
                setattr(self, f"weight_ih{sfx}", recurrent_param((gh, in_size), hidden_size))
                setattr(self, f"weight_hh{sfx}", recurrent_param((gh, out), hidden_size))
                if bias:
                    setattr(self, f"bias_ih{sfx}", recurrent_param((gh,), hidden_size))
                    setattr(self, f"bias_hh{sfx}", recurrent_param((gh,), hidden_size))
                if proj_size:
                    setattr(
                        self,
                        f"weight_hr{sfx}",
                        recurrent_param((proj_size, hidden_size), hidden_size),
                    )
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

    @classmethod
    def title(cls, nonlinearity="tanh"):
        """'LSTM', 'GRU' or 'RNN (tanh)': the layer's name, with the activation when the
        cell has that option (how titles and reports name a model)."""
        return f"{cls.__name__} ({nonlinearity})" if cls.Cell.has_nonlinearity else cls.__name__

    def flatten_parameters(self):
        """Nothing to do: torch packs the weights into one cuDNN buffer; numpy needs none."""

    def forward(self, input, hx=None):
        """output (T, B, D*H) and h_n (D*L, B, H) (LSTM: (h_n, c_n)), shaped as PyTorch.

        With proj_size P, output is (T, B, D*P) and h_n (D*L, B, P).
        """
        run = self.unroll(input, hx)
        steps = len(run.states[-1][0])
        top = run.states[-1]
        with scope(layer=self.num_layers - 1, cell=self.cell):
            per_direction = [fused.stack_states([s[0] for s in seq]) for seq in top]
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
        x = check_input(self, input)
        unbatched = x.ndim == 2
        if unbatched:
            x = x.reshape(x.shape[0], 1, self.input_size)
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        steps, batch = x.shape[0], x.shape[1]
        initial = initial_states(self, hx, batch, unbatched, x.data.dtype)
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
        options = self.step_options(layer, direction)
        dname = "reverse" if direction else "forward"
        prime, sup = label_marks(layer, direction, self.num_layers)
        group = None
        batch = x.shape[1] if below is None else below[0].shape[0]
        # an empty batch runs node by node: nothing to speed up, and the buffers' (T*B, -1)
        # reshapes have no width to infer
        if batch and not self.proj_size and fused.fusable(w_hh, x.data.dtype):
            projected = x.shape[-1] if below is None else None  # the input width, if any
            args = (steps, batch, self.hidden_size, w_hh, b_hh, bool(direction), projected)
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

    def step_options(self, layer, direction):
        """Keyword arguments of `Cell.step` beyond the weights (RNN: the activation; LSTM:
        the projection W_hr of this layer and direction)."""
        return {}

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.Cell.has_nonlinearity and self.nonlinearity != "tanh":
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

    Cell = RNNCell
    cell = RNNCell.cell

    def step_options(self, layer, direction):
        return {"nonlinearity": self.nonlinearity}

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

    Cell = LSTMCell
    cell = LSTMCell.cell
    projects = True

    def step_options(self, layer, direction):
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

    Cell = GRUCell
    cell = GRUCell.cell

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


# the one place where a cell's name (configs, checkpoints, --cell, node tags) becomes a class
LAYERS = {RNNCell.cell: RNN, LSTMCell.cell: LSTM, GRUCell.cell: GRU}


def layer_class(name):
    """The layer class (nn.RNN, nn.LSTM, nn.GRU) whose cell is called `name`; its `Cell`
    attribute is the cell class. Raises ValueError naming the choices for any other name."""
    if not isinstance(name, str) or name not in LAYERS:
        raise ValueError(f"unknown cell {name!r} (choose from {', '.join(LAYERS)})")
    return LAYERS[name]


def cell_step(cell, xw, state, weight_hh, bias_hh, suffix, nonlinearity="tanh", weight_hr=None):
    """One step of the cell named `cell` (or given as a cell class); `state` is h, or (h, c)
    for the LSTM, and so is what it returns. `Cell.step` is the same with state tuples."""
    Cell = layer_class(cell).Cell if isinstance(cell, str) else cell
    states = tuple(state) if Cell.has_cell_state else (state,)
    options = {}
    if Cell.has_nonlinearity:
        options["nonlinearity"] = nonlinearity
    if weight_hr is not None:
        options["weight_hr"] = weight_hr
    new = Cell.step(xw, states, weight_hh, bias_hh, suffix, **options)
    return new if Cell.has_cell_state else new[0]
