"""The lecture's notation next to the tool's labels and PyTorch's parameters, in one place.

The lecture writes the simple RNN as

    s_t = f(U x_t + W s_{t-1}),    o_t = g(V s_t),    E_t = loss(o_t, y_t)

and the LSTM with colah's symbols f_t, i_t, C~_t, C_t, o_t, h_t. The library labels nodes
with PyTorch's names (h_t, weight_ih_l0, weight_hh_l0, gates i f g o and r z n).
`label(node, "lecture")` gives the lecture's name for a node, which pictures use with
`--notation lecture`; `TABLE` lists every symbol with the tool's label and the exact
PyTorch parameter rows it lives in, for the docs.
"""

import re

from .nn.cells import LSTMCell, RNNCell
from .nn.recurrent import LAYERS

NOTATIONS = ("pytorch", "lecture")

# (pattern on the tool's label, the lecture's label), tried in order; \1 is the step index
_MARK = r"('?)_"  # the reverse direction's prime, before the step index
_SUP = r"(\^\(\d+\)|)"  # the layer superscript of a multi-layer model (or nothing)
_RNN_RULES = (
    (r"h" + _MARK + r"(\d+)" + _SUP, r"s\1_\2\3"),
    (r"h" + _MARK + r"init" + _SUP, r"s\1_init\2"),
    (r"x_(\d+) W('?)_ih\^T", r"U\2 x_\1"),
    (r"h" + _MARK + r"(\d+)" + _SUP + r" W'?_hh\^T", r"W\1 s\1_\2\3"),
    (r"h" + _MARK + r"init" + _SUP + r" W'?_hh\^T", r"W\1 s\1_init\2"),
    (r"X W('?)_ih\^T", r"X U\1^T"),
    (r"\[h_(\d+)" + _SUP + r", h'_\1\2\]", r"[s_\1\2, s'_\1\2]"),
)
_LSTM_RULES = (
    (r"g" + _MARK + r"(\d+)" + _SUP, "C\u0303\\1_\\2\\3"),  # the candidate C~_t
    (r"og" + _MARK + r"(\d+)" + _SUP, r"o\1_\2\3"),  # colah's output gate o_t
    (r"c" + _MARK + r"(\d+)" + _SUP, r"C\1_\2\3"),
    (r"c" + _MARK + r"init" + _SUP, r"C\1_init\2"),
    (r"tanh\(c" + _MARK + r"(\d+)" + _SUP + r"\)", r"tanh(C\1_\2\3)"),
)
_RULES = {RNNCell: _RNN_RULES, LSTMCell: _LSTM_RULES}  # the GRU keeps PyTorch's names
# parameters carry no tags: their names say the layer and the direction
_PARAM = re.compile(r"(weight|bias)_(ih|hh)_l(\d+)(_reverse)?")
_SYMBOL = {("weight", "ih"): "U", ("weight", "hh"): "W"}


def check(notation):
    """Raise ValueError unless `notation` is one of NOTATIONS."""
    if notation not in NOTATIONS:
        raise ValueError(f"unknown notation {notation!r} (choose from {', '.join(NOTATIONS)})")
    return notation


def label(node, notation="pytorch", cell=None):
    """The name to show for `node`: its own label, or the lecture's symbol for it.

    `cell` ("rnn", "lstm", "gru") is read from the node's tags when it has them; pass it
    for parameters, which have none. The head's output o_t stays o_t, except in an LSTM,
    where colah's o_t is the output gate (the tool's og_t) and the prediction is written
    y^_t as in the lecture's BPTT slide.
    """
    name = node.label
    if notation == "pytorch" or name is None:
        return name
    check(notation)
    cell = node.tags.get("cell", cell)
    Cell = LAYERS[cell].Cell if isinstance(cell, str) and cell in LAYERS else None
    if node.op is None and _PARAM.fullmatch(name):
        return _param_label(name, Cell)
    if node.op is not None and node.tags.get("role") == "output" and node.op.name == "linear":
        t = node.tags.get("t")
        # a cell with an output gate og_t writes it o_t: the prediction becomes y^_t
        output_gate = Cell is not None and "og" in Cell.gate_names
        return f"\u0177_{t}" if output_gate and t is not None else name
    for pattern, replacement in _RULES.get(Cell, ()):
        if re.fullmatch(pattern, name):
            return re.sub(pattern, replacement, name)
    return name


def _param_label(name, Cell):
    """U, W, b for the simple RNN's parameters (the lecture names no gated cell's)."""
    found = _PARAM.fullmatch(name)
    if Cell is not RNNCell or found is None:
        return name
    kind, which, layer, reverse = found.groups()
    prime = "'" if reverse else ""
    sup = "" if layer == "0" else f"^({int(layer) + 1})"
    if kind == "weight":
        return f"{_SYMBOL[(kind, which)]}{prime}{sup}"
    # the lecture has one bias b; PyTorch adds two, b_ih + b_hh
    return f"b_{which}{prime}{sup}"


def rows():
    """The notation table: (lecture, tool label, PyTorch parameter and slice, meaning).

    H is the hidden size; the gates' rows are stacked in PyTorch's order (LSTM i, f, g, o;
    GRU r, z, n) in both weight_ih_l0 and weight_hh_l0.
    """
    both = "of weight_ih_l0 and weight_hh_l0"
    return [
        ("x_t", "x_t", "input[t]", "the input at step t"),
        ("s_t", "h_t", "output[t]; h_n is the last", "the memory (hidden state) at step t"),
        ("U", "weight_ih_l0", "weight_ih_l0, (H, input_size)", "input to memory"),
        ("W", "weight_hh_l0", "weight_hh_l0, (H, H)", "memory to the next memory"),
        ("b", "bias_ih_l0, bias_hh_l0", "bias_ih_l0 + bias_hh_l0", "PyTorch has two biases"),
        ("V", "V", "head.weight of Linear(H, out)", "memory to output"),
        ("o_t", "o_t", "head(output[t])", "the output at step t (g is the identity)"),
        ("E_t", "E_t", "F.mse_loss(o_t, y_t)", "the loss at step t"),
        ("U x_t", "x_t W_ih^T", "input[t] @ weight_ih_l0.T", "row t of X W_ih^T"),
        ("W s_{t-1}", "h_{t-1} W_hh^T", "h @ weight_hh_l0.T", "the recurrence"),
        ("i_t", "i_t", f"rows 0:H {both}", "LSTM input gate"),
        ("f_t", "f_t", f"rows H:2H {both}", "LSTM forget gate"),
        ("C~_t", "g_t", f"rows 2H:3H {both}", "LSTM candidate memory"),
        ("o_t (LSTM)", "og_t", f"rows 3H:4H {both}", "LSTM output gate"),
        ("C_t", "c_t", "c_n is the last", "LSTM cell state f_t C_{t-1} + i_t C~_t"),
        ("h_t (LSTM)", "h_t", "output[t]", "o_t tanh(C_t)"),
        ("W_f, b_f", "rows H:2H", "[W_if | W_hf], b_if + b_hf", "W_f [h_{t-1}, x_t] + b_f"),
        ("r_t", "r_t", f"rows 0:H {both}", "GRU reset gate"),
        ("z_t", "z_t", f"rows H:2H {both}", "GRU update gate"),
        ("h~_t", "n_t", f"rows 2H:3H {both}", "tanh(W_in x + b_in + r (W_hn h + b_hn))"),
        ("h_t (GRU)", "h_t", "(1 - z_t) n_t + z_t h_{t-1}", "z keeps the old state"),
        ("s'_t, U', W'", "h_t reverse", "weight_*_l0_reverse; output[t][H:]", "Bi-RNN"),
        ("U^(2), W^(2)", "weight_*_l1", "layer 2 reads layer 1's output", "stacked RNN"),
    ]
