"""The lecture's model, unrolled and ready to inspect: s_t = f(U x_t + W s_{t-1}), o_t = V s_t.

`build(...)` makes an RNN, LSTM or GRU layer (PyTorch names: U = weight_ih, W = weight_hh),
a linear head V on every step, fixed random inputs x_t and targets y_t, and one loss per step

    E_t = mean((o_t - y_t)^2)         (labelled "E_t", tagged t)

with `loss="last"` backpropagating E_{T-1} (the lecture's E_3 for T = 4), `loss=t` (an int)
E_t, and `loss="all"` the total E = sum_t E_t. `forget_bias=B` (LSTM) gives every forget
gate the total bias B (`set_forget_bias`). `radius` sets every recurrent block of W_hh to
radius x a random orthogonal matrix, so its spectral norm and spectral radius both equal `radius`;
`init="random"` uses a Gaussian matrix scaled to that spectral norm instead (its spectral
radius is smaller). The CLI's `render`, `bptt`, `step` and `demo` all start from here.
"""

import numpy as np

from . import nn
from .autograd import scope
from .nn import functional as F
from .nn.recurrent import layer_class
from .tensor import Tensor, concat

INITS = ("orthogonal", "random")
LOSSES = ("last", "all")


class LectureRun:
    """Everything `build` made: the modules, the inputs, and the graph's named nodes.

    `states[layer][direction][t]` is (h_t,) or (h_t, c_t); `outputs[t]` is o_t; `losses[t]`
    is E_t; `loss` is the root to call `.backward()` on.
    """

    def __init__(self, config, model, head, x, targets, unrolled, outputs, losses, loss):
        self.config = config
        self.model = model
        self.head = head
        self.x = x
        self.targets = targets
        self.unrolled = unrolled
        self.states = unrolled.states
        self.outputs = outputs
        self.losses = losses
        self.loss = loss

    def hidden_states(self, layer=-1, direction=0):
        """[h_0, ..., h_{T-1}] of one layer and direction."""
        return [s[0] for s in self.states[layer][direction]]

    def cell_states(self, layer=-1, direction=0):
        """[c_0, ..., c_{T-1}] (LSTM only)."""
        if not self.model.Cell.has_cell_state:
            raise ValueError(f"cell_states: a {self.config['cell']} has no cell state c_t")
        return [s[1] for s in self.states[layer][direction]]

    def parameters(self):
        return list(self.model.parameters()) + list(self.head.parameters())

    def named_parameters(self):
        return list(self.model.named_parameters()) + [
            (f"head.{n}", p) for n, p in self.head.named_parameters()
        ]


def check_options(
    cell, steps, hidden, input_size, layers, activation, radius, init, loss, forget_bias=None
):
    """Raise ValueError naming the first bad option (the CLI turns it into one line)."""
    Cell = layer_class(cell).Cell
    for name, value in (
        ("steps", steps),
        ("hidden", hidden),
        ("input-size", input_size),
        ("layers", layers),
    ):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"--{name} must be a positive integer, got {value!r}")
    if activation not in nn.recurrent.NONLINEARITIES:
        raise ValueError(
            f"unknown activation '{activation}' "
            f"(choose from {', '.join(nn.recurrent.NONLINEARITIES)})"
        )
    if not Cell.has_nonlinearity and activation != "tanh":
        raise ValueError(f"--activation applies to the plain rnn cell only, not to {cell}")
    if radius is not None and not radius > 0:
        raise ValueError(f"--radius must be > 0, got {radius}")
    if init not in INITS:
        raise ValueError(f"unknown init '{init}' (choose from {', '.join(INITS)})")
    if isinstance(loss, (int, np.integer)) and not isinstance(loss, bool):
        if not 0 <= loss < steps:
            raise ValueError(f"--loss {loss}: there is no E_{loss}, the steps are 0..{steps - 1}")
    elif loss not in LOSSES:
        raise ValueError(f"unknown loss '{loss}' (choose from {', '.join(LOSSES)} or a step t)")
    if forget_bias is not None:
        if "f" not in Cell.gate_names:
            raise ValueError(f"--forget-bias applies to the lstm cell only, not to {cell}")
        if not np.isfinite(forget_bias):
            raise ValueError(f"--forget-bias must be a finite number, got {forget_bias}")


def set_forget_bias(model, value):
    """The forget-gate bias trick (Gers et al. 2000; Jozefowicz et al. 2015): every LSTM
    layer's forget gate gets total bias `value` (bias_ih's f block = value, bias_hh's = 0),
    so f starts near sigmoid(value) and the cell path c_{t-1} -> c_t carries the gradient
    from the first step. Returns the number of layers changed."""
    changed = 0
    for module in model.modules():
        # a recurrent layer names its cell class; a cell module is one
        gate_names = getattr(getattr(module, "Cell", module), "gate_names", ())
        if "f" not in gate_names:
            continue
        k, hidden = gate_names.index("f"), module.hidden_size
        rows = slice(k * hidden, (k + 1) * hidden)  # the f block, in PyTorch's gate order
        for name, param in module.named_parameters():
            if "." in name:
                continue
            if name.startswith("bias_ih"):
                param.data[rows] = value
                changed += 1
            elif name.startswith("bias_hh"):
                param.data[rows] = 0.0
    return changed


def forget_rest(value):
    """sigmoid(value): where the forget gate rests before any input moves it."""
    return 1.0 / (1.0 + np.exp(-value))


def scaled_matrix(size, radius, init, rng):
    """A (size, size) matrix with spectral norm `radius`: orthogonal (also spectral radius
    = radius) or Gaussian (spectral radius below the norm)."""
    if init == "orthogonal":
        return nn.init.orthogonal_(Tensor(np.empty((size, size))), radius, rng).data
    g = rng.normal(size=(size, size))
    return radius * g / np.linalg.norm(g, 2)


def set_recurrent_radius(model, radius, init="orthogonal", seed=0):
    """Set every gate's H x H block of every weight_hh to `scaled_matrix(H, radius, init)`."""
    rng = np.random.default_rng(seed)
    hidden = model.hidden_size
    for name, param in model.named_parameters():
        if name.startswith("weight_hh"):
            for k in range(param.shape[0] // hidden):
                block = scaled_matrix(hidden, radius, init, rng)
                param.data[k * hidden : (k + 1) * hidden] = block


def build(
    cell="rnn",
    steps=4,
    hidden=3,
    input_size=2,
    layers=1,
    bidirectional=False,
    activation="tanh",
    radius=None,
    init="orthogonal",
    loss="last",
    seed=0,
    batch=1,
    output_size=1,
    forget_bias=None,
    dtype=np.float64,
):
    """Build and run the lecture's unrolled model; see the module docstring."""
    check_options(
        cell, steps, hidden, input_size, layers, activation, radius, init, loss, forget_bias
    )
    config = {
        "cell": cell,
        "steps": steps,
        "hidden": hidden,
        "input_size": input_size,
        "layers": layers,
        "bidirectional": bidirectional,
        "activation": activation,
        "radius": radius,
        "init": init,
        "loss": loss,
        "seed": seed,
        "batch": batch,
        "forget_bias": forget_bias,
    }
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"--seed must be an integer >= 0, got {seed!r}")
    nn.manual_seed(seed)
    Layer = layer_class(cell)
    kwargs = {"nonlinearity": activation} if Layer.Cell.has_nonlinearity else {}
    model = Layer(input_size, hidden, num_layers=layers, bidirectional=bidirectional, **kwargs)
    directions = 2 if bidirectional else 1
    head = nn.Linear(directions * hidden, output_size)
    head.weight.label, head.bias.label = "V", "b_V"
    if radius is not None:
        set_recurrent_radius(model, radius, init, seed)
    if forget_bias is not None:
        set_forget_bias(model, forget_bias)
    if dtype != np.float64:
        model.to(dtype)
        head.to(dtype)
    rng = np.random.default_rng(seed + 1)
    x = Tensor(rng.normal(size=(steps, batch, input_size)).astype(dtype), label="x")
    targets = rng.normal(size=(steps, batch, output_size)).astype(dtype)
    unrolled = model.unroll(x)
    top = unrolled.states[-1]
    outputs, losses = [], []
    for t in range(steps):
        with scope(t=t, layer=layers - 1, cell=cell, role="output"):
            h_t = top[0][t][0]
            if bidirectional:
                h_t = concat([h_t, top[1][t][0]], axis=-1).named(
                    f"[{h_t.label}, {top[1][t][0].label}]"
                )
            o_t = F.linear(h_t, head.weight, head.bias).named(f"o_{t}")
            e_t = F.mse_loss(o_t, Tensor(targets[t], label=f"y_{t}")).named(f"E_{t}")
        outputs.append(o_t)
        losses.append(e_t)
    if loss == "last":
        root = losses[-1]
    elif loss != "all":
        root = losses[int(loss)]
    else:
        root = losses[0]
        with scope(role="loss"):
            for e_t in losses[1:]:
                root = root + e_t
        root.named("E")
    return LectureRun(config, model, head, x, targets, unrolled, outputs, losses, root)
