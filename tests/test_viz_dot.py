"""viz.to_dot: golden files, clusters per step, ghosts, highlighted paths, colours, zoom.

Golden files: tests/golden/{rnn,lstm,gru}3.dot hold the exact text for 3-step models.
After a deliberate change to the pictures, regenerate them with

    TINYGRAD_RNN_REGEN_GOLDEN=1 pytest tests/test_viz_dot.py -k golden

and review the diff before committing.
"""

import os
import re
from pathlib import Path

import numpy as np
import pytest
from dotparse import Dot

from tinygrad_rnn import Tensor, lecture
from tinygrad_rnn.autograd import topo_order
from viz import style
from viz.dot import GraphTooLarge, to_dot
from viz.graph import GraphView

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("TINYGRAD_RNN_REGEN_GOLDEN") == "1"
CELLS = ("rnn", "lstm", "gru")


def build(cell="rnn", steps=3, **options):
    run = lecture.build(cell=cell, steps=steps, **options)
    run.loss.backward()
    return run


def step_clusters(dot):
    return [c for c in dot.clusters if re.fullmatch(r"cluster_t\d+", c)]


def fill(dot, name):
    (node_id,) = dot.find(name)
    return dot.nodes[node_id]["fillcolor"]


# ----- golden files and stability -----------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
def test_to_dot_golden_matches_byte_for_byte(cell):
    text = to_dot(build(cell).loss, bptt_paths=(2, 0))
    path = GOLDEN / f"{cell}3.dot"
    if REGEN:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}: run with TINYGRAD_RNN_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; if the change is deliberate, regenerate (see module docstring)"
    )


def test_to_dot_same_graph_and_options_give_the_same_bytes():
    texts = [to_dot(build("lstm", 4, loss="all").loss, detail=d) for d in ("op", "cell")] * 2
    rebuilt = [to_dot(build("lstm", 4, loss="all").loss, detail=d) for d in ("op", "cell")]
    assert texts[:2] == rebuilt == texts[2:]


# ----- structure: clusters, nodes in their step, ghosts ----------------------------------------


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("detail", ["op", "cell"])
def test_to_dot_cluster_count_equals_steps(cell, detail):
    dot = Dot(to_dot(build(cell, 5, loss="all").loss, detail=detail))
    assert step_clusters(dot) == [f"cluster_t{t}" for t in range(5)]


def _expected_cluster(tags, nested):
    if "t" not in tags:
        return []
    outer = f"cluster_t{tags['t']}"
    if nested and "direction" in tags:
        return [outer, f"{outer}_l{tags.get('layer', 0)}_{tags['direction']}"]
    return [outer]


@pytest.mark.parametrize(
    "cell, options",
    [("rnn", {}), ("lstm", {}), ("gru", {"loss": "all"}), ("lstm", {"layers": 2}),
     ("rnn", {"bidirectional": True, "layers": 2})],
)  # fmt: skip
def test_to_dot_every_node_sits_in_the_cluster_of_its_t_tag(cell, options):
    run = build(cell, 3, **options)
    view = GraphView(run.loss)
    dot = Dot(to_dot(run.loss))
    nested = len(set(n.tags.get("layer") for n in view.nodes if "direction" in n.tags)) > 1
    nested = nested or options.get("bidirectional", False)
    checked = 0
    for node_id, clusters in dot.cluster_of.items():
        m = re.fullmatch(r"[no](\d+)", node_id)
        if not m:
            continue
        node = view.nodes[int(m.group(1))]
        if node.op is None and node.requires_grad:
            continue  # a parameter used at one step only sits with its consumer
        assert clusters == _expected_cluster(node.tags, nested), (node_id, node.label, node.tags)
        checked += 1
    assert checked > 20


def test_to_dot_draws_one_dashed_ghost_per_step_for_shared_parameters():
    dot = Dot(to_dot(build("rnn", 5, loss="all").loss))
    for name in ("weight_hh_l0", "bias_hh_l0", "V", "b_V"):
        ghosts = dot.find(name)
        assert len(ghosts) == 5, name
        assert sorted(dot.cluster_of[g][0] for g in ghosts) == [f"cluster_t{t}" for t in range(5)]
        # dashed; dotted when that step's share is exactly 0 (W_hh at t=0 meets h_init = 0)
        assert all(re.search("dashed|dotted", dot.nodes[g]["style"]) for g in ghosts)
        for g in ghosts:  # each ghost feeds only its own step
            heads = [b for a, b, _ in dot.visible_edges() if a == g]
            assert heads and all(dot.cluster_of[h] == dot.cluster_of[g] for h in heads)
    # used once (by the whole-sequence projection X W_ih^T): one ordinary node, no cluster
    (w_ih,) = dot.find("weight_ih_l0")
    assert dot.cluster_of[w_ih] == []


def test_to_dot_ghost_gradients_are_the_per_step_shares_of_the_parameter():
    run = build("rnn", 4, loss="all")
    dot = Dot(to_dot(run.loss))
    w = run.model.weight_hh_l0
    shares = []  # what flowed into W_hh through its use at each step (the lecture's terms)
    for node in GraphView(run.loss).nodes:
        if w in node.inputs:
            edges = node.edge_grads()
            shares.append(sum(edges[k] for k, inp in enumerate(node.inputs) if inp is w))
    assert len(shares) == 4 and np.allclose(sum(shares), w.grad)
    drawn = []
    for ghost in dot.find("weight_hh_l0"):
        drawn.append(float(re.search(r"\|grad\| (\S+)", dot.label_text(ghost)).group(1)))
    assert sorted(drawn) == sorted(float(f"{np.linalg.norm(g):.3g}") for g in shares)


def test_to_dot_params_false_hides_every_parameter():
    run = build("lstm", 3)
    dot = Dot(to_dot(run.loss, params=False))
    labels = " ".join(dot.label_text(n) for n in dot.nodes)
    for name, _ in run.named_parameters():
        assert name.split(".")[-1] not in labels
    assert "V" not in [dot.label_text(n).split()[0] for n in dot.nodes if dot.label_text(n)]


def test_to_dot_recurrent_edges_have_their_own_style():
    dot = Dot(to_dot(build("lstm", 3).loss))
    recurrent = [
        (a, b) for a, b, attrs in dot.edges if "recurrent" in attrs.get("class", "").split()
    ]
    names = {(dot.label_text(a).split()[0], dot.cluster_of[b][0]) for a, b in recurrent}
    assert {("h_0", "cluster_t1"), ("c_0", "cluster_t1"), ("h_1", "cluster_t2")} <= names
    assert {("h_init", "cluster_t0"), ("c_init", "cluster_t0")} <= names
    for _, _, attrs in dot.edges:
        if "recurrent" in attrs.get("class", "").split():
            assert ":invis:" in attrs["color"]  # drawn as a double line
        elif attrs.get("style") != "invis":
            assert ":invis:" not in attrs["color"]


# ----- highlighted paths -----------------------------------------------------------------------


def _edges_on_paths(edges, source, sink):
    """Every edge lying on some path source -> ... -> sink, by two plain graph searches."""
    succ, pred = {}, {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        pred.setdefault(b, []).append(a)

    def reach(start, nxt):
        seen, todo = {start}, [start]
        while todo:
            for m in nxt.get(todo.pop(), []):
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    after, before = reach(source, succ), reach(sink, pred)
    return {(a, b) for a, b in edges if a in after and b in before}


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("k", [0, 2])
def test_to_dot_highlighted_edges_are_exactly_the_edges_on_some_path(cell, k):
    dot = Dot(to_dot(build(cell, 4).loss, highlight=("E_3", f"h_{k}")))
    edges = [(a, b) for a, b, _ in dot.visible_edges()]
    (source,) = dot.find(f"h_{k}")
    (sink,) = dot.find("E_3")
    expected = _edges_on_paths(edges, source, sink)
    highlighted = {
        (a, b) for a, b, attrs in dot.visible_edges() if "highlight" in attrs.get("class", "")
    }
    assert highlighted == expected
    assert len(expected) > 5
    dimmed = {
        (a, b) for a, b, attrs in dot.visible_edges() if "dim" in attrs.get("class", "").split()
    }
    assert dimmed == set(edges) - expected


def test_to_dot_bptt_paths_is_the_lectures_highlight():
    loss = build("rnn", 4).loss
    lecture_paths = to_dot(loss, bptt_paths=(3, 1), legend=False)
    assert lecture_paths == to_dot(loss, highlight=("E_3", "h_1"), legend=False)
    # either order; s_k is the lecture's name for h_k; label@t picks the node tagged t
    assert to_dot(loss, highlight=("h_1", "E_3"), legend=False) == lecture_paths
    assert to_dot(loss, highlight=("s_1@1", "E_3@3"), legend=False) == lecture_paths


def test_to_dot_highlight_errors_name_what_exists():
    run = build("rnn", 4)
    with pytest.raises(ValueError, match=r"no node labelled 'E_9'.*E_3"):
        to_dot(run.loss, highlight=("E_9", "h_0"))
    with pytest.raises(ValueError, match="no path between"):
        to_dot(run.loss, highlight=("h_0", "x_1 W_ih^T"))


# ----- colours ---------------------------------------------------------------------------------


def test_colour_ramp_gets_darker_monotonically():
    lum = [style.luminance(style.ramp(x / 20)) for x in range(21)]
    assert all(a > b for a, b in zip(lum, lum[1:]))
    specials = {style.ZERO, style.NAN, style.INF, style.NO_GRAD}
    assert len(specials) == 4 and not specials & {style.ramp(x / 50) for x in range(51)}


def test_colour_fading_rnn_h0_is_lighter_than_h3():
    dot = Dot(to_dot(build("rnn", 4, radius=0.5).loss))
    lum = [style.luminance(fill(dot, f"h_{k}")) for k in range(4)]
    assert lum[0] > lum[1] > lum[2] > lum[3]


def test_colour_exploding_linear_rnn_h0_is_darker_than_h3():
    dot = Dot(to_dot(build("rnn", 6, radius=1.5, activation="linear").loss))
    lum = [style.luminance(fill(dot, f"h_{k}")) for k in range(6)]
    assert lum[0] < lum[5]


def test_colour_nan_inf_and_zero_gradients_are_marked_distinctly():
    a = Tensor([0.0, 1.0], requires_grad=True, label="a")
    b = Tensor([1.0, 2.0], requires_grad=True, label="b")
    s = a.sqrt().named("s")  # d sqrt / da = inf at 0, times the 0 below: NaN
    loss = ((s * 0.0).named("z").sum() + (b * 0.0).named("w").sum()).named("L")
    loss.backward()
    assert np.isnan(a.grad[0]) and np.all(b.grad == 0)
    text = to_dot(loss)
    dot = Dot(text)
    assert fill(dot, "a") == style.NAN and dot.nodes[dot.find("a")[0]]["peripheries"] == "2"
    assert "NaN" in dot.label_text(dot.find("a")[0])
    assert fill(dot, "b") == style.ZERO and "dotted" in dot.nodes[dot.find("b")[0]]["style"]
    inf = Dot(to_dot(loss, grads={s: np.array([np.inf, 1.0])}))
    assert fill(inf, "s") == style.INF and fill(inf, "a") == style.NO_GRAD
    assert style.NAN in text and ">NaN<" in text  # the legend's swatch


def test_colour_legend_shows_the_numeric_range():
    text = to_dot(build("rnn", 4).loss, grad_range=(-5, 1))
    legend = Dot(text).nodes["legend"]["label"]
    for k in range(-5, 2):
        assert f">{style.decade_text(k)}<" in legend


def test_grads_mapping_and_current_node_for_a_debugger():
    run = build("rnn", 3)
    h1 = run.hidden_states()[1]
    dot = Dot(to_dot(run.loss, grads={run.loss: np.array(1.0)}, current=run.loss))
    assert fill(dot, "h_1") == style.NO_GRAD
    (e,) = dot.find("E_2")
    assert dot.nodes[e]["penwidth"] == "3.5" and dot.nodes[e]["color"] != "#111111"
    assert fill(Dot(to_dot(run.loss, grads={h1: h1.grad})), "h_1") != style.NO_GRAD


def test_graph_view_is_the_library_walk_over_every_node():
    run = build("lstm", 2)
    nodes = GraphView(run.loss).nodes
    assert nodes == topo_order([run.loss], every_node=True)  # one walk, not a copy
    assert any(not n.requires_grad for n in nodes) and set(topo_order([run.loss])) < set(nodes)
    position = {n: i for i, n in enumerate(nodes)}
    assert all(position[inp] < position[n] for n in nodes for inp in n.inputs)
    chain = Tensor([1.0], requires_grad=True)
    for _ in range(5000):  # no recursion: deeper than Python's limit
        chain = chain * 1.0
    assert len(topo_order([chain], every_node=True)) == 5001 + 5000


@pytest.mark.parametrize("detail", ["op", "cell"])
def test_stepper_page_names_every_edge_as_the_dot_text_writes_it(detail):
    # a stacked bidirectional cell picture writes the reverse direction's state edges from t
    # to t+1 (drawn back); the page once keyed them the other way and lost their colours
    from viz.html import page_data

    run = lecture.build(cell="gru", steps=3, bidirectional=True, layers=2)
    data, text = page_data(run.loss, detail=detail)
    written = {
        f"{a}->{b}" for a, b in re.findall(r"^  (\w+) -> (\w+) \[(?!style=invis)", text, re.M)
    }
    assert set(data["edges"]) <= written and len(data["edges"]) > 10


# ----- zoom: detail, window, node limit ------------------------------------------------------


def test_cell_detail_draws_one_box_per_step_with_its_states():
    dot = Dot(to_dot(build("lstm", 4, loss="all").loss, detail="cell"))
    for t in range(4):
        boxes = [n for n, c in dot.cluster_of.items() if c == [f"cluster_t{t}"]]
        text = " ".join(dot.label_text(b) for b in boxes)
        assert f"h_{t}" in text and f"c_{t}" in text and f"E_{t}" in text
        assert len(boxes) == 2  # the cell's step and its loss


def test_window_draws_only_those_steps_with_elision_markers():
    text = to_dot(build("lstm", 8, loss="all").loss, steps=(3, 4))
    dot = Dot(text)
    assert step_clusters(dot) == ["cluster_t3", "cluster_t4"]
    assert "t = 0..2 not drawn" in text and "t = 5..7 not drawn" in text
    assert dot.cluster_of["elided_before"] == ["cluster_t3"]
    assert any(a == "elided_before" for a, _, _ in dot.edges)
    with pytest.raises(ValueError, match="outside"):
        to_dot(build("rnn", 4).loss, steps=(7, 9))


def test_node_limit_refuses_large_pictures_unless_forced():
    run = build("lstm", 30, loss="all")
    with pytest.raises(GraphTooLarge, match=r"detail='cell'.*steps=\(0, 9\).*force=True"):
        to_dot(run.loss, max_nodes=500)
    assert len(Dot(to_dot(run.loss, max_nodes=500, force=True)).nodes) > 500
    assert len(Dot(to_dot(run.loss, max_nodes=500, detail="cell")).nodes) < 500
    assert len(Dot(to_dot(run.loss, max_nodes=500, steps=(0, 4))).nodes) < 500
