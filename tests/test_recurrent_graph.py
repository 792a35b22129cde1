"""The unrolled graph itself: tags on every step's nodes, labels like the equations, size.

A step's nodes are found structurally, not by their tags: walking back from h_t (and c_t)
of layer l, direction d, everything reached before the previous state, the parameters,
the input or the layer below is what step t built. Every one of those must carry
t, layer, direction and cell.
"""

import collections
import itertools

import numpy as np
import pytest

from tinygrad_rnn import Tensor, nn, topo_order
from tinygrad_rnn.analysis.breakpoints import base_label

KINDS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
GATE_LABELS = {
    "rnn": ("a", "h"),
    "lstm": ("a", "i", "f", "g", "og", "c", "h"),
    "gru": ("r", "z", "n", "h"),
}


def _run(kind, steps, layers=1, bidirectional=False, given=False, batch=2):
    nn.manual_seed(0)
    model = KINDS[kind](3, 4, num_layers=layers, bidirectional=bidirectional)
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(steps, batch, 3)), requires_grad=True, label="x")
    hx = None
    if given:
        rows = layers * (2 if bidirectional else 1)
        states = [Tensor(rng.normal(size=(rows, batch, 4)), requires_grad=True) for _ in "hc"]
        hx = tuple(states) if kind == "lstm" else states[0]
    run = model.unroll(x, hx)
    out, _ = model(x, hx)
    return model, run, out.sum()


# the layer picks its row of h_0 (c_0) once, before the first step
INITIAL = ("h_init", "c_init")


def _initial(label):
    """h_init / c_init of any layer and direction (h'_init^(1) ...)."""
    return label is not None and base_label(label) in INITIAL


def _step_nodes(current, previous, stops):
    """Nodes reached from `current` going back, without passing a stop, previous, or a leaf."""
    stop = set(previous) | stops
    found, stack, seen = [], list(current), set()
    while stack:
        node = stack.pop()
        if node in seen or node in stop or node.op is None or _initial(node.label):
            continue
        seen.add(node)
        found.append(node)
        stack.extend(node.inputs)
    return found


def _ancestors(nodes):
    seen, stack = set(), list(nodes)
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(node.inputs)
    return seen


def _steps(run, steps):
    """Yield (layer, direction, t, nodes of that step) for every step of every layer."""
    lower = set()  # everything the layers below built: not part of this layer's steps
    for layer, per_direction in enumerate(run.states):
        layer_nodes = set()
        for direction, seq in enumerate(per_direction):
            order = range(steps - 1, -1, -1) if direction else range(steps)
            previous = ()
            for t in order:
                nodes = _step_nodes(seq[t], previous, lower)
                # the layer-0 projection of the whole sequence is shared by all steps
                nodes = [n for n in nodes if n.label not in ("X W_ih^T", "X W'_ih^T")]
                layer_nodes.update(nodes)
                yield layer, direction, t, nodes
                previous = seq[t]
        # the layer above also reads the joined outputs [h_t, h_t rev] of this layer
        lower |= _ancestors(s[0] for seq in per_direction for s in seq)
        lower |= _joins(run, layer)


def _joins(run, layer):
    """The nodes the layer above reads as its step inputs (the input of its x_t W_ih^T)."""
    if layer + 1 >= len(run.states):
        return set()
    joins = set()
    for seq in run.states[layer + 1]:
        for state in seq:
            for node in _ancestors([state[0]]):
                if node.op is not None and node.label and node.label.endswith("W_ih^T"):
                    if node.tags.get("layer") == layer + 1:
                        joins |= _ancestors([node.inputs[0]])
    return joins


CASES = list(itertools.product(KINDS, (1, 2), (False, True), (False, True)))


@pytest.mark.parametrize("kind,layers,bidirectional,given", CASES)
def test_step_nodes_carry_time_layer_direction_and_cell_tags(kind, layers, bidirectional, given):
    steps = 3
    _, run, _ = _run(kind, steps, layers, bidirectional, given)
    seen_steps = 0
    for layer, direction, t, nodes in _steps(run, steps):
        assert nodes, f"step {t} of layer {layer} built nothing"
        expected = {
            "t": t,
            "layer": layer,
            "direction": "reverse" if direction else "forward",
            "cell": kind,
        }
        for node in nodes:
            tags = {k: node.tags.get(k) for k in expected}
            assert tags == expected, f"{node.op.name} {node.label!r}: {node.tags}"
        seen_steps += 1
    assert seen_steps == steps * layers * (2 if bidirectional else 1)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_tagged_node_from_the_loss_has_layer_and_cell(kind):
    _, _, loss = _run(kind, 4, layers=2, bidirectional=True)
    tagged = [n for n in topo_order([loss]) if "t" in n.tags]
    assert tagged
    for node in tagged:
        assert node.tags["layer"] in (0, 1) and node.tags["cell"] == kind, node.tags
        assert 0 <= node.tags["t"] < 4


@pytest.mark.parametrize("kind", list(KINDS))
def test_step_nodes_are_labelled_like_the_equations(kind):
    steps = 3
    _, run, loss = _run(kind, steps)
    labels_by_t = collections.defaultdict(set)
    for node in topo_order([loss]):
        if "t" in node.tags and node.label:
            labels_by_t[node.tags["t"]].add(node.label)
    for t in range(steps):
        for name in GATE_LABELS[kind]:
            assert f"{name}_{t}" in labels_by_t[t], (name, t, sorted(labels_by_t[t]))
        assert f"x_{t} W_ih^T" in labels_by_t[t]
    # the states the layer hands out are the labelled nodes themselves
    for t, state in enumerate(run.states[0][0]):
        assert state[0].label == f"h_{t}"
        if kind == "lstm":
            assert state[1].label == f"c_{t}"


@pytest.mark.parametrize("kind", list(KINDS))
def test_cell_step_labels_follow_the_scope_time_step(kind):
    from tinygrad_rnn import scope

    cell = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind](3, 4)
    x = Tensor(np.ones((2, 3)))
    with scope(t=5, layer=0, direction="forward", cell=kind):
        new = cell(x)
    h = new[0] if kind == "lstm" else new
    assert h.label == "h_5" and h.tags["t"] == 5
    plain = cell(x)
    assert (plain[0] if kind == "lstm" else plain).label == "h'"


def _op_counts(loss, t):
    return collections.Counter(n.op.name for n in topo_order([loss]) if n.tags.get("t") == t)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_node_count_is_linear_in_time_steps(kind, bidirectional):
    counts = {}
    for steps in range(1, 7):
        _, _, loss = _run(kind, steps, bidirectional=bidirectional)
        counts[steps] = len(topo_order([loss]))
    per_step = counts[2] - counts[1]
    constant = counts[1] - per_step
    assert per_step > 0
    for steps, count in counts.items():
        assert count == constant + steps * per_step, counts


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_step_builds_the_same_ops(kind):
    steps = 5
    _, _, loss = _run(kind, steps, layers=2, bidirectional=True, given=True)
    first = _op_counts(loss, 0)
    assert sum(first.values()) > 0
    for t in range(1, steps):
        assert _op_counts(loss, t) == first, t


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("fused", [True, False])
def test_the_reverse_direction_primes_every_weight_it_names(kind, fused, monkeypatch):
    """`h'_t W'_hh^T` as `X W'_ih^T`: a reverse node that names a weight primes it, a
    forward node never does, per-node and fused alike."""
    if not fused:
        from tinygrad_rnn.nn import fused as fused_module

        monkeypatch.setattr(fused_module, "fusable", lambda *args: False)
    _, _, loss = _run(kind, 3, layers=2, bidirectional=True)
    named = [n for n in topo_order([loss]) if n.label and " W" in n.label and "t" in n.tags]
    assert named
    for node in named:
        reverse = node.tags["direction"] == "reverse"
        for weight in ("W_ih", "W_hh"):
            primed = weight.replace("W", "W'")
            if weight in node.label or primed in node.label:
                assert (primed in node.label) == reverse, (node.label, node.tags)
