"""What the gates did on one input: unit x time tables of a trained model's gates and states.

    LSTM  i_t, f_t, o_t (input, forget, output gates), c_t (cell state), h_t
    GRU   r_t, z_t (reset, update gates), n_t (candidate), h_t
    RNN   h_t

Each column t is read from the graph's own node of that step (found by its label and tags:
the node `i_3` of layer 0, forward direction), so the tables are exactly the values the
forward pass computed. One sequence, batch row 0.
"""

import re

import numpy as np

from ..autograd import topo_order
from ..nn.recurrent import LAYERS
from .breakpoints import base_label

__all__ = ["GATES", "Gates", "gate_nodes", "gates"]

_LABEL = re.compile(r"([a-z]+)_(\d+)")
_GATE_NAME = {"og": "o"}  # the LSTM's output gate is labelled og_t (o_t is the output)
_LEFT_OUT = ("g",)  # the LSTM's candidate g_t: the table shows the input gate i_t letting it in


def table_names(Cell):
    """The rows a cell's tables have: its gates, then its states innermost first."""
    gates = tuple(_GATE_NAME.get(g, g) for g in Cell.gate_names if g not in _LEFT_OUT)
    return gates + tuple(reversed(Cell.state_names))


GATES = {name: table_names(Layer.Cell) for name, Layer in LAYERS.items()}


class Gates:
    """`tables` {name: array (units, steps)} in GATES order, `inputs` (tokens as text),
    `cell`, `layer`, `direction`, `title`; `to_dict()` is the JSON (the names and inputs)."""

    def __init__(self, tables, inputs, cell, layer, direction, title):
        self.tables, self.inputs, self.cell = tables, inputs, cell
        self.layer, self.direction, self.title = layer, direction, title

    def to_dict(self):
        out = {name: table.tolist() for name, table in self.tables.items()}
        out["inputs"] = list(self.inputs)
        return out


def gate_nodes(trained, layer=-1, direction="forward"):
    """{name: [node of step 0, ..., node of step T-1]} of one layer and direction.

    An encoder-decoder's encoder is read (the steps under its inputs)."""
    cell = trained.config["cell"]
    layers = trained.config["layers"]
    if not -layers <= layer < layers:
        raise ValueError(f"--layer must be in 0..{layers - 1}, got {layer}")
    layer %= layers
    if direction not in ("forward", "reverse"):
        raise ValueError(f"--direction must be forward or reverse, got {direction!r}")
    if direction == "reverse" and not trained.config["bidirectional"]:
        raise ValueError(
            "--direction reverse: the model is unidirectional (it reads forward only); "
            "train it with --bidirectional to have a reverse direction"
        )
    roots = list(trained.outputs)
    outputs = set(roots)
    wanted, hidden = GATES[cell], trained.config["hidden"]
    order = topo_order(roots)
    roles = {node.tags.get("role") for node in order if "cell" in node.tags}
    # an encoder-decoder: the encoder's steps, which read the inputs
    allowed = {"encoder"} if "encoder" in roles else {None, "generator"}
    found = {}
    for node in order:
        match = _LABEL.fullmatch(base_label(node.label or ""))
        name = _GATE_NAME.get(match.group(1), match.group(1)) if match else None
        tags = node.tags
        if (
            match is None
            or name not in wanted
            or node in outputs
            or tags.get("layer") != layer
            or tags.get("direction", "forward") != direction
            or tags.get("role") not in allowed
            or node.shape[-1] != hidden
        ):
            continue
        found.setdefault(name, {})[int(match.group(2))] = node
    steps = len(trained.inputs) if trained.task.input != "class" else None
    result = {}
    for name in wanted:
        per_step = found.get(name, {})
        count = steps if steps is not None else len(per_step)
        missing = [t for t in range(count) if t not in per_step]
        if missing or not per_step:
            raise ValueError(f"gates: the graph has no node {name}_{missing[0] if missing else 0}")
        result[name] = [per_step[t] for t in range(count)]
    return result


def gates(trained, layer=-1, direction="forward"):
    """The `Gates` of a `TrainedRun` (see the module docstring)."""
    nodes = gate_nodes(trained, layer, direction)
    tables = {
        name: np.stack([np.asarray(n.data, dtype=np.float64)[0] for n in seq], axis=1)
        for name, seq in nodes.items()
    }
    layers = trained.config["layers"]
    return Gates(
        tables, trained.labels, trained.config["cell"], layer % layers, direction, trained.title()
    )
