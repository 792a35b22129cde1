"""An unrolled graph as DOT text: one cluster per time step, gradients as colours.

    to_dot(run.loss, bptt_paths=(3, 0))      # the lecture's E_3 and its paths back to h_0

Layout: time runs left to right (one cluster `t = k` per step, nested per layer and
direction when there are several), inputs at the bottom, losses at the top. A tensor is a
rounded box (label, shape, |grad|) above a small ellipse naming the op that made it;
unlabelled intermediate results are just the ellipse. A parameter used at several steps is
drawn as one dashed copy per step showing the gradient of that step's use (the lecture's
per-step term). Edges from step t-1 into step t (the recurrence) are double lines, laid out
reversed so that every step puts its nodes at the same heights; ranked forwards they make
a staircase, which with fanned-out parameters takes Graphviz minutes to lay out at 50
steps (docs/rendering.md has the measurements).

`to_dot` reads the graph (viz.graph), decides what is drawn (viz.scene), styles it
(viz.style) and prints it here: clusters per step, the edges that keep time left to right,
DOT quoting. Everything is derived from the graph's structure and tags, never from ids or
hashes, so the same graph and options give the same text byte for byte.
"""

import math

from tinygrad_rnn import notation as notation_module

from . import style as styles
from .graph import GraphView, find, namer, path_between
from .scene import Scene
from .style import Style, legend_node

DEFAULT_MAX_NODES = 2000
DETAILS = ("op", "cell")
COLORS = ("grad", "none")


class GraphTooLarge(ValueError):
    """The picture would have more nodes than the limit; the message says what to do."""


def to_dot(
    roots,
    *,
    detail="op",
    color="grad",
    params=True,
    highlight=None,
    bptt_paths=None,
    steps=None,
    grads=None,
    edge_grads=None,
    current=None,
    grad_range=None,
    legend=True,
    title=None,
    max_nodes=DEFAULT_MAX_NODES,
    force=False,
    notation="pytorch",
):
    """DOT text for the graph behind `roots` (a tensor or a list of tensors).

    detail      "op": every op; "cell": one box per step (layer, direction) with its states.
    color       "grad": fill by log10 |grad| (see viz.style); "none": plain.
    params      False hides parameters (and their edges).
    highlight   (A, B): emphasise every edge on a path between the nodes named A and B
                (labels like "E_3", "h_0", or "h_0@0" for the node tagged t=0; tensors
                work too) and dim the rest.
    bptt_paths  (t, k): the lecture's paths from E_t back to h_k; same as highlight.
    steps       (a, b): draw only t = a..b (inclusive), with markers for what is elided.
    grads       {node: grad} to colour by instead of node.grad (e.g. the part of a
                backward pass done so far); missing nodes count as "no gradient yet".
    edge_grads  {node: [grad per input]} for the edges when `grads` is given; without it
                edges are coloured by node.edge_grads() (only when `grads` is None).
    current     a node to emphasise (thick blue border), e.g. a debugger's current step.
    grad_range  (lo, hi): the colour scale runs over |grad| in [10^lo, 10^hi] (whole
                decades by default, from the gradients). Given, it is fixed: values
                outside are clamped to the scale's ends and marked "(below range)" or
                "(above range)", so a series of pictures shares one scale.
    max_nodes   refuse (GraphTooLarge) above this many drawn nodes unless `force`.
    notation    "pytorch" (the graph's own labels: h_t, weight_hh_l0) or "lecture" (s_t, U,
                W, V, C~_t; see tinygrad_rnn.notation).
    """
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}, got {detail!r}")
    if color not in COLORS:
        raise ValueError(f"color must be one of {', '.join(COLORS)}, got {color!r}")
    if highlight is not None and bptt_paths is not None:
        raise ValueError("give highlight or bptt_paths (--highlight or --bptt), not both")
    notation_module.check(notation)
    view = GraphView(roots)
    scene = Scene(view, detail, params, _window(view, steps))
    scene.measure(grads, edge_grads)

    if bptt_paths is not None:
        t, k = _pair(bptt_paths, "bptt_paths")
        highlight = (f"E_{t}", f"h_{k}")
    on = None
    if highlight is not None:
        a, b = _pair(highlight, "highlight")
        found = path_between(view, find(view, a), find(view, b))
        if found is None:
            raise ValueError(f"no path between {a} and {b} in the graph")
        on = found

    scene.build()
    count = len(scene.nodes)
    if count > max_nodes and not force:
        raise GraphTooLarge(
            f"the picture would have {count} nodes (limit {max_nodes}); "
            "use detail='cell' (--detail cell), a window such as steps=(0, 9) (--window 0:9), "
            "or force=True (--force)"
        )
    norms = [n.norm for n in scene.nodes] + [e.norm for e in scene.edges]
    lo, hi = grad_range if grad_range is not None else styles.decade_range(norms, span=12)
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise ValueError(f"grad_range must be (lo, hi) with hi > lo, got {grad_range!r}")
    fixed, name = grad_range is not None, namer(view.nodes, notation)
    style = Style(color == "grad", lo, hi, on, current, view, scene.node_norm, fixed, name)
    lines = _header(title)
    lines += emit(scene, style)
    if legend:
        if highlight is not None and notation != "pytorch":
            highlight = tuple(style.name(view.nodes[find(view, n)[0]]) for n in highlight)
        lines.append("  " + legend_node(style, highlight, scene.has_recurrent, params, detail))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _pair(value, name):
    try:
        a, b = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair, got {value!r}") from None
    return a, b


def _window(view, steps):
    if steps is None:
        return None
    a, b = _pair(steps, "steps")
    a, b = int(a), int(b)
    ts = sorted({n.tags["t"] for n in view.nodes if "t" in n.tags})
    if not ts:
        raise ValueError("steps=(a, b) needs a graph with time steps (nodes tagged t)")
    if a > b or b < ts[0] or a > ts[-1]:
        raise ValueError(f"window {a}:{b} is outside the graph's steps {ts[0]}..{ts[-1]}")
    return (max(a, ts[0]), min(b, ts[-1]), ts[0], ts[-1])


def _header(title):
    lines = [
        "digraph unrolled {",
        '  graph [rankdir=BT, newrank=true, nodesep=0.18, ranksep=0.28, fontname="Helvetica",'
        ' fontsize=12, labelloc=t, labeljust=l, outputorder=edgesfirst, bgcolor="#ffffff"];',
        '  node [fontname="Helvetica", fontsize=11, margin="0.08,0.03"];',
        '  edge [arrowsize=0.6, color="#555555"];',
    ]
    if title:
        lines.insert(2, f"  label={quote(title)};")
    return lines


def quote(text):
    """A DOT double-quoted string."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def attr_list(attrs):
    parts = []
    for k, v in attrs.items():
        if isinstance(v, str) and v.startswith("<") and v.endswith(">"):
            parts.append(f"{k}={v}")
        elif isinstance(v, float):
            parts.append(f"{k}={v:.2f}")
        else:
            parts.append(f"{k}={quote(v)}")
    return ", ".join(parts)


def emit(scene, style):
    """The node, cluster and edge statements of a scene, as lines."""
    lines = []
    clusters = {}
    for item in scene.nodes:
        if item.key is None:
            lines.append(f"  {item.id} [{attr_list(style.node(item))}];")
        else:
            clusters.setdefault(item.key[0], {}).setdefault(item.key[1:], []).append(item)
    for t in sorted(clusters, key=step_order):
        groups = clusters[t]
        cluster, title = step_name(t)
        lines.append(f"  subgraph cluster_{cluster} {{")
        lines.append(
            f'    label="{title}"; style="rounded,filled"; fillcolor="{styles.CLUSTER_FILL}"; '
            'color="#b4b4b4"; fontsize=14; fontname="Helvetica-Bold";'
        )
        for item in groups.get((), []):
            lines.append(f"    {item.id} [{attr_list(style.node(item))}];")
        subs = sorted((k for k in groups if k), key=_sub_order)
        for layer, direction in subs:
            lines.append(f"    subgraph cluster_{cluster}_l{layer}_{direction} {{")
            name = f"layer {layer}, {direction}"
            lines.append(
                f'      label="{name}"; style="rounded,filled"; fillcolor="{styles.SUB_FILL}"; '
                'color="#c4c4d4"; fontsize=10; fontname="Helvetica";'
            )
            for item in groups[(layer, direction)]:
                lines.append(f"      {item.id} [{attr_list(style.node(item))}];")
            lines.append("    }")
        lines.append("  }")
    lines += _anchor_edges(clusters)
    for edge, tail, head, back in drawn_edges(scene):
        attrs = style.edge(edge, scene.detail == "cell")
        if back:
            attrs["dir"] = "back"
        lines.append(f"  {tail} -> {head} [{attr_list(attrs)}];")
    return lines


def drawn_edges(scene):
    """(edge, tail, head, back) of each scene edge as the DOT text writes it.

    A recurrent edge between op nodes is written from the reader to the state (laid out
    reversed, `Style.edge` draws it back); in cell detail a reverse direction's state flows
    from t+1 back to t, and a flat edge puts its tail on the left, so it is written from t
    to t+1 with `back` True.
    """
    step_of = {item.id: item.key[0] for item in scene.nodes if item.key is not None}
    for edge in scene.edges:
        tail, head, back = edge.tail, edge.head, False
        if edge.kind == "recurrent" and scene.detail != "cell":
            tail, head = head, tail
        elif edge.kind == "recurrent":
            back = step_order(step_of.get(tail, 0)) > step_order(step_of.get(head, 0))
            if back:
                tail, head = head, tail
        yield edge, tail, head, back


def _anchor_edges(clusters):
    """Invisible edges that keep the steps in time order from left to right.

    Each cluster's first op (ties broken by the order of the graph) is joined to the same
    cluster's op at the next step by a zero-length edge: Graphviz puts both on one rank and
    the tail to the left of the head.
    """
    lines = []
    chains = {}
    for t in sorted(clusters, key=step_order):
        for sub in sorted(clusters[t], key=_sub_order):
            anchor = _anchor(clusters[t][sub])
            if anchor is not None:
                chains.setdefault(sub, []).append(anchor)
    for sub in sorted(chains, key=_sub_order):
        chain = [c.id for c in chains[sub]]
        for a, b in zip(chain, chain[1:]):
            lines.append(f"  {a} -> {b} [style=invis, minlen=0, weight=20];")
    # A time axis: one invisible point per step on one rank, in order. Flat edges between
    # nodes outside clusters keep their order; flat edges between clusters need not
    # (the layout orders whole clusters by crossings). An edge from each point up into its
    # step's clusters makes any other order of the clusters cross them.
    steps = sorted(clusters, key=step_order)
    if len(steps) > 1:
        point = {t: "time_" + step_name(t)[0] for t in steps}
        lines.append("  { rank=same; " + " ".join(f"{point[t]};" for t in steps) + " }")
        for t in steps:
            lines.append(f'  {point[t]} [shape=point, style=invis, width=0.01, label=""];')
        for a, b in zip(steps, steps[1:]):
            lines.append(f"  {point[a]} -> {point[b]} [style=invis, minlen=1, weight=20];")
        for t in steps:
            for sub in sorted(clusters[t], key=_sub_order):
                anchor = _anchor(clusters[t][sub])
                if anchor is not None:
                    lines.append(f"  {point[t]} -> {anchor.id} [style=invis, weight=5];")
    return lines


def step_order(key):
    """Sort key of a step: t, or (stage, t) for an encoder-decoder (encoder first)."""
    return key if isinstance(key, tuple) else (-1, key)


def step_name(key):
    """(cluster name, title) of a step: ("t3", "t = 3"), ("enc_t3", "encoder t = 3")."""
    if isinstance(key, tuple):
        stage, t = key
        role = ("encoder", "decoder")[stage]
        return f"{role[:3]}_t{t}", f"{role} t = {t}"
    return f"t{key}", f"t = {key}"


def _anchor(items):
    """The item that stands for its step in the chains: the lowest op of the recurrence
    (an output head or a loss exists only at some steps, so it never anchors)."""
    ops = [it for it in items if it.kind in ("op", "result", "unit")]
    inner = [it for it in ops if it.node is None or it.node.tags.get("role") != "output"]
    return min(inner or ops, key=lambda it: it.level) if ops else None


def _sub_order(key):
    """Inner clusters of a step: by layer, then forward before reverse."""
    return (key[0], key[1] != "forward", key[1]) if key else ()
