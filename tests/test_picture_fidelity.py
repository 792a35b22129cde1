"""Pictures that never lie: steps left to right on the laid-out SVG, fills that a highlight
never changes."""

import re

import pytest
from dotparse import Dot
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_rnn import lecture
from viz.dot import to_dot
from viz.render import RenderError, find_engine, render

try:
    find_engine()
    HAVE_ENGINE = True
except RenderError:
    HAVE_ENGINE = False

needs_engine = pytest.mark.skipif(not HAVE_ENGINE, reason="no layout engine")

_CLUSTER = re.compile(
    r'<g id="clust\d+" class="cluster">\s*<title>(cluster_t(\d+)(?:_l(\d+)_(\w+))?)</title>'
    r'\s*<(?:polygon|path)[^>]*?(?:points|d)="([^"]+)"'
)


def svg_step_boxes(svg):
    """{(t, sub): (x_left, x_right)} for every step cluster drawn in the SVG (sub is None
    for the step's outer box, else (layer, direction))."""
    boxes = {}
    for m in _CLUSTER.finditer(svg):
        xs = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", m.group(5))][0::2]
        sub = None if m.group(3) is None else (int(m.group(3)), m.group(4))
        boxes[(int(m.group(2)), sub)] = (min(xs), max(xs))
    return boxes


def assert_time_runs_left_to_right(svg, steps):
    boxes = svg_step_boxes(svg)
    outer = [boxes[(t, None)] for t in range(steps) if (t, None) in boxes]
    assert len(outer) >= 2
    for a, b in zip(outer, outer[1:]):
        assert a[1] <= b[0] + 0.01, f"steps overlap or run backwards: {outer}"
    for sub in {s for _, s in boxes if s is not None}:
        xs = [boxes[(t, sub)][0] for t in range(steps) if (t, sub) in boxes]
        assert xs == sorted(xs), (sub, xs)


CASES = [
    ("rnn", 6, 2, True, "cell", "last"),
    ("lstm", 12, 2, True, "cell", "last"),
    ("gru", 6, 3, True, "cell", "last"),
    ("gru", 7, 1, True, "cell", "all"),
    ("lstm", 6, 1, False, "cell", "last"),
    ("rnn", 7, 1, False, "op", "last"),
    ("gru", 8, 2, True, "op", "last"),
    ("lstm", 12, 3, False, "cell", "all"),
]


@needs_engine
@pytest.mark.parametrize("cell,steps,layers,bidirectional,detail,loss", CASES)
def test_laid_out_steps_run_left_to_right(
    tmp_path, cell, steps, layers, bidirectional, detail, loss
):
    run = lecture.build(
        cell, steps=steps, layers=layers, bidirectional=bidirectional, loss=loss, hidden=2
    )
    run.loss.backward()
    path = render(to_dot(run.loss, detail=detail, force=True), str(tmp_path / "g.svg"))
    assert path.in_time_order
    with open(path, encoding="utf-8") as f:
        assert_time_runs_left_to_right(f.read(), steps)


@needs_engine
@settings(max_examples=4, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    steps=st.integers(2, 13),
    layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    loss=st.sampled_from(["last", "all"]),
)
def test_any_cell_picture_lays_out_in_time_order(
    tmp_path_factory, cell, steps, layers, bidirectional, loss
):
    run = lecture.build(cell, steps=steps, layers=layers, bidirectional=bidirectional, loss=loss)
    run.loss.backward()
    out = tmp_path_factory.mktemp("order") / "g.svg"
    path = render(to_dot(run.loss, detail="cell"), str(out))
    with open(path, encoding="utf-8") as f:
        assert_time_runs_left_to_right(f.read(), steps)


def fills(dot_text):
    dot = Dot(dot_text)
    return {k: (a.get("fillcolor"), a.get("fontcolor")) for k, a in dot.nodes.items()}


@settings(max_examples=12, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    steps=st.integers(2, 5),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    detail=st.sampled_from(["op", "cell"]),
    radius=st.sampled_from([None, 0.5, 1.5]),
    data=st.data(),
)
def test_highlight_never_changes_a_fill(cell, steps, layers, bidirectional, detail, radius, data):
    run = lecture.build(
        cell, steps=steps, layers=layers, bidirectional=bidirectional, radius=radius, hidden=2
    )
    run.loss.backward()
    k = data.draw(st.integers(0, steps - 1))
    plain = to_dot(run.loss, detail=detail)
    lit = to_dot(run.loss, detail=detail, bptt_paths=(steps - 1, k))
    assert fills(plain) == fills(lit)
    assert "highlight" in lit  # and the highlight is there, in outlines and edges
    assert any(a.get("penwidth") == "2.6" for a in Dot(lit).nodes.values())


def test_highlight_keeps_lighter_means_smaller():
    # the case: X W_ih^T (|grad| 0.09) off the path must not look paler than h_0
    run = lecture.build("rnn", steps=8, radius=0.5)
    run.loss.backward()
    dot = Dot(to_dot(run.loss, highlight=("E_7", "h_0"), params=False))
    [proj] = dot.find("X W_ih^T")
    [h0] = dot.find("h_0")
    from viz.style import luminance

    assert luminance(dot.nodes[proj]["fillcolor"]) < luminance(dot.nodes[h0]["fillcolor"])


@needs_engine
def test_render_says_when_the_png_cap_shrank_the_picture(tmp_path):
    from click.testing import CliRunner

    from cli import main

    out = tmp_path / "big.png"
    args = ["render", "--cell", "lstm", "--steps", "5", "--max-pixels", "500", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    m = re.search(
        r"shrunk to (\d+) x (\d+) px by --max-pixels 500 \(full size (\d+) x", result.output
    )
    assert m, result.output
    with open(out, "rb") as f:
        head = f.read(24)
    import struct

    assert struct.unpack(">II", head[16:24]) == (int(m.group(1)), int(m.group(2)))
    assert int(m.group(3)) > 500
    small = CliRunner().invoke(main, ["render", "--steps", "2", "-o", str(tmp_path / "s.png")])
    assert "shrunk" not in small.output


@settings(max_examples=15, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    steps=st.integers(1, 5),
    layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    loss=st.sampled_from(["last", "all"]),
    detail=st.sampled_from(["op", "cell"]),
)
def test_no_two_tensors_in_a_picture_share_a_label(
    cell, steps, layers, bidirectional, loss, detail
):
    from tinygrad_rnn.autograd import topo_order

    run = lecture.build(cell, steps=steps, layers=layers, bidirectional=bidirectional, loss=loss)
    run.loss.backward()
    labels = [n.label for n in topo_order([run.loss]) if n.label is not None]
    duplicates = sorted({x for x in labels if labels.count(x) > 1})
    assert not duplicates, duplicates
    dot = Dot(to_dot(run.loss, detail=detail))
    drawn = []
    for node_id, attrs in dot.nodes.items():
        if "dashed" in attrs.get("style", "") or node_id == "legend":
            continue  # a parameter's per-step copies are one tensor drawn once per step
        drawn += re.findall(r"<b>(.*?)</b>", attrs.get("label", ""))
    assert len(drawn) == len(set(drawn)), sorted({x for x in drawn if drawn.count(x) > 1})


def test_step_prints_one_node_for_the_output_o_t():
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, ["step", "--cell", "lstm", "--commands", "p o_3; p og_3; q"])
    assert result.exit_code == 0, result.output
    assert result.output.count("'o_3'") == 1 and result.output.count("'og_3'") == 1


def test_seq2seq_pictures_box_encoder_and_decoder_steps_apart(tmp_path):
    import numpy as np

    from tinygrad_rnn import nn
    from tinygrad_rnn.nn import functional as F

    nn.manual_seed(0)
    model = nn.Seq2Seq(src_vocab=5, tgt_vocab=6, hidden_size=3, cell="lstm", num_layers=2)
    src = np.array([[1], [2], [3]])
    tgt_in, tgt = np.array([[0], [4], [5]]), np.array([4, 5, 1])
    logits = model(src, tgt_in)
    loss = F.cross_entropy(logits.reshape(-1, 6), tgt)
    loss.backward()
    from tinygrad_rnn.autograd import topo_order

    labels = [n.label for n in topo_order([loss]) if n.label is not None]
    assert len(labels) == len(set(labels)), sorted({x for x in labels if labels.count(x) > 1})
    text = to_dot(loss, detail="cell")
    dot = Dot(text)
    assert not [c for c in dot.clusters if re.fullmatch(r"cluster_t\d+", c)]  # none mixed
    assert {c for c in dot.clusters if c.count("_") == 2} >= {
        "cluster_enc_t0",
        "cluster_enc_t2",
        "cluster_dec_t0",
        "cluster_dec_t2",
    }
    assert 'label="encoder t = 1"' in text and 'label="decoder t = 1"' in text
    if HAVE_ENGINE:
        path = render(text, str(tmp_path / "s.svg"))
        with open(path, encoding="utf-8") as f:
            svg = f.read()
        boxes = {
            m.group(1): [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", m.group(2))][0::2]
            for m in re.finditer(
                r"<title>(cluster_(?:enc|dec)_t\d+)</title>\s*<(?:polygon|path)[^>]*?"
                r'(?:points|d)="([^"]+)"',
                svg,
            )
        }
        enc_right = max(max(v) for k, v in boxes.items() if "_enc_" in k)
        dec_left = min(min(v) for k, v in boxes.items() if "_dec_" in k)
        assert enc_right <= dec_left + 0.01  # the encoder's boxes, then the decoder's
