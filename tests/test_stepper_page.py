"""step --html: the page's data (both passes, the BPTT sum) and the page itself in Chromium."""

import importlib
import json
import os
import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from engines import needs_engine
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from tinygrad_rnn import Tensor, lecture, where
from tinygrad_rnn.analysis.debugger import Session
from tinygrad_rnn.autograd import topo_order
from tinygrad_rnn.nn import fused
from viz.graph import GraphView
from viz.html import forward_order, page, page_data
from viz.render import RenderError

render = importlib.import_module("viz.render")  # the module (viz.render is also a function)


def weight_hh(run):
    return run.model.layer_parameters(0, 0)[1]


def build(fuse, cell, **options):
    old, fused.ENABLED = fused.ENABLED, fuse
    try:
        return lecture.build(cell, **options)
    finally:
        fused.ENABLED = old


def rows(nodes):
    """What a node is (op, label, tags, shape, where its inputs are), comparable across runs."""
    where = {n: i for i, n in enumerate(nodes)}
    return [
        (n.op and n.op.name, n.label, sorted(n.tags.items()), n.shape, [where[i] for i in n.inputs])
        for n in nodes
    ]


@settings(max_examples=10, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    steps=st.integers(1, 4),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    loss=st.sampled_from(["last", "all"]),
)
def test_page_walks_the_forward_pass_in_creation_order_fused_or_not(
    cell, steps, layers, bidirectional, loss
):
    options = dict(steps=steps, layers=layers, bidirectional=bidirectional, loss=loss)
    fast, slow = build(True, cell, **options), build(False, cell, **options)
    view = GraphView(fast.loss)
    assert any(n._group is not None for n in view.nodes), "the layer did not run fused"
    order = forward_order(fast.loss)
    assert [n.seq for n in order] == sorted(n.seq for n in view.nodes)
    assert len(set(n.seq for n in order)) == len(order) == len(view.nodes)
    seen = set()
    for node in order:  # each node after its inputs
        assert all(inp in seen for inp in node.inputs), node.label
        seen.add(node)
    # the fused layer numbers its nodes as the per-node steps do: the same walk
    assert rows(order) == rows(forward_order(slow.loss))
    data, _ = page_data(fast.loss)
    assert [view.nodes[i] for i in data["forward"]] == [n for n in order if n.op is not None]
    # each direction of each layer computes its steps in reading order, one layer after the
    # other, the forward direction before the reverse one
    blocks = []
    for node in order:
        if node.op is not None and "t" in node.tags and "direction" in node.tags:
            key = (node.tags["layer"], node.tags["direction"])
            if not blocks or blocks[-1][0] != key:
                blocks.append((key, []))
            blocks[-1][1].append(node.tags["t"])
    directions = ["forward", "reverse"] if bidirectional else ["forward"]
    assert [key for key, _ in blocks] == [(k, d) for k in range(layers) for d in directions]
    for (_, direction), ts in blocks:
        assert ts == sorted(ts, reverse=direction == "reverse"), (direction, ts)


OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "sum": lambda a, b: a.sum(),
    "where": lambda a, b: where(a.data > 0, a, b),
    "scale": lambda a, b: 2.0 * a,  # a constant lifted inside the op
}


@st.composite
def expressions(draw):
    """A random small expression graph, and its nodes in the order this code made them."""
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    made = [Tensor(rng.normal(size=3), requires_grad=True, label=f"x{k}") for k in range(2)]
    for _ in range(draw(st.integers(1, 12))):
        a, b = (made[draw(st.integers(0, len(made) - 1))] for _ in range(2))
        kind = draw(st.sampled_from(["const", *OPS]))
        if kind == "const":  # a leaf made half-way through the run
            made.append(Tensor(rng.normal(size=3), label="c"))
            continue
        made.append(OPS[kind](a, b))
    root = made[-1]
    for node in made[:-1]:
        total = node.sum()
        root = root + total
        made += [total, root]
    return root, made


@settings(max_examples=40, deadline=None)
@given(expressions())
def test_forward_order_of_any_expression_is_the_order_it_was_written_in(graph):
    root, made = graph
    order = forward_order(root)
    behind = set(GraphView(root).nodes)
    written = [n for n in made if n in behind]
    # every node the program made is there in program order; any other (a constant an
    # operator lifted, as `2.0 * a` does) comes right before the node that reads it
    assert [n for n in order if n in set(written)] == written
    for k, node in enumerate(order):
        if node not in set(written):
            assert node.op is None and node in order[k + 1].inputs
    seen = set()
    for node in order:
        assert all(inp in seen for inp in node.inputs), node
        seen.add(node)


@settings(max_examples=8, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    steps=st.integers(1, 5),
    loss=st.sampled_from(["last", "all"]),
    radius=st.sampled_from([None, 0.5, 1.5]),
)
def test_page_data_backward_is_the_engines_walk_and_the_bptt_sum_ends_at_its_gradient(
    cell, steps, loss, radius
):
    run = lecture.build(cell, steps=steps, loss=loss, radius=radius, seed=steps)
    data, _ = page_data(run.loss, bptt_param=weight_hh(run))
    view = GraphView(run.loss)
    fresh = lecture.build(cell, steps=steps, loss=loss, radius=radius, seed=steps)
    session = Session(fresh.loss)
    walk = []
    while session.advance() is not None:
        walk.append(session.current.node.label)
    assert [view.nodes[i].label for i in data["backward"]] == walk
    assert [n["bwd"] for n in data["nodes"] if n["bwd"]] != []
    W = weight_hh(run)
    bptt = data["bptt"]
    assert bptt["error"] <= 1e-12 * max(1.0, float(np.abs(W.grad).max()))
    assert bptt["additions"][-1]["sum"]["norm"] == pytest.approx(np.linalg.norm(W.grad), rel=1e-3)
    ks = [a["k"] for a in bptt["additions"]]
    assert sorted(ks) == sorted(set(range(steps))) or set(ks) <= set(range(steps)) | {None}
    # term_k is added only after the walk passed every use of W_hh at step k
    at = {a["k"]: a["at"] for a in bptt["additions"]}
    position = {view.nodes[i]: k for k, i in enumerate(data["backward"], start=1)}
    for node in topo_order([run.loss]):
        if any(inp is W for inp in node.inputs) and "t" in node.tags:
            assert at[node.tags["t"]] >= position[node]
    # the walk reaches term T-1 first: the additions run back in time
    assert [a["at"] for a in bptt["additions"]] == sorted(a["at"] for a in bptt["additions"])


@needs_engine
def test_page_is_self_contained_and_escapes_its_data():
    run = lecture.build("rnn", steps=2)
    run.losses[-1].named("E_1 </script><!--")  # a hostile label must not end the script
    text = page(run.loss, bptt_param=weight_hh(run), title="a <b> & c")
    assert text.count("<script") == 2 and text.count("</script>") == 2
    assert "a &lt;b> &amp; c" in text
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", text)
    assert all(u.startswith("#") for u in urls), urls
    external = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert external <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, external
    data = json.loads(
        re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S).group(1)
    )
    assert any(n["label"] == "E_1 </script><!--" for n in data["nodes"])
    for key in ("prev", "next", "play", "speed", "panel"):
        assert f'id="{key}"' in text
    with pytest.raises(ValueError, match="unknown page language 'fr'"):
        page(run.loss, lang="fr")


def chromium():
    """The system Chromium (Debian's package), or skip saying how to get one."""
    pytest.importorskip("playwright.sync_api", reason="pip install playwright (test extra)")
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no chromium on PATH: apt-get install chromium (.ci/run does)")


ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@needs_engine
def test_stepper_page_in_chromium_steps_both_ways_offline(tmp_path):
    executable = chromium()
    from playwright.sync_api import sync_playwright

    path = tmp_path / "walk.html"
    result = CliRunner().invoke(
        main, ["step", "--steps", "3", "--notation", "lecture", "--html", str(path)]
    )
    assert result.exit_code == 0, result.output
    url = path.resolve().as_uri()
    data = json.loads(
        re.search(r'type="application/json">(.*?)</script>', path.read_text(), re.S).group(1)
    )
    names = [n["name"] for n in data["nodes"]]
    forward = [names[i] for i in data["forward"]]
    backward = [names[i] for i in data["backward"]]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page_ = browser.new_page(viewport={"width": 1400, "height": 900})
            errors, requests = [], []
            page_.on("pageerror", lambda e: errors.append(str(e)))
            page_.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page_.on("request", lambda r: requests.append(r.url))
            page_.goto(url)
            panel = page_.locator("#panel")
            heading = page_.locator("#node-name")
            assert heading.inner_text() == forward[0]
            assert "Forward pass" in panel.inner_text()
            page_.click("#next")
            assert heading.inner_text() == forward[1]
            page_.click("#prev")
            assert heading.inner_text() == forward[0]
            page_.keyboard.press("ArrowRight")
            page_.keyboard.press("ArrowRight")
            assert heading.inner_text() == forward[2]
            assert page_.locator("g.node.current").count() >= 1
            # into the backward pass: the first step is the loss, with its gradient 1
            for _ in range(len(forward) - 2):
                page_.keyboard.press("ArrowRight")
            assert heading.inner_text() == backward[0] == "E_2"
            assert "Backward pass" in panel.inner_text() and "= 1" in panel.inner_text()
            page_.keyboard.press("End")
            text = panel.inner_text()
            assert heading.inner_text() == backward[-1]
            assert "equals the engine's gradient" in text
            assert "term k = 0" in text and "term k = 2" in text
            # play at full speed moves on by itself, and stops again
            page_.keyboard.press("Home")
            page_.locator("#speed").fill("20")
            page_.click("#play")
            page_.wait_for_function("document.getElementById('scrub').value > 3", timeout=5000)
            page_.click("#play")
            stopped = page_.locator("#scrub").input_value()
            page_.wait_for_timeout(200)
            assert page_.locator("#scrub").input_value() == stopped
            page_.screenshot(path=str(tmp_path / "stepper.png"))
            # the Chinese page says where a node sits in Chinese too
            run = lecture.build("rnn", steps=2, layers=2, bidirectional=True)
            zh = tmp_path / "walk_zh.html"
            zh.write_text(page(run.loss, lang="zh"), encoding="utf-8")
            page_.goto(zh.resolve().as_uri())
            for _ in range(3):
                page_.keyboard.press("ArrowRight")
            text = panel.inner_text()
            assert "\u7b2c 0 \u5c42" in text and "\u6b63\u5411" in text, text  # layer 0, forward
            assert "layer" not in text and "forward" not in text
        finally:
            browser.close()
    assert errors == []
    assert requests == [url, zh.resolve().as_uri()]  # the pages themselves, nothing fetched
    assert os.path.getsize(tmp_path / "stepper.png") > 10_000


@needs_engine
def test_step_gif_writes_one_frame_per_time_step(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    path = tmp_path / "walk.gif"
    result = CliRunner().invoke(main, ["step", "--steps", "2", "--gif", str(path), "--per", "step"])
    assert result.exit_code == 0, result.output
    with Image.open(path) as im:
        frames = im.n_frames
        assert max(im.size) <= 1200
    # before the walk, E_1's step, t = 0's, then the parameters and inputs at the end
    assert f"({frames} frames)" in result.output
    run = lecture.build("rnn", steps=2)
    session = Session(run.loss)
    groups, last = 0, object()
    while session.advance() is not None:
        t = session.current.node.tags.get("t")
        groups += t != last
        last = t
    assert frames == groups + 1


@needs_engine
def test_step_gif_lays_out_once_and_draws_every_frame_at_the_same_places(tmp_path, monkeypatch):
    pytest.importorskip("PIL")
    import io

    from PIL import Image, ImageSequence

    from viz import gif

    laid, drawn = [], []
    real_positions, real_layout = gif.positions, render._layout

    def positions(dot):
        laid.append(real_positions(dot))
        return laid[-1]

    def layout(source, format, engine, pinned=False):
        data = real_layout(source, format, engine, pinned)
        if pinned:
            dpi = float(re.search(r'dpi="([^"]+)"', source).group(1))
            drawn.append((re.findall(r'\b(?:pos|bb|width|height)="[^"]*"', source), data, dpi))
        return data

    monkeypatch.setattr(gif, "positions", positions)
    monkeypatch.setattr(render, "_layout", layout)
    run = lecture.build("lstm", steps=2)
    path = tmp_path / "walk.gif"
    frames = gif.write_gif(run.loss, path, per="step", notation="lecture")
    assert len(laid) == 1 and len(drawn) == frames > 2
    places = {tuple(geometry) for geometry, _, _ in drawn}
    assert len(places) == 1 and len(next(iter(places))) > 50  # every frame, the same places
    images = [Image.open(io.BytesIO(png)).convert("RGB") for _, png, _ in drawn]
    assert len({im.size for im in images}) == 1  # the same canvas: nothing padded or rescaled
    assert len({dpi for _, _, dpi in drawn}) == 1
    # the legend never changes: its pixels are the same in every frame
    (legend,) = [o for o in laid[0]["objects"] if o["name"] == "legend"]
    scale, top = drawn[0][2] / 72, float(laid[0]["bb"].split(",")[3])
    x, y = (float(v) for v in legend["pos"].split(","))
    w, h = float(legend["width"]) * 36, float(legend["height"]) * 36  # half, in points
    box = [round((v + 4) * scale) for v in (x - w, top - y - h, x + w, top - y + h)]
    box = (box[0] + 3, box[1] + 3, box[2] - 3, box[3] - 3)
    crops = {im.crop(box).tobytes() for im in images}
    assert len(crops) == 1 and len(images[0].crop(box).getcolors(1 << 16)) > 2  # text is there
    sizes = {im.size for im in images}
    with Image.open(path) as im:
        assert {f.size for f in ImageSequence.Iterator(im)} == sizes
        assert max(im.size) <= gif.FRAME_PIXELS


@needs_engine
def test_drawing_at_a_layout_refuses_another_graph():
    a = 'digraph {\n  a [label="a -> b"];\n  a -> b [color=red];\n  b -> c;\n}'
    placed = render.positions(a)
    pinned = render.pin(a, placed)
    assert {f'pos="{o["pos"]}"' for o in placed["objects"]} <= set(
        re.findall(r'pos="[^"]*"', pinned)
    )
    assert render.draw_at(a, placed, "svg").startswith(b"<?xml")
    with pytest.raises(RenderError, match="the layout has 2 edges, this graph 1"):
        render.pin("digraph {\n  a -> b;\n}", placed)


def test_step_gif_and_html_refuse_bad_options(tmp_path):
    bad = CliRunner().invoke(main, ["step", "--gif", str(tmp_path / "a.gif"), "--per", "word"])
    assert bad.exit_code == 2 and "--per" in bad.output
    bad = CliRunner().invoke(main, ["step", "--html", str(tmp_path / "no" / "a.html")])
    assert bad.exit_code == 2 and "--html" in bad.output
    bad = CliRunner().invoke(main, ["step", "--html", str(tmp_path / "a.html"), "--lang", "fr"])
    assert bad.exit_code == 2 and "--lang" in bad.output


@needs_engine
@pytest.mark.parametrize("task", ["intent", "copy"])
def test_step_html_walks_a_trained_model_with_load(tmp_path, task):
    from tinygrad_rnn.train import Run, make_config

    options = {"length": 4} if task == "copy" else {}
    run = Run(make_config(task=task, hidden=4, embed=3, eval_batch=4, steps=1, **options))
    run.fit()
    ckpt = str(run.save(tmp_path / f"{task}.npz"))
    page_path = tmp_path / "walk.html"
    result = CliRunner().invoke(
        main, ["step", "--load", ckpt, "--sample", "1", "--html", str(page_path)]
    )
    assert result.exit_code == 0, result.output
    text = page_path.read_text()
    data = json.loads(re.search(r'type="application/json">(.*?)</script>', text, re.S).group(1))
    assert data["title"].startswith(ckpt) and data["backward"] and data["forward"]
    # the title says what the model reads, a token per time step
    from tinygrad_rnn.analysis.trained import load

    tokens = " ".join(load(ckpt, sample=1).labels)
    assert f'{ckpt} reading "{tokens[:67]}' in data["title"] and data["title"].endswith(": loss E")
    if data["bptt"] is not None:
        assert data["bptt"]["error"] < 1e-9


@pytest.mark.parametrize("detail", ["op", "cell"])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_page_data_names_every_drawn_node_and_edge(detail, cell):
    """The script finds the SVG's nodes and edges by their DOT names: all must be known."""
    from dotparse import Dot

    run = lecture.build(cell, steps=3, bidirectional=cell == "rnn")
    data, dot_text = page_data(run.loss, bptt_param=weight_hh(run), detail=detail)
    dot = Dot(dot_text)
    # graph nodes: n (tensor or leaf), o (op), p (a parameter's copy per step), u (a step);
    # the legend, time axis and elision markers stand for no node and stay as drawn
    drawn = {n for n in dot.nodes if re.fullmatch(r"[nopu]\d+(_\d+)?", n)}
    assert drawn == set(data["items"])
    for tail, head, attrs in dot.visible_edges():
        # dotparse undoes dir=back; the SVG's title keeps the order the DOT text wrote
        written = f"{head}->{tail}" if attrs.get("dir") == "back" else f"{tail}->{head}"
        assert written in data["edges"], written
    n = len(data["nodes"])
    assert all(0 <= i < n for item in data["items"].values() for i in item["members"])


@needs_engine
def test_step_html_and_gif_keep_a_fixed_grad_range(tmp_path):
    """--grad-range fixes the colour scale of the page and of every GIF frame."""
    page_path = tmp_path / "walk.html"
    result = CliRunner().invoke(
        main, ["step", "--steps", "2", "--grad-range", "1e-6:10", "--html", str(page_path)]
    )
    assert result.exit_code == 0, result.output
    text = page_path.read_text().replace("&#45;", "-")  # Graphviz escapes the minus
    assert ">1e-6<" in text and ">10<" in text
    from viz.gif import walk_frames

    run = lecture.build("rnn", steps=2)
    frames = walk_frames(run.loss, per="step", grad_range=(-6, 1))
    assert len(frames) >= 3 and all(">1e-6<" in dot and ">10<" in dot for dot in frames)


def test_panel_formula_writes_unnamed_inputs_out_and_small_entries_in_full():
    x = Tensor([0.5, -2.0, 3e-5], requires_grad=True, label="x")
    y = Tensor([1.0, 2.0, 3.0], requires_grad=True, label="y")
    hw = (x * 2.0).named("h W^T")  # a label with a space is a product
    s = x.sigmoid().named("s")
    c = (x * y + s * (1 - s)).named("c")
    d = ((x + y) * x - (y - x)).named("d")
    n = hw[0:2].tanh().named("n")
    loss = ((c - d) * (c - d)).mean().named("E") + n.sum() + (hw * x).sum()
    data, _ = page_data(loss)
    formulas = {node["name"]: node["formula"] for node in data["nodes"]}
    assert formulas["c"] == "c = x \u00d7 y + s \u00d7 (1 \u2212 s)"
    assert formulas["d"] == "d = (x + y) \u00d7 x \u2212 (y \u2212 x)"
    assert formulas["E"] == "E = mean((c \u2212 d) \u00d7 (c \u2212 d))"
    assert formulas["n"] == "n = tanh((h W^T)[0:2])"
    assert formulas["s"] == "s = \u03c3(x)"
    assert formulas["h W^T"] == "h W^T = x \u00d7 2"
    # entries to three significant digits: a small gradient is not rounded away to 0
    (entries,) = [node["value"]["entries"] for node in data["nodes"] if node["name"] == "x"]
    assert "3e-05" in entries and "-2" in entries
    assert all(len(line) <= 34 for line in entries.splitlines())
