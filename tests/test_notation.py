"""The lecture's notation: picture labels (--notation lecture) and the table's slices."""

import re

import numpy as np
import pytest
from click.testing import CliRunner
from dotparse import Dot
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from tinygrad_rnn import lecture, notation
from tinygrad_rnn.autograd import topo_order
from viz.dot import to_dot
from viz.graph import namer


def built(cell="rnn", steps=3, **options):
    run = lecture.build(cell=cell, steps=steps, **options)
    run.loss.backward()
    return run


def box_names(dot_text):
    dot = Dot(dot_text)
    names = {}
    for node_id, attrs in dot.nodes.items():
        m = re.match(r"<b>(.*?)</b>", attrs.get("label", ""))
        if m:
            names[node_id] = m.group(1)
    return names


def test_notation_lecture_draws_s_u_w_v_for_the_rnn():
    run = built("rnn", steps=4)
    names = set(box_names(to_dot(run.loss, notation="lecture")).values())
    assert {"s_0", "s_1", "s_2", "s_3", "U", "W", "V", "o_3", "E_3"} <= names
    assert {"W s_0", "U x_3", "X U^T"} <= names
    assert not {n for n in names if re.fullmatch(r"h_\d+|weight_\w+", n)}


def test_notation_lecture_uses_the_lstm_symbols_and_keeps_output_and_gate_apart():
    run = built("lstm", steps=3)
    names = list(box_names(to_dot(run.loss, notation="lecture")).values())
    assert "C\u0303_1" in names and "C_1" in names and "tanh(C_2)" in names
    assert "\u0177_2" in names  # the prediction; o_2 is the output gate
    assert not [n for n in names if re.fullmatch(r"[gc]_\d+", n)]


@settings(max_examples=10, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    steps=st.integers(1, 4),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    loss=st.sampled_from(["last", "all"]),
)
def test_notation_changes_only_labels_and_never_merges_two(
    cell, steps, layers, bidirectional, loss
):
    run = built(cell, steps, layers=layers, bidirectional=bidirectional, loss=loss)
    plain = to_dot(run.loss, legend=False)
    lect = to_dot(run.loss, legend=False, notation="lecture")
    # the same picture: every node and edge equal once the labels are taken out
    a, b = Dot(plain), Dot(lect)
    unlabelled = lambda dot: {k: {**v, "label": "", "tooltip": ""} for k, v in dot.nodes.items()}
    assert unlabelled(a) == unlabelled(b)
    assert a.edges == b.edges and a.cluster_of == b.cluster_of
    # a mapping node -> name: distinct labels stay distinct (per time step)
    nodes = topo_order([run.loss])
    name = namer(nodes, "lecture")
    seen = {}
    for node in nodes:
        if node.label is None:
            continue
        key = (name(node), node.tags.get("t"), node.tags.get("layer"), node.tags.get("direction"))
        assert seen.setdefault(key, node.label) == node.label, (key, node.label)


def test_notation_unknown_is_a_clear_error():
    run = built()
    with pytest.raises(ValueError, match="unknown notation 'greek'.*pytorch, lecture"):
        to_dot(run.loss, notation="greek")


def test_notation_table_slices_are_the_gates_the_graph_computes():
    """W_f is rows H:2H of weight_ih_l0 and weight_hh_l0 (b_f = b_if + b_hf): recompute f_1."""
    H = 3
    run = built("lstm", steps=2, hidden=H)
    m = run.model
    nodes = [n for n in topo_order([run.loss]) if n.label and n.tags.get("t") == 1]
    x1, h0 = run.x.data[1], run.hidden_states()[0].data
    rows = dict((r[0], r[2]) for r in notation.rows())
    assert rows["f_t"] == "rows H:2H of weight_ih_l0 and weight_hh_l0"
    assert rows["C~_t"] == "rows 2H:3H of weight_ih_l0 and weight_hh_l0"
    for gate, k, fn in (("i", 0, "sig"), ("f", 1, "sig"), ("g", 2, "tanh"), ("o", 3, "sig")):
        sl = slice(k * H, (k + 1) * H)
        a = (
            x1 @ m.weight_ih_l0.data[sl].T
            + m.bias_ih_l0.data[sl]
            + h0 @ m.weight_hh_l0.data[sl].T
            + m.bias_hh_l0.data[sl]
        )
        want = 1 / (1 + np.exp(-a)) if fn == "sig" else np.tanh(a)
        label = "og_1" if gate == "o" else f"{gate}_1"  # the output gate is og_t
        gate_nodes = [n for n in nodes if n.label == label and n.op.name != "linear"]
        assert np.allclose(gate_nodes[0].data, want)


def test_notation_table_gru_convention_z_keeps_the_old_state():
    run = built("gru", steps=2)
    nodes = {n.label: n for n in topo_order([run.loss]) if n.label and n.tags.get("t") == 1}
    z, n_, h0 = nodes["z_1"].data, nodes["n_1"].data, run.hidden_states()[0].data
    rows = dict((r[0], r[2]) for r in notation.rows())
    assert rows["h_t (GRU)"] == "(1 - z_t) n_t + z_t h_{t-1}"
    assert np.allclose(nodes["h_1"].data, (1 - z) * n_ + z * h0)


def test_render_and_demo_take_notation_lecture(tmp_path):
    out = tmp_path / "g.dot"
    result = CliRunner().invoke(main, ["render", "--notation", "lecture", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "s_3" in set(box_names(out.read_text()).values())
    bad = CliRunner().invoke(main, ["render", "--notation", "greek", "-o", str(out)])
    assert bad.exit_code == 2 and "greek" in bad.output


def test_notation_lecture_primes_the_reverse_direction():
    run = built("rnn", steps=3, bidirectional=True, loss="all")
    nodes = topo_order([run.loss])
    name = namer(nodes, "lecture")
    reverse = {name(n) for n in nodes if n.label and n.tags.get("direction") == "reverse"}
    assert {"s'_0", "s'_2", "W' s'_2", "U' x_0", "X U'^T"} <= reverse
    assert {"U'", "W'"} <= {name(n) for n in nodes if n.label and n.op is None}
    forward = {name(n) for n in nodes if n.label and n.tags.get("direction") == "forward"}
    assert "s_0" in forward and not any("'" in n for n in forward)
